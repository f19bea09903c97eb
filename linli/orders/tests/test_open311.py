"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML, the spec's error format for every refusal,
keys and jurisdictions, the status mapping through a whole order, and no personal data in any answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.common.testing import client_for, make_world
from linli.orders import services
from linli.orders.models import Category, Channel, OrderEvent, Status, WorkOrder
from linli.orders.open311 import scrub
from linli.orders.services import AssigneeInput, OrderInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
A = "dxdl"  # community A's code
B = "fuxi"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


@pytest.fixture
def w() -> SimpleNamespace:
    w = make_orders(make_world())
    w.key = services.open311_client_issue(actor=actor_for(w.staff_a), community=w.A, name="随手拍").key
    return w


@pytest.fixture
def api() -> Client:
    return Client(enforce_csrf_checks=True)  # an API client has no CSRF token: filing must not need one


def as_json(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def as_xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def json_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    body = as_json(response)
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return str(body[0]["description"])


def xml_error(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    root = as_xml(response)
    assert root.tag == "errors"
    errors = root.findall("error")
    assert len(errors) == 1 and [c.tag for c in errors[0]] == ["code", "description"]
    assert errors[0].findtext("code") == str(status)
    return errors[0].findtext("description") or ""


def filing(w: SimpleNamespace, **changes: Any) -> dict[str, Any]:
    data = {
        "api_key": w.key,
        "jurisdiction_id": A,
        "service_code": "property-noise",
        "lat": "34.265000",
        "long": "108.930000",
        "address_string": "兴庆小区1号楼2单元502",
        "email": "zhang@example.com",
        "device_id": "dev-1",
        "account_id": "acc-9",
        "first_name": "伟",
        "last_name": "张",
        "phone": "13912345678",
        "description": "晚上十点后广场舞音响很吵",
        "media_url": "https://img.example.com/p/1.jpg",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def post(api: Client, data: dict[str, Any], fmt: str = "json") -> Any:
    return api.post(f"{BASE}/requests.{fmt}", data)  # form-encoded, as the spec says


# --- discovery and services -----------------------------------------------------------------------------------------
def test_discovery_names_the_spec_and_both_formats(w: SimpleNamespace, api: Client) -> None:
    body = as_json(api.get(f"{BASE}/discovery.json"))
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = as_xml(api.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_service_list_in_json_and_xml(w: SimpleNamespace, api: Client) -> None:
    Category.objects.filter(community=w.A, code="property-repair").update(is_active=False)
    body = as_json(api.get(f"{BASE}/services.json", {"jurisdiction_id": A}))
    codes = [s["service_code"] for s in body]
    assert "property-noise" in codes and "property-repair" not in codes  # not offered: not listed
    assert len(codes) == Category.objects.filter(community=w.A, is_active=True).count()
    noise = next(s for s in body if s["service_code"] == "property-noise")
    assert list(noise) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert noise["service_name"] == w.noise.name and noise["metadata"] is False and noise["type"] == "realtime"
    assert noise["group"] == "property management"  # English unless the client asks otherwise

    root = as_xml(api.get(f"{BASE}/services.xml", {"jurisdiction_id": A}))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    first = root.find("service")
    assert first is not None
    assert [c.tag for c in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert [s.findtext("service_code") for s in root] == codes
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"


def test_each_jurisdiction_has_its_own_catalogue(w: SimpleNamespace, api: Client) -> None:
    Category.objects.filter(pk=w.noiseB.pk).update(name="府西的噪音")
    names_b = {s["service_name"] for s in as_json(api.get(f"{BASE}/services.json", {"jurisdiction_id": B}))}
    names_a = {s["service_name"] for s in as_json(api.get(f"{BASE}/services.json", {"jurisdiction_id": A}))}
    assert "府西的噪音" in names_b and "府西的噪音" not in names_a


def test_jurisdiction_is_required_when_there_are_several_and_must_exist(w: SimpleNamespace, api: Client) -> None:
    assert "jurisdiction_id" in json_error(api.get(f"{BASE}/services.json"), 400)
    assert "jurisdiction_id" in xml_error(api.get(f"{BASE}/services.xml"), 400)
    assert "nowhere" in json_error(api.get(f"{BASE}/services.json", {"jurisdiction_id": "nowhere"}), 404)
    xml_error(api.get(f"{BASE}/requests.xml", {"jurisdiction_id": "nowhere"}), 404)


def test_a_single_community_needs_no_jurisdiction(db: None, api: Client) -> None:
    from linli.orders.catalogue import catalogue_install
    from linli.org.models import Community, Role, RoleAssignment, Street, User

    street = Street.objects.create(name="街道", code="s1")
    only = Community.objects.create(street=street, name="唯一社区", code="only")
    staff = User.objects.create_user(phone="13700000099", password="x-Long-pass-1", name="员")
    RoleAssignment.objects.create(user=staff, role=Role.COMMUNITY_STAFF, community=only)
    catalogue_install(actor=actor_for(staff), community=only)
    body = as_json(api.get(f"{BASE}/services.json"))
    assert len(body) == Category.objects.filter(community=only, is_active=True).count() > 0


def test_service_definition(w: SimpleNamespace, api: Client) -> None:
    body = as_json(api.get(f"{BASE}/services/property-noise.json", {"jurisdiction_id": A}))
    assert body == {"service_code": "property-noise", "attributes": []}
    root = as_xml(api.get(f"{BASE}/services/property-noise.xml", {"jurisdiction_id": A}))
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"] and len(root.find("attributes") or []) == 0
    assert "no-such" in json_error(api.get(f"{BASE}/services/no-such.json", {"jurisdiction_id": A}), 404)
    xml_error(api.get(f"{BASE}/services/no-such.xml", {"jurisdiction_id": A}), 404)


def test_unknown_format_and_method(w: SimpleNamespace, api: Client) -> None:
    assert "json" in xml_error(api.get(f"{BASE}/services.html", {"jurisdiction_id": A}), 404)
    xml_error(api.get(f"{BASE}/requests/2026-0001.yaml", {"jurisdiction_id": A}), 404)
    response = api.delete(f"{BASE}/requests.json")
    json_error(response, 405)
    assert response["Allow"] == "GET, POST"
    assert api.get(f"{BASE}/nothing.json").status_code == 404


# --- filing ---------------------------------------------------------------------------------------------------------
def test_a_client_files_a_request(w: SimpleNamespace, api: Client) -> None:
    body = as_json(post(api, filing(w)))
    assert len(body) == 1 and list(body[0]) == ["service_request_id", "service_notice", "account_id"]
    order = WorkOrder.objects.get(community=w.A, number=body[0]["service_request_id"])
    assert order.channel == Channel.OPEN311 and order.status == Status.RECEIVED
    assert order.category == w.noise and order.description == "晚上十点后广场舞音响很吵"
    assert (order.contact_name, order.contact_phone) == ("张伟", "13912345678")
    assert str(order.lat) == "34.265000" and str(order.long) == "108.930000"
    assert order.address == "兴庆小区1号楼2单元502" and order.created_by is None and order.reporter is None
    assert body[0]["account_id"] is None and "15" in body[0]["service_notice"]  # 15 days to answer
    # what has no field of its own is kept for the handlers, never on the public timeline
    note = OrderEvent.objects.get(order=order, action="note")
    assert not note.is_public
    assert "zhang@example.com" in note.note and "https://img.example.com/p/1.jpg" in note.note
    assert "acc-9" in note.note and "dev-1" not in note.note
    receive = OrderEvent.objects.get(order=order, action="receive")
    assert receive.data["client"] == "随手拍" and receive.data["channel"] == "open311"


def test_filing_in_xml_with_a_building_and_without_jurisdiction(w: SimpleNamespace, api: Client) -> None:
    data = filing(w, jurisdiction_id=None, lat=None, long=None, address_string=None, address_id=str(w.bA1.pk))
    root = as_xml(post(api, data, "xml"))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    order = WorkOrder.objects.get(number=request.findtext("service_request_id"), community=w.A)  # the key's community
    assert order.building == w.bA1 and order.grid == w.A1


def test_filing_needs_no_description_and_takes_the_key_from_the_query_string(w: SimpleNamespace, api: Client) -> None:
    data = filing(w, description=None, api_key=None)
    response = api.post(f"{BASE}/requests.json?api_key={w.key}", data)
    number = as_json(response)[0]["service_request_id"]
    assert WorkOrder.objects.get(community=w.A, number=number).description == w.noise.name


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"api_key": None}, 400, "api_key"),
        ({"api_key": "o311_not-a-key"}, 403, "api_key"),
        ({"jurisdiction_id": B}, 403, "fuxi"),  # A's key, B's catalogue
        ({"jurisdiction_id": "nowhere"}, 404, "jurisdiction_id"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "no-such"}, 404, "service_code"),
        ({"lat": None, "long": None, "address_string": None}, 400, "location"),
        ({"long": None, "address_string": None}, 400, "location"),  # lat alone is no location
        ({"address_string": None, "address_id": "abc", "lat": None}, 400, "address_id"),
        ({"address_string": None, "address_id": "99999999999999999999999", "lat": None}, 400, "address_id"),
        ({"lat": "north"}, 400, "coordinate"),
        ({"long": "400"}, 400, "coordinate"),
        ({"description": "长" * 4001}, 400, "4000"),
        ({"phone": "1" * 30}, 400, "20"),
    ],
)
def test_bad_filings_are_refused_in_the_spec_format_and_nothing_is_written(
    w: SimpleNamespace, api: Client, changes: dict[str, Any], status: int, words: str
) -> None:
    before = (WorkOrder.objects.count(), OrderEvent.objects.count())
    description = json_error(post(api, filing(w, **changes)), status)
    assert words in description
    xml_error(post(api, filing(w, **changes), "xml"), status)
    assert (WorkOrder.objects.count(), OrderEvent.objects.count()) == before


