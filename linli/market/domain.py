"""Rules of the points market that need no database: baskets, limits, windows, codes, variances."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

MAX_LINES = 30  # a basket is what one person carries home, not a wholesale order
MAX_QUANTITY = 99

# Voucher codes: Crockford-style alphabet without 0/O, 1/I/L and U, so a code read aloud or typed from paper is
# unambiguous; 8 characters = 29^8 ≈ 5·10^11 codes, shown as two groups of four.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


@dataclass(frozen=True)
class Want:
    """One basket line as asked for: a product and how many."""

    product_id: int
    quantity: int


def merge_basket(wants: Iterable[Want]) -> list[Want]:
    """The same product twice in a basket is one line with the quantities added, in first-seen order."""
    merged: dict[int, int] = {}
    for want in wants:
        merged[want.product_id] = merged.get(want.product_id, 0) + want.quantity
    return [Want(pid, qty) for pid, qty in merged.items()]


def basket_problem(wants: Sequence[Want]) -> str | None:
    """None when the basket's shape is acceptable, else a stable code."""
    if not wants:
        return "basket_empty"
    if len(wants) > MAX_LINES:
        return "basket_too_large"
    for want in wants:
        if not isinstance(want.quantity, int) or isinstance(want.quantity, bool):
            return "quantity_invalid"
        if not 0 < want.quantity <= MAX_QUANTITY:
            return "quantity_invalid"
    return None


def choice_clashes(groups: Mapping[int, int | None], wants: Sequence[Want]) -> list[int]:
    """Groups from which the basket takes more than one item (SEEDS 003: one choice per exchange).
    `groups` maps each product to its one-choice group (or None)."""
    taken: dict[int, int] = {}
    for want in wants:
        group = groups.get(want.product_id)
        if group is not None:
            taken[group] = taken.get(group, 0) + want.quantity
    return sorted(group for group, count in taken.items() if count > 1)


def period_start(period: str, today: date) -> date | None:
    """First day of the limit period containing `today`; None for "ever" (every redemption counts)."""
    if period == "day":
        return today
    if period == "week":
        return today - timedelta(days=today.weekday())  # weeks start on Monday, as Chinese calendars print them
    if period == "month":
        return today.replace(day=1)
    if period == "year":
        return today.replace(month=1, day=1)
    if period == "ever":
        return None
    raise ValueError(f"unknown period {period!r}")


def limit_room(limit: int | None, already: int) -> int | None:
    """How many more a person may take this period (None: no limit)."""
    if limit is None:
        return None
    return max(0, limit - already)


def available_on(day: date, starts: date | None, ends: date | None) -> bool:
    return (starts is None or starts <= day) and (ends is None or day <= ends)


def end_of_day_after(start: datetime, days: int) -> datetime:
    """The last second of the day `days` days after `start`, in start's time zone: a reservation made on Monday with
    7 days can be picked up until the next Monday evening, whatever the hour it was made."""
    day = start.date() + timedelta(days=days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=start.tzinfo)


def new_voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """K7M2Q9XD -> K7M2-Q9XD, how it is printed and read out."""
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


VOUCHER_QR_PREFIX = "LINLI-V:"


def clean_code(typed: str) -> str:
    """What a merchant typed or scanned, as stored: the QR payload's prefix, spaces and dashes dropped, letters upper,
    and the look-alikes people type (O for 0 is not in the alphabet; I, L -> 1 are not either) left to fail."""
    text = (typed or "").strip()
    if text.upper().startswith(VOUCHER_QR_PREFIX):
        text = text[len(VOUCHER_QR_PREFIX) :]
    return "".join(ch for ch in text.upper() if ch not in " -_")


def code_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


@dataclass(frozen=True)
class Variance:
    product_id: int
    expected: int
    counted: int
    price: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected

    @property
    def points_value(self) -> int:
        return self.difference * self.price


def variance_totals(lines: Iterable[Variance]) -> dict[str, int]:
    """Summary of a stocktake: how many products were off, units and points value short and over."""
    off = short_units = over_units = short_points = over_points = 0
    for line in lines:
        if line.difference == 0:
            continue
        off += 1
        if line.difference < 0:
            short_units -= line.difference
            short_points -= line.points_value
        else:
            over_units += line.difference
            over_points += line.points_value
    return {
        "products_off": off,
        "short_units": short_units,
        "over_units": over_units,
        "short_points": short_points,
        "over_points": over_points,
    }
