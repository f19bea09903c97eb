"""Org services: every bad input is refused with a stable code, and nothing half-written remains."""

from decimal import Decimal

import pytest

from linli.common.errors import Conflict, Forbidden, Invalid, NotFound
from linli.common.models import AuditEvent
from linli.org import services
from linli.org.access import actor_for
from linli.org.models import Grid, Household, HouseholdMember, Person, User
from linli.org.services import PersonData


@pytest.fixture
def staff(world):
    return actor_for(world.staff_a)


def test_person_create_into_household_is_audited(world, staff):
    p = services.person_create(
        actor=staff,
        community=world.A,
        household=world.hA1,
        is_owner=True,
        relation="spouse",
        data=PersonData(name=" 孙丽 ", phone="+86 139-0000-0011", gender="F", birth_year=1958, tags=("veteran",)),
    )
    assert p.name == "孙丽" and p.phone == "13900000011" and p.tag_list == ["veteran"]
    assert HouseholdMember.objects.get(person=p).is_owner
    assert AuditEvent.objects.filter(action="person.create", object_id=p.pk, actor=world.staff_a).exists()


@pytest.mark.parametrize("phone", ["12345", "2381234123", "138123412345", "电话"])
def test_invalid_phone_refused(world, staff, phone):
    with pytest.raises(Invalid) as err:
        services.person_create(actor=staff, community=world.A, data=PersonData(name="甲", phone=phone))
    assert err.value.code == "phone_invalid" and err.value.field == "phone"
    assert not Person.objects.filter(name="甲").exists()


def test_phone_unique_within_community(world, staff):
    with pytest.raises(Conflict) as err:
        services.person_create(actor=staff, community=world.A, data=PersonData(name="乙", phone=world.pA1.phone))
    assert err.value.code == "phone_taken"


def test_person_twice_in_one_household(world, staff):
    with pytest.raises(Conflict) as err:
        services.member_add(actor=staff, household=world.hA1, person=world.pA1)
    assert err.value.code == "already_member"
    assert HouseholdMember.objects.filter(household=world.hA1, person=world.pA1).count() == 1


def test_person_of_other_community_not_added(world):
    street = actor_for(world.street_admin)
    with pytest.raises(Invalid) as err:
        services.member_add(actor=street, household=world.hA1, person=world.pB1)
    assert err.value.code == "other_community"


def test_building_in_grid_of_other_community_refused(world):
    street = actor_for(world.street_admin)
    with pytest.raises(Invalid) as err:
        services.building_create(actor=street, community=world.A, grid=world.B1, name="9号楼")
    assert err.value.code == "other_community"
    with pytest.raises(Invalid):
        services.building_update(
            actor=street, building=world.bA1, name="1号楼", grid=world.B1, compound=None, floors=None
        )
    world.bA1.refresh_from_db()
    assert world.bA1.grid_id == world.A1.id


def test_grid_cycle_refused(world, staff):
    micro = services.grid_create(actor=staff, community=world.A, name="微网格1", parent=world.A1)
    micro2 = services.grid_create(actor=staff, community=world.A, name="微网格1-1", parent=micro)
    with pytest.raises(Invalid) as err:
        services.grid_update(actor=staff, grid=world.A1, name=world.A1.name, number=1, parent=micro2)
    assert err.value.code == "hierarchy_cycle"
    with pytest.raises(Invalid):
        services.grid_update(actor=staff, grid=world.A1, name=world.A1.name, number=1, parent=world.A1)
    assert Grid.objects.get(pk=world.A1.pk).parent_id is None


def test_micro_grid_worker_scope_includes_descendants(world, staff):
    micro = services.grid_create(actor=staff, community=world.A, name="微网格", parent=world.A1)
    b = services.building_create(actor=staff, community=world.A, grid=micro, name="5号楼")
    h = services.household_create(actor=staff, building=b, room="101")
    assert actor_for(world.grid_worker_a1) and services.can(actor_for(world.grid_worker_a1), "household.manage", h)
    assert not services.can(actor_for(world.grid_worker_a2), "household.manage", h)


