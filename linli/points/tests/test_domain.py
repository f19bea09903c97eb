"""Points arithmetic and the claim chain's pure rules, without a database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.points import domain


def test_full_hours_only() -> None:
    # SEEDS 000: environmental clean-up, per full hour: 3
    assert domain.claim_points(points=3, unit="hour", quantity=Decimal(1), minutes=60, percent=100) == 3
    assert domain.claim_points(points=3, unit="hour", quantity=Decimal(1), minutes=119, percent=100) == 3
    assert domain.claim_points(points=3, unit="hour", quantity=Decimal(1), minutes=59, percent=100) == 0


def test_units_and_difficulty() -> None:
    assert domain.claim_points(points=8, unit="occurrence", quantity=Decimal(5), minutes=None, percent=100) == 8
    assert domain.claim_points(points=2, unit="item", quantity=Decimal("3.9"), minutes=None, percent=100) == 6
    assert domain.claim_points(points=1, unit="kg", quantity=Decimal("4.5"), minutes=None, percent=100) == 4
    assert domain.claim_points(points=3, unit="hour", quantity=Decimal(1), minutes=120, percent=150) == 9


@given(
    points=st.integers(1, 10_000),
    minutes=st.integers(1, 1440),
    percent=st.integers(1, 1000),
)
def test_points_never_exceed_the_exact_product(points: int, minutes: int, percent: int) -> None:
    got = domain.claim_points(points=points, unit="hour", quantity=Decimal(1), minutes=minutes, percent=percent)
    exact = points * (minutes // 60) * percent / 100
    assert 0 <= got <= exact < got + 1


def test_caps() -> None:
    assert domain.beyond_cap(9, daily_cap=9, day_so_far=0, monthly_cap=None, month_so_far=50) == ""
    assert domain.beyond_cap(1, daily_cap=9, day_so_far=9, monthly_cap=None, month_so_far=0) == "day"
    assert domain.beyond_cap(5, daily_cap=None, day_so_far=0, monthly_cap=60, month_so_far=56) == "month"
    assert domain.cap_room(None, 100) is None and domain.cap_room(9, 12) == 0


def test_difficulty_levels() -> None:
    levels = domain.parse_difficulties("一般：100， 较难:150")
    assert levels == [{"name": "一般", "percent": 100}, {"name": "较难", "percent": 150}]
    assert domain.format_difficulties(levels) == "一般:100, 较难:150"
    assert domain.difficulty_percent(levels, "") == 100 and domain.difficulty_percent(levels, "较难") == 150
    assert domain.difficulty_percent([], "") == 100
    with pytest.raises(KeyError):
        domain.difficulty_percent(levels, "极难")
    for bad in ("一般", "一般:0", "一般:100, 一般:150", "a:1001", ":100"):
        with pytest.raises(ValueError):
            domain.parse_difficulties(bad)


def test_validity_and_steps() -> None:
    d = date(2026, 11, 22)
    assert domain.in_force(None, None, d)
    assert not domain.in_force(d + timedelta(days=1), None, d)
    assert not domain.in_force(None, d - timedelta(days=1), d)
    assert domain.status_after_submit("verify_approve", recorder_verifies=False) == "submitted"
    assert domain.status_after_submit("verify_approve", recorder_verifies=True) == "verified"
    assert domain.status_after_submit("approve", recorder_verifies=False) == "submitted"  # waits for staff
    assert domain.needs_approval("approve") and not domain.needs_verification("approve")


def test_service_minutes_only_count_the_activity_time() -> None:
    start = datetime(2026, 11, 2, 9, 0)
    end = start + timedelta(hours=2)
    assert domain.service_minutes(start - timedelta(hours=1), end + timedelta(hours=5), start, end) == 120
    assert domain.service_minutes(start + timedelta(minutes=30), start + timedelta(minutes=90), start, end) == 60
    assert domain.service_minutes(end + timedelta(hours=1), end + timedelta(hours=2), start, end) == 0
