"""Balance and passbook-page latency with a small and a very large ledger (issue 3, item 9d).

The same database is measured twice: first with --small transfers (10 thousand), then after growing it to --large
(10 million on PostgreSQL, 1 million on SQLite). Target: every large figure within 1.5× of the small one.

Generated history (in SQL, INSERT ... SELECT over a number series: going through Python would take hours):
- --people people (4,000) in --communities communities (4), each with a person account; system accounts per community.
- Transfer number g goes to a "heavy" probe resident when g % 50 == 0 (2 % of all history: 200 lines at 10k, 200,000
  at 10M), otherwise round-robin to the other people. Each person's history repeats award, award, redemption
  (10, 10, 15 points × a per-person multiplier 1..5): valid debit/credit pairs, never a negative balance, and a
  closed form for the running balances the passbook prints (`debit/credit_balance_after`, also the market's).
- `row_hash` and `request_hash` are placeholders: balance and passbook never read them (bench/ledger_verify.py times
  the verifier on correctly hashed rows). Account balances are then set with an UPDATE from aggregates over all
  transfers, checked against the closed form, and the tables are ANALYZEd — all before measuring.
- Growing to --large drops the transfer table's secondary indexes, foreign and unique keys first and rebuilds them
  after (the bulk-loading practice); every step is timed and reported.

Measured (median of --repeat calls of the selector itself, warm cache): selectors.balance on the probe's account,
selectors.passbook_page's first page, and a deep keyset page (before_id = the probe's transfer in the middle of its
history); balance and first page of a typical resident too.

    .venv/bin/python bench/ledger_reads.py [--small 10000] [--large 1000000]
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_reads.py [--large 10000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench

TARGET = 1.5
PROBE_EVERY = 50
CHUNK = 1_000_000


def _sql(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # None: no placeholders parsed, so % is the modulo operator
        return list(cursor.fetchall()) if cursor.description else []


class Generator:
    def __init__(self, world: dict[str, Any]) -> None:
        from django.db import connection

        from linli.ledger import services
        from linli.ledger.models import SystemAccount

        self.pg = connection.vendor == "postgresql"
        self.world = world
        people, accounts = world["people"], world["accounts"]
        self.others = len(people) - 1
        issuance = {c.pk: services.system_account(c, SystemAccount.ISSUANCE).pk for c in world["communities"]}
        market = {c.pk: services.system_account(c, SystemAccount.MARKET).pk for c in world["communities"]}
        donations = services.system_account(people[0].community_id, SystemAccount.DONATIONS).pk
        # the closed form of the market's running balance: per community, prefix sums of 15 × multiplier in idx order
        prefix: dict[int, int] = {}
        rows = []
        for idx, (p, acc) in enumerate(zip(people, accounts, strict=True)):
            mult = 1 + idx % 5
            if idx == 0:
                sink, cycle, pre = donations, 15 * mult, 15 * mult
            else:
                prefix[p.community_id] = prefix.get(p.community_id, 0) + 15 * mult
                sink, cycle, pre = market[p.community_id], 0, prefix[p.community_id]
            rows.append([idx, acc.pk, p.community_id, issuance[p.community_id], sink, mult, cycle, pre])
        for row in rows[1:]:
            row[6] = prefix[row[2]]  # a full redemption cycle adds the community's total
        _sql("DROP TABLE IF EXISTS bench_acc")
        _sql(
            "CREATE TABLE bench_acc (idx integer PRIMARY KEY, account_id bigint, community_id bigint, "
            "issuance_id bigint, sink_id bigint, mult bigint, sink_cycle bigint, sink_prefix bigint)"
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_acc VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        self.actor_id = world["staff"].pk
        self.generated = 0

    def insert(self, lo: int, hi: int) -> None:
        """Transfers number lo..hi-1, in one statement."""
        if self.pg:
            series = f"SELECT g::bigint AS g FROM generate_series({lo}, {hi - 1}) AS g"
            at = "timestamptz '2024-01-01 00:00:00+00' + g * interval '5 seconds'"
            fake_hash = "lpad(to_hex(g), 64, '0')"
        else:
            series = f"SELECT {lo} AS g UNION ALL SELECT g + 1 FROM series WHERE g < {hi - 1}"
            at = "strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', '+' || (g * 5) || ' seconds')"
            fake_hash = "printf('%064x', g)"
        if self.pg:
            _sql("SET work_mem = '512MB'")  # the ORDER BY g (ids in history order) sorts in memory
        p1 = self.others
        out = "(k % 3 = 2)"
        bal = "a.mult * (5 * (k / 3) + CASE k % 3 WHEN 0 THEN 10 WHEN 1 THEN 20 ELSE 5 END)"
        sql = f"""
            WITH RECURSIVE series(g) AS ({series}),
            pos AS (
                SELECT g,
                       CASE WHEN g % {PROBE_EVERY} = 0 THEN 0 ELSE 1 + (g - g / {PROBE_EVERY} - 1) % {p1} END AS idx,
                       CASE WHEN g % {PROBE_EVERY} = 0 THEN g / {PROBE_EVERY} - 1
                            ELSE (g - g / {PROBE_EVERY} - 1) / {p1} END AS k
                FROM series
            )
            INSERT INTO ledger_transfer (community_id, debit_id, credit_id, amount, kind, memo, ref_type, ref_id,
                reverses_id, actor_id, idempotency_key, request_hash, created_at, debit_balance_after,
                credit_balance_after, row_hash)
            SELECT a.community_id,
                   CASE WHEN {out} THEN a.account_id ELSE a.issuance_id END,
                   CASE WHEN {out} THEN a.sink_id ELSE a.account_id END,
                   CASE WHEN {out} THEN 15 * a.mult ELSE 10 * a.mult END,
                   CASE WHEN {out} THEN (CASE WHEN pos.idx = 0 THEN 'gift' ELSE 'redemption' END) ELSE 'award' END,
                   CASE WHEN {out} THEN (CASE WHEN pos.idx = 0 THEN '捐给帮扶基金' ELSE '积分超市兑换' END)
                        ELSE '志愿服务活动' END,
                   CASE WHEN {out} THEN 'redemption' ELSE 'activity' END,
                   g, NULL, {self.actor_id}, 'gen-' || g, '{"0" * 64}', {at},
                   CASE WHEN {out} THEN {bal} ELSE NULL END,
                   CASE WHEN {out} THEN (k / 3) * a.sink_cycle + a.sink_prefix ELSE {bal} END,
                   {fake_hash}
            FROM pos JOIN bench_acc a ON a.idx = pos.idx
            ORDER BY g
        """
        _sql(sql)
        self.generated = hi - 1

    def settle(self) -> None:
        """Constrained balances from aggregates over every transfer; then statistics."""
        _sql(
            "UPDATE ledger_account SET balance = COALESCE((SELECT SUM(amount) FROM ledger_transfer t "
            "WHERE t.credit_id = ledger_account.id), 0) - COALESCE((SELECT SUM(amount) FROM ledger_transfer t "
            "WHERE t.debit_id = ledger_account.id), 0) WHERE constrained"
        )
        _sql("ANALYZE")

    def check(self) -> dict[str, Any]:
        """Every constrained balance equals the running balance printed on its newest passbook line."""
        t = "ledger_transfer"
        bad = _sql(
            f"""SELECT COUNT(*) FROM ledger_account a WHERE a.constrained AND a.balance <> COALESCE(
                  CASE WHEN COALESCE((SELECT MAX(id) FROM {t} WHERE credit_id = a.id), 0)
                          > COALESCE((SELECT MAX(id) FROM {t} WHERE debit_id = a.id), 0)
                       THEN (SELECT credit_balance_after FROM {t} WHERE credit_id = a.id ORDER BY id DESC LIMIT 1)
                       ELSE (SELECT debit_balance_after FROM {t} WHERE debit_id = a.id ORDER BY id DESC LIMIT 1)
                  END, 0)"""
        )[0][0]
        negative = _sql("SELECT COUNT(*) FROM ledger_account WHERE constrained AND balance < 0")[0][0]
        return {"balances_not_matching_running_balance": int(bad), "negative": int(negative)}


class Indexes:
    """Drop the transfer table's secondary indexes, unique and foreign keys; put them back exactly as they were."""

    def __init__(self, pg: bool) -> None:
        self.pg = pg
        self.saved: list[str] = []

    def drop(self) -> None:
        if self.pg:
            cons = _sql(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = 'ledger_transfer'::regclass AND contype IN ('f', 'u') ORDER BY contype DESC"
            )
            idx = _sql(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = 'ledger_transfer'::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
            for name, _definition, _kind in cons:
                _sql(f'ALTER TABLE ledger_transfer DROP CONSTRAINT "{name}"')
            for name, definition in idx:
                _sql(f"DROP INDEX {name}")
                self.saved.append(definition)
            for name, definition, _kind in reversed(cons):
                self.saved.append(f'ALTER TABLE ledger_transfer ADD CONSTRAINT "{name}" {definition}')
        else:
            idx = _sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_transfer' "
                "AND sql IS NOT NULL"
            )
            for name, definition in idx:
                _sql(f'DROP INDEX "{name}"')
                self.saved.append(definition)

    def restore(self) -> None:
        if self.pg:
            _sql("SET maintenance_work_mem = '512MB'")
        for statement in self.saved:
            _sql(statement)
        self.saved = []


