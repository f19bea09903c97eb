"""The reports on a whole street (issue 8 part 3): one community's monthly disclosure under 1 s, the street roll-up of
55 communities under 10 s, on 750,000 residents and 20 million transfers (PostgreSQL).

    bash scripts/with-postgres.sh .venv/bin/python bench/reports_scale.py             # full size: ~15-25 min
    bash scripts/with-postgres.sh .venv/bin/python bench/reports_scale.py --small     # the test size, seconds

Builds the street with bench/street_generate.py (same options) in a database of its own, then, warm (median of
--repeat calls after one untimed call):
- month_figures: figures.month_figures of the busiest community-month (the last closed one) straight from the source
  tables, nothing stored (cold in the sense of no CommunityMonth row), plus the five slowest SQL statements of one call
  with their EXPLAIN ANALYZE on stderr;
- publish: services.disclosure_publish of that month once (it seals the ledger month first, then counts and freezes);
- disclosure_page: GET /disclosure/<code>/<YYYY-MM>/ through the Django test client (the public notice page), when
  that page exists (its status is reported either way);
- store_all_months: services.month_store for every community × month, oldest first (what the monthly cron and
  `linli report refresh` cost) — timed once;
- street_rollup_warm: selectors.street_rollup for the last closed month with every month stored;
- street_rollup_cold: the same after deleting every stored month: the roll-up counts its columns for 55 communities
  (figures.street_figures) inside one call and stores nothing, so each of the runs is cold.
Targets: month figures and the page < 1 s, the roll-up < 10 s. JSON on stdout, progress on stderr.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench
import street_generate as street

TARGET_MONTH_S = 1.0
TARGET_ROLLUP_S = 10.0


def timed(fn: Callable[[], object], repeat: int, warmup: int = 1) -> dict[str, Any]:
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return {"median_ms": bench.ms(statistics.median(runs)), "max_ms": bench.ms(max(runs)), "runs": len(runs)}


class QueryLog:
    """Every SQL statement of a block with its time, to find the slow ones (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - t0, sql, params))

    def slowest(self, n: int = 5) -> list[tuple[float, str, Any]]:
        return sorted(self.queries, key=lambda q: -q[0])[:n]


def explain(sql: str, params: Any) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(str(r[0])[:240] for r in cursor.fetchall())  # id lists can be thousands long


