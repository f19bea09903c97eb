"""Page flows: forms save through services, errors come back inline and translated, sign-in is throttled."""

import pytest
from django.test import Client
from django.urls import reverse

from linli.common.testing import PASSWORD, client_for
from linli.org.models import Household, HouseholdMember, Person


def test_staff_adds_household_and_person(world):
    c = client_for(world.staff_a)
    r = c.post(
        reverse("org:household_create") + f"?community={world.A.id}",
        {"building": world.bA1.id, "unit": "3单元", "room": "602", "floor_area": "88.5"},
    )
    assert r.status_code == 302
    h = Household.objects.get(building=world.bA1, room="602")
    assert h.address.endswith("3单元602") and str(h.floor_area) == "88.50"
    r = c.post(
        reverse("org:household_person_add", args=[h.id]),
        {
            "name": "周桂芳",
            "phone": "139 0000 0021",
            "gender": "F",
            "birth_year": "1950",
            "tags": ["elder_alone"],
            "relation": "head",
            "is_owner": "on",
        },
    )
    assert r.status_code == 302
    p = Person.objects.get(name="周桂芳")
    assert p.phone == "13900000021" and p.tag_list == ["elder_alone"]
    assert HouseholdMember.objects.get(person=p, household=h).is_owner


def test_bad_phone_shows_inline_error_in_chinese(world):
    c = client_for(world.staff_a)
    r = c.post(
        reverse("org:household_person_add", args=[world.hA1.id]),
        {"name": "错号", "phone": "12345", "relation": "other"},
    )
    assert r.status_code == 200
    assert "不是有效的" in r.content.decode()
    assert not Person.objects.filter(name="错号").exists()


