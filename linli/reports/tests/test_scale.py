"""The street generator (bench/street_generate.py) in its small mode, and the reports on what it builds: the books hold,
the month's figures equal what plain SQL counts, the roll-up ranks every community, and the time bounds (scaled down
from issue 8's 1 s and 10 s at 55 communities) hold. The full-size figures are in docs/performance.md."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from linli.ledger import selectors as ledger_selectors
from linli.ledger.models import Account
from linli.org.access import actor_for
from linli.org.models import Person, Street, User
from linli.reports import figures, selectors, services
from linli.reports.models import CommunityMonth

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="PostgreSQL only: the generator writes millions of rows with generate_series and timestamptz "
        "arithmetic, which SQLite does not have",
    ),
]

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BENCH = Path(__file__).resolve().parents[3] / "bench"


def _generator() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("street_generate", BENCH / "street_generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["street_generate"] = module
    spec.loader.exec_module(module)
    return module


def _one(sql: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.fixture
def street() -> dict[str, Any]:
    gen = _generator()
    t0 = time.perf_counter()
    built = gen.generate(gen.Options.small(now=NOW, progress=False))
    built["generate_s"] = time.perf_counter() - t0
    return built


def test_the_small_street_is_what_was_asked(street: dict[str, Any]) -> None:
    assert len(street["community_ids"]) == 3
    assert street["counts"]["org_person"] == 600
    assert street["counts"]["ledger_transfer"] == 30_000
    # every award has its approved claim; every redemption its payment and at least one line
    assert street["counts"]["points_claim"] + street["counts"]["market_redemption"] == 30_000
    assert street["counts"]["market_redemptionline"] > street["counts"]["market_redemption"]
    assert street["months"] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    volunteers = street["volunteers_per_community"]
    assert volunteers == sorted(volunteers) and volunteers[-1] >= 5 * volunteers[0]  # "from 30 to 300", scaled
    assert street["generate_s"] < 30


def test_the_books_hold(street: dict[str, Any]) -> None:
    ids = street["community_ids"]
    marks = ",".join(["%s"] * len(ids))
    held = _one(f"SELECT SUM(balance) FROM ledger_account WHERE constrained AND community_id IN ({marks})", ids)
    issuance = Account.objects.filter(community_id__in=ids, constrained=False)
    assert issuance.count() == 3
    derived = sum(ledger_selectors.balance(a) for a in issuance)
    assert held > 0 and held + derived == 0  # the sum of all balances is zero
    # each stored balance is its accounts' transfers summed
    wrong = _one(
        f"""SELECT COUNT(*) FROM ledger_account a WHERE a.constrained AND a.community_id IN ({marks}) AND a.balance <>
              COALESCE((SELECT SUM(amount) FROM ledger_transfer WHERE credit_id = a.id), 0)
              - COALESCE((SELECT SUM(amount) FROM ledger_transfer WHERE debit_id = a.id), 0)""",
        ids,
    )
    assert wrong == 0
    # no resident's running balance ever went below zero, at any moment of the history
    lowest = _one(
        f"""SELECT MIN(running) FROM (
              SELECT SUM(x.delta) OVER (PARTITION BY x.account_id ORDER BY x.created_at, x.id) AS running FROM (
                SELECT credit_id AS account_id, amount AS delta, created_at, id FROM ledger_transfer
                WHERE community_id IN ({marks})
                UNION ALL
                SELECT debit_id, -amount, created_at, id FROM ledger_transfer WHERE community_id IN ({marks})) x
              JOIN ledger_account a ON a.id = x.account_id AND a.kind = 'person') y""",
        ids + ids,
    )
    assert lowest >= 0
    # awards point at their claims and the claims back at their awards
    unmatched = _one(
        f"""SELECT COUNT(*) FROM ledger_transfer t LEFT JOIN points_claim c ON c.id = t.ref_id
            WHERE t.community_id IN ({marks}) AND t.kind = 'award'
              AND (c.id IS NULL OR c.transfer_id <> t.id OR c.status <> 'approved' OR c.points <> t.amount)""",
        ids,
    )
    assert unmatched == 0


def test_a_month_counts_what_sql_counts(street: dict[str, Any]) -> None:
    community = street["community_ids"][1]
    month = selectors.last_closed_month(NOW)
    start, end = figures.window(month)
    t0 = time.perf_counter()
    f = figures.month_figures(community, month, now=NOW)
    took = time.perf_counter() - t0
    window = "community_id = %s AND created_at >= %s AND created_at < %s"
    args = [community, start, end]
    earned = _one(f"SELECT SUM(amount) FROM ledger_transfer WHERE {window} AND kind = 'award'", args)
    spent = _one(f"SELECT SUM(amount) FROM ledger_transfer WHERE {window} AND kind = 'redemption'", args)
    volunteers = _one(f"SELECT COUNT(DISTINCT credit_id) FROM ledger_transfer WHERE {window} AND kind = 'award'", args)
    awards = _one(f"SELECT COUNT(*) FROM ledger_transfer WHERE {window} AND kind = 'award'", args)
    redemptions = _one(f"SELECT COUNT(*) FROM market_redemption WHERE {window}", args)
    lines = _one(
        f"SELECT SUM(l.quantity * l.price) FROM market_redemptionline l JOIN market_redemption r "
        f"ON r.id = l.redemption_id WHERE r.{window.replace(' AND ', ' AND r.')}",
        args,
    )
    received = _one(
        "SELECT COUNT(*) FROM orders_workorder WHERE community_id = %s AND received_at >= %s AND received_at < %s",
        args,
    )
    meetings = _one(
        "SELECT COUNT(*) FROM council_meeting WHERE community_id = %s AND starts_at >= %s AND starts_at < %s", args
    )
    residents = _one("SELECT COUNT(*) FROM org_person WHERE community_id = %s", [community])
    held = _one("SELECT SUM(balance) FROM ledger_account WHERE community_id = %s AND kind <> 'system'", [community])
    p = f["points"]
    assert (p["earned"], p["spent"], p["transfers"]) == (earned, spent, awards + redemptions)
    assert p["circulation_end"] == held  # nothing moved after the month: what residents hold now
    assert p["circulation_end"] - p["circulation_start"] == earned - spent
    assert f["volunteers"] == volunteers == street["volunteers_per_community"][-1]
    assert sum(r["points"] for r in f["earned_by_rule"]) == earned
    assert sum(r["claims"] for r in f["earned_by_rule"]) == awards
    assert (f["market"]["redemptions"], f["market"]["points"]) == (redemptions, lines) and lines == spent
    assert f["orders"]["received"] == received == 12
    assert f["council"]["meetings"] == meetings == 2
    assert f["residents"] == residents == 200
    assert sum(g["volunteers"] for g in f["grids"].values()) == volunteers
    assert took < 1.0  # issue 8: one community's month under 1 s (here a tenth of the full size's transfers)


def test_the_street_rollup_ranks_every_community(street: dict[str, Any]) -> None:
    first, second, third = street["community_ids"]
    # the generator makes its communities alike; let some residents move away so that a ranking has something to rank
    for community, leaving in ((first, 10), (third, 20)):
        gone = Person.objects.filter(community_id=community).order_by("-id")[:leaving]
        Person.objects.filter(pk__in=list(gone.values_list("pk", flat=True))).update(is_active=False)
    admin = actor_for(User.objects.get(pk=street["street_admin_id"]))
    the_street = Street.objects.get(pk=street["street_id"])
    month = selectors.last_closed_month(NOW)
    t0 = time.perf_counter()
    cold = selectors.street_rollup(admin, the_street, month=month, now=NOW, metric="residents")  # 3 counted
    cold_s = time.perf_counter() - t0
    stored = CommunityMonth.objects.filter(community_id__in=street["community_ids"], month=month)
    assert not stored.exists()  # the roll-up counts its columns only; the refresh stores months
    for community in street["community_ids"]:
        services.month_store(community, month, now=NOW)
    assert stored.count() == 3
    t0 = time.perf_counter()
    warm = selectors.street_rollup(admin, the_street, month=month, now=NOW, metric="volunteer_share")
    warm_s = time.perf_counter() - t0
    assert [(r.community.pk, r.values["residents"], r.rank) for r in cold.rows] == [
        (second, 200, 1),
        (first, 190, 2),
        (third, 180, 3),
    ]
    # the same volunteers among fewer residents: a larger share
    assert [(r.community.pk, r.rank) for r in warm.rows] == [(third, 1), (first, 2), (second, 3)]
    assert warm.totals["residents"] == 570
    assert {r.community.pk: r.values for r in warm.rows} == {r.community.pk: r.values for r in cold.rows}
    assert warm.totals == cold.totals
    assert warm.totals["volunteers"] == 3 * street["volunteers_per_community"][-1]
    # 10 s for 55 communities, scaled to 3 (with room for a shared machine); stored months read in milliseconds
    assert cold_s < 3.0
    assert warm_s < 0.5