def test_a_building_of_another_community_is_refused(w: SimpleNamespace, api: Client) -> None:
    data = filing(w, lat=None, address_string=None, address_id=str(w.bB1.pk))
    json_error(post(api, data), 400)
    assert not WorkOrder.objects.exists()


def test_a_revoked_key_no_longer_files(w: SimpleNamespace, api: Client) -> None:
    as_json(post(api, filing(w)))
    client = services.open311_client_for(w.key)
    assert client is not None and client.last_used_at is not None
    services.open311_client_revoke(actor=actor_for(w.staff_a), client=client)
    assert "revoked" in json_error(post(api, filing(w)), 403)
    xml_error(post(api, filing(w), "xml"), 403)
    assert WorkOrder.objects.count() == 1


# --- reading requests -----------------------------------------------------------------------------------------------
def filed(w: SimpleNamespace, api: Client, **changes: Any) -> WorkOrder:
    number = as_json(post(api, filing(w, **changes)))[0]["service_request_id"]
    return WorkOrder.objects.get(community=w.A, number=number)


def test_one_request_in_json_and_xml(w: SimpleNamespace, api: Client) -> None:
    order = filed(w, api)
    body = as_json(api.get(f"{BASE}/requests/{order.number}.json", {"jurisdiction_id": A}))
    assert len(body) == 1 and list(body[0]) == REQUEST_FIELDS
    one = body[0]
    assert one["service_request_id"] == order.number and one["status"] == "open"
    assert one["service_code"] == "property-noise" and one["service_name"] == w.noise.name
    assert one["lat"] == 34.265 and one["long"] == 108.93
    assert one["requested_datetime"] == timezone.localtime(order.received_at).isoformat(timespec="seconds")
    assert one["requested_datetime"].endswith("+08:00")
    assert one["expected_datetime"] == timezone.localtime(order.due_at).isoformat(timespec="seconds")
    assert one["agency_responsible"] == w.A.name and one["media_url"] is None and one["zipcode"] is None

    root = as_xml(api.get(f"{BASE}/requests/{order.number}.xml", {"jurisdiction_id": A}))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == REQUEST_FIELDS
    assert request.findtext("service_request_id") == order.number and request.findtext("status") == "open"
    assert request.findtext("media_url") == "" and request.findtext("lat") == "34.265"


