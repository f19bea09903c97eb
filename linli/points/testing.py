"""Test helpers for the points app: a small rules catalogue on top of linli.common.testing.make_world()."""

from __future__ import annotations

from types import SimpleNamespace

from linli.org.access import actor_for
from linli.points import services
from linli.points.models import Recorder, Steps, Unit
from linli.points.services import RuleData


def make_catalogue(w: SimpleNamespace) -> SimpleNamespace:
    """Rules of SEEDS 000/003 in community A (and one in B), created by A's staff. Adds to `w`:
    areaA (志愿服务), cleanup (3 per full hour, photo optional, daily cap 9), mediation (8 per occurrence, recorded
    by stewards/grid/staff only), haircut (2, approval only), recycling (1 per kg, verification only), cleanupB."""
    staff = actor_for(w.staff_a)
    w.areaA = services.area_create(actor=staff, community=w.A, name="志愿服务", position=1)
    w.areaA2 = services.area_create(actor=staff, community=w.A, name="文明帮创", position=2)
    w.cleanup = services.rule_create(
        actor=staff,
        area=w.areaA,
        code="cleanup",
        data=RuleData(
            name="环境清扫",
            points=3,
            unit=Unit.HOUR,
            difficulties=[{"name": "一般", "percent": 100}, {"name": "较难", "percent": 150}],
            daily_cap=9,
            monthly_cap=60,
        ),
    )
    w.mediation = services.rule_create(
        actor=staff,
        area=w.areaA2,
        code="mediation",
        data=RuleData(
            name="成功调解一起邻里纠纷",
            points=8,
            recorders=(Recorder.STEWARD, Recorder.GRID, Recorder.STAFF),
        ),
    )
    w.haircut = services.rule_create(
        actor=staff,
        area=w.areaA,
        code="haircut",
        data=RuleData(name="义务理发", points=2, steps=Steps.APPROVE, recorders=(Recorder.SELF, Recorder.ORGANISER)),
    )
    w.recycling = services.rule_create(
        actor=staff,
        area=w.areaA2,
        code="recycling",
        data=RuleData(name="废旧回收", points=1, unit=Unit.KG, steps=Steps.VERIFY, evidence_required=True),
    )
    staff_b = actor_for(w.staff_b)
    areaB = services.area_create(actor=staff_b, community=w.B, name="志愿服务")
    w.cleanupB = services.rule_create(
        actor=staff_b, area=areaB, code="cleanup", data=RuleData(name="环境清扫", points=3, unit=Unit.HOUR)
    )
    return w
