"""The demo street: SEEDS.md structure, invented names, idempotent builds and one working login per role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory

from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import (
    ROLE_SCOPE,
    Building,
    Community,
    Compound,
    DutyRole,
    Grid,
    Household,
    HouseholdMember,
    Merchant,
    PartnerUnit,
    Person,
    Relation,
    Role,
    RoleAssignment,
    Street,
    Team,
    TeamMember,
    User,
)

SMALL = 200

pytestmark = pytest.mark.django_db


def run(households: int = SMALL) -> str:
    out = StringIO()
    call_command("demo_data", households=households, stdout=out)
    return out.getvalue()


@pytest.fixture
def built() -> str:
    return run()


def test_second_run_duplicates_nothing(built):
    first = demo.demo_counts()
    assert first["households"] >= SMALL
    assert "19900000001" in built and demo.DEMO_PASSWORD in built
    again = run()
    assert demo.demo_counts() == first
    assert Street.objects.filter(code=demo.STREET_CODE).count() == 1
    assert "19900000008" in again  # the logins are printed every time


def test_missing_login_is_recreated_without_rebuilding(built):
    counts = demo.demo_counts()
    # the auditor's login: it only reads, so nothing it did protects it from deletion (the grid worker's login now
    # handles demo work orders, and history keeps a login that acted)
    User.objects.filter(phone="19900000006").delete()
    run()
    assert User.objects.filter(phone="19900000006").exists()
    assert demo.demo_counts() == counts


def test_too_few_households_is_refused(db):
    with pytest.raises(CommandError):
        run(households=10)
    assert not Street.objects.exists()


def test_seeds_structure(built):
    street = Street.objects.get(code=demo.STREET_CODE)
    assert (street.name, street.district, street.city) == ("红庙坡街道", "莲湖区", "西安市")
    assert set(street.communities.values_list("name", flat=True)) == {
        "大兴东路社区",
        "府西社区",
        "巴县衙门社区",
    }

    daxing = Community.objects.get(code=demo.DAXING_CODE)
    assert Grid.objects.filter(community=daxing).count() == 3
    assert Compound.objects.filter(community=daxing).count() == 14
    assert Building.objects.filter(community=daxing).count() == 34
    assert Household.objects.filter(community=daxing).count() == SMALL
    assert Team.objects.get(community=daxing, name="红领之家").members.count() == 107
    stewards = RoleAssignment.objects.filter(role=Role.BUILDING_STEWARD, building__community=daxing)
    assert set(stewards.values_list("building", flat=True)) == set(
        Building.objects.filter(community=daxing).values_list("id", flat=True)
    )
    assert stewards.exclude(user__phone="19900000005").count() == 86
    # each seeded steward lives in the building they look after
    for ra in stewards.exclude(user__phone="19900000005").select_related("user__person"):
        assert HouseholdMember.objects.filter(
            person=ra.user.person, household__building=ra.building_id
        ).exists()

    fuxi = Community.objects.get(code=demo.FUXI_CODE)
    assert Merchant.objects.filter(community=fuxi).count() == 30
    assert not Merchant.objects.filter(community=fuxi, offer="").exists()
    kinds = set(PartnerUnit.objects.filter(community=fuxi).values_list("kind", flat=True))
    # the 8 governance partners of SEEDS 002 have signed agreements; work orders add service units beside them
    assert PartnerUnit.objects.filter(community=fuxi, agreement_signed_on__isnull=False).count() == 8
    assert {"供电所", "卫生院", "物业公司", "律师事务所", "学校"} <= kinds
    assert {"府西夜话红色议事团", "帮帮团"} <= set(
        Team.objects.filter(community=fuxi).values_list("name", flat=True)
    )

    baxian = Community.objects.get(code=demo.BAXIAN_CODE)
    micro = Grid.objects.filter(community=baxian, parent__isnull=False)
    assert micro.count() >= 3
    assert all(g.parent.community_id == baxian.id for g in micro)
    assert not Building.objects.filter(community=baxian, grid__parent__isnull=True).exists()
    five = TeamMember.objects.filter(team__community=baxian, team__name="五员志愿队")
    assert five.count() == 45
    assert set(five.values_list("duty_role", flat=True)) == set(DutyRole.values)
    # the grid force "1+3+n": a grid chief and a grid worker per grid, a worker per micro-grid, n volunteers
    for grid in Grid.objects.filter(community=baxian, parent__isnull=True):
        assert RoleAssignment.objects.filter(grid=grid, role=Role.GRID_CHIEF).exists()
        assert RoleAssignment.objects.filter(grid=grid, role=Role.GRID_WORKER).exists()
        assert Team.objects.get(community=baxian, name=f"{grid.name}志愿者").members.exists()
    assert RoleAssignment.objects.filter(grid__in=micro, role=Role.GRID_WORKER).count() == micro.count()


def test_households_have_areas_owners_and_addresses(built):
    for community in Community.objects.filter(street__code=demo.STREET_CODE):
        households = Household.objects.filter(community=community)
        assert households.count() >= 60
        assert not households.filter(floor_area__isnull=True).exists()
        assert not households.filter(Q(floor_area__lt=45) | Q(floor_area__gt=140)).exists()
        annotated = households.annotate(
            heads=Count("members", filter=Q(members__relation=Relation.HEAD)),
            owners=Count("members", filter=Q(members__is_owner=True)),
            size=Count("members"),
        )
        assert not annotated.exclude(heads=1).exists()
        assert not annotated.filter(owners=0).exists()
        assert not annotated.filter(Q(size__lt=1) | Q(size__gt=4)).exists()
        assert not HouseholdMember.objects.filter(
            community=community, relation=Relation.HEAD, is_owner=False
        ).exists()
        sample = households.select_related("building__compound").first()
        assert (
            sample.address
            == f"{sample.building.compound.name}{sample.building.name}{sample.unit}{sample.room}"
        )
        assert "单元" in sample.address


def test_people_are_invented_and_varied(built):
    people = Person.objects.filter(community__street__code=demo.STREET_CODE)
    names = set(people.values_list("name", flat=True))
    assert all(demo.is_pool_name(n) for n in names), [n for n in names if not demo.is_pool_name(n)][:5]
    assert not names & demo.REAL_NAMES_IN_SEEDS
    contacts = (
        set(Merchant.objects.values_list("contact_name", flat=True))
        | set(PartnerUnit.objects.values_list("contact_name", flat=True))
        | set(User.objects.values_list("name", flat=True))
    )
    assert all(demo.is_pool_name(n) for n in contacts)

    years = list(people.values_list("birth_year", flat=True))
    assert min(years) >= 1935 and max(years) <= 2020
    assert min(years) < 1945 and max(years) > 2010
    assert set(people.values_list("gender", flat=True)) == {"F", "M"}
    total = people.count()
    party = people.filter(tags__contains=",party_member,").count()
    assert 0.05 * total < party < 0.16 * total
    assert people.filter(phone="").exists()  # some elders and all small children have no phone
    phones = [p for p in people.values_list("phone", flat=True) if p]
    assert len(phones) == len(set(phones))
    assert all(len(p) == 11 and p.startswith("199") for p in phones)


def test_every_demo_login_signs_in_with_exactly_its_role(built):
    scopes = demo.demo_scopes()
    request = RequestFactory().post("/accounts/login/")
    for login in demo.DEMO_LOGINS:
        user = authenticate(request, username=login["phone"], password=login["password"])
        assert user is not None, login["key"]
        assert not user.must_change_password
        actor = actor_for(user)
        if login["role"] == "superuser":
            assert user.is_staff and user.is_superuser
            assert actor.grants == [] and actor.person_id is None
        elif login["role"] == Role.RESIDENT:
            assert actor.roles == {Role.RESIDENT}
            assert not user.is_staff
        else:
            assert actor.roles == {login["role"]}, login["key"]
            assert len(actor.grants) == 1
            scope = scopes[login["key"]]
            assert actor.grants[0].level == ROLE_SCOPE[login["role"]]
            assert scope.pk in actor.grants[0].ids
            assert actor.person_id is None and not user.is_staff


def test_resident_lives_in_the_stewards_building(built):
    person = demo.demo_resident_person()
    steward = User.objects.get(
        phone=next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == "building_steward")
    )
    building = RoleAssignment.objects.get(user=steward, role=Role.BUILDING_STEWARD).building
    assert person.user is not None and person.user.phone == person.phone
    assert HouseholdMember.objects.filter(person=person, household__building=building).exists()
    assert demo.is_pool_name(person.name)
    assert building.grid.name == demo.DEMO_GRID
    merchant = RoleAssignment.objects.get(user__phone="19900000007").merchant
    assert merchant.community.code == demo.FUXI_CODE


def test_output_lists_every_role(built):
    for login in demo.DEMO_LOGINS:
        assert login["phone"] in built
        assert login["name"] in built
