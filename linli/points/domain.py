"""Points arithmetic and the claim chain as pure functions: no database, unit-tested on their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

MAX_PERCENT = 1000  # a difficulty may multiply by 10 at most
MAX_QUANTITY = Decimal("10000")


def difficulty_percent(levels: Sequence[Mapping[str, Any]], name: str) -> int:
    """The multiplier (in percent) of the level called `name`; 100 when the rule has no levels. Raises KeyError for a
    level the rule does not have."""
    if not levels:
        if name:
            raise KeyError(name)
        return 100
    if not name:
        return int(levels[0]["percent"])  # the first level is the plain one
    for level in levels:
        if level["name"] == name:
            return int(level["percent"])
    raise KeyError(name)


def units_of(unit: str, quantity: Decimal, minutes: int | None) -> Decimal:
    """How many units a claim counts. Hours count only when full (SEEDS 000: "per full hour: 3")."""
    if unit == "hour":
        return Decimal((minutes or 0) // 60)
    if unit == "item":
        return quantity.to_integral_value(rounding=ROUND_FLOOR)
    if unit == "kg":
        return quantity
    return Decimal(1)


def claim_points(*, points: int, unit: str, quantity: Decimal, minutes: int | None, percent: int) -> int:
    """Points a claim is worth: rule points × units × difficulty, rounded down to whole points."""
    total = Decimal(points) * units_of(unit, quantity, minutes) * Decimal(percent) / Decimal(100)
    return int(total.to_integral_value(rounding=ROUND_FLOOR))


def cap_room(cap: int | None, already: int) -> int | None:
    """Points still allowed under a cap after `already` were awarded (None: no cap)."""
    if cap is None:
        return None
    return max(0, cap - already)


def beyond_cap(
    points: int, *, daily_cap: int | None, day_so_far: int, monthly_cap: int | None, month_so_far: int
) -> str:
    """Which cap `points` more would break: "day", "month" or "" for none."""
    day_room = cap_room(daily_cap, day_so_far)
    if day_room is not None and points > day_room:
        return "day"
    month_room = cap_room(monthly_cap, month_so_far)
    if month_room is not None and points > month_room:
        return "month"
    return ""


def in_force(valid_from: date | None, valid_until: date | None, day: date) -> bool:
    return (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until)


def needs_verification(steps: str) -> bool:
    return steps in {"verify_approve", "verify"}


def needs_approval(steps: str) -> bool:
    return steps in {"verify_approve", "approve"}


def status_after_submit(steps: str, *, recorder_verifies: bool) -> str:
    """A claim starts waiting for its first check. A steward or grid worker recording what they witnessed has
    verified it by recording it (SEEDS 003: the good deed is confirmed by the building head or grid worker)."""
    return "verified" if recorder_verifies else "submitted"


def difficulty_levels_valid(levels: Any) -> bool:
    """[{"name": str (1-30 chars, unique), "percent": int 1..1000}, ...]"""
    if not isinstance(levels, list):
        return False
    names = set()
    for level in levels:
        if not isinstance(level, dict) or set(level) != {"name", "percent"}:
            return False
        name, percent = level["name"], level["percent"]
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 30 or name in names:
            return False
        if not isinstance(percent, int) or isinstance(percent, bool) or not 0 < percent <= MAX_PERCENT:
            return False
        names.add(name)
    return True


def parse_difficulties(text: str) -> list[dict[str, Any]]:
    """ "一般:100, 较难:150" -> levels. Raises ValueError on anything else (the spreadsheet and the editor form)."""
    levels: list[dict[str, Any]] = []
    for part in text.replace("，", ",").replace("：", ":").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, percent = part.rpartition(":")
        if not sep or not name.strip() or not percent.strip().isdigit():
            raise ValueError(part)
        levels.append({"name": name.strip(), "percent": int(percent)})
    if not difficulty_levels_valid(levels):
        raise ValueError(text)
    return levels


def format_difficulties(levels: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{level['name']}:{level['percent']}" for level in levels)


def service_minutes(checked_in: Any, checked_out: Any, starts: Any, ends: Any) -> int:
    """Minutes credited for attending: the overlap of the attendance with the activity's time (nobody earns hours by
    checking in early or leaving the phone checked in overnight)."""
    begin = max(checked_in, starts)
    end = min(checked_out, ends)
    return max(0, int((end - begin).total_seconds() // 60))
