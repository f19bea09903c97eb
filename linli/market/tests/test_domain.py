from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.market import domain
from linli.market.domain import Want


def test_merge_basket_adds_the_same_product() -> None:
    assert domain.merge_basket([Want(1, 2), Want(2, 1), Want(1, 3)]) == [Want(1, 5), Want(2, 1)]


@pytest.mark.parametrize(
    ("wants", "code"),
    [
        ([], "basket_empty"),
        ([Want(1, 0)], "quantity_invalid"),
        ([Want(1, 100)], "quantity_invalid"),
        ([Want(1, True)], "quantity_invalid"),
        ([Want(i, 1) for i in range(31)], "basket_too_large"),
        ([Want(1, 99)], None),
    ],
)
def test_basket_problem(wants: list[Want], code: str | None) -> None:
    assert domain.basket_problem(wants) == code


def test_one_choice_per_group() -> None:
    groups = {1: 7, 2: 7, 3: None, 4: 8}
    assert domain.choice_clashes(groups, [Want(1, 1), Want(3, 5), Want(4, 1)]) == []
    assert domain.choice_clashes(groups, [Want(1, 1), Want(2, 1)]) == [7]
    assert domain.choice_clashes(groups, [Want(4, 2)]) == [8]


def test_period_start() -> None:
    thursday = date(2026, 11, 19)
    assert domain.period_start("day", thursday) == thursday
    assert domain.period_start("week", thursday) == date(2026, 11, 16)
    assert domain.period_start("month", thursday) == date(2026, 11, 1)
    assert domain.period_start("year", thursday) == date(2026, 1, 1)
    assert domain.period_start("ever", thursday) is None
    with pytest.raises(ValueError):
        domain.period_start("fortnight", thursday)


def test_limit_room() -> None:
    assert domain.limit_room(None, 99) is None
    assert domain.limit_room(2, 1) == 1
    assert domain.limit_room(2, 5) == 0


def test_available_on() -> None:
    assert domain.available_on(date(2026, 5, 1), None, None)
    assert not domain.available_on(date(2026, 5, 1), date(2026, 5, 2), None)
    assert domain.available_on(date(2026, 5, 2), date(2026, 5, 2), date(2026, 5, 2))
    assert not domain.available_on(date(2026, 5, 3), None, date(2026, 5, 2))


def test_end_of_day_after_keeps_the_local_day() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 11, 22, 0, 30, tzinfo=shanghai)
    assert domain.end_of_day_after(start, 7) == datetime(2026, 11, 29, 23, 59, 59, tzinfo=shanghai)


@given(st.integers(min_value=0, max_value=50))
def test_codes_are_well_formed_and_survive_typing(_n: int) -> None:
    code = domain.new_voucher_code()
    assert domain.code_well_formed(code)
    printed = domain.format_code(code)
    assert domain.clean_code(f" {printed.lower()} ") == code
    assert domain.clean_code(domain.VOUCHER_QR_PREFIX + code) == code


def test_malformed_codes() -> None:
    assert not domain.code_well_formed("ABC")
    assert not domain.code_well_formed("O0O0O0O0")  # look-alikes are not in the alphabet
    assert not domain.code_well_formed("")


def test_variance_totals() -> None:
    lines = [
        domain.Variance(1, expected=10, counted=8, price=15),  # two bags of rice short: 30 points
        domain.Variance(2, expected=5, counted=6, price=3),  # one soy sauce over: 3 points
        domain.Variance(3, expected=4, counted=4, price=6),
    ]
    assert domain.variance_totals(lines) == {
        "products_off": 2,
        "short_units": 2,
        "over_units": 1,
        "short_points": 30,
        "over_points": 3,
    }