def test_household_room_unique_and_area_positive(world, staff):
    with pytest.raises(Conflict):
        services.household_create(actor=staff, building=world.bA1, unit="1单元", room="101")
    with pytest.raises(Invalid) as err:
        services.household_create(actor=staff, building=world.bA1, room="909", floor_area=Decimal("-3"))
    assert err.value.code == "floor_area_invalid"
    assert not Household.objects.filter(room="909").exists()


def test_grid_worker_cannot_touch_other_grid(world):
    worker = actor_for(world.grid_worker_a2)
    with pytest.raises((Forbidden, NotFound)):
        services.household_create(actor=worker, building=world.bA1, room="999")
    with pytest.raises((Forbidden, NotFound)):
        services.person_update(actor=worker, person=world.pA1, data=PersonData(name="改名"))
    assert Person.objects.get(pk=world.pA1.pk).name == "王秀英"


def test_auditor_and_resident_cannot_write(world):
    for user in (world.auditor_a, world.resident_a1, world.steward_a1):
        with pytest.raises((Forbidden, NotFound)):
            services.person_update(actor=actor_for(user), person=world.pA1, data=PersonData(name="改名"))


def test_person_move_between_households(world, staff):
    services.person_move(actor=staff, person=world.pA1b, to_household=world.hA2, relation="parent")
    assert list(HouseholdMember.objects.filter(person=world.pA1b).values_list("household_id", flat=True)) == [
        world.hA2.id
    ]


def test_login_creation_needs_mobile(world, staff):
    with pytest.raises(Invalid) as err:
        services.login_create_for_person(actor=staff, person=world.pA1b, password="Strong-pass-1")
    assert err.value.code == "phone_required"
    user = services.login_create_for_person(actor=staff, person=world.pA2, password="Strong-pass-1")
    assert user.must_change_password and user.check_password("Strong-pass-1")
    with pytest.raises(Conflict):
        services.login_create_for_person(actor=staff, person=world.pA2, password="Strong-pass-1")


def test_weak_password_refused(world, staff):
    with pytest.raises(Invalid) as err:
        services.login_create_for_person(actor=staff, person=world.pA2, password="12345678")
    assert err.value.code == "password_weak"
    assert User.objects.filter(phone=world.pA2.phone).count() == 0


def test_staff_password_reset(world, staff):
    password = services.password_reset_by_staff(actor=staff, user=world.resident_a1)
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.check_password(password) and world.resident_a1.must_change_password
    with pytest.raises(NotFound):  # staff of another community
        services.password_reset_by_staff(actor=actor_for(world.staff_b), user=world.resident_a1)


def test_role_grant_scope_rules(world, staff):
    with pytest.raises(Invalid) as err:
        services.role_grant(actor=staff, user=world.resident_a1, role="grid_worker", scope=world.A)
    assert err.value.code == "role_scope_mismatch"
    services.role_grant(actor=staff, user=world.resident_a1, role="building_steward", scope=world.bA1)
    with pytest.raises(Conflict):
        services.role_grant(actor=staff, user=world.resident_a1, role="building_steward", scope=world.bA1)
    with pytest.raises(NotFound):
        services.role_grant(actor=staff, user=world.resident_a1, role="grid_worker", scope=world.B1)
    with pytest.raises(NotFound):  # community staff cannot make street admins
        services.role_grant(actor=staff, user=world.resident_a1, role="street_admin", scope=world.S)


def test_api_tokens(world, staff):
    token, key = services.api_token_issue(actor=staff, user=world.steward_a1, name="楼栋采集")
    assert key.startswith("lnl_") and token.key_hash != key
    assert services.api_token_authenticate(key) == world.steward_a1
    services.api_token_revoke(actor=staff, token=token)
    assert services.api_token_authenticate(key) is None
    with pytest.raises(NotFound):
        services.api_token_issue(actor=actor_for(world.grid_worker_a1), user=world.steward_a1, name="x")


def test_deactivating_a_person_disables_their_login(world, staff):
    services.person_set_active(actor=staff, person=world.pA1, active=False, reason="搬走")
    world.resident_a1.refresh_from_db()
    assert not world.resident_a1.is_active


def test_other_community_message_is_all_chinese(world):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(Invalid) as err:
        services.building_create(actor=actor_for(world.street_admin), community=world.A, grid=world.B1, name="9号楼")
    assert "grid" not in str(err.value.message) and "网格" in str(err.value.message)
