"""One batch award of 300 people: `services.transfer_post_batch`, postings per second (issue 3, item 9b).

An activity's points for 300 participants are posted as one atomic batch (one idempotency key, legs "<key>#n"),
the way a verified activity will post them. Each run posts a fresh batch to the same 300 people (new key); the figure
is the median over the runs, after one warm-up run. The actor is a community staff member, as in real use, so the
self-award guard runs for every leg; the same batch with no actor (`actor=None`, the guard skipped) is reported
beside it to show what that guard costs. Target on PostgreSQL: >= 20,000 postings/s; SQLite is reported.

    .venv/bin/python bench/ledger_batch.py [--runs 15] [--size 300]
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_batch.py
    .venv/bin/python bench/ledger_batch.py --profile 5      # cProfile of 5 batches (stderr)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
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

    figures: dict[str, Any] = {}
    for label, actor in (("with_actor", world["staff"]), ("without_actor", None)):
        batch(f"{label}-warm", actor)
        seconds = [batch(f"{label}-{n}", actor) for n in range(args.runs)]
        med = statistics.median(seconds)
        figures[label] = {
            "median_ms_per_batch": bench.ms(med),
            "min_ms": bench.ms(min(seconds)),
            "max_ms": bench.ms(max(seconds)),
            "postings_per_second": round(args.size / med),
        }
    ours = figures["with_actor"]["postings_per_second"]
    posted = Transfer.objects.filter(community=community).count()
    expected = 2 * (args.runs + 1) * args.size
    bench.emit(
        {
            "benchmark": "ledger_batch",
            "what": f"services.transfer_post_batch of {args.size} awards (issuance → {args.size} people), median",
            "database": connection.vendor,
            "machine": info,
            "runs": args.runs,
            "results": figures,
            "postings_per_second": ours,
            "target": TARGET if connection.vendor == "postgresql" else None,
            "ratio_to_target": bench.ratio(ours, TARGET),
            "meets_target": ours >= TARGET if connection.vendor == "postgresql" else None,
            "check": {"transfers": posted, "expected": expected, "ok": posted == expected},
        }
    )


if __name__ == "__main__":
    main()
