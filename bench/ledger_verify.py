"""`linli ledger verify`: seconds per million transfers (issue 3, item 9e).

Builds a ledger of --transfers transfers (1 million; quick: 20,000) with CORRECT row hashes and running balances,
through the service layer itself (`services.transfer_post_batch`, batches of --batch legs, back-dated with `at=` over
six months), seals every complete month of every community (`sealing.ledger_seal`), then times the command an operator
runs, `linli ledger verify` (all communities: every row hash, running balance, account balance, roll-up and seal),
--runs times. The command must exit 0.

History: --people residents in 4 communities; batches go round the communities; per community the rounds repeat
award 10, award 10, redemption 15 (person → points market) for every resident, so no balance ever goes negative.

    .venv/bin/python bench/ledger_verify.py [--transfers 1000000]
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_verify.py

No reference: the figure is absolute (seconds per million transfers), with the build and sealing times beside it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transfers", type=int, default=20_000 if bench.QUICK else 1_000_000)
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--communities", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000, help="legs per transfer_post_batch")
    parser.add_argument("--runs", type=int, default=1 if bench.QUICK else 2)
    args = parser.parse_args()
    bench.boot("verify")
    from django.core.management import call_command
    from django.db import connection

    try:
        from linli.ledger import sealing
    except ImportError:
        bench.emit({"benchmark": "ledger_verify", "available": False, "why": "linli.ledger.sealing is missing"})
        return
    from linli.ledger import services
    from linli.ledger.models import SystemAccount, Transfer, TransferKind

    world = bench.make_people(args.people, communities=args.communities)
    info = bench.machine()
    comms = world["communities"]
    by_community: dict[int, list[Any]] = {c.pk: [] for c in comms}
    for acc in world["accounts"]:
        by_community[acc.community_id].append(acc)
    issuance = {c.pk: services.system_account(c, SystemAccount.ISSUANCE) for c in comms}
    market = {c.pk: services.system_account(c, SystemAccount.MARKET) for c in comms}
    # per community: which round of award, award, redemption comes next, and where in its people we are
    rounds = {c.pk: 0 for c in comms}
    offset = {c.pk: 0 for c in comms}
    start = datetime(2025, 1, 1, tzinfo=UTC)
    span = timedelta(days=181)  # Jan..Jun: six months to seal
    t0 = time.perf_counter()
    posted = n = 0
    while posted < args.transfers:
        c = comms[n % len(comms)]
        people = by_community[c.pk]
        size = min(args.batch, args.transfers - posted, len(people) - offset[c.pk])
        chunk = people[offset[c.pk] : offset[c.pk] + size]
        if rounds[c.pk] % 3 == 2:
            legs = [services.Leg(a, market[c.pk], 15, TransferKind.REDEMPTION, memo="积分超市兑换") for a in chunk]
        else:
            legs = [
                services.Leg(issuance[c.pk], a, 10, TransferKind.AWARD, memo="志愿服务活动", ref_type="activity")
                for a in chunk
            ]
        at = start + span * (posted / args.transfers)
        services.transfer_post_batch(community=c, legs=legs, actor=None, idempotency_key=f"gen-{n}", at=at)
        posted += size
        offset[c.pk] += size
        if offset[c.pk] >= len(people):
            offset[c.pk] = 0
            rounds[c.pk] += 1
        n += 1
        if n % 100 == 0:
            elapsed = time.perf_counter() - t0
            print(f"ledger_verify: {posted:,} transfers ({elapsed:.0f} s)", file=sys.stderr, flush=True)
    build_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    t0 = time.perf_counter()
    months = sorted({sealing.month_of(start + timedelta(days=d)) for d in range(0, 181)})
    last = sealing.month_of(start + span * ((args.transfers - 1) / args.transfers))
    sealed = 0
    for month in months:
        if month >= last:  # the month still being written is not sealed, as in real life
            continue
        for c in comms:
            sealing.ledger_seal(community=c, month=month, actor=None)
            sealed += 1
    seal_s = time.perf_counter() - t0

    total = Transfer.objects.count()
    timings = []
    output = ""
    status = 0
    for _ in range(args.runs):
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        try:
            call_command("ledger", "verify", stdout=out, stderr=err)
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        timings.append(time.perf_counter() - t0)
        output = (out.getvalue() + err.getvalue()).strip()
    best = min(timings)
    med = statistics.median(timings)
    bench.emit(
        {
            "benchmark": "ledger_verify",
            "available": True,
            "what": "`linli ledger verify` over all communities (hashes, running balances, balances, roll-ups, seals)",
            "database": connection.vendor,
            "machine": info,
            "transfers": total,
            "accounts": len(world["accounts"]) + len(comms) * len(SystemAccount.values),
            "seals": sealed,
            "build_seconds": round(build_s, 1),
            "build_postings_per_second": round(total / build_s),
            "seal_seconds": round(seal_s, 2),
            "verify_seconds": [round(t, 2) for t in timings],
            "verify_seconds_per_million": round(med / total * 1_000_000, 2),
            "verify_seconds_per_million_best": round(best / total * 1_000_000, 2),
            "verify_exit_status": status,
            "verify_output": output[-500:],
            "ok": status == 0,
        }
    )


if __name__ == "__main__":
    main()