class Probe:
    """What is measured in one database: the heavy probe resident and a typical one."""

    def __init__(self, world: dict[str, Any], generated: int) -> None:
        from linli.ledger.models import Account, Transfer

        probe = Account.objects.get(pk=world["accounts"][0].pk)
        typical = Account.objects.get(pk=world["accounts"][1].pk)
        probe_lines = generated // PROBE_EVERY
        middle = PROBE_EVERY * max(1, probe_lines // 2)
        self.deep_id = Transfer.objects.get(community_id=probe.community_id, idempotency_key=f"gen-{middle}").pk
        self.probe, self.typical = probe, typical
        self.facts: dict[str, Any] = {
            "transfers": Transfer.objects.count(),
            "probe_history": probe_lines,
            "typical_history": Transfer.objects.filter(credit=typical).count()
            + Transfer.objects.filter(debit=typical).count(),
            "deep_page_before_id": self.deep_id,
        }

    def cases(self) -> dict[str, Callable[[], object]]:
        from linli.ledger import selectors

        probe, typical, deep_id = self.probe, self.typical, self.deep_id
        assert len(selectors.passbook_page(probe, before_id=deep_id)) == 20
        self.facts["lines"] = {
            "probe_passbook_first_page": len(selectors.passbook_page(probe)),
            "probe_passbook_deep_page": len(selectors.passbook_page(probe, before_id=deep_id)),
            "typical_passbook_first_page": len(selectors.passbook_page(typical)),
        }
        return {
            "probe_balance": lambda: selectors.balance(probe),
            "probe_passbook_first_page": lambda: selectors.passbook_page(probe),
            "probe_passbook_deep_page": lambda: selectors.passbook_page(probe, before_id=deep_id),
            "typical_balance": lambda: selectors.balance(typical),
            "typical_passbook_first_page": lambda: selectors.passbook_page(typical),
        }


def grow(gen: Generator, upto: int, drop_indexes: bool) -> dict[str, float]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    indexes = Indexes(gen.pg)
    if drop_indexes:
        indexes.drop()
    timings["drop_indexes_s"] = round(time.perf_counter() - t0, 2)
    from django.db import connection

    if not gen.pg:
        _sql("PRAGMA foreign_keys = OFF")
    t0 = time.perf_counter()
    lo = gen.generated + 1
    while lo <= upto:
        hi = min(upto + 1, lo + CHUNK)
        gen.insert(lo, hi)
        print(f"ledger_reads: {hi - 1:,} transfers ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        lo = hi
    timings["insert_s"] = round(time.perf_counter() - t0, 2)
    if not gen.pg:
        _sql("PRAGMA foreign_keys = ON")
        bad_fk = _sql("PRAGMA foreign_key_check(ledger_transfer)")
        assert not bad_fk, bad_fk[:5]
    t0 = time.perf_counter()
    indexes.restore()
    timings["rebuild_indexes_and_keys_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    gen.settle()
    timings["balances_and_analyze_s"] = round(time.perf_counter() - t0, 2)
    connection.close()
    return timings


def build(label: str, transfers: int, args: argparse.Namespace, drop_indexes: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    world = bench.make_people(args.people, communities=args.communities)
    gen = Generator(world)
    timings = grow(gen, min(transfers, args.small), drop_indexes=False)
    if transfers > args.small:
        timings = grow(gen, transfers, drop_indexes=drop_indexes)
    timings["total_s"] = round(time.perf_counter() - t0, 2)
    print(f"ledger_reads: {label} database built in {timings['total_s']} s", file=sys.stderr, flush=True)
    return {"world": world, "transfers": transfers, "build": timings, "check": gen.check()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=0, help="default: 10M on PostgreSQL, 1M on SQLite (quick: 200k)")
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--communities", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=60 if bench.QUICK else 300, help="calls per case and size")
    parser.add_argument("--rounds", type=int, default=4 if bench.QUICK else 10, help="alternations small/large")
    args = parser.parse_args()
    bench.boot("reads")
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    large = args.large or (200_000 if bench.QUICK else 10_000_000 if connection.vendor == "postgresql" else 1_000_000)
    info = bench.machine()
    names = {"large": str(settings.DATABASES["default"]["NAME"]), "small": bench.extra_database("small")}
    started = time.perf_counter()
    built = {"large": build("large", large, args, drop_indexes=True)}
    if connection.vendor == "postgresql":
        built["large"]["table_size"] = _sql("SELECT pg_size_pretty(pg_total_relation_size('ledger_transfer'))")[0][0]
    else:
        built["large"]["table_size"] = f"{Path(names['large']).stat().st_size / 2**20:.0f} MB (file)"
    bench.use_database(names["small"])
    call_command("migrate", verbosity=0)
    built["small"] = build("small", args.small, args, drop_indexes=False)
    generation_s = round(time.perf_counter() - started, 1)
    # measure in alternation, so that load from other programs on the machine falls on both sizes alike
    collected: dict[str, dict[str, list[float]]] = {"small": {}, "large": {}}
    facts: dict[str, Any] = {}
    per_round = max(1, args.repeat // args.rounds)
    for _ in range(args.rounds):
        for label in ("small", "large"):
            bench.use_database(names[label])
            probe = Probe(built[label]["world"], built[label]["transfers"])
            facts[label] = probe.facts
            for name, fn in probe.cases().items():
                collected[label].setdefault(name, []).extend(bench.samples(fn, per_round))
    results = {
        label: {**facts[label], **{name: bench.summary(s) for name, s in collected[label].items()}}
        for label in collected
    }
    ratios = {
        name: bench.ratio(results["large"][name]["median_ms"], results["small"][name]["median_ms"])
        for name in collected["small"]
    }
    # a page is judged only against a page of the same length: a typical resident has ~3 lines in a 10k ledger
    # but a full page of 20 in a large one, which costs more to render whatever the size of the table
    lines = {label: facts[label]["lines"] for label in facts}
    judged = [n for n in ratios if lines["small"].get(n) == lines["large"].get(n)]
    bench.emit(
        {
            "benchmark": "ledger_reads",
            "what": "selectors.balance / selectors.passbook_page latency, small vs large ledger (median, warm cache, "
            "sizes measured in alternation)",
            "database": connection.vendor,
            "machine": info,
            "people": args.people,
            "communities": args.communities,
            **{
                label: {k: v for k, v in built[label].items() if k != "world"} | {"results": results[label]}
                for label in ("small", "large")
            },
            "generation_total_s": generation_s,
            "ratio_large_to_small": ratios,
            "target": TARGET,
            "judged": judged,
            "not_judged": {n: [lines["small"][n], lines["large"][n]] for n in ratios if n not in judged}
            | {"why": "lines on the page differ between sizes (small, large)"},
            "ratio_large_to_small_p10": {
                name: bench.ratio(results["large"][name]["p10_ms"], results["small"][name]["p10_ms"])
                for name in collected["small"]
            },
            "meets_target": all((ratios[n] or 0.0) <= TARGET for n in judged),
        }
    )


if __name__ == "__main__":
    main()
