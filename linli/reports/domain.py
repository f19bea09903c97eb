"""Pure arithmetic of the reports: no database, no clock. Selectors feed it rows; it answers figures."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

HOLDER = ""  # a person's, merchant's or team's account (everything that is not a system account)


@dataclass
class Flows:
    """Points moved in one period, seen from the holders (residents, merchants, teams): what came in from the
    community's system accounts, what went back to them, by transfer kind; gifts between holders move nothing in or
    out. `circulation_end - circulation_start == inflow - outflow` holds by construction."""

    inflow: dict[str, int] = field(default_factory=dict)  # kind -> points credited to holders from system accounts
    outflow: dict[str, int] = field(default_factory=dict)  # kind -> points debited from holders to system accounts
    counts: dict[str, int] = field(default_factory=dict)  # kind -> transfers
    between_holders: int = 0  # gifts
    transfers: int = 0

    def add(self, kind: str, debit: str, credit: str, points: int, n: int) -> None:
        """debit/credit: the system account code, or HOLDER."""
        self.transfers += n
        self.counts[kind] = self.counts.get(kind, 0) + n
        if debit != HOLDER and credit == HOLDER:
            self.inflow[kind] = self.inflow.get(kind, 0) + points
        elif debit == HOLDER and credit != HOLDER:
            self.outflow[kind] = self.outflow.get(kind, 0) + points
        elif debit == HOLDER and credit == HOLDER:
            self.between_holders += points
        # system -> system (a voucher settled to the market): no holder's points move

    @property
    def earned(self) -> int:
        return self.inflow.get("award", 0)

    @property
    def spent(self) -> int:
        """Redeemed minus what came back by refunds."""
        return self.outflow.get("redemption", 0) - self.inflow.get("refund", 0)

    @property
    def expired(self) -> int:
        return self.outflow.get("expiry", 0) - self.inflow.get("expiry", 0)

    @property
    def corrected(self) -> int:
        """Adjustments and reversals, net (negative: taken back)."""
        return sum(self.inflow.get(k, 0) - self.outflow.get(k, 0) for k in ("adjustment", "reversal"))

    @property
    def net(self) -> int:
        return sum(self.inflow.values()) - sum(self.outflow.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "earned": self.earned,
            "spent": self.spent,
            "expired": self.expired,
            "corrected": self.corrected,
            "net": self.net,
            "gifts": self.between_holders,
            "transfers": self.transfers,
            "inflow": dict(sorted(self.inflow.items())),
            "outflow": dict(sorted(self.outflow.items())),
            "counts": dict(sorted(self.counts.items())),
        }


def flows(rows: Iterable[tuple[str, str, str, int, int]]) -> Flows:
    result = Flows()
    for kind, debit, credit, points, n in rows:
        result.add(kind, debit, credit, int(points or 0), int(n or 0))
    return result


def rate(part: int | float, whole: int | float) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by (shown as "—", never 0 %)."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from first to last, both included."""
    out: list[date] = []
    month = first_of_month(first)
    while month <= last:
        out.append(month)
        month = add_months(month, 1)
    return out


def parse_month(text: str) -> date | None:
    """ "2026-10" (full-width digits too, as phones type them) -> date(2026, 10, 1); anything else -> None."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if not text.isascii():
        return None
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        return None
    year, month = int(text[:4]), int(text[5:])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def canonical(figures: Mapping[str, Any]) -> bytes:
    return json.dumps(figures, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(figures: Mapping[str, Any]) -> str:
    """SHA-256 of the figures as published: printed on the notice, recomputed when anyone checks the page."""
    return hashlib.sha256(canonical(figures)).hexdigest()


@dataclass(frozen=True)
class Ranked:
    key: Any
    value: float | int | None
    rank: int | None  # 1 = best; equal values share a rank ("1, 2, 2, 4"); None when the value is missing


def rank(values: Sequence[tuple[Any, float | int | None]], *, descending: bool = True) -> list[Ranked]:
    """Competition ranking; rows without a value come last, unranked. Ties keep their input order."""
    present = [(k, v) for k, v in values if v is not None]
    missing = [(k, v) for k, v in values if v is None]
    present.sort(key=lambda kv: kv[1], reverse=descending)
    out: list[Ranked] = []
    previous: float | int | None = None
    current = 0
    for position, (key, value) in enumerate(present, start=1):
        if value != previous:
            current, previous = position, value
        out.append(Ranked(key, value, current))
    out.extend(Ranked(k, None, None) for k, _ in missing)
    return out


def top(counter: Mapping[Any, int], n: int) -> list[tuple[Any, int]]:
    """The n largest, ties broken by key so the order never changes between two renderings."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]
