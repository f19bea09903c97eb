"""Council fixtures on top of linli.common.testing.make_world(): a series with a held meeting, an agenda item and a
resolution; and the roof-repair building of SEEDS 003 with its owners, ready for a vote."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from linli.council import services
from linli.council.models import AgendaItem, Matter, Meeting, MeetingSeries, OwnersVote, Resolution
from linli.org.access import actor_for
from linli.org.models import Building, Household, HouseholdMember, Person

# SEEDS 003: a roof repair that needs every solar heater taken down. 1号楼 of make_world gets eleven more units
# (101 is 王秀英's, 75.50 m²); 402 and 502 belong to one buyer, 601 and 602 are still the developer's.
ROOF_UNITS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("102", "88.20", ("周建国",)),
    ("201", "75.50", ("吴桂芳", "吴志强")),  # a couple: one unit, one owner
    ("202", "88.20", ("郑海燕",)),
    ("301", "75.50", ("冯德胜",)),  # the one who refuses
    ("302", "88.20", ("陈淑珍",)),
    ("401", "75.50", ("褚文杰",)),
    ("402", "88.20", ("卫丽娟",)),
    ("502", "88.20", ("卫丽娟",)),  # the same buyer: counts once, with both areas
    ("601", "120.35", ()),  # the developer's
    ("602", "96.15", ()),  # the developer's
)


def make_council(w: SimpleNamespace) -> SimpleNamespace:
    """府西夜话-style series in community A with one held meeting in grid A1, one agenda item, one resolution whose
    owner is grid worker A1 and supervisor the grid chief."""
    staff = actor_for(w.staff_a)
    series = services.series_save(actor=staff, community=w.A, name="兴庆夜话", numbered_from=269)
    meeting = services.meeting_create(
        actor=staff,
        series=series,
        data=services.MeetingData(
            title="楼道漏水和停车",
            starts_at=timezone.now() - timedelta(days=1),
            place="兴庆小区议事亭",
            host="社区工作者甲",
            compound=w.cpA,
        ),
    )
    services.meeting_hold(actor=staff, meeting=meeting)
    item = services.agenda_add(
        actor=staff,
        meeting=meeting,
        data=services.ItemData(title="3楼楼道漏水", kind="family", severity="yellow", description="楼上渗水到楼下"),
    )
    resolution = services.resolution_create(
        actor=staff,
        item=item,
        text="物业一周内更换漏水管道",
        owner="物业公司维修班",
        owner_user=w.grid_worker_a1,
        supervisor=w.grid_chief_a1,
        due_on=timezone.localdate() + timedelta(days=7),
    )
    return SimpleNamespace(series=series, meeting=meeting, item=item, resolution=resolution)


def add_roof_units(w: SimpleNamespace, building: Building | None = None) -> list[Household]:
    building = building or w.bA1
    made: list[Household] = []
    people: dict[str, Person] = {}
    for room, area, owners in ROOF_UNITS:
        h = Household.objects.create(
            community=building.community,
            building=building,
            unit="1单元",
            room=room,
            floor_area=Decimal(area),
            developer_held=not owners,
        )
        for name in owners:
            if name not in people:
                people[name] = Person.objects.create(community=building.community, name=name)
            HouseholdMember.objects.create(
                community=building.community, household=h, person=people[name], is_owner=True, relation="head"
            )
        made.append(h)
    return made


def make_vote(
    w: SimpleNamespace,
    *,
    matter: str = Matter.REBUILD,
    closes_at: datetime | None = None,
    open_it: bool = True,
    **extra: Any,
) -> OwnersVote:
    """The roof repair vote on 1号楼 (after add_roof_units): 9 owners on the roll (the developer counts once),
    959.50 m² in all."""
    staff = actor_for(w.staff_a)
    vote = services.vote_create(
        actor=staff,
        community=w.A,
        data=services.VoteData(
            title="1号楼屋面防水维修（需拆除太阳能热水器）",
            proposal="屋面整体防水维修，施工期间全部太阳能热水器临时拆除，完工后由施工方恢复。",
            matter=matter,
            closes_at=closes_at or timezone.now() + timedelta(days=10),
            building=w.bA1,
            **extra,
        ),
    )
    return services.vote_open(actor=staff, vote=vote) if open_it else vote


__all__ = ["AgendaItem", "Meeting", "MeetingSeries", "Resolution", "add_roof_units", "make_council", "make_vote"]
