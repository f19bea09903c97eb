"""Report fixtures: October 2026 lived through in community A of make_world(), every figure known by hand.

`make_october(w)` leaves, all inside October 2026 (Asia/Shanghai):
- points: 王秀英 (pA1) earns 9 (环境清扫 3 h) + 8 (调解) = 17 through approved claims, 李建华 (pA2) 6 (环境清扫 2 h);
  staff award 王老伯 (pA1b) 5 directly (no claim). Earned 28 by 3 volunteers. 王秀英 buys a bag of rice (15) at the
  counter: spent 15. In circulation at the end: 20 (September) + 28 - 15 = 33.
- September: 李建华 got 20 points (a direct award on 2026-09-20), so October starts with 20 in circulation.
- a work order filed in grid A1, resolved, rated 5 (closed on time); one filed and still open.
- a meeting held in grid A1 (兴庆夜话) with one agenda item and a resolution done in October.
`at(moment)` freezes django.utils.timezone.now.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from unittest import mock
from zoneinfo import ZoneInfo

from linli.council import services as council
from linli.ledger import services as ledger
from linli.market.testing import buy, make_market
from linli.orders import services as orders
from linli.orders.services import AssigneeInput
from linli.orders.testing import file_order, make_orders
from linli.org.access import actor_for
from linli.points import services as points
from linli.points.services import ClaimInput
from linli.points.testing import make_catalogue

SH = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
AFTER_OCT = datetime(2026, 11, 1, 0, 6, tzinfo=SH)  # past the end of October plus the sealing grace
_keys = itertools.count(1)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC)):
        yield


def earn(w: SimpleNamespace, person: object, rule: object, day: int, **data: object) -> None:
    """A claim recorded by the person's grid worker, verified and approved by A's staff on 2026-10-<day>."""
    recorder = w.grid_worker_a1 if person is w.pA1 or person is w.pA1b else w.grid_worker_a2
    with at(datetime(2026, 10, day, 10, 0, tzinfo=SH)):
        claim = points.claim_submit(
            actor=actor_for(recorder),
            person=person,  # type: ignore[arg-type]
            rule=rule,  # type: ignore[arg-type]
            data=ClaimInput(occurred_on=date(2026, 10, day), **data),  # type: ignore[arg-type]
            idempotency_key=f"reports-claim-{next(_keys)}",
        ).claim
        if claim.status == "submitted":
            claim = points.claim_verify(actor=actor_for(w.staff_a), claim=claim)
        if claim.status != "approved":
            points.claim_approve(actor=actor_for(w.staff_a), claim=claim)


def make_october(w: SimpleNamespace) -> SimpleNamespace:
    with at(datetime(2026, 9, 1, 9, 0, tzinfo=SH)):
        make_catalogue(w)
        make_market(w)
        make_orders(w)
    with at(datetime(2026, 9, 20, 9, 0, tzinfo=SH)):
        ledger.award(person=w.pA2, amount=20, actor=w.staff_a, idempotency_key="reports-september")
    earn(w, w.pA1, w.cleanup, 3, minutes=180)
    earn(w, w.pA1, w.mediation, 8)
    earn(w, w.pA2, w.cleanup, 12, minutes=120)
    with at(datetime(2026, 10, 15, 9, 0, tzinfo=SH)):
        ledger.award(person=w.pA1b, amount=5, actor=w.staff_a, idempotency_key="reports-direct")
    with at(datetime(2026, 10, 20, 15, 0, tzinfo=SH)):
        w.basket = buy(w, w.pA1, (w.rice, 1))
    staff = actor_for(w.staff_a)
    with at(datetime(2026, 10, 9, 8, 0, tzinfo=SH)):
        w.order_done = file_order(w)
        orders.order_accept(actor=staff, order=w.order_done)
        orders.order_grade(actor=staff, order=w.order_done, severity="yellow", factors={})
        orders.order_dispatch(
            actor=staff, order=w.order_done, assignees=[AssigneeInput(handler="property", unit_id=w.propertyA.pk)]
        )
    with at(datetime(2026, 10, 10, 8, 0, tzinfo=SH)):
        orders.order_start(actor=staff, order=w.order_done)
        orders.order_resolve(actor=staff, order=w.order_done, answer="已调整道闸")
    with at(datetime(2026, 10, 11, 8, 0, tzinfo=SH)):
        orders.order_rate(actor=actor_for(w.resident_a1), order=w.order_done, rating=5)
    with at(datetime(2026, 10, 25, 8, 0, tzinfo=SH)):
        w.order_open = file_order(w, description="楼道灯坏了，晚上看不见")
    with at(datetime(2026, 10, 16, 19, 0, tzinfo=SH)):
        series = council.series_save(actor=staff, community=w.A, name="兴庆夜话", numbered_from=269)
        meeting = council.meeting_create(
            actor=staff,
            series=series,
            data=council.MeetingData(
                title="楼道漏水",
                starts_at=datetime(2026, 10, 16, 19, 30, tzinfo=SH),
                place="兴庆小区议事亭",
                host="社区工作者甲",
                grid=w.A1,
            ),
        )
    with at(datetime(2026, 10, 16, 19, 35, tzinfo=SH)):
        council.meeting_hold(actor=staff, meeting=meeting)
        item = council.agenda_add(
            actor=staff,
            meeting=meeting,
            data=council.ItemData(title="3楼楼道漏水", kind="family", severity="yellow", description="楼上渗水"),
        )
        resolution = council.resolution_create(
            actor=staff,
            item=item,
            text="物业一周内更换漏水管道",
            owner="物业公司维修班",
            owner_user=None,
            supervisor=w.grid_chief_a1,
            due_on=date(2026, 10, 23),
        )
    with at(datetime(2026, 10, 22, 10, 0, tzinfo=SH)):
        council.resolution_done(actor=staff, resolution=resolution, text="管道已更换")
    w.meeting, w.resolution = meeting, resolution
    return w


AFTER = AFTER_OCT + timedelta(days=1)
