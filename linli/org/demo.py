"""Realistic demo data: one street (红庙坡街道) with three communities modelled on SEEDS.md.

    红庙坡街道 (莲湖区, 西安市)
    ├ 大兴东路社区  SEEDS 004: 3 grids, 14 compounds, 34 buildings, ~3,000 households (`households`),
    │              a building steward (楼栋"兴管家") per building, 86 in all; 红领之家 with 107 members
    ├ 府西社区      SEEDS 002/003: 府西夜话 deliberation group, 帮帮团, 30 caring merchants, 8 partner units
    └ 巴县衙门社区  SEEDS 001: micro-grids (微网格) inside grids, 45 五员 volunteers, the "1+3+n" grid force

Places and shop types are borrowed from the reports; every person's name is invented from the pools below
with a fixed seed, so two builds of the same size are identical. Names of real people mentioned in the reports
are excluded explicitly (`REAL_NAMES_IN_SEEDS`). Phone numbers are invented 199 numbers.

Seeding is the one place that writes the organisation straight through the ORM (bulk_create) instead of
`linli.org.services`: thousands of rows one service call at a time would take minutes and audit nothing
useful. The build is one transaction and leaves a single audit event. The demo logins, on the other hand, are
made with `services.staff_user_create` / `services.role_grant` / `User.objects.create_user` like any login.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from linli.common.models import audit
from linli.org import services
from linli.org.models import (
    ROLE_SCOPE,
    Building,
    Community,
    Compound,
    DutyRole,
    Gender,
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
    Tag,
    Team,
    TeamMember,
    User,
    encode_tags,
)

SEED = 2026
REFERENCE_YEAR = 2026  # ages are reckoned against a fixed year so the data does not change with the calendar
DEFAULT_HOUSEHOLDS = 3000
MIN_HOUSEHOLDS = 100  # below this 大兴东路社区 has too few adults for its 107-member 红领之家 and 86 stewards

STREET_CODE = "hongmiaopo"
DAXING_CODE = "daxingdonglu"
FUXI_CODE = "fuxishequ"
BAXIAN_CODE = "baxianyamen"

DEMO_PASSWORD = "linli2026"
DEMO_GRID = "第一网格"
DEMO_COMPOUND = "兴庆小区"
DEMO_BUILDING = "1号楼"
DEMO_MERCHANT = "府西红星理发店"
STREET_NAME = "红庙坡街道"

# --- invented names -------------------------------------------------------------------------------
SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
    "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万严武戴孔常温康"
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# given names by gender and generation: "old" born before 1965, "mid" 1965-1994, "new" from 1995
GIVEN_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("M", "old"): _words(
        "建国 建华 德明 国强 振华 志刚 保国 文彬 庆丰 长林 树森 永福 "
        "玉山 福生 广才 金海 春生 宝成 守义 立新 卫东 学文 满仓 德胜"
    ),
    ("F", "old"): _words(
        "秀英 桂兰 玉兰 淑珍 秀兰 凤英 桂芳 素芬 翠华 玉梅 淑华 巧云 "
        "月娥 金凤 兰芝 素琴 彩霞 丽华 美华 春梅 冬梅 秀珍 桂香 慧琴"
    ),
    ("M", "mid"): _words(
        "伟 磊 军 勇 涛 斌 鹏 峰 海波 建军 晓东 志强 "
        "宏伟 俊杰 文博 立伟 国栋 海龙 振宇 晓峰 永刚 建平 大鹏 新民"
    ),
    ("F", "mid"): _words(
        "芳 静 敏 燕 艳 娟 霞 丽娜 晓燕 海燕 红梅 雪梅 "
        "丽萍 文静 小红 春燕 晓琳 慧敏 亚楠 淑敏 玉洁 晓岚 秋菊 雅琴"
    ),
    ("M", "new"): _words(
        "浩然 子轩 宇航 俊熙 皓轩 梓豪 一鸣 思远 博文 天佑 嘉乐 铭泽 "
        "睿 航 昊天 子墨 晨阳 奕辰 泽宇 明哲 景行 家豪 煜城 承志"
    ),
    ("F", "new"): _words(
        "子涵 梓萱 欣怡 诗涵 一诺 雨桐 可馨 佳怡 思彤 语嫣 若曦 梦瑶 "
        "悦 琪 雨萱 欣然 紫琪 安琪 书瑶 沐晴 心怡 嘉怡 静姝 晓雯"
    ),
}
GIVEN_ALL: frozenset[str] = frozenset(g for pool in GIVEN_NAMES.values() for g in pool)

# People named in the newspaper reports behind SEEDS.md (residents, staff, reporters): never demo names.
REAL_NAMES_IN_SEEDS: frozenset[str] = frozenset(
    _words(
        "刘昊 薛亚云 王帅 吴富荣 齐配强 姚薪 焦民生 丁美英 丁建玺 闫军勇 张晓京 卢小平 李福林 徐超 "
        "郝志红 李婷 薛志安 杨效文 黄学芬 刘莉 任强 张忠娟 原冬梅 贾武刚 李涛 郭晓华 韩睿 张真瑜"
    )
)


def is_pool_name(name: str) -> bool:
    """True for a name this module can invent: one pool surname and one pool given name, not a real one."""
    invented = len(name) >= 2 and name[0] in SURNAMES and name[1:] in GIVEN_ALL
    return invented and name not in REAL_NAMES_IN_SEEDS


def _login(key: str, role: str, name: str, number: int, where: str) -> dict[str, str]:
    return {
        "key": key,
        "role": role,
        "name": name,
        "phone": f"199{number:08d}",
        "password": DEMO_PASSWORD,
        "where": where,
    }


# --- the demo logins: one per role, easy-to-type numbers; every name is invented from the pools ---
DEMO_LOGINS: list[dict[str, str]] = [
    _login("admin", "superuser", "邵文博", 0, "/admin/"),
    _login("street_admin", Role.STREET_ADMIN.value, "郑晓岚", 1, STREET_NAME),
    _login("community_staff", Role.COMMUNITY_STAFF.value, "贺文静", 2, "大兴东路社区"),
    _login("grid_chief", Role.GRID_CHIEF.value, "程志强", 3, f"大兴东路社区 {DEMO_GRID}"),
    _login("grid_worker", Role.GRID_WORKER.value, "孟雪梅", 4, f"大兴东路社区 {DEMO_GRID}"),
    _login(
        "building_steward",
        Role.BUILDING_STEWARD.value,
        "万建军",
        5,
        f"大兴东路社区 {DEMO_COMPOUND}{DEMO_BUILDING}",
    ),
    _login("auditor", Role.AUDITOR.value, "戴慧敏", 6, "大兴东路社区"),
    _login("merchant_operator", Role.MERCHANT_OPERATOR.value, "龚海波", 7, f"府西社区 {DEMO_MERCHANT}"),
    _login("resident", Role.RESIDENT.value, "林秀兰", 8, f"大兴东路社区 {DEMO_COMPOUND}{DEMO_BUILDING}"),
]
DEMO_PHONES = frozenset(login["phone"] for login in DEMO_LOGINS)

# --- the places (borrowed from SEEDS.md or invented) ----------------------------------------------
# (name, grid number, buildings, property company)
# 大兴东路社区: 14 compounds, 34 buildings, 3 grids (SEEDS 004)
DAXING_COMPOUNDS: list[tuple[str, int, int, str]] = [
    (DEMO_COMPOUND, 1, 4, "兴业物业服务有限公司"),
    ("大兴新苑", 1, 3, "兴业物业服务有限公司"),
    ("红庙坡小区", 1, 3, "莲湖安居物业"),
    ("丰禾家园", 1, 2, "丰禾物业"),
    ("星火路小区", 1, 2, ""),
    ("电力家属院", 2, 3, "电力后勤物业"),
    ("桃园新村", 2, 2, "莲湖安居物业"),
    ("劳动路小区", 2, 2, ""),
    ("大兴东路三号院", 2, 3, "兴业物业服务有限公司"),
    ("莲湖花园", 2, 2, "莲湖安居物业"),
    ("丰庆苑", 3, 2, "丰禾物业"),
    ("西荷家园", 3, 2, "西荷物业"),
    ("汉城佳苑", 3, 2, "莲湖安居物业"),
    ("龙首雅居", 3, 2, "西荷物业"),
]
FUXI_COMPOUNDS: list[tuple[str, int, int, str]] = [
    ("府西小区", 1, 4, "府西物业服务有限公司"),
    ("鼓楼巷院落", 1, 2, ""),
    ("供销社家属院", 2, 1, ""),  # SEEDS 002: a small compound with no property manager
    ("府西新苑", 2, 3, "府西物业服务有限公司"),
    ("水务局家属院", 3, 2, ""),
]
BAXIAN_COMPOUNDS: list[tuple[str, int, int, str]] = [
    ("巴县衙门老院子", 1, 3, ""),
    ("白象街院落", 1, 3, ""),
    ("望龙门小区", 2, 3, "望龙物业"),
    ("解放东路院落", 2, 3, ""),
    ("凯旋路小区", 3, 3, "凯旋物业"),
    ("道门口小区", 3, 3, "望龙物业"),
]

# SEEDS 002: the caring-merchant alliance of 30 shops; offers shaped by needs heard at the evening talks
FUXI_MERCHANTS: list[tuple[str, str]] = [
    (DEMO_MERCHANT, "每月第一个周一为老人免费理发；10 积分换一次理发"),
    ("好邻居便利店", "积分兑换纸巾、洗衣粉；满 50 元减 5 元"),
    ("鑫达五金店", "积分兑换灯泡、水龙头；五金配件九折"),
    ("巧手家政服务部", "30 积分兑换 2 小时家庭保洁"),
    ("府西粮油店", "15 积分换一袋大米，40 积分换一桶菜籽油"),
    ("康宁大药房", "老人量血压测血糖免费；积分兑换口罩、创可贴"),
    ("惠民水电维修部", "为老人和困难家庭上门维修水电，只收材料费"),
    ("晨光文具店", "积分兑换作业本、铅笔，助学"),
    ("老街裁缝铺", "缝补衣物、改裤脚，积分抵扣"),
    ("益民早餐店", "5 积分换一份早餐；环卫工人免费热水"),
    ("阳光洗衣店", "积分兑换衣物清洗九折券"),
    ("福满堂超市", "积分兑换酱油、醋等日用品"),
    ("邻里修车铺", "电动车、自行车补胎打气，积分抵扣"),
    ("爱心眼镜店", "老人免费验光，积分换眼镜布"),
    ("春晖照相馆", "为 70 岁以上老人免费拍证件照"),
    ("府西果蔬店", "积分兑换时令农产品"),
    ("同心开锁换锁部", "独居老人换锁免上门费"),
    ("安心家电维修", "修理收音机、电视等家电，积分抵扣工时"),
    ("平安家政服务中心", "积分兑换上门助浴、陪护一次"),
    ("书香小书屋", "旧书捐赠换积分；积分借阅"),
    ("鲜丰肉铺", "积分兑换鸡蛋、肉类九折"),
    ("府西面馆", "10 积分换一碗面；孤寡老人每周一碗免费"),
    ("和顺茶叶店", "积分兑换茶叶小包装"),
    ("快捷打印店", "免费为居民打印政策材料；积分兑换复印"),
    ("童心玩具店", "旧玩具捐赠换积分，积分兑换玩具"),
    ("健步鞋店", "免费修鞋，积分兑换鞋垫"),
    ("宜家窗帘布艺", "为困难家庭免费安装窗帘"),
    ("绿源花卉店", "积分兑换绿植，助力院落绿化"),
    ("明亮灯具店", "楼道照明灯具成本价供应"),
    ("悦享甜品屋", "积分兑换点心，助老送餐"),
]
# SEEDS 002: "governance partners", agreements with 8 units
FUXI_PARTNERS: list[tuple[str, str]] = [
    ("红庙坡供电所", "供电所"),
    ("红庙坡卫生院", "卫生院"),
    ("府西物业服务有限公司", "物业公司"),
    ("明理律师事务所", "律师事务所"),
    ("府西小学", "学校"),
    ("府西警务室", "派出所"),
    ("城区燃气营业所", "燃气公司"),
    ("城区通信营业厅", "通信公司"),
]


# --- the builder ----------------------------------------------------------------------------------
@dataclass
class _PersonSpec:
    person: Person
    relation: str
    is_owner: bool


@dataclass
class _HouseholdSpec:
    household: Household
    members: list[_PersonSpec] = field(default_factory=list)


@dataclass
class _Place:
    community: Community
    grids: dict[int, Grid]
    buildings: list[Building]
    households: dict[int, list[_HouseholdSpec]] = field(default_factory=dict)  # building id -> households


@dataclass
class BuildResult:
    created: bool
    seconds: float
    households_requested: int
    logins: list[dict[str, str]] = field(default_factory=list)


def _age(person: Person) -> int:
    return REFERENCE_YEAR - (person.birth_year or REFERENCE_YEAR)


class _Builder:
    def __init__(self, households: int, seed: int = SEED) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not secrets
        self.n_daxing = households
        self.n_fuxi = max(60, round(households * 0.27))
        self.n_baxian = max(60, round(households * 0.22))
        self._phones: set[str] = set()
        # (user, role, scope) of the seeded role holders, saved together at the end
        self._users: list[tuple[User, str, Any]] = []
        self._steward_people: list[Person] = []

    # -- small generators --
    def phone(self) -> str:
        while True:  # 199 + 8 digits from 10000000: never one of the 1990000000x demo logins
            number = f"199{self.rng.randrange(10_000_000, 100_000_000):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def name(self, gender: str, birth_year: int, surname: str | None = None) -> str:
        generation = "old" if birth_year < 1965 else "mid" if birth_year < 1995 else "new"
        pool = GIVEN_NAMES[(gender or "F", generation)]
        while True:
            name = (surname or self.rng.choice(SURNAMES)) + self.rng.choice(pool)
            if name not in REAL_NAMES_IN_SEEDS:
                return name
            surname = None

    def _new_person(
        self,
        community: Community,
        gender: str,
        birth_year: int,
        surname: str | None = None,
        tags: set[str] | None = None,
    ) -> Person:
        rng = self.rng
        birth_year = max(1935, min(2020, birth_year))
        age = REFERENCE_YEAR - birth_year
        tags = set(tags or ())
        if age >= 18 and rng.random() < 0.115:
            tags.add(Tag.PARTY_MEMBER)
        if age >= 25 and gender == Gender.MALE and rng.random() < 0.075:
            tags.add(Tag.VETERAN)
        if rng.random() < 0.02:
            tags.add(Tag.DISABLED)
        if age >= 18 and rng.random() < 0.035:
            tags.add(Tag.LOW_INCOME)
        if 20 <= age <= 45 and rng.random() < 0.03:
            tags.add(Tag.NEW_ECONOMY)
        # children, many elders, and a few others have no mobile of their own
        no_phone = age < 14 or (age >= 75 and rng.random() < 0.5) or rng.random() < 0.04
        phone = "" if no_phone else self.phone()
        return Person(
            community=community,
            name=self.name(gender, birth_year, surname),
            phone=phone,
            gender=gender,
            birth_year=birth_year,
            tags=encode_tags(tags),
        )

    def _household_people(self, community: Community) -> list[_PersonSpec]:
        """1-4 people: the first is the head and an owner; ages span birth years 1935-2020."""
        rng = self.rng
        kind = rng.random()
        head_gender = Gender.MALE if rng.random() < 0.55 else Gender.FEMALE
        other = Gender.FEMALE if head_gender == Gender.MALE else Gender.MALE
        if kind < 0.012:  # an elder living alone (about 4% of the over-70s)
            head = self._new_person(community, head_gender, rng.randint(1935, 1955), tags={Tag.ELDER_ALONE})
            return [_PersonSpec(head, Relation.HEAD, True)]
        if kind < 0.21:  # single
            head = self._new_person(community, head_gender, rng.randint(1950, 2001))
            return [_PersonSpec(head, Relation.HEAD, True)]
        head_year = (
            rng.randint(1938, 1996)
            if kind < 0.52
            else rng.randint(1962, 1993)
            if kind < 0.84
            else rng.randint(1958, 1990)
        )
        head = self._new_person(community, head_gender, head_year)
        spouse = self._new_person(community, other, head_year + rng.randint(-4, 4))
        people = [
            _PersonSpec(head, Relation.HEAD, True),
            _PersonSpec(spouse, Relation.SPOUSE, rng.random() < 0.6),
        ]
        if kind < 0.52:  # couple
            return people
        family_name = head.name[0] if head_gender == Gender.MALE else spouse.name[0]
        child_year = head_year + rng.randint(23, 34)
        child_gender = rng.choice((Gender.MALE, Gender.FEMALE))
        people.append(
            _PersonSpec(
                self._new_person(community, child_gender, child_year, family_name), Relation.CHILD, False
            )
        )
        if kind < 0.84:  # three generations or two children
            return people
        if rng.random() < 0.5:
            parent_year = head_year - rng.randint(24, 30)
            parent = self._new_person(community, rng.choice((Gender.MALE, Gender.FEMALE)), parent_year)
            people.append(_PersonSpec(parent, Relation.PARENT, False))
        else:
            second = self._new_person(
                community,
                rng.choice((Gender.MALE, Gender.FEMALE)),
                child_year + rng.randint(2, 8),
                family_name,
            )
            people.append(_PersonSpec(second, Relation.CHILD, False))
        return people

    def _quotas(self, total: int, parts: int) -> list[int]:
        weights = [self.rng.uniform(0.6, 1.4) for _ in range(parts)]
        quotas = [max(1, int(total * w / sum(weights))) for w in weights]
        i = 0
        while sum(quotas) < total:
            quotas[i % parts] += 1
            i += 1
        return quotas

    # -- places --
    def _place(
        self,
        community: Community,
        grid_names: list[str],
        compounds: list[tuple[str, int, int, str]],
        households: int,
        floors: tuple[int, ...],
        micro_grids: int = 0,
    ) -> _Place:
        grids = {
            i: Grid.objects.create(community=community, name=name, number=i)
            for i, name in enumerate(grid_names, start=1)
        }
        # micro-grids (微网格) under each grid: buildings then sit in a micro-grid, compounds in the grid
        micro: dict[int, list[Grid]] = {
            i: [
                Grid.objects.create(
                    community=community, parent=grid, name=f"{grid.name}第{j}微网格", number=j
                )
                for j in range(1, micro_grids + 1)
            ]
            for i, grid in grids.items()
        }
        place = _Place(community=community, grids=grids, buildings=[])
        for name, grid_no, n_buildings, company in compounds:
            compound = Compound.objects.create(
                community=community,
                grid=grids[grid_no],
                name=name,
                property_company=company,
                address=f"{community.address}{name}",
            )
            for b in range(1, n_buildings + 1):
                grid = micro[grid_no][(b - 1) % micro_grids] if micro_grids else grids[grid_no]
                place.buildings.append(
                    Building(
                        community=community,
                        grid=grid,
                        compound=compound,
                        name=f"{b}号楼",
                        floors=self.rng.choice(floors),
                    )
                )
        place.buildings = Building.objects.bulk_create(place.buildings)
        self._households(place, households)
        return place

    def _households(self, place: _Place, total: int) -> None:
        rng = self.rng
        specs: list[_HouseholdSpec] = []
        for building, quota in zip(place.buildings, self._quotas(total, len(place.buildings)), strict=True):
            floors = building.floors or 6
            doors = rng.choice((2, 2, 3, 4))
            units = max(1, math.ceil(quota / (floors * doors)))
            rooms = [
                (u, f, d)
                for u in range(1, units + 1)
                for f in range(1, floors + 1)
                for d in range(1, doors + 1)
            ]
            place.households[building.pk] = []
            for u, f, d in sorted(rng.sample(rooms, quota)):
                unit, room = f"{u}单元", f"{f}{d:02d}"
                compound_name = building.compound.name if building.compound else ""
                household = Household(
                    community=place.community,
                    building=building,
                    unit=unit,
                    room=room,
                    address=f"{compound_name}{building.name}{unit}{room}",
                    floor_area=Decimal(rng.randint(4500, 14000)) / 100,
                )
                spec = _HouseholdSpec(household, self._household_people(place.community))
                specs.append(spec)
                place.households[building.pk].append(spec)
        Household.objects.bulk_create([s.household for s in specs], batch_size=500)
        Person.objects.bulk_create([m.person for s in specs for m in s.members], batch_size=500)
        HouseholdMember.objects.bulk_create(
            [
                HouseholdMember(
                    community=place.community,
                    household=s.household,
                    person=m.person,
                    relation=m.relation,
                    is_owner=m.is_owner,
                )
                for s in specs
                for m in s.members
            ],
            batch_size=500,
        )

    def _adults(self, place: _Place, *, exclude: set[int] | None = None) -> list[Person]:
        exclude = exclude or set()
        return [
            m.person
            for specs in place.households.values()
            for s in specs
            for m in s.members
            if 18 <= _age(m.person) <= 80 and m.person.pk not in exclude
        ]

    def _team(
        self,
        community: Community,
        name: str,
        description: str,
        members: list[Person],
        duty_roles: list[str] | None = None,
    ) -> Team:
        team = Team.objects.create(
            community=community, name=name, description=description, leader=members[0] if members else None
        )
        TeamMember.objects.bulk_create(
            [
                TeamMember(
                    community=community, team=team, person=p, duty_role=(duty_roles[i] if duty_roles else "")
                )
                for i, p in enumerate(members)
            ]
        )
        return team

    def _pick(self, people: list[Person], n: int, prefer: tuple[str, ...] = ()) -> list[Person]:
        """`n` people (fewer if there are not enough), those carrying one of the `prefer` tags first."""
        shuffled = list(people)
        self.rng.shuffle(shuffled)
        shuffled.sort(key=lambda p: not any(f",{t}," in p.tags for t in prefer))
        return shuffled[:n]

    def _staff(self, role: str, scope: Any) -> None:
        """A role holder who is not a resident here; no password until staff hand one over (reset)."""
        gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
        user = User(phone=self.phone(), name=self.name(gender, self.rng.randint(1970, 1998)))
        self._users.append((user, role, scope))

    def _stewards(self, place: _Place, total: int, exclude: set[int]) -> list[Person]:
        """At least one steward per building, each living in it; `total` in all when residents suffice."""
        candidates: dict[int, list[Person]] = {}
        for building in place.buildings:
            people = [
                m.person
                for s in place.households[building.pk]
                for m in s.members
                if 25 <= _age(m.person) <= 75 and m.person.phone and m.person.pk not in exclude
            ]
            self.rng.shuffle(people)
            candidates[building.pk] = people
        chosen: list[tuple[Person, Building]] = []
        for building in place.buildings:
            if candidates[building.pk]:
                chosen.append((candidates[building.pk].pop(), building))
        rest = [(p, b) for b in place.buildings for p in candidates[b.pk]]
        self.rng.shuffle(rest)
        chosen += rest[: max(0, total - len(chosen))]
        for person, building in chosen:
            user = User(phone=person.phone, name=person.name)
            self._users.append((user, Role.BUILDING_STEWARD, building))
            self._steward_people.append(person)
        return [p for p, _ in chosen]

    def _save_users(self) -> None:
        unusable = make_password(None)
        users = [u for u, _, _ in self._users]
        for user in users:
            user.password = unusable
        User.objects.bulk_create(users, batch_size=500)
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=u, role=role, **{ROLE_SCOPE[role]: scope})
                for u, role, scope in self._users
            ],
            batch_size=500,
        )
        by_phone = {u.phone: u for u in users}
        for person in self._steward_people:
            person.user = by_phone[person.phone]
        Person.objects.bulk_update(self._steward_people, ["user"], batch_size=500)

    # -- the three communities --
    def build(self) -> Street:
        street = Street.objects.create(name="红庙坡街道", code=STREET_CODE, district="莲湖区", city="西安市")
        self._daxing(street)
        self._fuxi(street)
        self._baxian(street)
        self._save_users()
        audit(actor=None, action="demo.build", obj=street, community_id=None, households=self.n_daxing)
        return street

    def _daxing(self, street: Street) -> None:
        community = Community.objects.create(
            street=street,
            name="大兴东路社区",
            code=DAXING_CODE,
            address="西安市莲湖区大兴东路",
            area_km2=Decimal("0.98"),
        )
        place = self._place(
            community,
            ["第一网格", "第二网格", "第三网格"],
            DAXING_COMPOUNDS,
            self.n_daxing,
            floors=(6, 6, 7, 11, 18, 24),
        )
        resident = self._demo_resident(place)
        stewards = self._stewards(place, 86, exclude={resident.pk})
        self._team(
            community,
            "楼栋兴管家",
            "楼栋“兴管家”：入户走访、政策宣传、信息采集、听取意见、隐患排查、邻里和睦；联系方式张贴在每栋楼。",
            stewards,
        )
        red_collar = self._pick(
            self._adults(place, exclude={resident.pk}), 107, prefer=(Tag.PARTY_MEMBER, Tag.VETERAN)
        )
        self._team(
            community,
            "红领之家",
            "党员、退休干部、退役军人和热心居民组成的志愿服务队，志愿积分可兑换礼品和服务。",
            red_collar,
        )
        for _ in range(2):
            self._staff(Role.COMMUNITY_STAFF, community)
        for number, grid in place.grids.items():
            if number != 1:  # 第一网格's grid chief and grid worker are the demo logins
                self._staff(Role.GRID_CHIEF, grid)
                self._staff(Role.GRID_WORKER, grid)

    def _demo_resident(self, place: _Place) -> Person:
        """The demo resident: a household head in the demo steward's building, given the demo name/phone."""
        building = next(
            b
            for b in place.buildings
            if b.compound and b.compound.name == DEMO_COMPOUND and b.name == DEMO_BUILDING
        )
        login = next(x for x in DEMO_LOGINS if x["key"] == "resident")
        heads = [s.members[0].person for s in place.households[building.pk]]
        person = next((p for p in heads if 30 <= _age(p) <= 75), heads[0])
        self._phones.discard(person.phone)
        Person.objects.filter(pk=person.pk).update(
            name=login["name"], phone=login["phone"], gender=Gender.FEMALE, tags=""
        )
        person.name, person.phone, person.gender, person.tags = (
            login["name"],
            login["phone"],
            Gender.FEMALE,
            "",
        )
        return person

    def _fuxi(self, street: Street) -> None:
        community = Community.objects.create(
            street=street, name="府西社区", code=FUXI_CODE, address="莲湖区府西街"
        )
        place = self._place(
            community,
            ["府西一网格", "府西二网格", "府西三网格"],
            FUXI_COMPOUNDS,
            self.n_fuxi,
            floors=(5, 6, 6, 7),
        )
        adults = self._adults(place)
        group = self._pick(adults, 15, prefer=(Tag.PARTY_MEMBER,))
        self._team(
            community,
            "府西夜话红色议事团",
            "每周在院落开展“府西夜话”：居民、网格员和红色议事团面对面摆问题、商对策、解难题。",
            group,
        )
        taken = {p.pk for p in group}
        helpers = self._pick([p for p in adults if p.pk not in taken], 40)
        self._team(
            community,
            "帮帮团",
            "居民在网格群里提需求，网格员转给帮帮团，志愿者接单上门服务，完成后记积分。",
            helpers,
        )
        taken |= {p.pk for p in helpers}
        self._team(
            community,
            "旧物捐赠志愿组",
            "登记、查验捐赠的旧书、玩具、鞋子，折算积分后明码标分上架。",
            self._pick([p for p in adults if p.pk not in taken], 12),
        )
        merchants = []
        for i, (name, offer) in enumerate(FUXI_MERCHANTS, start=1):
            gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
            merchants.append(
                Merchant(
                    community=community,
                    name=name,
                    offer=offer,
                    address=f"府西街{i * 2 + 1}号",
                    contact_name=self.name(gender, self.rng.randint(1960, 1995)),
                    contact_phone=self.phone(),
                )
            )
        Merchant.objects.bulk_create(merchants)
        partners = []
        for i, (name, kind) in enumerate(FUXI_PARTNERS):
            gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
            partners.append(
                PartnerUnit(
                    community=community,
                    name=name,
                    kind=kind,
                    contact_name=self.name(gender, self.rng.randint(1965, 1995)),
                    contact_phone=self.phone(),
                    agreement_signed_on=date(2025, 1 + i, 10 + i),
                )
            )
        PartnerUnit.objects.bulk_create(partners)
        self._stewards(place, len(place.buildings), exclude=set())
        self._staff(Role.COMMUNITY_STAFF, community)
        for grid in place.grids.values():
            self._staff(Role.GRID_WORKER, grid)
        self._staff(Role.GRID_CHIEF, place.grids[1])

    def _baxian(self, street: Street) -> None:
        community = Community.objects.create(
            street=street, name="巴县衙门社区", code=BAXIAN_CODE, address="巴县衙门"
        )
        place = self._place(
            community,
            ["衙门一网格", "衙门二网格", "衙门三网格"],
            BAXIAN_COMPOUNDS,
            self.n_baxian,
            floors=(6, 8, 12, 18),
            micro_grids=3,
        )
        adults = self._adults(place)
        # SEEDS 001: 45 capable residents, party members first, each wearing one of the five armbands
        five = self._pick(adults, 45, prefer=(Tag.PARTY_MEMBER,))
        roles = [DutyRole.values[i % len(DutyRole.values)] for i in range(len(five))]
        self._team(
            community,
            "五员志愿队",
            "环境卫生巡查员、安全隐患排查员、矛盾纠纷调解员、守楼护院秩序员、特殊群体帮扶员，各佩一种袖标。",
            five,
            duty_roles=roles,
        )
        taken = {p.pk for p in five}
        # the grid force "1+3+n": party secretary (community staff), grid branch secretary, grid chief,
        # grid worker (roles below) and n grid volunteers (a team per grid)
        self._staff(Role.COMMUNITY_STAFF, community)
        for grid in place.grids.values():
            volunteers = self._pick([p for p in adults if p.pk not in taken], 8)
            taken |= {p.pk for p in volunteers}
            self._team(
                community,
                f"{grid.name}志愿者",
                "“1+3+n”网格力量中的 n：协助网格长、网格员受理问题、分流交办、联动处置、反馈评价。",
                volunteers,
            )
            self._staff(Role.GRID_CHIEF, grid)
            self._staff(Role.GRID_WORKER, grid)
            for micro in Grid.objects.filter(parent=grid):
                self._staff(Role.GRID_WORKER, micro)
        self._stewards(place, len(place.buildings), exclude=set())


