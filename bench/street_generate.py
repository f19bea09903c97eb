"""A whole street on PostgreSQL for the reports at scale (issue 8 part 3): 55 communities, 750,000 residents,
20 million transfers over 24 closed months.

    bash scripts/with-postgres.sh .venv/bin/python bench/street_generate.py            # full size, prints facts
    bash scripts/with-postgres.sh .venv/bin/python bench/street_generate.py --small    # 3 communities, 30k transfers

bench/reports_scale.py builds the street with `generate()` and then times the reports on it; the test
linli/reports/tests/test_scale.py runs the small mode in the test database and checks the books.

What it builds (all SQL `INSERT ... SELECT` over generate_series with explicit, contiguous ids, so that a resident's
account id or a claim's id is arithmetic, never a join):
- 1 street, --communities communities, each with 8 grids, 40 buildings, households of three, --people residents
  (spread evenly) each with a person account and household membership, the five system accounts, a rules catalogue
  (5 areas, 12 rules with a current version), 8 products, 2 order categories, a meeting series; one staff user who
  acts everywhere (community staff of every community) and one street administrator.
- --months closed months ending with the last closed month. Volunteers grow linearly from 1 % to 10 % of the
  residents ("from 30 to 300", scaled); each month's transfers are in proportion to its volunteers, and --transfers
  in all. In month m a quarter are redemptions (1 or 2 lines from the shelf, paid to the market account) and the rest
  awards from approved claims (a Claim row per award: rule, version, person, status approved; the award's
  ref_type="claim", ref_id=the claim id, the claim's transfer_id=the award). Volunteer i gets awards k ≡ i (mod V_m).
- Never a negative balance, by construction: a redemption in month m is paid by a volunteer of month m-1 and no one
  spends in a month more than the least they earned the month before (checked in Python before any row is written;
  redemptions are cut down when a month would break it).
- Per community-month --orders work orders (most closed in 1-5 days, rated) and --meetings closed meetings.
- Placeholders (documented in docs/performance.md): `row_hash` is the transfer id in hex (valid hex, so a seal can be
  computed, but `linli ledger verify` reports every row), `request_hash` zeros, and `debit/credit_balance_after`
  NULL (reports never read them). Constrained balances are set at the end from aggregates over all transfers and the
  issuance account gets an AccountRollup up to the last transfer, so every balance and circulation figure is right.
- A large load (--transfers ≥ 1M, unless --keep-indexes) drops the secondary indexes, unique and foreign keys of the
  five big tables first and rebuilds them after (the bulk-loading practice of bench/ledger_reads.py); then ANALYZE.
A progress bar per phase goes to stderr. PostgreSQL only (generate_series, timestamptz arithmetic, to_hex).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

BIG_TABLES = (
    "ledger_transfer",
    "points_claim",
    "market_redemption",
    "market_redemptionline",
    "market_redemptiontransfer",
)
GRIDS = 8
BUILDINGS = 40
HOUSEHOLD_SIZE = 3
AREAS = ["志愿服务", "小区治理", "文明帮创", "绿色环保", "废旧利用"]
# (area index, name, points): the least points bound what a volunteer may spend the month after
RULES = [
    (0, "环境清扫（每小时）", 5),
    (0, "助老陪伴（每小时）", 6),
    (0, "夜间巡逻", 8),
    (1, "楼道议事", 6),
    (1, "矛盾调解", 10),
    (2, "文明劝导", 5),
    (2, "文艺演出", 12),
    (3, "垃圾分类督导", 5),
    (3, "绿化认养", 7),
    (4, "旧衣回收（每袋）", 5),
    (4, "废电池回收", 5),
    (0, "防汛值守", 15),
]
PRODUCTS = [
    ("肥皂", 2), ("牙膏", 3), ("酱油", 3), ("毛巾", 4), ("鸡蛋（10个）", 5), ("洗衣液", 6), ("食用油", 8), ("大米", 8),
]  # fmt: skip
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "秀英桂兰建华志强淑珍玉兰德明丽娟海燕文杰"
SEVERITIES = ["blue", "blue", "blue", "yellow", "yellow", "red"]


# --- a tiny progress bar (no dependency) ----------------------------------------------------------------------------


class Progress:
    """`phase [#####     ] 50% 660/1320 12 s` on stderr: redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, phase: str, total: int, *, out: TextIO | None = None, enabled: bool = True) -> None:
        self.phase, self.total, self.done = phase, max(1, total), 0
        self.out = out or sys.stderr
        self.enabled = enabled
        self.tty = self.out.isatty()
        self.started = time.perf_counter()
        self._last_tenth = -1
        self._draw()

    def step(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        self._draw()

    def close(self) -> float:
        self.done = self.total
        self._draw(final=True)
        return time.perf_counter() - self.started

    def _draw(self, final: bool = False) -> None:
        if not self.enabled:
            return
        share = self.done / self.total
        tenth = int(share * 10)
        if not self.tty and not final and (tenth == self._last_tenth or tenth == 10):
            return  # off a terminal: a line per tenth, and 100 % only once, from close()
        self._last_tenth = tenth
        bar = "#" * int(share * 30)
        line = (
            f"{self.phase:<22} [{bar:<30}] {share:4.0%} {self.done:,}/{self.total:,} "
            f"{time.perf_counter() - self.started:6.1f} s"
        )
        self.out.write(("\r" + line + ("\n" if final else "")) if self.tty else line + "\n")
        self.out.flush()


# --- SQL helpers ----------------------------------------------------------------------------------------------------


def _sql(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # None: no placeholders parsed, so % is the modulo operator
        return list(cursor.fetchall()) if cursor.description else []


def _next_id(table: str) -> int:
    return int(_sql(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")[0][0])


def _sync_sequence(table: str) -> None:
    """Explicit ids bypass the identity sequence: move it past them, or the next ORM insert collides."""
    _sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))")


def _ts(moment: datetime) -> str:
    return f"timestamptz '{moment.isoformat()}'"


def _arr(values: list[int]) -> str:
    return "ARRAY[" + ",".join(str(int(v)) for v in values) + "]::bigint[]"


def _text_arr(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


class Indexes:
    """Drop a table's secondary indexes, unique and foreign keys; put them back exactly as they were."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.saved: list[str] = []

    def drop(self) -> None:
        t = self.table
        cons = _sql(
            f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '{t}'::regclass "
            "AND contype IN ('f', 'u') ORDER BY contype DESC, conname"
        )
        idx = _sql(
            f"SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            f"WHERE i.indrelid = '{t}'::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )
        for name, _definition in cons:
            _sql(f'ALTER TABLE {t} DROP CONSTRAINT "{name}"')
        for name, definition in idx:
            _sql(f"DROP INDEX {name}")
            self.saved.append(definition)
        for name, definition in reversed(cons):
            self.saved.append(f'ALTER TABLE {t} ADD CONSTRAINT "{name}" {definition}')

    def restore(self, progress: Progress | None = None) -> None:
        for statement in self.saved:
            _sql(statement)
            if progress:
                progress.step()
        self.saved = []


# --- the plan: how many of what in each month, decided before any row is written ------------------------------------


@dataclass
class Month:
    index: int
    first: date
    start: datetime
    seconds: int
    volunteers: int = 0  # per community
    awards: int = 0  # per community
    redemptions: int = 0  # per community


@dataclass
class Community:
    index: int
    id: int
    people: int
    person_base: int  # person ids person_base .. person_base + people - 1 (account ids alike)
    account_base: int
    household_base: int
    issuance: int = 0
    market: int = 0
    grids: list[int] = field(default_factory=list)
    buildings: list[int] = field(default_factory=list)  # building b is in grid b % GRIDS
    rules: list[int] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    products: list[int] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    series: int = 0
    volunteers: list[int] = field(default_factory=list)  # per month


def month_starts(months: int, now: datetime) -> list[Month]:
    """The `months` closed months ending with the month before `now`'s (server time zone)."""
    from django.utils import timezone

    from linli.reports import domain
    from linli.reports.figures import window

    this = domain.first_of_month(timezone.localdate(now))
    out = []
    for i in range(months):
        first = domain.add_months(this, i - months)
        start, end = window(first)
        out.append(Month(i, first, start, int((end - start).total_seconds())))
    return out


def plan(people_per_community: int, transfers_per_community: int, months: list[Month]) -> list[Month]:
    """Volunteers from 1 % to 10 % of the residents; transfers in proportion; redemptions a quarter, cut down where
    a volunteer could otherwise spend more than the least they earned the month before."""
    lo = max(1, round(people_per_community * 0.01))
    hi = max(lo, round(people_per_community * 0.10))
    n = len(months)
    for m in months:
        m.volunteers = lo if n == 1 else round(lo + (hi - lo) * m.index / (n - 1))
    weights = sum(m.volunteers for m in months)
    min_points = min(p for _, _, p in RULES)
    max_cost = 2 * max(p for _, p in PRODUCTS)
    for m in months:
        total = max(m.volunteers, transfers_per_community * m.volunteers // weights)
        m.redemptions = 0 if m.index == 0 else total // 4
        if m.index > 0:
            before = months[m.index - 1]
            budget = min_points * (before.awards // before.volunteers)  # the least any volunteer earned then
            per_person = budget // max_cost  # redemptions each may afford at the dearest basket
            m.redemptions = min(m.redemptions, per_person * before.volunteers)
        m.awards = total - m.redemptions
    # the remainder of the integer division goes to the last month's awards so the total is exact
    m = months[-1]
    m.awards += transfers_per_community - sum(x.awards + x.redemptions for x in months)
    assert all(x.awards >= x.volunteers for x in months), "too few transfers for the volunteers"
    return months


# --- the generator --------------------------------------------------------------------------------------------------


@dataclass
class Options:
    communities: int = 55
    people: int = 750_000
    transfers: int = 20_000_000
    months: int = 24
    orders: int = 120  # work orders per community-month
    meetings: int = 4  # meetings per community-month
    drop_indexes: bool | None = None  # default: when transfers >= 1M
    progress: bool = True
    code: str = "gen"
    now: datetime | None = None

    @classmethod
    def small(cls, **kw: Any) -> Options:
        return cls(
            **{"communities": 3, "people": 600, "transfers": 30_000, "months": 6, "orders": 12, "meetings": 2} | kw
        )


def generate(opts: Options) -> dict[str, Any]:
    """Build the street in the default database (PostgreSQL). Returns facts and the time of each phase."""
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        raise SystemExit("street_generate: PostgreSQL only (generate_series, timestamptz arithmetic)")
    now = opts.now or timezone.now()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    months = month_starts(opts.months, now)
    per_c = opts.people // opts.communities
    plan(per_c, opts.transfers // opts.communities, months)
    g = Gen(opts, months, now)
    g.skeleton()
    timings["skeleton_s"] = round(time.perf_counter() - started, 2)
    t0 = time.perf_counter()
    g.residents()
    timings["residents_s"] = round(time.perf_counter() - t0, 2)
    drop = opts.drop_indexes if opts.drop_indexes is not None else opts.transfers >= 1_000_000
    indexes = [Indexes(t) for t in BIG_TABLES]
    if drop:
        t0 = time.perf_counter()
        for ix in indexes:
            ix.drop()
        timings["drop_indexes_s"] = round(time.perf_counter() - t0, 2)
    _sql("SET work_mem = '256MB'")
    t0 = time.perf_counter()
    g.history()
    timings["history_s"] = round(time.perf_counter() - t0, 2)
    if drop:
        _sql("SET maintenance_work_mem = '1GB'")
        bar = Progress("indexes and keys", sum(len(ix.saved) for ix in indexes), enabled=opts.progress)
        for ix in indexes:
            ix.restore(bar)
        timings["rebuild_indexes_s"] = round(bar.close(), 2)
    t0 = time.perf_counter()
    g.settle()
    timings["balances_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    bar = Progress("analyze", 1, enabled=opts.progress)
    _sql("ANALYZE")
    bar.close()
    timings["analyze_s"] = round(time.perf_counter() - t0, 2)
    timings["total_s"] = round(time.perf_counter() - started, 2)
    return {
        "street_id": g.street_id,
        "staff_id": g.staff_id,
        "street_admin_id": g.street_admin_id,
        "community_ids": [c.id for c in g.comms],
        "months": [f"{m.first:%Y-%m}" for m in months],
        "volunteers_per_community": [m.volunteers for m in months],
        "awards_per_community": [m.awards for m in months],
        "redemptions_per_community": [m.redemptions for m in months],
        "counts": g.counts(),
        "indexes_dropped": drop,
        "timings": timings,
    }


class Gen:
    def __init__(self, opts: Options, months: list[Month], now: datetime) -> None:
        self.opts, self.months, self.now = opts, months, now
        self.comms: list[Community] = []
        self.street_id = self.staff_id = self.street_admin_id = 0

    def bar(self, phase: str, total: int) -> Progress:
        return Progress(phase, total, enabled=self.opts.progress)

    # the small things, through the ORM (a few thousand rows)
    def skeleton(self) -> None:
        from linli.council.models import MeetingSeries
        from linli.ledger import services as ledger
        from linli.ledger.models import SystemAccount
        from linli.market.models import Product
        from linli.orders.models import Category
        from linli.org.models import Building, Grid, Role, RoleAssignment, Street, User
        from linli.org.models import Community as CommunityModel
        from linli.points.models import Rule, RuleArea, RuleVersion

        o = self.opts
        bar = self.bar("street and catalogues", o.communities)
        street = Street.objects.create(name=f"规模街道{o.code}", code=f"{o.code}-street")
        self.street_id = street.pk
        tag = zlib.crc32(o.code.encode()) % 10**7
        staff = User.objects.create_user(phone=f"1370{tag:07d}", name="规模工作者")  # no password: never signs in
        admin = User.objects.create_user(phone=f"1371{tag:07d}", name="街道管理员")
        self.staff_id, self.street_admin_id = staff.pk, admin.pk
        RoleAssignment.objects.create(user=admin, role=Role.STREET_ADMIN, street=street)
        person_base, account_base, household_base = (
            _next_id("org_person"),
            _next_id("ledger_account"),
            _next_id("org_household"),
        )
        # system accounts and the ORM's own rows come first, so the bases are taken after them
        created = []
        for i in range(o.communities):
            c = CommunityModel.objects.create(street=street, name=f"第{i + 1:02d}社区", code=f"{o.code}{i + 1:02d}")
            RoleAssignment.objects.create(user=staff, role=Role.COMMUNITY_STAFF, community=c)
            for code in SystemAccount.values:
                ledger.system_account(c, code)
            created.append(c)
        account_base = _next_id("ledger_account")
        for i, c in enumerate(created):
            n = o.people // o.communities + (1 if i < o.people % o.communities else 0)
            comm = Community(i, c.pk, n, person_base, account_base, household_base)
            person_base += n
            account_base += n
            household_base += math.ceil(n / HOUSEHOLD_SIZE)
            comm.issuance = ledger.system_account(c, SystemAccount.ISSUANCE).pk
            comm.market = ledger.system_account(c, SystemAccount.MARKET).pk
            grids = Grid.objects.bulk_create(
                Grid(community=c, name=f"第{g + 1}网格", number=g + 1) for g in range(GRIDS)
            )
            comm.grids = [x.pk for x in grids]
            comm.buildings = [
                x.pk
                for x in Building.objects.bulk_create(
                    Building(community=c, grid=grids[b % GRIDS], name=f"{b + 1}号楼", floors=6)
                    for b in range(BUILDINGS)
                )
            ]
            areas = RuleArea.objects.bulk_create(
                RuleArea(community=c, name=name, position=p) for p, name in enumerate(AREAS)
            )
            for pos, (area, name, points) in enumerate(RULES):
                rule = Rule.objects.create(community=c, area=areas[area], code=f"r{pos + 1}", position=pos)
                version = RuleVersion.objects.create(
                    community=c, rule=rule, number=1, name=name, points=points, created_at=self.months[0].start
                )
                Rule.objects.filter(pk=rule.pk).update(current=version)
                comm.rules.append(rule.pk)
                comm.versions.append(version.pk)
            comm.products = [
                p.pk
                for p in Product.objects.bulk_create(
                    Product(community=c, name=name, price=price, unit="份", tracks_stock=False, position=k)
                    for k, (name, price) in enumerate(PRODUCTS)
                )
            ]
            comm.categories = [
                x.pk
                for x in Category.objects.bulk_create(
                    [
                        Category(community=c, code="light", name="楼道照明", deadline_days=3),
                        Category(community=c, code="water", name="上下水", deadline_days=5),
                    ]
                )
            ]
            comm.series = MeetingSeries.objects.create(community=c, name="社区夜话").pk
            self.comms.append(comm)
            bar.step()
        bar.close()

    def residents(self) -> None:
        """People, their accounts, households of three and their memberships: one statement each per community."""
        bar = self.bar("residents", len(self.comms))
        created = _ts(self.months[0].start - timedelta(days=30))
        for c in self.comms:
            n, nb = c.people, len(c.buildings)
            hh = math.ceil(n / HOUSEHOLD_SIZE)
            _sql(
                f"""INSERT INTO org_person (id, created_at, updated_at, name, phone, gender, birth_year, tags, note,
                        is_active, community_id, user_id)
                    SELECT {c.person_base} + i, {created}, {created},
                           substr('{FAMILY}', i % 20 + 1, 1) || substr('{GIVEN}', (i / 20) % 16 + 1, 1)
                             || substr('{GIVEN}', (i / 320) % 16 + 1, 1),
                           '19' || lpad(({c.person_base} + i)::text, 9, '0'),
                           CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END, 1940 + i % 70, '', '', true, {c.id}, NULL
                    FROM generate_series(0, {n - 1}) AS i"""
            )
            _sql(
                f"""INSERT INTO ledger_account (id, kind, system_code, constrained, balance, created_at, community_id,
                        merchant_id, person_id, team_id)
                    SELECT {c.account_base} + i, 'person', '', true, 0, {created}, {c.id}, NULL, {c.person_base} + i,
                           NULL
                    FROM generate_series(0, {n - 1}) AS i"""
            )
            _sql(
                f"""INSERT INTO org_household (id, created_at, updated_at, unit, room, address, floor_area, note,
                        building_id, community_id, developer_held)
                    SELECT {c.household_base} + h, {created}, {created}, '1', (101 + h / {nb})::text, '', 80.00, '',
                           ({_arr(c.buildings)})[h % {nb} + 1], {c.id}, false
                    FROM generate_series(0, {hh - 1}) AS h"""
            )
            _sql(
                f"""INSERT INTO org_householdmember (relation, is_owner, community_id, household_id, person_id)
                    SELECT CASE i % 3 WHEN 0 THEN 'head' WHEN 1 THEN 'spouse' ELSE 'child' END, i % 3 = 0, {c.id},
                           {c.household_base} + i / {HOUSEHOLD_SIZE}, {c.person_base} + i
                    FROM generate_series(0, {n - 1}) AS i"""
            )
            bar.step()
        for table in ("org_person", "ledger_account", "org_household"):
            _sync_sequence(table)
        bar.close()

    def history(self) -> None:
        """Month by month, community by community: claims + awards, redemptions + lines + payments, orders, meetings."""
        bar = self.bar("history (transfers)", len(self.months) * len(self.comms))
        ids = {t: _next_id(t) for t in (*BIG_TABLES, "orders_workorder", "council_meeting")}
        pts = _arr([p for _, _, p in RULES])
        names = _text_arr([n for _, n, _ in RULES])
        prices = _arr([p for _, p in PRODUCTS])
        pnames = _text_arr([n for n, _ in PRODUCTS])
        np_ = len(PRODUCTS)
        nr = len(RULES)
        zeros = "0" * 64
        staff = self.staff_id
        for m in self.months:
            step_a = m.seconds / max(1, m.awards)
            step_r = m.seconds / max(1, m.redemptions)
            at_a = f"{_ts(m.start)} + ((k + 0.5) * {step_a}) * interval '1 second'"
            at_r = f"{_ts(m.start)} + ((j + 0.3) * {step_r}) * interval '1 second'"
            before = self.months[m.index - 1] if m.index else None
            for c in self.comms:
                v = m.volunteers
                t_base, cl_base = ids["ledger_transfer"], ids["points_claim"]
                rule_idx = f"((k / {v}) + k) % {nr}"  # a volunteer goes through the rules, not always the same one
                _sql(
                    f"""INSERT INTO points_claim (id, created_at, updated_at, source, occurred_on, minutes, quantity,
                            difficulty, percent, points, note, status, verified_at, decided_at, reason, transfer_id,
                            photo_reused, ref_type, ref_id, idempotency_key, activity_id, community_id, decided_by_id,
                            duplicate_of_id, person_id, recorded_by_id, verified_by_id, photo_id, rule_id,
                            rule_version_id)
                        SELECT {cl_base} + k, at - interval '1 hour', at, 'recorded',
                               (at AT TIME ZONE 'Asia/Shanghai')::date, NULL, 1, '', 100, ({pts})[{rule_idx} + 1], '',
                               'approved', at - interval '30 minutes', at, '', {t_base} + k, false, '', NULL,
                               'gen-' || ({cl_base} + k), NULL, {c.id}, {staff}, NULL, {c.person_base} + k % {v},
                               {staff}, {staff}, NULL, ({_arr(c.rules)})[{rule_idx} + 1],
                               ({_arr(c.versions)})[{rule_idx} + 1]
                        FROM (SELECT k, {at_a} AS at FROM generate_series(0, {m.awards - 1}) AS k) AS s"""
                )
                _sql(
                    f"""INSERT INTO ledger_transfer (id, community_id, debit_id, credit_id, amount, kind, memo,
                            ref_type, ref_id, reverses_id, actor_id, idempotency_key, request_hash, created_at,
                            debit_balance_after, credit_balance_after, row_hash)
                        SELECT {t_base} + k, {c.id}, {c.issuance}, {c.account_base} + k % {v},
                               ({pts})[{rule_idx} + 1], 'award', ({names})[{rule_idx} + 1], 'claim', {cl_base} + k,
                               NULL, {staff}, 'claim:' || ({cl_base} + k), '{zeros}', {at_a}, NULL, NULL,
                               lpad(to_hex({t_base} + k), 64, '0')
                        FROM generate_series(0, {m.awards - 1}) AS k"""
                )
                ids["ledger_transfer"] += m.awards
                ids["points_claim"] += m.awards
                if m.redemptions and before is not None:
                    self._redemptions(m, before.volunteers, c, ids, at_r, prices, pnames, np_, zeros)
                self._orders(m, c, ids)
                self._meetings(m, c, ids)
                bar.step()
        for t in ids:
            _sync_sequence(t)
        bar.close()

    def _redemptions(
        self,
        m: Month,
        payers: int,
        c: Community,
        ids: dict[str, int],
        at_r: str,
        prices: str,
        pnames: str,
        np_: int,
        zeros: str,
    ) -> None:
        r_base, l_base = ids["market_redemption"], ids["market_redemptionline"]
        t_base, rt_base = ids["ledger_transfer"], ids["market_redemptiontransfer"]
        staff, n = self.staff_id, m.redemptions
        p1, p2 = f"j % {np_} + 1", f"(j + 3) % {np_} + 1"
        cost = f"({prices})[{p1}] + CASE WHEN j % 2 = 0 THEN ({prices})[{p2}] ELSE 0 END"
        memo = f"({pnames})[{p1}] || CASE WHEN j % 2 = 0 THEN '、' || ({pnames})[{p2}] ELSE '' END"
        payer = f"{c.person_base} + j % {payers}"
        _sql(
            f"""INSERT INTO market_redemption (id, number, channel, status, total, refunded, balance_after,
                    reserved_until, created_at, handed_over_at, closed_at, reason, idempotency_key, request_hash,
                    actor_id, community_id, handed_over_by_id, merchant_id, person_id)
                SELECT {r_base} + j, 'G' || ({r_base} + j), 'counter', 'completed', {cost}, 0, NULL, NULL, {at_r},
                       {at_r}, NULL, '', 'gen-' || ({r_base} + j), '{zeros}', {staff}, {c.id}, {staff}, NULL, {payer}
                FROM generate_series(0, {n - 1}) AS j"""
        )
        _sql(
            f"""INSERT INTO market_redemptionline (id, name, quantity, price, returned, product_id, redemption_id)
                SELECT {l_base} + 2 * j, ({pnames})[{p1}], 1, ({prices})[{p1}], 0, ({_arr(c.products)})[{p1}],
                       {r_base} + j
                FROM generate_series(0, {n - 1}) AS j
                UNION ALL
                SELECT {l_base} + 2 * j + 1, ({pnames})[{p2}], 1, ({prices})[{p2}], 0, ({_arr(c.products)})[{p2}],
                       {r_base} + j
                FROM generate_series(0, {n - 1}, 2) AS j"""
        )
        _sql(
            f"""INSERT INTO ledger_transfer (id, community_id, debit_id, credit_id, amount, kind, memo, ref_type,
                    ref_id, reverses_id, actor_id, idempotency_key, request_hash, created_at, debit_balance_after,
                    credit_balance_after, row_hash)
                SELECT {t_base} + j, {c.id}, {c.account_base} + j % {payers}, {c.market}, {cost}, 'redemption',
                       {memo}, 'redemption', {r_base} + j, NULL, {staff}, 'redemption-' || ({r_base} + j),
                       '{zeros}', {at_r}, NULL, NULL, lpad(to_hex({t_base} + j), 64, '0')
                FROM generate_series(0, {n - 1}) AS j"""
        )
        _sql(
            f"""INSERT INTO market_redemptiontransfer (id, redemption_id, transfer_id, purpose, request_key)
                SELECT {rt_base} + j, {r_base} + j, {t_base} + j, 'payment', ''
                FROM generate_series(0, {n - 1}) AS j"""
        )
        ids["market_redemption"] += n
        ids["market_redemptionline"] += 2 * n
        ids["ledger_transfer"] += n
        ids["market_redemptiontransfer"] += n

    def _orders(self, m: Month, c: Community, ids: dict[str, int]) -> None:
        """Orders received through the month; 5 in 6 closed 1-5 days later (never after now), most rated."""
        n = self.opts.orders
        if not n:
            return
        base, nb = ids["orders_workorder"], len(c.buildings)
        at = f"{_ts(m.start)} + ((w + 0.5) * {m.seconds / n}) * interval '1 second'"
        closed = f"LEAST({at} + (1 + w % 5) * interval '1 day' - interval '3 hours', {_ts(self.now)})"
        done = "w % 6 <> 5"
        _sql(
            f"""INSERT INTO orders_workorder (id, created_at, updated_at, number, token, channel, external_ref, title,
                    description, address, lat, long, contact_name, contact_phone, status, held_from, severity,
                    factors, received_at, accepted_at, dispatched_at, resolved_at, closed_at, held_at, due_at,
                    escalated_at, escalation_reason, answer, rating, feedback, rated_at, reopen_count, on_echo_wall,
                    request_key, building_id, category_id, community_id, created_by_id, grid_id, merged_into_id,
                    reporter_id)
                SELECT {base} + w, {at}, {at}, 'W' || ({base} + w), md5('gen-order-' || ({base} + w)), 'app', '',
                       '楼道灯不亮', '', '', NULL, NULL, '', '',
                       CASE WHEN {done} THEN 'closed' ELSE 'dispatched' END, '',
                       ({_text_arr(SEVERITIES)})[w % {len(SEVERITIES)} + 1], '{{}}'::jsonb, {at},
                       {at} + interval '1 hour', {at} + interval '2 hours',
                       CASE WHEN {done} THEN {closed} END, CASE WHEN {done} THEN {closed} END, NULL,
                       {at} + interval '3 days', NULL, '', '', CASE WHEN {done} AND w % 4 <> 3 THEN 3 + w % 3 END, '',
                       CASE WHEN {done} AND w % 4 <> 3 THEN {closed} END, 0, false, '',
                       ({_arr(c.buildings)})[w % {nb} + 1], ({_arr(c.categories)})[w % 2 + 1], {c.id}, NULL,
                       ({_arr(c.grids)})[(w % {nb}) % {GRIDS} + 1], NULL, {c.person_base} + (w * 7919) % {c.people}
                FROM generate_series(0, {n - 1}) AS w"""
        )
        ids["orders_workorder"] += n

    def _meetings(self, m: Month, c: Community, ids: dict[str, int]) -> None:
        n = self.opts.meetings
        if not n:
            return
        base = ids["council_meeting"]
        at = f"{_ts(m.start)} + ((x + 0.5) * {m.seconds / n}) * interval '1 second'"
        _sql(
            f"""INSERT INTO council_meeting (id, created_at, updated_at, number, title, starts_at, place, host, status,
                    minutes, report, held_at, closed_at, cancel_reason, checkin_code, request_key, building_id,
                    community_id, compound_id, created_by_id, grid_id, series_id)
                SELECT {base} + x, {at} - interval '7 days', {at}, {m.index * n} + x + 1, '社区夜话', {at}, '活动室',
                       '书记', 'closed', '', '', {at}, {at} + interval '2 hours', '', 'gen' || ({base} + x), '', NULL,
                       {c.id}, NULL, {self.staff_id}, ({_arr(c.grids)})[x % {GRIDS} + 1], {c.series}
                FROM generate_series(0, {n - 1}) AS x"""
        )
        ids["council_meeting"] += n

    def settle(self) -> None:
        """Constrained balances from one aggregate over every transfer; issuance gets a rollup to the last transfer
        (its row balance is never written: selectors.balance derives it)."""
        bar = self.bar("balances", 2)
        ids = ",".join(str(c.id) for c in self.comms)
        _sql(
            f"""UPDATE ledger_account a SET balance = s.balance
                FROM (SELECT account_id, SUM(amount) AS balance FROM (
                        SELECT credit_id AS account_id, amount FROM ledger_transfer WHERE community_id IN ({ids})
                        UNION ALL
                        SELECT debit_id, -amount FROM ledger_transfer WHERE community_id IN ({ids})) AS x
                      GROUP BY account_id) AS s
                WHERE a.id = s.account_id AND a.constrained"""
        )
        bar.step()
        _sql(
            f"""INSERT INTO ledger_accountrollup (account_id, upto_transfer_id, balance)
                SELECT a.id, COALESCE((SELECT MAX(id) FROM ledger_transfer t WHERE t.community_id = a.community_id),
                                      0),
                       COALESCE((SELECT SUM(amount) FROM ledger_transfer t WHERE t.credit_id = a.id), 0)
                       - COALESCE((SELECT SUM(amount) FROM ledger_transfer t WHERE t.debit_id = a.id), 0)
                FROM ledger_account a WHERE a.community_id IN ({ids}) AND NOT a.constrained
                ON CONFLICT (account_id) DO UPDATE SET upto_transfer_id = EXCLUDED.upto_transfer_id,
                                                       balance = EXCLUDED.balance"""
        )
        bar.close()

    def counts(self) -> dict[str, int]:
        ids = ",".join(str(c.id) for c in self.comms)
        out = {}
        for table in ("org_person", "ledger_transfer", "points_claim", "market_redemption", "orders_workorder"):
            out[table] = int(_sql(f"SELECT COUNT(*) FROM {table} WHERE community_id IN ({ids})")[0][0])
        out["market_redemptionline"] = int(
            _sql(
                "SELECT COUNT(*) FROM market_redemptionline l JOIN market_redemption r ON r.id = l.redemption_id "
                f"WHERE r.community_id IN ({ids})"
            )[0][0]
        )
        return out


# --- command line ---------------------------------------------------------------------------------------------------


def options_from(args: argparse.Namespace) -> Options:
    base = Options.small() if args.small else Options()
    for name in ("communities", "people", "transfers", "months", "orders", "meetings"):
        value = getattr(args, name)
        if value is not None:
            setattr(base, name, value)
    if args.keep_indexes:
        base.drop_indexes = False
    base.progress = not args.quiet
    return base


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--communities", type=int, help="default 55 (small: 3)")
    parser.add_argument("--people", type=int, help="default 750,000 (small: 600)")
    parser.add_argument("--transfers", type=int, help="default 20,000,000 (small: 30,000)")
    parser.add_argument("--months", type=int, help="default 24 (small: 6)")
    parser.add_argument("--orders", type=int, help="work orders per community and month, default 120 (small: 12)")
    parser.add_argument("--meetings", type=int, help="meetings per community and month, default 4 (small: 2)")
    parser.add_argument("--small", action="store_true", help="the test size: 3 communities, 600 people, 30k transfers")
    parser.add_argument("--keep-indexes", action="store_true", help="load with every index in place")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def main() -> None:

    import ledger_common as bench

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args()
    bench.boot("street")
    facts = generate(options_from(args))
    bench.emit({"benchmark": "street_generate", "machine": bench.machine(), **facts})


if __name__ == "__main__":
    main()