def test_unknown_hidden_or_foreign_requests_are_not_found(w: SimpleNamespace, api: Client) -> None:
    order = filed(w, api)
    json_error(api.get(f"{BASE}/requests/2000-9999.json", {"jurisdiction_id": A}), 404)
    xml_error(api.get(f"{BASE}/requests/{order.number}.xml", {"jurisdiction_id": B}), 404)  # B has no such number
    WorkOrder.objects.filter(pk=order.pk).update(on_echo_wall=False)  # staff keep it off the public record
    json_error(api.get(f"{BASE}/requests/{order.number}.json", {"jurisdiction_id": A}), 404)
    assert as_json(api.get(f"{BASE}/requests.json", {"jurisdiction_id": A})) == []


def test_token(w: SimpleNamespace, api: Client) -> None:
    order = filed(w, api)
    body = as_json(api.get(f"{BASE}/tokens/{order.token}.json", {"jurisdiction_id": A}))
    assert body == [{"service_request_id": order.number, "token": order.token}]
    root = as_xml(api.get(f"{BASE}/tokens/{order.token}.xml", {"jurisdiction_id": A}))
    assert [c.tag for c in root.findall("request")[0]] == ["service_request_id", "token"]
    json_error(api.get(f"{BASE}/tokens/{'0' * 32}.json", {"jurisdiction_id": A}), 404)
    xml_error(api.get(f"{BASE}/tokens/{order.token}.xml", {"jurisdiction_id": B}), 404)


