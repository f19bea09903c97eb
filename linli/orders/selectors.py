"""Reads of work orders, always through the actor's scope: staff see their community, a grid worker their grid and
what is assigned to them, a steward their buildings, a resident the requests they made. "Overdue" and "due soon" are
computed here at read time, so the lists are right even before the sweep has run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from linli.common.errors import NotFound
from linli.orders import domain
from linli.orders.models import (
    DONE_STATUSES,
    OPEN_STATUSES,
    Assignment,
    Category,
    OrderEvent,
    OrderPhoto,
    Status,
    WorkOrder,
)
from linli.orders.services import may
from linli.org.access import Actor, Scope, can, register_model, scoped
from linli.org.models import Community


def _scope(order: WorkOrder) -> Scope:
    street_id = Community.objects.filter(pk=order.community_id).values_list("street_id", flat=True).first()
    return Scope(
        community_id=order.community_id,
        street_id=street_id,
        grid_ids=frozenset({order.grid_id}) if order.grid_id else frozenset(),
        building_ids=frozenset({order.building_id}) if order.building_id else frozenset(),
        person_id=order.reporter_id,
    )


def register_scope() -> None:
    register_model(
        WorkOrder,
        scope=_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": "grid_id",
            "building": "building_id",
            "merchant": None,
            "person": "reporter_id",
        },
    )


# --- the service catalogue ----------------------------------------------------------------------------------------
def categories(community: Community, *, include_inactive: bool = False) -> QuerySet[Category]:
    qs = Category.objects.filter(community=community)
    return qs if include_inactive else qs.filter(is_active=True)


def category_get(community: Community, pk: Any) -> Category:
    try:
        return Category.objects.get(community=community, pk=int(pk))
    except (Category.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


# --- orders ---------------------------------------------------------------------------------------------------------
def _base() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("category", "grid", "building", "reporter")


def visible(actor: Actor, *, action: str = "order.view") -> QuerySet[WorkOrder]:
    """Every order the actor may see: by scope, plus the ones assigned to them or to a team they lead."""
    mine = Q(pk__in=[])
    if getattr(actor.user, "pk", None):
        assigned = Assignment.objects.filter(active=True).filter(
            Q(user_id=actor.user.pk) | (Q(team__leader_id=actor.person_id) if actor.person_id else Q(pk__in=[]))
        )
        mine = Q(pk__in=assigned.values("order_id"))
    in_scope = scoped(actor, action, WorkOrder.objects.all()).values("pk")
    return _base().filter(Q(pk__in=in_scope) | mine)


def order_get(actor: Actor, pk: Any) -> WorkOrder:
    """One order the actor may see; NotFound otherwise (an outsider cannot tell it exists)."""
    try:
        order = _base().get(pk=int(pk))
    except (WorkOrder.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None
    if not may(actor, "order.view", order):
        raise NotFound()
    return order


def order_by_number(actor: Actor, community: Community, number: str) -> WorkOrder:
    order = _base().filter(community=community, number=number).first()
    if order is None or not may(actor, "order.view", order):
        raise NotFound()
    return order


@dataclass(frozen=True)
class Board:
    """The dispatch board's filters; empty means "any"."""

    status: str = ""  # a Status, or "open" / "done"
    severity: str = ""
    category_id: int | None = None
    grid_id: int | None = None
    channel: str = ""
    overdue: bool = False
    due_soon: bool = False
    escalated: bool = False
    unassigned: bool = False
    q: str = ""
    since: date | None = None
    until: date | None = None


def board(actor: Actor, community: Community, f: Board | None = None) -> QuerySet[WorkOrder]:
    f = f or Board()
    now = timezone.now()
    qs = visible(actor).filter(community=community)
    if f.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif f.status == "done":
        qs = qs.filter(status__in=DONE_STATUSES)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.severity == "none":
        qs = qs.filter(severity="")
    elif f.severity:
        qs = qs.filter(severity=f.severity)
    if f.category_id:
        qs = qs.filter(category_id=f.category_id)
    if f.grid_id:
        qs = qs.filter(grid_id=f.grid_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    if f.due_soon:
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__gte=now, due_at__lte=now + domain.DUE_SOON)
    if f.escalated:
        qs = qs.filter(status__in=OPEN_STATUSES).filter(Q(escalated_at__isnull=False) | Q(due_at__lt=now))
    if f.unassigned:
        qs = qs.exclude(Exists(Assignment.objects.filter(order=OuterRef("pk"), active=True)))
    if f.q:
        q = f.q.strip()[:100]
        qs = qs.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q)
        )
    if f.since:
        qs = qs.filter(received_at__date__gte=f.since)
    if f.until:
        qs = qs.filter(received_at__date__lte=f.until)
    return qs.prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.filter(active=True).select_related("user", "team", "unit"))
    ).order_by("due_at", "pk")


def escalated_in(actor: Actor, communities: QuerySet[Community]) -> QuerySet[WorkOrder]:
    """The street office's list: open orders escalated by hand or by the clock, in every community it oversees."""
    now = timezone.now()
    return (
        visible(actor)
        .filter(community__in=communities, status__in=OPEN_STATUSES)
        .filter(Q(escalated_at__isnull=False) | Q(due_at__lt=now))
        .select_related("community")
        .order_by("due_at", "pk")
    )


