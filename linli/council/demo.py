"""Demo data for the council, in the demo community (大兴东路社区, where the demo logins work and live).

SEEDS 002 and 003 told as they would happen here:
- the evening talks "府西夜话", numbered on from the paper register (263): six sessions held over the last three months
  (five closed with minutes and a closing report, the latest held and waiting for its report), one cancelled for a
  storm warning, one planned for next week; invitations (the community lawyer by name, the property company, a
  partner unit), attendance mostly by QR code, some signed in by staff; agenda items of the three kinds and colours
  (a leak from upstairs, support for an elder, a parking quarrel, charging posts, falling wall tiles, water cut over
  unpaid fees ...), some brought from the demo work orders;
- a "议事协商会" (consultation with the units: the property company, the power supply office);
- resolutions with owners, the grid chief as supervisor (监督岗) and due dates: most done, with progress reports and
  public replies on the echo wall (回音壁) and residents' ratings (评议台); two in progress; one overdue and chased;
- owners' votes: the roof repair of SEEDS 003 on 兴庆小区 2号楼 (Civil Code art. 278 item 7, 3/4 majority: closed,
  passed, one owner against; the developer's two undelivered units count as one owner), and a vote open now on
  the whole compound about using the maintenance fund for the gate lock (item 5, ordinary majority) that the demo
  resident 林秀兰 (19900000008) has not voted in yet, so her phone shows the ballot.

Everything goes through linli.council.services as the demo staff member (19900000002), the grid chief and worker
(…03, …04) and residents with logins; afterwards the council's own timestamps are moved back (services stamp "now").
Votes take their `now` from the caller, so their opening, ballots and closing carry the real past times and the
frozen result and digest stay verifiable. Deterministic (seeded). Built once: a second run finds the series.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from linli.council import services
from linli.council.models import (
    AgendaItem,
    Attendance,
    BallotChannel,
    Choice,
    Evaluation,
    Matter,
    Meeting,
    MeetingSeries,
    OwnersVote,
    PartyKind,
    Resolution,
    ResolutionEntry,
    ResolutionStatus,
    RollEntry,
    SeriesKind,
)
from linli.orders.models import WorkOrder
from linli.org import demo
from linli.org import services as org_services
from linli.org.access import Actor, actor_for
from linli.org.models import (
    Building,
    Community,
    Compound,
    Household,
    HouseholdMember,
    PartnerUnit,
    Person,
    Role,
    RoleAssignment,
    User,
)

SEED = 2026
SERIES = "府西夜话"
SERIES_FIRST = 263
CONSULTATION = "议事协商会"
ROOF_COMPOUND = demo.DEMO_COMPOUND  # 兴庆小区: the demo resident lives in its 1号楼
ROOF_BUILDING = "2号楼"
LAW_FIRM = "莲湖明理律师事务所"
POWER = "红庙坡供电所"
PROPERTY = "兴业物业服务有限公司"  # 兴庆小区's property company (also the orders demo's partner unit)
# units of the roof building the developer still holds (sold, not yet delivered): one owner on the roll together
DEVELOPER_UNITS = 2


# --- what was talked about -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A resolution and how it went. `done` empty: still open at `progress` %."""

    text: str
    owner: str
    due_days: int  # days after the meeting
    steps: tuple[str, ...] = ()  # progress reports (public)
    done: str = ""
    reply: str = ""  # a public answer on the echo wall to what residents asked
    chase: str = ""  # the supervisor pressing (on the record, not public)
    progress: int = 0
    by_worker: bool = False  # the grid worker carries it out (named owner user)
    late_days: int = 0  # done this many days after the due date (negative: early)


@dataclass(frozen=True)
class Topic:
    title: str
    kind: str  # family | compound | external
    severity: str  # blue | yellow | red
    description: str
    measures: tuple[Measure, ...] = ()
    order_title: str = ""  # a demo work order of this title brought to the table, when there is one
    vote: str = ""  # "roof" | "gate": the owners' vote this item led to


@dataclass(frozen=True)
class Session:
    series: str
    days_ago: int  # negative: in the future
    title: str
    place: str
    host: str  # "staff" | "chief"
    fate: str  # closed | held | cancelled | planned
    topics: tuple[Topic, ...] = ()
    compound: str = ""
    guests: tuple[str, ...] = ()  # lawyer | property | power
    report: str = ""
    cancel_reason: str = ""