def test_searching_requests(w: SimpleNamespace, api: Client) -> None:
    noisy = filed(w, api)
    repair = filed(w, api, service_code="property-repair")
    old = filed(w, api)
    WorkOrder.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=100))
    file_order(w, user=w.steward_a1)  # another channel: published all the same
    b_order = services.order_create(
        actor=actor_for(w.staff_b),
        community=w.B,
        data=OrderInput(category="property-noise", description="府西的事", building_id=w.bB1.pk),
        channel="hotline",
    ).order

    def numbers(fmt: str = "json", **params: str) -> list[str]:
        response = api.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": A, **params})
        if fmt == "xml":
            root = as_xml(response)
            assert root.tag == "service_requests"
            return [r.findtext("service_request_id") or "" for r in root.findall("request")]
        return [r["service_request_id"] for r in as_json(response)]

    recent = numbers()
    assert len(recent) == 3 and old.number not in recent  # the last 90 days by default
    rows = as_json(api.get(f"{BASE}/requests.json", {"jurisdiction_id": A}))
    assert b_order.description not in {r["description"] for r in rows}  # B's orders are B's
    assert numbers("xml") == recent
    assert recent[0] > recent[-1]  # newest first
    assert numbers(service_code="property-repair") == [repair.number]
    assert set(numbers(service_code="property-repair,property-noise")) == set(recent)
    assert sorted(numbers(service_request_id=f"{old.number}, {noisy.number},2000-0001")) == sorted(
        [old.number, noisy.number]
    )  # the ids override the date window
    start = (timezone.now() - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert numbers(start_date=start, end_date=end) == [old.number]
    assert numbers(start_date=(timezone.localdate() - timedelta(days=120)).isoformat()) == [old.number]
    assert numbers(status="closed") == []
    assert set(numbers(status="open")) == set(recent) == set(numbers(status="open,closed"))


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-45T00:00:00Z"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"}, "after"),
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}, "90 days"),
        ({"status": "pending"}, "status"),
        ({"end_date": "0001-01-01T00:00:00Z"}, "end_date"),
        ({"start_date": "9999-12-31"}, "start_date"),
    ],
)
def test_bad_searches_are_refused(w: SimpleNamespace, api: Client, params: dict[str, str], words: str) -> None:
    assert words in json_error(api.get(f"{BASE}/requests.json", {"jurisdiction_id": A, **params}), 400)
    xml_error(api.get(f"{BASE}/requests.xml", {"jurisdiction_id": A, **params}), 400)


# --- the status through a whole order ------------------------------------------------------------------------------
def test_status_through_the_whole_chain(w: SimpleNamespace, api: Client) -> None:
    staff = actor_for(w.staff_a)
    order = filed(w, api)

    def seen() -> dict[str, Any]:
        return as_json(api.get(f"{BASE}/requests/{order.number}.json", {"jurisdiction_id": A}))[0]

    def xml_status() -> str:
        root = as_xml(api.get(f"{BASE}/requests/{order.number}.xml", {"jurisdiction_id": A}))
        return root.findtext("request/status") or ""

    assert seen()["status"] == "open"
    services.order_accept(actor=staff, order=order)
    services.order_grade(actor=staff, order=order, severity="red")
    expected = timezone.localtime(WorkOrder.objects.get(pk=order.pk).due_at).isoformat(timespec="seconds")
    assert seen()["expected_datetime"] == expected  # red: 3 days
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
    )
    assert seen()["agency_responsible"] == "兴庆物业公司"
    services.order_start(actor=staff, order=order)
    services.order_note(actor=staff, order=order, note="内部：业主电话13700001111", public=False)
    assert seen()["status_notes"] is None  # internal notes stay inside
    services.order_note(actor=staff, order=order, note="物业已联系音响主人", public=True)
    assert (seen()["status"], seen()["status_notes"]) == ("open", "物业已联系音响主人")
    services.order_hold(actor=staff, order=order, reason="等待业主委员会开会")
    assert (seen()["status"], seen()["status_notes"]) == ("open", "等待业主委员会开会")
    services.order_resume(actor=staff, order=order)
    services.order_resolve(actor=staff, order=order, answer="约定晚上九点后音量调低")
    resolved = WorkOrder.objects.get(pk=order.pk)
    one = seen()
    assert (one["status"], one["status_notes"]) == ("closed", "约定晚上九点后音量调低") and xml_status() == "closed"
    assert one["updated_datetime"] == timezone.localtime(resolved.resolved_at).isoformat(timespec="seconds")
    services.order_rate(actor=staff, order=order, rating=1, comment="还是吵")  # by phone: reopens
    assert seen()["status"] == "open" and xml_status() == "open"
    services.order_dispatch(
        actor=staff, order=order, assignees=[AssigneeInput(handler="grid_worker", user_id=w.grid_worker_a1.pk)]
    )
    one = seen()
    assert one["agency_responsible"] == f"{w.A.name} · grid worker"  # a person's role, never their name
    assert w.grid_worker_a1.name not in json.dumps(one, ensure_ascii=False)
    services.order_start(actor=staff, order=order)
    services.order_resolve(actor=staff, order=order, answer="已安装限音器")
    services.order_close(actor=staff, order=order)
    closed = WorkOrder.objects.get(pk=order.pk)
    one = seen()
    assert (one["status"], one["status_notes"]) == ("closed", "已安装限音器")
    assert one["updated_datetime"] == timezone.localtime(closed.closed_at).isoformat(timespec="seconds")
    assert as_json(api.get(f"{BASE}/requests.json", {"jurisdiction_id": A, "status": "closed"}))[0]["status"] == (
        "closed"
    )


def test_merged_and_cancelled_are_closed(w: SimpleNamespace, api: Client) -> None:
    staff = actor_for(w.staff_a)
    first, duplicate, withdrawn = filed(w, api), filed(w, api), filed(w, api)
    services.order_merge(actor=staff, order=duplicate, into=first)
    services.order_cancel(actor=staff, order=withdrawn, reason="不是本社区的事")
    rows = {
        r["service_request_id"]: r
        for r in as_json(api.get(f"{BASE}/requests.json", {"jurisdiction_id": A, "status": "closed"}))
    }
    assert set(rows) == {duplicate.number, withdrawn.number}
    assert first.number in rows[duplicate.number]["status_notes"]
    assert rows[withdrawn.number]["status_notes"] == "不是本社区的事"
    assert [
        r["service_request_id"]
        for r in as_json(api.get(f"{BASE}/requests.json", {"status": "open", "jurisdiction_id": A}))
    ] == [first.number]


