"""Work-order rules that need no database: the colour a request suggests, its deadline, which step may follow which,
and the figures of the statistics. Unit-tested in tests/test_domain.py."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from linli.orders.errors import TransitionRefused
from linli.orders.models import DONE_STATUSES, OPEN_STATUSES, DayKind, Severity, Status

DEFAULT_DEADLINE_DAYS = 15  # SEEDS 004: "the longest allowed time to feedback is 15 days"
DUE_SOON = timedelta(days=2)
FACTORS = ("scale", "difficulty", "impact")
FACTOR_LABELS = {
    "scale": (_("one household"), _("a building or several households"), _("a compound or more")),
    "difficulty": (_("solved on the spot"), _("needs one unit"), _("needs several units or the street")),
    "impact": (_("little"), _("neighbours are upset"), _("safety or public attention")),
}


# --- the colour (三色) ------------------------------------------------------------------------------------------------
def suggest_severity(factors: Mapping[str, int]) -> Severity:
    """Blue / yellow / red from scale, difficulty and social impact, each 1-3 (SEEDS 002). Staff decide; this
    only suggests. A threat to safety is red whatever the rest; otherwise the sum decides."""
    values = {k: int(factors.get(k, 1)) for k in FACTORS}
    for key, value in values.items():
        if value not in (1, 2, 3):
            raise ValueError(f"{key} must be 1, 2 or 3")
    if values["impact"] == 3:
        return Severity.RED
    total = sum(values.values())
    if total >= 7:
        return Severity.RED
    if total >= 5:
        return Severity.YELLOW
    return Severity.BLUE


# --- the clock --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Calendar:
    """Public holidays and the weekend days worked instead of them (调休)."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def deadline_days(default_days: int, severity_days: Mapping[str, int] | None, severity: str) -> int:
    """The category's days, unless the category sets fewer (or more) for this colour."""
    if severity and severity_days and severity in severity_days:
        return max(1, int(severity_days[severity]))
    return max(1, int(default_days or DEFAULT_DEADLINE_DAYS))


def due_date(received_on: date, days: int, kind: str, calendar: Calendar | None = None) -> date:
    """The last day to answer: `days` after the day received. In working days the day received never counts and
    the count skips weekends and holidays, except weekend days worked instead of a holiday."""
    if kind == DayKind.CALENDAR:
        return received_on + timedelta(days=days)
    calendar = calendar or Calendar()
    day, left = received_on, days
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working(day):
            left -= 1
    return day


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """Answers are due by the end of the due date, in the community's time zone."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


def due_at(received_at: datetime, days: int, kind: str, tz: ZoneInfo, calendar: Calendar | None = None) -> datetime:
    return end_of_day(due_date(received_at.astimezone(tz).date(), days, kind, calendar), tz)


def is_overdue(status: str, due: datetime, now: datetime) -> bool:
    return status in OPEN_STATUSES and now > due


def is_due_soon(status: str, due: datetime, now: datetime, within: timedelta = DUE_SOON) -> bool:
    return status in OPEN_STATUSES and now <= due <= now + within


# --- which step may follow which ------------------------------------------------------------------------------------
S = Status
# action -> (statuses it may start from, status it leads to; None = stays as it is)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({S.RECEIVED}), S.ACCEPTED),
    "grade": (frozenset(OPEN_STATUSES), None),
    "dispatch": (frozenset({S.ACCEPTED, S.REOPENED}), S.DISPATCHED),
    "redispatch": (frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.DISPATCHED),
    "start": (frozenset({S.DISPATCHED}), S.IN_PROGRESS),
    "note": (frozenset(set(S) - {S.MERGED}), None),
    "hold": (frozenset({S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REOPENED}), S.ON_HOLD),
    "resume": (frozenset({S.ON_HOLD}), None),  # back to where it was held
    "escalate": (frozenset(OPEN_STATUSES), None),
    "resolve": (frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.RESOLVED),
    "rate": (frozenset({S.RESOLVED}), None),  # the rating decides: closed, or reopened
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
    "merge": (frozenset(OPEN_STATUSES), S.MERGED),
    "cancel": (frozenset({S.RECEIVED, S.ACCEPTED}), S.CANCELLED),
    "credit": (frozenset(DONE_STATUSES), None),
    "publish": (frozenset(set(S) - {S.MERGED, S.CANCELLED}), None),  # shown on the echo wall or not
}


def next_status(status: str, action: str, *, held_from: str = "") -> str:
    """The status after `action`; TransitionRefused when the order is not at a step where it may happen."""
    allowed_from, to = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionRefused(details={"status": status, "action": action})
    if action == "resume":
        return held_from or S.ACCEPTED
    return to or status


def rating_outcome(rating: int) -> str:
    """反馈评价: 3 and above closes the order; 1-2 (unsatisfied) reopens it."""
    if rating not in (1, 2, 3, 4, 5):
        raise ValueError("rating must be 1-5")
    return S.CLOSED if rating >= 3 else S.REOPENED


# --- statistics -----------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100) of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(part: int, whole: int) -> float | None:
    """A share in percent with one decimal, None when there is nothing to divide by (shown as "—", never 0 %)."""
    if whole <= 0:
        return None
    return round(100 * part / whole, 1)


@dataclass(frozen=True)
class Figures:
    received: int
    completed: int
    completion_rate: float | None
    rated: int
    satisfied: int
    satisfaction_rate: float | None
    mean_hours_to_close: float | None
    p90_hours_to_close: float | None
    overdue: int


def figures(
    *,
    received: int,
    completed: int,
    ratings: Iterable[int],
    hours_to_close: Sequence[float],
    overdue: int,
) -> Figures:
    """Satisfied = rated 4 or 5 ("满意"); the satisfaction rate is over the orders that were rated."""
    ratings = list(ratings)
    satisfied = sum(1 for r in ratings if r >= 4)
    mean = round(sum(hours_to_close) / len(hours_to_close), 1) if hours_to_close else None
    p90 = percentile(hours_to_close, 90)
    return Figures(
        received=received,
        completed=completed,
        completion_rate=rate(completed, received),
        rated=len(ratings),
        satisfied=satisfied,
        satisfaction_rate=rate(satisfied, len(ratings)),
        mean_hours_to_close=mean,
        p90_hours_to_close=round(p90, 1) if p90 is not None else None,
        overdue=overdue,
    )
