from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db.models import Sum
from django.utils import timezone

from linli.common.errors import Forbidden, Invalid, NotFound
from linli.ledger.errors import IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import Account, SystemAccount, Transfer
from linli.ledger.selectors import person_balance
from linli.market import selectors, services
from linli.market.domain import Want
from linli.market.errors import (
    BadBasket,
    LimitReached,
    NotOnShelf,
    OneChoiceOnly,
    OutOfStock,
    RedemptionStatusRefused,
    StocktakeOpen,
    VoucherNotFound,
    VoucherRefused,
)
from linli.market.models import (
    MovementKind,
    Product,
    Redemption,
    RedemptionStatus,
    StockMovement,
    Voucher,
    VoucherStatus,
)
from linli.market.services import ProductData
from linli.market.testing import buy, give_points, make_market
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_market(world)


def stock(p: Product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=p.pk)


def system_balance(w: SimpleNamespace, code: str) -> int:
    return Account.objects.filter(community=w.A, system_code=code).values_list("balance", flat=True).first() or 0


def assert_books_balance() -> None:
    """Double entry: every account's credits minus debits is its balance (issuance derived), and all sum to zero."""
    for account in Account.objects.filter(constrained=True):
        credits = Transfer.objects.filter(credit=account).aggregate(s=Sum("amount"))["s"] or 0
        debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"] or 0
        assert account.balance == credits - debits, account


def test_an_elder_with_15_points_buys_a_bag_of_rice(w: SimpleNamespace) -> None:
    give_points(w, w.pA1b, 15)
    redemption = buy(w, w.pA1b, (w.rice, 1))
    assert redemption.status == RedemptionStatus.COMPLETED
    assert redemption.total == 15 and redemption.balance_after == 0
    assert redemption.number == f"{timezone.now().year}-0001"
    assert person_balance(w.pA1b.pk) == 0
    assert stock(w.rice) == 19
    movement = StockMovement.objects.get(redemption=redemption)
    assert (movement.kind, movement.quantity, movement.stock_after, movement.actor) == (
        MovementKind.REDEMPTION, -1, 19, w.staff_a,
    )  # fmt: skip
    assert system_balance(w, SystemAccount.MARKET) == 15
    assert redemption.handed_over_by == w.staff_a
    assert_books_balance()


def test_numbers_run_on_without_gaps_after_a_refusal(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 20)
    first = buy(w, w.pA1, (w.soy, 1))
    with pytest.raises(InsufficientPoints):
        buy(w, w.pA1, (w.oil, 1))
    second = buy(w, w.pA1, (w.soy, 1))
    assert [str(first.number)[-4:], str(second.number)[-4:]] == ["0001", "0002"]


def test_not_enough_points_changes_nothing(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 14)
    with pytest.raises(InsufficientPoints) as refused:
        buy(w, w.pA1, (w.rice, 1))
    assert refused.value.details == {"balance": 14, "total": 15}
    assert stock(w.rice) == 20 and person_balance(w.pA1.pk) == 14
    assert (
        not Redemption.objects.exists()
        and not StockMovement.objects.filter(product=w.rice).exclude(kind="receipt").exists()
    )


def test_out_of_stock_rolls_back_the_whole_basket(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 500)
    with pytest.raises(OutOfStock) as refused:
        buy(w, w.pA1, (w.soy, 2), (w.oil, 11))
    assert refused.value.code == "out_of_stock" and refused.value.details["left"] == 10
    assert stock(w.soy) == 50 and stock(w.oil) == 10 and person_balance(w.pA1.pk) == 500
    assert not Redemption.objects.exists()


def test_a_retry_with_the_same_key_replays(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 100)
    actor = actor_for(w.staff_a)
    lines = [Want(w.rice.pk, 2), Want(w.soy.pk, 1)]
    first = services.redemption_create(actor=actor, payer=w.pA1, lines=lines, channel="counter", idempotency_key="k1")
    again = services.redemption_create(
        actor=actor, payer=w.pA1, lines=lines[::-1], channel="counter", idempotency_key="k1"
    )
    assert not first.replayed and again.replayed and again.redemption.pk == first.redemption.pk
    assert person_balance(w.pA1.pk) == 100 - 33 and stock(w.rice) == 18
    with pytest.raises(IdempotencyKeyReused):
        services.redemption_create(
            actor=actor, payer=w.pA1, lines=[Want(w.rice.pk, 1)], channel="counter", idempotency_key="k1"
        )


