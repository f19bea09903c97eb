"""The points market under real concurrent HTTP requests, on a real database (issue 5, "Concurrency and speed").

A real threaded HTTP server (django.core.servers.basehttp.ThreadedWSGIServer around Django's WSGIHandler, as
`runserver` serves the app) listens on 127.0.0.1; every request runs in its own server thread on its own database
connection, closed when the request ends (the server's close_request). The database is a real one: the throwaway
PostgreSQL server's test database as is (transactional_db), or on SQLite a database FILE (WAL, BEGIN IMMEDIATE),
copied from the in-memory test database by the ledger's `real_db` fixture. Clients are real threads that start
together at a barrier and talk HTTP with urllib, each with its own resident's API token.

Everything is bounded: every HTTP call has a timeout, every join has one, and the server is shut down in `finally`.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection

from linli.common.testing import make_world
from linli.ledger import services as ledger
from linli.ledger.models import SystemAccount, Transfer
from linli.ledger.selectors import balance, person_balance
from linli.ledger.tests.test_concurrency import assert_books_hold, assert_real_database, real_db  # noqa: F401
from linli.market import services
from linli.market.models import Product, Redemption, RedemptionStatus, StockMovement
from linli.market.testing import make_market
from linli.org.access import actor_for
from linli.org.models import ApiToken, Person, User
from linli.org.services import token_hash

HTTP_TIMEOUT = 60.0
JOIN_TIMEOUT = 120.0


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the standard library names it `format`
        pass


class _Server(ThreadedWSGIServer):
    # a hundred clients connect at the same moment: a listen backlog of 5 would drop SYNs and add seconds
    request_queue_size = 256


@pytest.fixture
def live_root(real_db: None) -> Iterator[str]:  # noqa: F811
    """A real threaded HTTP server for the test's database, stopped when the test ends; its root URL. Each request
    thread opens and closes its own connection to the database file (never the test's shared in-memory one, which
    pytest-django's session-wide live_server hands to its threads, and which a later real_db test then closes under
    the main thread's feet)."""
    server = _Server(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server did not stop"


@pytest.fixture
def live_url(live_root: str) -> str:
    """The API root of live_root."""
    return f"{live_root}/api/v1"


def _residents(w: SimpleNamespace, n: int, points: int) -> list[tuple[Person, str]]:
    """n residents of community A, each with a login, an API token and `points` points."""
    made = []
    for i in range(n):
        user = User.objects.create(phone=f"1390000{i:04d}", name=f"居民{i}")
        person = Person.objects.create(community=w.A, name=f"居民{i}", user=user)
        key = f"lnl_http_race_{i:04d}_{'x' * 20}"
        ApiToken.objects.create(user=user, name="手机", prefix=key[:12], key_hash=token_hash(key))
        ledger.award(person=person, amount=points, actor=w.staff_a, idempotency_key=f"seed-{i}")
        made.append((person, key))
    return made


def _post(url: str, token: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def _race(n: int, send: Callable[[int], tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """n client threads start together at a barrier; their answers in thread order (status 0: the call failed)."""
    results: list[tuple[int, dict[str, Any]] | None] = [None] * n
    barrier = threading.Barrier(n)

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[i] = send(i)
        except Exception as exc:  # a refused connection or a timeout is a failure of the test, reported below
            results[i] = (0, {"error": repr(exc)})

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "clients still waiting after the timeout: a deadlock?"
    return [r if r is not None else (0, {"error": "no answer"}) for r in results]


def _rice_down_to(w: SimpleNamespace, left: int) -> None:
    services.stock_adjust(actor=actor_for(w.staff_a), product=w.rice, change=left - w.rice.stock, reason="测试")


def test_100_residents_race_for_the_last_5_bags_of_rice(live_url: str) -> None:
    assert_real_database()
    w = make_market(make_world())
    _rice_down_to(w, 5)
    residents = _residents(w, 100, 20)
    body = {"channel": "phone", "lines": [{"product_id": w.rice.pk, "quantity": 1}]}
    connection.close()  # the server's threads and the test's own reads use separate connections from here on

    def reserve(i: int) -> tuple[int, dict[str, Any]]:
        person, token = residents[i]
        return _post(f"{live_url}/market/redemptions", token, f"rice-{i}", body | {"payer": {"person_id": person.pk}})

    answers = _race(100, reserve)

    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] * 5 + [409] * 95, [a for a in answers if a[0] not in (201, 409)][:3]
    refused = [b for status, b in answers if status == 409]
    assert {b["code"] for b in refused} == {"out_of_stock"}
    assert all(b["message"] and b["details"]["left"] == 0 for b in refused)
    won = [b for status, b in answers if status == 201]
    assert all(b["status"] == "reserved" and b["total"] == 15 and b["balance_after"] == 5 for b in won)
    assert Product.objects.get(pk=w.rice.pk).stock == 0
    assert Redemption.objects.count() == 5
    assert set(Redemption.objects.values_list("status", flat=True)) == {RedemptionStatus.RESERVED}
    assert len(set(Redemption.objects.values_list("number", flat=True))) == 5
    assert StockMovement.objects.filter(product=w.rice, redemption__isnull=False).count() == 5
    winners = {b["person_id"] for b in won}
    balances = {person.pk: person_balance(person.pk) for person, _token in residents}
    assert sorted(balances.values()) == [5] * 5 + [20] * 95
    assert {pk for pk, balance in balances.items() if balance == 5} == winners
    market = ledger.system_account(w.A, SystemAccount.MARKET)
    assert balance(market) == 5 * 15
    assert Transfer.objects.filter(credit=market).count() == 5
    assert_books_hold()


def test_one_resident_double_submits_confirm_ten_times(live_url: str) -> None:
    assert_real_database()
    w = make_market(make_world())
    [(person, token)] = _residents(w, 1, 40)
    body = {
        "payer": {"person_id": person.pk},
        "channel": "phone",
        "lines": [{"product_id": w.rice.pk, "quantity": 1}, {"product_id": w.soy.pk, "quantity": 2}],
    }
    connection.close()

    answers = _race(10, lambda _i: _post(f"{live_url}/market/redemptions", token, "confirm-once", body))

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 9 + [201], answers[:3]  # the first one placed it, the nine others are replays
    assert len({b["id"] for _status, b in answers}) == 1
    redemption = Redemption.objects.get()
    assert redemption.total == 21 and redemption.person_id == person.pk
    assert person_balance(person.pk) == 40 - 21
    assert Transfer.objects.filter(debit__person=person).count() == 1
    assert Product.objects.get(pk=w.rice.pk).stock == 19 and Product.objects.get(pk=w.soy.pk).stock == 48
    assert_books_hold()


def test_staff_double_submit_a_new_item_eight_times(live_url: str) -> None:
    assert_real_database()
    w = make_market(make_world())
    token = "lnl_http_item_once_" + "x" * 20
    ApiToken.objects.create(user=w.staff_a, name="台账", prefix=token[:12], key_hash=token_hash(token))
    before = Product.objects.count()
    body = {"community_id": w.A.pk, "name": "挂面", "price": 4, "stock": 12}
    connection.close()

    answers = _race(8, lambda _i: _post(f"{live_url}/market/products", token, "noodles-once", body))

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * 7 + [201], answers[:3]  # one created it, the seven others answer with it
    assert len({b["id"] for _status, b in answers}) == 1
    assert Product.objects.count() == before + 1
    made = Product.objects.get(name="挂面")
    assert made.stock == 12 and StockMovement.objects.filter(product=made).count() == 1
