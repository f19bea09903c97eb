"""A realistic points history for the demo street (issue 3 part 10): about six months of awards, activity batches,
redemptions at the points market, a reversal, an adjustment and a gift, in every demo community.

Built from SEEDS.md:
- rules (打分标准): environmental clean-up 3 per full hour, teaching a class 5, mediating a dispute 8, repairing an
  appliance 3, discovering an early fire 10, joining a clean-up 2, haircut or plumbing for elders 5, recommending a
  volunteer 5, reporting a flat turned into a homestay 2, cleaning an elder's home 3 (SEEDS 000/001/003);
- one clean-up campaign a month per community, 30-60 people at +2 each, posted as one batch (SEEDS 002/003);
- the points market at SEEDS prices: soy sauce 3, detergent 6, rice 15, tissues 30, rapeseed oil 40 — never more
  than the person holds;
- stories: one volunteer far ahead at 156 points (SEEDS 000, 蓝山社区); one passbook ending at 98 after "+3, an hour
  fixing a radio with the grid worker" (SEEDS 000); the demo resident's passbook (19900000008) with about twenty
  lines, among them a duplicate entry and its reversal, a gift from a neighbour and an adjustment; the demo
  merchant (府西红星理发店) earning points for free haircuts for elders (SEEDS 002) and spending some.

Every point goes through linli.ledger.services (and the adjustments service), with `at=` for the past dates. The
history is simulated first, in time order, with the balances it will produce, so no redemption ever overdraws;
then it is posted in time order (ids grow with time), grouping what happens in one community at one moment into one
`transfer_post_batch` — a few hundred statements for a few thousand transfers, so the build takes seconds.
Idempotency keys start with "demo:"; a second build finds them and posts nothing (the dates move with today's
date, so the keys alone would not make a later rebuild a no-op). At the end every complete past month is sealed
when linli.ledger.sealing is there (imported guardedly: the ledger can be built without it).
"""

from __future__ import annotations

import contextlib
import importlib
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from linli.common.errors import DomainError
from linli.ledger import services
from linli.ledger.models import Account, SystemAccount, Transfer, TransferKind
from linli.org import demo
from linli.org.models import Community, Merchant, Person, Role, RoleAssignment, TeamMember, User

TZ = ZoneInfo("Asia/Shanghai")
KEY_PREFIX = "demo:"
STAR_POINTS = 156  # SEEDS 000: "one volunteer has 156 points, far ahead"
RADIO_BALANCE = 98  # SEEDS 000: "+3, passbook total 98"
EARN_CAP = 110  # nobody else earns more than this from individual awards, so the star stays far ahead


@dataclass(frozen=True)
class Rule:
    memo: str
    points: int
    weight: int = 1


# the rules catalogue, per community (SEEDS 000 for 大兴东路, 002/003 for 府西, 001 for 巴县衙门)
COMMON_RULES = [
    Rule("环境清扫 1 小时", 3, 6),
    Rule("环境清扫 2 小时", 6, 4),
    Rule("环境清扫 3 小时", 9, 1),
    Rule("社区课堂授课一次", 5, 2),
    Rule("成功调解邻里纠纷一起", 8, 1),
    Rule("为居民修理家电", 3, 3),
    Rule("帮独居老人打扫卫生", 3, 3),
    Rule("推荐居民成为志愿者", 5, 1),
]
RULES: dict[str, list[Rule]] = {
    demo.DAXING_CODE: [*COMMON_RULES, Rule("楼栋入户走访、政策宣传", 2, 3)],
    demo.FUXI_CODE: [
        *COMMON_RULES,
        Rule("帮帮团接单上门服务", 3, 4),
        Rule("旧物捐赠：旧书 10 本", 2, 2),
        Rule("“随手拍”上报安全隐患", 2, 2),
    ],
    demo.BAXIAN_CODE: [
        *COMMON_RULES,
        Rule("发现并报告早期火情", 10, 1),
        Rule("报告违规改建民宿", 2, 2),
        Rule("为困难老人上门理发", 5, 2),
        Rule("为困难家庭维修水电", 5, 2),
    ],
}
# exact amounts for the scripted passbooks
BY_POINTS: dict[int, str] = {
    2: "参加院落清扫",
    3: "环境清扫 1 小时",
    5: "社区课堂授课一次",
    6: "环境清扫 2 小时",
    8: "成功调解邻里纠纷一起",
    10: "发现并报告早期火情",
}
# the points market at SEEDS 001/002 prices
PRODUCTS: list[tuple[str, str, int]] = [
    ("酱油", "1 瓶", 3),
    ("洗衣液", "1 袋", 6),
    ("大米", "1 袋", 15),
    ("纸巾", "1 提", 30),
    ("菜籽油", "1 桶", 40),
]