# --- public entry points --------------------------------------------------------------------------
def build_demo(*, households: int = DEFAULT_HOUSEHOLDS, seed: int = SEED) -> BuildResult:
    """Build the demo street unless it exists, then make sure every demo login exists. Deletes nothing."""
    if households < MIN_HOUSEHOLDS:
        raise ValueError(f"households must be at least {MIN_HOUSEHOLDS}")
    started = time.perf_counter()
    with transaction.atomic():
        created = not Street.objects.filter(code=STREET_CODE).exists()
        if created:
            _Builder(households, seed).build()
        logins = ensure_demo_logins()
    return BuildResult(
        created=created, seconds=time.perf_counter() - started, households_requested=households, logins=logins
    )


def demo_scopes() -> dict[str, Any]:
    """The object each demo login's role is held in, by login key."""
    street = Street.objects.get(code=STREET_CODE)
    daxing = Community.objects.get(street=street, code=DAXING_CODE)
    grid = Grid.objects.get(community=daxing, name=DEMO_GRID)
    building = Building.objects.get(community=daxing, compound__name=DEMO_COMPOUND, name=DEMO_BUILDING)
    merchant = Merchant.objects.get(community__code=FUXI_CODE, name=DEMO_MERCHANT)
    return {
        "street_admin": street,
        "community_staff": daxing,
        "auditor": daxing,
        "grid_chief": grid,
        "grid_worker": grid,
        "building_steward": building,
        "merchant_operator": merchant,
    }


