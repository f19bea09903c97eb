"""Council rules that need no database: who counts as one owner, the Civil Code art. 278 tally, resolutions'
clocks. Unit-tested in tests/test_domain.py with hand-computed cases.

The vote arithmetic is exact: areas are Decimals of two places turned into Fractions, and every comparison is a
comparison of Fractions — no float ever decides a result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.council.models import Choice, Matter, ResolutionStatus

# Civil Code art. 278 ¶2: items 6-8 need three quarters of those taking part; the rest more than half.
SPECIAL_MATTERS = frozenset({Matter.FUND_RAISE, Matter.REBUILD, Matter.COMMON_USE})
QUORUM = Fraction(2, 3)
SPECIAL_MAJORITY = Fraction(3, 4)
ORDINARY_MAJORITY = Fraction(1, 2)

BASIS_QUORUM = _(
    "Civil Code art. 278 ¶2: owners holding at least two thirds of the exclusive area, who are at least two thirds "
    "of all owners, take part in the vote."
)
BASIS_SPECIAL = _(
    "Civil Code art. 278 ¶2 (items 6 to 8): agreed by owners holding at least three quarters of the exclusive area "
    "taking part, who are at least three quarters of the owners taking part."
)
BASIS_ORDINARY = _(
    "Civil Code art. 278 ¶2 (items 1 to 5 and 9): agreed by owners holding more than half of the exclusive area "
    "taking part, who are more than half of the owners taking part."
)
BASIS_COUNTING = _(
    "Owners counted as the Supreme People's Court's interpretation on building ownership (arts. 8-9) counts them: "
    "area as registered; one exclusive unit is one owner; one buyer of several units counts once; the developer's "
    "unsold or undelivered units together count once."
)


# --- the roll: who counts as one owner -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """An exclusive unit (专有部分) as the household register has it."""

    household_id: int
    label: str
    area: Decimal | None
    owner_ids: frozenset[int]
    developer_held: bool = False


@dataclass(frozen=True)
class Voter:
    """One owner in the legal count, with all the units they hold."""

    units: tuple[Unit, ...]
    owner_ids: frozenset[int]
    is_developer: bool = False

    @property
    def area(self) -> Decimal:
        return sum((u.area or Decimal(0) for u in self.units), Decimal(0))


@dataclass
class Roll:
    voters: list[Voter]
    missing_area: list[Unit] = field(default_factory=list)
    missing_owner: list[Unit] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.voters) and not self.missing_area and not self.missing_owner

    @property
    def total_area(self) -> Decimal:
        return sum((v.area for v in self.voters), Decimal(0))


def build_roll(units: Iterable[Unit]) -> Roll:
    """Group units into owners (SPC interpretation arts. 8-9): the developer's units are one owner; units that share
    a registered owner are one owner (a buyer of several units counts once — and so, transitively, does a chain of
    co-owners, the reading that never counts one person twice). A unit without area, or with neither an owner nor
    the developer's flag, makes the roll incomplete: staff fix the register before the vote opens."""
    units = sorted(units, key=lambda u: u.household_id)
    roll = Roll(voters=[])
    developer: list[Unit] = []
    # union-find over units, joined by the owners they share
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_owner: dict[int, int] = {}
    people_units: list[Unit] = []
    for unit in units:
        if unit.area is None or unit.area <= 0:
            roll.missing_area.append(unit)
        if unit.developer_held:
            developer.append(unit)
            continue
        if not unit.owner_ids:
            roll.missing_owner.append(unit)
            continue
        people_units.append(unit)
        parent[unit.household_id] = unit.household_id
        for owner in sorted(unit.owner_ids):
            if owner in by_owner:
                a, b = find(by_owner[owner]), find(unit.household_id)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                by_owner[owner] = unit.household_id
    groups: dict[int, list[Unit]] = {}
    for unit in people_units:
        groups.setdefault(find(unit.household_id), []).append(unit)
    for root in sorted(groups):
        members = tuple(groups[root])
        roll.voters.append(Voter(units=members, owner_ids=frozenset().union(*(u.owner_ids for u in members))))
    if developer:
        roll.voters.append(Voter(units=tuple(developer), owner_ids=frozenset(), is_developer=True))
    return roll


# --- the tally -----------------------------------------------------------------------------------------------------
def exact(value: Decimal | int | str) -> Fraction:
    """An area as an exact fraction (Decimal('86.45') -> 1729/20)."""
    return Fraction(Decimal(value))


@dataclass(frozen=True)
class Cast:
    area: Decimal
    choice: str


