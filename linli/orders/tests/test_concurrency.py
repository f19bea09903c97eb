"""Work orders under real concurrency: real threads, each on its own connection, against a real database (a SQLite
file in WAL mode, or the throwaway PostgreSQL server); see linli/ledger/tests/test_concurrency.py for the harness.

The order row is locked for every step (services._locked), so staff clicking at once take turns: the first does the
step, the others find it done and get a clean 409 order_status. A client retrying with the same Idempotency-Key gets
the first result back, never a second order or a second step."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from linli.common.errors import DomainError
from linli.common.testing import client_for, make_world
from linli.ledger.tests.test_concurrency import assert_real_database, real_db, run_threads  # noqa: F401
from linli.orders import services
from linli.orders.models import Action, OrderEvent, Status, WorkOrder
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for
from linli.org.models import Role, RoleAssignment, User

N = 8


def _staff_of_a(w: Any, n: int) -> list[User]:
    staff = []
    for i in range(n):
        user = User.objects.create_user(phone=f"1360000{i:04d}", password="x", name=f"社区工作者{i}")
        RoleAssignment.objects.create(user=user, role=Role.COMMUNITY_STAFF, community=w.A)
        staff.append(user)
    return staff


def test_8_staff_accept_one_order_at_once(real_db: None) -> None:  # noqa: F811
    assert_real_database()
    w = make_orders(make_world())
    order = file_order(w)
    staff = _staff_of_a(w, N)

    results = run_threads(N, lambda i: services.order_accept(actor=actor_for(staff[i]), order=order).status)

    done = [value for kind, value in results if kind == "ok"]
    refused = [value for kind, value in results if kind == "error"]
    assert done == [Status.ACCEPTED]
    assert len(refused) == N - 1
    assert all(isinstance(e, DomainError) and (e.status, e.code) == (409, "order_status") for e in refused), refused
    assert OrderEvent.objects.filter(order=order, action=Action.ACCEPT).count() == 1
    assert WorkOrder.objects.get(pk=order.pk).status == Status.ACCEPTED


def test_8_identical_posts_with_one_key_file_one_order(real_db: None) -> None:  # noqa: F811
    assert_real_database()
    w = make_orders(make_world())
    clients = [client_for(w.resident_a1) for _ in range(N)]
    body = json.dumps(
        {"category": "property-noise", "description": "夜里停车道闸抬杆声音太大", "building_id": w.bA1.pk}
    )

    def post(i: int) -> tuple[int, Any]:
        response = clients[i].post(
            "/api/v1/orders", data=body, content_type="application/json", headers={"Idempotency-Key": "tap-tap"}
        )
        return response.status_code, response.json()

    results = run_threads(N, post)

    assert all(kind == "ok" for kind, _ in results), results
    answers = [value for _, value in results]
    assert sorted(status for status, _ in answers) == [200] * (N - 1) + [201], answers
    assert len({body["id"] for _, body in answers}) == 1
    assert WorkOrder.objects.count() == 1
    assert OrderEvent.objects.filter(action=Action.RECEIVE).count() == 1


def test_8_retries_of_one_step_act_once(real_db: None) -> None:  # noqa: F811
    """The same accept sent 8 times at once under one key: every answer is 200 with the accepted order."""
    assert_real_database()
    w = make_orders(make_world())
    order = file_order(w)
    clients: list[Client] = [client_for(w.staff_a) for _ in range(N)]

    def accept(i: int) -> tuple[int, str]:
        response = clients[i].post(
            f"/api/v1/orders/{order.pk}/accept",
            data="{}",
            content_type="application/json",
            headers={"Idempotency-Key": "accept-once"},
        )
        return response.status_code, response.json().get("status", response.json().get("code"))

    results = run_threads(N, accept)

    assert [value for _, value in results] == [(200, "accepted")] * N, results
    assert OrderEvent.objects.filter(order=order, action=Action.ACCEPT).count() == 1
