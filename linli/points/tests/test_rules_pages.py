"""The rules editor, templates, import/export and published catalogue pages, and the rules API, as staff use them."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from linli.common.testing import client_for
from linli.org.access import actor_for
from linli.points import services
from linli.points.models import Recorder, Rule, RuleArea, RuleVersion, Steps, Unit
from linli.points.services import RuleData
from linli.points.testing import make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


@pytest.fixture
def staff(w: SimpleNamespace) -> Client:
    return client_for(w.staff_a)


def rule_form(w: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    data = {
        "area": w.areaA.pk,
        "code": "repair",
        "name": "帮助居民维修家电",
        "points": "3",
        "unit": Unit.OCCURRENCE,
        "difficulties": "一般:100，较难：150",
        "daily_cap": "",
        "monthly_cap": "30",
        "recorders": [Recorder.SELF, Recorder.GRID],
        "steps": Steps.APPROVE,
        "valid_from": "",
        "valid_until": "",
        "position": "",
    }
    data.update(overrides)
    return data


def test_editor_lists_areas_and_rules_with_retired_greyed(w: SimpleNamespace, staff: Client) -> None:
    services.rule_retire(actor=actor_for(w.staff_a), rule=w.haircut)
    page = staff.get(reverse("points:rules"), {"community": w.A.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert "环境清扫" in html and "成功调解一起邻里纠纷" in html and "废旧回收" in html
    assert 'class="retired" data-code="haircut"' in html
    assert 'class="" data-code="cleanup"' in html
    assert reverse("points:rule_edit", args=[w.cleanupB.pk]) not in html  # B's catalogue is not shown


def test_area_create_and_rename(w: SimpleNamespace, staff: Client) -> None:
    response = staff.post(f"{reverse('points:area_create')}?community={w.A.pk}", {"name": "绿色环保", "position": "3"})
    assert response.status_code == 302
    area = RuleArea.objects.get(community=w.A, name="绿色环保")
    duplicate = staff.post(f"{reverse('points:area_create')}?community={w.A.pk}", {"name": "绿色环保"})
    assert duplicate.status_code == 200 and RuleArea.objects.filter(name="绿色环保").count() == 1
    assert "error" in duplicate.content.decode()
    staff.post(reverse("points:area_edit", args=[area.pk]), {"name": "绿色生活", "position": "3"})
    area.refresh_from_db()
    assert area.name == "绿色生活"


def test_rule_create_reads_levels_checkboxes_and_radio(w: SimpleNamespace, staff: Client) -> None:
    response = staff.post(f"{reverse('points:rule_create')}?community={w.A.pk}", rule_form(w))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = Rule.objects.select_related("current").get(community=w.A, code="repair")
    v = rule.current
    assert v is not None
    assert v.difficulties == [{"name": "一般", "percent": 100}, {"name": "较难", "percent": 150}]
    assert v.recorder_list == ["self", "grid_worker"] and v.steps == Steps.APPROVE
    assert (v.monthly_cap, v.daily_cap, v.number) == (30, None, 1)


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"difficulties": "一般"}, "一般:100"),
        ({"code": "cleanup"}, "cleanup"),  # taken
        ({"recorders": []}, ""),
        ({"daily_cap": "50", "monthly_cap": "10"}, ""),
        ({"valid_from": "2030-01-01", "valid_until": "2029-01-01"}, ""),
        ({"points": "0"}, ""),
        ({"area": "999999"}, ""),
    ],
)
def test_bad_rule_input_stays_on_the_form_and_writes_nothing(
    w: SimpleNamespace, staff: Client, overrides: dict[str, Any], field_text: str
) -> None:
    before = (Rule.objects.count(), RuleVersion.objects.count())
    response = staff.post(f"{reverse('points:rule_create')}?community={w.A.pk}", rule_form(w, **overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html or "error-box" in html
    assert field_text in html
    assert (Rule.objects.count(), RuleVersion.objects.count()) == before


def test_rule_create_without_areas_sends_to_area_create(world: SimpleNamespace) -> None:
    response = client_for(world.staff_a).get(reverse("points:rule_create"), {"community": world.A.pk})
    assert response.status_code == 302 and reverse("points:area_create") in response["Location"]


def test_editing_makes_a_version_only_when_content_changed_and_shows_history(w: SimpleNamespace, staff: Client) -> None:
    url = reverse("points:rule_edit", args=[w.cleanup.pk])
    form = staff.get(url)
    assert form.status_code == 200 and 'value="一般:100, 较难:150"' in form.content.decode()
    initial = {
        "area": w.areaA.pk,
        "name": "环境清扫",
        "points": "3",
        "unit": Unit.HOUR,
        "difficulties": "一般:100, 较难:150",
        "daily_cap": "9",
        "monthly_cap": "60",
        "recorders": [Recorder.SELF, Recorder.STEWARD, Recorder.GRID],
        "steps": Steps.VERIFY_APPROVE,
    }
    assert staff.post(url, initial).status_code == 302
    assert w.cleanup.versions.count() == 1
    assert staff.post(url, {**initial, "points": "4", "daily_cap": ""}).status_code == 302
    rule = Rule.objects.select_related("current").get(pk=w.cleanup.pk)
    assert rule.current is not None and (rule.current.number, rule.current.points, rule.current.daily_cap) == (
        2,
        4,
        None,
    )
    history = staff.get(url).content.decode()
    assert "<del>3</del> → <ins>4</ins>" in history and "<del>9</del> → <ins>—</ins>" in history


def test_retire_and_use_again(w: SimpleNamespace, staff: Client) -> None:
    url = reverse("points:rule_retire", args=[w.cleanup.pk])
    assert staff.post(url, {"retired": "1"}).status_code == 302
    assert Rule.objects.get(pk=w.cleanup.pk).retired
    back = staff.post(url, {"retired": "0", "next": "edit"})
    assert back["Location"] == reverse("points:rule_edit", args=[w.cleanup.pk])
    assert not Rule.objects.get(pk=w.cleanup.pk).retired
    assert staff.get(url).status_code == 405


def test_staff_of_another_community_cannot_reach_the_rule(w: SimpleNamespace) -> None:
    other = client_for(w.staff_b)
    assert other.get(reverse("points:rule_edit", args=[w.cleanup.pk])).status_code == 404
    assert other.post(reverse("points:rule_retire", args=[w.cleanup.pk])).status_code == 404
    assert not Rule.objects.get(pk=w.cleanup.pk).retired


def test_template_page_previews_then_applies_once(world: SimpleNamespace) -> None:
    staff = client_for(world.staff_a)
    url = reverse("points:catalogue_templates")
    preview = staff.get(url, {"community": world.A.pk, "template": "hejin"})
    html = preview.content.decode()
    assert preview.status_code == 200 and "上门为高龄老人打扫卫生、整理家务" in html and "hj-elder-clean" in html
    assert staff.post(url, {"community": world.A.pk, "template": "hejin"}).status_code == 302
    assert Rule.objects.filter(community=world.A).count() == 48
    again = staff.post(url, {"community": world.A.pk, "template": "hejin"}, follow=True)
    assert Rule.objects.filter(community=world.A).count() == 48
    assert "hj-elder-clean" in again.content.decode()  # reported as already there
    bad = staff.post(url, {"community": world.A.pk, "template": "atlantis"})
    assert bad.status_code == 400 and 'class="error-box"' in bad.content.decode()
    plain = staff.get(url, {"community": world.A.pk})
    assert plain.status_code == 200 and 'class="error-box"' not in plain.content.decode()


def xlsx_upload(rows: list[Any], name: str = "rules.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


def test_import_page_check_then_import_and_errors_shown(w: SimpleNamespace, staff: Client) -> None:
    url = reverse("points:catalogue_import")
    good = [["积分类别", "代码", "积分事项", "分值"], ["绿色环保", "plant", "参加植树", 2]]
    check = staff.post(url, {"community": w.A.pk, "file": xlsx_upload(good), "check": "1"})
    assert check.status_code == 200 and 'id="import-result"' in check.content.decode()
    assert not Rule.objects.filter(code="plant").exists()
    done = staff.post(url, {"community": w.A.pk, "file": xlsx_upload(good)})
    assert done.status_code == 200 and Rule.objects.filter(community=w.A, code="plant").exists()
    bad = staff.post(url, {"community": w.A.pk, "file": xlsx_upload([good[0], ["绿色环保", "x", "坏", "abc"]])})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'data-code="catalogue_invalid"' in html and 'id="import-errors"' in html
    assert not Rule.objects.filter(code="x").exists()
    missing = staff.post(url, {"community": w.A.pk})
    assert missing.status_code == 400 and 'data-code="file_missing"' in missing.content.decode()
    wrong = staff.post(url, {"community": w.A.pk, "file": SimpleUploadedFile("r.xlsx", b"not a zip")})
    assert wrong.status_code == 400 and 'data-code="file_invalid"' in wrong.content.decode()


def test_export_downloads_an_xlsx(w: SimpleNamespace, staff: Client) -> None:
    response = staff.get(reverse("points:catalogue_export"), {"community": w.A.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK" and "catalogue-dxdl-" in response["Content-Disposition"]


def test_public_catalogue_shows_rules_in_force_to_anyone(w: SimpleNamespace) -> None:
    act = actor_for(w.staff_a)
    services.rule_retire(actor=act, rule=w.haircut)
    yesterday = timezone.localdate() - timedelta(days=1)
    services.rule_update(
        actor=act,
        rule=w.recycling,
        data=RuleData(**{**vars(RuleData.of(w.recycling.current)), "valid_until": yesterday}),
    )
    page = Client().get(reverse("points:catalogue_public", args=[w.A.code]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "环境清扫" in html and "成功调解一起邻里纠纷" in html
    assert "义务理发" not in html  # retired
    assert "废旧回收" not in html  # expired
    assert "志愿服务" in html and "文明帮创" in html
    assert Client().get(reverse("points:catalogue_public", args=["nowhere"])).status_code == 404


# --- API ------------------------------------------------------------------------------------------------------------
def api(client: Client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    # a write without a body is sent as a real client sends it: no bytes at all
    data = b"" if body is None else json.dumps(body)
    if method == "get":
        response = client.get(f"/api/v1{path}")
    else:
        response = client.generic(method.upper(), f"/api/v1{path}", data, content_type="application/json")
    return response.status_code, json.loads(response.content)


def test_api_create_edit_version_and_retire(w: SimpleNamespace, staff: Client) -> None:
    status, area = api(staff, "post", "/rule-areas", {"community_id": w.A.pk, "name": "绿色环保", "position": 3})
    assert status == 201 and area["name"] == "绿色环保"
    body = {
        "area_id": area["id"],
        "code": "plant",
        "name": "参加植树",
        "points": 2,
        "unit": "hour",
        "difficulties": [{"name": "一般", "percent": 100}, {"name": "较难", "percent": 150}],
        "daily_cap": 6,
        "recorders": ["self", "grid_worker"],
        "steps": "approve",
    }
    status, rule = api(staff, "post", "/rules", body)
    assert status == 201 and rule["version"]["number"] == 1 and rule["version"]["recorders"] == ["self", "grid_worker"]
    status, same = api(staff, "put", f"/rules/{rule['id']}", {"points": 2})
    assert status == 200 and same["version"]["number"] == 1  # nothing changed: no new version
    status, edited = api(staff, "put", f"/rules/{rule['id']}", {"points": 3, "daily_cap": None})
    assert status == 200 and edited["version"]["number"] == 2
    assert (edited["version"]["points"], edited["version"]["daily_cap"], edited["version"]["unit"]) == (3, None, "hour")
    status, detail = api(staff, "get", f"/rules/{rule['id']}")
    assert [v["number"] for v in detail["versions"]] == [2, 1] and detail["versions"][1]["points"] == 2
    status, retired = api(staff, "post", f"/rules/{rule['id']}/retire")
    assert status == 200 and retired["retired"] is True
    status, listed = api(staff, "get", f"/rules?community={w.A.pk}")
    assert "plant" not in [r["code"] for r in listed]
    status, listed = api(staff, "get", f"/rules?community={w.A.pk}&include_retired=true")
    assert "plant" in [r["code"] for r in listed]
    status, back = api(staff, "post", f"/rules/{rule['id']}/retire", {"retired": False})
    assert back["retired"] is False


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"points": 0}, "rule_points"),
        ({"points": "3"}, "invalid_input"),
        ({"unit": "jin"}, "rule_unit"),
        ({"recorders": ["landlord"]}, "rule_recorders"),
        ({"steps": "none"}, "rule_steps"),
        ({"daily_cap": 50, "monthly_cap": 10}, "rule_cap"),
        ({"difficulties": [{"name": "难", "percent": 5000}]}, "rule_difficulties"),
        ({"code": "cleanup"}, "rule_code_taken"),
        ({"code": "坏代码"}, "rule_code"),
    ],
)
def test_api_bad_rule_input_is_a_clear_error(
    w: SimpleNamespace, staff: Client, change: dict[str, Any], code: str
) -> None:
    before = (Rule.objects.count(), RuleVersion.objects.count())
    body = {"area_id": w.areaA.pk, "code": "new-rule", "name": "新规则", "points": 2, **change}
    status, error = api(staff, "post", "/rules", body)
    assert status in {400, 409} and error["code"] == code
    assert (Rule.objects.count(), RuleVersion.objects.count()) == before


def test_api_area_of_another_community_is_not_found(w: SimpleNamespace, staff: Client) -> None:
    area_b = RuleArea.objects.get(community=w.B)
    status, error = api(staff, "post", "/rules", {"area_id": area_b.pk, "code": "x", "name": "x", "points": 1})
    assert status == 404 and error["code"] == "not_found"
    status, error = api(staff, "put", f"/rules/{w.cleanup.pk}", {"area_id": area_b.pk})
    assert status == 404 and error["code"] == "not_found" and Rule.objects.get(pk=w.cleanup.pk).area_id == w.areaA.pk