@dataclass
class _Step:
    """One transfer of the simulated history, or a reversal of an earlier one (by its idempotency key)."""

    at: datetime
    community: Community
    leg: services.Leg | None = None
    solo_key: str = ""  # posted alone under this key (so a later step can find it)
    reverse_key: str = ""  # reverse the transfer posted under this key
    memo: str = ""


@dataclass
class HistoryResult:
    created: bool
    transfers: int = 0
    sealed: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def history_exists() -> bool:
    communities = Community.objects.filter(street__code=demo.STREET_CODE)
    return Transfer.objects.filter(community__in=communities, idempotency_key__startswith=KEY_PREFIX).exists()


def build_history(*, seed: int = demo.SEED, months: int = 6, now: datetime | None = None) -> HistoryResult:
    """Give the demo street `months` months of points history up to `now`. Does nothing when the demo street is
    missing or already has its history."""
    started = time.perf_counter()
    if not Community.objects.filter(street__code=demo.STREET_CODE).exists() or history_exists():
        return HistoryResult(created=False, seconds=time.perf_counter() - started)
    now = (now or timezone.now()).astimezone(TZ)
    with transaction.atomic():
        builder = _History(random.Random(seed), now, months)  # noqa: S311 - repeatable demo data, not secrets
        builder.plan()
        posted = builder.post()
        adjusted = builder.adjust()
    sealed = _seal_past_months(builder.communities, builder.start, now)
    return HistoryResult(
        created=True,
        transfers=posted + adjusted,
        sealed=sealed,
        seconds=time.perf_counter() - started,
        notes=builder.notes,
    )


def _seal_past_months(communities: list[Community], start: datetime, now: datetime) -> int:
    """Seal every month that has ended, from the history's first month, when the sealing module exists."""
    try:
        sealing = importlib.import_module("linli.ledger.sealing")
    except ImportError:
        return 0
    seal: Callable[..., Any] | None = getattr(sealing, "ledger_seal", None)
    if seal is None:
        return 0
    months = []
    cursor = date(start.year, start.month, 1)
    while True:
        following = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
        if datetime(following.year, following.month, following.day, tzinfo=TZ) + timedelta(minutes=10) > now:
            break
        months.append(f"{cursor:%Y-%m}")
        cursor = following
    count = 0
    for community in communities:
        for month in months:
            # a month that cannot be sealed now (not over, sealed differently) is left to `linli ledger seal`
            with contextlib.suppress(DomainError):
                seal(community=community, month=month, actor=None)
                count += 1
    return count