def test_bad_baskets(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 100)
    with pytest.raises(BadBasket):
        buy(w, w.pA1)
    with pytest.raises(BadBasket):
        buy(w, w.pA1, (w.soy, 0))
    with pytest.raises(NotOnShelf):  # another community's item
        buy(w, w.pA1, (w.tissuesB, 1))
    w.detergent.is_active = False
    w.detergent.save()
    with pytest.raises(NotOnShelf):
        buy(w, w.pA1, (w.detergent, 1))
    w.oil.available_from = timezone.localdate() + timedelta(days=1)
    w.oil.save()
    with pytest.raises(NotOnShelf):
        buy(w, w.pA1, (w.oil, 1))


def test_limit_per_person_per_month(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 200)
    w.rice.limit_per_person, w.rice.limit_period = 2, "month"
    w.rice.save()
    buy(w, w.pA1, (w.rice, 1))
    with pytest.raises(LimitReached) as refused:
        buy(w, w.pA1, (w.rice, 2))
    assert refused.value.details["room"] == 1
    buy(w, w.pA1, (w.rice, 1))
    give_points(w, w.pA2, 100)
    buy(w, w.pA2, (w.rice, 2))  # a limit is per person
    # last month's rice does not count
    Redemption.objects.filter(person=w.pA1).update(created_at=timezone.now() - timedelta(days=40))
    buy(w, w.pA1, (w.rice, 2))


