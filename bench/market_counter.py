"""Counter redemptions per second through the JSON API under 16 concurrent clients (issue 5, "Concurrency and speed").

The app is served by Django's threaded server (`python -m django runserver --noreload`, as `linli serve` runs it, see
docs/decisions/0006-serving.md) in a SEPARATE PROCESS on 127.0.0.1, on a throwaway database of this script's own
(bench/ledger_common.py: PostgreSQL when DATABASE_URL is set, else a SQLite file). The clients are threads of this
process, each with its own HTTP connections, so client and server never share a GIL.

The set-up: one community with a shelf of 12 goods (stock 100,000 each), N residents with plenty of points and 16
counter staff, each with an API token. Two phases of the same length, in the same run, against the same server:
(a) the reference: GET /api/v1/me with a staff token — authentication, the actor's grants, one small read;
(b) counter redemptions: POST /api/v1/market/redemptions, channel "counter", each with a fresh Idempotency-Key, a
    basket of 1-3 items for a resident of the client's own slice (no two clients serve the same resident at once).
Reported: requests per second, p50 and p99 latency of each, and the ratio b/a of the throughputs (target >= 0.4).
Afterwards the data is checked: every 201 is one completed redemption, the stock sold equals the lines, and every
person's balance equals the sum of their transfers.

    .venv/bin/python bench/market_counter.py [--seconds 15] [--clients 16] [--residents 400]
    bash scripts/with-postgres.sh .venv/bin/python bench/market_counter.py
    .venv/bin/python bench/market_counter.py --profile 300     # cProfile of 300 redemptions in one process (stderr)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_common as bench

TARGET = 0.4
PREFIX = "/api/v1"
PRODUCTS = 12
STOCK = 100_000  # the most product_create books at once (services.MAX_STOCK_CHANGE)
POINTS = 5_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the data -------------------------------------------------------------------------------------------------------


def build(residents: int, clients: int) -> dict[str, Any]:
    from linli.ledger import services as ledger
    from linli.market import services
    from linli.market.services import ProductData
    from linli.org.access import actor_for
    from linli.org.models import ApiToken, Role, RoleAssignment, User
    from linli.org.services import token_hash

    world = bench.make_people(residents, code="mkt")
    community = world["communities"][0]
    staff = world["staff"]
    act = actor_for(staff)
    products = [
        services.product_create(
            actor=act,
            community=community,
            data=ProductData(name=f"商品{i + 1}", price=1 + i % 5, unit="件", category="日用品"),
            stock=STOCK,
        )
        for i in range(PRODUCTS)
    ]
    for i, person in enumerate(world["people"]):
        ledger.award(person=person, amount=POINTS, actor=staff, idempotency_key=f"seed-{i}")
    tokens = []
    for i in range(clients):
        user = User.objects.create(phone=f"1361111{i:04d}", name=f"柜台{i}")
        RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=community)
        key = f"lnl_bench_counter_{i:03d}_{'k' * 24}"
        ApiToken.objects.create(user=user, name="柜台", prefix=key[:12], key_hash=token_hash(key))
        tokens.append(key)
    return {
        "community": community.pk,
        "people": [p.pk for p in world["people"]],
        "products": [p.pk for p in products],
        "tokens": tokens,
    }


def queries_per_request(data: dict[str, Any]) -> dict[str, int]:
    """SQL statements of one reference request and one redemption, through the whole stack (in this process)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"Authorization": f"Bearer {data['tokens'][0]}"}, SERVER_NAME="127.0.0.1")
    with CaptureQueriesContext(connection) as me:
        assert client.get(f"{PREFIX}/me").status_code == 200
    body = {
        "payer": {"person_id": data["people"][0]},
        "channel": "counter",
        "lines": [
            {"product_id": data["products"][0], "quantity": 1},
            {"product_id": data["products"][1], "quantity": 2},
        ],
    }
    with CaptureQueriesContext(connection) as buy:
        answer = client.post(
            f"{PREFIX}/market/redemptions",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Idempotency-Key": "bench-count-queries"},
        )
        assert answer.status_code == 201, answer.content
    return {"reference": len(me), "redemption": len(buy)}


# --- the server -----------------------------------------------------------------------------------------------------