class _History:
    def __init__(self, rng: random.Random, now: datetime, months: int) -> None:
        self.rng = rng
        self.now = now
        self.start = now - timedelta(days=round(months * 30.5))
        self.days = (now - self.start).days
        self.communities = list(Community.objects.filter(street__code=demo.STREET_CODE).order_by("id"))
        self.steps: list[_Step] = []
        self.balance: dict[int, int] = defaultdict(int)  # simulated balances, by account id
        self.notes: list[str] = []
        self.actors: dict[int, User | None] = {c.pk: self._staff(c) for c in self.communities}
        self._slots: dict[tuple[int, date], datetime] = {}
        self._system: dict[tuple[int, str], Account] = {}
        self._keys: set[str] = set()

    # -- helpers --
    def _staff(self, community: Community) -> User | None:
        """The community's back-office scorer (后台赋分): the demo staff login in 大兴东路, else the first staff."""
        holders = RoleAssignment.objects.filter(role=Role.COMMUNITY_STAFF, community=community).order_by("id")
        demo_phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == "community_staff")
        chosen = holders.filter(user__phone=demo_phone).first() or holders.first()
        return chosen.user if chosen else None

    def _moment(self, community: Community, day: int | None = None) -> datetime:
        """A time on a day of the history: that community's scoring session of the day (后台赋分: the staff member
        enters the day's points in one sitting), so one community's events of a day post as one batch."""
        day = self.rng.randrange(self.days) if day is None else day
        local = (self.start + timedelta(days=day)).date()
        key = (community.pk, local)
        if key not in self._slots:
            hour = self.rng.choice((9, 10, 11, 14, 15, 16, 17, 18, 19))
            self._slots[key] = datetime(local.year, local.month, local.day, hour, self.rng.randrange(60), tzinfo=TZ)
        moment = self._slots[key]
        if moment >= self.now:
            moment = self.now - timedelta(hours=1)
        return max(moment, self.start)

    def _system_account(self, community: Community, code: str) -> Account:
        if (community.pk, code) not in self._system:
            self._system[(community.pk, code)] = services.system_account(community, code)
        return self._system[(community.pk, code)]

    def _iss(self, community: Community) -> Account:
        return self._system_account(community, SystemAccount.ISSUANCE)

    def _market(self, community: Community) -> Account:
        return self._system_account(community, SystemAccount.MARKET)

    def _award(self, at: datetime, person_acc: Account, points: int, memo: str, **kw: Any) -> _Step:
        community = self._community(person_acc)
        leg = services.Leg(self._iss(community), person_acc, points, TransferKind.AWARD, memo)
        return _Step(at, community, leg, **kw)

    def _community(self, acc: Account) -> Community:
        return next(c for c in self.communities if c.pk == acc.community_id)

    def _scripted(self, acc: Account, total: int, first_day: int, last_day: int) -> list[_Step]:
        """Awards adding up to exactly `total`, spread over [first_day, last_day]."""
        amounts: list[int] = []
        remaining = total
        choices = sorted(BY_POINTS)
        while remaining > 12:
            amount = self.rng.choice([a for a in choices if a <= remaining - 2])
            amounts.append(amount)
            remaining -= amount
        amounts += _decompose(remaining)
        self.rng.shuffle(amounts)
        days = sorted(self.rng.randint(first_day, last_day) for _ in amounts)
        return [
            self._award(self._moment(self._community(acc), d), acc, a, BY_POINTS[a])
            for a, d in zip(amounts, days, strict=True)
        ]

    # -- the plan --
    def plan(self) -> None:
        intents: list[tuple[datetime, int, Callable[[], list[_Step]]]] = []
        order = 0

        def later(at: datetime, make: Callable[[], list[_Step]]) -> None:
            nonlocal order
            order += 1
            intents.append((at, order, make))

        fixed: list[_Step] = []
        for community in self.communities:
            fixed += self._community_plan(community, later)
        # fixed steps need no decision; redemptions and gifts decide at their moment from the simulated balances
        for step in fixed:
            later(step.at, _just(step))
        for _at, _n, make in sorted(intents, key=lambda x: (x[0], x[1])):
            for step in make():
                self._simulate(step)

    def _simulate(self, step: _Step) -> None:
        leg = step.leg
        assert leg is not None
        if leg.debit.constrained and self.balance[leg.debit.pk] < leg.amount:
            return  # would overdraw: the resident could not have afforded it, so it did not happen
        if leg.debit.constrained:
            self.balance[leg.debit.pk] -= leg.amount
        if leg.credit.constrained:
            self.balance[leg.credit.pk] += leg.amount
        self.steps.append(step)

    def _community_plan(self, community: Community, later: Callable[..., None]) -> list[_Step]:
        rng = self.rng
        actor = self.actors[community.pk]
        member_ids = sorted(
            set(TeamMember.objects.filter(community=community, person__is_active=True).values_list("person", flat=True))
        )
        candidates = Person.objects.filter(pk__in=member_ids)
        if actor is not None:
            candidates = candidates.exclude(user=actor)  # nobody awards themselves
        people = {p.pk: p for p in candidates}
        resident = demo.demo_resident_person() if community.code == demo.DAXING_CODE else None
        volunteers = [people[pk] for pk in member_ids if pk in people and (resident is None or pk != resident.pk)]
        rng.shuffle(volunteers)
        steps: list[_Step] = []
        scripted: set[int] = set()
        if community.code == demo.DAXING_CODE and resident is not None and len(volunteers) > 3:
            star, radio, giver = volunteers[0], volunteers[1], volunteers[2]
            scripted = {star.pk, radio.pk}
            steps += self._star(star)
            steps += self._radio(radio)
            steps += self._resident(resident, giver, later)
        accounts = {p.pk: services.account_for_person(p) for p in volunteers}
        core_count = max(12, len(volunteers) // 6)
        earned: dict[int, int] = defaultdict(int)
        rules = RULES.get(community.code, COMMON_RULES)
        weights = [r.weight for r in rules]
        for n, person in enumerate(volunteers):
            if person.pk in scripted:
                continue
            acc = accounts[person.pk]
            core = n < core_count
            for _ in range(rng.randint(8, 18) if core else rng.randint(1, 5)):
                rule = rng.choices(rules, weights)[0]
                if earned[person.pk] + rule.points > EARN_CAP:
                    break
                earned[person.pk] += rule.points
                steps.append(self._award(self._moment(community), acc, rule.points, rule.memo))
            for _ in range(rng.randint(1, 4) if core else rng.randint(0, 2)):
                at = self._moment(community)
                later(at, lambda acc=acc, at=at: self._redeem(acc, at))
        steps += self._cleanups(community, [p for p in volunteers if p.pk not in scripted], accounts)
        steps += self._merchants(community, later)
        return steps

    def _redeem(self, acc: Account, at: datetime, choice: str | None = None) -> list[_Step]:
        """A visit to the points market: the dearest thing the person can afford, sometimes something cheaper."""
        have = self.balance[acc.pk]
        affordable = [p for p in PRODUCTS if p[2] <= have and (choice is None or p[0] == choice)]
        if not affordable:
            return []
        name, unit, price = affordable[-1] if self.rng.random() < 0.5 else self.rng.choice(affordable)
        community = self._community(acc)
        memo = f"积分超市兑换：{name} {unit}（{price} 分）"
        return [_Step(at, community, services.Leg(acc, self._market(community), price, TransferKind.REDEMPTION, memo))]

    def _cleanups(self, community: Community, volunteers: list[Person], accounts: dict[int, Account]) -> list[_Step]:
        """One 院落环境大扫除 a month (SEEDS 002: 36 campaigns, 300+ people), 30-60 people at +2, as one batch."""
        steps: list[_Step] = []
        month = date(self.start.year, self.start.month, 1)
        while True:
            day = month + timedelta(days=(5 - month.weekday()) % 7 + 7)  # the second Saturday
            at = datetime(day.year, day.month, day.day, 8, 30, tzinfo=TZ)
            if at >= self.now:
                break
            if at >= self.start and volunteers:
                crowd = self.rng.sample(volunteers, min(len(volunteers), self.rng.randint(30, 60)))
                crowd.sort(key=lambda p: p.pk)
                memo = f"{day.month}月院落环境大扫除"
                steps += [self._award(at, accounts[p.pk], 2, memo) for p in crowd]
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        return steps

    def _merchants(self, community: Community, later: Callable[..., None]) -> list[_Step]:
        """Caring merchants earn points by service times (SEEDS 002) and spend some at the market."""
        steps: list[_Step] = []
        if community.code != demo.FUXI_CODE:
            return steps
        shops = {
            m.name: services.account_for_merchant(m)
            for m in Merchant.objects.filter(
                community=community, name__in=[demo.DEMO_MERCHANT, "惠民水电维修部", "安心家电维修"]
            )
        }
        barber = shops.get(demo.DEMO_MERCHANT)
        month = date(self.start.year, self.start.month, 1)
        while barber is not None:
            first_monday = month + timedelta(days=(0 - month.weekday()) % 7)
            at = datetime(first_monday.year, first_monday.month, first_monday.day, 17, 0, tzinfo=TZ)
            if at >= self.now:
                break
            if at >= self.start:
                elders = self.rng.randint(2, 4)
                memo = f"每月第一个周一为老人义务理发 {elders} 人次"
                steps.append(self._shop_award(at, community, barber, 5 * elders, memo))
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        if barber is not None:
            at = self.now - timedelta(days=20)
            later(at, lambda: self._redeem(barber, at, choice="纸巾"))
        for name, memo, points in (
            ("惠民水电维修部", "为困难家庭上门维修水电", 5),
            ("安心家电维修", "为老人修理收音机", 3),
        ):
            if name in shops:
                for _ in range(self.rng.randint(2, 5)):
                    steps.append(self._shop_award(self._moment(community), community, shops[name], points, memo))
        return steps

    def _shop_award(self, at: datetime, community: Community, acc: Account, points: int, memo: str) -> _Step:
        return _Step(at, community, services.Leg(self._iss(community), acc, points, TransferKind.AWARD, memo))

    # -- the stories --
    def _star(self, person: Person) -> list[_Step]:
        acc = services.account_for_person(person)
        self.notes.append(f"{person.name}: {STAR_POINTS}")
        return self._scripted(acc, STAR_POINTS, 0, self.days - 1)

    def _radio(self, person: Person) -> list[_Step]:
        """Earn 110, spend 15 on rice, then the radio: +3 makes 98 (SEEDS 000)."""
        acc = services.account_for_person(person)
        community = self._community(acc)
        steps = self._scripted(acc, RADIO_BALANCE - 3 + 15, 0, self.days - 10)
        rice = self.now - timedelta(days=8, hours=3)
        memo = "积分超市兑换：大米 1 袋（15 分）"
        steps.append(
            _Step(rice, community, services.Leg(acc, self._market(community), 15, TransferKind.REDEMPTION, memo))
        )
        radio = self.now - timedelta(days=3, hours=2)
        steps.append(self._award(radio, acc, 3, "帮帮团接单：和网格员一起为独居老人修收音机 1 小时"))
        self.notes.append(f"{person.name}: {RADIO_BALANCE}")
        return steps

    def _resident(self, resident: Person, giver: Person, later: Callable[..., None]) -> list[_Step]:
        """The demo resident's passbook: 13 awards, a duplicate and its reversal, 3 market visits, a gift; the
        adjustment is added last by the adjustments service (about 20 lines)."""
        acc = services.account_for_person(resident)
        community = self._community(acc)
        memos = [
            "环境清扫 2 小时",
            "帮独居老人打扫卫生",
            "楼栋入户走访、政策宣传",
            "社区课堂授课一次",
            "环境清扫 1 小时",
        ]
        steps = []
        span = self.days - 5
        for i in range(13):
            memo = memos[i % len(memos)]
            rule = next(r for r in RULES[demo.DAXING_CODE] if r.memo == memo)
            steps.append(
                self._award(self._moment(community, span * i // 13 + self.rng.randrange(3)), acc, rule.points, memo)
            )
        dup_day = span // 2 + 4
        dup_at = self._moment(community, dup_day)
        key = f"{KEY_PREFIX}{community.code}:duplicate"
        memo = "环境清扫 2 小时"
        steps.append(self._award(dup_at, acc, 6, memo, solo_key=key))
        rev_at = dup_at + timedelta(days=1, hours=1)
        steps.append(
            _Step(
                rev_at,
                community,
                services.Leg(acc, self._iss(community), 6, TransferKind.REVERSAL, ""),
                reverse_key=key,
                memo="重复录入，冲正（同一次清扫记了两遍）",
            )
        )
        for day, product in ((span // 3, "洗衣液"), (span * 2 // 3, "大米"), (span - 2, "酱油")):
            at = self._moment(community, day)
            later(at, lambda at=at, product=product: self._redeem(acc, at, choice=product))
        giver_acc = services.account_for_person(giver)
        gift_at = self._moment(community, span - 6)
        later(gift_at, lambda: self._gift(giver, giver_acc, resident, acc, gift_at))
        return steps

    def _gift(self, giver: Person, giver_acc: Account, resident: Person, acc: Account, at: datetime) -> list[_Step]:
        amount = 5
        community = self._community(acc)
        if self.balance[giver_acc.pk] < amount:  # make sure the neighbour has the points to give
            self._simulate(self._award(at - timedelta(minutes=5), giver_acc, 8, "成功调解邻里纠纷一起"))
        memo = f"{giver.name}赠送给邻居{resident.name}：谢谢常来照看我家老人"
        return [_Step(at, community, services.Leg(giver_acc, acc, amount, TransferKind.GIFT, memo))]

    # -- posting --
    def post(self) -> int:
        """Post the simulated steps in time order; one batch per community and moment."""
        steps = sorted(self.steps, key=lambda s: s.at)  # stable: the simulated order within a moment stays
        count = 0
        batch: list[_Step] = []

        def flush() -> None:
            nonlocal count
            if not batch:
                return
            first = batch[0]
            base = key = f"{KEY_PREFIX}{first.community.code}:{first.at.astimezone(TZ):%Y%m%d%H%M}"
            n = 0
            while key in self._keys:  # two batches in one minute (split by a reversal): the second gets its own key
                n += 1
                key = f"{base}-{n}"
            self._keys.add(key)
            legs = [s.leg for s in batch if s.leg is not None]
            services.transfer_post_batch(
                community=first.community,
                legs=legs,
                actor=self.actors[first.community.pk],
                idempotency_key=key,
                at=first.at,
            )
            count += len(legs)
            batch.clear()

        for step in steps:
            if step.solo_key or step.reverse_key:
                flush()
                count += self._post_alone(step)
                continue
            if batch and (batch[0].community.pk != step.community.pk or batch[0].at != step.at):
                flush()
            batch.append(step)
        flush()
        return count

    def _post_alone(self, step: _Step) -> int:
        actor = self.actors[step.community.pk]
        leg = step.leg
        assert leg is not None
        if step.reverse_key:
            original = Transfer.objects.get(community=step.community, idempotency_key=step.reverse_key)
            services.transfer_reverse(
                transfer=original,
                actor=actor,
                idempotency_key=f"{step.reverse_key}:reversal",
                memo=step.memo,
                at=step.at,
            )
            return 1
        services.transfer_post(
            debit=leg.debit,
            credit=leg.credit,
            amount=leg.amount,
            kind=leg.kind,
            actor=actor,
            idempotency_key=step.solo_key,
            memo=leg.memo,
            at=step.at,
        )
        return 1

    def adjust(self) -> int:
        """The demo resident's adjustment: 2 points left out of an earlier clean-up, entered now with a reason.
        Through linli.ledger.adjustments when it is there (it stamps the current time), else a transfer of kind
        adjustment out of issuance with the reason as memo."""
        daxing = next((c for c in self.communities if c.code == demo.DAXING_CODE), None)
        if daxing is None:
            return 0
        resident = demo.demo_resident_person()
        actor = self.actors[daxing.pk]
        reason = "补录：上月楼道清扫漏记 2 分（楼长核实）"
        key = f"{KEY_PREFIX}{daxing.code}:adjustment"
        try:
            adjustments = importlib.import_module("linli.ledger.adjustments")
        except ImportError:
            adjustments = None
        request = getattr(adjustments, "adjustment_request", None)
        if request is not None and actor is not None:
            request(actor=actor, person=resident, amount=2, reason=reason, idempotency_key=key)
            # the service keys its transfer by the adjustment; mark it as demo history too
            return 1
        services.transfer_post(
            debit=self._iss(daxing),
            credit=services.account_for_person(resident),
            amount=2,
            kind=TransferKind.ADJUSTMENT,
            actor=actor,
            idempotency_key=key,
            memo=reason,
            ref_type="adjustment",
            at=self.now,
        )
        return 1


def _just(step: _Step) -> Callable[[], list[_Step]]:
    return lambda: [step]


def _decompose(remaining: int) -> list[int]:
    """2..12 points as a sum of the rule amounts in BY_POINTS."""
    table = {0: [], 2: [2], 3: [3], 4: [2, 2], 5: [5], 6: [6], 7: [5, 2], 8: [8], 9: [6, 3], 10: [10], 11: [8, 3]}
    table[12] = [10, 2]
    return list(table[remaining])