def my_requests(actor: Actor) -> QuerySet[WorkOrder]:
    """The requests a resident made themself, newest first."""
    if not actor.person_id:
        return WorkOrder.objects.none()
    return _base().filter(reporter_id=actor.person_id).order_by("-received_at", "-pk")


def my_tasks(actor: Actor, *, include_done: bool = False) -> QuerySet[WorkOrder]:
    """A handler's list: assigned to them (or their team), due first."""
    if not getattr(actor.user, "pk", None):
        return WorkOrder.objects.none()
    assigned = Assignment.objects.filter(active=True).filter(
        Q(user_id=actor.user.pk) | (Q(team__leader_id=actor.person_id) if actor.person_id else Q(pk__in=[]))
    )
    qs = _base().filter(pk__in=assigned.values("order_id"))
    if not include_done:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return qs.order_by("due_at", "pk")


def open_unassigned(actor: Actor) -> QuerySet[WorkOrder]:
    """Open orders in the places the actor handles that nobody has been given yet (the grid worker's "also in my
    area" list), due first."""
    if not getattr(actor.user, "pk", None):
        return WorkOrder.objects.none()
    in_scope = scoped(actor, "order.handle", WorkOrder.objects.all()).values("pk")
    return (
        _base()
        .filter(pk__in=in_scope, status__in=OPEN_STATUSES)
        .exclude(Exists(Assignment.objects.filter(order=OuterRef("pk"), active=True)))
        .order_by("due_at", "pk")
    )


def timeline(actor: Actor, order: WorkOrder) -> list[OrderEvent]:
    """The order's events; internal notes only for those who work on it."""
    events = OrderEvent.objects.filter(order=order).select_related("actor").prefetch_related("photos")
    if not sees_internal(actor, order):
        events = events.filter(is_public=True)
    return list(events.order_by("at", "pk"))


def sees_internal(actor: Actor, order: WorkOrder) -> bool:
    """Internal notes (and their photos) are for those who work on the order, never for the resident."""
    return may(actor, "order.handle", order) or may(actor, "order.triage", order) or _reads_all(actor, order)


def _reads_all(actor: Actor, order: WorkOrder) -> bool:
    return can(actor, "order.stats", order)


def photos(order: WorkOrder) -> QuerySet[OrderPhoto]:
    return OrderPhoto.objects.filter(order=order).defer("data").order_by("pk")


def photo_get(actor: Actor, order_pk: Any, photo_pk: Any) -> OrderPhoto:
    order = order_get(actor, order_pk)
    try:
        photo = OrderPhoto.objects.select_related("event").get(order=order, pk=int(photo_pk))
    except (OrderPhoto.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound() from None
    if photo.event is not None and not photo.event.is_public and not sees_internal(actor, order):
        raise NotFound()  # a photo of an internal note stays as internal as the note
    return photo


def assignments(order: WorkOrder, *, active_only: bool = True) -> QuerySet[Assignment]:
    qs = Assignment.objects.filter(order=order).select_related("user", "team", "unit")
    return qs.filter(active=True) if active_only else qs


# --- the echo wall (回音壁), public -----------------------------------------------------------------------------
def echo_wall(community: Community) -> QuerySet[WorkOrder]:
    """Resolved and closed requests with their answers, newest answer first. Pages mask everything personal."""
    return (
        WorkOrder.objects.filter(community=community, status__in=DONE_STATUSES, on_echo_wall=True)
        .select_related("category", "building", "grid")
        .order_by("-resolved_at", "-pk")
    )


# --- statistics -------------------------------------------------------------------------------------------------
def figures(qs: QuerySet[WorkOrder], *, now: datetime | None = None) -> domain.Figures:
    """The figures of a set of orders (merged duplicates and cancelled ones do not count as received)."""
    now = now or timezone.now()
    counted = qs.exclude(status__in=[Status.MERGED, Status.CANCELLED])
    received = counted.count()
    completed = counted.filter(status__in=DONE_STATUSES).count()
    ratings = [r for r in counted.filter(rating__isnull=False).values_list("rating", flat=True) if r is not None]
    closed = counted.filter(closed_at__isnull=False).values_list("received_at", "closed_at")
    hours = [(c - r).total_seconds() / 3600 for r, c in closed if c is not None]
    overdue = counted.filter(status__in=OPEN_STATUSES, due_at__lt=now).count()
    return domain.figures(
        received=received, completed=completed, ratings=ratings, hours_to_close=hours, overdue=overdue
    )


def community_figures(community: Community, *, now: datetime | None = None) -> domain.Figures:
    """The headline figures a community shows in public (the echo wall): every order it ever received."""
    return figures(WorkOrder.objects.filter(community=community), now=now)


def counts_by(qs: QuerySet[WorkOrder], field: str) -> dict[str, int]:
    return {str(row[field]): row["n"] for row in qs.values(field).annotate(n=Count("pk")).order_by(field)}


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt
