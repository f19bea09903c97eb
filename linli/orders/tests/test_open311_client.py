"""A third-party Open311 client against a live linli server.

The client is `georeport` 0.3.1 from PyPI (a GeoReport v2 wrapper; dev dependency). Of the Python clients on PyPI it
is the only one that installs on Python 3.11: `open311` 1.1 and `three` 0.8.0 are Python 2 code
(`from api import API`, `itertools.ifilter`). georeport reads services, service definitions and requests in JSON and
XML, but cannot file a request ("does not currently support the creation of new 311 service requests"), so filing
is done by `file_request` below: a plain form-encoded POST written from the spec's text, not from our code.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from georeport import GeoReport

from linli.common.testing import make_world
from linli.ledger.tests.test_concurrency import real_db  # noqa: F401  (live_root's database)
from linli.market.tests.test_http_concurrency import live_root  # noqa: F401
from linli.orders import services
from linli.orders.models import Channel, WorkOrder
from linli.orders.testing import make_orders
from linli.org.access import actor_for

pytestmark = pytest.mark.django_db(transaction=True)


def file_request(root: str, fmt: str = "json", **fields: str) -> requests.Response:
    """POST Service Request as the spec shows it: application/x-www-form-urlencoded to <endpoint>/requests.<fmt>."""
    return requests.post(f"{root}/requests.{fmt}", data=fields, timeout=30)


@pytest.fixture
def live(live_root: str) -> SimpleNamespace:  # noqa: F811
    w = make_orders(make_world())
    w.key = services.open311_client_issue(actor=actor_for(w.staff_a), community=w.A, name="georeport").key
    w.root = f"{live_root}/open311/v2"
    return w


def test_a_third_party_client_lists_files_and_reads_back(live: SimpleNamespace) -> None:
    client = GeoReport(live.root, jurisdiction="dxdl", api_key=live.key)
    services_list = client.get_service_list()
    codes = {s["service_code"] for s in services_list}
    assert {"property-noise", "property-repair"} <= codes
    assert client.get_service_definition("property-noise") == {"service_code": "property-noise", "attributes": []}

    response = file_request(
        live.root,
        api_key=live.key,
        jurisdiction_id="dxdl",
        service_code="property-noise",
        lat="34.265",
        long="108.93",
        first_name="Wei",
        last_name="Zhang",
        phone="13912345678",
        description="Loud music in the square after 10 pm",
    )
    assert response.status_code == 200, response.text
    number = response.json()[0]["service_request_id"]
    order = WorkOrder.objects.get(community=live.A, number=number)
    assert order.channel == Channel.OPEN311 and order.contact_name == "Wei Zhang"

    one = client.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    assert one["description"] == "Loud music in the square after 10 pm" and one["lat"] == 34.265
    assert [r["service_request_id"] for r in client.get_service_requests(service_request_id=number)] == [number]
    assert number in {r["service_request_id"] for r in client.get_service_requests(status="open")}
    assert client.get_service_requests(status="closed") == []

    services.order_accept(actor=actor_for(live.staff_a), order=order)
    services.order_dispatch(
        actor=actor_for(live.staff_a),
        order=order,
        assignees=[services.AssigneeInput(handler="property", unit_id=live.propertyA.pk)],
    )
    services.order_start(actor=actor_for(live.staff_a), order=order)
    services.order_resolve(actor=actor_for(live.staff_a), order=order, answer="Volume limited after 9 pm")
    done = client.get_service_request(number)
    assert (done["status"], done["status_notes"]) == ("closed", "Volume limited after 9 pm")
    assert done["agency_responsible"] == "兴庆物业公司"
    assert "13912345678" not in str(done) and "Zhang" not in str(done)


def test_the_same_client_reads_xml(live: SimpleNamespace) -> None:
    client = GeoReport(live.root, jurisdiction="dxdl", output_format="xml")
    names = {s["service_code"]: s["service_name"] for s in client.get_service_list()}
    assert names["property-noise"] == "噪音扰民"
    definition = client.get_service_definition("property-noise")
    assert definition["service_code"] == "property-noise"

    response = file_request(
        live.root,
        "xml",
        api_key=live.key,
        service_code="property-repair",
        address_id=str(live.bA1.pk),
        description="楼道灯坏了",
    )
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "<service_request_id>" in response.text
    number = WorkOrder.objects.get(community=live.A, channel=Channel.OPEN311).number
    one = client.get_service_request(number)  # a single <request> comes back as one dict
    assert (one["service_request_id"], one["status"], one["service_code"]) == (number, "open", "property-repair")
    assert one["address_id"] == str(live.bA1.pk) and one["media_url"] is None


def test_refusals_reach_the_client_as_http_errors(live: SimpleNamespace) -> None:
    client = GeoReport(live.root, jurisdiction="dxdl")
    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("2000-0001")
    answer = missing.value.response
    assert answer is not None and answer.status_code == 404 and answer.json()[0]["code"] == 404
    with pytest.raises(requests.HTTPError):
        GeoReport(live.root).get_service_list()  # three communities: jurisdiction_id is needed
    refused = file_request(live.root, api_key="o311_wrong", service_code="property-noise", address_string="1号楼")
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
    assert not WorkOrder.objects.exists()