def demo_resident_person() -> Person:
    login = next(x for x in DEMO_LOGINS if x["key"] == "resident")
    return Person.objects.select_related("community").get(community__code=DAXING_CODE, phone=login["phone"])


@transaction.atomic
def ensure_demo_logins() -> list[dict[str, str]]:
    """Create whichever demo login (or its role) is missing; existing logins and passwords are left alone."""
    scopes = demo_scopes()
    rows: list[dict[str, str]] = []
    for login in DEMO_LOGINS:
        user = User.objects.filter(phone=login["phone"]).first()
        where = login["where"]
        if login["role"] == "superuser":
            if user is None:
                User.objects.create_superuser(
                    phone=login["phone"], password=DEMO_PASSWORD, name=login["name"]
                )
        elif login["role"] == Role.RESIDENT:
            person = demo_resident_person()
            if user is None:
                user = User.objects.create_user(
                    phone=login["phone"], password=DEMO_PASSWORD, name=person.name
                )
            if person.user_id is None:
                person.user = user
                person.save(update_fields=["user", "updated_at"])
            household = Household.objects.filter(members__person=person).first()
            where = f"{person.community.name} {household.address}" if household else where
        else:
            role, scope = login["role"], scopes[login["key"]]
            if user is None:
                user = services.staff_user_create(
                    actor=None, phone=login["phone"], name=login["name"], password=DEMO_PASSWORD
                )
            if not RoleAssignment.objects.filter(user=user, role=role, **{ROLE_SCOPE[role]: scope}).exists():
                services.role_grant(actor=None, user=user, role=role, scope=scope)
        rows.append({**login, "where": where})
    return rows


def demo_counts() -> dict[str, int]:
    """What the demo street holds, for the command's summary and the tests."""
    street = Street.objects.filter(code=STREET_CODE).first()
    if street is None:
        return {}
    in_street: dict[str, Any] = {"community__street": street}
    return {
        "communities": Community.objects.filter(street=street).count(),
        "grids": Grid.objects.filter(**in_street).count(),
        "compounds": Compound.objects.filter(**in_street).count(),
        "buildings": Building.objects.filter(**in_street).count(),
        "households": Household.objects.filter(**in_street).count(),
        "people": Person.objects.filter(**in_street).count(),
        "members": HouseholdMember.objects.filter(**in_street).count(),
        "teams": Team.objects.filter(**in_street).count(),
        "team_members": TeamMember.objects.filter(**in_street).count(),
        "merchants": Merchant.objects.filter(**in_street).count(),
        "partner_units": PartnerUnit.objects.filter(**in_street).count(),
        "logins": User.objects.count(),
        "role_assignments": RoleAssignment.objects.count(),
    }
