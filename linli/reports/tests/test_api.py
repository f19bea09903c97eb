"""The reports API with October 2026 lived through in community A (reports.testing.make_october: every number known
by hand), asked on 2 November: figures month by month, the dashboards' series, the street roll-up, publishing the
disclosure with its Idempotency-Key, the public notice, and bad input answered with stable codes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from linli.common.testing import client_for
from linli.ledger.models import Seal
from linli.reports import domain
from linli.reports.models import Disclosure
from linli.reports.testing import AFTER, OCTOBER, at, make_october

pytestmark = pytest.mark.django_db
API = "/api/v1/reports"


@pytest.fixture
def october(world: SimpleNamespace) -> SimpleNamespace:
    return make_october(world)


def get(client: Client, path: str) -> Any:
    with at(AFTER):
        return client.get(API + path)


def post(client: Client, path: str, body: dict[str, Any], key: str | None = "k1") -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    with at(AFTER):
        return client.post(API + path, data=json.dumps(body), content_type="application/json", headers=headers)


def error(response: Any, status: int) -> str:
    assert response.status_code == status, response.content
    return str(response.json()["code"])


# --- figures and dashboards -------------------------------------------------------------------------------------------


def test_months_from_the_first_entry_to_the_running_month(october: SimpleNamespace) -> None:
    w = october
    r = get(client_for(w.staff_a), f"/communities/{w.A.id}/months")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["months"] == ["2026-09", "2026-10", "2026-11"]
    sep, oct_, nov = body["figures"]
    assert sep["points"]["earned"] == 20 and sep["points"]["circulation_end"] == 20
    assert (oct_["points"]["earned"], oct_["points"]["spent"], oct_["points"]["circulation_end"]) == (28, 15, 33)
    assert oct_["volunteers"] == 3 and oct_["top_volunteers"][0] == {"name": "王*英", "points": 17}
    assert oct_["orders"]["completion_rate"] == 50.0 and oct_["council"]["meetings"] == 1
    assert oct_["complete"] is True and nov["complete"] is False
    assert nov["points"]["circulation_start"] == 33  # chained from October


def test_months_within_the_history_and_bad_months(october: SimpleNamespace) -> None:
    w = october
    client = client_for(w.auditor_a)
    one = get(client, f"/communities/{w.A.id}/months?since=2026-10&until=2026-10").json()
    assert one["months"] == ["2026-10"] and one["figures"][0]["points"]["earned"] == 28
    # asking from long before the first entry gives the history, never empty years
    assert get(client, f"/communities/{w.A.id}/months?since=2020-01").json()["months"][0] == "2026-09"
    assert get(client, f"/communities/{w.A.id}/months?since=2027-01").json()["months"] == []
    bad = get(client, f"/communities/{w.A.id}/months?since=2026-13")
    assert error(bad, 400) == "month_invalid" and bad.json()["field"] == "since"
    assert error(get(client, f"/communities/{w.A.id}/months?until=oct"), 400) == "month_invalid"
    assert error(get(client, f"/communities/{w.A.id}/months?since=2026-11&until=2026-10"), 400) == "month_range_invalid"
    assert error(get(client, f"/communities/{w.A.id}/months?since=2026-100"), 400) == "invalid_input"  # too long
    assert error(get(client, "/communities/999999/months"), 404) == "not_found"
    # another community's staff learn nothing
    assert get(client_for(w.staff_b), f"/communities/{w.A.id}/months").status_code == 404


def test_community_dashboard_series(october: SimpleNamespace) -> None:
    w = october
    body = get(client_for(w.grid_worker_a2), f"/communities/{w.A.id}/dashboard").json()
    assert body["months"] == ["2026-09", "2026-10", "2026-11"]
    values = body["series"]["values"]
    assert values["earned"] == [20, 28, 0]
    assert values["spent"] == [0, 15, 0]
    assert values["circulation"] == [20, 33, 33]
    assert values["volunteers"] == [1, 3, 0]
    assert values["completion_rate"][1] == 50.0 and values["completion_rate"][2] is None  # no orders: "—", not 0 %
    assert body["last_closed"]["month"] == "2026-10" and body["latest"]["month"] == "2026-11"


def test_grid_dashboard_counts_its_grid(october: SimpleNamespace) -> None:
    w = october
    body = get(client_for(w.grid_chief_a1), f"/grids/{w.A1.id}/dashboard").json()
    assert body["months"] == ["2026-09", "2026-10", "2026-11"]
    assert body["rows"][1] == {"volunteers": 2, "earned": 22, "received": 2, "completed": 1, "meetings": 1}
    assert body["series"]["values"]["earned"] == [0, 22, 0]  # September's 20 went to 李建华 in grid A2
    a2 = get(client_for(w.staff_a), f"/grids/{w.A2.id}/dashboard").json()
    assert a2["rows"][1]["volunteers"] == 1 and a2["rows"][0]["earned"] == 20
    assert get(client_for(w.staff_b), f"/grids/{w.A1.id}/dashboard").status_code == 404


def test_street_rollup_ranks_the_communities(october: SimpleNamespace) -> None:
    w = october
    client = client_for(w.street_admin)
    body = get(client, f"/streets/{w.S.id}/rollup?month=2026-10&metric=earned").json()
    assert body["month"] == "2026-10" and body["metric"] == "earned" and "volunteer_share" in body["metrics"]
    rows = [(r["code"], r["rank"], r["values"]["earned"]) for r in body["rows"]]
    assert rows == [(w.A.code, 1, 28), (w.B.code, 2, 0)]  # street S holds A and B; C is street T's
    assert body["totals"]["earned"] == 28 and body["totals"]["volunteers"] == 3
    assert body["totals"]["residents"] == sum(r["values"]["residents"] for r in body["rows"])
    # the default month is the last closed one, the default ranking volunteers
    default = get(client, f"/streets/{w.S.id}/rollup").json()
    assert default["month"] == "2026-10" and default["metric"] == "volunteers"
    assert default["rows"][0]["values"]["volunteers"] == 3
    assert error(get(client, f"/streets/{w.S.id}/rollup?metric=nonsense"), 400) == "metric_invalid"
    assert error(get(client, f"/streets/{w.S.id}/rollup?month=2026-12"), 400) == "month_in_future"
    assert error(get(client, f"/streets/{w.S.id}/rollup?month=2026/10"), 400) == "month_invalid"
    assert get(client_for(w.staff_a), f"/streets/{w.S.id}/rollup").status_code == 404  # a community grant
    assert get(client, f"/streets/{w.T.id}/rollup").status_code == 404


# --- the monthly disclosure -------------------------------------------------------------------------------------------


def test_publish_then_retry_with_the_same_key(october: SimpleNamespace) -> None:
    w = october
    client = client_for(w.staff_a)
    path = f"/communities/{w.A.id}/disclosures"
    first = post(client, path, {"month": "2026-10"}, key="oct-1")
    assert first.status_code == 201, first.content
    d = first.json()
    seal = Seal.objects.get(community=w.A, month="2026-10")
    assert (d["month"], d["revision"], d["current"]) == ("2026-10", 1, True)
    assert d["seal"]["root"] == seal.merkle_root and d["seal"]["transfers"] == seal.transfer_count
    stored = Disclosure.objects.get(pk=d["id"])
    assert d["digest"] == stored.digest == domain.digest(stored.figures)
    assert stored.figures["points"]["earned"] == 28 and stored.figures["points"]["circulation_end"] == 33
    assert d["published_by"] == w.staff_a.name and d["public_url"] == f"/disclosure/{w.A.code}/2026-10/"
    # the same key again: the same disclosure, 200, nothing new
    again = post(client, path, {"month": "2026-10"}, key="oct-1")
    assert again.status_code == 200 and again.json()["id"] == d["id"]
    assert Disclosure.objects.filter(community=w.A).count() == 1
    # the same key for another month is a conflict, and publishes nothing
    assert error(post(client, path, {"month": "2026-09"}, key="oct-1"), 409) == "idempotency_key_reused"
    assert not Disclosure.objects.filter(community=w.A, month=OCTOBER.replace(month=9)).exists()
    # another key, no reason: the month is already published, it comes back as it is
    other = post(client, path, {"month": "2026-10"}, key="oct-2")
    assert other.status_code == 200 and other.json()["id"] == d["id"]


def test_a_correction_is_the_next_revision(october: SimpleNamespace) -> None:
    w = october
    client = client_for(w.staff_a)
    path = f"/communities/{w.A.id}/disclosures"
    first = post(client, path, {"month": "2026-10"}, key="a").json()
    second = post(client, path, {"month": "2026-10", "reason": "漏记一笔捐赠"}, key="b")
    assert second.status_code == 201
    assert (second.json()["revision"], second.json()["reason"]) == (2, "漏记一笔捐赠")
    listed = get(client_for(w.auditor_a), path).json()
    assert listed["count"] == 2
    current, replaced = listed["items"]
    assert (current["revision"], current["current"]) == (2, True)
    assert (replaced["id"], replaced["current"]) == (first["id"], False) and replaced["replaced_at"]
    assert replaced["public_url"].endswith("/2026-10/?revision=1")


def test_publish_refuses_bad_input_and_writes_nothing(october: SimpleNamespace) -> None:
    w = october
    client = client_for(w.staff_a)
    path = f"/communities/{w.A.id}/disclosures"
    assert error(post(client, path, {"month": "2026-10"}, key=None), 400) == "idempotency_key_required"
    assert error(post(client, path, {"month": "2026-10"}, key="   "), 400) == "idempotency_key_required"
    assert error(post(client, path, {"month": "2026-10"}, key="x" * 101), 400) == "idempotency_key_invalid"
    assert error(post(client, path, {"month": "2026-11"}), 409) == "month_not_over"
    assert error(post(client, path, {"month": "2027-01"}), 409) == "month_not_over"
    bad = post(client, path, {"month": "十月"})
    assert error(bad, 400) == "month_invalid" and bad.json()["field"] == "month"
    assert error(post(client, path, {}), 400) == "invalid_input"
    assert error(post(client, path, {"month": "2026-10", "reason": "x" * 201}), 400) == "invalid_input"
    assert error(post(client, "/communities/999999/disclosures", {"month": "2026-10"}), 404) == "not_found"
    # readers may not publish: the auditor and a grid worker of A, B's staff
    for user in (w.auditor_a, w.grid_worker_a1, w.staff_b):
        assert post(client_for(user), path, {"month": "2026-10"}).status_code in {403, 404}
    assert not Disclosure.objects.exists()
    assert not Seal.objects.filter(community=w.A, month="2026-10").exists()


def test_the_published_notice_is_public(october: SimpleNamespace) -> None:
    w = october
    published = post(client_for(w.staff_a), f"/communities/{w.A.id}/disclosures", {"month": "2026-10"}).json()
    anyone = Client()
    r = get(anyone, f"/public/{w.A.code}/2026-10")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["digest"] == published["digest"] == domain.digest(body["figures"])
    assert body["seal"]["root"] == Seal.objects.get(community=w.A, month="2026-10").merkle_root
    assert body["figures"]["points"]["earned"] == 28 and body["community"] == w.A.name
    assert "published_by" not in body
    text = r.content.decode()
    assert w.pA1.name not in text and w.pA1.phone not in text  # masked names only (王*英)
    # what was not published, or does not exist, is 404
    assert error(get(anyone, f"/public/{w.A.code}/2026-09"), 404) == "not_found"
    assert get(anyone, f"/public/{w.B.code}/2026-10").status_code == 404
    assert get(anyone, "/public/nowhere/2026-10").status_code == 404
    assert get(anyone, f"/public/{w.A.code}/october").status_code == 404
    assert get(anyone, f"/public/{w.A.code}/2026-10?revision=2").status_code == 404
    assert error(get(anyone, f"/public/{w.A.code}/2026-10?revision=0"), 400) == "invalid_input"
