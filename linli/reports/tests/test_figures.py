"""One month counted from the source tables, checked against figures worked out by hand (reports.testing)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from linli.ledger import sealing
from linli.org.access import actor_for
from linli.reports import figures, selectors, services
from linli.reports.models import CommunityMonth
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(world: SimpleNamespace) -> SimpleNamespace:
    return make_october(world)


def test_october_by_hand(october: SimpleNamespace) -> None:
    w = october
    with at(AFTER):
        f = figures.month_figures(w.A.pk, OCTOBER)
    p = f["points"]
    assert (p["earned"], p["spent"], p["expired"], p["corrected"]) == (28, 15, 0, 0)
    assert (p["circulation_start"], p["circulation_end"]) == (20, 33)
    assert p["circulation_end"] - p["circulation_start"] == p["net"] == 13
    assert f["volunteers"] == 3
    assert f["top_volunteers"] == [
        {"name": "王*英", "points": 17},
        {"name": "李*华", "points": 6},
        {"name": "王*伯", "points": 5},
    ]
    assert f["earned_by_area"] == [
        {"area": "志愿服务", "points": 15, "claims": 2},
        {"area": "文明帮创", "points": 8, "claims": 1},
    ]
    cleanup = next(r for r in f["earned_by_rule"] if r["rule"] == "环境清扫")
    assert (cleanup["points"], cleanup["claims"], cleanup["people"]) == (15, 2, 2)
    m = f["market"]
    assert (m["redemptions"], m["payers"], m["items"], m["points"]) == (1, 1, 1, 15)
    assert m["by_item"][0] == {"name": "大米（5斤装）", "quantity": 1, "points": 15}
    o = f["orders"]
    assert (o["received"], o["completed"], o["closed"], o["closed_on_time"]) == (2, 1, 1, 1)
    assert (o["completion_rate"], o["satisfaction_rate"]) == (50.0, 100.0)
    c = f["council"]
    assert (c["meetings"], c["problems"], c["solved"], c["resolutions_done"]) == (1, 1, 1, 1)
    grid = f["grids"][str(w.A1.pk)]
    assert (grid["volunteers"], grid["earned"], grid["received"], grid["meetings"]) == (2, 22, 2, 1)
    assert f["grids"][str(w.A2.pk)]["volunteers"] == 1
    assert f["complete"] is True and f["seal"] is None


def test_other_communities_and_months_stay_out(october: SimpleNamespace) -> None:
    with at(AFTER):
        b = figures.month_figures(october.B.pk, OCTOBER)
        september = figures.month_figures(october.A.pk, OCTOBER.replace(month=9))
    assert b["points"]["earned"] == 0 and b["volunteers"] == 0 and b["orders"]["received"] == 0
    assert september["points"]["earned"] == 20 and september["points"]["circulation_end"] == 20
    assert september["volunteers"] == 1 and september["market"]["redemptions"] == 0


def test_stored_months_chain_their_circulation(october: SimpleNamespace) -> None:
    with at(AFTER):
        sep = services.month_store(october.A.pk, OCTOBER.replace(month=9))
        oct_ = services.month_store(october.A.pk, OCTOBER)
    assert sep.figures["points"]["circulation_end"] == 20
    assert oct_.figures["points"]["circulation_start"] == 20 and oct_.figures["points"]["circulation_end"] == 33
    with at(AFTER), pytest.raises(services.MonthNotOver):
        services.month_store(october.A.pk, OCTOBER.replace(month=11))
    assert CommunityMonth.objects.count() == 2


def test_the_seal_shows_once_sealed(october: SimpleNamespace) -> None:
    with at(AFTER):
        seal = sealing.ledger_seal(community=october.A, month="2026-10", actor=None).seal
        f = figures.month_figures(october.A.pk, OCTOBER)
    assert f["seal"]["root"] == seal.merkle_root and f["seal"]["transfers"] == seal.transfer_count == 5


@pytest.mark.parametrize("month", [OCTOBER.replace(month=9), OCTOBER, OCTOBER.replace(month=11)])
def test_the_street_figures_are_the_month_figures_roll_up_columns(october: SimpleNamespace, month: date) -> None:
    """What the roll-up counts for a month nobody stored must be what the stored month would have said (November is
    still running at AFTER: its circulation is today's)."""
    w = october
    picks = selectors.STREET_METRICS
    for community in (w.A, w.B, w.C):
        with at(AFTER):
            full = figures.month_figures(community.pk, month)
            light = figures.street_figures(community.pk, month)
        assert {n: pick(light) for n, pick in picks.items()} == {n: pick(full) for n, pick in picks.items()}
        assert (light["complete"], light["month"]) == (full["complete"], full["month"])
    with at(AFTER):
        assert figures.street_figures(w.A.pk, OCTOBER)["volunteers"] == 3  # a person counted once, however often


def test_the_street_rollup_reads_stored_months_and_counts_the_rest_without_storing(october: SimpleNamespace) -> None:
    w = october
    admin = actor_for(w.street_admin)

    def columns() -> dict[str, dict[str, float | int | None]]:
        with at(AFTER):
            rollup = selectors.street_rollup(admin, w.S, month=OCTOBER, metric="earned")
        return {row.community.code: row.values for row in rollup.rows}

    cold = columns()
    assert cold[w.A.code]["earned"] == 28 and cold[w.A.code]["volunteers"] == 3
    assert not CommunityMonth.objects.exists()  # counted for the roll-up only; `linli report refresh` stores months
    with at(AFTER):
        stored = services.month_store(w.A.pk, OCTOBER)
        services.month_store(w.B.pk, OCTOBER)
    assert columns() == cold
    # the stored month is what is read: a figure changed in it shows (no recount behind it)
    stored.figures["volunteers"] = 99
    stored.save(update_fields=["figures"])
    assert columns()[w.A.code]["volunteers"] == 99
    # a month stored in an older shape is counted again
    stored.figures["version"] = figures.VERSION - 1
    stored.save(update_fields=["figures"])
    assert columns()[w.A.code]["volunteers"] == 3