class Server:
    """The app served in its own process on the bench database; stopped at the end whatever happens.

    "threaded" (the default): Django's ThreadedWSGIServer, the server class of runserver's threaded mode and of
    Django's live-server tests, which closes each request thread's database connections when the request ends.
    "runserver": `python -m django runserver --noreload` itself. On PostgreSQL it runs out of connections under this
    load: its server class does not close a request thread's connection, settings keep PostgreSQL connections for 60 s
    (CONN_MAX_AGE), and a thread per request leaves one behind each time until the garbage collector finds it
    ("remaining connection slots are reserved" after a few seconds at 16 clients; see docs/performance.md)."""

    def __init__(self, port: int, kind: str, log: str = "") -> None:
        self.port = port
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.settings", "DEBUG": "0", "PYTHONPATH": str(bench.ROOT)}
        if kind == "runserver":
            command = ["-m", "django", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]
        else:
            command = [str(Path(__file__).resolve()), "--serve", str(port)]
        self.proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=bench.ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            # runserver logs every request: silenced as behind a real front server, unless --server-log asks for it
            stderr=open(log, "ab") if log else subprocess.DEVNULL,  # noqa: SIM115  (the child owns it)
        )
        bench._cleanups.append(self.stop)

    def wait(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runserver exited with {self.proc.returncode}")
            try:
                status, _body = request(self.port, "GET", f"{PREFIX}/me", token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("runserver did not answer in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def serve(port: int) -> None:
    """The server process: Django's threaded WSGI server on 127.0.0.1:port until terminated."""
    sys.path.insert(0, str(bench.ROOT))
    import django

    django.setup()
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the standard library names it `format`
            pass

    class Server_(ThreadedWSGIServer):
        request_queue_size = 128  # 16 clients reconnect for every request: more than the default backlog of 5

    httpd = Server_(("127.0.0.1", port), Quiet, ipv6=False, allow_reuse_address=True)
    httpd.set_app(get_wsgi_application())
    httpd.serve_forever()


def request(port: int, method: str, path: str, token: str, body: Any = None, key: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json", "Idempotency-Key": key}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the load -------------------------------------------------------------------------------------------------------


def phase(port: int, data: dict[str, Any], kind: str, clients: int, seconds: float, run: str) -> dict[str, Any]:
    """`clients` threads send requests of `kind` back to back for `seconds`; throughput and latency."""
    people = data["people"]
    per = max(1, len(people) // clients)
    barrier = threading.Barrier(clients + 1)
    window = [0.0, 0.0]
    results: list[tuple[list[float], dict[int, int], int]] = [([], {}, 0)] * clients

    def client(index: int) -> None:
        rng = random.Random(index)
        token = data["tokens"][index]
        mine = people[index * per : (index + 1) * per] or people
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        failures = n = 0
        barrier.wait(timeout=60)
        while time.monotonic() < window[0]:
            time.sleep(0.0005)
        while True:
            t0 = time.monotonic()
            if t0 >= window[1]:
                break
            try:
                if kind == "reference":
                    status, _ = request(port, "GET", f"{PREFIX}/me", token)
                else:
                    picked = rng.sample(data["products"], rng.randint(1, 3))
                    body = {
                        "payer": {"person_id": mine[n % len(mine)]},
                        "channel": "counter",
                        "lines": [{"product_id": p, "quantity": rng.randint(1, 2)} for p in picked],
                    }
                    status, _ = request(port, "POST", f"{PREFIX}/market/redemptions", token, body, f"{run}-{index}-{n}")
            except OSError:
                failures += 1
                if failures > 1000:
                    break
                continue
            t1 = time.monotonic()
            n += 1
            if t1 <= window[1]:  # count only what finished inside the window
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
        results[index] = (latencies, statuses, failures)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start = time.monotonic() + 0.3
    window[0], window[1] = start, start + seconds
    barrier.wait(timeout=60)
    for t in threads:
        t.join(timeout=seconds + 90)
    latencies = sorted(x for r in results for x in r[0])
    statuses: dict[int, int] = {}
    for r in results:
        for status, count in r[1].items():
            statuses[status] = statuses.get(status, 0) + count
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "requests_ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "connection_failures": sum(r[2] for r in results),
        "seconds": seconds,
        "rps": round(ok / seconds, 1),
        "p50_ms": bench.ms(latencies[len(latencies) // 2]) if latencies else None,
        "p99_ms": bench.ms(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]) if latencies else None,
    }


def check(data: dict[str, Any], created: int) -> dict[str, Any]:
    """After the runs: redemptions, stock and points agree with each other and with the answers counted."""
    from django.db.models import Sum

    from linli.ledger.models import Account, Transfer
    from linli.market.models import Product, Redemption, RedemptionLine

    redemptions = Redemption.objects.filter(community_id=data["community"])
    sold = RedemptionLine.objects.filter(redemption__in=redemptions).aggregate(s=Sum("quantity"))["s"] or 0
    on_shelf = Product.objects.filter(pk__in=data["products"]).aggregate(s=Sum("stock"))["s"] or 0
    credits = dict(Transfer.objects.values_list("credit_id").annotate(s=Sum("amount")).order_by())
    debits = dict(Transfer.objects.values_list("debit_id").annotate(s=Sum("amount")).order_by())
    bad = sum(
        1
        for pk, balance in Account.objects.filter(constrained=True).values_list("id", "balance")
        if credits.get(pk, 0) - debits.get(pk, 0) != balance
    )
    return {
        # the warm-up's, the query count's and those answered after the window are in the database too
        "redemptions": redemptions.count(),
        "answered_201_in_window": created,
        "not_completed": redemptions.exclude(status="completed").count(),
        "stock_sold_matches_lines": PRODUCTS * STOCK - on_shelf == sold,
        "balances_not_matching": bad,
    }


def profile(data: dict[str, Any], count: int) -> None:
    """cProfile of `count` redemptions through the service in this process, hot spots to stderr."""
    import cProfile
    import pstats

    from linli.market import services
    from linli.market.domain import Want
    from linli.org.access import actor_for
    from linli.org.models import ApiToken, Person

    token = ApiToken.objects.select_related("user").filter(name="柜台").first()
    assert token is not None
    act = actor_for(token.user)
    people = list(Person.objects.filter(pk__in=data["people"][:50]))
    rng = random.Random(1)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        picked = rng.sample(data["products"], rng.randint(1, 3))
        services.redemption_create(
            actor=act,
            payer=people[i % len(people)],
            lines=[Want(p, 1) for p in picked],
            channel="counter",
            idempotency_key=f"profile-{i}",
        )
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0 if bench.QUICK else 15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--residents", type=int, default=160 if bench.QUICK else 400)
    parser.add_argument("--server", choices=["threaded", "runserver"], default="threaded")
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)  # the server process itself
    parser.add_argument("--out", default="", help="also write the JSON to this file")
    parser.add_argument("--server-log", default="", help="append the server's stderr to this file")
    parser.add_argument("--profile", type=int, default=0, help="cProfile N redemptions in-process instead")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    args.clients = max(1, min(args.clients, 64))
    args.seconds = max(1.0, min(args.seconds, 300.0))

    bench.boot("market_counter")
    from django.db import connections

    facts = bench.machine()
    t0 = time.perf_counter()
    data = build(max(args.residents, args.clients), args.clients)
    setup_seconds = round(time.perf_counter() - t0, 2)
    if args.profile:
        profile(data, min(args.profile, 100_000))
        return
    queries = queries_per_request(data)
    connections.close_all()  # the server process opens its own

    port = _free_port()
    server = Server(port, args.server, args.server_log)
    server.wait(data["tokens"][0])
    run = f"r{int(time.time())}"
    warm = min(2.0, args.seconds / 3)
    phase(port, data, "reference", args.clients, warm, f"{run}-warm")
    phase(port, data, "redemption", args.clients, warm, f"{run}-warm")
    reference = phase(port, data, "reference", args.clients, args.seconds, run)
    redemption = phase(port, data, "redemption", args.clients, args.seconds, run)
    server.stop()
    created = int(redemption["statuses"].get("201", 0))

    result = {
        "benchmark": "market_counter",
        "machine": facts,
        "setup_seconds": setup_seconds,
        "clients": args.clients,
        "residents": len(data["people"]),
        "server": f"{args.server} (Django's threaded WSGI server), a separate process",
        "queries_per_request": queries,
        "reference_get_me": reference,
        "counter_redemptions": redemption,
        "ratio_rps": bench.ratio(redemption["rps"], reference["rps"]),
        "target_ratio": TARGET,
        "check": check(data, created),
    }
    bench.emit(result)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
