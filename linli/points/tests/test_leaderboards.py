"""Leaderboards: sums of approved claims per person by the moment they were approved, competition ranks, grids,
masking on the public page, full names for the people a worker may see, and "my rank"."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from itertools import count
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.errors import Invalid, NotFound
from linli.common.testing import client_for
from linli.org.access import actor_for
from linli.org.models import Household, HouseholdMember, Person
from linli.points import services
from linli.points.leaderboards import leaderboard, period_start, reveal_for
from linli.points.models import Claim, ClaimStatus, Rule, Source
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 15)
_keys = count()


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10, 0))


def claim(
    person: Person, points: int, decided: date, *, rule: Rule | None = None, status: str = ClaimStatus.APPROVED
) -> Claim:
    """A decided claim as the chain leaves it (the chain itself is tested in test_claims.py)."""
    rule = rule or Rule.objects.filter(community=person.community).order_by("id").first()
    assert rule is not None
    assert rule.current is not None
    return Claim.objects.create(
        community=person.community,
        person=person,
        rule=rule,
        rule_version=rule.current,
        source=Source.RECORDED,
        occurred_on=decided - timedelta(days=3),
        points=points,
        status=status,
        decided_at=at(decided),
        idempotency_key=f"lb-{next(_keys)}",
    )


def neighbour(w: SimpleNamespace, name: str, household: Household) -> Person:
    p = Person.objects.create(community=w.A, name=name)
    HouseholdMember.objects.create(community=w.A, household=household, person=p)
    return p


def board(w: SimpleNamespace, period: str = "month", **kw: Any) -> Any:
    return leaderboard(community=w.A, period=period, today=TODAY, **kw)


def test_sums_only_approved_claims_by_the_day_they_were_approved(w: SimpleNamespace) -> None:
    claim(w.pA1, 8, date(2025, 6, 2))
    claim(w.pA1, 3, date(2025, 6, 14))
    claim(w.pA1, 5, date(2025, 5, 31))  # last month: this year only
    claim(w.pA1, 7, date(2024, 12, 31))  # last year: all time only
    claim(w.pA2, 20, date(2025, 6, 3), status=ClaimStatus.REJECTED)
    claim(w.pA2, 20, date(2025, 6, 3), status=ClaimStatus.VERIFIED)
    claim(w.pA2, 4, date(2025, 6, 10))
    claim(w.pB1, 99, date(2025, 6, 10))  # another community
    assert [(r.points, r.rank) for r in board(w, "month").rows] == [(11, 1), (4, 2)]
    assert [r.points for r in board(w, "year").rows] == [16, 4]
    assert [r.points for r in board(w, "all").rows] == [23, 4]
    assert board(w, "all").people == 2


def test_points_posted_through_the_chain_count(w: SimpleNamespace) -> None:
    made = services.claim_submit(
        actor=actor_for(w.steward_a1),
        person=w.pA1,
        rule=w.mediation,
        data=ClaimInput(occurred_on=timezone.localdate()),
        idempotency_key="chain",
    ).claim
    services.claim_approve(actor=actor_for(w.staff_a), claim=made)
    rows = leaderboard(community=w.A, period="month").rows
    assert [(r.points, r.name) for r in rows] == [(8, "王*英")]


def test_ties_share_a_rank_and_the_next_rank_skips(w: SimpleNamespace) -> None:
    c = neighbour(w, "陈大爷", w.hA2)
    claim(w.pA1, 5, date(2025, 6, 2))
    claim(w.pA2, 5, date(2025, 6, 2))
    claim(c, 2, date(2025, 6, 2))
    assert [r.rank for r in board(w).rows] == [1, 1, 3]


def test_top_is_limited_and_my_rank_is_given_outside_it(w: SimpleNamespace) -> None:
    for i in range(5):
        claim(neighbour(w, f"邻居{i}号", w.hA2), 10 + i, date(2025, 6, 2))
    claim(w.pA1, 3, date(2025, 6, 2))
    b = board(w, limit=3, me=w.pA1.pk)
    assert [r.points for r in b.rows] == [14, 13, 12]
    assert b.me is not None and (b.me.rank, b.me.points, b.me.me) == (6, 3, True)
    inside = board(w, me=w.pA1.pk)
    assert inside.me is not None and inside.me.rank == 6 and inside.rows[-1].me
    assert board(w, me=w.pB1.pk).me is None  # nothing earned here


def test_grid_boards_count_the_people_living_in_the_grid(w: SimpleNamespace) -> None:
    claim(w.pA1, 5, date(2025, 6, 2))
    claim(w.pA2, 7, date(2025, 6, 2))
    assert [r.points for r in board(w, grid=w.A1).rows] == [5]
    assert [r.points for r in board(w, grid=w.A2).rows] == [7]
    with pytest.raises(NotFound):
        board(w, grid=w.B1)


def test_moved_out_people_are_left_off(w: SimpleNamespace) -> None:
    claim(w.pA2, 7, date(2025, 6, 2))
    Person.objects.filter(pk=w.pA2.pk).update(is_active=False)
    assert board(w).rows == []


def test_names_are_masked_unless_revealed_to_someone_who_may_see_them(w: SimpleNamespace) -> None:
    claim(w.pA1, 5, date(2025, 6, 2))
    claim(w.pA2, 7, date(2025, 6, 2))
    public = board(w)
    assert [(r.name, r.person_id) for r in public.rows] == [("李*华", None), ("王*英", None)]
    staff = board(w, reveal=reveal_for(actor_for(w.staff_a), w.A))
    assert [r.name for r in staff.rows] == ["李建华", "王秀英"]
    assert staff.rows[0].person_id == w.pA2.pk
    grid2 = board(w, reveal=reveal_for(actor_for(w.grid_worker_a2), w.A))
    assert [r.name for r in grid2.rows] == ["李建华", "王*英"]
    resident = board(w, me=w.pA1.pk, reveal=reveal_for(actor_for(w.resident_a1), w.A))
    assert [r.name for r in resident.rows] == ["李*华", "王秀英"]


def test_periods_start_at_local_midnight() -> None:
    start = period_start("month", TODAY)
    assert start is not None and timezone.localtime(start).replace(tzinfo=None) == datetime(2025, 6, 1)
    year = period_start("year", TODAY)
    assert year is not None and timezone.localtime(year).date() == date(2025, 1, 1)
    assert period_start("all", TODAY) is None
    with pytest.raises(Invalid):
        period_start("week", TODAY)


# --- pages and API --------------------------------------------------------------------------------------------------
def test_public_page_masks_every_name_and_shows_my_rank(w: SimpleNamespace) -> None:
    claim(w.pA1, 5, timezone.localdate())
    claim(w.pA2, 7, timezone.localdate())
    url = reverse("points:leaderboard_public", args=[w.A.code])
    anonymous = client_for(None).get(url).content.decode()
    assert "李*华" in anonymous and "王*英" in anonymous
    assert "李建华" not in anonymous and "王秀英" not in anonymous and 'data-testid="my-rank"' not in anonymous
    as_staff = client_for(w.staff_a).get(url).content.decode()
    assert "李建华" not in as_staff  # the public page masks even for staff
    mine = client_for(w.resident_a1).get(url).content.decode()
    assert 'data-testid="my-rank"' in mine and "王秀英" not in mine
    assert client_for(None).get(reverse("points:leaderboard_public", args=["nowhere"])).status_code == 404
    other_grid = client_for(None).get(f"{url}?grid={w.B1.pk}")
    assert other_grid.status_code == 404
    junk = client_for(None).get(f"{url}?period=week&grid=abc")
    assert junk.status_code == 200  # unknown filters fall back to this month, whole community


def test_staff_page_shows_full_names(w: SimpleNamespace) -> None:
    claim(w.pA2, 7, timezone.localdate())
    page = client_for(w.staff_a).get(reverse("points:leaderboard"), {"community": w.A.pk, "period": "year"})
    assert page.status_code == 200 and "李建华" in page.content.decode()
    steward = client_for(w.steward_a1).get(reverse("points:leaderboard"), {"community": w.A.pk})
    assert "李*华" in steward.content.decode() and "李建华" not in steward.content.decode()


def test_api_masks_names_outside_the_callers_scope(w: SimpleNamespace) -> None:
    claim(w.pA1, 5, timezone.localdate())
    claim(w.pA2, 7, timezone.localdate())
    response = client_for(w.resident_a1).get("/api/v1/leaderboards", {"community": w.A.pk})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert [(r["name"], r["person_id"], r["me"]) for r in body["rows"]] == [
        ("李*华", None, False),
        ("王秀英", w.pA1.pk, True),
    ]
    assert body["me"]["rank"] == 2 and body["period"] == "month" and body["people"] == 2
    bad = client_for(w.resident_a1).get("/api/v1/leaderboards", {"community": w.A.pk, "period": "week"})
    assert bad.status_code == 400 and json.loads(bad.content)["code"] == "period_invalid"
    other = client_for(w.staff_a).get("/api/v1/leaderboards", {"community": w.A.pk, "grid": w.B1.pk})
    assert other.status_code == 404
