"""Every API operation × every role of the test world: allowed → 2xx, refused → 403/404, never 2xx, never 500.

MATRIX says, for each operation (method, path template as in the OpenAPI spec, without the /api/v1 prefix)
and each of the 11 users of `world.users` (linli/common/testing.py), whether that user may do it.
REQUESTS says which concrete request to send: always against objects in community A / grid A1 / building bA1,
so that the users of community B, street T, grid A2 and the merchant are *outside* the object's scope and must
be refused.

`test_matrix_is_complete` reads every operation from `api.get_openapi_schema()` and fails when one is missing:
a new endpoint cannot ship without saying who may call it. Later apps either add entries here or put a module
`linli/<app>/tests/test_api_permissions.py` with their own MATRIX and REQUESTS of the same shape next to their
code, and call `check_operation` from here in a parametrised test; the completeness test collects them all.

Every operation is also run with an API token instead of the session (operations whose spec does not list
TokenAuth must refuse a token with 401) and anonymously (always 401).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from linli.api import api
from linli.common.testing import USER_NAMES, client_for
from linli.org.models import ApiToken, Person
from linli.org.services import token_hash

PREFIX = "/api/v1"
USERS = USER_NAMES


def allow(*names: str) -> dict[str, bool]:
    unknown = set(names) - set(USERS)
    assert not unknown, unknown
    return {name: name in names for name in USERS}


Op = tuple[str, str]
Request = Callable[[Any], tuple[str, Any]]  # world -> (concrete path, JSON body or None)

EVERYONE = allow(*USERS)
# everyone who works or lives in community A (street S's admin included); B's and C's staff are outside
IN_COMMUNITY_A = allow(
    "street_admin",
    "staff_a",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "steward_a1",
    "auditor_a",
    "merchant_op_a",
    "resident_a1",
)
# who may read household hA1 / person pA1 (in building bA1 of grid A1)
READ_A1 = allow(
    "street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "auditor_a", "resident_a1"
)
# who may change households and people of grid A1
MANAGE_A1 = allow("street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1")
STAFF_A = allow("street_admin", "staff_a")

MATRIX: dict[Op, dict[str, bool]] = {
    ("GET", "/me"): EVERYONE,
    ("GET", "/communities"): EVERYONE,  # a scoped list: what each one sees is in VISIBLE below
    ("GET", "/communities/{community_id}"): IN_COMMUNITY_A,
    ("GET", "/grids"): IN_COMMUNITY_A,  # ?community=A
    ("GET", "/compounds"): IN_COMMUNITY_A,  # ?community=A
    # places (grids, buildings) are readable by everyone who works or lives in their community; the households
    # and people inside them are not (VISIBLE below checks what each list then contains)
    ("GET", "/buildings"): IN_COMMUNITY_A,  # ?grid=A1
    ("GET", "/households"): IN_COMMUNITY_A,  # ?building=bA1
    ("POST", "/households"): MANAGE_A1,
    ("GET", "/households/{household_id}"): READ_A1,
    ("PATCH", "/households/{household_id}"): MANAGE_A1,
    ("POST", "/households/{household_id}/members"): MANAGE_A1,
    ("DELETE", "/households/{household_id}/members/{member_id}"): MANAGE_A1,
    ("GET", "/people"): IN_COMMUNITY_A,  # ?community=A
    ("POST", "/people"): MANAGE_A1,
    ("GET", "/people/{person_id}"): READ_A1,
    ("PATCH", "/people/{person_id}"): MANAGE_A1,
    ("GET", "/teams"): IN_COMMUNITY_A,  # ?community=A
    ("GET", "/merchants"): IN_COMMUNITY_A,  # ?community=A
    ("GET", "/partners"): IN_COMMUNITY_A,  # ?community=A
    ("GET", "/tokens"): EVERYONE,  # each sees the tokens they issued or hold
    ("POST", "/tokens"): STAFF_A,  # for grid_worker_a1
    ("POST", "/tokens/{token_id}/revoke"): STAFF_A,  # grid_worker_a1's token
}


def _unplaced_person(w: Any) -> Person:
    return Person.objects.create(community=w.A, name="新来的")


def _token_of_grid_worker(w: Any) -> ApiToken:
    key = "lnl_matrix_revoke_me"
    return ApiToken.objects.create(
        user=w.grid_worker_a1, name="巡查 app", prefix=key[:12], key_hash=token_hash(key), issued_by=w.staff_a
    )


REQUESTS: dict[Op, Request] = {
    ("GET", "/me"): lambda w: ("/me", None),
    ("GET", "/communities"): lambda w: ("/communities", None),
    ("GET", "/communities/{community_id}"): lambda w: (f"/communities/{w.A.id}", None),
    ("GET", "/grids"): lambda w: (f"/grids?community={w.A.id}", None),
    ("GET", "/compounds"): lambda w: (f"/compounds?community={w.A.id}", None),
    ("GET", "/buildings"): lambda w: (f"/buildings?grid={w.A1.id}", None),
    ("GET", "/households"): lambda w: (f"/households?building={w.bA1.id}", None),
    ("POST", "/households"): lambda w: ("/households", {"building_id": w.bA1.id, "room": "909"}),
    ("GET", "/households/{household_id}"): lambda w: (f"/households/{w.hA1.id}", None),
    ("PATCH", "/households/{household_id}"): lambda w: (f"/households/{w.hA1.id}", {"note": "改"}),
    ("POST", "/households/{household_id}/members"): lambda w: (
        f"/households/{w.hA1.id}/members",
        {"person_id": _unplaced_person(w).id, "relation": "tenant"},
    ),
    ("DELETE", "/households/{household_id}/members/{member_id}"): lambda w: (
        f"/households/{w.hA1.id}/members/{w.pA1b.memberships.get().id}",
        None,
    ),
    ("GET", "/people"): lambda w: (f"/people?community={w.A.id}", None),
    ("POST", "/people"): lambda w: ("/people", {"household_id": w.hA1.id, "name": "新住户"}),
    ("GET", "/people/{person_id}"): lambda w: (f"/people/{w.pA1.id}", None),
    ("PATCH", "/people/{person_id}"): lambda w: (f"/people/{w.pA1.id}", {"note": "改"}),
    ("GET", "/teams"): lambda w: (f"/teams?community={w.A.id}", None),
    ("GET", "/merchants"): lambda w: (f"/merchants?community={w.A.id}", None),
    ("GET", "/partners"): lambda w: (f"/partners?community={w.A.id}", None),
    ("GET", "/tokens"): lambda w: ("/tokens", None),
    ("POST", "/tokens"): lambda w: ("/tokens", {"user_id": w.grid_worker_a1.id, "name": "巡查 app"}),
    ("POST", "/tokens/{token_id}/revoke"): lambda w: (f"/tokens/{_token_of_grid_worker(w).id}/revoke", None),
}


# --- the machinery (reusable by other apps' matrices) ---------------------------------------------


def spec_operations() -> dict[Op, dict[str, Any]]:
    """(METHOD, path without /api/v1) -> the OpenAPI operation, for every operation the API serves."""
    ops: dict[Op, dict[str, Any]] = {}
    for path, item in api.get_openapi_schema()["paths"].items():
        assert path.startswith(PREFIX), path
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                ops[(method.upper(), path[len(PREFIX) :])] = operation
    return ops


def accepts_token(op: Op) -> bool:
    security = spec_operations()[op].get("security", [])
    return any("TokenAuth" in s for s in security)


def _send(client: Client, method: str, path: str, payload: Any, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if payload is not None:
        kwargs["data"] = json.dumps(payload)
        kwargs["content_type"] = "application/json"
    return getattr(client, method.lower())(PREFIX + path, **kwargs)


def _matrix_key(world: Any, name: str) -> str:
    key = f"lnl_matrix_{name}"
    if not ApiToken.objects.filter(key_hash=token_hash(key)).exists():
        ApiToken.objects.create(
            user=world.users[name], name="matrix", prefix=key[:12], key_hash=token_hash(key)
        )
    return key


def check_operation(world: Any, op: Op, allowed: dict[str, bool], request: Request, auth: str) -> list[str]:
    """Send `request` as every user (and anonymously); return the list of wrong answers (empty = all right).

    Each user starts from the same database: their request runs inside a savepoint that is rolled back.
    """
    method = op[0]
    assert set(allowed) == set(USERS), f"{op}: MATRIX must name all {len(USERS)} users"
    token_ok = accepts_token(op)
    problems: list[str] = []
    for name in (*USERS, None):
        sid = transaction.savepoint()
        try:
            path, payload = request(world)
            if name is None:
                client, headers, expected = Client(), {}, "401"
            elif auth == "token":
                client, headers = Client(), {"Authorization": f"Bearer {_matrix_key(world, name)}"}
                expected = ("2xx" if allowed[name] else "403/404") if token_ok else "401"
            else:
                client, headers = client_for(world.users[name]), {}
                expected = "2xx" if allowed[name] else "403/404"
            response = _send(client, method, path, payload, headers)
            status = response.status_code
            ok = {"2xx": 200 <= status < 300, "403/404": status in {403, 404}, "401": status == 401}[expected]
            if ok and status >= 400:
                ok = json.loads(response.content).get("code") not in (None, "")
            if not ok:
                problems.append(
                    f"{name or 'anonymous'} {method} {path}: expected {expected}, got {status} "
                    f"{response.content[:200]!r}"
                )
        finally:
            transaction.savepoint_rollback(sid)
    return problems


def _app_matrices() -> Iterable[dict[Op, dict[str, bool]]]:
    """MATRIX of every app that has its own tests/test_api_permissions.py (this one included)."""
    for app in settings.INSTALLED_APPS:
        if not app.startswith("linli."):
            continue
        try:
            module = importlib.import_module(f"{app}.tests.test_api_permissions")
        except ModuleNotFoundError:
            continue
        yield getattr(module, "MATRIX", {})


# --- the tests ------------------------------------------------------------------------------------


def test_matrix_is_complete() -> None:
    known: set[Op] = set()
    for matrix in _app_matrices():
        known |= set(matrix)
    served = set(spec_operations())
    missing = sorted(served - known)
    assert not missing, f"API operations without a permission matrix entry: {missing}"
    stale = sorted(set(MATRIX) - served)
    assert not stale, f"MATRIX entries for operations that no longer exist: {stale}"
    assert set(REQUESTS) == set(MATRIX)
    for op, allowed in MATRIX.items():
        assert set(allowed) == set(USERS), op


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("op", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_role_is_refused_outside_its_scope(world: Any, op: Op, auth: str) -> None:
    problems = check_operation(world, op, MATRIX[op], REQUESTS[op], auth)
    assert not problems, "\n".join(problems)


def test_token_management_refuses_tokens() -> None:
    """Minting or revoking tokens needs a signed-in session, so a leaked token cannot replace itself."""
    assert not accepts_token(("POST", "/tokens"))
    assert not accepts_token(("POST", "/tokens/{token_id}/revoke"))
    assert accepts_token(("GET", "/people"))


# What each user's unfiltered lists contain: scoped lists must never show an object outside the user's scope.
# Names are attributes of the test world. Community-wide things (teams, merchants, partner units, the grids
# and buildings of the community) are readable by everyone who works inside the community (linli.org.access).
VISIBLE: dict[str, dict[str, set[str]]] = {
    "/communities": {
        "street_admin": {"A", "B"},
        "staff_a": {"A"},
        "staff_b": {"B"},
        "staff_c": {"C"},
        "grid_chief_a1": {"A"},
        "grid_worker_a1": {"A"},
        "grid_worker_a2": {"A"},
        "steward_a1": {"A"},
        "auditor_a": {"A"},
        "merchant_op_a": {"A"},
        "resident_a1": {"A"},
    },
    "/grids": {
        "street_admin": {"A1", "A2", "B1"},
        "staff_a": {"A1", "A2"},
        "staff_b": {"B1"},
        "staff_c": {"C1"},
        "grid_chief_a1": {"A1", "A2"},
        "grid_worker_a1": {"A1", "A2"},
        "grid_worker_a2": {"A1", "A2"},
        "steward_a1": {"A1", "A2"},
        "auditor_a": {"A1", "A2"},
        "merchant_op_a": {"A1", "A2"},
        "resident_a1": {"A1", "A2"},
    },
    "/buildings": {
        "street_admin": {"bA1", "bA2", "bB1"},
        "staff_a": {"bA1", "bA2"},
        "staff_b": {"bB1"},
        "staff_c": {"bC1"},
        "grid_chief_a1": {"bA1", "bA2"},
        "grid_worker_a1": {"bA1", "bA2"},
        "grid_worker_a2": {"bA1", "bA2"},
        "steward_a1": {"bA1", "bA2"},
        "auditor_a": {"bA1", "bA2"},
        "merchant_op_a": {"bA1", "bA2"},
        "resident_a1": {"bA1", "bA2"},
    },
    "/households": {
        "street_admin": {"hA1", "hA2", "hB1"},
        "staff_a": {"hA1", "hA2"},
        "staff_b": {"hB1"},
        "staff_c": {"hC1"},
        "grid_chief_a1": {"hA1"},
        "grid_worker_a1": {"hA1"},
        "grid_worker_a2": {"hA2"},
        "steward_a1": {"hA1"},
        "auditor_a": {"hA1", "hA2"},
        "merchant_op_a": set(),
        "resident_a1": {"hA1"},
    },
    "/people": {
        "street_admin": {"pA1", "pA1b", "pA2", "pB1"},
        "staff_a": {"pA1", "pA1b", "pA2"},
        "staff_b": {"pB1"},
        "staff_c": {"pC1"},
        "grid_chief_a1": {"pA1", "pA1b"},
        "grid_worker_a1": {"pA1", "pA1b"},
        "grid_worker_a2": {"pA2"},
        "steward_a1": {"pA1", "pA1b"},
        "auditor_a": {"pA1", "pA1b", "pA2"},
        "merchant_op_a": set(),
        "resident_a1": {"pA1"},
    },
    "/teams": {
        "street_admin": {"teamA", "teamB"},
        "staff_a": {"teamA"},
        "staff_b": {"teamB"},
        "staff_c": set(),
        "grid_chief_a1": {"teamA"},
        "grid_worker_a1": {"teamA"},
        "grid_worker_a2": {"teamA"},
        "steward_a1": {"teamA"},
        "auditor_a": {"teamA"},
        "merchant_op_a": set(),
        "resident_a1": {"teamA"},
    },
    "/merchants": {
        "street_admin": {"mA", "mB"},
        "staff_a": {"mA"},
        "staff_b": {"mB"},
        "staff_c": set(),
        "grid_chief_a1": {"mA"},
        "grid_worker_a1": {"mA"},
        "grid_worker_a2": {"mA"},
        "steward_a1": {"mA"},
        "auditor_a": {"mA"},
        "merchant_op_a": {"mA"},
        "resident_a1": {"mA"},
    },
    "/partners": {
        "street_admin": {"partnerA", "partnerB"},
        "staff_a": {"partnerA"},
        "staff_b": {"partnerB"},
        "staff_c": set(),
        "grid_chief_a1": {"partnerA"},
        "grid_worker_a1": {"partnerA"},
        "grid_worker_a2": {"partnerA"},
        "steward_a1": {"partnerA"},
        "auditor_a": {"partnerA"},
        "merchant_op_a": set(),
        "resident_a1": set(),
    },
}


@pytest.mark.parametrize("path", sorted(VISIBLE))
def test_lists_show_only_what_is_in_scope(world: Any, path: str) -> None:
    problems = []
    for name, expected_names in VISIBLE[path].items():
        response = client_for(world.users[name]).get(f"{PREFIX}{path}?limit=200")
        assert response.status_code == 200, (name, response.content)
        got = {item["id"] for item in response.json()["items"]}
        expected = {getattr(world, attr).id for attr in expected_names}
        if got != expected:
            problems.append(f"{name}: expected {sorted(expected_names)}, got ids {sorted(got)}")
    assert not problems, "\n".join(problems)


def test_phones_masked_for_those_without_private_access(world: Any) -> None:
    """Readers without `person.view_private` (the auditor) get 138****0001; managers in scope the full one."""
    full = {"street_admin", "staff_a", "grid_chief_a1", "grid_worker_a1", "steward_a1", "resident_a1"}
    for name in MATRIX[("GET", "/people/{person_id}")]:
        if not READ_A1[name]:
            continue
        phone = client_for(world.users[name]).get(f"{PREFIX}/people/{world.pA1.id}").json()["phone"]
        assert phone == ("13800000001" if name in full else "138****0001"), name


LIST_TO_MODEL = {
    "/communities": "Community",
    "/grids": "Grid",
    "/buildings": "Building",
    "/households": "Household",
    "/people": "Person",
    "/teams": "Team",
    "/merchants": "Merchant",
    "/partners": "PartnerUnit",
}


def test_every_listed_object_can_be_opened(world: Any) -> None:
    """list ⊆ get_visible: an id a list shows must never answer 404 when used as a filter or opened."""
    from linli.common.errors import NotFound
    from linli.org import models, selectors
    from linli.org.access import actor_for

    problems = []
    for path, model_name in LIST_TO_MODEL.items():
        model = getattr(models, model_name)
        for name in USERS:
            listed = client_for(world.users[name]).get(f"{PREFIX}{path}?limit=200").json()["items"]
            ids = [item["id"] for item in listed]
            actor = actor_for(world.users[name])
            for pk in ids:
                try:
                    selectors.get_visible(actor, model, pk)
                except NotFound:
                    problems.append(f"{name} lists {model_name} #{pk} but cannot open it")
    assert not problems, "\n".join(problems)
