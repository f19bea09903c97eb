"""The org JSON API: every endpoint, both ways in (session, token), and bad input that must never be a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.common.testing import client_for
from linli.org import services
from linli.org.access import actor_for
from linli.org.models import ApiToken, Household, HouseholdMember, Person

API = "/api/v1"


def call(client: Client, method: str, path: str, body: Any = None, **headers: str) -> Any:
    kwargs: dict[str, Any] = {"headers": headers} if headers else {}
    if body is not None:
        kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    response = getattr(client, method.lower())(API + path, **kwargs)
    assert response.status_code < 500, response.content
    return response


def body(response: Any) -> Any:
    return json.loads(response.content) if response.content else None


def issue_key(world: Any, user: Any, issuer: Any = None) -> str:
    _, key = services.api_token_issue(actor=actor_for(issuer or world.staff_a), user=user, name="test client")
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- spec and docs --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_and_docs_render_without_a_cdn() -> None:
    client = Client()
    spec = client.get(f"{API}/openapi.json")
    assert spec.status_code == 200
    data = spec.json()
    assert f"{API}/people/{{person_id}}" in data["paths"]
    schemes = data["components"]["securitySchemes"]
    assert {"TokenAuth", "SessionAuth"} <= set(schemes)
    assert schemes["TokenAuth"]["scheme"] == "bearer"

    docs = client.get(f"{API}/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn." not in html and "https://" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    # whitenoise serves ninja's bundled Swagger UI (finders on: no collectstatic needed in dev/tests)
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"):
        response = client.get(f"/static/ninja/{asset}")
        assert response.status_code == 200, asset


# --- authentication -------------------------------------------------------------------------------


def test_anonymous_is_401_with_a_code(world: Any) -> None:
    for path in ("/me", "/people", f"/people/{world.pA1.id}", "/tokens"):
        response = call(Client(), "GET", path)
        assert response.status_code == 401
        assert body(response)["code"] == "unauthenticated"
        assert body(response)["message"]
    response = call(Client(), "POST", "/households", {"building_id": world.bA1.id, "room": "909"})
    assert response.status_code == 401


def test_me_with_session(world: Any) -> None:
    data = body(call(client_for(world.staff_a), "GET", "/me"))
    assert data["user"]["id"] == world.staff_a.id
    assert data["roles"] == [
        {
            "role": "community_staff",
            "label": data["roles"][0]["label"],
            "level": "community",
            "scope_id": world.A.id,
            "scope_name": world.A.name,
        }
    ]
    assert data["person"] is None

    data = body(call(client_for(world.resident_a1), "GET", "/me"))
    assert data["roles"] == []
    assert data["person"] == {
        "id": world.pA1.id,
        "name": world.pA1.name,
        "community_id": world.A.id,
        "community_name": world.A.name,
    }


def test_session_writes_need_the_csrf_token(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.staff_a)
    payload = {"building_id": world.bA1.id, "room": "909"}
    refused = call(client, "POST", "/households", payload)
    assert refused.status_code == 403
    assert body(refused)["code"] == "csrf_failed"
    assert not Household.objects.filter(room="909").exists()
    # reads need no token; a page hands the token over in its cookie/meta tag
    assert call(client, "GET", "/me").status_code == 200
    client.get("/api/v1/docs")  # any page that renders {% csrf_token %} sets the cookie
    token = client.cookies["csrftoken"].value
    created = call(client, "POST", "/households", payload, **{"X-CSRFToken": token})
    assert created.status_code == 201


def test_token_auth_needs_no_csrf_and_acts_as_its_user(world: Any) -> None:
    key = issue_key(world, world.grid_worker_a1)
    client = Client(enforce_csrf_checks=True)
    me = body(call(client, "GET", "/me", **bearer(key)))
    assert me["user"]["id"] == world.grid_worker_a1.id
    # a grid worker's token sees their grid only
    people = body(call(client, "GET", "/people", **bearer(key)))
    assert {p["id"] for p in people["items"]} == {world.pA1.id, world.pA1b.id}
    created = call(client, "POST", "/households", {"building_id": world.bA1.id, "room": "808"}, **bearer(key))
    assert created.status_code == 201
    assert ApiToken.objects.get(user=world.grid_worker_a1).last_used_at is not None


def test_bad_or_revoked_token_is_401_even_with_a_session(world: Any) -> None:
    client = client_for(world.staff_a)
    for header in ("Bearer nonsense", "Bearer lnl_not-a-real-key", "Bearer "):
        response = call(client, "GET", "/me", Authorization=header)
        assert response.status_code == 401, header
        assert body(response)["code"] == "unauthenticated"

    key = issue_key(world, world.auditor_a)
    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 200
    token = ApiToken.objects.get(user=world.auditor_a)
    services.api_token_revoke(actor=actor_for(world.staff_a), token=token)
    response = call(Client(), "GET", "/me", **bearer(key))
    assert response.status_code == 401
    assert body(response)["code"] == "unauthenticated"


def test_token_of_a_deactivated_user_is_refused(world: Any) -> None:
    key = issue_key(world, world.resident_a1)
    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 200
    services.person_set_active(actor=actor_for(world.staff_a), person=world.pA1, active=False)
    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 401


# --- tokens ---------------------------------------------------------------------------------------


def test_staff_issue_list_and_revoke_tokens_key_shown_once(world: Any) -> None:
    staff = client_for(world.staff_a)
    issued = call(staff, "POST", "/tokens", {"user_id": world.grid_worker_a1.id, "name": "网格巡查 app"})
    assert issued.status_code == 201
    data = body(issued)
    key = data["key"]
    assert key.startswith("lnl_") and len(key) > 30
    assert data["prefix"] == key[:12] and data["user_id"] == world.grid_worker_a1.id and data["is_active"]
    token = ApiToken.objects.get(pk=data["id"])
    assert key not in (token.key_hash, token.prefix)  # only the hash is stored

    listed = call(staff, "GET", "/tokens")
    assert key not in listed.content.decode()
    assert [t["id"] for t in body(listed)["items"]] == [token.id]
    assert all("key" not in t for t in body(listed)["items"])
    # the holder sees their own token too, still without the key
    holder = body(call(client_for(world.grid_worker_a1), "GET", "/tokens"))
    assert [t["id"] for t in holder["items"]] == [token.id]
    # others see nothing
    assert body(call(client_for(world.staff_b), "GET", "/tokens"))["count"] == 0

    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 200
    revoked = call(staff, "POST", f"/tokens/{token.id}/revoke")
    assert revoked.status_code == 200
    assert body(revoked)["is_active"] is False and body(revoked)["revoked_at"]
    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 401
    # revoking twice is harmless
    assert call(staff, "POST", f"/tokens/{token.id}/revoke").status_code == 200


def test_only_staff_issue_tokens_and_only_in_scope(world: Any) -> None:
    for name in (
        "grid_chief_a1",
        "grid_worker_a1",
        "steward_a1",
        "auditor_a",
        "merchant_op_a",
        "resident_a1",
    ):
        response = call(
            client_for(world.users[name]),
            "POST",
            "/tokens",
            {"user_id": world.users[name].id, "name": "mine"},
        )
        assert response.status_code == 403, name
        assert body(response)["code"] == "forbidden"
    # staff of B cannot issue for a user of A; unknown users are 404 as well
    response = call(
        client_for(world.staff_b), "POST", "/tokens", {"user_id": world.grid_worker_a1.id, "name": "x"}
    )
    assert response.status_code == 404
    response = call(client_for(world.staff_a), "POST", "/tokens", {"user_id": 999999, "name": "x"})
    assert response.status_code == 404
    assert not ApiToken.objects.exists()


def test_tokens_cannot_mint_or_revoke_tokens(world: Any) -> None:
    """A leaked token must not make itself a successor: token management needs a signed-in session."""
    key = issue_key(world, world.staff_a)
    response = call(Client(), "POST", "/tokens", {"user_id": world.staff_a.id, "name": "copy"}, **bearer(key))
    assert response.status_code == 401
    token = ApiToken.objects.get()
    assert call(Client(), "POST", f"/tokens/{token.id}/revoke", **bearer(key)).status_code == 401
    assert call(Client(), "GET", "/tokens", **bearer(key)).status_code == 200


def test_revoke_out_of_scope_token_is_404(world: Any) -> None:
    key = issue_key(world, world.grid_worker_a1)
    token = ApiToken.objects.get()
    assert call(client_for(world.staff_b), "POST", f"/tokens/{token.id}/revoke").status_code == 404
    assert call(client_for(world.staff_a), "POST", "/tokens/999999/revoke").status_code == 404
    assert call(Client(), "GET", "/me", **bearer(key)).status_code == 200


# --- the hierarchy --------------------------------------------------------------------------------


def test_communities(world: Any) -> None:
    street = body(call(client_for(world.street_admin), "GET", "/communities"))
    assert {c["id"] for c in street["items"]} == {world.A.id, world.B.id}
    assert street["count"] == 2
    staff = body(call(client_for(world.staff_a), "GET", "/communities"))
    assert [c["name"] for c in staff["items"]] == [world.A.name]
    one = body(call(client_for(world.grid_worker_a1), "GET", f"/communities/{world.A.id}"))
    assert one["street_name"] == world.S.name
    assert call(client_for(world.staff_a), "GET", f"/communities/{world.B.id}").status_code == 404
    assert call(client_for(world.staff_a), "GET", "/communities/424242").status_code == 404


def test_grids_compounds_buildings_with_filters(world: Any) -> None:
    staff = client_for(world.staff_a)
    grids = body(call(staff, "GET", f"/grids?community={world.A.id}"))
    assert [g["name"] for g in grids["items"]] == [world.A1.name, world.A2.name]
    assert grids["items"][0]["building_count"] == 1
    assert call(staff, "GET", f"/grids?community={world.B.id}").status_code == 404

    compounds = body(call(staff, "GET", "/compounds"))
    assert [c["id"] for c in compounds["items"]] == [world.cpA.id]

    buildings = body(call(staff, "GET", f"/buildings?grid={world.A2.id}"))
    assert [b["id"] for b in buildings["items"]] == [world.bA2.id]
    buildings = body(call(staff, "GET", f"/buildings?compound={world.cpA.id}"))
    assert [b["label"] for b in buildings["items"]] == ["兴庆小区 1号楼"]
    buildings = body(call(staff, "GET", "/buildings?q=兴庆"))
    assert [b["id"] for b in buildings["items"]] == [world.bA1.id]
    # places are readable by everyone working in the community; another community's grid is 404
    worker = client_for(world.grid_worker_a1)
    assert body(call(worker, "GET", f"/buildings?grid={world.A2.id}"))["items"][0]["id"] == world.bA2.id
    assert call(worker, "GET", f"/buildings?grid={world.B1.id}").status_code == 404
    assert call(worker, "GET", f"/households?building={world.bB1.id}").status_code == 404
    # ... but the households in another grid's building stay hidden
    assert body(call(worker, "GET", f"/households?building={world.bA2.id}")) == {"count": 0, "items": []}


# --- households -----------------------------------------------------------------------------------


def test_households_list_filter_and_detail(world: Any) -> None:
    staff = client_for(world.staff_a)
    listed = body(call(staff, "GET", "/households"))
    assert {h["id"] for h in listed["items"]} == {world.hA1.id, world.hA2.id}
    assert body(call(staff, "GET", f"/households?building={world.bA2.id}"))["items"][0]["id"] == world.hA2.id
    assert body(call(staff, "GET", "/households?q=202"))["count"] == 1
    assert call(staff, "GET", f"/households?building={world.bB1.id}").status_code == 404

    detail = body(call(staff, "GET", f"/households/{world.hA1.id}"))
    assert detail["floor_area"] == "75.50"
    members = {m["name"]: m for m in detail["members"]}
    assert set(members) == {"王秀英", "王老伯"}
    assert members["王秀英"]["phone"] == "13800000001" and members["王秀英"]["is_owner"] is True

    # the auditor reads the household but not the phones
    audited = body(call(client_for(world.auditor_a), "GET", f"/households/{world.hA1.id}"))
    assert {m["phone"] for m in audited["members"]} == {"138****0001", ""}
    # the resident reads their own household; another's is 404
    assert call(client_for(world.resident_a1), "GET", f"/households/{world.hA1.id}").status_code == 200
    assert call(client_for(world.resident_a1), "GET", f"/households/{world.hA2.id}").status_code == 404


def test_create_household(world: Any) -> None:
    staff = client_for(world.staff_a)
    response = call(
        staff,
        "POST",
        "/households",
        {"building_id": world.bA1.id, "unit": "2单元", "room": "502", "floor_area": 88.3, "note": "新"},
    )
    assert response.status_code == 201
    data = body(response)
    assert data["address"] == "兴庆小区 1号楼2单元502" and data["floor_area"] == "88.30"
    assert Household.objects.filter(pk=data["id"], community=world.A).exists()

    again = call(staff, "POST", "/households", {"building_id": world.bA1.id, "unit": "2单元", "room": "502"})
    assert again.status_code == 409 and body(again)["code"] == "household_exists"

    blank = call(staff, "POST", "/households", {"building_id": world.bA1.id, "room": "   "})
    assert blank.status_code == 400 and body(blank)["code"] == "room_required"
    area = call(staff, "POST", "/households", {"building_id": world.bA1.id, "room": "1", "floor_area": -5})
    assert area.status_code == 400 and body(area)["code"] == "floor_area_invalid"
    # in scope but read-only: 403; out of scope: 404
    steward = call(
        client_for(world.steward_a1), "POST", "/households", {"building_id": world.bA1.id, "room": "9"}
    )
    assert steward.status_code == 403 and body(steward)["code"] == "forbidden"
    other = call(client_for(world.staff_b), "POST", "/households", {"building_id": world.bA1.id, "room": "9"})
    assert other.status_code == 404 and body(other)["code"] == "not_found"


def test_update_and_move_household(world: Any) -> None:
    staff = client_for(world.staff_a)
    response = call(staff, "PATCH", f"/households/{world.hA1.id}", {"note": "空巢"})
    assert response.status_code == 200
    world.hA1.refresh_from_db()
    assert world.hA1.note == "空巢" and world.hA1.room == "101" and world.hA1.floor_area is not None

    moved = body(call(staff, "PATCH", f"/households/{world.hA1.id}", {"building_id": world.bA2.id}))
    assert moved["building_id"] == world.bA2.id
    assert moved["address"] == "2号楼1单元101"  # the address follows the move
    cleared = body(call(staff, "PATCH", f"/households/{world.hA1.id}", {"floor_area": None}))
    assert cleared["floor_area"] is None

    # a street admin sees both communities, but a household never moves into another community
    response = call(
        client_for(world.street_admin), "PATCH", f"/households/{world.hA2.id}", {"building_id": world.bB1.id}
    )
    assert response.status_code == 400
    assert body(response)["code"] == "other_community" and body(response)["field"] == "building"

    # the grid worker of A1 sees grid A2's building but may not move a household into it: 403
    worker = client_for(world.grid_worker_a1)
    hh = services.household_create(actor=actor_for(world.staff_a), building=world.bA1, room="777")
    refused = call(worker, "PATCH", f"/households/{hh.id}", {"building_id": world.bA2.id})
    assert refused.status_code == 403 and body(refused)["code"] == "forbidden"
    hh.refresh_from_db()
    assert hh.building_id == world.bA1.id
    # into an existing room: 409
    clash = call(
        staff, "PATCH", f"/households/{hh.id}", {"unit": "1单元", "building_id": world.bA2.id, "room": "202"}
    )
    assert clash.status_code == 409 and body(clash)["code"] == "household_exists"


# --- people ---------------------------------------------------------------------------------------


def test_people_list_search_tags_and_masking(world: Any) -> None:
    services.person_update(
        actor=actor_for(world.staff_a),
        person=world.pA2,
        data=services.PersonData(name="李建华", phone="13800000002", tags=("veteran",)),
    )
    staff = client_for(world.staff_a)
    listed = body(call(staff, "GET", "/people"))
    assert listed["count"] == 3
    assert {p["phone"] for p in listed["items"]} == {"13800000001", "13800000002", ""}
    assert [p["name"] for p in body(call(staff, "GET", "/people?tag=veteran"))["items"]] == ["李建华"]
    assert [p["name"] for p in body(call(staff, "GET", "/people?q=秀英"))["items"]] == ["王秀英"]
    assert [p["name"] for p in body(call(staff, "GET", "/people?q=0002"))["items"]] == ["李建华"]
    assert body(call(staff, "GET", f"/people?community={world.A.id}&limit=1&offset=1"))["items"][0]["name"]

    audited = body(call(client_for(world.auditor_a), "GET", "/people"))
    assert {p["phone"] for p in audited["items"]} == {"138****0001", "138****0002", ""}
    assert all(p["phone_masked"] for p in audited["items"] if p["phone"])
    assert all(p["note"] == "" for p in audited["items"])
    # the steward sees private data only inside their building
    steward = body(call(client_for(world.steward_a1), "GET", "/people"))
    assert {p["name"]: p["phone"] for p in steward["items"]} == {"王秀英": "13800000001", "王老伯": ""}
    # a resident sees only themselves
    resident = body(call(client_for(world.resident_a1), "GET", "/people"))
    assert [p["id"] for p in resident["items"]] == [world.pA1.id]


def test_person_detail(world: Any) -> None:
    data = body(call(client_for(world.grid_worker_a1), "GET", f"/people/{world.pA1.id}"))
    assert data["phone"] == "13800000001" and data["has_login"] is True
    assert data["households"] == [
        {
            "member_id": world.pA1.memberships.get().id,
            "household_id": world.hA1.id,
            "address": world.hA1.address,
            "relation": "head",
            "is_owner": True,
        }
    ]
    assert call(client_for(world.grid_worker_a1), "GET", f"/people/{world.pA2.id}").status_code == 404
    assert call(client_for(world.staff_b), "GET", f"/people/{world.pA1.id}").status_code == 404
    assert call(client_for(world.merchant_op_a), "GET", f"/people/{world.pA1.id}").status_code == 404


def test_person_detail_hides_households_outside_scope(world: Any) -> None:
    """A person living in two buildings: the steward of one sees only that household."""
    services.member_add(actor=actor_for(world.staff_a), household=world.hA2, person=world.pA1)
    data = body(call(client_for(world.steward_a1), "GET", f"/people/{world.pA1.id}"))
    assert [h["household_id"] for h in data["households"]] == [world.hA1.id]


def test_create_person(world: Any) -> None:
    staff = client_for(world.staff_a)
    response = call(
        staff,
        "POST",
        "/people",
        {
            "name": " 张大爷 ",
            "phone": "+86 139-0000-0011",
            "gender": "M",
            "birth_year": 1948,
            "tags": ["elder_alone", "veteran"],
            "household_id": world.hA2.id,
            "relation": "parent",
            "is_owner": True,
        },
    )
    assert response.status_code == 201
    data = body(response)
    assert data["name"] == "张大爷" and data["phone"] == "13900000011"
    assert data["tags"] == ["veteran", "elder_alone"] and data["community_id"] == world.A.id
    assert data["households"][0]["household_id"] == world.hA2.id and data["households"][0]["is_owner"] is True

    bare = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "刘阿姨"})
    assert bare.status_code == 201 and body(bare)["households"] == []

    none = call(staff, "POST", "/people", {"name": "无处"})
    assert none.status_code == 400 and body(none)["code"] == "community_required"
    phone = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "x", "phone": "12345"})
    assert phone.status_code == 400
    assert body(phone)["code"] == "phone_invalid" and body(phone)["field"] == "phone"
    assert "12345" in body(phone)["message"]
    taken = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "y", "phone": "13800000002"})
    assert taken.status_code == 409 and body(taken)["code"] == "phone_taken"
    tag = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "z", "tags": ["vip"]})
    assert tag.status_code == 400 and body(tag)["code"] == "tag_unknown"
    relation = call(staff, "POST", "/people", {"household_id": world.hA1.id, "name": "z", "relation": "boss"})
    assert relation.status_code == 400 and body(relation)["code"] == "relation_invalid"
    year = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "z", "birth_year": 1800})
    assert year.status_code == 400 and body(year)["code"] == "birth_year_invalid"
    too_long = call(staff, "POST", "/people", {"community_id": world.A.id, "name": "长" * 60})
    assert too_long.status_code == 400 and body(too_long)["code"] == "name_too_long"

    # a street admin sees both communities, but a person of A cannot be put into B's household
    mixed = call(
        client_for(world.street_admin),
        "POST",
        "/people",
        {"community_id": world.A.id, "household_id": world.hB1.id, "name": "跨社区"},
    )
    assert mixed.status_code == 400 and body(mixed)["code"] == "other_community"
    assert not Person.objects.filter(name__in=["跨社区", "x", "y", "z"]).exists()


def test_grid_worker_creates_people_only_into_their_households(world: Any) -> None:
    worker = client_for(world.grid_worker_a1)
    assert (
        call(worker, "POST", "/people", {"household_id": world.hA1.id, "name": "新住户"}).status_code == 201
    )
    refused = call(worker, "POST", "/people", {"community_id": world.A.id, "name": "无户"})
    assert refused.status_code == 403
    assert call(worker, "POST", "/people", {"household_id": world.hA2.id, "name": "别格"}).status_code == 404
    assert (
        call(
            client_for(world.auditor_a), "POST", "/people", {"household_id": world.hA1.id, "name": "审计"}
        ).status_code
        == 403
    )


def test_update_person(world: Any) -> None:
    staff = client_for(world.staff_a)
    response = call(
        staff, "PATCH", f"/people/{world.pA1b.id}", {"phone": "029-8888-1234", "tags": ["elder_alone"]}
    )
    assert response.status_code == 200
    data = body(response)
    assert data["phone"] == "02988881234" and data["tags"] == ["elder_alone"] and data["name"] == "王老伯"
    cleared = body(call(staff, "PATCH", f"/people/{world.pA1b.id}", {"birth_year": None}))
    assert cleared["birth_year"] is None
    bad = call(staff, "PATCH", f"/people/{world.pA1b.id}", {"phone": "abc"})
    assert bad.status_code == 400 and body(bad)["code"] == "phone_invalid"
    blank = call(staff, "PATCH", f"/people/{world.pA1b.id}", {"name": "  "})
    assert blank.status_code == 400 and body(blank)["code"] == "name_required"
    gender = call(staff, "PATCH", f"/people/{world.pA1b.id}", {"gender": "X"})
    assert gender.status_code == 400 and body(gender)["code"] == "gender_invalid"
    # changing a resident's phone moves their login too
    call(staff, "PATCH", f"/people/{world.pA1.id}", {"phone": "13811112222"})
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.phone == "13811112222"
    # the auditor reads but never writes
    assert (
        call(client_for(world.auditor_a), "PATCH", f"/people/{world.pA1.id}", {"note": "x"}).status_code
        == 403
    )
    assert (
        call(client_for(world.staff_b), "PATCH", f"/people/{world.pA1.id}", {"note": "x"}).status_code == 404
    )


# --- household members ----------------------------------------------------------------------------


def test_add_and_remove_members(world: Any) -> None:
    staff = client_for(world.staff_a)
    added = call(
        staff,
        "POST",
        f"/households/{world.hA1.id}/members",
        {"person_id": world.pA2.id, "relation": "relative", "is_owner": True},
    )
    assert added.status_code == 201
    member = body(added)
    assert (
        member["person_id"] == world.pA2.id
        and member["is_owner"] is True
        and member["relation"] == "relative"
    )

    duplicate = call(staff, "POST", f"/households/{world.hA1.id}/members", {"person_id": world.pA1.id})
    assert duplicate.status_code == 409 and body(duplicate)["code"] == "already_member"
    relation = call(
        staff,
        "POST",
        f"/households/{world.hA2.id}/members",
        {"person_id": world.pA1b.id, "relation": "emperor"},
    )
    assert relation.status_code == 400 and body(relation)["code"] == "relation_invalid"
    other = call(staff, "POST", f"/households/{world.hA1.id}/members", {"person_id": world.pB1.id})
    assert other.status_code == 404

    removed = call(staff, "DELETE", f"/households/{world.hA1.id}/members/{member['id']}")
    assert removed.status_code == 204 and not removed.content
    assert not HouseholdMember.objects.filter(pk=member["id"]).exists()
    assert call(staff, "DELETE", f"/households/{world.hA1.id}/members/{member['id']}").status_code == 404
    # a member id of another household is 404 under this one
    other_member = world.pA2.memberships.get()
    assert call(staff, "DELETE", f"/households/{world.hA1.id}/members/{other_member.id}").status_code == 404
    assert HouseholdMember.objects.filter(pk=other_member.pk).exists()


def test_members_by_scope(world: Any) -> None:
    # a person nobody has placed yet may be placed by any household manager of the community
    lonely = services.person_create(
        actor=actor_for(world.staff_a), community=world.A, data=services.PersonData(name="新来的")
    )
    worker = client_for(world.grid_worker_a1)
    assert (
        call(worker, "POST", f"/households/{world.hA1.id}/members", {"person_id": lonely.id}).status_code
        == 201
    )
    # but not someone who lives in another grid
    assert (
        call(worker, "POST", f"/households/{world.hA1.id}/members", {"person_id": world.pA2.id}).status_code
        == 404
    )
    # the steward sees the household but cannot change it
    steward = client_for(world.steward_a1)
    member = world.pA1b.memberships.get()
    assert call(steward, "DELETE", f"/households/{world.hA1.id}/members/{member.id}").status_code == 403
    # street admin: a person of B into A's household is refused as other_community
    response = call(
        client_for(world.street_admin),
        "POST",
        f"/households/{world.hA1.id}/members",
        {"person_id": world.pB1.id},
    )
    assert response.status_code == 400 and body(response)["code"] == "other_community"


# --- teams, merchants, partners -------------------------------------------------------------------


def test_teams_merchants_partners(world: Any) -> None:
    staff = client_for(world.staff_a)
    teams = body(call(staff, "GET", "/teams"))
    assert [(t["name"], t["member_count"]) for t in teams["items"]] == [("帮帮团", 1)]
    merchants = body(call(staff, "GET", "/merchants"))
    assert [(m["name"], m["contact_phone"]) for m in merchants["items"]] == [("老街理发店", "13900000009")]
    partners = body(call(staff, "GET", "/partners"))
    assert [p["name"] for p in partners["items"]] == ["莲湖供电所"]
    street = body(call(client_for(world.street_admin), "GET", f"/merchants?community={world.B.id}"))
    assert [m["name"] for m in street["items"]] == ["府西便利店"]

    resident = client_for(world.resident_a1)
    merchants = body(call(resident, "GET", "/merchants"))
    assert [m["contact_phone"] for m in merchants["items"]] == ["139****0009"]
    assert [t["name"] for t in body(call(resident, "GET", "/teams"))["items"]] == ["帮帮团"]
    assert body(call(resident, "GET", "/partners"))["count"] == 0
    assert call(resident, "GET", f"/teams?community={world.B.id}").status_code == 404


# --- bad input: a clear 4xx with a code, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    "raw", ["{bad", "", "\xff\xfe", "[1, 2", "nul", '{"building_id": 1, "room": "\\ud800"}', "{}" * 100_000]
)
def test_malformed_json_is_400(world: Any, raw: str) -> None:
    response = call(client_for(world.staff_a), "POST", "/households", raw.encode("latin-1"))
    assert response.status_code == 400
    assert body(response)["code"] in {"invalid_json", "invalid_input"}
    assert body(response)["message"]


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        json.dumps("just a string"),  # raw JSON text (call() sends str bodies as they are)
        {"building_id": "abc", "room": "1"},
        {"building_id": None, "room": "1"},
        {"building_id": 1.5, "room": "1"},
        {"room": "1"},
        {"building_id": 1, "room": 101},
        {"building_id": 1, "room": "1", "floor_area": "lots"},
        {"building_id": 1, "room": "1", "floor_area": "NaN"},
        {"building_id": 1, "room": "x" * 500},
        {"building_id": -3, "room": "1"},
        {"building_id": 10**30, "room": "1"},
    ],
)
def test_wrong_types_are_400_invalid_input(world: Any, payload: Any) -> None:
    response = call(client_for(world.staff_a), "POST", "/households", payload)
    assert response.status_code == 400, response.content
    data = body(response)
    assert data["code"] == "invalid_input" and data["details"] and data["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ["a"]},
        {"name": "a", "community_id": "A"},
        {"name": "a", "tags": "veteran"},
        {"name": "a", "tags": [1]},
        {"name": "a", "birth_year": "nineteen"},
        {"name": "a", "is_owner": "perhaps"},
        {"name": "a", "phone": 13800000001},
    ],
)
def test_wrong_person_types_are_400(world: Any, payload: Any) -> None:
    response = call(client_for(world.staff_a), "POST", "/people", payload)
    assert response.status_code == 400 and body(response)["code"] == "invalid_input"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-1",
        "limit=201",
        "limit=abc",
        "offset=-1",
        "offset=1e3",
        "community=abc",
        "community=0",
        f"community={10**40}",
        "q=" + "x" * 200,
    ],
)
def test_bad_query_is_400(world: Any, query: str) -> None:
    response = call(client_for(world.staff_a), "GET", f"/people?{query}")
    assert response.status_code == 400 and body(response)["code"] == "invalid_input"


def test_paging(world: Any) -> None:
    staff = client_for(world.staff_a)
    everyone = body(call(staff, "GET", "/people"))["items"]
    pages = [body(call(staff, "GET", f"/people?limit=1&offset={i}")) for i in range(3)]
    assert [p["items"][0]["id"] for p in pages] == [p["id"] for p in everyone]
    assert all(p["count"] == 3 for p in pages)
    huge = body(call(staff, "GET", f"/people?offset={2**62}&limit=200"))
    assert huge == {"count": 3, "items": []}
    assert body(call(staff, "GET", "/people?limit=200"))["count"] == 3


@pytest.mark.parametrize(
    "path",
    [
        "/people/abc",
        "/people/0",
        "/people/-1",
        f"/people/{10**25}",
        "/households/1.5",
        "/communities/%00",
    ],
)
def test_bad_ids_are_4xx(world: Any, path: str) -> None:
    response = call(client_for(world.staff_a), "GET", path)
    assert response.status_code in {400, 404}
    if response.get("Content-Type", "").startswith("application/json"):
        assert body(response)["code"] in {"invalid_input", "not_found"}


def test_unknown_ids_are_404(world: Any) -> None:
    staff = client_for(world.staff_a)
    for method, path, payload in [
        ("GET", "/people/987654", None),
        ("GET", "/households/987654", None),
        ("PATCH", "/people/987654", {"note": "x"}),
        ("PATCH", "/households/987654", {"note": "x"}),
        ("POST", "/households", {"building_id": 987654, "room": "1"}),
        ("POST", "/people", {"household_id": 987654, "name": "x"}),
        ("POST", "/households/987654/members", {"person_id": world.pA1.id}),
        ("POST", f"/households/{world.hA1.id}/members", {"person_id": 987654}),
        ("DELETE", f"/households/{world.hA1.id}/members/987654", None),
        ("GET", "/buildings?grid=987654", None),
        ("GET", "/households?building=987654", None),
    ]:
        response = call(staff, method, path, payload)
        assert response.status_code == 404, (method, path)
        assert body(response)["code"] == "not_found"


def test_wrong_method_is_not_a_500(world: Any) -> None:
    staff = client_for(world.staff_a)
    assert call(staff, "DELETE", "/people").status_code == 405
    assert call(staff, "PUT", f"/people/{world.pA1.id}", {"name": "x"}).status_code == 405


def test_errors_are_translated(world: Any, settings: Any) -> None:
    """The message follows the request's language; the code never does."""
    staff = client_for(world.staff_a)
    english = call(
        staff,
        "POST",
        "/people",
        {"community_id": world.A.id, "name": "x", "phone": "12"},
        **{"Accept-Language": "en"},
    )
    assert body(english)["code"] == "phone_invalid"
    assert "not a valid phone number" in body(english)["message"]


