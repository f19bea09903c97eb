"""Pure rules of work orders: colour, deadline, steps, figures. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.orders import domain
from linli.orders.errors import TransitionRefused
from linli.orders.models import Severity, Status

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("factors", "colour"),
    [
        ({"scale": 1, "difficulty": 1, "impact": 1}, Severity.BLUE),
        ({"scale": 2, "difficulty": 1, "impact": 1}, Severity.BLUE),
        ({"scale": 2, "difficulty": 2, "impact": 1}, Severity.YELLOW),
        ({"scale": 3, "difficulty": 2, "impact": 1}, Severity.YELLOW),
        ({"scale": 3, "difficulty": 3, "impact": 1}, Severity.RED),
        ({"scale": 1, "difficulty": 1, "impact": 3}, Severity.RED),  # safety is red whatever the rest
        ({}, Severity.BLUE),
    ],
)
def test_suggested_colour(factors: dict[str, int], colour: str) -> None:
    assert domain.suggest_severity(factors) == colour


def test_factor_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        domain.suggest_severity({"scale": 4})


def test_deadline_days_by_colour() -> None:
    assert domain.deadline_days(15, {"red": 3}, "red") == 3
    assert domain.deadline_days(15, {"red": 3}, "yellow") == 15
    assert domain.deadline_days(15, {}, "") == 15
    assert domain.deadline_days(0, None, "") == domain.DEFAULT_DEADLINE_DAYS


def test_calendar_days_count_every_day() -> None:
    assert domain.due_date(date(2026, 9, 28), 15, "calendar") == date(2026, 10, 13)


def test_working_days_skip_weekends_and_holidays_but_count_swapped_workdays() -> None:
    # Friday 2026-09-25; National Day holidays 1-7 Oct; Sunday 27 Sep worked instead (调休)
    cal = domain.Calendar(
        holidays=frozenset(date(2026, 10, d) for d in range(1, 8)), workdays=frozenset({date(2026, 9, 27)})
    )
    # working days after Fri 25 Sep: Sun 27, Mon 28, Tue 29, Wed 30, Thu 8 Oct, Fri 9 Oct
    assert domain.due_date(date(2026, 9, 25), 5, "working", cal) == date(2026, 10, 8)
    assert domain.due_date(date(2026, 9, 25), 6, "working", cal) == date(2026, 10, 9)
    # without the calendar: plain weekends
    assert domain.due_date(date(2026, 9, 25), 5, "working") == date(2026, 10, 2)


def test_due_at_is_end_of_the_local_day() -> None:
    received = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)  # already 2 Nov 04:00 in Shanghai
    due = domain.due_at(received, 15, "calendar", SH)
    assert due == datetime(2026, 11, 17, 23, 59, 59, tzinfo=SH)


def test_overdue_and_due_soon_only_while_open() -> None:
    due = datetime(2026, 11, 10, 23, 59, 59, tzinfo=SH)
    after = datetime(2026, 11, 11, 9, 0, tzinfo=SH)
    before = datetime(2026, 11, 9, 9, 0, tzinfo=SH)
    assert domain.is_overdue(Status.DISPATCHED, due, after)
    assert not domain.is_overdue(Status.RESOLVED, due, after)
    assert not domain.is_overdue(Status.DISPATCHED, due, before)
    assert domain.is_due_soon(Status.ACCEPTED, due, before)
    assert not domain.is_due_soon(Status.CLOSED, due, before)


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (Status.RECEIVED, "accept", Status.ACCEPTED),
        (Status.ACCEPTED, "dispatch", Status.DISPATCHED),
        (Status.REOPENED, "dispatch", Status.DISPATCHED),
        (Status.IN_PROGRESS, "redispatch", Status.DISPATCHED),
        (Status.DISPATCHED, "start", Status.IN_PROGRESS),
        (Status.IN_PROGRESS, "resolve", Status.RESOLVED),
        (Status.RESOLVED, "close", Status.CLOSED),
        (Status.CLOSED, "reopen", Status.REOPENED),
        (Status.ACCEPTED, "hold", Status.ON_HOLD),
        (Status.RECEIVED, "merge", Status.MERGED),
        (Status.RECEIVED, "cancel", Status.CANCELLED),
        (Status.DISPATCHED, "grade", Status.DISPATCHED),
    ],
)
def test_allowed_steps(status: str, action: str, after: str) -> None:
    assert domain.next_status(status, action) == after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.RECEIVED, "dispatch"),  # accept first
        (Status.RECEIVED, "resolve"),
        (Status.ACCEPTED, "resolve"),  # dispatch first
        (Status.ACCEPTED, "start"),
        (Status.DISPATCHED, "close"),  # resolve first
        (Status.CLOSED, "resolve"),
        (Status.MERGED, "note"),
        (Status.RESOLVED, "hold"),
        (Status.DISPATCHED, "cancel"),
        (Status.CLOSED, "rate"),
    ],
)
def test_skipping_steps_is_refused(status: str, action: str) -> None:
    with pytest.raises(TransitionRefused) as caught:
        domain.next_status(status, action)
    assert caught.value.code == "order_status"
    assert caught.value.status == 409


def test_resume_returns_to_where_it_was_held() -> None:
    assert domain.next_status(Status.ON_HOLD, "resume", held_from=Status.IN_PROGRESS) == Status.IN_PROGRESS


def test_rating_outcome() -> None:
    assert [domain.rating_outcome(r) for r in (1, 2, 3, 4, 5)] == [Status.REOPENED] * 2 + [Status.CLOSED] * 3
    with pytest.raises(ValueError):
        domain.rating_outcome(6)


def test_percentile_nearest_rank() -> None:
    assert domain.percentile([], 90) is None
    assert domain.percentile([5.0], 90) == 5.0
    assert domain.percentile([float(i) for i in range(1, 11)], 90) == 9.0
    assert domain.percentile([float(i) for i in range(1, 101)], 90) == 90.0


def test_figures_of_seeds_004() -> None:
    """54 taken, 53 completed: 98.1 %; 52 rated of which 50 satisfied: 96.2 %."""
    f = domain.figures(
        received=54, completed=53, ratings=[5] * 45 + [4] * 5 + [2, 3], hours_to_close=[24.0, 72.0], overdue=1
    )
    assert (f.completion_rate, f.satisfied, f.satisfaction_rate) == (98.1, 50, 96.2)
    assert (f.mean_hours_to_close, f.p90_hours_to_close, f.overdue) == (48.0, 72.0, 1)
    empty = domain.figures(received=0, completed=0, ratings=[], hours_to_close=[], overdue=0)
    assert empty.completion_rate is None and empty.satisfaction_rate is None and empty.mean_hours_to_close is None


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(min_value=1, max_value=60))
def test_working_deadline_is_never_before_the_calendar_one_and_lands_on_a_working_day(day: date, n: int) -> None:
    working = domain.due_date(day, n, "working")
    assert working >= domain.due_date(day, n, "calendar")
    assert working.weekday() < 5
