"""Run the benchmarks one after another against one database server and keep their JSON (what `make bench` runs).

    .venv/bin/python bench/ledger_run.py                               # SQLite (throwaway files)
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_run.py  # PostgreSQL (throwaway cluster)
    BENCH_QUICK=1 ... # small sizes and short runs; BENCH_ONLY=awards,batch ... # a subset

Each script's JSON goes to var/bench/<name>-<database>.json; a one-line summary per figure goes to stderr. The exit
status is non-zero when a script failed (not when a figure misses its target: that is reported, not enforced).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# org_lists first: it uses the server's default database, which must still be empty
SCRIPTS = ["org_lists", "ledger_awards", "ledger_batch", "ledger_reads", "ledger_verify"]
LIMIT_S = {"ledger_reads": 3600, "ledger_verify": 3600}


def summary(name: str, data: dict[str, Any]) -> list[str]:
    lines = []
    if name == "ledger_awards":
        for k, v in data["results"].items():
            lines.append(f"{k}: {v['tps']} awards/s, reference {v['reference_tps']}/s, ratio {v['ratio']}")
    elif name == "ledger_batch":
        lines.append(
            f"batch of 300: {data['postings_per_second']} postings/s (target {data['target']}), "
            f"reference {data['reference']['postings_per_second']}/s, ratio {data['ratio_to_reference']}"
        )
    elif name == "ledger_reads":
        lines.append(f"large/small: {data['ratio_large_to_small']} (target <= {data['target']})")
    elif name == "ledger_verify":
        lines.append(f"verify: {data.get('verify_seconds_per_million')} s per million, ok={data.get('ok')}")
    return lines


def main() -> int:
    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    only = {x.strip() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()}
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if env.get("BENCH_QUICK", "").strip().lower() not in ("", "0", "false", "no"):
        env.setdefault("BENCH_HOUSEHOLDS", "1000")  # org_lists: a smaller community, fewer requests
        env.setdefault("BENCH_REPEAT", "5")
    failed = []
    for name in SCRIPTS:
        if only and name not in only and name.removeprefix("ledger_") not in only:
            continue
        started = time.perf_counter()
        print(f"== bench {name} on {database} ==", file=sys.stderr, flush=True)
        try:
            done = subprocess.run(
                [sys.executable, str(ROOT / "bench" / f"{name}.py")],
                stdout=subprocess.PIPE,
                text=True,
                timeout=LIMIT_S.get(name, 900),
                check=False,
                env=env,
            )
        except subprocess.TimeoutExpired:
            failed.append(name)
            print(f"   {name}: timed out", file=sys.stderr)
            continue
        if done.returncode != 0:
            failed.append(name)
            print(f"   {name}: exit status {done.returncode}", file=sys.stderr)
            continue
        data = json.loads(done.stdout[done.stdout.index("{") :])
        target = out_dir / f"{name}-{database}.json"
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        for line in summary(name, data):
            print(f"   {line}", file=sys.stderr)
        print(f"   {target.relative_to(ROOT)} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
