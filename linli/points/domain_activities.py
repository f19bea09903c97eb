"""Activities as pure functions: recurring dates from plain choices, the QR codes' time window, where a sign-up
lands. No database; unit-tested on their own (tests/test_activities.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from dateutil.rrule import rrulestr

# a QR code works from an hour before the start until two hours after the end (SEEDS: people arrive early, forget)
QR_OPENS_BEFORE = timedelta(hours=1)
QR_CLOSES_AFTER = timedelta(hours=2)
# recurring activities are generated this far ahead; running the extension again only adds what is missing
HORIZON_DAYS = 92
MAX_OCCURRENCES = 120  # per extension: a weekly series over three months is 14
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Repeat(StrEnum):
    WEEKLY = "weekly"  # every week on a weekday
    MONTHLY_WEEKDAY = "monthly_weekday"  # the Nth (or last) weekday of every month: 每月第一个周一
    MONTHLY_DAY = "monthly_day"  # the same day of every month (1..28, so that every month has it)


def build_rrule(repeat: str, *, weekday: int | None = None, nth: int | None = None, day: int | None = None) -> str:
    """An RFC 5545 RRULE from the page's plain choices. weekday 0 = Monday; nth 1..4 or -1 (the last).
    Raises ValueError for anything else."""
    if repeat == Repeat.WEEKLY:
        if weekday is None or not 0 <= weekday <= 6:
            raise ValueError("weekday")
        return f"FREQ=WEEKLY;BYDAY={WEEKDAYS[weekday]}"
    if repeat == Repeat.MONTHLY_WEEKDAY:
        if weekday is None or not 0 <= weekday <= 6:
            raise ValueError("weekday")
        if nth not in {1, 2, 3, 4, -1}:
            raise ValueError("nth")
        return f"FREQ=MONTHLY;BYDAY={nth:+d}{WEEKDAYS[weekday]}"
    if repeat == Repeat.MONTHLY_DAY:
        if day is None or not 1 <= day <= 28:
            raise ValueError("day")
        return f"FREQ=MONTHLY;BYMONTHDAY={day}"
    raise ValueError("repeat")


def occurrence_dates(rule: str, *, first: date, last: date | None, since: date, until: date) -> list[date]:
    """The series' dates within [since, until], never before `first` nor after `last`, at most MAX_OCCURRENCES."""
    begin = max(first, since)
    end = min(last, until) if last is not None else until
    if end < begin:
        return []
    dates = rrulestr(rule, dtstart=datetime.combine(first, time(0, 0)))
    found: list[date] = []
    for moment in dates.xafter(datetime.combine(begin, time(0, 0)), inc=True):
        day = moment.date()
        if day > end or len(found) >= MAX_OCCURRENCES:
            break
        found.append(day)
    return found


def qr_window(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    return starts_at - QR_OPENS_BEFORE, ends_at + QR_CLOSES_AFTER


def qr_state(now: datetime, starts_at: datetime, ends_at: datetime) -> str:
    """ "early", "open" or "expired" for a scan at `now`."""
    opens, closes = qr_window(starts_at, ends_at)
    if now < opens:
        return "early"
    if now > closes:
        return "expired"
    return "open"


def signup_status(capacity: int | None, confirmed: int, waiting: int) -> str:
    """Where a new sign-up lands: confirmed while places remain and nobody is waiting before them."""
    if capacity is None or (confirmed < capacity and waiting == 0):
        return "confirmed"
    return "waiting"


def places_to_fill(capacity: int | None, confirmed: int, waiting: int) -> int:
    """How many waiting people move up now (after a cancellation or a larger capacity)."""
    if capacity is None:
        return waiting
    return max(0, min(waiting, capacity - confirmed))


def place_time(moment: time, starts_at: datetime, ends_at: datetime) -> datetime:
    """A clock time the organiser typed, put on the activity's own day. An activity that runs past midnight has two
    days; the time goes on whichever puts it nearest the activity (inside it if it can be), so 23:40 is the evening it
    began and 00:20 the morning it ended. starts_at and ends_at are local, aware datetimes."""
    candidates = {
        datetime.combine(starts_at.date(), moment, tzinfo=starts_at.tzinfo),
        datetime.combine(ends_at.date(), moment, tzinfo=ends_at.tzinfo),
    }

    def distance(at: datetime) -> timedelta:
        if at < starts_at:
            return starts_at - at
        return at - ends_at if at > ends_at else timedelta(0)

    return min(sorted(candidates), key=distance)