def test_bad_phone_error_in_english(world):
    c = client_for(world.staff_a)
    c.cookies["django_language"] = "en"
    r = c.post(
        reverse("org:household_person_add", args=[world.hA1.id]),
        {"name": "错号", "phone": "12345", "relation": "other"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "is not a valid phone number" in r.content.decode()


def test_duplicate_room_is_an_inline_error(world):
    c = client_for(world.staff_a)
    r = c.post(
        reverse("org:household_create") + f"?community={world.A.id}",
        {"building": world.bA1.id, "unit": "1单元", "room": "101"},
    )
    assert r.status_code == 200 and "error" in r.content.decode()
    assert Household.objects.filter(building=world.bA1, room="101").count() == 1


def test_people_search_by_name_and_phone_tail(world):
    c = client_for(world.staff_a)
    body = c.get(reverse("org:people"), {"community": world.A.id, "q": "王"}).content.decode()
    assert "王秀英" in body and "李建华" not in body
    body = c.get(reverse("org:people"), {"community": world.A.id, "q": "0002"}).content.decode()
    assert "李建华" in body and "王秀英" not in body


def test_phone_masked_for_auditor_full_for_staff(world):
    assert (
        "13800000001"
        in client_for(world.staff_a).get(reverse("org:person_detail", args=[world.pA1.id])).content.decode()
    )
    body = client_for(world.auditor_a).get(reverse("org:person_detail", args=[world.pA1.id])).content.decode()
    assert "13800000001" not in body and "138****0001" in body


def test_bad_page_number_does_not_fail(world):
    c = client_for(world.staff_a)
    for page in ("abc", "-1", "999999"):
        assert c.get(reverse("org:households"), {"page": page}).status_code == 200


def test_unknown_community_is_404(world):
    assert client_for(world.staff_a).get(reverse("org:people"), {"community": "x"}).status_code == 404
    assert client_for(world.staff_a).get(reverse("org:people"), {"community": world.B.id}).status_code == 404


def test_login_with_phone_in_any_format(world):
    c = Client()
    r = c.post(reverse("login"), {"username": "+86 138-0000-0001", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == reverse("home")
    assert "王秀英" in c.get(reverse("home")).content.decode()


def test_login_throttled_after_five_failures(world):
    c = Client()
    for _ in range(5):
        c.post(reverse("login"), {"username": "13800000001", "password": "wrong-password"})
    r = c.post(reverse("login"), {"username": "13800000001", "password": PASSWORD})
    assert r.status_code == 429
    assert "15" in r.content.decode()


def test_staff_reset_forces_password_change(world):
    staff = client_for(world.staff_a)
    staff.post(reverse("org:person_password_reset", args=[world.pA1.id]))
    page = staff.get(reverse("org:person_detail", args=[world.pA1.id])).content.decode()
    assert 'data-testid="temporary-password"' in page
    # shown only once
    assert (
        'data-testid="temporary-password"'
        not in staff.get(reverse("org:person_detail", args=[world.pA1.id])).content.decode()
    )
    temp = page.split('data-testid="temporary-password">')[1].split("<")[0]
    resident = Client()
    resident.post(reverse("login"), {"username": "13800000001", "password": temp})
    r = resident.get(reverse("home"))
    assert r.status_code == 302 and r["Location"] == reverse("password_change")
    r = resident.post(
        reverse("password_change"),
        {"old_password": temp, "new_password": "Neighbour-2026", "new_password2": "Neighbour-2026"},
    )
    assert r.status_code == 302
    assert resident.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("lang,text", [("zh-hans", "登录"), ("en", "Sign in")])
def test_login_page_languages(db, lang, text):
    c = Client()
    c.cookies["django_language"] = lang
    assert text in c.get(reverse("login")).content.decode()


def test_phone_search_only_among_numbers_the_actor_may_see(world):
    # the auditor sees masked phones; searching by digits must not reveal whose number ends with them
    body = client_for(world.auditor_a).get(reverse("org:people"), {"community": world.A.id, "q": "0002"}).content
    assert "李建华" not in body.decode()
    body = client_for(world.staff_a).get(reverse("org:people"), {"community": world.A.id, "q": "0002"}).content
    assert "李建华" in body.decode()


def test_session_that_must_change_password_cannot_use_the_api(world):
    world.resident_a1.must_change_password = True
    world.resident_a1.save()
    r = client_for(world.resident_a1).get("/api/v1/me")
    assert r.status_code == 403 and r.json()["code"] == "password_change_required"


def test_merchant_and_partner_pages_create_and_edit(world):
    from linli.org.models import Merchant, PartnerUnit

    c = client_for(world.staff_a)
    r = c.post(reverse("org:merchant_create") + f"?community={world.A.id}",
               {"name": "幸福五金店", "contact_phone": "139-0000-0031", "offer": "配钥匙 9 折", "is_active": "on"})
    assert r.status_code == 302
    m = Merchant.objects.get(name="幸福五金店")
    assert m.community == world.A and m.contact_phone == "13900000031"
    r = c.post(reverse("org:merchant_edit", args=[m.id]), {"name": "幸福五金店", "contact_phone": "12"})
    assert r.status_code == 200 and "error" in r.content.decode()
    assert Merchant.objects.get(pk=m.pk).contact_phone == "13900000031"
    r = c.post(reverse("org:partner_create") + f"?community={world.A.id}",
               {"name": "红庙坡派出所", "kind": "派出所", "agreement_signed_on": "2026-03-01", "is_active": "on"})
    assert r.status_code == 302 and PartnerUnit.objects.get(name="红庙坡派出所").agreement_signed_on.year == 2026
    r = c.post(reverse("org:partner_create") + f"?community={world.A.id}", {"name": "红庙坡派出所"})
    assert r.status_code == 200 and PartnerUnit.objects.filter(name="红庙坡派出所").count() == 1


def test_structure_pages_create_edit_and_move(world):
    from linli.org.models import Building, Compound, Grid

    c = client_for(world.staff_a)
    q = f"?community={world.A.id}"
    assert c.post(reverse("org:grid_create") + q, {"name": "第三网格", "number": "3"}).status_code == 302
    g3 = Grid.objects.get(name="第三网格")
    assert c.post(reverse("org:grid_edit", args=[g3.id]), {"name": "第三网格", "number": "3", "parent": world.A1.id})
    assert Grid.objects.get(pk=g3.pk).parent_id == world.A1.id
    r = c.post(reverse("org:grid_edit", args=[world.A1.id]), {"name": world.A1.name, "number": "1", "parent": g3.id})
    assert r.status_code == 200 and Grid.objects.get(pk=world.A1.pk).parent_id is None  # a loop is refused inline
    assert c.post(reverse("org:compound_create") + q, {"name": "新苑", "grid": g3.id}).status_code == 302
    cp = Compound.objects.get(name="新苑")
    form = c.get(reverse("org:building_edit", args=[world.bA1.id])).content.decode()
    assert f'value="{world.A1.id}" selected' in form  # the current grid is preselected
    r = c.post(reverse("org:building_edit", args=[world.bA1.id]),
               {"name": "1号楼", "grid": g3.id, "compound": cp.id, "floors": "6"})
    assert r.status_code == 302
    b = Building.objects.get(pk=world.bA1.pk)
    assert (b.grid_id, b.compound_id, b.floors) == (g3.id, cp.id, 6)
