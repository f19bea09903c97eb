"""One month of one community, counted from the source tables (the expensive part of every report).

`month_figures` returns a plain JSON-able dict — the shape the monthly disclosure freezes, `CommunityMonth` stores
and every dashboard reads. Its queries are each an index range scan over the month (transfers by
(community, created_at), redemptions by (community, created_at), orders by (community, received_at), meetings by
(community, starts_at)); nothing scans the whole history except `circulation_at` when no earlier month is stored,
and that reads account balances (one row per holder) plus the transfers after the moment asked about.

Every query goes to `db` ("default", or "replica" when the caller reads from a streaming replica).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.db import connections
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from linli.council.models import (
    AgendaItem,
    Attendance,
    Evaluation,
    Meeting,
    MeetingStatus,
    OwnersVote,
    Resolution,
    ResolutionStatus,
    VoteStatus,
)
from linli.ledger.models import Account, AccountKind, Seal, Transfer, TransferKind
from linli.ledger.sealing import month_window
from linli.market.models import MovementKind, RedemptionLine, RedemptionStatus, StockMovement, Voucher, VoucherStatus
from linli.orders.models import DONE_STATUSES, Severity, Status, WorkOrder
from linli.org.domain import mask_name
from linli.org.models import Grid, HouseholdMember, Person
from linli.points.models import Donation, DonationStatus, Rule, RuleArea
from linli.reports import domain

VERSION = 1  # bump when the shape changes; stored months of another version are recomputed
TOP_VOLUNTEERS = 10
NOT_COUNTED = (RedemptionStatus.CANCELLED, RedemptionStatus.EXPIRED)


def window(month: date) -> tuple[datetime, datetime]:
    return month_window(f"{month:%Y-%m}")


def system_accounts(community_id: int, db: str = "default") -> dict[int, str]:
    return dict(
        Account.objects.using(db)
        .filter(community_id=community_id, kind=AccountKind.SYSTEM)
        .values_list("id", "system_code")
    )


# --- the ledger -----------------------------------------------------------------------------------------------------


def ledger_flows(community_id: int, start: datetime, end: datetime, db: str = "default") -> domain.Flows:
    system = system_accounts(community_id, db)
    rows = (
        Transfer.objects.using(db)
        .filter(community_id=community_id, created_at__gte=start, created_at__lt=end)
        .values_list("kind", "debit_id", "credit_id")
        .annotate(points=Sum("amount"), n=Count("id"))
        .order_by()
    )
    # grouped by account pair is at most (holders × kinds) rows; fold holders together here rather than in SQL so the
    # query needs no join to the accounts table
    folded: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, debit, credit, points, n in rows:
        key = (kind, system.get(debit, domain.HOLDER), system.get(credit, domain.HOLDER))
        folded[key][0] += int(points or 0)
        folded[key][1] += int(n or 0)
    return domain.flows((k, d, c, p, n) for (k, d, c), (p, n) in folded.items())


def circulation_at(community_id: int, moment: datetime, db: str = "default") -> int:
    """Points held by residents, merchants and teams at `moment`: today's balances minus what moved in since, read in
    one statement so both halves see the same snapshot."""
    system = list(system_accounts(community_id, db))
    if not system:
        return 0
    marks = ",".join(["%s"] * len(system))
    sql = f"""
        SELECT
          (SELECT COALESCE(SUM(balance), 0) FROM ledger_account WHERE community_id = %s AND kind <> 'system')
          - (SELECT COALESCE(SUM(CASE WHEN credit_id IN ({marks}) THEN 0 ELSE amount END)
                           - SUM(CASE WHEN debit_id IN ({marks}) THEN 0 ELSE amount END), 0)
             FROM ledger_transfer WHERE community_id = %s AND created_at >= %s)
    """  # noqa: S608 (placeholders only)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [community_id, *system, *system, community_id, moment])
        return int(cursor.fetchone()[0])


def _person_grids(community_id: int, person_ids: list[int], db: str) -> dict[int, int]:
    """The grid each person lives in (their lowest-numbered household's building); people without a household are
    left out."""
    grids: dict[int, int] = {}
    for start in range(0, len(person_ids), 5000):
        chunk = person_ids[start : start + 5000]
        rows = (
            HouseholdMember.objects.using(db)
            .filter(community_id=community_id, person_id__in=chunk)
            .order_by("person_id", "household_id")
            .values_list("person_id", "household__building__grid_id")
        )
        for person_id, grid_id in rows:
            grids.setdefault(person_id, grid_id)
    return grids


def earners(community_id: int, start: datetime, end: datetime, db: str = "default") -> dict[int, int]:
    """person id -> points awarded in the window (people only: merchants and teams are counted apart)."""
    rows = (
        Transfer.objects.using(db)
        .filter(community_id=community_id, created_at__gte=start, created_at__lt=end, kind=TransferKind.AWARD)
        .values_list("credit_id")
        .annotate(points=Sum("amount"))
        .order_by()
    )
    by_account = {account_id: int(points) for account_id, points in rows}
    people: dict[int, int] = {}
    ids = list(by_account)
    for i in range(0, len(ids), 5000):
        for account_id, person_id in (
            Account.objects.using(db)
            .filter(id__in=ids[i : i + 5000], kind=AccountKind.PERSON)
            .values_list("id", "person_id")
        ):
            people[person_id] = by_account[account_id]
    return people


def earned_by_rule(community_id: int, start: datetime, end: datetime, db: str = "default") -> list[dict[str, Any]]:
    """Awards that came from claims, by area and rule; the points are what was posted."""
    # one grouped join, the month's awards (an index range on (community, created_at)) to their claims by primary key
    # (the award's ref_id is the claim's id): at street scale a month has ~30,000 awards, and fetching their claims
    # back in chunks of ids cost more than a second (bench/reports_scale.py, docs/performance.md)
    sql = """
        SELECT c.rule_id, SUM(t.amount), COUNT(DISTINCT c.id), COUNT(DISTINCT c.person_id)
        FROM ledger_transfer t JOIN points_claim c ON c.id = t.ref_id
        WHERE t.community_id = %s AND t.created_at >= %s AND t.created_at < %s AND t.kind = %s
          AND t.ref_type = 'claim' AND c.community_id = %s
        GROUP BY c.rule_id
    """
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [community_id, start, end, TransferKind.AWARD.value, community_id])
        per_rule = {rule_id: (int(points), int(claims), int(people)) for rule_id, points, claims, people in cursor}
    rules = {
        r["id"]: r
        for r in Rule.objects.using(db).filter(id__in=list(per_rule)).values("id", "area_id", "current__name")
    }
    areas = dict(RuleArea.objects.using(db).filter(community_id=community_id).values_list("id", "name"))
    out: list[dict[str, Any]] = [
        {
            "area": areas.get(rules[rule_id]["area_id"], ""),
            "rule": rules[rule_id]["current__name"] or "",
            "points": points,
            "claims": claims,
            "people": people,
        }
        for rule_id, (points, claims, people) in per_rule.items()
        if rule_id in rules
    ]
    out.sort(key=lambda r: (r["area"], -r["points"], r["rule"]))
    return out


def by_area(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    areas: dict[str, dict[str, Any]] = {}
    for row in rules:
        area = areas.setdefault(row["area"], {"area": row["area"], "points": 0, "claims": 0})
        area["points"] += row["points"]
        area["claims"] += row["claims"]
    return sorted(areas.values(), key=lambda a: (-a["points"], a["area"]))


# --- the market and donations ---------------------------------------------------------------------------------------


def market(community_id: int, start: datetime, end: datetime, db: str = "default") -> dict[str, Any]:
    lines = (
        RedemptionLine.objects.using(db)
        .filter(
            redemption__community_id=community_id,
            redemption__created_at__gte=start,
            redemption__created_at__lt=end,
        )
        .exclude(redemption__status__in=NOT_COUNTED)
    )
    items: dict[str, list[int]] = {}
    redemptions: set[int] = set()
    payers: set[tuple[str, int]] = set()
    for name, quantity, returned, price, redemption_id, person_id, merchant_id in lines.values_list(
        "name", "quantity", "returned", "price", "redemption_id", "redemption__person_id", "redemption__merchant_id"
    ):
        net = quantity - returned
        if net <= 0:
            continue
        row = items.setdefault(name, [0, 0])
        row[0] += net
        row[1] += net * price
        redemptions.add(redemption_id)
        payers.add(("p", person_id) if person_id else ("m", merchant_id))
    vouchers = Voucher.objects.using(db).filter(community_id=community_id)
    donated = (
        StockMovement.objects.using(db)
        .filter(community_id=community_id, kind=MovementKind.DONATION, created_at__gte=start, created_at__lt=end)
        .aggregate(items=Sum("quantity"), n=Count("id"))
    )
    donations = (
        Donation.objects.using(db)
        .filter(community_id=community_id, assessed_at__gte=start, assessed_at__lt=end, status=DonationStatus.ASSESSED)
        .aggregate(n=Count("id"), points=Sum("points"), donors=Count("donor_id", distinct=True))
    )
    ranked = sorted(items.items(), key=lambda kv: (-kv[1][1], kv[0]))
    return {
        "redemptions": len(redemptions),
        "payers": len(payers),
        "items": sum(q for q, _ in items.values()),
        "points": sum(p for _, p in items.values()),
        "by_item": [{"name": n, "quantity": q, "points": p} for n, (q, p) in ranked],
        "vouchers_used": vouchers.filter(status=VoucherStatus.USED, used_at__gte=start, used_at__lt=end).count(),
        "goods_donated": int(donated["items"] or 0),
        "donations_in": int(donated["n"] or 0),
        "donations_assessed": int(donations["n"] or 0),
        "donation_points": int(donations["points"] or 0),
        "donors": int(donations["donors"] or 0),
    }


# --- work orders and the council ------------------------------------------------------------------------------------


def orders(community_id: int, start: datetime, end: datetime, db: str = "default") -> dict[str, Any]:
    """Orders received in the month (by colour, status now) and orders closed in the month (on time, rated)."""
    base = (
        WorkOrder.objects.using(db)
        .filter(community_id=community_id)
        .exclude(status__in=[Status.MERGED, Status.CANCELLED])
    )
    received = base.filter(received_at__gte=start, received_at__lt=end)
    by_colour = dict.fromkeys([*Severity.values, ""], 0)
    by_status: dict[str, int] = {}
    by_grid: dict[str, dict[str, int]] = {}
    done = 0
    for severity, status, grid_id, n in (
        received.values_list("severity", "status", "grid_id").annotate(n=Count("id")).order_by()
    ):
        by_colour[severity or ""] += n
        by_status[status] = by_status.get(status, 0) + n
        if status in DONE_STATUSES:
            done += n
        g = by_grid.setdefault(str(grid_id or 0), {"received": 0, "completed": 0})
        g["received"] += n
        if status in DONE_STATUSES:
            g["completed"] += n
    total = sum(by_status.values())
    closed = base.filter(closed_at__gte=start, closed_at__lt=end)
    closed_n = 0
    on_time = 0
    for closed_at, due_at in closed.values_list("closed_at", "due_at"):
        closed_n += 1
        on_time += closed_at is not None and closed_at <= due_at
    rated = closed.filter(rating__isnull=False).aggregate(n=Count("id"), happy=Count("id", filter=Q(rating__gte=4)))
    return {
        "received": total,
        "completed": done,
        "completion_rate": domain.rate(done, total),
        "by_colour": by_colour,
        "by_status": dict(sorted(by_status.items())),
        "by_grid": by_grid,
        "closed": closed_n,
        "closed_on_time": on_time,
        "on_time_rate": domain.rate(on_time, closed_n),
        "rated": rated["n"],
        "satisfied": rated["happy"],
        "satisfaction_rate": domain.rate(rated["happy"], rated["n"]),
    }


def held_meetings(community_id: int, start: datetime, end: datetime, db: str = "default") -> QuerySet[Meeting]:
    return Meeting.objects.using(db).filter(
        community_id=community_id,
        starts_at__gte=start,
        starts_at__lt=end,
        status__in=[MeetingStatus.HELD, MeetingStatus.CLOSED],
    )


def council(community_id: int, start: datetime, end: datetime, db: str = "default") -> dict[str, Any]:
    held = held_meetings(community_id, start, end, db)
    meeting_ids = list(held.values_list("id", flat=True))
    by_grid: dict[str, int] = {}
    for grid_id, n in held.values_list("grid_id").annotate(n=Count("id")).order_by():
        by_grid[str(grid_id or 0)] = n
    items = AgendaItem.objects.using(db).filter(meeting_id__in=meeting_ids)
    done = Resolution.objects.using(db).filter(
        community_id=community_id, status=ResolutionStatus.DONE, done_at__gte=start, done_at__lt=end
    )
    ratings = (
        Evaluation.objects.using(db)
        .filter(community_id=community_id, at__gte=start, at__lt=end)
        .aggregate(avg=Avg("rating"), n=Count("id"))
    )
    votes = [
        {"title": title, "passed": passed}
        for title, passed in OwnersVote.objects.using(db)
        .filter(community_id=community_id, status=VoteStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .order_by("closed_at")
        .values_list("title", "passed")
    ]
    return {
        "meetings": len(meeting_ids),
        "attendance": Attendance.objects.using(db).filter(meeting_id__in=meeting_ids).count(),
        "problems": items.count(),
        "solved": items.filter(solved_at__isnull=False).count(),
        "resolutions_done": done.count(),
        "rating_avg": round(float(ratings["avg"]), 1) if ratings["avg"] is not None else None,
        "ratings": ratings["n"],
        "votes": votes,
        "by_grid": by_grid,
    }


# --- one month ------------------------------------------------------------------------------------------------------


def seal_of(community_id: int, month: date, db: str = "default") -> dict[str, Any] | None:
    seal = Seal.objects.using(db).filter(community_id=community_id, month=f"{month:%Y-%m}").first()
    if seal is None:
        return None
    return {
        "id": seal.pk,
        "month": seal.month,
        "root": seal.merkle_root,
        "transfers": seal.transfer_count,
        "first": seal.first_transfer_id,
        "last": seal.last_transfer_id,
        "sealed_at": seal.sealed_at.isoformat(),
    }


def month_figures(
    community_id: int,
    month: date,
    *,
    circulation_start: int | None = None,
    db: str = "default",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything one month of one community shows. `circulation_start` (the previous month's end, when a stored month
    gives it) saves the one query that would otherwise read today's balances."""
    start, end = window(month)
    now = now or timezone.now()
    flows = ledger_flows(community_id, start, end, db)
    if circulation_start is None:
        circulation_end = circulation_at(community_id, min(end, now), db)
        circulation_start = circulation_end - flows.net
    else:
        circulation_end = circulation_start + flows.net
    people = earners(community_id, start, end, db)
    grids_of = _person_grids(community_id, list(people), db)
    volunteers_by_grid: dict[str, dict[str, int]] = {}
    for person_id, points in people.items():
        g = volunteers_by_grid.setdefault(str(grids_of.get(person_id, 0)), {"volunteers": 0, "earned": 0})
        g["volunteers"] += 1
        g["earned"] += points
    top_ids = [pid for pid, _ in domain.top(people, TOP_VOLUNTEERS)]
    names = dict(Person.objects.using(db).filter(id__in=top_ids).values_list("id", "name"))
    rules = earned_by_rule(community_id, start, end, db)
    order_figures = orders(community_id, start, end, db)
    council_figures = council(community_id, start, end, db)
    grid_names = dict(Grid.objects.using(db).filter(community_id=community_id).values_list("id", "name"))
    grids: dict[str, dict[str, Any]] = {}
    for key in set(volunteers_by_grid) | set(order_figures["by_grid"]) | set(council_figures["by_grid"]):
        grids[key] = {
            "name": grid_names.get(int(key), ""),
            **volunteers_by_grid.get(key, {"volunteers": 0, "earned": 0}),
            **order_figures["by_grid"].get(key, {"received": 0, "completed": 0}),
            "meetings": council_figures["by_grid"].get(key, 0),
        }
    return {
        "version": VERSION,
        "month": f"{month:%Y-%m}",
        "complete": end <= now,  # False while the month is still running
        "points": {
            **flows.as_dict(),
            "circulation_start": circulation_start,
            "circulation_end": circulation_end,
        },
        "volunteers": len(people),
        "top_volunteers": [{"name": mask_name(names.get(pid, "")), "points": people[pid]} for pid in top_ids],
        "earned_by_area": by_area(rules),
        "earned_by_rule": rules,
        "market": market(community_id, start, end, db),
        "orders": order_figures,
        "council": council_figures,
        "grids": dict(sorted(grids.items(), key=lambda kv: int(kv[0]))),
        "residents": residents(community_id, db),
        "seal": seal_of(community_id, month, db),
    }


def residents(community_id: int, db: str = "default") -> int:
    return Person.objects.using(db).filter(community_id=community_id, is_active=True).count()


def street_figures(
    community_id: int, month: date, *, db: str = "default", now: datetime | None = None
) -> dict[str, Any]:
    """The part of `month_figures` that the street roll-up compares, and nothing else: no breakdown by rule, item,
    grid or name. What the roll-up counts in the request for a month nobody has stored yet (a fraction of the full
    month's cost); same keys and same numbers as `month_figures`, so `selectors.STREET_METRICS` reads either."""
    start, end = window(month)
    now = now or timezone.now()
    flows = ledger_flows(community_id, start, end, db)
    order_figures = orders(community_id, start, end, db)
    return {
        "version": VERSION,
        "month": f"{month:%Y-%m}",
        "complete": end <= now,
        "points": {**flows.as_dict(), "circulation_end": circulation_at(community_id, min(end, now), db)},
        # len(earners): a COUNT(DISTINCT) joined to the accounts read like fewer rows but PostgreSQL hashed all of the
        # street's accounts for it, 200 ms a community at street scale against 40 ms here
        "volunteers": len(earners(community_id, start, end, db)),
        "orders": {k: order_figures[k] for k in ("received", "completed", "completion_rate", "satisfaction_rate")},
        "council": {"meetings": held_meetings(community_id, start, end, db).count()},
        "residents": residents(community_id, db),
    }
