"""QR points cards: random tokens, revoke and reissue, one live card per person, who may do what."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import segno
from django.db import IntegrityError, transaction
from django.urls import reverse

from linli.common.errors import Invalid, NotFound
from linli.common.models import AuditEvent
from linli.common.testing import client_for
from linli.ledger import cards
from linli.ledger.models import PointsCard
from linli.org.access import actor_for
from linli.org.models import HouseholdMember, Person


def _issue(w: SimpleNamespace, person: Person, user: str = "staff_a") -> PointsCard:
    return cards.card_issue(actor=actor_for(w.users[user]), person=person)


def test_token_is_random_and_reveals_nothing(world: SimpleNamespace) -> None:
    person = Person.objects.create(pk=987654321, community=world.A, name="孙大爷", phone="13912345678")
    HouseholdMember.objects.create(community=world.A, household=world.hA1, person=person, relation="other")
    tokens = {_issue(world, person).token for _ in range(30)}
    assert len(tokens) == 30  # a new token every time: nothing is derived from the person
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{24}", token)
        for secret in ("13912345678", "12345678", "5678", "987654321", "孙大爷"):
            assert secret not in token
    card = cards.live_card(person)
    assert card is not None
    assert cards.payload(card) == f"linli:card:{card.token}"
    # the page shows the QR of exactly that text, and never the phone number or the person id in it
    html = client_for(world.staff_a).get(reverse("ledger:card", args=[person.pk])).content.decode()
    expected = segno.make(cards.payload(card), error="m", micro=False).svg_inline(scale=cards.QR_SCALE)
    modules = re.search(r' d="([^"]+)"', expected)
    assert modules is not None and f'd="{modules.group(1)}"' in html
    assert "13912345678" not in html and "linli:card" not in html


def test_reissue_revokes_the_old_card(world: SimpleNamespace) -> None:
    first = _issue(world, world.pA1)
    assert cards.person_by_card(first.token) == world.pA1
    assert cards.person_by_card(cards.payload(first)) == world.pA1  # the whole scanned text works too
    second = _issue(world, world.pA1, "grid_worker_a1")
    assert second.token != first.token
    assert cards.person_by_card(first.token) is None
    assert cards.person_by_card(second.token) == world.pA1
    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoked_by == world.grid_worker_a1
    assert PointsCard.objects.filter(person=world.pA1, revoked_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(action="card.issue").count() == 2
    assert AuditEvent.objects.filter(action="card.revoke").count() == 1


def test_revoke(world: SimpleNamespace) -> None:
    card = _issue(world, world.pA1)
    revoked = cards.card_revoke(actor=actor_for(world.staff_a), card=card)
    assert revoked.revoked_at is not None and cards.person_by_card(card.token) is None
    again = cards.card_revoke(actor=actor_for(world.staff_a), card=card)  # a double click changes nothing
    assert again.revoked_at == revoked.revoked_at
    assert cards.live_card(world.pA1) is None


def test_one_live_card_per_person_in_the_database(world: SimpleNamespace) -> None:
    _issue(world, world.pA1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsCard.objects.create(community=world.A, person=world.pA1, token="second-live-card")


@pytest.mark.parametrize("token", ["", "nope", "linli:card:", "x" * 500, "linli:card:" + "y" * 24])
def test_unknown_tokens_find_nobody(world: SimpleNamespace, token: str) -> None:
    _issue(world, world.pA1)
    assert cards.person_by_card(token) is None


def test_a_card_stops_working_when_its_holder_moves_away(world: SimpleNamespace) -> None:
    card = _issue(world, world.pA1)
    Person.objects.filter(pk=world.pA1.pk).update(is_active=False)
    assert cards.person_by_card(card.token) is None
    world.pA1.refresh_from_db()
    with pytest.raises(Invalid):
        _issue(world, world.pA1)


@pytest.mark.parametrize(
    "user", ["auditor_a", "steward_a1", "grid_worker_a2", "staff_b", "merchant_op_a", "resident_a1"]
)
def test_who_may_not_issue_or_revoke(world: SimpleNamespace, user: str) -> None:
    with pytest.raises(NotFound):
        _issue(world, world.pA1, user)
    card = _issue(world, world.pA1)
    with pytest.raises(NotFound):
        cards.card_revoke(actor=actor_for(world.users[user]), card=card)
    assert cards.live_card(world.pA1) == card


@pytest.mark.parametrize("user", ["street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1"])
def test_who_may_issue(world: SimpleNamespace, user: str) -> None:
    assert _issue(world, world.pA1, user).person == world.pA1


def test_card_pages(world: SimpleNamespace) -> None:
    staff = client_for(world.grid_worker_a1)
    url = reverse("ledger:card", args=[world.pA1.pk])
    assert "<svg" not in staff.get(url).content.decode()
    response = staff.post(reverse("ledger:card_reissue", args=[world.pA1.pk]))
    assert response.status_code == 302 and response["Location"] == url
    first = cards.live_card(world.pA1)
    assert first is not None
    page = staff.get(url).content.decode()
    assert '<svg viewBox="0 0 370 370" class="qr">' in page
    assert "王秀英" in page and "大兴东路社区" in page and "积分卡" in page
    assert reverse("ledger:card_revoke", args=[world.pA1.pk]) in page
    staff.post(reverse("ledger:card_reissue", args=[world.pA1.pk]))
    second = cards.live_card(world.pA1)
    assert second is not None and second.token != first.token and cards.person_by_card(first.token) is None
    # the resident sees their own card, without the staff buttons
    mine = client_for(world.resident_a1).get(reverse("ledger:my_card")).content.decode()
    assert "<svg" in mine and reverse("ledger:card_revoke", args=[world.pA1.pk]) not in mine
    staff.post(reverse("ledger:card_revoke", args=[world.pA1.pk]))
    assert cards.live_card(world.pA1) is None
    mine = client_for(world.resident_a1).get(reverse("ledger:my_card")).content.decode()
    assert "<svg" not in mine
    # revoking when there is no card is a friendly message, not an error
    assert staff.post(reverse("ledger:card_revoke", args=[world.pA1.pk])).status_code == 302


def test_card_pages_refuse_get_for_writes(world: SimpleNamespace) -> None:
    assert client_for(world.staff_a).get(reverse("ledger:card_reissue", args=[world.pA1.pk])).status_code == 405