def test_huge_body_is_413_not_a_500(world: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = call(client_for(world.staff_a), "POST", "/people", {"name": "x" * 2000})
    assert response.status_code == 413 and body(response)["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/people?q=%00", None),
        ("GET", "/buildings?q=a%00b", None),
        ("GET", "/people?tag=%00", None),
        ("POST", "/people", {"community_id": 1, "name": "王\u0000"}),
        ("POST", "/people", {"community_id": 1, "name": "王", "tags": ["\u0000"]}),
        ("PATCH", "/people/1", {"note": "\u0000"}),
        ("POST", "/households", {"building_id": 1, "room": "1\u0000"}),
        ("POST", "/tokens", {"user_id": 1, "name": "\u0000"}),
    ],
)
def test_nul_characters_are_400_not_a_database_error(
    world: Any, method: str, path: str, payload: Any
) -> None:
    """PostgreSQL refuses text with NUL; the API must refuse it first, as input."""
    response = call(client_for(world.staff_a), method, path, payload)
    assert response.status_code == 400 and body(response)["code"] == "invalid_input"


# --- fuzz: whatever the body, the answer is a 2xx or a 4xx with a code ---------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


def _field_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        json_values,
        st.text(max_size=60),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.just("13800000001"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(["/people", "/households", "/households/1/members", "/tokens"]),
    payload=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                key: _field_values()
                for key in (
                    "name",
                    "phone",
                    "community_id",
                    "household_id",
                    "building_id",
                    "room",
                    "unit",
                    "floor_area",
                    "tags",
                    "birth_year",
                    "relation",
                    "is_owner",
                    "person_id",
                    "user_id",
                )
            },
        ),
    ),
)
def test_random_bodies_never_give_a_500(world: Any, target: str, payload: Any) -> None:
    response = call(client_for(world.staff_a), "POST", target, payload)
    if response.status_code >= 400:
        assert body(response)["code"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/people", "/households", "/buildings", "/grids", "/teams"]),
    params=st.dictionaries(
        st.sampled_from(["limit", "offset", "community", "building", "grid", "compound", "q", "tag"]),
        st.text(max_size=25) | st.integers(min_value=-(2**70), max_value=2**70).map(str),
        max_size=4,
    ),
)
def test_random_queries_never_give_a_500(world: Any, path: str, params: dict[str, str]) -> None:
    response = client_for(world.staff_a).get(API + path, params)
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert body(response)["code"]
