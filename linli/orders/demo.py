"""Demo data for work orders, on top of the demo street (linli/org/demo.py).

Each demo community gets the default service catalogue, its property company and the city lighting centre as partner
units, and about 60 requests over the last three months (fewer in the two smaller communities) about the six stories
of SEEDS 001/004: night noise from the parking barrier, a leaking pipe, a broken street light (the city lighting
centre's job), a neighbours' dispute over parking, a corridor blocked with clutter, an elder living alone. Every
status, colour and channel occurs; most requests were resolved, answered and rated (satisfaction above 95 %, like
"54 taken, 53 completed"); two are overdue, one was escalated by hand, two were reopened, one is a merged duplicate.
大兴东路社区's demo resident made four of them, so "my requests" has something in each state.

Everything goes through the services (numbers, deadlines and timelines are real); afterwards the timestamps are moved
back with queryset updates so the history spreads over the months. Built once: a second run finds orders and stops.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.orders import services
from linli.orders.catalogue import catalogue_install
from linli.orders.models import Action, Category, HandlerKind, Open311Client, OrderEvent, Status, WorkOrder
from linli.orders.services import AssigneeInput, OrderInput
from linli.org import demo
from linli.org import services as org_services
from linli.org.access import ANONYMOUS, Actor, actor_for, can
from linli.org.models import Building, Community, HouseholdMember, PartnerUnit, Role, RoleAssignment, Street, Team, User

SEED = 2026
ORDERS = {demo.DAXING_CODE: 60, demo.FUXI_CODE: 30, demo.BAXIAN_CODE: 24}
PROPERTY = {
    demo.DAXING_CODE: "兴业物业服务有限公司",
    demo.FUXI_CODE: "府西物业服务有限公司",
    demo.BAXIAN_CODE: "朝天安居物业",
}
LIGHTING = "城市照明中心"


@dataclass(frozen=True)
class Story:
    category: str
    title: str
    description: str
    answer: str
    colour: str
    factors: tuple[int, int, int]


# Invented texts for the six kinds of request; each is told in a few variants so the lists do not repeat.
STORIES: tuple[Story, ...] = (
    Story(
        "property-noise",
        "夜间停车道闸噪音扰民",
        "小区北门停车道闸夜里抬杆落杆“咣当”声很大，十一点以后还一直响，老人孩子都睡不好。",
        "物业在道闸落杆处加装了橡胶缓冲垫，夜间关闭提示音，回访时居民说晚上安静多了。",
        "yellow",
        (2, 1, 2),
    ),
    Story(
        "property-noise",
        "地下车库卷帘门噪音",
        "车库卷帘门每次开关都有刺耳的金属摩擦声，半夜有车进出就被吵醒。",
        "物业更换了卷帘门导轨滑块并上油，噪音已消除。",
        "blue",
        (2, 1, 1),
    ),
    Story(
        "property-repair",
        "楼道水管漏水",
        "3单元4楼水管接头漏水，水顺着楼道墙往下流，墙皮都泡起来了，地面很滑。",
        "物业维修工上门更换了老化的管件，清理了积水，墙面干透后已重新粉刷。",
        "yellow",
        (2, 2, 1),
    ),
    Story(
        "property-repair",
        "单元门禁损坏",
        "单元门禁坏了好几天，门一直关不上，陌生人随便进出。",
        "物业更换了门禁电源和闭门器，门禁恢复正常。",
        "blue",
        (2, 1, 1),
    ),
    Story(
        "public-facility",
        "小区南侧路灯不亮",
        "小区南侧道路两盏路灯已经一周不亮了，晚上老人出门遛弯看不清路，很不安全。",
        "城市照明中心检修了线路，更换两个灯头，已恢复照明。",
        "blue",
        (2, 2, 1),
    ),
    Story(
        "mediation",
        "邻里停车位纠纷",
        "邻居长期把车停在我家车库门口，沟通了好几次都不听，前天差点吵起来。",
        "网格员约双方到社区调解室协商，双方同意按划线停车，物业在车库门前加画了禁停标线。",
        "yellow",
        (1, 2, 2),
    ),
    Story(
        "safety-hazard",
        "楼道堆放杂物堵塞通道",
        "2单元楼道堆满纸箱和旧家具，还有人把电动车推进楼道充电，担心着火。",
        "网格员和楼长逐户劝导，杂物已清运，电动车移至小区充电棚。",
        "red",
        (2, 1, 3),
    ),
    Story(
        "elder-care",
        "独居老人需要帮助",
        "5号楼一位独居老人这几天没见出门，敲门也没人应，邻居们很担心。",
        "网格员联系其子女并上门查看，老人感冒卧床，已陪同就医，志愿者每天上门探望。",
        "red",
        (1, 2, 3),
    ),
)
OPEN_FATES = frozenset(
    {"received", "accepted", "dispatched", "in_progress", "on_hold", "escalated", "unsatisfied", "reopened"}
)
CHANNELS = ("qr", "hotline", "app", "walk_in", "12345", "chat", "patrol", "qr", "open311", "council")


@dataclass
class OrdersDemo:
    created: bool
    orders: int = 0


def build_orders_demo() -> OrdersDemo:
    street = Street.objects.filter(code=demo.STREET_CODE).first()
    if street is None:
        return OrdersDemo(created=False)
    daxing = Community.objects.filter(street=street, code=demo.DAXING_CODE).first()
    if daxing is None or WorkOrder.objects.filter(community=daxing).exists():
        return OrdersDemo(created=False)
    with transaction.atomic():
        total = 0
        for community in Community.objects.filter(street=street).order_by("pk"):
            total += _Builder(street, community).build(ORDERS.get(community.code, 20))
    return OrdersDemo(created=True, orders=total)


def _login(key: str) -> User | None:
    phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == key)
    return User.objects.filter(phone=phone).first()


class _Builder:
    def __init__(self, street: Street, community: Community) -> None:
        self.community = community
        self.rng = random.Random(f"{SEED}:{community.code}")  # noqa: S311 - repeatable demo data, not secrets
        self.admin = actor_for(_login("street_admin"))
        is_daxing = community.code == demo.DAXING_CODE
        staff = _login("community_staff") if is_daxing else None
        self.staff: Actor = actor_for(staff) if staff else self.admin
        worker = _login("grid_worker") if is_daxing else None
        if worker is None:
            ra = RoleAssignment.objects.filter(role=Role.GRID_WORKER, grid__community=community).first()
            worker = ra.user if ra else None
        self.worker_user = worker
        self.worker = actor_for(worker) if worker else self.staff
        self.resident: Actor | None = None
        self.resident_person_id: int | None = None
        if is_daxing:
            person = demo.demo_resident_person()
            if person.user_id:
                self.resident = actor_for(person.user)
                self.resident_person_id = person.pk
        self.buildings = list(Building.objects.filter(community=community).order_by("pk")[:40])
        self.people = dict(
            HouseholdMember.objects.filter(community=community, household__building__in=self.buildings)
            .order_by("household__building_id", "pk")
            .values_list("household__building_id", "person_id")
            .distinct()
        )
        self.team = Team.objects.filter(community=community).order_by("pk").first()
        self.client: Open311Client | None = None

    def _partners(self) -> dict[str, PartnerUnit]:
        units = {}
        for key, name, kind in (
            ("property", PROPERTY.get(self.community.code, "安居物业服务公司"), "物业公司"),
            ("external", LIGHTING, "市政单位"),
        ):
            unit = PartnerUnit.objects.filter(community=self.community, name=name).first()
            units[key] = unit or org_services.partner_create(
                actor=self.admin, community=self.community, name=name, kind=kind, contact_name=self._contact()
            )
        return units

    def build(self, count: int) -> int:
        catalogue_install(actor=self.admin, community=self.community)
        self.units = self._partners()
        self.categories = {c.code: c for c in Category.objects.filter(community=self.community)}
        if self.community.code == demo.DAXING_CODE:
            self.client = services.open311_client_issue(
                actor=self.admin, community=self.community, name="城市服务App"
            ).client
        now = timezone.now()
        # index 0 is the newest request; the special fates sit among the recent ones, two overdue ones further back
        fates: dict[int, str] = {
            0: "received",
            1: "accepted",
            2: "dispatched",
            3: "in_progress",
            4: "on_hold",
            5: "resolved",
            6: "resolved",
            7: "unsatisfied",  # rated 2: reopened
            8: "cancelled",
            9: "escalated",
            11: "duplicate",  # merged into index 12
            14: "reopened",  # closed, then the resident called back
            17: "closed_unrated",
            19: "overdue",
            23: "overdue",
            29: "closed_unrated",
        }
        mine = {0, 3, 5, 20} if self.resident else set()
        filed: dict[int, WorkOrder] = {}
        for index in reversed(range(count)):  # oldest first: numbers follow the order requests came in
            # spread over 90 days, newest first; the overdue ones are old enough to have missed their deadline
            # the newest sixteen over the last three weeks (where the open ones sit), the rest back to three months
            days_ago = 1 + index * 1.4 if index <= 15 else 22 + (index - 15) * 68 / max(count - 16, 1)
            fate = fates.get(index, "closed")
            if fate == "overdue":
                days_ago = max(days_ago, 24)
            received = now - timedelta(days=days_ago, hours=self.rng.randint(0, 9), minutes=self.rng.randint(0, 59))
            story = STORIES[(index * 5 + (index // 8)) % len(STORIES)]
            if fate == "duplicate":
                story = STORIES[0]
            elif fate in OPEN_FATES:
                story = STORIES[index % 4]  # 15-day categories: only the two overdue ones miss their deadline
            order = self._file(index, story, received, resident=index in mine)
            filed[index] = order
            self._play(order, story, fate, received, now, filed, by_resident=index in mine)
        return len(filed)

    # --- one request ---------------------------------------------------------------------------------------------
    def _file(self, index: int, story: Story, received: datetime, *, resident: bool) -> WorkOrder:
        channel = "app" if resident else CHANNELS[index % len(CHANNELS)]
        if channel == "open311" and self.client is None:
            channel = "hotline"
        building = self.buildings[(index * 7) % len(self.buildings)] if self.buildings else None
        reporter = (
            None
            if resident or channel in ("open311", "12345", "patrol")
            else self.people.get(building.pk)
            if building
            else None
        )
        data = OrderInput(
            category=story.category,
            title=story.title,
            description=story.description,
            building_id=building.pk if building else None,
            reporter_id=reporter,
            contact_name="" if reporter or resident else self._caller(),
            contact_phone="" if reporter or resident else f"139{self.rng.randint(0, 99999999):08d}",
            external_ref=f"GD{received:%Y%m%d}{index:04d}" if channel == "12345" else "",
            received_at=received,
        )
        if resident and self.resident is not None:
            actor = self.resident
        elif channel == "patrol" and building is not None and can(self.worker, "order.report", building):
            actor = self.worker
        elif channel == "open311":
            actor = ANONYMOUS
        else:
            actor = self.staff
        return services.order_create(
            actor=actor,
            community=self.community,
            data=data,
            channel=channel,
            open311_client=self.client if channel == "open311" else None,
        ).order

    def _contact(self) -> str:
        """An invented contact person, from the demo's own name pools."""
        return self.rng.choice(demo.SURNAMES[:40]) + self.rng.choice(sorted(demo.GIVEN_ALL))

    def _caller(self) -> str:
        return self.rng.choice(demo.SURNAMES[:40]) + self.rng.choice(("先生", "女士", "阿姨", "大爷"))

    def _assignee(self, story: Story) -> AssigneeInput:
        handler = self.categories[story.category].handler
        if handler == HandlerKind.PROPERTY:
            return AssigneeInput(handler=handler, unit_id=self.units["property"].pk)
        if handler == HandlerKind.EXTERNAL:
            return AssigneeInput(handler=handler, unit_id=self.units["external"].pk)
        if handler == HandlerKind.TEAM and self.team is not None:
            return AssigneeInput(handler=handler, team_id=self.team.pk)
        if self.worker_user is not None:
            return AssigneeInput(handler=HandlerKind.GRID_WORKER, user_id=self.worker_user.pk)
        return AssigneeInput(handler=HandlerKind.STAFF, user_id=self.staff.user.pk)

    def _play(
        self,
        order: WorkOrder,
        story: Story,
        fate: str,
        received: datetime,
        now: datetime,
        filed: dict[int, WorkOrder],
        *,
        by_resident: bool,
    ) -> None:
        """Take the order as far as its fate says, then date every step back into the past."""
        staff = self.staff
        hours = self.rng.randint(1, 5)
        times: dict[str, datetime] = {"receive": received}
        if fate == "duplicate":
            into = filed[12]
            services.order_merge(actor=staff, order=order, into=into, note="与已受理的道闸噪音诉求重复")
            times["merge"] = received + timedelta(hours=hours)
            OrderEvent.objects.filter(order=into, action=Action.NOTE).update(at=times["merge"])
            return self._date(order, times, now)
        if fate == "cancelled":
            services.order_cancel(actor=staff, order=order, reason="居民来电说明问题已自行解决，撤回诉求")
            times["cancel"] = received + timedelta(hours=hours)
            return self._date(order, times, now)
        if fate == "received":
            return self._date(order, times, now)
        services.order_accept(actor=staff, order=order)
        times["accept"] = received + timedelta(hours=hours)
        colour = story.colour
        if self.rng.random() < 0.15:
            colour = "blue" if colour != "blue" else "yellow"
        factors = dict(zip(("scale", "difficulty", "impact"), story.factors, strict=True))
        services.order_grade(actor=staff, order=order, severity=colour, factors=factors)
        times["grade"] = times["accept"] + timedelta(minutes=10)
        if fate == "accepted":
            return self._date(order, times, now)
        services.order_dispatch(actor=staff, order=order, assignees=[self._assignee(story)])
        times["dispatch"] = times["accept"] + timedelta(minutes=40)
        if fate == "dispatched" or (fate == "overdue" and self.rng.random() < 0.5):
            return self._date(order, times, now)
        services.order_start(actor=staff, order=order, note="已联系居民，约定上门时间")
        times["start"] = times["dispatch"] + timedelta(hours=self.rng.randint(2, 20))
        if fate in ("in_progress", "overdue"):
            return self._date(order, times, now)
        if fate == "escalated":
            escalator = self.worker if services.may(self.worker, "order.escalate", order) else staff
            services.order_escalate(actor=escalator, order=order, reason="涉及多家单位，需要街道协调")
            times["escalate"] = times["start"] + timedelta(hours=3)
            return self._date(order, times, now)
        if fate == "on_hold":
            services.order_hold(actor=staff, order=order, reason="等待厂家配件到货")
            times["hold"] = times["start"] + timedelta(hours=2)
            return self._date(order, times, now)
        services.order_resolve(actor=staff, order=order, answer=story.answer)
        days = self.rng.choice((1, 2, 2, 3, 3, 3, 4, 5, 6))
        times["resolve"] = min(received + timedelta(days=days, hours=self.rng.randint(0, 6)), now - timedelta(hours=2))
        times["resolve"] = max(times["resolve"], times["start"] + timedelta(hours=1))
        if fate == "resolved":
            return self._date(order, times, now)
        rater = self.resident if by_resident and self.resident is not None else staff
        closed = min(times["resolve"] + timedelta(hours=self.rng.randint(4, 30)), now - timedelta(minutes=30))
        if fate == "closed_unrated":
            services.order_close(actor=staff, order=order, note="回访三次未接通，按办结处理")
            times["close"] = closed
            return self._date(order, times, now)
        if fate == "unsatisfied":
            services.order_rate(actor=rater, order=order, rating=2, comment="晚上还是有响声，希望再看看")
            times["rate"] = closed
            return self._date(order, times, now)
        rating = 4 if self.rng.random() < 0.2 else 5
        comment = self.rng.choice(("处理很及时，谢谢！", "网格员很负责", "满意", "", "问题解决了，点赞"))
        services.order_rate(actor=rater, order=order, rating=rating, comment=comment)
        times["rate"] = closed
        if fate == "reopened":
            services.order_reopen(actor=staff, order=order, reason="居民来电反映问题复发")
            times["reopen"] = max(closed + timedelta(hours=1), now - timedelta(days=2))  # it came back lately
        self._date(order, times, now)

    def _date(self, order: WorkOrder, times: dict[str, datetime], now: datetime) -> None:
        """Move the order's timestamps and its timeline back to when the steps happened in the story."""
        fields: dict[str, Any] = {}
        for step, column in (
            ("accept", "accepted_at"),
            ("dispatch", "dispatched_at"),
            ("resolve", "resolved_at"),
            ("hold", "held_at"),
            ("escalate", "escalated_at"),
        ):
            if step in times:
                fields[column] = times[step]
        closing = times.get("rate") or times.get("close")
        order.refresh_from_db()
        if closing and order.status == Status.CLOSED:
            fields["closed_at"] = closing
        if "rate" in times:
            fields["rated_at"] = times["rate"]
        if order.status == Status.REOPENED:
            start = times.get("reopen") or times["rate"]
            fields["due_at"] = services._due(order, start)  # the fresh deadline, counted from the reopening
        if fields:
            WorkOrder.objects.filter(pk=order.pk).update(**fields)
        events = list(OrderEvent.objects.filter(order=order).order_by("pk"))
        last = times["receive"]
        for event in events:
            at = times.get("merge" if event.action == Action.NOTE else event.action)
            event.at = at if at is not None and at >= last else last + timedelta(minutes=1)
            last = event.at
        OrderEvent.objects.bulk_update(events, ["at"])