SESSIONS: tuple[Session, ...] = (
    Session(
        SERIES,
        84,
        "漏水和停车，邻里坐下来说",
        "兴庆小区议事亭",
        "chief",
        "closed",
        compound=ROOF_COMPOUND,
        guests=("lawyer", "property"),
        report="本期夜话议定 2 个问题：楼上漏水由物业查明原因、楼上住户承担维修；停车纠纷划线解决。"
        "两项决议均已落实，居民评议满意。",
        topics=(
            Topic(
                "楼上漏水泡了楼下天花板",
                "family",
                "yellow",
                "3单元402卫生间漏水，楼下302天花板发霉掉皮，两家多次沟通未果，302住户情绪激动。",
                measures=(
                    Measure(
                        "物业三日内上门查明漏点；402住户承担防水维修，302天花板由402出资修复",
                        "兴业物业维修班",
                        14,
                        steps=(
                            "物业已上门，查明是402卫生间地漏防水层老化。",
                            "402已找施工队做闭水试验，防水层重做完成。",
                        ),
                        reply="302的天花板要等干透后再刷，预计下周完成，请邻居们放心。",
                        done="防水重做并闭水试验48小时不漏，302天花板已修复粉刷，两家签了和解书。",
                        late_days=-2,
                    ),
                ),
            ),
            Topic(
                "邻居车停在车库门口",
                "family",
                "yellow",
                "邻居长期把车停在车库门口，沟通多次不听，差点动手。",
                order_title="邻里停车位纠纷",
                measures=(
                    Measure(
                        "网格员约双方当面协商，物业在车库门前画禁停线",
                        "第一网格网格员",
                        10,
                        by_worker=True,
                        steps=("双方已在社区调解室见面，同意按划线停车。",),
                        done="车库门前禁停标线已画好，双方握手言和，一个月回访未再发生。",
                        late_days=-3,
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        70,
        "老人赡养和楼道堆物",
        "大兴新苑院坝",
        "chief",
        "closed",
        compound="大兴新苑",
        guests=("lawyer",),
        report="赡养问题由社区律师释法，三个子女签订赡养协议；楼道杂物全部清运。楼道充电问题转入下一期继续议。",
        topics=(
            Topic(
                "八旬老人赡养费谁来出",
                "family",
                "red",
                "一位82岁的老人独居，三个子女为赡养费和轮流照顾互相推诿，老人生病无人陪护。",
                measures=(
                    Measure(
                        "社区律师为子女释法，社区组织签订赡养协议；网格员每周上门探望一次",
                        "社区居委会",
                        21,
                        steps=(
                            "律师已与三个子女逐一沟通，讲明《民法典》规定的赡养义务。",
                            "三个子女在社区签订了赡养协议。",
                        ),
                        reply="协议约定每人每月出赡养费并轮流陪护，网格员每周上门，有问题随时打社区电话。",
                        done="赡养协议履行两个月，老人按月收到赡养费，子女轮流陪护就医。",
                        late_days=4,
                    ),
                ),
            ),
            Topic(
                "楼道堆满纸箱旧家具",
                "compound",
                "red",
                "2单元楼道堆满纸箱和旧家具，还有人把电动车推进楼道充电，存在火灾隐患。",
                order_title="楼道堆放杂物堵塞通道",
                measures=(
                    Measure(
                        "楼长和网格员逐户劝导，限期清理；物业统一清运",
                        "第一网格网格员",
                        7,
                        by_worker=True,
                        steps=("已逐户发放告知书，大部分住户自行清理。",),
                        chase="还有两户没清，周五前必须清完，消防检查要来。",
                        done="楼道杂物全部清运，共清出旧家具11件、纸箱两车。",
                        late_days=1,
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        56,
        "充电桩和外墙瓷砖",
        "大兴东路社区活动室",
        "staff",
        "closed",
        guests=("property", "power"),
        report="充电桩选址经居民表态后确定，已建成投用；外墙瓷砖脱落部位已拉警戒线并完成修补。",
        topics=(
            Topic(
                "电动车没地方充电",
                "compound",
                "yellow",
                "小区没有集中充电桩，居民只能飞线充电或推进楼道，隐患大。",
                measures=(
                    Measure(
                        "物业在北门空地建集中充电棚（20个充电口），供电所配合接电",
                        "兴业物业服务有限公司",
                        30,
                        steps=("充电棚选址已公示七天，无异议。", "充电棚钢结构完工，等待供电所接电。"),
                        reply="充电每小时收费0.5元，刷卡或扫码均可，老人可找楼长代办充电卡。",
                        done="充电棚建成投用，20个充电口，飞线充电全部拆除。",
                        late_days=5,
                    ),
                ),
            ),
            Topic(
                "外墙瓷砖脱落砸坏车棚",
                "compound",
                "red",
                "红庙坡小区3号楼外墙瓷砖脱落，砸坏了自行车棚顶，幸好没伤到人。",
                measures=(
                    Measure(
                        "当天拉警戒线；物业请专业队伍排查并修补外墙空鼓瓷砖",
                        "莲湖安居物业",
                        14,
                        steps=("已拉警戒线，设置临时通道。", "高空作业队已排查出空鼓瓷砖37处。"),
                        done="37处空鼓瓷砖全部铲除修补，车棚顶已更换。",
                        late_days=-1,
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        42,
        "停水和道闸噪音",
        "星火路小区院坝",
        "chief",
        "closed",
        compound="星火路小区",
        guests=("lawyer", "property"),
        report="欠费停水一事：挨户抄表核清各户用水，欠费结清后恢复供水，推选楼长并聘请兼职收费员；"
        "道闸噪音已加装缓冲垫。",
        topics=(
            Topic(
                "欠费半年被停水",
                "external",
                "red",
                "一个没有物业的院落欠水费半年，自来水公司停水，住户之间互相指责谁没交钱。",
                measures=(
                    Measure(
                        "网格员带楼长挨户抄表核清用水，按表结清欠费；推选楼长，聘请兼职收费员",
                        "第一网格网格员",
                        10,
                        by_worker=True,
                        steps=("已挨户抄表，核清20户用水量和应缴金额。", "18户已结清，2户困难户由社区协调减免。"),
                        reply="供水已恢复。以后水费由收费员每月上门收取，收支在楼道公示。",
                        done="欠费全部结清，当天恢复供水；选出楼长，聘请了兼职收费员。",
                        late_days=-1,
                    ),
                ),
            ),
            Topic(
                "夜间道闸咣当响",
                "external",
                "yellow",
                "北门停车道闸夜里抬杆落杆声音很大，十一点后还在响，老人孩子睡不好。",
                order_title="夜间停车道闸噪音扰民",
                measures=(
                    Measure(
                        "物业在落杆处加装橡胶缓冲垫，夜间关闭提示音",
                        "兴业物业服务有限公司",
                        7,
                        done="缓冲垫已加装，夜间提示音关闭，回访居民说安静多了。",
                        late_days=-2,
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        28,
        "2号楼屋面漏雨怎么修",
        "兴庆小区议事亭",
        "chief",
        "closed",
        compound=ROOF_COMPOUND,
        guests=("lawyer", "property"),
        report="屋面维修需拆除全部太阳能热水器，属于改建建筑物及其附属设施，按《民法典》第二百七十八条交业主共同"
        "决定；表决已通过，对持反对意见的业主先行调解。垃圾清运问题已解决。",
        topics=(
            Topic(
                "2号楼屋面漏雨，修缮要拆太阳能",
                "compound",
                "yellow",
                "2号楼顶层多户漏雨，屋面防水整体维修需要临时拆除楼顶全部太阳能热水器，有业主不同意拆。",
                vote="roof",
                measures=(
                    Measure(
                        "按《民法典》第二百七十八条组织2号楼业主共同决定，社区律师现场解答",
                        "社区居委会",
                        20,
                        steps=("表决已发起，网格员挨户送达表决票。",),
                        reply="表决结果已在2号楼单元门口公示，可扫码核对每一票。",
                        done="表决通过：参与面积和人数均超过三分之二，同意面积和人数均超过参与的四分之三。",
                        late_days=-4,
                    ),
                    Measure(
                        "网格员和律师上门与不同意的业主沟通，协调太阳能拆装",
                        "第一网格网格员",
                        21,
                        by_worker=True,
                        steps=("已上门两次，业主担心热水器装不回去。",),
                        chase="施工队等着进场，本周内再上门一次。",
                        done="施工方书面承诺原样恢复并保修一年，业主同意配合拆除。",
                        late_days=2,
                    ),
                    Measure(
                        "物业组织施工，完工后原样恢复太阳能热水器",
                        "兴业物业服务有限公司",
                        45,
                        steps=("太阳能热水器已拆除编号存放。", "屋面旧防水层已铲除，开始铺设新卷材。"),
                        reply="施工期间请勿上楼顶，下雨天施工暂停，工期可能顺延几天。",
                        progress=60,
                    ),
                ),
            ),
            Topic(
                "垃圾清运不及时",
                "external",
                "blue",
                "夏天垃圾桶满了没人清，味道很大，清运公司一天只来一次。",
                measures=(
                    Measure(
                        "协调环卫清运公司改为早晚各清运一次",
                        "社区居委会",
                        7,
                        done="清运公司已改为每天早晚两次，垃圾桶增加4个。",
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        14,
        "院落绿化和晾晒",
        "丰禾家园院坝",
        "chief",
        "cancelled",
        compound="丰禾家园",
        guests=("property",),
        cancel_reason="暴雨橙色预警，本期夜话顺延，时间另行通知。",
    ),
    Session(
        SERIES,
        7,
        "门禁磁力锁和广场舞",
        "兴庆小区议事亭",
        "chief",
        "held",
        compound=ROOF_COMPOUND,
        guests=("property",),
        topics=(
            Topic(
                "小区大门磁力锁坏了还很吵",
                "compound",
                "yellow",
                "大门磁力锁经常吸不住，陌生人随意进出；关门时“砰”的一声，附近住户晚上被吵醒。",
                vote="gate",
                measures=(
                    Measure(
                        "物业报价更换静音磁力锁；动用维修资金交小区业主共同决定",
                        "兴业物业服务有限公司",
                        21,
                        steps=(
                            "物业已提交报价：更换静音磁力锁和闭门器共计8600元。",
                            "业主表决已发起，投票截止前请及时投票。",
                        ),
                        reply="表决期间大门暂由保安值守，晚上十点后关小门。",
                        progress=30,
                    ),
                ),
            ),
            Topic(
                "广场舞音响太大",
                "family",
                "blue",
                "晚上广场舞音响太响，附近住户有小孩要写作业、老人要休息。",
                measures=(
                    Measure(
                        "与舞蹈队约定音量和时间（晚九点前结束），楼长监督",
                        "第一网格网格员",
                        14,
                        by_worker=True,
                    ),
                ),
            ),
        ),
    ),
    Session(
        SERIES,
        -6,
        "路灯和楼顶种菜",
        "兴庆小区议事亭",
        "chief",
        "planned",
        compound=ROOF_COMPOUND,
        guests=("lawyer", "property"),
        topics=(
            Topic(
                "小区南侧路灯不亮",
                "external",
                "blue",
                "南侧道路两盏路灯不亮，老人晚上出门看不清路。",
                order_title="小区南侧路灯不亮",
            ),
            Topic("楼顶有人种菜", "compound", "blue", "有住户在楼顶堆土种菜，担心压坏防水层。"),
        ),
    ),
    Session(
        CONSULTATION,
        35,
        "物业服务质量协商",
        "大兴东路社区会议室",
        "staff",
        "closed",
        guests=("property", "lawyer"),
        report="物业承诺每季度公示收支、限时维修；业主代表每月参加一次物业服务评议。",
        topics=(
            Topic(
                "物业费收了服务跟不上",
                "external",
                "yellow",
                "居民反映物业维修慢、保洁不到位，部分业主以此拒交物业费，物业也有怨言。",
                measures=(
                    Measure(
                        "物业每季度公示收支，报修24小时内上门；业主代表每月评议一次",
                        "兴业物业服务有限公司",
                        30,
                        steps=("第一季度收支已在各单元公示。",),
                        reply="报修电话和维修时限已贴在每个单元门口。",
                        done="收支公示和限时维修已落实，上月报修24小时上门率98%。",
                        late_days=-5,
                    ),
                ),
            ),
        ),
    ),
    Session(
        CONSULTATION,
        21,
        "充电桩增容和停车收费",
        "大兴东路社区会议室",
        "staff",
        "closed",
        guests=("property", "power"),
        report="供电所承诺对北门充电棚增容改造；停车收费标准经协商后公示执行。",
        topics=(
            Topic(
                "充电棚电不够用",
                "external",
                "yellow",
                "晚上充电高峰时充电棚经常跳闸，变压器容量不够。",
                measures=(
                    Measure(
                        "供电所对北门充电棚线路增容改造",
                        "红庙坡供电所",
                        16,
                        steps=("供电所已现场勘察，增容方案已报批。", "新电缆已到货，等待停电施工窗口。"),
                        chase="已超期，请供电所给出确定的停电施工日期并提前张贴通知。",
                        progress=60,
                    ),
                ),
            ),
            Topic(
                "临时停车收费标准",
                "external",
                "blue",
                "外来车辆临时停车收费标准不清楚，保安和车主常起争执。",
                measures=(
                    Measure(
                        "物业公示临时停车收费标准，首小时免费",
                        "兴业物业服务有限公司",
                        7,
                        done="收费标准已在大门公示，首小时免费，争执明显减少。",
                    ),
                ),
            ),
        ),
    ),
)
COMMENTS: tuple[tuple[int, str], ...] = (
    (5, "说到做到，很满意。"),
    (5, "网格员跑了好几趟，辛苦了。"),
    (4, "解决了，就是慢了点。"),
    (5, "以前找谁都没用，这次真办成了。"),
    (4, "效果不错，希望保持。"),
    (3, "基本解决，还要再看看。"),
    (5, ""),
    (4, ""),
)


@dataclass
class CouncilDemo:
    created: bool
    meetings: int = 0
    resolutions: int = 0
    votes: int = 0
    seconds: float = 0.0


def _login(key: str) -> User | None:
    phone = next(x["phone"] for x in demo.DEMO_LOGINS if x["key"] == key)
    return User.objects.filter(phone=phone).first()


def build_council_demo(community: Community | None = None) -> CouncilDemo:
    """Build the council demo in `community` (default: the demo community) unless its evening talks exist."""
    started = time.monotonic()
    community = community or Community.objects.filter(code=demo.DAXING_CODE).first()
    staff = _login("community_staff")
    if community is None or staff is None:
        return CouncilDemo(created=False)
    if MeetingSeries.objects.filter(community=community, name=SERIES).exists():
        return CouncilDemo(created=False)
    with transaction.atomic():
        result = _Builder(community, staff).build()
    result.seconds = time.monotonic() - started
    return result


@dataclass
class _Resident:
    person: Person
    compound_id: int | None
    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        """Loaded when first needed: most stewards never act in the demo."""
        if self._actor is None:
            self._actor = actor_for(self.person.user)
        return self._actor


@dataclass
class _Held:
    """The meeting rows made for one session, for the votes and the back-dating."""

    meeting: Meeting
    items: dict[str, AgendaItem] = field(default_factory=dict)


class _Builder:
    def __init__(self, community: Community, staff: User) -> None:
        self.community = community
        self.rng = random.Random(f"{SEED}:council:{community.code}")  # noqa: S311 - repeatable demo data
        self.now = timezone.now()
        self.staff = actor_for(staff)
        chief, worker = _login("grid_chief"), _login("grid_worker")
        self.chief_user, self.worker_user = chief, worker
        self.chief = actor_for(chief) if chief else self.staff
        self.worker = actor_for(worker) if worker else self.staff
        self.names = {
            "staff": staff.name,
            "chief": chief.name if chief else staff.name,
        }
        self.compounds = {c.name: c for c in Compound.objects.filter(community=community)}
        self.lawyer_name = self._pool_name()
        self.manager_name = self._pool_name()
        self.partners = self._partners()
        self.residents = self._residents()
        self.me = self._demo_resident()
        self.resolutions = 0
        self.meetings = 0
        self.votes = 0

    # --- people and units -------------------------------------------------------------------------------------------
    def _pool_name(self) -> str:
        while True:
            gender = self.rng.choice(("M", "F"))
            name = self.rng.choice(demo.SURNAMES) + self.rng.choice(demo.GIVEN_NAMES[(gender, "mid")])
            if demo.is_pool_name(name):
                return name

    def _partners(self) -> dict[str, PartnerUnit]:
        units: dict[str, PartnerUnit] = {}
        for key, name, kind in (
            ("lawyer", LAW_FIRM, "律师事务所"),
            ("power", POWER, "供电所"),
            ("property", PROPERTY, "物业公司"),
        ):
            unit = PartnerUnit.objects.filter(community=self.community, name=name).first()
            contact = self.lawyer_name if key == "lawyer" else self.manager_name if key == "property" else ""
            units[key] = unit or org_services.partner_create(
                actor=self.staff,
                community=self.community,
                name=name,
                kind=kind,
                contact_name=contact or self._pool_name(),
            )
        return units

    def _residents(self) -> list[_Resident]:
        """Residents with a login (the building stewards): they scan the QR code, vote on the phone, rate."""
        # lists, not nested subqueries: on a freshly loaded PostgreSQL the planner's statistics are stale and the
        # nested form became a minutes-long nested loop over every household member
        users = list(
            RoleAssignment.objects.filter(role=Role.BUILDING_STEWARD, building__community=self.community).values_list(
                "user_id", flat=True
            )
        )
        people = list(
            Person.objects.filter(community=self.community, user_id__in=users, is_active=True)
            .select_related("user")
            .order_by("pk")
        )
        homes = dict(
            HouseholdMember.objects.filter(person_id__in=[p.pk for p in people]).values_list(
                "person_id", "household_id"
            )
        )
        compound_of = dict(
            Household.objects.filter(pk__in=set(homes.values())).values_list("pk", "building__compound_id")
        )
        return [_Resident(p, compound_of.get(homes.get(p.pk, 0))) for p in people if p.user is not None]

    def _demo_resident(self) -> _Resident | None:
        try:
            person = demo.demo_resident_person()
        except Person.DoesNotExist:
            return None
        if person.community_id != self.community.pk or person.user is None:
            return None
        compound = (
            HouseholdMember.objects.filter(person=person)
            .values_list("household__building__compound_id", flat=True)
            .first()
        )
        return _Resident(person, compound)

    def _guests_in(self, compound: Compound | None, n: int) -> list[Person]:
        """Residents of the compound without a login (many elders): staff sign them in by name."""
        qs = Person.objects.filter(community=self.community, user__isnull=True, is_active=True)
        if compound is not None:
            homes = list(Household.objects.filter(building__compound=compound).values_list("pk", flat=True))
            members = list(HouseholdMember.objects.filter(household_id__in=homes).values_list("person_id", flat=True))
            qs = qs.filter(pk__in=members)
        ids = list(qs.order_by("pk").values_list("pk", flat=True)[:200])
        picked = sorted(self.rng.sample(ids, min(n, len(ids))))
        return list(Person.objects.filter(pk__in=picked).order_by("pk"))

    # --- time ---------------------------------------------------------------------------------------------------------
    def _evening(self, days_ago: int) -> datetime:
        """19:30 local time that day (the talks are held after dinner)."""
        day = timezone.localtime(self.now - timedelta(days=days_ago))
        return day.replace(hour=19, minute=30, second=0, microsecond=0)

    def _past(self, at: datetime) -> datetime:
        return min(at, self.now - timedelta(hours=1))

    def _stamp(self, resolution: Resolution, at: datetime) -> None:
        """Move the resolution's newest timeline entry to `at`."""
        last = ResolutionEntry.objects.filter(resolution=resolution).order_by("-id").values_list("pk", flat=True)[:1]
        ResolutionEntry.objects.filter(pk__in=list(last)).update(at=self._past(at))

    # --- meetings -----------------------------------------------------------------------------------------------------
    def build(self) -> CouncilDemo:
        series = {
            SERIES: services.series_save(
                actor=self.staff,
                community=self.community,
                name=SERIES,
                kind=SeriesKind.EVENING_TALK,
                description="每周在院落开展：居民、网格员和红色议事团面对面摆问题、商对策、解难题。",
                numbered_from=SERIES_FIRST,
            ),
            CONSULTATION: services.series_save(
                actor=self.staff,
                community=self.community,
                name=CONSULTATION,
                kind=SeriesKind.CONSULTATION,
                description="社区与物业公司、共建单位就小区公共事务协商议事。",
            ),
        }
        # sessions are numbered in the order they were planned: plan them oldest first
        held: dict[str, _Held] = {}
        for session in sorted(SESSIONS, key=lambda s: -s.days_ago):
            held[session.title] = self._session(series[session.series], session)
        for session in SESSIONS:
            for topic in session.topics:
                if topic.vote == "roof":
                    self._roof_vote(held[session.title], topic)
                elif topic.vote == "gate":
                    self._gate_vote(held[session.title], topic)
        self._solved_dates()
        return CouncilDemo(created=True, meetings=self.meetings, resolutions=self.resolutions, votes=self.votes)

    def _session(self, series: MeetingSeries, session: Session) -> _Held:
        starts = self._evening(session.days_ago)
        compound = self.compounds.get(session.compound) if session.compound else None
        meeting = services.meeting_create(
            actor=self.staff,
            series=series,
            data=services.MeetingData(
                title=session.title,
                starts_at=starts,
                place=session.place,
                host=self.names[session.host],
                compound=compound,
            ),
            idempotency_key=f"demo:council:{series.pk}:{session.days_ago}",
        )
        self.meetings += 1
        out = _Held(meeting)
        self._invite(meeting, session, compound)
        if session.fate == "cancelled":
            services.meeting_cancel(actor=self.staff, meeting=meeting, reason=session.cancel_reason)
        elif session.fate != "planned":
            self._attend(meeting, session, compound, starts)
        for topic in session.topics:
            out.items[topic.title] = self._item(meeting, topic, starts)
        if session.fate in ("held", "closed"):
            services.meeting_hold(actor=self.staff, meeting=meeting)
            for topic in session.topics:
                for measure in topic.measures:
                    self._resolution(out.items[topic.title], measure, starts)
            services.meeting_minutes(actor=self.staff, meeting=meeting, minutes=self._minutes(session))
            if session.fate == "closed":
                services.meeting_close(actor=self.staff, meeting=meeting, report=session.report)
        Meeting.objects.filter(pk=meeting.pk).update(
            created_at=starts - timedelta(days=7) if session.days_ago > 0 else self.now - timedelta(days=1),
            held_at=starts + timedelta(hours=2) if session.fate in ("held", "closed") else None,
            closed_at=self._past(starts + timedelta(days=3)) if session.fate == "closed" else None,
        )
        return out

    def _invite(self, meeting: Meeting, session: Session, compound: Compound | None) -> None:
        for guest in session.guests:
            if guest == "lawyer":
                services.meeting_invite(
                    actor=self.staff, meeting=meeting, kind=PartyKind.LAWYER, name=self.lawyer_name,
                    note=f"{LAW_FIRM}，社区法律顾问",
                )  # fmt: skip
            elif guest == "property":
                services.meeting_invite(
                    actor=self.staff, meeting=meeting, kind=PartyKind.PROPERTY, name=self.manager_name,
                    note=f"{PROPERTY}项目经理",
                )  # fmt: skip
            else:
                services.meeting_invite(actor=self.staff, meeting=meeting, kind=PartyKind.PARTNER,
                                        partner=self.partners[guest], note="共建单位")  # fmt: skip
        # the compound's building stewards, and the demo resident when it is her compound
        near = [r for r in self.residents if compound is not None and r.compound_id == compound.pk][:3]
        if self.me is not None and compound is not None and self.me.compound_id == compound.pk:
            near.append(self.me)
        for resident in near:
            services.meeting_invite(actor=self.staff, meeting=meeting, kind=PartyKind.RESIDENT, person=resident.person)

    def _attend(self, meeting: Meeting, session: Session, compound: Compound | None, starts: datetime) -> None:
        # most sign in by scanning the QR code on the wall of the pavilion
        nearby = [r for r in self.residents if compound is None or r.compound_id == compound.pk]
        others = [r for r in self.residents if r not in nearby]
        scanners = nearby[:8] + self.rng.sample(others, min(len(others), 4 if nearby else 8))
        if self.me is not None and compound is not None and self.me.compound_id == compound.pk:
            scanners.append(self.me)
        for resident in scanners:
            services.meeting_checkin(
                actor=resident.actor, meeting=meeting, code=meeting.checkin_code, now=starts - timedelta(minutes=10)
            )
        # elders without a phone, and the guests, signed in by staff
        for person in self._guests_in(compound, 3):
            services.attendance_record(actor=self.staff, meeting=meeting, person=person)
        for guest in session.guests:
            if guest == "lawyer":
                services.attendance_record(
                    actor=self.staff, meeting=meeting, name=self.lawyer_name, kind=PartyKind.LAWYER
                )
            elif guest == "property":
                services.attendance_record(
                    actor=self.staff, meeting=meeting, name=self.manager_name, kind=PartyKind.PROPERTY
                )
            else:
                contact = self.partners[guest].contact_name
                services.attendance_record(actor=self.staff, meeting=meeting, name=contact, kind=PartyKind.PARTNER)
        for i, pk in enumerate(Attendance.objects.filter(meeting=meeting).order_by("pk").values_list("pk", flat=True)):
            at = starts - timedelta(minutes=15) + timedelta(minutes=(i * 7) % 25)
            Attendance.objects.filter(pk=pk).update(at=at)

    def _item(self, meeting: Meeting, topic: Topic, starts: datetime) -> AgendaItem:
        order = None
        if topic.order_title:
            order = (
                WorkOrder.objects.filter(community=self.community, title=topic.order_title, received_at__lt=starts)
                .order_by("received_at", "pk")
                .first()
            )
        item = services.agenda_add(
            actor=self.staff,
            meeting=meeting,
            data=services.ItemData(
                title=topic.title,
                kind=topic.kind,
                severity=topic.severity,
                description=topic.description,
                work_order=order,
            ),
        )
        AgendaItem.objects.filter(pk=item.pk).update(created_at=min(starts - timedelta(days=3), self.now))
        return item

    def _minutes(self, session: Session) -> str:
        lines = [f"{session.title}（{session.place}）。主持：{self.names[session.host]}。"]
        for n, topic in enumerate(session.topics, start=1):
            lines.append(f"{n}. {topic.title}：{topic.description}")
            for measure in topic.measures:
                lines.append(f"   议定：{measure.text}（{measure.owner}，{measure.due_days}天内）")
        return "\n".join(lines)

    # --- resolutions --------------------------------------------------------------------------------------------------
    def _resolution(self, item: AgendaItem, m: Measure, starts: datetime) -> Resolution:
        due = timezone.localdate(starts) + timedelta(days=m.due_days)
        resolution = services.resolution_create(
            actor=self.staff,
            item=item,
            text=m.text,
            owner=m.owner,
            due_on=due,
            owner_user=self.worker_user if m.by_worker else None,
            supervisor=self.chief_user,
        )
        self.resolutions += 1
        created = starts + timedelta(hours=2)
        Resolution.objects.filter(pk=resolution.pk).update(created_at=created)
        self._stamp(resolution, created)
        reporter = self.worker if m.by_worker else self.staff
        end = starts + timedelta(days=m.due_days + m.late_days) if m.done else self.now - timedelta(hours=3)
        span = max((end - created).total_seconds(), 3600.0)
        moments = [created + timedelta(seconds=span * (i + 1) / (len(m.steps) + 2)) for i in range(len(m.steps) + 1)]
        top = m.progress if not m.done else 80  # the last report before "done" says 80 %
        for i, text in enumerate(m.steps):
            progress = max(10, top * (i + 1) // len(m.steps))
            services.resolution_progress(actor=reporter, resolution=resolution, progress=progress, text=text)
            self._stamp(resolution, moments[i])
        if m.chase:
            services.resolution_chase(actor=self.chief, resolution=resolution, text=m.chase)
            at = self._past(moments[-1] if m.done else self.now - timedelta(days=2))
            self._stamp(resolution, at)
            Resolution.objects.filter(pk=resolution.pk).update(last_chased_at=at)
        if m.reply:
            services.resolution_reply(actor=self.staff, resolution=resolution, text=m.reply)
            self._stamp(resolution, moments[-1] - timedelta(hours=5))
        if m.done:
            done_at = self._past(end)
            services.resolution_done(actor=reporter, resolution=resolution, text=m.done)
            self._stamp(resolution, done_at)
            Resolution.objects.filter(pk=resolution.pk).update(done_at=done_at, updated_at=done_at)
            self._evaluate(resolution, done_at)
        return resolution

    def _evaluate(self, resolution: Resolution, done_at: datetime) -> None:
        """Three to five residents rate it on the evaluation desk (评议台) in the days after."""
        raters = self.rng.sample(self.residents, min(len(self.residents), self.rng.randint(3, 5)))
        for i, resident in enumerate(raters):
            rating, comment = self.rng.choice(COMMENTS)
            evaluation = services.evaluation_give(
                actor=resident.actor, resolution=resolution, rating=rating, comment=comment
            )
            Evaluation.objects.filter(pk=evaluation.pk).update(at=self._past(done_at + timedelta(days=1 + i)))

    def _solved_dates(self) -> None:
        """A solved problem's date is its last resolution's (back-dated) completion."""
        for item in AgendaItem.objects.filter(community=self.community, solved_at__isnull=False):
            last = Resolution.objects.filter(item=item, status=ResolutionStatus.DONE).aggregate(at=Max("done_at"))
            AgendaItem.objects.filter(pk=item.pk).update(solved_at=last["at"])

    # --- owners' votes ------------------------------------------------------------------------------------------------
    def _ready(self, households: Any) -> None:
        """The register must give every unit an area and an owner before a vote opens (vote_open refuses otherwise):
        fix the few that lack one, as staff would."""
        owned = HouseholdMember.objects.filter(is_owner=True, person__is_active=True).values("household_id")
        lacking = households.filter(Q(floor_area__isnull=True) | Q(developer_held=False) & ~Q(pk__in=owned))
        for h in lacking.select_related("building"):
            head = HouseholdMember.objects.filter(household=h, person__is_active=True).order_by("pk").first()
            if head is not None and not h.developer_held:
                org_services.member_update(actor=self.staff, member=head, relation=head.relation, is_owner=True)
            org_services.household_update(
                actor=self.staff, household=h, building=h.building, room=h.room, unit=h.unit, address=h.address,
                floor_area=h.floor_area or Decimal(self.rng.randint(6000, 12000)) / 100,
                developer_held=h.developer_held or head is None, note=h.note,
            )  # fmt: skip

    def _roof_vote(self, held: _Held, topic: Topic) -> None:
        """SEEDS 003: item 7 (rebuild), three quarters needed; one owner refuses, the rest mostly agree: passed."""
        building = Building.objects.filter(
            community=self.community, compound__name=ROOF_COMPOUND, name=ROOF_BUILDING
        ).first()
        if building is None:
            return
        # two units the developer sold but has not delivered yet: the roll counts them with the
        # developer (SPC interpretation art. 9), one owner however many units. Marked on the register, as staff do;
        # the demo's households keep their people (org's demo test wants every household with a head and an owner).
        top = Household.objects.filter(building=building).order_by("-room", "-unit", "-pk")[:DEVELOPER_UNITS]
        for h in top:
            if not h.developer_held:
                org_services.household_update(
                    actor=self.staff, household=h, building=building, room=h.room, unit=h.unit, address=h.address,
                    floor_area=h.floor_area, developer_held=True, note="已售未交付，仍计入开发商",
                )  # fmt: skip
        self._ready(Household.objects.filter(building=building))
        starts = held.meeting.starts_at
        opened, closes = starts + timedelta(days=2), starts + timedelta(days=16)
        vote = services.vote_create(
            actor=self.staff,
            community=self.community,
            data=services.VoteData(
                title=f"{ROOF_BUILDING}屋面防水维修（需临时拆除太阳能热水器）",
                proposal="2号楼屋面整体防水维修：铲除旧防水层，铺设新防水卷材；施工期间楼顶全部太阳能热水器临时拆除、"
                "编号存放，完工后由施工方原样恢复并保修一年。费用由物业按维修方案另行公示。",
                matter=Matter.REBUILD,
                closes_at=closes,
                building=building,
                item=held.items[topic.title],
            ),
        )
        services.vote_open(actor=self.staff, vote=vote, now=opened)
        entries = list(RollEntry.objects.filter(vote=vote).prefetch_related("owners").order_by("position"))
        people = [e for e in entries if not e.is_developer]
        holdout = min(people, key=lambda e: (e.area, e.position)) if people else None
        away = {e.pk for e in self.rng.sample(people, len(people) // 10) if e is not holdout}
        abstain = {e.pk for e in self.rng.sample(people, len(people) // 25) if e is not holdout and e.pk not in away}
        for i, entry in enumerate(entries):
            if entry.pk in away:
                continue
            choice = Choice.DISAGREE if entry is holdout else Choice.ABSTAIN if entry.pk in abstain else Choice.AGREE
            at = opened + (closes - opened) * (i + 1) / (len(entries) + 2)
            self._ballot(vote, entry, choice, at)
        vote = services.vote_close(actor=self.staff, vote=vote, now=closes)
        OwnersVote.objects.filter(pk=vote.pk).update(created_at=starts + timedelta(days=1), updated_at=closes)
        self.votes += 1

    def _gate_vote(self, held: _Held, topic: Topic) -> None:
        """Item 5 (use of the maintenance fund), more than half needed; open for nine more days, three in ten owners
        have voted so far, the demo resident not yet."""
        compound = self.compounds.get(ROOF_COMPOUND)
        if compound is None:
            return
        self._ready(Household.objects.filter(building__compound=compound))
        starts = held.meeting.starts_at
        opened = starts + timedelta(days=2)
        vote = services.vote_create(
            actor=self.staff,
            community=self.community,
            data=services.VoteData(
                title="动用专项维修资金更换小区大门静音磁力锁",
                proposal="小区大门磁力锁和闭门器老化，经常吸不住且噪音大。拟动用本小区专项维修资金8600元，更换静音"
                "磁力锁和闭门器（报价单在物业服务中心公示）。",
                matter=Matter.FUND_USE,
                closes_at=self._evening(-9).replace(hour=18, minute=0),
                compound=compound,
                item=held.items[topic.title],
            ),
        )
        services.vote_open(actor=self.staff, vote=vote, now=opened)
        mine = self.me.person.pk if self.me is not None else None
        entries = [
            e
            for e in RollEntry.objects.filter(vote=vote).prefetch_related("owners").order_by("position")
            if mine not in {o.person_id for o in e.owners.all()}
        ]
        voted = sorted(self.rng.sample(entries, len(entries) * 3 // 10), key=lambda e: e.position)
        span = self.now - timedelta(hours=2) - opened
        for i, entry in enumerate(voted):
            roll = self.rng.random()
            choice = Choice.AGREE if roll < 0.8 else Choice.DISAGREE if roll < 0.92 else Choice.ABSTAIN
            self._ballot(vote, entry, choice, opened + span * (i + 1) / (len(voted) + 1))
        OwnersVote.objects.filter(pk=vote.pk).update(created_at=starts + timedelta(days=1))
        self.votes += 1

    def _ballot(self, vote: OwnersVote, entry: RollEntry, choice: str, at: datetime) -> None:
        """Owners with a login vote on the phone; the rest are paper ballots the grid worker collected door to door,
        and a few were counted by show of hands at the talk (recorded by staff)."""
        owners = {o.person_id for o in entry.owners.all()}
        phone = next((r for r in self.residents if r.person.pk in owners), None)
        if phone is not None:
            services.ballot_cast(actor=phone.actor, vote=vote, choice=choice, now=at)
        elif entry.position % 7 == 3:
            services.ballot_record(
                actor=self.staff, vote=vote, entry=entry, choice=choice, channel=BallotChannel.MEETING, now=at
            )
        else:
            services.ballot_record(actor=self.worker, vote=vote, entry=entry, choice=choice, now=at)


def demo_figures(community: Community) -> dict[str, Any]:
    """What the demo shows, straight from the rows (for the demo test and a quick look)."""
    return {
        "meetings": Meeting.objects.filter(community=community).count(),
        "resolutions": {
            s: Resolution.objects.filter(community=community, status=s).count() for s in ResolutionStatus.values
        },
        "votes": {v.title: (v.status, v.passed) for v in OwnersVote.objects.filter(community=community)},
    }