# --- privacy --------------------------------------------------------------------------------------------------------
def test_nothing_personal_in_any_answer(w: SimpleNamespace, api: Client) -> None:
    order = filed(
        w,
        api,
        description="请回电13912345678，身份证610102195001011234，住502",
        address_string="兴庆小区1号楼2单元502",
    )
    resident = file_order(w, description="楼上漏水 请回电 029-87654321")  # pA1 王秀英 13800000001, by QR
    services.order_note(actor=actor_for(w.staff_a), order=order, note="已回电 13912345678", public=True)
    secrets = [
        "张伟",
        "13912345678",
        "610102195001011234",
        "zhang@example.com",
        "img.example.com",
        "acc-9",
        "2单元502",
        w.pA1.name,
        w.pA1.phone,
        "87654321",
    ]
    answers = [
        api.get(f"{BASE}/requests.json", {"jurisdiction_id": A}),
        api.get(f"{BASE}/requests.xml", {"jurisdiction_id": A}),
        api.get(f"{BASE}/requests/{order.number}.json", {"jurisdiction_id": A}),
        api.get(f"{BASE}/requests/{order.number}.xml", {"jurisdiction_id": A}),
        api.get(f"{BASE}/requests/{resident.number}.xml", {"jurisdiction_id": A}),
        api.get(f"{BASE}/tokens/{order.token}.json", {"jurisdiction_id": A}),
        post(api, filing(w)),
        post(api, filing(w), "xml"),
    ]
    for response in answers:
        assert response.status_code == 200
        text = response.content.decode()
        assert not [s for s in secrets if s in text], text
    listed = as_json(answers[0])
    mine = next(r for r in listed if r["service_request_id"] == order.number)
    assert "139****5678" in mine["description"] and mine["address"] == "兴庆小区1号楼****"
    assert mine["status_notes"] == "已回电 139****5678"
    theirs = next(r for r in listed if r["service_request_id"] == resident.number)
    assert theirs["address"] == str(w.bA1) and theirs["address_id"] == w.bA1.pk


def test_scrub() -> None:
    assert scrub("电话13912345678或029-87654321") == "电话139****5678或029****4321"
    assert scrub("身份证61010219500101123X") == "身份证******************"
    assert scrub("订单2026-0042共3户") == "订单2026-0042共3户"  # numbers that are not phones stay


def test_xml_stays_well_formed_with_control_characters(w: SimpleNamespace, api: Client) -> None:
    order = filed(w, api, description="声音\x01很大\x0b<b>&amp;</b>")
    root = as_xml(api.get(f"{BASE}/requests/{order.number}.xml", {"jurisdiction_id": A}))
    assert root.findtext("request/description") == "声音很大<b>&amp;</b>"


def test_errors_follow_the_clients_language(w: SimpleNamespace, api: Client) -> None:
    english = json_error(post(api, filing(w, lat="north")), 400)
    assert "coordinate" in english  # no Accept-Language: English
    assert api.get(f"{BASE}/services.json", {"jurisdiction_id": A}, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


# --- the key management page ----------------------------------------------------------------------------------------
def test_staff_issue_a_key_shown_once_and_revoke_it(w: SimpleNamespace, api: Client) -> None:
    staff = client_for(w.staff_a)
    url = f"/orders/open311/clients/?community={w.A.pk}"
    page = staff.get(url)
    assert page.status_code == 200 and "随手拍" in page.content.decode() and w.key not in page.content.decode()
    issued = staff.post(url, {"name": "街道12345对接"})
    assert issued.status_code == 200 and issued["Cache-Control"].startswith("max-age=0")
    text = issued.content.decode()
    start = text.index('data-testid="new-key">') + len('data-testid="new-key">')
    key = text[start : text.index("<", start)]
    assert key.startswith("o311_")
    assert key not in staff.get(url).content.decode()  # only once
    as_json(post(api, filing(w, api_key=key)))
    client = services.open311_client_for(key)
    assert client is not None and client.name == "街道12345对接"
    response = staff.post(f"/orders/open311/clients/{client.pk}/revoke/")
    assert response.status_code == 302
    json_error(post(api, filing(w, api_key=key)), 403)
    assert "revoked" in staff.get(url).content.decode() or "撤销" in staff.get(url).content.decode()


def test_a_key_needs_a_name_and_other_staff_cannot_revoke(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    response = staff.post(f"/orders/open311/clients/?community={w.A.pk}", {"name": "  "})
    assert response.status_code == 200 and 'data-testid="new-key"' not in response.content.decode()
    client = services.open311_client_for(w.key)
    assert client is not None
    assert client_for(w.staff_b).post(f"/orders/open311/clients/{client.pk}/revoke/").status_code in {403, 404}
    assert client_for(w.staff_a).post("/orders/open311/clients/999999/revoke/").status_code == 404
    assert services.open311_client_for(w.key) is not None
