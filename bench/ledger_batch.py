"""One batch award of 300 people: `services.transfer_post_batch`, postings per second (issue 3, item 9b).

An activity's points for 300 participants are posted as one atomic batch (one idempotency key, legs "<key>#n"),
the way a verified activity will post them. Each run posts a fresh batch to the same 300 people (new key); the figure
is the median over the runs, after one warm-up run. The actor is a community staff member, as in real use, so the
self-award guard runs for every leg; the same batch with no actor (`actor=None`, the guard skipped) is reported
beside it to show what that guard costs. Target on PostgreSQL: >= 20,000 postings/s; SQLite is reported.

Reference, measured in the same run: the same database work with nothing of linli in between — on the bare DB-API
connection, one transaction with the same balance UPDATE and the same rows (made beforehand, placeholder hashes):
PostgreSQL reserves the ids and COPYs them as linli does, SQLite inserts them with executemany. The three take turns
batch by batch, so a slow minute of the machine falls on all of them; ours / reference is how much of the database's
own speed the service layer keeps, and the reference shows how fast the machine was when the target was (not) met.

    .venv/bin/python bench/ledger_batch.py [--runs 15] [--size 300]
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_batch.py
    .venv/bin/python bench/ledger_batch.py --profile 5      # cProfile of 5 batches (stderr)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench

TARGET = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5 if bench.QUICK else 15)
    parser.add_argument("--size", type=int, default=300, help="people (legs) per batch")
    parser.add_argument("--profile", type=int, default=0, help="instead: cProfile this many batches")
    args = parser.parse_args()
    bench.boot("batch")
    from django.db import connection

    from linli.ledger import services
    from linli.ledger.models import SystemAccount, Transfer, TransferKind

    world = bench.make_people(args.size, communities=1)
    info = bench.machine()
    community = world["communities"][0]
    issuance = services.system_account(community, SystemAccount.ISSUANCE)
    legs = [
        services.Leg(issuance, acc, 10, TransferKind.AWARD, memo="志愿服务活动", ref_type="activity", ref_id=1)
        for acc in world["accounts"]
    ]

    def batch(key: str, actor: Any) -> float:
        t0 = time.perf_counter()
        posted = services.transfer_post_batch(community=community, legs=legs, actor=actor, idempotency_key=key)
        elapsed = time.perf_counter() - t0
        assert len(posted) == len(legs)
        return elapsed

    if args.profile:
        import cProfile
        import pstats

        batch("warm", world["staff"])
        prof = cProfile.Profile()
        prof.enable()
        for n in range(args.profile):
            batch(f"profile-{n}", world["staff"])
        prof.disable()
        stats = pstats.Stats(prof, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(20)
        return

    raw = _reference(connection, [acc.id for acc in world["accounts"]], issuance.id, community.id)
    sides: dict[str, Any] = {
        "with_actor": lambda n: batch(f"with_actor-{n}", world["staff"]),
        "without_actor": lambda n: batch(f"without_actor-{n}", None),
        "reference": raw,
    }
    seconds: dict[str, list[float]] = {label: [] for label in sides}
    for n in range(-1, args.runs):  # -1: the warm-up of each side, not counted
        for label, side in sides.items():
            elapsed = side(n)
            if n >= 0:
                seconds[label].append(elapsed)
    figures: dict[str, Any] = {}
    for label, values in seconds.items():
        med = statistics.median(values)
        figures[label] = {
            "median_ms_per_batch": bench.ms(med),
            "min_ms": bench.ms(min(values)),
            "max_ms": bench.ms(max(values)),
            "postings_per_second": round(args.size / med),
        }
    pg = connection.vendor == "postgresql"
    ours = figures["with_actor"]["postings_per_second"]
    reference = figures["reference"]["postings_per_second"]
    posted = Transfer.objects.filter(community=community).count()
    expected = 3 * (args.runs + 1) * args.size
    bench.emit(
        {
            "benchmark": "ledger_batch",
            "what": f"services.transfer_post_batch of {args.size} awards (issuance → {args.size} people), median",
            "database": connection.vendor,
            "machine": info,
            "runs": args.runs,
            "results": figures,
            "reference": {
                "what": "the same UPDATE and rows on the bare DB-API connection in one transaction "
                + ("(ids reserved, binary COPY)" if pg else "(the INSERT row by row, executemany)"),
                "postings_per_second": reference,
            },
            "postings_per_second": ours,
            "ratio_to_reference": bench.ratio(ours, reference),
            "target": TARGET if connection.vendor == "postgresql" else None,
            "ratio_to_target": bench.ratio(ours, TARGET),
            "meets_target": ours >= TARGET if connection.vendor == "postgresql" else None,
            "check": {"transfers": posted, "expected": expected, "ok": posted == expected},
        }
    )


def _reference(connection: Any, people: list[int], issuance: int, community: int) -> Callable[[int], float]:
    """The floor: one batch's database work through the bare DB-API connection, rows made before the clock starts."""
    from linli.ledger import services

    columns = [str(f.column) for f in services._INSERT_FIELDS]
    size = len(people)
    update = (
        "UPDATE ledger_account SET balance = ledger_account.balance + v.column2 FROM {source} "
        "WHERE ledger_account.id = v.column1 AND ledger_account.constrained "
        "AND ledger_account.balance + v.column2 >= 0 "
        "RETURNING ledger_account.id, ledger_account.balance"
    )

    def rows(n: int) -> list[tuple[Any, ...]]:
        when = datetime.now(UTC)
        made = []
        for i, person in enumerate(people):
            values = {
                "community_id": community, "debit_id": issuance, "credit_id": person, "amount": 10, "kind": "award",
                "memo": "志愿服务活动", "ref_type": "activity", "ref_id": 1, "reverses_id": None, "actor_id": None,
                "idempotency_key": f"reference-{n}#{i}", "request_hash": "2:" + "0" * 62, "created_at": when,
                "debit_balance_after": None, "credit_balance_after": 0, "row_hash": "0" * 64,
            }  # fmt: skip
            made.append(tuple(values[c] for c in columns))
        return made

    if connection.vendor == "postgresql":
        pg = connection.connection
        copy = f"COPY ledger_transfer (id, {', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        types = ["int8", *services._pg_copy_types()]
        update_pg = update.format(source="unnest(%s::bigint[], %s::bigint[]) AS v(column1, column2)")

        def run_pg(n: int) -> float:
            made = rows(n)
            t0 = time.perf_counter()
            with pg.transaction(), pg.cursor() as cur, pg.cursor() as ids_cur:
                with pg.pipeline():
                    cur.execute(update_pg, [people, [10] * size])
                    ids_cur.execute(services._RESERVE_IDS, [size])
                    cur.fetchall()
                    ids = sorted(pk for (pk,) in ids_cur.fetchall())
                with cur.copy(copy) as cp:
                    cp.set_types(types)
                    for pk, row in zip(ids, made, strict=True):
                        cp.write_row((pk, *row))
            return time.perf_counter() - t0

        return run_pg

    db = connection.connection  # sqlite3, in autocommit (isolation_level None) as Django keeps it
    update_sqlite = update.format(source="(VALUES " + ", ".join(["(?, ?)"] * size) + ") AS v")
    insert = f"INSERT INTO ledger_transfer ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})"
    when_at = columns.index("created_at")

    def run_sqlite(n: int) -> float:
        text = connection.ops.adapt_datetimefield_value  # Django's own text form of the time
        made = [(*r[:when_at], text(r[when_at]), *r[when_at + 1 :]) for r in rows(n)]
        params = [x for person in people for x in (person, 10)]
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(update_sqlite, params).fetchall()
            db.executemany(insert, made)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return time.perf_counter() - t0

    return run_sqlite


if __name__ == "__main__":
    main()
