"""The activity pages do what they say: sign up and the waiting list, the scan page with good and bad codes,
creating (once and recurring), the console's marking and closing, and the poster's codes."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.common.testing import client_for
from linli.ledger import selectors as ledger_reads
from linli.ledger import services as ledger
from linli.points import activities as act
from linli.points.models import Activity, ActivitySeries, Attendance, Claim, ClaimStatus, Signup, SignupStatus
from linli.points.testing import make_catalogue
from linli.points.testing_activities import make_activity, past_activity, residents

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world: SimpleNamespace) -> SimpleNamespace:
    return make_catalogue(world)


def test_resident_signs_up_and_the_next_one_waits(w: SimpleNamespace) -> None:
    activity = make_activity(w, capacity=1, title="关爱空巢老人")
    resident = client_for(w.resident_a1)
    listing = resident.get(reverse("points:activities"))
    assert listing.status_code == 200 and "关爱空巢老人" in listing.content.decode()
    assert resident.post(reverse("points:activity_signup", args=[activity.pk])).status_code == 302
    page = resident.get(reverse("points:activity", args=[activity.pk])).content.decode()
    assert 'data-testid="my-status"' in page and 'data-testid="cancel-signup"' in page
    other = residents(w, 1)[0]
    second = client_for(other.user)
    response = second.post(reverse("points:activity_signup", args=[activity.pk]), follow=True)
    assert Signup.objects.get(person=other).status == SignupStatus.WAITING
    assert "msg-warning" in response.content.decode()
    assert 'data-testid="my-status"' in response.content.decode()
    # the first gives up the place: the second moves up
    resident.post(reverse("points:activity_signup_cancel", args=[activity.pk]))
    assert Signup.objects.get(person=other).status == SignupStatus.CONFIRMED
    mine = second.get(reverse("points:activities")).content.decode()
    assert 'data-testid="my-signups"' in mine and "关爱空巢老人" in mine


def test_scan_page(w: SimpleNamespace) -> None:
    activity = make_activity(w)
    resident = client_for(w.resident_a1)
    url = reverse("points:activity_scan", args=[activity.pk, "in"])
    out_url = reverse("points:activity_scan", args=[activity.pk, "out"])
    forged = resident.get(f"{url}?t=abc:def")
    assert forged.status_code == 400 and 'data-code="qr_invalid"' in forged.content.decode()
    wrong_kind = resident.get(f"{url}?t={act.qr_token(activity, 'out')}")
    assert wrong_kind.status_code == 400
    early = resident.post(out_url, {"t": act.qr_token(activity, "out")})
    assert early.status_code == 409 and 'data-code="checkout_before_checkin"' in early.content.decode()
    token = act.qr_token(activity, "in")
    shown = resident.get(f"{url}?t={token}")
    assert shown.status_code == 200 and 'data-testid="scan-confirm"' in shown.content.decode()
    assert not Attendance.objects.exists()  # showing the page records nothing
    done = resident.post(url, {"t": token})
    assert done.status_code == 200 and 'data-testid="scan-done"' in done.content.decode()
    assert resident.post(url, {"t": token}).status_code == 200
    assert Attendance.objects.filter(activity=activity, person=w.pA1).count() == 1
    # an unknown kind is a 404, a login is needed
    assert resident.get(reverse("points:activity_scan", args=[activity.pk, "sideways"])).status_code == 404
    anonymous = client_for(None).get(f"{url}?t={token}")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_staff_create_and_edit(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    url = f"{reverse('points:activity_create')}?community={w.A.id}"
    assert staff.get(url).status_code == 200
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    body = {
        "title": "垃圾分类督导",
        "day": day,
        "starts_at": "08:00",
        "ends_at": "10:30",
        "place": "南门",
        "rule_id": w.cleanup.pk,
        "capacity": "8",
        "team_id": w.teamA.pk,
        "organiser_phone": "",
    }
    bad = staff.post(url, {**body, "rule_id": w.cleanupB.pk})
    assert bad.status_code == 200 and not Activity.objects.exists()
    bad = staff.post(url, {**body, "ends_at": "07:00"})
    assert bad.status_code == 200 and 'class="errorlist' in bad.content.decode() and not Activity.objects.exists()
    response = staff.post(url, body)
    assert response.status_code == 302
    activity = Activity.objects.get()
    local = timezone.localtime(activity.starts_at)
    assert (local.hour, local.minute, activity.capacity, activity.team_id) == (8, 0, 8, w.teamA.pk)
    assert activity.ends_at - activity.starts_at == timedelta(hours=2, minutes=30)
    edit = reverse("points:activity_edit", args=[activity.pk])
    assert 'value="垃圾分类督导"' in staff.get(edit).content.decode()
    staff.post(edit, {**body, "capacity": "", "title": "垃圾分类督导（改）"})
    activity.refresh_from_db()
    assert activity.capacity is None and activity.title == "垃圾分类督导（改）"
    staff.post(reverse("points:activity_cancel", args=[activity.pk]), {"reason": "下雨"})
    activity.refresh_from_db()
    assert activity.status == "cancelled"
    listing = staff.get(f"{reverse('points:activity_staff')}?community={w.A.id}&when=all").content.decode()
    assert "垃圾分类督导（改）" in listing


def test_staff_create_series(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    url = f"{reverse('points:activity_series_create')}?community={w.A.id}"
    body = {
        "title": "每月义剪",
        "repeat": "monthly_weekday",
        "weekday": "0",
        "nth": "1",
        "start_time": "09:00",
        "end_time": "11:00",
        "first_date": timezone.localdate().isoformat(),
        "place": "社区活动室",
        "rule_id": w.haircut.pk,
        "capacity": "20",
    }
    missing = staff.post(url, {**body, "nth": ""})
    assert missing.status_code == 200 and not ActivitySeries.objects.exists()
    response = staff.post(url, body)
    assert response.status_code == 302
    series = ActivitySeries.objects.get()
    assert series.rrule == "FREQ=MONTHLY;BYDAY=+1MO" and series.items.count() >= 3
    page = staff.get(response["Location"]).content.decode()
    assert "第一个" in page or "first" in page  # the plain words of the repeat rule
    staff.post(reverse("points:activity_series_end", args=[series.pk]))
    series.refresh_from_db()
    assert series.ended


def test_console_marks_and_closes(w: SimpleNamespace) -> None:
    activity = past_activity(w, organiser_phone=w.grid_worker_a1.phone)
    people = residents(w, 2)
    for p in people:  # signed up before it began (the service refuses sign-ups once it is over)
        Signup.objects.create(community=w.A, activity=activity, person=p, status=SignupStatus.CONFIRMED)
    organiser = client_for(w.grid_worker_a1)
    console = reverse("points:activity_console", args=[activity.pk])
    page = organiser.get(console).content.decode()
    assert people[0].name in page and 'data-testid="close-activity"' in page
    start = timezone.localtime(activity.starts_at)
    mark = reverse("points:activity_mark", args=[activity.pk])
    organiser.post(mark, {"person": people[0].pk, "present": "1"})
    organiser.post(
        mark,
        {
            "person": people[1].pk,
            "present": "1",
            "checked_in_at": start.strftime("%H:%M"),
            "checked_out_at": (start + timedelta(minutes=70)).strftime("%H:%M"),
        },
    )
    organiser.post(mark, {"person": w.pA1b.pk, "present": "1"})  # a walk-in without a phone, found by search
    organiser.post(mark, {"person": w.pA1b.pk, "present": "0"})  # ... a mistake: absent after all
    assert Attendance.objects.filter(activity=activity).count() == 2
    found = organiser.get(f"{console}?q=王老伯").content.decode()
    assert 'data-testid="console-found"' in found
    # the organiser closes: claims verified, waiting for staff; staff close again: approved and credited
    organiser.post(reverse("points:activity_close", args=[activity.pk]))
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.VERIFIED}
    response = client_for(w.staff_a).post(reverse("points:activity_close", args=[activity.pk]), follow=True)
    assert response.status_code == 200 and "msg-success" in response.content.decode()
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.APPROVED}
    balances = [ledger_reads.balance(ledger.account_for_person(p)) for p in people]
    assert balances == [9, 3]  # 3 full hours and 1 full hour of the cleanup rule (3 per full hour)


def test_poster_codes_open_the_scan_page(w: SimpleNamespace) -> None:
    activity = make_activity(w, organiser_phone=w.grid_worker_a1.phone)
    page = client_for(w.grid_worker_a1).get(reverse("points:activity_poster", args=[activity.pk])).content.decode()
    assert page.count("<svg") == 2
    urls = re.findall(r'data-testid="poster-url-(in|out)"[^>]*>([^<]+)<|href="([^"]+)" data-testid="poster-url', page)
    links = [u[2] for u in urls if u[2]]
    assert len(links) == 2
    resident = client_for(w.resident_a1)
    for link in links:
        parsed = urlparse(link.replace("&amp;", "&"))
        response = resident.get(f"{parsed.path}?{parsed.query}")
        assert response.status_code == 200 and 'data-testid="scan-confirm"' in response.content.decode()
    # new codes void the old ones
    client_for(w.staff_a).post(reverse("points:activity_new_codes", args=[activity.pk]))
    parsed = urlparse(links[0].replace("&amp;", "&"))
    assert resident.get(f"{parsed.path}?{parsed.query}").status_code == 400


def test_english_pages_render(w: SimpleNamespace) -> None:
    activity = make_activity(w)
    staff = client_for(w.staff_a)
    staff.post(reverse("set_language"), {"language": "en"})
    page = staff.get(reverse("points:activity_console", args=[activity.pk])).content.decode()
    assert "Organiser" in page


# --- the API ----------------------------------------------------------------------------------------------------------
def _api(client: Any, method: str, path: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_api_sign_up_scan_and_close(w: SimpleNamespace) -> None:
    staff = client_for(w.staff_a)
    start = timezone.now() + timedelta(minutes=20)
    body = {
        "community_id": w.A.id,
        "title": "义务理发",
        "place": "活动室",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "rule_id": w.haircut.pk,
        "capacity": 1,
    }
    naive = _api(staff, "post", "/activities", {**body, "starts_at": "2026-05-04T09:00:00"})
    assert naive.status_code == 400 and naive.json()["code"] == "time_invalid"
    foreign = _api(staff, "post", "/activities", {**body, "rule_id": w.cleanupB.pk})
    assert foreign.status_code == 400 and foreign.json()["code"] == "rule_invalid"
    made = _api(staff, "post", "/activities", body)
    assert made.status_code == 201 and made.json()["places_left"] == 1
    activity_id = made.json()["id"]
    resident = client_for(w.resident_a1)
    signed = _api(resident, "post", f"/activities/{activity_id}/signup", {})
    assert signed.status_code == 200 and signed.json()["status"] == "confirmed"
    other = residents(w, 1)[0]
    waiting = _api(client_for(other.user), "post", f"/activities/{activity_id}/signup", {})
    assert waiting.json() == {
        "activity_id": activity_id,
        "person_id": other.pk,
        "status": "waiting",
        "position": 1,
        "promoted_person_ids": [],
    }
    listed = _api(resident, "get", f"/activities?community={w.A.id}").json()
    assert listed["count"] == 1 and listed["items"][0]["my_signup"] == "confirmed"
    assert listed["items"][0]["waiting"] == 1
    bad = _api(resident, "post", f"/activities/{activity_id}/check-in", {"token": "forged:token"})
    assert bad.status_code == 400 and bad.json()["code"] == "qr_invalid"
    activity = Activity.objects.get(pk=activity_id)
    out = _api(resident, "post", f"/activities/{activity_id}/check-out", {"token": act.qr_token(activity, "out")})
    assert out.status_code == 409 and out.json()["code"] == "checkout_before_checkin"
    first = _api(resident, "post", f"/activities/{activity_id}/check-in", {"token": act.qr_token(activity, "in")})
    again = _api(resident, "post", f"/activities/{activity_id}/check-in", {"token": act.qr_token(activity, "in")})
    assert first.json()["changed"] is True and again.json()["changed"] is False
    assert first.json()["checked_in_at"] == again.json()["checked_in_at"]
    # not over yet: closing is refused with a clear code, nothing written
    early = _api(staff, "post", f"/activities/{activity_id}/close", {"approve": True})
    assert early.status_code == 409 and early.json()["code"] == "activity_not_over" and not Claim.objects.exists()
    attendance = _api(staff, "get", f"/activities/{activity_id}/attendance").json()
    assert attendance["count"] == 1 and attendance["items"][0]["person_id"] == w.pA1.pk
    # the resident may read the activity but not its attendance
    assert _api(resident, "get", f"/activities/{activity_id}/attendance").status_code == 403


def test_api_close_twice(w: SimpleNamespace) -> None:
    activity = past_activity(w, rule=w.haircut)
    people = residents(w, 3)
    staff = client_for(w.staff_a)
    for p in people:
        marked = _api(staff, "post", f"/activities/{activity.pk}/attendance", {"person_id": p.pk})
        assert marked.status_code == 200 and marked.json()["present"] is True
    first = _api(staff, "post", f"/activities/{activity.pk}/close", {"approve": True}).json()
    assert (first["created"], first["approved"], first["already"]) == (3, 3, 0)
    second = _api(staff, "post", f"/activities/{activity.pk}/close", {}).json()
    assert (second["created"], second["approved"], second["already"]) == (0, 0, 3)
    assert [ledger_reads.balance(ledger.account_for_person(p)) for p in people] == [2, 2, 2]
