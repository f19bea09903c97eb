"""Test harness shared by every app: a small world with one user per role and places inside and outside scope.

    street S ─ community A ─ grid A1 ─ compound 兴庆小区 ─ building bA1 ─ household hA1 (resident pA1, elder pA1b)
             │             └ grid A2 ─ building bA2 ─ household hA2 (pA2)
             └ community B ─ grid B1 ─ building bB1 ─ household hB1 (pB1)
    street T ─ community C ─ grid C1 ─ building bC1 ─ household hC1 (pC1)

Users: street_admin (S), staff_a (A), staff_b (B), staff_c (C), grid_chief_a1 / grid_worker_a1 (A1),
grid_worker_a2 (A2), steward_a1 (bA1), auditor_a (A), merchant_op_a (merchant mA in A), resident_a1 (pA1, no roles).
Every password is PASSWORD.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.test import Client

from linli.org.models import (
    Building,
    Community,
    Compound,
    Grid,
    Household,
    HouseholdMember,
    Merchant,
    PartnerUnit,
    Person,
    Role,
    RoleAssignment,
    Street,
    Team,
    TeamMember,
    User,
)

PASSWORD = "Linli-test-2026"
# the world's users, one per role and scope; permission matrices run every row for each of them
USER_NAMES = (
    "street_admin",
    "staff_a",
    "staff_b",
    "staff_c",
    "grid_chief_a1",
    "grid_worker_a1",
    "grid_worker_a2",
    "steward_a1",
    "auditor_a",
    "merchant_op_a",
    "resident_a1",
)


def _user(phone: str, name: str) -> User:
    return User.objects.create_user(phone=phone, password=PASSWORD, name=name)


def _grant(user: User, role: str, **scope: Any) -> User:
    RoleAssignment.objects.create(user=user, role=role, **scope)
    return user


def make_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.S = Street.objects.create(name="红庙坡街道", code="hmp")
    w.T = Street.objects.create(name="朝天门街道", code="ctm")
    w.A = Community.objects.create(street=w.S, name="大兴东路社区", code="dxdl")
    w.B = Community.objects.create(street=w.S, name="府西社区", code="fuxi")
    w.C = Community.objects.create(street=w.T, name="巴县衙门社区", code="bxym")
    w.A1 = Grid.objects.create(community=w.A, name="第一网格", number=1)
    w.A2 = Grid.objects.create(community=w.A, name="第二网格", number=2)
    w.B1 = Grid.objects.create(community=w.B, name="府西一网格", number=1)
    w.C1 = Grid.objects.create(community=w.C, name="衙门一网格", number=1)
    w.cpA = Compound.objects.create(community=w.A, grid=w.A1, name="兴庆小区")
    w.bA1 = Building.objects.create(community=w.A, grid=w.A1, compound=w.cpA, name="1号楼")
    w.bA2 = Building.objects.create(community=w.A, grid=w.A2, name="2号楼")
    w.bB1 = Building.objects.create(community=w.B, grid=w.B1, name="府西1号楼")
    w.bC1 = Building.objects.create(community=w.C, grid=w.C1, name="衙门1号楼")

    def household(b: Building, room: str) -> Household:
        return Household.objects.create(
            community=b.community,
            building=b,
            unit="1单元",
            room=room,
            address=f"{b}1单元{room}",
            floor_area=Decimal("75.50"),
        )

    w.hA1, w.hA2, w.hB1, w.hC1 = (
        household(w.bA1, "101"),
        household(w.bA2, "202"),
        household(w.bB1, "301"),
        household(w.bC1, "401"),
    )

    def person(c: Community, h: Household, name: str, phone: str, owner: bool = True) -> Person:
        p = Person.objects.create(community=c, name=name, phone=phone, birth_year=1960)
        HouseholdMember.objects.create(community=c, household=h, person=p, is_owner=owner, relation="head")
        return p

    w.pA1 = person(w.A, w.hA1, "王秀英", "13800000001")
    w.pA1b = person(w.A, w.hA1, "王老伯", "", owner=False)  # an elder without a phone
    w.pA2 = person(w.A, w.hA2, "李建华", "13800000002")
    w.pB1 = person(w.B, w.hB1, "赵德明", "13800000003")
    w.pC1 = person(w.C, w.hC1, "钱玉兰", "13800000004")
    w.mA = Merchant.objects.create(community=w.A, name="老街理发店", contact_phone="13900000009")
    w.mB = Merchant.objects.create(community=w.B, name="府西便利店")
    w.teamA = Team.objects.create(community=w.A, name="帮帮团")
    TeamMember.objects.create(community=w.A, team=w.teamA, person=w.pA2, duty_role="mediator")
    w.teamB = Team.objects.create(community=w.B, name="红领之家")
    w.partnerA = PartnerUnit.objects.create(community=w.A, name="莲湖供电所")
    w.partnerB = PartnerUnit.objects.create(community=w.B, name="城区卫生院")

    w.street_admin = _grant(_user("13700000001", "街道管理员"), Role.STREET_ADMIN, street=w.S)
    w.staff_a = _grant(_user("13700000002", "社区工作者甲"), Role.COMMUNITY_STAFF, community=w.A)
    w.staff_b = _grant(_user("13700000003", "社区工作者乙"), Role.COMMUNITY_STAFF, community=w.B)
    w.staff_c = _grant(_user("13700000004", "社区工作者丙"), Role.COMMUNITY_STAFF, community=w.C)
    w.grid_chief_a1 = _grant(_user("13700000005", "网格长"), Role.GRID_CHIEF, grid=w.A1)
    w.grid_worker_a1 = _grant(_user("13700000006", "网格员一"), Role.GRID_WORKER, grid=w.A1)
    w.grid_worker_a2 = _grant(_user("13700000007", "网格员二"), Role.GRID_WORKER, grid=w.A2)
    w.steward_a1 = _grant(_user("13700000008", "楼长"), Role.BUILDING_STEWARD, building=w.bA1)
    w.auditor_a = _grant(_user("13700000009", "审计员"), Role.AUDITOR, community=w.A)
    w.merchant_op_a = _grant(_user("13700000010", "店主"), Role.MERCHANT_OPERATOR, merchant=w.mA)
    w.resident_a1 = _user("13800000001", "王秀英")
    w.pA1.user = w.resident_a1
    w.pA1.save()
    w.users = {name: getattr(w, name) for name in USER_NAMES}
    return w


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_large_community(street: Street, *, households: int = 5156, code: str = "big") -> Community:
    """SEEDS.md 004 in bulk: 3 grids, 14 compounds, 34 buildings, `households` households, ~2.7 people each.

    Used by the scale tests and bench/org_lists.py; bulk inserts keep it to a few seconds.
    """
    community = Community.objects.create(street=street, name=f"大兴东路社区-{code}", code=code)
    grids = [Grid.objects.create(community=community, name=f"第{i + 1}网格", number=i + 1) for i in range(3)]
    compounds = [
        Compound.objects.create(community=community, grid=grids[i % 3], name=f"小区{i + 1:02d}") for i in range(14)
    ]
    buildings = [
        Building.objects.create(
            community=community, grid=grids[(i % 14) % 3], compound=compounds[i % 14], name=f"{i // 14 + 1}号楼"
        )
        for i in range(34)
    ]
    rows = []
    for i in range(households):
        b = buildings[i % 34]
        unit, room = f"{(i // 34) % 4 + 1}单元", f"{(i // 136) % 30 + 1:02d}{(i // 4080) + 1:02d}"
        rows.append(
            Household(
                community=community,
                building=b,
                unit=unit,
                room=f"{room}-{i}",
                address=f"{b}{unit}{room}-{i}",
                floor_area=Decimal(60 + i % 80),
            )
        )
    Household.objects.bulk_create(rows, batch_size=2000)
    family = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "秀英桂兰建华志强淑珍玉兰德明丽娟海燕文杰"
    people: list[Person] = []
    homes: list[int] = []
    for h in Household.objects.filter(community=community).only("id"):
        for k in range(1 + h.id % 4):
            n = h.id * 4 + k
            people.append(
                Person(
                    community=community,
                    name=family[n % 20] + given[n % 16] + given[(n // 16) % 16],
                    phone=f"199{n:08d}" if k < 2 else "",
                    birth_year=1940 + n % 70,
                    tags=",elder_alone," if n % 29 == 0 else "",
                )
            )
            homes.append(h.id)
    Person.objects.bulk_create(people, batch_size=2000)  # sets primary keys on SQLite and PostgreSQL alike
    HouseholdMember.objects.bulk_create(
        [
            HouseholdMember(
                community=community,
                household_id=hid,
                person_id=p.pk,
                is_owner=i == 0 or homes[i - 1] != hid,
                relation="head" if i == 0 or homes[i - 1] != hid else "other",
            )
            for i, (p, hid) in enumerate(zip(people, homes, strict=True))
        ],
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        # fresh statistics, as autovacuum would give a real database: the planner must not think these tables tiny
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE org_person, org_householdmember, org_household, org_building")
    return community
