"""Demo data for earning points, on top of the demo street (linli/org/demo.py) and its points history.

- Each community starts from the seed template that describes it: 大兴东路社区 from Taiyuan's passbook rules
  (SEEDS 000), 府西社区 from Hejin's five areas (003), 巴县衙门社区 from Chongqing's grid points (001).
- 大兴东路社区 has claims in every state, so each demo login has something to do: check-ins from the demo steward's
  building waiting for verification, verified ones waiting for staff, the demo resident's approved clean-up (+3),
  one waiting and one rejected with its reason; a mediation recorded by the steward for an elder.
- Activities: free haircuts on the first Monday of every month (SEEDS 002) as a recurring series, a clean-up next
  Saturday with sign-ups and a waiting list, and last week's clean-up whose 30 attendees were turned into approved
  claims in one action.
- A donation waiting for assessment and an assessed one whose items wait for the market shelf; a volunteer-service
  certificate for the busiest volunteer.

Everything goes through the services, as the street admin and the demo staff. Built once: a second run finds the
catalogue and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from linli.org import demo
from linli.org.access import actor_for
from linli.org.models import Community, HouseholdMember, Person, Street, User
from linli.points import activities, catalogue, certificates, donations, services
from linli.points.activities import ActivityData, SeriesData
from linli.points.domain_activities import Repeat
from linli.points.models import Claim, Rule, RuleArea
from linli.points.services import ClaimInput

TZ = ZoneInfo("Asia/Shanghai")
TEMPLATE_OF = {demo.DAXING_CODE: "taiyuan", demo.FUXI_CODE: "hejin", demo.BAXIAN_CODE: "chongqing"}
KEY = "demo-points:"


@dataclass
class PointsDemo:
    created: bool
    claims: int = 0
    activities: int = 0


def _login(key: str) -> User:
    phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == key)
    return User.objects.get(phone=phone)


def _rule(community: Community, code: str) -> Rule:
    return Rule.objects.get(community=community, code=code)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def build_points_demo() -> PointsDemo:
    street = Street.objects.filter(code=demo.STREET_CODE).first()
    if street is None:
        return PointsDemo(created=False)
    daxing = Community.objects.get(street=street, code=demo.DAXING_CODE)
    if RuleArea.objects.filter(community=daxing).exists():
        return PointsDemo(created=False)
    with transaction.atomic():
        return _build(street, daxing)


def _build(street: Street, daxing: Community) -> PointsDemo:
    admin = actor_for(_login("street_admin"))
    staff = actor_for(_login("community_staff"))
    steward = actor_for(_login("building_steward"))
    for community in Community.objects.filter(street=street):
        catalogue.catalogue_from_template(
            actor=admin, community=community, template=TEMPLATE_OF.get(community.code, "hejin")
        )
    today = timezone.localdate()
    result = PointsDemo(created=True)

    cleanup = _rule(daxing, "ty-cleanup")
    mediate = _rule(daxing, "ty-mediate")
    building = demo.demo_scopes()["building_steward"]
    neighbours = list(
        Person.objects.filter(
            pk__in=HouseholdMember.objects.filter(household__building=building).values("person_id"),
            user__isnull=True,
            is_active=True,
        ).order_by("id")[:8]
    )
    resident = demo.demo_resident_person()
    resident_actor = actor_for(resident.user)

    def check_in(person: Person, n: int, hours: int, note: str, day: date) -> Claim:
        # the demo residents without a login check in "through" the steward, as they would on paper
        actor = resident_actor if person.pk == resident.pk else steward
        claim = services.claim_submit(
            actor=actor,
            person=person,
            rule=cleanup,
            data=ClaimInput(occurred_on=day, minutes=hours * 60, note=note),
            idempotency_key=f"{KEY}{person.pk}:{n}",
        ).claim
        result.claims += 1
        return claim

    # the demo resident: +3 for an hour of clean-up (SEEDS 000), one waiting, one turned down with a reason
    first = check_in(resident, 1, 1, "清扫楼道和单元门口", today - timedelta(days=3))
    services.claim_verify(actor=steward, claim=first)
    services.claim_approve(actor=staff, claim=first)
    check_in(resident, 2, 2, "清理小区绿化带的垃圾", today - timedelta(days=1))
    turned_down = check_in(resident, 3, 1, "打扫楼梯", today - timedelta(days=2))
    services.claim_reject(actor=steward, claim=turned_down, reason="那天楼梯是保洁员打扫的，请核对日期后重新提交。")

    # the steward's building: recorded by the steward for neighbours without a phone -> verified, waiting for staff
    notes = ["清扫楼道", "清理小广告", "整理楼下自行车", "擦拭扶手和信报箱"]
    for i, person in enumerate(neighbours[:4]):
        check_in(person, 1, 1 + i % 2, notes[i], today - timedelta(days=i))
    if len(neighbours) > 4:
        services.claim_submit(
            actor=steward,
            person=neighbours[4],
            rule=mediate,
            data=ClaimInput(occurred_on=today - timedelta(days=2), note="调解楼上楼下漏水纠纷，双方签了协议"),
            idempotency_key=f"{KEY}mediate",
        )
        result.claims += 1

    # activities: the monthly haircuts, next Saturday's clean-up, and last week's clean-up already closed
    haircut = Rule.objects.filter(community=daxing, current__name__contains="理发").first() or cleanup
    activities.activity_series_create(
        actor=staff,
        community=daxing,
        data=SeriesData(
            title="义务理发",
            place="社区服务站一楼",
            rule_id=haircut.pk,
            repeat=Repeat.MONTHLY_WEEKDAY,
            weekday=0,
            nth=1,
            start_time=time(9, 0),
            end_time=time(11, 30),
            first_date=today,
            capacity=30,
            description="每月第一个周一，志愿者为老年人免费理发。",
        ),
    )
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    upcoming = activities.activity_create(
        actor=staff,
        community=daxing,
        data=ActivityData(
            title="周末环境整治",
            place=f"{demo.DEMO_COMPOUND}南门集合",
            starts_at=_at(saturday, 9),
            ends_at=_at(saturday, 11),
            rule_id=cleanup.pk,
            capacity=6,
            description="清理绿化带和楼道杂物，工具由社区提供。",
        ),
    )
    signed = [resident, *neighbours[:6]]
    for person in signed:
        activities.signup_create(
            actor=staff if person.pk != resident.pk else resident_actor, activity=upcoming, person=person
        )
    result.activities += 2

    last_week = today - timedelta(days=7)
    started = _at(last_week, 8, 30)
    past = activities.activity_create(
        actor=staff,
        community=daxing,
        data=ActivityData(
            title="楼院环境卫生大扫除",
            place=f"{demo.DEMO_COMPOUND}",
            starts_at=started,
            ends_at=started + timedelta(hours=2),
            rule_id=cleanup.pk,
            description="社区组织的月度大扫除。",
        ),
        now=started - timedelta(days=3),
    )
    volunteers = list(
        Person.objects.filter(community=daxing, is_active=True).exclude(pk=resident.pk).order_by("id")[:30]
    )
    for person in volunteers:
        activities.attendance_mark(actor=staff, activity=past, person=person, now=started + timedelta(hours=2))
    activities.activity_close(actor=staff, activity=past, now=started + timedelta(hours=3))
    result.activities += 1
    result.claims += len(volunteers)

    # donations: one waiting to be assessed, one assessed whose items wait for the market shelf
    donor_a, donor_b = volunteers[0], volunteers[1]
    donations.donation_register(
        actor=staff,
        donor=donor_a,
        items=[
            donations.ItemInput("儿童绘本", "图书", 12, "九成新"),
            donations.ItemInput("毛绒玩具", "玩具", 3, "干净"),
        ],
        idempotency_key=f"{KEY}donation-a",
    )
    registered = donations.donation_register(
        actor=staff,
        donor=donor_b,
        items=[
            donations.ItemInput("运动鞋（42码）", "鞋", 1, "八成新"),
            donations.ItemInput("电饭煲", "家电", 1, "能用"),
        ],
        idempotency_key=f"{KEY}donation-b",
    ).donation
    items = list(registered.items.all())
    donations.donation_assess(
        actor=actor_for(_login("street_admin")),
        donation=registered,
        assessments=[
            donations.Assessment(item_id=items[0].pk, usable=True, points=3, price=8),
            donations.Assessment(item_id=items[1].pk, usable=True, points=5, price=15),
        ],
    )

    # a certificate for one of last week's volunteers
    certificates.certificate_issue(
        actor=staff,
        person=volunteers[2],
        period_from=today.replace(month=1, day=1),
        period_to=today,
        idempotency_key=f"{KEY}certificate",
    )
    return result
