"""Donations: register, assess (points posted once, to the donor), decline with a reason, who may do which step, bad
input writes nothing, and the market boundary (items stay queued until a market implementation is registered)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from linli.common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from linli.ledger import selectors as ledger_reads
from linli.ledger.errors import IdempotencyKeyReused
from linli.ledger.models import Transfer
from linli.org.access import Actor, actor_for
from linli.org.models import Person, Role, RoleAssignment, User
from linli.points import donations, market_port
from linli.points.donations import Assessment, ItemInput
from linli.points.models import DonatedItem, Donation, DonationStatus, ItemStatus

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemInput(description="儿童绘本", category="books", quantity=5, condition="九成新"),
    ItemInput(description="旧皮鞋", category="shoes", quantity=1, condition="鞋底开裂"),
]


class FakeMarket:
    """Stands in for the market app: records every call and hands out stock references."""

    def __init__(self, refuse: str = "") -> None:
        self.calls: list[tuple[int, int]] = []
        self.refuse = refuse

    def stock_donated_item(self, *, item: DonatedItem, price: int, actor: Actor) -> str:
        if item.description == self.refuse:
            raise Conflict("shelf full", code="shelf_full")
        self.calls.append((item.pk, price))
        return f"stock-{item.pk}"


@pytest.fixture(autouse=True)
def no_market(settings: Any) -> Iterator[None]:
    settings.LINLI_MARKET_PORT = ""  # these tests install their own fake market, or none
    market_port.register(None)
    yield
    market_port.register(None)


def register(w: SimpleNamespace, key: str = "", person: Person | None = None) -> Donation:
    return donations.donation_register(
        actor=actor_for(w.staff_a), donor=person or w.pA1, items=ITEMS, note="周末收", idempotency_key=key
    ).donation


def usable_and_not(d: Donation, points: int = 2, price: int = 5) -> list[Assessment]:
    books, shoes = d.items.order_by("id")
    return [Assessment(books.pk, True, points, price), Assessment(shoes.pk, False)]


def test_register_assess_posts_points_once_and_queues_usable_items(world: SimpleNamespace) -> None:
    d = register(world)
    assert d.status == DonationStatus.REGISTERED and d.items.count() == 2 and d.received_by == world.staff_a
    assessed = donations.donation_assess(actor=actor_for(world.staff_a), donation=d, assessments=usable_and_not(d))
    # 5 books × 2 points; the shoes are not usable
    assert assessed.status == DonationStatus.ASSESSED and assessed.points == 10
    assert ledger_reads.person_balance(world.pA1) == 10
    assert assessed.transfer_id is not None
    transfer = Transfer.objects.get(pk=assessed.transfer_id)
    assert (transfer.ref_type, transfer.ref_id, transfer.amount) == ("donation", d.pk, 10)
    assert transfer.idempotency_key == f"donation:{d.pk}"
    books, shoes = d.items.order_by("id")
    assert (books.status, books.price, books.points) == (ItemStatus.QUEUED, 5, 2)
    assert (shoes.status, shoes.price, shoes.points) == (ItemStatus.DISCARDED, None, 0)
    # no market yet: the usable item waits in the queue
    assert list(donations.item_queue(actor_for(world.staff_a), world.A)) == [books]
    # assessing again is refused and posts nothing more
    with pytest.raises(donations.WrongDonationStatus):
        donations.donation_assess(actor=actor_for(world.street_admin), donation=d, assessments=usable_and_not(d))
    assert ledger_reads.person_balance(world.pA1) == 10


def test_all_items_unusable_posts_nothing(world: SimpleNamespace) -> None:
    d = register(world)
    a, b = d.items.order_by("id")
    done = donations.donation_assess(
        actor=actor_for(world.staff_a), donation=d, assessments=[Assessment(a.pk, False), Assessment(b.pk, False)]
    )
    assert done.status == DonationStatus.ASSESSED and done.points == 0 and done.transfer_id is None
    assert not Transfer.objects.exists()


def test_register_replays_with_the_same_key(world: SimpleNamespace) -> None:
    first = register(world, key="web:1:abc")
    again = donations.donation_register(
        actor=actor_for(world.staff_a), donor=world.pA1, items=ITEMS, idempotency_key="web:1:abc"
    )
    assert again.replayed and again.donation.pk == first.pk and Donation.objects.count() == 1
    with pytest.raises(IdempotencyKeyReused):
        register(world, key="web:1:abc", person=world.pA2)


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([], "items_required"),
        ([ItemInput(description="  ")], "item_description"),
        ([ItemInput(description="书", quantity=0)], "item_quantity"),
        ([ItemInput(description="书", quantity=True)], "item_quantity"),  # a bool is no quantity
        ([ItemInput(description="书", category="x" * 41)], "item_text_too_long"),
        ([ItemInput(description="书")] * 31, "items_too_many"),
    ],
)
def test_bad_items_register_nothing(world: SimpleNamespace, items: list[ItemInput], code: str) -> None:
    with pytest.raises(Invalid) as caught:
        donations.donation_register(actor=actor_for(world.staff_a), donor=world.pA1, items=items)
    assert caught.value.code == code
    assert not Donation.objects.exists() and not DonatedItem.objects.exists()


def test_received_on_in_the_future_is_refused(world: SimpleNamespace) -> None:
    with pytest.raises(Invalid) as caught:
        donations.donation_register(
            actor=actor_for(world.staff_a),
            donor=world.pA1,
            items=ITEMS,
            received_on=timezone.localdate() + timedelta(days=1),
        )
    assert caught.value.code == "date_future"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda a, b: [Assessment(a, True, 2, 5)], "assessment_items"),  # one item missing
        (lambda a, b: [Assessment(a, True, 2, 5), Assessment(a, False)], "assessment_items"),  # twice
        (lambda a, b: [Assessment(a, True, 2, 5), Assessment(b + 999, False)], "assessment_items"),  # foreign id
        (lambda a, b: [Assessment(a, True, 2, None), Assessment(b, False)], "item_price"),  # usable needs a price
        (lambda a, b: [Assessment(a, True, -1, 5), Assessment(b, False)], "item_points"),
        (lambda a, b: [Assessment(a, True, 2, 5), Assessment(b, False, 3)], "item_unusable"),
        (lambda a, b: [Assessment(a, True, 10_000, 5), Assessment(b, True, 10_000, 5)], "donation_points_too_many"),
    ],
)
def test_bad_assessments_post_nothing(world: SimpleNamespace, make: Any, code: str) -> None:
    d = register(world)
    a, b = d.items.order_by("id").values_list("pk", flat=True)
    with pytest.raises(Invalid) as caught:
        donations.donation_assess(actor=actor_for(world.staff_a), donation=d, assessments=make(a, b))
    assert caught.value.code == code
    d.refresh_from_db()
    assert d.status == DonationStatus.REGISTERED and not Transfer.objects.exists()
    assert set(d.items.values_list("points", flat=True)) == {0}


def test_the_donor_never_assesses_their_own_donation(world: SimpleNamespace) -> None:
    # a staff member of A who also lives in A donates; they may register it, another staff member assesses
    world.pA2.user = world.staff_a
    world.pA2.save()
    own = register(world, person=world.pA2)
    with pytest.raises(donations.OwnDonation):
        donations.donation_assess(actor=actor_for(world.staff_a), donation=own, assessments=usable_and_not(own))
    with pytest.raises(donations.OwnDonation):
        donations.donation_decline(actor=actor_for(world.staff_a), donation=own, reason="不收")
    assert not Transfer.objects.exists()
    done = donations.donation_assess(actor=actor_for(world.street_admin), donation=own, assessments=usable_and_not(own))
    assert done.points == 10 and ledger_reads.person_balance(world.pA2) == 10


@pytest.mark.parametrize("name", ["grid_worker_a1", "steward_a1", "auditor_a", "resident_a1", "merchant_op_a"])
def test_only_staff_register_and_assess(world: SimpleNamespace, name: str) -> None:
    with pytest.raises((Forbidden, NotFound)):
        donations.donation_register(actor=actor_for(world.users[name]), donor=world.pA1, items=ITEMS)
    d = register(world)
    with pytest.raises((Forbidden, NotFound)):
        donations.donation_assess(actor=actor_for(world.users[name]), donation=d, assessments=usable_and_not(d))
    assert not Transfer.objects.exists()


def test_staff_of_another_community_cannot_see_or_touch(world: SimpleNamespace) -> None:
    d = register(world)
    with pytest.raises(NotFound):
        donations.donation_get(actor_for(world.staff_b), d.pk)
    with pytest.raises(NotFound):
        donations.donation_assess(actor=actor_for(world.staff_b), donation=d, assessments=usable_and_not(d))
    with pytest.raises(NotFound):
        donations.donation_register(actor=actor_for(world.staff_b), donor=world.pA1, items=ITEMS)
    with pytest.raises((Forbidden, NotFound)):
        donations.donations(actor_for(world.staff_b), world.A)


def test_the_auditor_reads_but_does_not_write(world: SimpleNamespace) -> None:
    d = register(world)
    auditor = actor_for(world.auditor_a)
    assert donations.donation_get(auditor, d.pk) == d
    assert list(donations.donations(auditor, world.A)) == [d]
    with pytest.raises(Forbidden):
        donations.donation_decline(actor=auditor, donation=d, reason="x")


def test_decline_needs_a_reason_and_discards_the_items(world: SimpleNamespace) -> None:
    d = register(world)
    with pytest.raises(Invalid) as caught:
        donations.donation_decline(actor=actor_for(world.staff_a), donation=d, reason="  ")
    assert caught.value.code == "reason_required"
    done = donations.donation_decline(actor=actor_for(world.staff_a), donation=d, reason="物品已损坏，无法使用")
    assert done.status == DonationStatus.DECLINED and done.reason == "物品已损坏，无法使用"
    assert set(d.items.values_list("status", flat=True)) == {ItemStatus.DISCARDED}
    assert not Transfer.objects.exists()
    with pytest.raises(donations.WrongDonationStatus):
        donations.donation_assess(actor=actor_for(world.staff_a), donation=d, assessments=usable_and_not(d))


def test_send_to_market_without_a_market_keeps_items_queued(world: SimpleNamespace) -> None:
    d = register(world)
    donations.donation_assess(actor=actor_for(world.staff_a), donation=d, assessments=usable_and_not(d))
    with pytest.raises(donations.MarketNotInstalled) as caught:
        donations.donated_items_send_to_market(actor=actor_for(world.staff_a), community=world.A)
    assert caught.value.status == 409
    assert DonatedItem.objects.filter(status=ItemStatus.QUEUED).count() == 1


def test_a_registered_market_stocks_the_queue_once(world: SimpleNamespace) -> None:
    d = register(world)
    donations.donation_assess(actor=actor_for(world.staff_a), donation=d, assessments=usable_and_not(d))
    fake = FakeMarket()
    market_port.register(fake)
    result = donations.donated_items_send_to_market(actor=actor_for(world.staff_a), community=world.A)
    books = d.items.get(description="儿童绘本")
    assert [i.pk for i in result.done] == [books.pk] and result.failed == []
    books.refresh_from_db()
    assert (books.status, books.market_ref) == (ItemStatus.STOCKED, f"stock-{books.pk}")
    assert books.stocked_at is not None
    assert fake.calls == [(books.pk, 5)]
    # a second push finds nothing queued: nothing is stocked twice
    again = donations.donated_items_send_to_market(actor=actor_for(world.staff_a), community=world.A)
    assert again.done == [] and fake.calls == [(books.pk, 5)]
    # a grid worker may not push
    with pytest.raises((Forbidden, NotFound)):
        donations.donated_items_send_to_market(actor=actor_for(world.grid_worker_a1), community=world.A)


def test_with_a_market_assessment_stocks_at_once_and_a_refusal_keeps_one_queued(world: SimpleNamespace) -> None:
    market_port.register(FakeMarket(refuse="旧皮鞋"))
    d = register(world)
    books, shoes = d.items.order_by("id")
    donations.donation_assess(
        actor=actor_for(world.staff_a),
        donation=d,
        assessments=[Assessment(books.pk, True, 2, 5), Assessment(shoes.pk, True, 1, 3)],
    )
    books.refresh_from_db()
    shoes.refresh_from_db()
    assert books.status == ItemStatus.STOCKED and shoes.status == ItemStatus.QUEUED
    assert ledger_reads.person_balance(world.pA1) == 11  # the market's refusal does not undo the assessment


def test_settings_name_the_market(world: SimpleNamespace, settings: Any) -> None:
    settings.LINLI_MARKET_PORT = "linli.points.tests.test_donations.FakeMarket"
    assert isinstance(market_port.market(), FakeMarket)
    settings.LINLI_MARKET_PORT = "linli.points.tests.test_donations.ITEMS"
    with pytest.raises(TypeError):
        market_port.market()
    with pytest.raises(TypeError):
        market_port.register(object())  # type: ignore[arg-type]


def test_staff_of_a_street_assess_in_any_of_its_communities(world: SimpleNamespace) -> None:
    d = register(world)
    other = User.objects.create_user(phone="13700000090", password="x-Linli-2026", name="社区工作者庚")
    RoleAssignment.objects.create(user=other, role=Role.COMMUNITY_STAFF, community=world.A)
    done = donations.donation_assess(actor=actor_for(other), donation=d, assessments=usable_and_not(d))
    assert done.assessed_by == other


def test_errors_are_domain_errors_with_stable_codes() -> None:
    for error in (donations.OwnDonation(), donations.WrongDonationStatus(), donations.MarketNotInstalled()):
        assert isinstance(error, DomainError) and error.code and str(error.message)