def test_one_choice_per_exchange(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    group = services.choice_group_create(actor=staff, community=w.A, name="本期兑换（任选一项）")
    for p in (w.rice, w.oil):
        p.choice_group = group
        p.save()
    give_points(w, w.pA1, 200)
    with pytest.raises(OneChoiceOnly):
        buy(w, w.pA1, (w.rice, 1), (w.oil, 1))
    with pytest.raises(OneChoiceOnly):
        buy(w, w.pA1, (w.rice, 2))
    buy(w, w.pA1, (w.rice, 1), (w.soy, 3))


def test_phone_reservation_picked_up(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 30)
    reserved = buy(w, w.pA1, (w.detergent, 1), channel="phone", user=w.resident_a1)
    assert reserved.status == RedemptionStatus.RESERVED and reserved.reserved_until is not None
    assert person_balance(w.pA1.pk) == 24 and stock(w.detergent) == 29  # set aside at once
    assert [r.pk for r in selectors.reservations_of(w.pA1)] == [reserved.pk]
    handed = services.redemption_hand_over(actor=actor_for(w.staff_a), redemption=reserved)
    assert handed.status == RedemptionStatus.COMPLETED and handed.handed_over_by == w.staff_a
    again = services.redemption_hand_over(actor=actor_for(w.staff_a), redemption=reserved)  # a double tap
    assert again.handed_over_at == handed.handed_over_at
    with pytest.raises(RedemptionStatusRefused):
        services.redemption_cancel(actor=actor_for(w.resident_a1), redemption=reserved)


def test_a_resident_reserves_only_for_themselves(w: SimpleNamespace) -> None:
    give_points(w, w.pA2, 30)
    with pytest.raises(NotFound):
        buy(w, w.pA2, (w.soy, 1), channel="phone", user=w.resident_a1)
    with pytest.raises(NotFound):  # and does not serve at the counter
        buy(w, w.pA1, (w.soy, 1), channel="counter", user=w.resident_a1)


def test_cancel_puts_goods_and_points_back(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 50)
    reserved = buy(w, w.pA1, (w.rice, 2), (w.haircut, 1), channel="phone", user=w.resident_a1)
    assert person_balance(w.pA1.pk) == 15 and stock(w.rice) == 18
    cancelled = services.redemption_cancel(actor=actor_for(w.resident_a1), redemption=reserved, reason="不需要了")
    assert cancelled.status == RedemptionStatus.CANCELLED and cancelled.refunded == 35
    assert person_balance(w.pA1.pk) == 50 and stock(w.rice) == 20
    assert Voucher.objects.get(line__redemption=reserved).status == VoucherStatus.CANCELLED
    assert system_balance(w, SystemAccount.VOUCHERS) == 0 and system_balance(w, SystemAccount.MARKET) == 0
    services.redemption_cancel(actor=actor_for(w.resident_a1), redemption=reserved)  # twice: same answer
    assert person_balance(w.pA1.pk) == 50
    assert_books_balance()


def test_sweep_expires_reservations_and_vouchers(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 40)
    reserved = buy(w, w.pA1, (w.rice, 1), channel="phone", user=w.resident_a1)
    voucher_buy = buy(w, w.pA1, (w.haircut, 2), channel="phone", user=w.resident_a1)
    assert voucher_buy.status == RedemptionStatus.COMPLETED  # nothing to pick up: the vouchers are the goods
    assert person_balance(w.pA1.pk) == 15
    assert services.market_sweep().reservations == 0  # nothing due yet
    later = timezone.now() + timedelta(days=40)
    swept = services.market_sweep(now=later)
    assert (swept.reservations, swept.vouchers, swept.points_returned) == (1, 2, 25)
    assert Redemption.objects.get(pk=reserved.pk).status == RedemptionStatus.EXPIRED
    assert stock(w.rice) == 20 and person_balance(w.pA1.pk) == 40
    assert set(Voucher.objects.values_list("status", flat=True)) == {VoucherStatus.EXPIRED}
    again = services.market_sweep(now=later)
    assert (again.reservations, again.vouchers, again.points_returned) == (0, 0, 0)
    assert_books_balance()


def test_a_barber_uses_a_haircut_voucher(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    buy(w, w.pA1, (w.haircut, 1), channel="phone", user=w.resident_a1)
    voucher = Voucher.objects.get()
    assert voucher.merchant == w.mA and voucher.points == 5
    assert system_balance(w, SystemAccount.VOUCHERS) == 5
    barber = actor_for(w.merchant_op_a)
    found = selectors.voucher_find(barber, f"linli-v:{voucher.code.lower()}")
    used = services.voucher_use(actor=barber, voucher=found, code=found.code, idempotency_key="tap-1")
    assert used.status == VoucherStatus.USED and used.used_by == w.merchant_op_a
    assert system_balance(w, SystemAccount.VOUCHERS) == 0 and system_balance(w, SystemAccount.MARKET) == 5
    assert (
        services.voucher_use(actor=barber, voucher=found, code=found.code, idempotency_key="tap-1").used_at
        == used.used_at
    )
    with pytest.raises(VoucherRefused):
        services.voucher_use(actor=barber, voucher=found, code=found.code, idempotency_key="tap-2")
    give_points(w, w.pA1, 5)
    buy(w, w.pA1, (w.haircut, 1), channel="phone", user=w.resident_a1)
    other = Voucher.objects.get(status=VoucherStatus.ISSUED)
    with pytest.raises(VoucherNotFound):  # knowing the id is not enough: the holder's code is needed
        services.voucher_use(actor=barber, voucher=other, code=found.code, idempotency_key="tap-3")
    assert Voucher.objects.get(pk=other.pk).status == VoucherStatus.ISSUED
    assert person_balance(w.pA1.pk) == 5
    assert_books_balance()


def test_only_the_providing_merchant_finds_a_voucher(w: SimpleNamespace) -> None:
    from linli.org.models import Merchant, Role, RoleAssignment, User

    give_points(w, w.pA1, 10)
    buy(w, w.pA1, (w.haircut, 1), channel="phone", user=w.resident_a1)
    voucher = Voucher.objects.get()
    other = Merchant.objects.create(community=w.A, name="社区菜店")
    grocer = User.objects.create_user(phone="13900000077", password="x", name="菜店老板")
    RoleAssignment.objects.create(user=grocer, role=Role.MERCHANT_OPERATOR, merchant=other)
    with pytest.raises(VoucherNotFound):
        selectors.voucher_find(actor_for(grocer), voucher.code)
    with pytest.raises(NotFound):
        services.voucher_use(actor=actor_for(grocer), voucher=voucher, code=voucher.code, idempotency_key="x")
    with pytest.raises(VoucherNotFound):
        selectors.voucher_find(actor_for(w.merchant_op_a), "NOT-A-CODE")


def test_an_expired_voucher_cannot_be_used(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    buy(w, w.pA1, (w.haircut, 1), channel="phone", user=w.resident_a1)
    Voucher.objects.update(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(VoucherRefused) as refused:
        services.voucher_use(
            actor=actor_for(w.merchant_op_a), voucher=(v := Voucher.objects.get()), code=v.code, idempotency_key="k"
        )
    assert refused.value.code == "voucher_expired"


def test_partial_then_full_return(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 100)
    sold = buy(w, w.pA1, (w.rice, 2), (w.soy, 1), (w.haircut, 1))
    assert person_balance(w.pA1.pk) == 100 - 38
    staff = actor_for(w.staff_a)
    rice_line = sold.lines.get(product=w.rice)
    services.redemption_return(
        actor=staff, redemption=sold, quantities={rice_line.pk: 1}, reason="米袋破了", idempotency_key="r1"
    )
    services.redemption_return(
        actor=staff, redemption=sold, quantities={rice_line.pk: 1}, reason="米袋破了", idempotency_key="r1"
    )
    assert stock(w.rice) == 19 and person_balance(w.pA1.pk) == 100 - 23
    with pytest.raises(Invalid):
        services.redemption_return(
            actor=staff, redemption=sold, quantities={rice_line.pk: 2}, reason="再退", idempotency_key="r2"
        )
    with pytest.raises(Invalid):
        services.redemption_return(
            actor=staff, redemption=sold, quantities={rice_line.pk: 1}, reason="", idempotency_key="r3"
        )
    rest = {line.pk: line.quantity - line.returned for line in sold.lines.all()}
    done = services.redemption_return(
        actor=staff, redemption=sold, quantities=rest, reason="全部退回", idempotency_key="r4"
    )
    assert done.status == RedemptionStatus.RETURNED and done.refunded == done.total == 38
    assert person_balance(w.pA1.pk) == 100 and stock(w.rice) == 20 and stock(w.soy) == 50
    assert Voucher.objects.get().status == VoucherStatus.CANCELLED
    assert_books_balance()


def test_a_used_voucher_is_not_returned(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    sold = buy(w, w.pA1, (w.haircut, 1))
    services.voucher_use(
        actor=actor_for(w.merchant_op_a), voucher=(v := Voucher.objects.get()), code=v.code, idempotency_key="k"
    )
    line = sold.lines.get()
    with pytest.raises(Invalid) as refused:
        services.redemption_return(
            actor=actor_for(w.staff_a), redemption=sold, quantities={line.pk: 1}, reason="没去", idempotency_key="r"
        )
    assert refused.value.code == "voucher_used"


def test_grid_worker_serves_residents_of_their_grid_only(w: SimpleNamespace) -> None:
    give_points(w, w.pA1, 10)
    give_points(w, w.pA2, 10)
    buy(w, w.pA1, (w.soy, 1), user=w.grid_worker_a1)
    with pytest.raises(NotFound):
        buy(w, w.pA2, (w.soy, 1), user=w.grid_worker_a1)


def test_a_merchant_spends_what_it_earned(w: SimpleNamespace) -> None:
    from linli.ledger import services as ledger

    ledger.transfer_post(
        debit=ledger.system_account(w.A, SystemAccount.ISSUANCE),
        credit=ledger.account_for_merchant(w.mA),
        amount=20,
        kind="award",
        actor=w.staff_a,
        idempotency_key="merchant-earned",
    )
    reserved = buy(w, w.mA, (w.rice, 1), channel="phone", user=w.merchant_op_a)
    assert reserved.merchant == w.mA and reserved.status == RedemptionStatus.RESERVED
    assert selectors.balance_of(w.mA) == 5
    with pytest.raises(NotFound):  # a resident cannot spend the shop's points
        buy(w, w.mA, (w.soy, 1), channel="phone", user=w.resident_a1)


def test_stock_receipts_and_adjustments(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    services.stock_receive(actor=staff, product=w.rice, quantity=10, reason="街道配送")
    assert stock(w.rice) == 30
    with pytest.raises(Invalid):
        services.stock_adjust(actor=staff, product=w.rice, change=-2, reason="")
    with pytest.raises(OutOfStock):
        services.stock_adjust(actor=staff, product=w.rice, change=-31, reason="盘亏")
    movement = services.stock_adjust(actor=staff, product=w.rice, change=-2, reason="受潮")
    assert (movement.stock_after, movement.reason, movement.actor) == (28, "受潮", w.staff_a)
    with pytest.raises(Forbidden):
        services.stock_receive(actor=actor_for(w.grid_worker_a1), product=w.rice, quantity=1)
    with pytest.raises(Invalid):
        services.stock_receive(actor=staff, product=w.haircut, quantity=1)  # its stock is not counted
    assert [m.stock_after for m in selectors.movements(staff, w.rice)][:3] == [28, 30, 20]


def test_stocktake_books_the_differences(w: SimpleNamespace) -> None:
    worker = actor_for(w.grid_worker_a1)  # grid workers count the shelf (SEEDS 000)
    take = services.stocktake_start(actor=worker, community=w.A)
    with pytest.raises(StocktakeOpen):
        services.stocktake_start(actor=actor_for(w.staff_a), community=w.A)
    give_points(w, w.pA1, 15)
    buy(w, w.pA1, (w.rice, 1))  # sold during the count: in the book, not a loss
    services.stocktake_count(actor=worker, stocktake=take, counts={w.rice.pk: 17, w.soy.pk: 51, w.oil.pk: 10})
    closed = services.stocktake_close(actor=worker, stocktake=take)
    assert closed.status == "closed"
    assert stock(w.rice) == 17 and stock(w.soy) == 51 and stock(w.detergent) == 30  # uncounted: unchanged
    lines = {x.product_id: x for x in closed.lines.all()}
    assert (lines[w.rice.pk].expected, lines[w.rice.pk].variance) == (19, -2)
    assert lines[w.soy.pk].variance == 1 and lines[w.detergent.pk].variance is None
    assert StockMovement.objects.filter(stocktake=take).count() == 2
    with pytest.raises(Forbidden):
        services.stocktake_start(actor=actor_for(w.resident_a1), community=w.A)


def test_low_stock(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    assert list(selectors.low_stock(staff, w.A)) == []
    services.stock_adjust(actor=staff, product=w.rice, change=-17, reason="调往二网格")
    assert [p.pk for p in selectors.low_stock(staff, w.A)] == [w.rice.pk]


def test_product_rules(w: SimpleNamespace) -> None:
    staff = actor_for(w.staff_a)
    with pytest.raises(Invalid):
        services.product_create(actor=staff, community=w.A, data=ProductData(name="面粉", price=0))
    with pytest.raises(Invalid):
        services.product_create(actor=staff, community=w.A, data=ProductData(name="", price=3))
    with pytest.raises(Invalid):  # a merchant of another community
        services.product_create(actor=staff, community=w.A, data=ProductData(name="便利店券", price=3, merchant=w.mB))
    with pytest.raises(Forbidden):
        services.product_create(
            actor=actor_for(w.grid_worker_a1), community=w.A, data=ProductData(name="面粉", price=8)
        )
    with pytest.raises(Invalid):
        services.product_create(actor=staff, community=w.A, data=ProductData(name="面粉", price=8), stock=-1)
    with pytest.raises(Invalid):  # a coupon's stock is not counted
        services.product_create(
            actor=staff, community=w.A, data=ProductData(name="九折券", price=8, kind="coupon", merchant=w.mA), stock=3
        )
    flour = services.product_create(actor=staff, community=w.A, data=ProductData(name="面粉", price=8), stock=12)
    assert stock(flour) == 12 and flour.movements.get().kind == MovementKind.RECEIPT


def test_donated_items_reach_the_shelf(w: SimpleNamespace) -> None:
    from linli.points import donations
    from linli.points.donations import Assessment, ItemInput

    staff = actor_for(w.staff_a)
    registered = donations.donation_register(
        actor=staff,
        donor=w.pA2,
        items=[ItemInput(description="儿童绘本", category="图书", quantity=3, condition="八成新")],
        idempotency_key="don-1",
    )
    donation = registered.donation
    item = donation.items.get()
    donations.donation_assess(
        actor=staff, donation=donation, assessments=[Assessment(item_id=item.pk, points=2, price=4, usable=True)]
    )
    # with the market installed, assessing puts the usable items on the shelf at once
    item.refresh_from_db()
    assert item.status == "stocked"
    product = Product.objects.get(donated_item_id=item.pk)
    assert (product.kind, product.price, product.stock, product.name) == ("donated", 4, 3, "儿童绘本")
    assert product.movements.get().kind == MovementKind.DONATION
    assert item.market_ref == f"product:{product.pk}"
    assert donations.donated_items_send_to_market(actor=staff, community=w.A).done == []  # nothing queued twice
