"""The owners' vote rule (Civil Code art. 278) at and around every threshold, with hand-computed cases, and the
counting of owners (SPC interpretation arts. 8-9). No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.council import domain
from linli.council.domain import Cast, Unit, build_roll, tally
from linli.council.models import Matter

D = Decimal


def casts(*rows: tuple[str, str]) -> list[Cast]:
    return [Cast(area=D(area), choice=choice) for area, choice in rows]


def same(n: int, area: str, choice: str) -> list[Cast]:
    return [Cast(area=D(area), choice=choice) for _ in range(n)]


# --- participation: at least 2/3 of the area AND at least 2/3 of the owners ("以上" includes the bound) ----
def test_quorum_exactly_two_thirds_of_area_and_owners_is_enough() -> None:
    # 9 owners of 100 m² each: 900 m². 6 take part: 600 m² = 2/3 exactly, 6/9 = 2/3 exactly; all agree.
    t = tally(matter=Matter.OTHER, total_area=D("900"), total_owners=9, ballots=same(6, "100", "agree"))
    assert (t.part_area, t.part_owners) == (Fraction(600), 6)
    assert t.quorum_area and t.quorum_owners and t.passed


def test_quorum_one_hundredth_of_a_square_metre_short_fails() -> None:
    # 6 take part but one of them holds 99.99 m²: 599.99 / 900 < 2/3 although 6/9 owners is 2/3.
    ballots = same(5, "100", "agree") + casts(("99.99", "agree"))
    t = tally(matter=Matter.OTHER, total_area=D("900"), total_owners=9, ballots=ballots)
    assert not t.quorum_area and t.quorum_owners
    assert not t.quorum and not t.passed


def test_quorum_by_area_but_one_owner_short_fails() -> None:
    # 9 owners, 5 take part (5/9 < 2/3) holding 700 of 900 m² (> 2/3): both are needed.
    ballots = casts(("300", "agree"), ("100", "agree"), ("100", "agree"), ("100", "agree"), ("100", "agree"))
    t = tally(matter=Matter.OTHER, total_area=D("900"), total_owners=9, ballots=ballots)
    assert t.quorum_area and not t.quorum_owners and not t.passed


def test_one_owner_above_the_quorum_passes_it() -> None:
    t = tally(matter=Matter.OTHER, total_area=D("900"), total_owners=9, ballots=same(7, "100", "agree"))
    assert t.quorum and t.passed


# --- items 6-8: at least 3/4 of the participating area AND of the participating owners ----
@pytest.mark.parametrize("matter", [Matter.FUND_RAISE, Matter.REBUILD, Matter.COMMON_USE])
def test_special_matters_pass_at_exactly_three_quarters(matter: str) -> None:
    # 8 take part with 100 m² each (800 of 1000 m², 8 of 10 owners): 6 agree = 600/800 = 3/4 and 6/8 = 3/4.
    ballots = same(6, "100", "agree") + same(1, "100", "disagree") + same(1, "100", "abstain")
    t = tally(matter=matter, total_area=D("1000"), total_owners=10, ballots=ballots)
    assert t.special and t.quorum
    assert t.majority_area and t.majority_owners and t.passed
    assert t.as_dict()["agree_area_share"] == {"exact": "3/4", "percent": "75.00"}


def test_special_matter_one_hundredth_below_three_quarters_by_area_fails() -> None:
    # 6 agree holding 599.99 m² of 799.99 taking part: 599.99/799.99 < 3/4 (= 599.9925/799.99).
    ballots = same(5, "100", "agree") + casts(("99.99", "agree")) + same(2, "100", "disagree")
    t = tally(matter=Matter.REBUILD, total_area=D("1000"), total_owners=10, ballots=ballots)
    assert t.quorum and t.majority_owners and not t.majority_area and not t.passed


def test_special_matter_one_head_below_three_quarters_fails() -> None:
    # 8 take part, 5 agree but hold 80 % of the area: 5/8 = 62.5 % of the owners < 3/4.
    ballots = casts(("300", "agree"), ("100", "agree"), ("100", "agree"), ("100", "agree"), ("100", "agree"))
    ballots += casts(("50", "disagree"), ("50", "disagree"), ("50", "abstain"))
    t = tally(matter=Matter.COMMON_USE, total_area=D("1000"), total_owners=10, ballots=ballots)
    assert t.part_area == 850 and t.agree_area == 700  # 700/850 = 82.4 % by area
    assert t.majority_area and not t.majority_owners and not t.passed


def test_abstaining_owners_take_part_but_do_not_agree() -> None:
    # 9 owners x 100 m²: 6 agree, 3 abstain. All 9 took part; 6/9 < 3/4 for a special matter; > 1/2 for the others.
    ballots = same(6, "100", "agree") + same(3, "100", "abstain")
    special = tally(matter=Matter.REBUILD, total_area=D("900"), total_owners=9, ballots=ballots)
    ordinary = tally(matter=Matter.FUND_USE, total_area=D("900"), total_owners=9, ballots=ballots)
    assert special.part_owners == 9 and special.abstain_owners == 3
    assert not special.passed and ordinary.passed


# --- items 1-5 and 9: more than half (过半数, strictly) ----
@pytest.mark.parametrize(
    "matter",
    [Matter.RULES, Matter.STATUTE, Matter.COMMITTEE, Matter.MANAGER, Matter.FUND_USE, Matter.OTHER],
)
def test_ordinary_matters_fail_at_exactly_half(matter: str) -> None:
    # 8 of 9 owners take part (800 of 900 m²); 4 agree: exactly half by head and by area is not "more than half".
    ballots = same(4, "100", "agree") + same(4, "100", "disagree")
    t = tally(matter=matter, total_area=D("900"), total_owners=9, ballots=ballots)
    assert not t.special and t.quorum
    assert not t.majority_area and not t.majority_owners and not t.passed


def test_ordinary_matter_passes_one_hundredth_above_half_only_if_heads_also_above_half() -> None:
    # heads 4/8 (not above half) though area 400.01/800.01 is: fails. One more agreeing owner: passes.
    ballots = same(3, "100", "agree") + casts(("100.01", "agree")) + same(4, "100", "disagree")
    t = tally(matter=Matter.MANAGER, total_area=D("900"), total_owners=9, ballots=ballots)
    assert t.majority_area and not t.majority_owners and not t.passed
    ballots = same(5, "100", "agree") + same(3, "100.01", "disagree")
    t = tally(matter=Matter.MANAGER, total_area=D("900"), total_owners=9, ballots=ballots)
    assert t.part_area == Fraction(80003, 100)
    assert t.majority_area and t.majority_owners and t.passed  # 500/800.03 and 5/8


def test_using_the_fund_is_ordinary_but_raising_it_is_special() -> None:
    ballots = same(5, "100", "agree") + same(3, "100", "disagree")  # 5/8 = 62.5 %
    use = tally(matter=Matter.FUND_USE, total_area=D("900"), total_owners=9, ballots=ballots)
    raise_ = tally(matter=Matter.FUND_RAISE, total_area=D("900"), total_owners=9, ballots=ballots)
    assert use.passed and not raise_.passed
    assert str(domain.BASIS_SPECIAL) in raise_.basis and str(domain.BASIS_ORDINARY) in use.basis


def test_exact_arithmetic_where_floats_would_get_it_wrong() -> None:
    # agree 0.20 + 0.70 + 0.15 = 1.05 of 1.40 taking part: exactly 3/4. In floats (0.2+0.7+0.15)/1.4 = 0.74999…
    agree = [0.2, 0.7, 0.15]
    assert sum(agree) / (sum(agree) + 0.35) < 0.75  # the trap
    ballots = casts(("0.20", "agree"), ("0.70", "agree"), ("0.15", "agree"), ("0.35", "disagree"))
    t = tally(matter=Matter.REBUILD, total_area=D("2.10"), total_owners=6, ballots=ballots)
    assert t.quorum_area and t.quorum_owners  # 1.40/2.10 = 2/3 and 4/6 = 2/3, both exactly at the bound
    assert t.majority_area and t.majority_owners and t.passed


def test_nobody_voting_never_passes() -> None:
    t = tally(matter=Matter.OTHER, total_area=D("900"), total_owners=9, ballots=[])
    assert not t.quorum and not t.passed
    assert t.as_dict()["agree_area_share"] == {"exact": "0", "percent": "0.00"}


def test_unknown_matter_is_refused() -> None:
    with pytest.raises(ValueError):
        tally(matter="item10", total_area=D("1"), total_owners=1, ballots=[])


def test_the_record_keeps_exact_and_shown_numbers() -> None:
    ballots = casts(("86.45", "agree"), ("75.50", "disagree"))
    d = tally(matter=Matter.OTHER, total_area=D("161.95"), total_owners=2, ballots=ballots).as_dict()
    assert d["agree_area"] == {"exact": "1729/20", "m2": "86.45"}
    assert d["part_area"]["m2"] == "161.95" and d["part_owners"] == 2
    assert d["threshold"] == {"quorum": "2/3", "majority": "1/2", "strict": True}
    assert d["passed"] is False  # 1 of 2 owners is not more than half


@given(
    areas=st.lists(st.integers(min_value=1, max_value=50000), min_size=1, max_size=30),
    choices=st.lists(st.sampled_from(["agree", "disagree", "abstain", None]), min_size=30, max_size=30),
    matter=st.sampled_from(Matter.values),
)
def test_tally_agrees_with_integer_cross_multiplication(
    areas: list[int], choices: list[str | None], matter: str
) -> None:
    """Areas in hundredths of m²: the rule restated with integers only must give the same verdict."""
    total_c, owners = sum(areas), len(areas)
    cast = [(a, c) for a, c in zip(areas, choices, strict=False) if c is not None]
    ballots = [Cast(area=D(a) / 100, choice=c) for a, c in cast]
    t = tally(matter=matter, total_area=D(total_c) / 100, total_owners=owners, ballots=ballots)
    part_c, part_n = sum(a for a, _ in cast), len(cast)
    agree_c, agree_n = sum(a for a, c in cast if c == "agree"), sum(1 for _, c in cast if c == "agree")
    quorum = 3 * part_c >= 2 * total_c and 3 * part_n >= 2 * owners
    if matter in domain.SPECIAL_MATTERS:
        majority = part_n > 0 and 4 * agree_c >= 3 * part_c and 4 * agree_n >= 3 * part_n
    else:
        majority = part_n > 0 and 2 * agree_c > part_c and 2 * agree_n > part_n
    assert t.passed == (quorum and majority)


# --- counting owners (SPC interpretation arts. 8-9) ----
def unit(hid: int, area: str | None, *owners: int, developer: bool = False) -> Unit:
    return Unit(
        household_id=hid,
        label=f"#{hid}",
        area=D(area) if area else None,
        owner_ids=frozenset(owners),
        developer_held=developer,
    )


def test_a_co_owned_unit_is_one_owner() -> None:
    roll = build_roll([unit(1, "75.50", 10, 11), unit(2, "88.20", 12)])
    assert len(roll.voters) == 2 and roll.complete
    assert roll.voters[0].owner_ids == {10, 11} and roll.voters[0].area == D("75.50")


def test_one_buyer_of_several_units_counts_once_with_all_their_area() -> None:
    roll = build_roll([unit(1, "88.20", 10), unit(2, "88.20", 10), unit(3, "75.50", 12)])
    assert len(roll.voters) == 2
    assert roll.voters[0].area == D("176.40") and len(roll.voters[0].units) == 2
    assert roll.total_area == D("251.90")


def test_the_developers_units_together_count_once() -> None:
    roll = build_roll([unit(1, "120.35", developer=True), unit(2, "96.15", developer=True), unit(3, "75.50", 12)])
    assert len(roll.voters) == 2
    developer = [v for v in roll.voters if v.is_developer]
    assert len(developer) == 1 and developer[0].area == D("216.50")


def test_co_owners_chained_across_units_are_never_counted_twice() -> None:
    # A+B own unit 1, B+C own unit 2: B would be counted in both; the roll keeps them as one owner.
    roll = build_roll([unit(1, "50", 1, 2), unit(2, "60", 2, 3), unit(3, "70", 4)])
    assert len(roll.voters) == 2
    assert roll.voters[0].owner_ids == {1, 2, 3} and roll.voters[0].area == D("110")


def test_units_without_area_or_owner_make_the_roll_incomplete() -> None:
    roll = build_roll([unit(1, None, 10), unit(2, "75", developer=False), unit(3, "80", 11)])
    assert not roll.complete
    assert [u.household_id for u in roll.missing_area] == [1]
    assert [u.household_id for u in roll.missing_owner] == [2]
    assert not build_roll([]).complete


def test_roll_order_does_not_depend_on_input_order() -> None:
    units = [unit(3, "70", 4), unit(1, "50", 1), unit(2, "60", 1), unit(4, "10", developer=True)]
    a, b = build_roll(units), build_roll(list(reversed(units)))
    assert [v.owner_ids for v in a.voters] == [v.owner_ids for v in b.voters]
    assert a.voters[-1].is_developer


# --- resolutions ----
def test_overdue_is_open_and_past_due() -> None:
    today = date(2026, 11, 22)
    assert domain.is_overdue("open", date(2026, 11, 21), today)
    assert domain.is_overdue("in_progress", date(2026, 11, 21), today)
    assert not domain.is_overdue("open", today, today)
    assert not domain.is_overdue("done", date(2026, 11, 1), today)
    assert domain.days_left(date(2026, 11, 20), today) == -2


def test_average_rating() -> None:
    assert domain.average([5, 4, 4]) == 4.3
    assert domain.average([]) is None