@dataclass(frozen=True)
class Tally:
    matter: str
    special: bool
    total_area: Fraction
    total_owners: int
    part_area: Fraction
    part_owners: int
    agree_area: Fraction
    agree_owners: int
    disagree_area: Fraction
    disagree_owners: int
    abstain_area: Fraction
    abstain_owners: int
    quorum_area: bool
    quorum_owners: bool
    majority_area: bool
    majority_owners: bool

    @property
    def quorum(self) -> bool:
        return self.quorum_area and self.quorum_owners

    @property
    def passed(self) -> bool:
        return self.quorum and self.majority_area and self.majority_owners

    @property
    def majority(self) -> Fraction:
        return SPECIAL_MAJORITY if self.special else ORDINARY_MAJORITY

    @property
    def basis(self) -> list[str]:
        return [str(BASIS_QUORUM), str(BASIS_SPECIAL if self.special else BASIS_ORDINARY), str(BASIS_COUNTING)]

    def share(self, part: Fraction | int, whole: Fraction | int) -> Fraction:
        return Fraction(part) / Fraction(whole) if whole else Fraction(0)

    def as_dict(self) -> dict[str, Any]:
        """Every number, exact ("1729/20") and as shown ("86.45"), for the frozen record."""

        def area(x: Fraction) -> dict[str, str]:
            return {"exact": str(x), "m2": f"{Decimal(x.numerator) / Decimal(x.denominator):.2f}"}

        def ratio(x: Fraction) -> dict[str, str]:
            return {"exact": str(x), "percent": f"{Decimal(x.numerator) * 100 / Decimal(x.denominator):.2f}"}

        return {
            "matter": self.matter,
            "special": self.special,
            "total_area": area(self.total_area),
            "total_owners": self.total_owners,
            "part_area": area(self.part_area),
            "part_owners": self.part_owners,
            "agree_area": area(self.agree_area),
            "agree_owners": self.agree_owners,
            "disagree_area": area(self.disagree_area),
            "disagree_owners": self.disagree_owners,
            "abstain_area": area(self.abstain_area),
            "abstain_owners": self.abstain_owners,
            "part_area_share": ratio(self.share(self.part_area, self.total_area)),
            "part_owners_share": ratio(self.share(self.part_owners, self.total_owners)),
            "agree_area_share": ratio(self.share(self.agree_area, self.part_area)),
            "agree_owners_share": ratio(self.share(self.agree_owners, self.part_owners)),
            "quorum_area": self.quorum_area,
            "quorum_owners": self.quorum_owners,
            "majority_area": self.majority_area,
            "majority_owners": self.majority_owners,
            "quorum": self.quorum,
            "passed": self.passed,
            "threshold": {"quorum": str(QUORUM), "majority": str(self.majority), "strict": not self.special},
        }


def _meets(part: Fraction | int, whole: Fraction | int, bound: Fraction, *, strict: bool) -> bool:
    """part/whole >= bound ("以上" includes the bound), or > bound when strict ("过半数"). Nothing of nothing fails."""
    if not whole:
        return False
    share = Fraction(part) / Fraction(whole)
    return share > bound if strict else share >= bound


def tally(*, matter: str, total_area: Decimal, total_owners: int, ballots: Sequence[Cast]) -> Tally:
    """Civil Code art. 278 ¶2. Everyone who cast a ballot took part, abstentions included; the majorities are of
    those taking part, by area AND by head."""
    if matter not in Matter.values:
        raise ValueError(f"unknown matter {matter!r}")
    special = matter in SPECIAL_MATTERS
    sums = {c: Fraction(0) for c in Choice.values}
    heads = dict.fromkeys(Choice.values, 0)
    for cast in ballots:
        sums[cast.choice] += exact(cast.area)
        heads[cast.choice] += 1
    total = exact(total_area)
    part_area, part_owners = sum(sums.values(), Fraction(0)), sum(heads.values())
    majority, strict = (SPECIAL_MAJORITY, False) if special else (ORDINARY_MAJORITY, True)
    return Tally(
        matter=matter,
        special=special,
        total_area=total,
        total_owners=total_owners,
        part_area=part_area,
        part_owners=part_owners,
        agree_area=sums[Choice.AGREE],
        agree_owners=heads[Choice.AGREE],
        disagree_area=sums[Choice.DISAGREE],
        disagree_owners=heads[Choice.DISAGREE],
        abstain_area=sums[Choice.ABSTAIN],
        abstain_owners=heads[Choice.ABSTAIN],
        quorum_area=_meets(part_area, total, QUORUM, strict=False),
        quorum_owners=_meets(part_owners, total_owners, QUORUM, strict=False),
        majority_area=_meets(sums[Choice.AGREE], part_area, majority, strict=strict),
        majority_owners=_meets(heads[Choice.AGREE], part_owners, majority, strict=strict),
    )


# --- resolutions ---------------------------------------------------------------------------------------------------
def is_overdue(status: str, due_on: date, today: date) -> bool:
    return status in (ResolutionStatus.OPEN, ResolutionStatus.IN_PROGRESS) and due_on < today


def days_left(due_on: date, today: date) -> int:
    return (due_on - today).days


def status_for_progress(progress: int) -> str:
    """Progress reported on an open resolution: some work means in progress; 100 is reported through "done"."""
    return ResolutionStatus.OPEN if progress == 0 else ResolutionStatus.IN_PROGRESS


def average(ratings: Sequence[int]) -> float | None:
    return round(sum(ratings) / len(ratings), 1) if ratings else None