def month_figures_case(community_id: int, month: Any, repeat: int) -> dict[str, Any]:
    from django.db import connection

    from linli.reports import figures

    result = timed(lambda: figures.month_figures(community_id, month), repeat)
    log = QueryLog()
    with connection.execute_wrapper(log):
        data = figures.month_figures(community_id, month)
    slow = log.slowest()
    result["queries"] = len(log.queries)
    result["slowest_queries_ms"] = [[bench.ms(s), sql[:160]] for s, sql, _ in slow]
    for s, sql, params in slow[:3]:
        print(f"\n--- {bench.ms(s)} ms: {sql[:300]}\n{explain(sql, params)}", file=sys.stderr)
    result["facts"] = {
        "transfers": data["points"]["transfers"],
        "volunteers": data["volunteers"],
        "earned": data["points"]["earned"],
        "spent": data["points"]["spent"],
        "redemptions": data["market"]["redemptions"],
        "orders_received": data["orders"]["received"],
        "residents": data["residents"],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    street.add_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per warm case")
    args = parser.parse_args()
    bench.boot("scale")
    from django.db import connection
    from django.test import Client

    from linli.org.access import actor_for
    from linli.org.models import Community, Street, User
    from linli.reports import selectors, services
    from linli.reports.models import CommunityMonth

    if connection.vendor != "postgresql":
        raise SystemExit("reports_scale: PostgreSQL only (run it under scripts/with-postgres.sh)")
    info = bench.machine()
    built = street.generate(street.options_from(args))
    month = selectors.last_closed_month()
    ids = built["community_ids"]
    probe = Community.objects.get(pk=ids[len(ids) // 2])
    results: dict[str, Any] = {}
    print("reports_scale: month_figures", file=sys.stderr, flush=True)
    results["month_figures"] = month_figures_case(probe.pk, month, args.repeat)

    staff = actor_for(User.objects.get(pk=built["staff_id"]))
    t0 = time.perf_counter()
    published = services.disclosure_publish(
        actor=staff, community=probe, month=month, idempotency_key=f"scale-{month:%Y-%m}"
    )
    results["publish"] = {"once_ms": bench.ms(time.perf_counter() - t0), "revision": published.disclosure.revision}
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    url = f"/disclosure/{probe.code}/{month:%Y-%m}/"
    status = client.get(url).status_code
    results["disclosure_page"] = {"url": url, "status": status}
    if status == 200:
        results["disclosure_page"] |= timed(lambda: client.get(url), args.repeat)

    print("reports_scale: storing every month", file=sys.stderr, flush=True)
    comms = list(Community.objects.filter(pk__in=ids).order_by("pk"))
    months = [m for m in selectors.history(comms[0].pk) if services.month_is_over(m)]
    bar = street.Progress("store all months", len(comms) * len(months), enabled=not args.quiet)
    t0 = time.perf_counter()
    for c in comms:
        for m in months:
            services.month_store(c.pk, m)
            bar.step()
    bar.close()
    stored_s = time.perf_counter() - t0
    results["store_all_months"] = {
        "months": len(comms) * len(months),
        "total_s": round(stored_s, 2),
        "per_month_ms": bench.ms(stored_s / max(1, len(comms) * len(months))),
    }

    admin = actor_for(User.objects.get(pk=built["street_admin_id"]))
    the_street = Street.objects.get(pk=built["street_id"])
    rollup = selectors.street_rollup(admin, the_street, month=month)
    ranked = len([r for r in rollup.rows if r.rank is not None])
    results["street_rollup_warm"] = timed(lambda: selectors.street_rollup(admin, the_street, month=month), args.repeat)
    results["street_rollup_warm"]["communities_ranked"] = ranked

    def cold() -> None:
        CommunityMonth.objects.filter(community_id__in=ids).delete()
        t = time.perf_counter()
        selectors.street_rollup(admin, the_street, month=month)
        cold_runs.append(time.perf_counter() - t)

    cold_runs: list[float] = []
    for _ in range(max(1, min(3, args.repeat))):
        cold()
    results["street_rollup_cold"] = {
        "median_ms": bench.ms(statistics.median(cold_runs)),
        "max_ms": bench.ms(max(cold_runs)),
        "runs": len(cold_runs),
        "communities_counted": len(ids),
    }
    sizes = {
        t: street._sql(f"SELECT pg_size_pretty(pg_total_relation_size('{t}'))")[0][0]
        for t in ("ledger_transfer", "points_claim", "market_redemption", "market_redemptionline", "org_person")
    }
    met = {
        "month_figures": results["month_figures"]["median_ms"] < TARGET_MONTH_S * 1000,
        "disclosure_page": results["disclosure_page"].get("median_ms", float("inf")) < TARGET_MONTH_S * 1000
        if status == 200
        else None,
        "street_rollup_warm": results["street_rollup_warm"]["median_ms"] < TARGET_ROLLUP_S * 1000,
        "street_rollup_cold": results["street_rollup_cold"]["median_ms"] < TARGET_ROLLUP_S * 1000,
    }
    bench.emit(
        {
            "benchmark": "reports_scale",
            "what": "monthly figures, disclosure and street roll-up on a generated street (median, warm cache)",
            "database": connection.vendor,
            "machine": info,
            "month": f"{month:%Y-%m}",
            "probe_community": probe.code,
            "build": {k: v for k, v in built.items() if k not in ("community_ids",)},
            "table_sizes": sizes,
            "results": results,
            "targets_s": {"month": TARGET_MONTH_S, "rollup": TARGET_ROLLUP_S},
            "met": met,
        }
    )


if __name__ == "__main__":
    main()
