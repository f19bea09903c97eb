"""The pure arithmetic: flows seen from the holders, rates, months, ranking, the digest."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from linli.reports import domain

H = domain.HOLDER


def test_flows_by_direction_and_kind() -> None:
    f = domain.flows(
        [
            ("award", "issuance", H, 100, 4),
            ("redemption", H, "market", 30, 2),
            ("refund", "market", H, 5, 1),
            ("expiry", H, "expiry", 7, 1),
            ("adjustment", "issuance", H, 3, 1),
            ("reversal", H, "issuance", 10, 1),
            ("gift", H, H, 8, 1),
            ("redemption", "vouchers", "market", 12, 1),  # a voucher settled: no holder's points move
        ]
    )
    assert (f.earned, f.spent, f.expired, f.corrected, f.between_holders) == (100, 25, 7, -7, 8)
    assert f.net == 100 - 30 + 5 - 7 + 3 - 10 == 61
    assert f.net == f.earned - f.spent - f.expired + f.corrected
    assert f.transfers == 12 and f.counts["redemption"] == 3
    assert f.as_dict()["inflow"] == {"adjustment": 3, "award": 100, "refund": 5}


KINDS = ["award", "redemption", "refund", "expiry", "adjustment", "reversal", "gift"]
SIDES = [H, "issuance", "market", "vouchers", "expiry"]


@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.sampled_from(SIDES), st.sampled_from(SIDES), st.integers(1, 10_000)),
        max_size=40,
    )
)
def test_circulation_moves_by_exactly_what_crossed_the_boundary(rows: list[tuple[str, str, str, int]]) -> None:
    rows = [r for r in rows if r[1] != r[2] or r[1] == H]
    f = domain.flows((k, d, c, p, 1) for k, d, c, p in rows)
    crossing_in = sum(p for _, d, c, p in rows if d != H and c == H)
    crossing_out = sum(p for _, d, c, p in rows if d == H and c != H)
    assert f.net == crossing_in - crossing_out
    assert f.transfers == len(rows)


def test_rate_is_none_without_a_whole() -> None:
    assert domain.rate(1, 3) == 33.3 and domain.rate(0, 5) == 0.0 and domain.rate(3, 0) is None


def test_months() -> None:
    assert domain.add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert domain.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert domain.months_between(date(2025, 11, 15), date(2026, 2, 1)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert domain.months_between(date(2026, 3, 1), date(2026, 2, 1)) == []
    assert domain.parse_month("2026-10") == domain.parse_month(" ２０２６－１０ ") == date(2026, 10, 1)
    for bad in ["2026-00", "2026-13", "1999-01", "2026-1", " ", "2026/10", "٢٠٢٦-10"]:
        assert domain.parse_month(bad) is None, bad


def test_rank_shares_places_on_ties_and_puts_missing_last() -> None:
    ranked = domain.rank([("a", 5), ("b", 9), ("c", None), ("d", 9), ("e", 1)])
    assert [(r.key, r.rank) for r in ranked] == [("b", 1), ("d", 1), ("a", 3), ("e", 4), ("c", None)]
    assert [r.key for r in domain.rank([("a", 5), ("b", 1)], descending=False)] == ["b", "a"]


def test_top_is_stable() -> None:
    assert domain.top({3: 10, 1: 10, 2: 20, 4: 1}, 3) == [(2, 20), (1, 10), (3, 10)]


def test_digest_ignores_key_order_but_not_values() -> None:
    a = {"month": "2026-10", "points": {"earned": 28, "spent": 15}}
    b = {"points": {"spent": 15, "earned": 28}, "month": "2026-10"}
    assert domain.digest(a) == domain.digest(b)
    assert domain.digest(a) != domain.digest({**a, "points": {"earned": 29, "spent": 15}})
