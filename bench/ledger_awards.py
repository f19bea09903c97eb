"""Single awards through the service layer, one at a time, with 1 and with 8 concurrent workers (issue 3, item 9a/9c).

Each award is `linli.ledger.services.award` (issuance → one person, its own idempotency key), exactly as a view or
another app calls it: look up the issuance and person accounts, the self-award check, the idempotency look-up, the
conditional balance UPDATE, the INSERT with its keyed row hash, in one transaction. Workers are processes (fork), each
with its own database connection, each awarding to its own slice of the people of ONE community — so the only
shared row is the community's issuance account, which awards never update (it is unconstrained).

Reference, measured in the same run against the same server with the same number of clients:
- PostgreSQL: pgbench's built-in TPC-B (`pgbench -i -s 8`, then `pgbench -c N -j N -T <seconds> -n`) on a database
  of its own beside ours; its transaction is 3 UPDATEs, a SELECT and an INSERT.
- SQLite: a raw `INSERT INTO t(...)` + `UPDATE acc SET balance = balance + ?` pair in one BEGIN IMMEDIATE
  transaction with Python's sqlite3 module, on a separate WAL file with the same pragmas linli uses.

    .venv/bin/python bench/ledger_awards.py [--seconds 20] [--workers 1,8]
    bash scripts/with-postgres.sh .venv/bin/python bench/ledger_awards.py
    .venv/bin/python bench/ledger_awards.py --profile 2000     # cProfile of 2000 awards in one process (stderr)

Ours and the reference take turns (--rounds, default 4, each --seconds/rounds long): on a shared machine the speed
drifts by a fifth within a minute, and alternating keeps both sides under the same drift.

Prints one JSON object: awards per second, the reference's transactions per second, and ours/reference (over all
rounds, and round by round); CPU milliseconds per award of the workers, of their PostgreSQL server processes and of
the whole machine, beside the machine's per pgbench transaction — where the time goes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench

TARGET = 0.5
MAX_PER_WORKER = 1_000_000  # a hard bound besides the clock
CTX = mp.get_context("fork")


# --- ours -----------------------------------------------------------------------------------------------------------


def _award_worker(
    index: int,
    person_ids: list[int],
    actor_id: int,
    run: str,
    ready: Any,
    go: Event,
    window: Any,
    out: Any,
) -> None:
    from django.db import connections

    from linli.ledger import services
    from linli.org.models import Person, User

    connections.close_all()  # never reuse the parent's connection: open our own
    people = list(Person.objects.filter(pk__in=person_ids).order_by("pk"))
    actor = User.objects.get(pk=actor_id)
    services.award(person=people[0], amount=1, actor=actor, idempotency_key=f"{run}-warm-{index}")
    backend = _backend_pid()
    ready.put(index)
    go.wait(120)
    start, stop = window[0], window[1]
    while time.monotonic() < start:
        time.sleep(0.0005)
    done = errors = 0
    latencies: list[float] = []
    cpu0, server0 = time.process_time(), _cpu_seconds(backend)
    while done < MAX_PER_WORKER:
        t0 = time.monotonic()
        if t0 >= stop:
            break
        try:
            services.award(
                person=people[done % len(people)],
                amount=5,
                actor=actor,
                idempotency_key=f"{run}-{index}-{done}",
                memo="基准奖励",
            )
        except Exception as exc:  # e.g. SQLite's "database is locked" under 8 writers: counted, not fatal
            errors += 1
            if errors == 1:
                print(f"worker {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
            if errors > 1000:
                break
            continue
        t1 = time.monotonic()
        if t1 <= stop:
            done += 1
            latencies.append(t1 - t0)
        else:
            break
    cpu = (time.process_time() - cpu0, _cpu_seconds(backend) - server0)
    connections.close_all()
    out.put((index, done, errors, latencies, cpu))


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores, not idle or waiting for I/O); 0 off Linux."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _backend_pid() -> int | None:
    """The PostgreSQL server process serving this worker's connection (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a local process has used so far (0 when it cannot be read: a remote server)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_ours(world: dict[str, Any], workers: int, seconds: float, run: str) -> dict[str, Any]:
    from django.db import connections

    community = world["communities"][0]
    ids = [p.pk for p in world["people"] if p.community_id == community.pk]
    per = max(1, len(ids) // workers)
    slices = [ids[i * per : (i + 1) * per] for i in range(workers)]
    connections.close_all()
    ready: Any = CTX.Queue()
    out: Any = CTX.Queue()
    go = CTX.Event()
    window = CTX.Array("d", [0.0, 0.0])
    procs = [
        CTX.Process(
            target=_award_worker,
            args=(i, slices[i], world["staff"].pk, run, ready, go, window, out),
            daemon=True,
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    start = time.monotonic() + 0.2
    window[0], window[1] = start, start + seconds
    go.set()
    time.sleep(max(0.0, start - time.monotonic()))
    busy = _machine_busy()
    time.sleep(max(0.0, start + seconds - time.monotonic()))
    busy = _machine_busy() - busy
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    return {
        "awards": sum(r[1] for r in results),
        "errors": sum(r[2] for r in results),
        "seconds": seconds,
        "latencies": [x for r in results for x in r[3]],
        "cpu": (sum(r[4][0] for r in results), sum(r[4][1] for r in results), busy),
    }


def summarise_ours(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure from the rounds: awards over their total time; CPU milliseconds per award — this process's workers
    (client), their PostgreSQL server processes (server), the whole machine while they ran (machine)."""
    done = sum(r["awards"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    latencies = sorted(x for r in rounds for x in r["latencies"])
    client, server, busy = (sum(r["cpu"][i] for r in rounds) for i in range(3))
    return {
        "awards": done,
        "errors": sum(r["errors"] for r in rounds),
        "seconds": seconds,
        "tps": round(done / seconds, 1),
        "tps_by_round": [round(r["awards"] / r["seconds"], 1) for r in rounds],
        "latency_median_ms": bench.ms(latencies[len(latencies) // 2]) if latencies else None,
        "latency_p95_ms": bench.ms(latencies[int(len(latencies) * 0.95)]) if latencies else None,
        "cpu_ms_per_award": {
            "client": bench.ms(client / done) if done else None,
            "server": bench.ms(server / done) if done and server else None,
            "machine": bench.ms(busy / done) if done and busy else None,
        },
    }


def summarise_reference(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    done = sum(r["transactions"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    busy = sum(r.get("busy", 0.0) for r in rounds)
    return {
        "tps": round(done / seconds, 1),
        "transactions": done,
        "tps_by_round": [round(r["transactions"] / r["seconds"], 1) for r in rounds],
        "machine_cpu_ms_per_transaction": bench.ms(busy / done) if done and busy else None,
    }


def check_ledger(world: dict[str, Any]) -> dict[str, Any]:
    """After the runs: every person's balance equals the sum of its transfers (nothing lost under concurrency)."""
    from django.db.models import Count, Sum

    from linli.ledger.models import Account, Transfer

    community = world["communities"][0]
    sums = dict(
        Transfer.objects.filter(community=community).values_list("credit_id").annotate(s=Sum("amount")).order_by()
    )
    bad = 0
    for acc_id, bal in Account.objects.filter(community=community, kind="person").values_list("id", "balance"):
        if sums.get(acc_id, 0) != bal:
            bad += 1
    total = Transfer.objects.filter(community=community).aggregate(n=Count("id"))["n"]
    return {"transfers": total, "accounts_checked": len(world["people"]), "balances_not_matching": bad}


# --- PostgreSQL reference: pgbench TPC-B ----------------------------------------------------------------------------


class PgBench:
    def __init__(self, scale: int) -> None:
        dsn = bench.pg_dsn()
        self.db = f"{dsn['dbname']}_pgbench"
        self.env = {**os.environ, "PGHOST": dsn["host"], "PGPORT": dsn["port"], "PGUSER": dsn["user"]}
        if dsn["password"]:
            self.env["PGPASSWORD"] = dsn["password"]
        self._psql(f'DROP DATABASE IF EXISTS "{self.db}"', f'CREATE DATABASE "{self.db}"')
        bench._cleanups.append(lambda: self._psql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'))
        t0 = time.perf_counter()
        self._pgbench(["-i", "-q", "-s", str(scale)])
        self.init_seconds = round(time.perf_counter() - t0, 2)

    def _psql(self, *statements: str) -> None:
        args = [f"{bench.PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]
        for sql in statements:
            args += ["-c", sql]
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=120)

    def _pgbench(self, args: list[str], timeout: float = 600) -> str:
        done = subprocess.run(
            [f"{bench.PGBIN}/pgbench", *args, self.db], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def run(self, clients: int, seconds: int) -> dict[str, Any]:
        busy = _machine_busy()
        text = self._pgbench(["-c", str(clients), "-j", str(clients), "-T", str(seconds), "-n"], seconds + 120)
        busy = _machine_busy() - busy
        count = re.search(r"number of transactions actually processed: (\d+)", text)
        if not count:
            raise RuntimeError(f"cannot read pgbench's transaction count from: {text[-1000:]}")
        return {"transactions": int(count.group(1)), "seconds": seconds, "busy": busy}


# --- SQLite reference: raw INSERT + UPDATE with the sqlite3 module --------------------------------------------------


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _sqlite_worker(index: int, path: str, accounts: list[int], ready: Any, go: Event, window: Any, out: Any) -> None:
    conn = _sqlite_connect(path)
    ready.put(index)
    go.wait(120)
    start, stop = window[0], window[1]
    while time.monotonic() < start:
        time.sleep(0.0005)
    done = 0
    while done < MAX_PER_WORKER and time.monotonic() < stop:
        acc = accounts[done % len(accounts)]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO t(account, amount, kind, memo, key, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (acc, 5, "award", "基准奖励", f"{index}-{done}", time.time()),
        )
        conn.execute("UPDATE acc SET balance = balance + ? WHERE id = ?", (5, acc))
        conn.execute("COMMIT")
        if time.monotonic() <= stop:
            done += 1
    conn.close()
    out.put((index, done))


class SqliteRaw:
    def __init__(self, accounts: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="linli-bench-sqlite-ref-")
        bench._cleanups.append(lambda: __import__("shutil").rmtree(self.dir, ignore_errors=True))
        self.path = os.path.join(self.dir, "ref.sqlite3")
        self.accounts = accounts
        conn = _sqlite_connect(self.path)
        conn.execute("CREATE TABLE acc (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, amount INTEGER NOT NULL, "
            "kind TEXT NOT NULL, memo TEXT NOT NULL, key TEXT NOT NULL, created_at REAL NOT NULL)"
        )
        conn.executemany("INSERT INTO acc(id, balance) VALUES (?, 0)", [(i,) for i in range(1, accounts + 1)])
        conn.close()

    def run(self, workers: int, seconds: float) -> dict[str, Any]:
        ids = list(range(1, self.accounts + 1))
        per = max(1, len(ids) // workers)
        ready: Any = CTX.Queue()
        out: Any = CTX.Queue()
        go = CTX.Event()
        window = CTX.Array("d", [0.0, 0.0])
        procs = [
            CTX.Process(
                target=_sqlite_worker,
                args=(i, self.path, ids[i * per : (i + 1) * per], ready, go, window, out),
                daemon=True,
            )
            for i in range(workers)
        ]
        for p in procs:
            p.start()
        for _ in procs:
            ready.get(timeout=60)
        start = time.monotonic() + 0.2
        window[0], window[1] = start, start + seconds
        go.set()
        done = sum(out.get(timeout=seconds + 120)[1] for _ in procs)
        for p in procs:
            p.join(30)
        return {"transactions": done, "seconds": seconds}


# --- profile --------------------------------------------------------------------------------------------------------


def profile(world: dict[str, Any], count: int) -> dict[str, Any]:
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.ledger import services

    people = [p for p in world["people"] if p.community_id == world["communities"][0].pk]
    actor = world["staff"]
    with CaptureQueriesContext(connection) as captured:
        services.award(person=people[0], amount=1, actor=actor, idempotency_key="profile-queries")
    queries = [q["sql"][:200] for q in captured.captured_queries]
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for n in range(count):
        services.award(person=people[n % len(people)], amount=5, actor=actor, idempotency_key=f"profile-{n}")
    prof.disable()
    elapsed = time.perf_counter() - t0
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    print(buf.getvalue(), file=sys.stderr)
    return {
        "awards": count,
        "seconds_under_profiler": round(elapsed, 2),
        "queries_per_award": len(queries),
        "queries": queries,
    }


# --- main -----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4 if bench.QUICK else 20, help="time of each side, all rounds")
    parser.add_argument("--workers", default="1,8", help="comma-separated client counts")
    parser.add_argument("--rounds", type=int, default=2 if bench.QUICK else 4, help="turns of ours then the reference")
    parser.add_argument("--people", type=int, default=4000, help="people in the community awarded to")
    parser.add_argument("--scale", type=int, default=8, help="pgbench -i -s (PostgreSQL reference)")
    parser.add_argument("--profile", type=int, default=0, help="instead: cProfile this many awards in one process")
    args = parser.parse_args()
    bench.boot("awards")
    from django.db import connection

    world = bench.make_people(args.people, communities=2)
    info = bench.machine()
    if args.profile:
        bench.emit(
            {
                "benchmark": "ledger_awards_profile",
                "database": connection.vendor,
                "machine": info,
                "profile": profile(world, args.profile),
            }
        )
        return
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    is_pg = connection.vendor == "postgresql"
    if is_pg:
        pgbench = PgBench(args.scale)
        reference_what = (
            f"pgbench built-in TPC-B, scale {args.scale} (init {pgbench.init_seconds} s), same server, "
            "same client count, -j = -c, -n"
        )
    else:
        raw = SqliteRaw(args.people)
        reference_what = (
            "sqlite3 module: INSERT INTO t + UPDATE acc SET balance in one BEGIN IMMEDIATE transaction, WAL"
        )
    # ours and the reference take turns, `rounds` times each: the machine's speed drifts over a minute (a shared VM),
    # and the ratio of the totals is steadier than one long run of each
    slice_seconds = max(1, round(args.seconds / args.rounds))
    results: dict[str, Any] = {}
    for n in counts:
        ours_rounds, ref_rounds = [], []
        for r in range(args.rounds):
            ours_rounds.append(run_ours(world, n, slice_seconds, run=f"w{n}r{r}"))
            ref_rounds.append(pgbench.run(n, slice_seconds) if is_pg else raw.run(n, slice_seconds))
        ours, ref = summarise_ours(ours_rounds), summarise_reference(ref_rounds)
        ratio = bench.ratio(ours["tps"], ref["tps"])
        results[f"workers_{n}"] = {
            **ours,
            "reference_tps": ref["tps"],
            "reference": ref,
            "ratio": ratio,
            "ratio_by_round": [
                bench.ratio(a, b) for a, b in zip(ours["tps_by_round"], ref["tps_by_round"], strict=True)
            ],
            "target": TARGET,
            "meets_target": ratio is not None and ratio >= TARGET,
        }
    bench.emit(
        {
            "benchmark": "ledger_awards",
            "what": "services.award one at a time, distinct keys, distinct people of one community; workers: processes",
            "database": connection.vendor,
            "machine": info,
            "people": args.people,
            "reference": {"what": reference_what},
            "results": results,
            "check": check_ledger(world),
        }
    )


if __name__ == "__main__":
    main()
