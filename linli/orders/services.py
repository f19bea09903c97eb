"""Every change to a work order: one function per whole state change, keyword-only, typed, atomic, audited, with its
permission checked here so that no page, API call, Open311 client, import or sweep can skip it.

The chain (SEEDS 001/004): received -> accepted -> dispatched (to one handler, or several at once for joint handling)
-> in progress -> resolved (the answer) -> closed after the resident's rating, or reopened when they are unsatisfied.
On hold pauses the clock; overdue orders are escalated to the street office by `orders_sweep`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Conflict, Forbidden, Invalid, NotFound
from linli.common.images import read_upload, reencode
from linli.common.models import audit
from linli.common.sequences import next_number
from linli.common.text import clean_text
from linli.orders import domain
from linli.orders.errors import (
    AlreadyRated,
    AnswerRequired,
    NotAssigned,
    NotReporter,
    PlaceOutside,
    ReasonRequired,
    UnknownCategory,
)
from linli.orders.models import (
    DONE_STATUSES,
    Action,
    AssigneeKind,
    Assignment,
    Category,
    Channel,
    HandlerKind,
    Holiday,
    Open311Client,
    OrderCounter,
    OrderEvent,
    OrderPhoto,
    Severity,
    Status,
    WorkOrder,
)
from linli.org.access import Actor, can, require
from linli.org.models import Building, Community, Grid, PartnerUnit, Person, Street, Team, User

MAX_PHOTOS = 6
MAX_TITLE = 120
MAX_TEXT = 4000
STAFF_CHANNELS = frozenset(
    {Channel.HOTLINE, Channel.WALK_IN, Channel.CHAT, Channel.PATROL, Channel.COUNCIL, Channel.HOTLINE_12345}
)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


_text = clean_text


def _reason(value: str | None) -> str:
    text = _text(value, field_name="reason", max_length=500)
    if not text:
        raise ReasonRequired(field="reason")
    return text


# --- the service catalogue and the calendar -------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryData:
    code: str
    name: str
    group: str = "other"
    handler: str = HandlerKind.GRID_WORKER
    deadline_days: int = domain.DEFAULT_DEADLINE_DAYS
    day_kind: str = "calendar"
    severity_days: dict[str, int] = field(default_factory=dict)
    description: str = ""
    keywords: str = ""
    position: int = 0
    is_active: bool = True


def _clean_category(data: CategoryData) -> dict[str, Any]:
    from django.utils.text import slugify

    code = slugify(data.code or "")[:40]
    if not code:
        raise Invalid(_("Give the category a short code of letters, digits and dashes."), field="code")
    if not 1 <= int(data.deadline_days) <= 365:
        raise Invalid(_("Days to answer must be between 1 and 365."), field="deadline_days")
    days: dict[str, int] = {}
    for colour, value in (data.severity_days or {}).items():
        if colour not in Severity.values:
            raise Invalid(_("Unknown colour: %(c)s") % {"c": colour}, field="severity_days")
        if value in (None, ""):
            continue
        if not 1 <= int(value) <= 365:
            raise Invalid(_("Days to answer must be between 1 and 365."), field="severity_days")
        days[colour] = int(value)
    from linli.orders.models import CategoryGroup, DayKind

    if data.group not in CategoryGroup.values:
        raise Invalid(_("Unknown group."), field="group")
    if data.handler not in HandlerKind.values:
        raise Invalid(_("Unknown handler type."), field="handler")
    if data.day_kind not in DayKind.values:
        raise Invalid(_("Unknown kind of days."), field="day_kind")
    return {
        "code": code,
        "name": _text(data.name, field_name="name", max_length=100, required=True),
        "group": data.group,
        "handler": data.handler,
        "deadline_days": int(data.deadline_days),
        "day_kind": data.day_kind,
        "severity_days": days,
        "description": _text(data.description, field_name="description", max_length=300),
        "keywords": _text(data.keywords, field_name="keywords", max_length=200),
        "position": int(data.position),
        "is_active": bool(data.is_active),
    }


@transaction.atomic
def category_save(
    *, actor: Actor, community: Community, data: CategoryData, category: Category | None = None
) -> Category:
    """Create a category, or change one: orders already received keep the deadline they were given."""
    require(actor, "order.catalogue", community)
    values = _clean_category(data)
    clash = Category.objects.filter(community=community, code=values["code"])
    if category is not None:
        if category.community_id != community.pk:
            raise NotFound()
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise Conflict(_("Another category already uses this code."), code="category_code_taken", field="code")
    if category is None:
        category = Category.objects.create(community=community, **values)
        audit(actor=actor, action="order.category_create", obj=category, community_id=community.pk, code=category.code)
    else:
        for key, value in values.items():
            setattr(category, key, value)
        category.save()
        audit(actor=actor, action="order.category_update", obj=category, community_id=community.pk, code=category.code)
    return category


@transaction.atomic
def holiday_set(*, actor: Actor, street: Street, day: date, name: str, is_workday: bool = False) -> Holiday:
    """Mark a public holiday, or a weekend day worked instead (调休), on the street's calendar."""
    require(actor, "order.catalogue", street)
    holiday, _created = Holiday.objects.update_or_create(
        street=street,
        day=day,
        defaults={"name": _text(name, field_name="name", max_length=50, required=True), "is_workday": is_workday},
    )
    audit(actor=actor, action="order.holiday_set", obj=holiday, community_id=None, day=str(day), workday=is_workday)
    return holiday


@transaction.atomic
def holiday_remove(*, actor: Actor, holiday: Holiday) -> None:
    require(actor, "order.catalogue", holiday.street)
    audit(actor=actor, action="order.holiday_remove", obj=holiday, community_id=None, day=str(holiday.day))
    holiday.delete()


def calendar_for(community: Community) -> domain.Calendar:
    rows = Holiday.objects.filter(street_id=community.street_id).values_list("day", "is_workday")
    return domain.Calendar(
        holidays=frozenset(d for d, worked in rows if not worked),
        workdays=frozenset(d for d, worked in rows if worked),
    )


def _due(order: WorkOrder, start: datetime) -> datetime:
    category = order.category
    days = domain.deadline_days(category.deadline_days, category.severity_days, order.severity)
    calendar = calendar_for(order.community) if category.day_kind == "working" else None
    return domain.due_at(start, days, category.day_kind, tz(), calendar)


# --- retried requests -----------------------------------------------------------------------------------------------
# The API's Idempotency-Key for a step on an existing order. Set by `replay_key()` around one service call: the events
# that call writes carry it, and a later call under the same key finds it under the order's lock and raises Replayed
# instead of doing the step (or refusing it) a second time. Unset (pages, Open311, the sweep) nothing changes.
_replay_key: ContextVar[str] = ContextVar("order_replay_key", default="")


class Replayed(Exception):
    """The order's timeline already holds `event`, written under the same key: answer with the order as it is."""

    def __init__(self, order: WorkOrder, event: OrderEvent) -> None:
        super().__init__(order.pk, event.action)
        self.order = order
        self.event = event


@contextmanager
def replay_key(key: str) -> Iterator[None]:
    token = _replay_key.set(key)
    try:
        yield
    finally:
        _replay_key.reset(token)


def _check_replay(order: WorkOrder) -> None:
    """Call with the order locked, so that two tries of the same request take turns and the second sees the first."""
    key = _replay_key.get()
    if key:
        done = OrderEvent.objects.filter(order_id=order.pk, data__key=key).order_by("pk").first()
        if done is not None:
            raise Replayed(order, done)


# --- the timeline ---------------------------------------------------------------------------------------------------
def _event(
    order: WorkOrder,
    *,
    actor: Actor | None,
    action: str,
    from_status: str = "",
    note: str = "",
    public: bool = True,
    **data: Any,
) -> OrderEvent:
    user = actor.user if actor is not None and getattr(actor.user, "pk", None) else None
    data.setdefault("key", _replay_key.get())
    event = OrderEvent.objects.create(
        community_id=order.community_id,
        order=order,
        actor=user,
        action=action,
        from_status=from_status,
        to_status=order.status,
        note=note,
        is_public=public,
        data={k: v for k, v in data.items() if v not in (None, "", [], {})},
    )
    audit(
        actor=actor.user if actor is not None else None,
        action=f"order.{action}",
        obj=order,
        community_id=order.community_id,
        status=order.status,
    )
    return event


def _store_photos(order: WorkOrder, photos: Sequence[Any], *, actor: Actor | None, event: OrderEvent | None) -> None:
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("At most %(n)s photos, please.") % {"n": MAX_PHOTOS}, code="too_many_photos", field="photos")
    for upload in photos:
        data = read_upload(upload)
        jpeg, width, height = reencode(data)
        OrderPhoto.objects.create(
            community_id=order.community_id,
            order=order,
            event=event,
            sha256=hashlib.sha256(data).hexdigest(),
            data=jpeg,
            width=width,
            height=height,
            uploaded_by=actor.user if actor is not None and getattr(actor.user, "pk", None) else None,
        )


def _locked(order: WorkOrder) -> WorkOrder:
    """The order row under lock, fresh: two staff clicking at once take turns, the second sees the first's step."""
    locked = WorkOrder.objects.select_for_update(of=("self",)).select_related("category", "community").get(pk=order.pk)
    _check_replay(locked)
    return locked


def _step(order: WorkOrder, action: str) -> str:
    """Move the (locked) order to the status `action` leads to; returns the status it came from."""
    before = order.status
    order.status = domain.next_status(before, action, held_from=order.held_from)
    return before


# --- intake ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderInput:
    category: str  # the category's code (the Open311 service_code)
    description: str
    title: str = ""
    building_id: int | None = None
    grid_id: int | None = None
    address: str = ""
    lat: Any = None
    long: Any = None
    contact_name: str = ""
    contact_phone: str = ""
    reporter_id: int | None = None  # staff filing for a resident of the community
    external_ref: str = ""
    received_at: datetime | None = None  # imports carry the hotline's own time


def _coordinate(value: Any, *, field_name: str, bound: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise Invalid(_("Not a coordinate."), field=field_name) from None
    if not number.is_finite() or abs(number) > bound:
        raise Invalid(_("Not a coordinate."), field=field_name)
    return number


def _place(community: Community, data: OrderInput) -> tuple[Grid | None, Building | None]:
    building = None
    grid = None
    if data.building_id is not None:
        building = Building.objects.filter(pk=data.building_id, community=community).first()
        if building is None:
            raise PlaceOutside(field="building")
        grid = Grid.objects.get(pk=building.grid_id)
    if data.grid_id is not None:
        chosen = Grid.objects.filter(pk=data.grid_id, community=community).first()
        if chosen is None or (building is not None and building.grid_id != chosen.pk):
            raise PlaceOutside(field="grid")
        grid = chosen
    return grid, building


def _new_number(community: Community, received_at: datetime) -> str:
    year = received_at.astimezone(tz()).year
    return f"{year}-{next_number(OrderCounter, community=community, year=year):04d}"


@dataclass(frozen=True)
class Filed:
    order: WorkOrder
    replayed: bool


@transaction.atomic
def order_create(
    *,
    actor: Actor,
    community: Community,
    data: OrderInput,
    channel: str,
    photos: Sequence[Any] = (),
    request_key: str = "",
    open311_client: Open311Client | None = None,
    intake_note: str = "",
) -> Filed:
    """File a request from any channel. A resident files for themself; staff, grid workers and stewards file what
    came by hotline, walk-in, chat group or patrol; an Open311 client files for a caller known by name and phone.
    `request_key` makes a double-tapped submit (or a retried import row) file once. `intake_note` is kept as an
    internal note beside the request (what a channel sent that has no field of its own, e.g. Open311's media_url)."""
    if channel not in Channel.values:
        raise Invalid(_("Unknown channel."), field="channel")
    category = Category.objects.filter(community=community, code=data.category, is_active=True).first()
    if category is None:
        raise UnknownCategory(field="category")
    grid, building = _place(community, data)
    if open311_client is None:
        require(actor, "order.report", building or community)
        if channel in STAFF_CHANNELS and not _works_here(actor, community):
            raise Invalid(_("Only community workers record requests from that channel."), field="channel")
    elif open311_client.community_id != community.pk:
        raise NotFound()
    reporter = None
    if data.reporter_id is not None:
        reporter = Person.objects.filter(pk=data.reporter_id, community=community).first()
        if reporter is None or not can(actor, "person.view", reporter):
            raise NotFound(_("No such resident in your area."), field="reporter")
    elif channel in (Channel.QR, Channel.APP) and actor.person_id and actor.person_community_id == community.pk:
        reporter = Person.objects.get(pk=actor.person_id)
    if request_key:
        found = WorkOrder.objects.filter(community=community, request_key=request_key).first()
        if found is not None:
            return Filed(found, True)
    if data.external_ref:
        found = WorkOrder.objects.filter(community=community, channel=channel, external_ref=data.external_ref).first()
        if found is not None:
            return Filed(found, True)
    description = _text(data.description, field_name="description", max_length=MAX_TEXT, required=True)
    extra = _text(intake_note, field_name="intake_note", max_length=MAX_TEXT)
    title = _text(data.title, field_name="title", max_length=MAX_TITLE) or description[:40]
    received_at = data.received_at or timezone.now()
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at, tz())  # a spreadsheet's time is the community's local time
    if received_at > timezone.now() + timedelta(minutes=5):
        raise Invalid(_("The time received lies in the future."), field="received_at")
    order = WorkOrder(
        community=community,
        number=_new_number(community, received_at),
        token=secrets.token_hex(16),
        channel=channel,
        external_ref=_text(data.external_ref, field_name="external_ref", max_length=40),
        category=category,
        title=title,
        description=description,
        grid=grid,
        building=building,
        address=_text(data.address, field_name="address", max_length=200),
        lat=_coordinate(data.lat, field_name="lat", bound=90),
        long=_coordinate(data.long, field_name="long", bound=180),
        reporter=reporter,
        contact_name=_text(data.contact_name, field_name="contact_name", max_length=50),
        contact_phone=_text(data.contact_phone, field_name="contact_phone", max_length=20),
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        received_at=received_at,
        request_key=request_key,
    )
    order.due_at = _due(order, received_at)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        # the same key or external number raced in from a concurrent request: return the winner
        found = WorkOrder.objects.filter(community=community, request_key=request_key).first() if request_key else None
        if found is None:
            raise Conflict(_("This request was filed twice at once; please reload.")) from None
        return Filed(found, True)
    event = _event(
        order,
        actor=actor if open311_client is None else None,
        action=Action.RECEIVE,
        channel=channel,
        client=open311_client.name if open311_client else None,
    )
    _store_photos(order, photos, actor=actor, event=event)
    if extra:
        _event(order, actor=None, action=Action.NOTE, from_status=order.status, note=extra, public=False)
    return Filed(order, False)


def _works_here(actor: Actor, community: Community) -> bool:
    ids = {g.community_id for g in actor.grants if g.community_id is not None}
    return community.pk in ids or any(g.level == "street" for g in actor.grants)


# --- who may act on an order ---------------------------------------------------------------------------------------
def is_assignee(actor: Actor, order: WorkOrder) -> bool:
    """Assigned to this login, or to a volunteer team this person leads."""
    if not getattr(actor.user, "pk", None):
        return False
    active = Assignment.objects.filter(order_id=order.pk, active=True)
    if active.filter(user_id=actor.user.pk).exists():
        return True
    return bool(actor.person_id) and active.filter(team__leader_id=actor.person_id).exists()


def may(actor: Actor, action: str, order: WorkOrder) -> bool:
    if can(actor, action, order):
        return True
    return action in {"order.view", "order.handle"} and is_assignee(actor, order)


def _require(actor: Actor, action: str, order: WorkOrder) -> None:
    if may(actor, action, order):
        return
    if may(actor, "order.view", order):
        if action == "order.handle":
            raise NotAssigned()
        if action == "order.rate":
            raise NotReporter()
        # a reader (also one who sees it only because it is assigned to them) may know it exists: 403, not 404
        raise Forbidden()
    raise NotFound()


# --- triage and dispatch --------------------------------------------------------------------------------------------
@transaction.atomic
def order_accept(*, actor: Actor, order: WorkOrder, note: str = "") -> WorkOrder:
    order = _locked(order)
    _require(actor, "order.triage", order)
    before = _step(order, "accept")
    order.accepted_at = timezone.now()
    order.save(update_fields=["status", "accepted_at", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.ACCEPT,
        from_status=before,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
    )
    return order


@transaction.atomic
def order_grade(
    *, actor: Actor, order: WorkOrder, severity: str, factors: dict[str, int] | None = None, note: str = ""
) -> WorkOrder:
    """Staff decide the colour (the factors' suggestion is recorded beside it). A colour with its own number of days
    moves the deadline, counted from when the request was received."""
    order = _locked(order)
    _require(actor, "order.triage", order)
    domain.next_status(order.status, "grade")
    if severity not in Severity.values:
        raise Invalid(_("Choose blue, yellow or red."), field="severity")
    clean: dict[str, int] = {}
    suggested = ""
    if factors:
        try:
            clean = {k: int(factors[k]) for k in domain.FACTORS if k in factors}
            suggested = domain.suggest_severity(clean)
        except (TypeError, ValueError):
            raise Invalid(_("Each factor is 1, 2 or 3."), field="factors") from None
    before_severity = order.severity
    order.severity = severity
    order.factors = {**clean, "suggested": suggested} if clean else {}
    if order.status in domain.OPEN_STATUSES and order.held_at is None:
        order.due_at = _due(order, order.received_at)
    order.save(update_fields=["severity", "factors", "due_at", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.GRADE,
        from_status=order.status,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
        public=False,
        severity=severity,
        before=before_severity,
        suggested=suggested,
    )
    return order


@dataclass(frozen=True)
class AssigneeInput:
    handler: str  # HandlerKind
    user_id: int | None = None
    team_id: int | None = None
    unit_id: int | None = None
    is_lead: bool = False


def _assignee(community: Community, a: AssigneeInput) -> dict[str, Any]:
    """Resolve one handler inside the community: a grid worker or steward by login, a team, or a unit (a property
    company or an external unit such as the power company, kept as partner units)."""
    if a.handler not in HandlerKind.values:
        raise Invalid(_("Unknown handler type."), field="assignees")
    if a.user_id is not None:
        user = User.objects.filter(pk=a.user_id, is_active=True).first()
        from linli.org.access import actor_for

        holder = actor_for(user) if user is not None else None
        if holder is None or not (can(holder, "order.handle", community) or _works_here(holder, community)):
            raise Invalid(_("That person does not work in this community."), code="assignee_outside", field="assignees")
        return {"kind": AssigneeKind.USER, "user": user}
    if a.team_id is not None:
        team = Team.objects.filter(pk=a.team_id, community=community).first()
        if team is None:
            raise Invalid(_("No such team in this community."), code="assignee_outside", field="assignees")
        return {"kind": AssigneeKind.TEAM, "team": team}
    if a.unit_id is not None:
        unit = PartnerUnit.objects.filter(pk=a.unit_id, community=community, is_active=True).first()
        if unit is None:
            raise Invalid(_("No such unit in this community."), code="assignee_outside", field="assignees")
        return {"kind": AssigneeKind.UNIT, "unit": unit}
    raise Invalid(_("Choose who handles it."), code="assignee_required", field="assignees")


@transaction.atomic
def order_dispatch(
    *,
    actor: Actor,
    order: WorkOrder,
    assignees: Sequence[AssigneeInput],
    note: str = "",
    replace: bool = False,
) -> WorkOrder:
    """派单: hand the order to one handler, or several at once (联动处置). On an order already dispatched, `replace`
    re-dispatches (转派: the old handlers are released) and otherwise adds joint handlers."""
    order = _locked(order)
    _require(actor, "order.triage", order)
    if not assignees:
        raise Invalid(_("Choose who handles it."), code="assignee_required", field="assignees")
    resolved = [(a, _assignee(order.community, a)) for a in assignees]
    now = timezone.now()
    before = order.status
    if before in (Status.DISPATCHED, Status.IN_PROGRESS):
        action = Action.REDISPATCH if replace else Action.DISPATCH
        if replace:
            _step(order, "redispatch")
            Assignment.objects.filter(order=order, active=True).update(active=False, ended_at=now)
    else:
        action = Action.DISPATCH
        _step(order, "dispatch")
    current = Assignment.objects.filter(order=order, active=True)
    has_lead = current.filter(is_lead=True).exists()
    names = []
    for index, (a, target) in enumerate(resolved):
        if current.filter(**{k: v for k, v in target.items() if k != "kind"}).exists():
            continue  # already handling it
        lead = a.is_lead or (not has_lead and index == 0)
        Assignment.objects.create(
            community_id=order.community_id,
            order=order,
            handler=a.handler,
            is_lead=lead,
            assigned_at=now,
            assigned_by=actor.user,
            **target,
        )
        has_lead = has_lead or lead
        names.append(str(target.get("user") or target.get("team") or target.get("unit")))
    order.dispatched_at = order.dispatched_at or now
    order.save(update_fields=["status", "dispatched_at", "updated_at"])
    _event(
        order,
        actor=actor,
        action=action,
        from_status=before,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
        to=names,
    )
    return order


@transaction.atomic
def order_escalate(*, actor: Actor | None, order: WorkOrder, reason: str, automatic: bool = False) -> WorkOrder:
    """上报: the order goes to the street office's list. Once is enough: a second escalation only adds a note."""
    order = _locked(order)
    if not automatic:
        assert actor is not None
        _require(actor, "order.escalate", order)
    domain.next_status(order.status, "escalate")
    reason = _reason(reason)
    first = order.escalated_at is None
    if first:
        order.escalated_at = timezone.now()
        order.escalation_reason = reason
        order.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.ESCALATE,
        from_status=order.status,
        note=reason,
        public=False,
        automatic=automatic,
    )
    return order


# --- handling ------------------------------------------------------------------------------------------------------
@transaction.atomic
def order_start(*, actor: Actor, order: WorkOrder, note: str = "") -> WorkOrder:
    order = _locked(order)
    _require(actor, "order.handle", order)
    before = _step(order, "start")
    order.save(update_fields=["status", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.START,
        from_status=before,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
    )
    return order


@transaction.atomic
def order_note(
    *, actor: Actor, order: WorkOrder, note: str, public: bool = False, photos: Sequence[Any] = ()
) -> OrderEvent:
    """A line on the timeline: internal (staff and handlers only) unless marked public."""
    order = _locked(order)
    _require(actor, "order.handle", order)
    domain.next_status(order.status, "note")
    text = _text(note, field_name="note", max_length=MAX_TEXT)
    if not text and not photos:
        raise Invalid(_("Write a note or add a photo."), code="required", field="note")
    event = _event(order, actor=actor, action=Action.NOTE, from_status=order.status, note=text, public=public)
    _store_photos(order, photos, actor=actor, event=event)
    return event


@transaction.atomic
def order_hold(*, actor: Actor, order: WorkOrder, reason: str) -> WorkOrder:
    """Pause the clock (waiting for a part, for the owner to be home…): the time on hold is added to the deadline."""
    order = _locked(order)
    _require(actor, "order.triage", order)
    reason = _reason(reason)
    held_from = order.status
    before = _step(order, "hold")
    order.held_from = held_from
    order.held_at = timezone.now()
    order.save(update_fields=["status", "held_from", "held_at", "updated_at"])
    _event(order, actor=actor, action=Action.HOLD, from_status=before, note=reason)
    return order


@transaction.atomic
def order_resume(*, actor: Actor, order: WorkOrder, note: str = "") -> WorkOrder:
    order = _locked(order)
    _require(actor, "order.triage", order)
    before = _step(order, "resume")
    now = timezone.now()
    paused = now - order.held_at if order.held_at else timedelta(0)
    order.due_at = order.due_at + paused
    order.held_from = ""
    order.held_at = None
    order.save(update_fields=["status", "held_from", "held_at", "due_at", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.RESUME,
        from_status=before,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
        paused_hours=round(paused.total_seconds() / 3600, 1),
    )
    return order


@transaction.atomic
def order_resolve(*, actor: Actor, order: WorkOrder, answer: str, photos: Sequence[Any] = ()) -> WorkOrder:
    """The answer the resident reads (and the echo wall shows): what was done. Stops the clock."""
    order = _locked(order)
    _require(actor, "order.handle", order)
    text = _text(answer, field_name="answer", max_length=MAX_TEXT)
    if not text:
        raise AnswerRequired(field="answer")
    before = _step(order, "resolve")
    now = timezone.now()
    order.answer = text
    order.resolved_at = now
    order.save(update_fields=["status", "answer", "resolved_at", "updated_at"])
    Assignment.objects.filter(order=order, active=True).update(ended_at=now)
    event = _event(order, actor=actor, action=Action.RESOLVE, from_status=before, note=text)
    _store_photos(order, photos, actor=actor, event=event)
    return order


# --- the resident's verdict ---------------------------------------------------------------------------------------
@transaction.atomic
def order_rate(*, actor: Actor, order: WorkOrder, rating: int, comment: str = "") -> WorkOrder:
    """反馈评价: 3-5 closes the order; 1-2 reopens it with a fresh deadline. Staff may record a rating a caller gave
    by phone (回访); it says so on the timeline."""
    order = _locked(order)
    _require(actor, "order.rate", order)
    if order.status == Status.CLOSED:
        raise AlreadyRated()
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise Invalid(_("Choose from 1 to 5 stars."), code="rating_range", field="rating")
    comment = _text(comment, field_name="comment", max_length=500)
    before = order.status
    domain.next_status(before, "rate")
    outcome = domain.rating_outcome(rating)
    now = timezone.now()
    order.rating = rating
    order.feedback = comment
    order.rated_at = now
    on_behalf = actor.person_id is None or actor.person_id != order.reporter_id
    if outcome == Status.CLOSED:
        order.status = Status.CLOSED
        order.closed_at = now
    else:
        _reopen(order, now)
    order.save()
    _event(order, actor=actor, action=Action.RATE, from_status=before, note=comment, rating=rating, by_phone=on_behalf)
    return order


def _reopen(order: WorkOrder, now: datetime) -> None:
    order.status = Status.REOPENED
    order.reopen_count += 1
    order.closed_at = None
    order.due_at = _due(order, now)  # a fresh deadline for the second answer
    Assignment.objects.filter(order=order, active=True).update(active=False)


@transaction.atomic
def order_close(*, actor: Actor, order: WorkOrder, note: str = "") -> WorkOrder:
    """Close a resolved order the resident did not rate (e.g. no answer at the return call)."""
    order = _locked(order)
    _require(actor, "order.triage", order)
    before = _step(order, "close")
    order.closed_at = timezone.now()
    order.save(update_fields=["status", "closed_at", "updated_at"])
    _event(
        order,
        actor=actor,
        action=Action.CLOSE,
        from_status=before,
        note=_text(note, field_name="note", max_length=MAX_TEXT),
    )
    return order


@transaction.atomic
def order_reopen(*, actor: Actor, order: WorkOrder, reason: str) -> WorkOrder:
    order = _locked(order)
    _require(actor, "order.triage", order)
    reason = _reason(reason)
    before = order.status
    domain.next_status(before, "reopen")
    _reopen(order, timezone.now())
    order.save()
    _event(order, actor=actor, action=Action.REOPEN, from_status=before, note=reason)
    return order


@transaction.atomic
def order_merge(*, actor: Actor, order: WorkOrder, into: WorkOrder, note: str = "") -> WorkOrder:
    """A duplicate joins the order it repeats: it stops counting, and its reporter follows the other one."""
    if into.pk == order.pk:
        raise Invalid(_("An order cannot be merged into itself."), code="merge_self", field="into")
    first, second = sorted([order.pk, into.pk])
    locked = {o.pk: o for o in WorkOrder.objects.select_for_update(of=("self",)).filter(pk__in=[first, second])}
    order, into = locked[order.pk], locked[into.pk]
    _check_replay(order)
    _require(actor, "order.triage", order)
    if into.community_id != order.community_id or not may(actor, "order.view", into):
        raise NotFound(field="into")
    if into.status in (Status.MERGED, Status.CANCELLED):
        raise Invalid(_("Merge into an order that is still being handled."), code="merge_target", field="into")
    before = _step(order, "merge")
    order.merged_into = into
    order.save(update_fields=["status", "merged_into", "updated_at"])
    Assignment.objects.filter(order=order, active=True).update(active=False, ended_at=timezone.now())
    _event(order, actor=actor, action=Action.MERGE, from_status=before, note=note, into=into.number)
    _event(
        into,
        actor=actor,
        action=Action.NOTE,
        from_status=into.status,
        note=_("Duplicate %(n)s merged into this order.") % {"n": order.number},
        public=False,
    )
    return order


@transaction.atomic
def order_cancel(*, actor: Actor, order: WorkOrder, reason: str) -> WorkOrder:
    """Withdrawn by the resident who made it, or cancelled by staff (not a request for the community)."""
    order = _locked(order)
    own = actor.person_id is not None and order.reporter_id == actor.person_id
    if not own:
        _require(actor, "order.triage", order)
    reason = _reason(reason)
    before = _step(order, "cancel")
    order.save(update_fields=["status", "updated_at"])
    _event(order, actor=actor, action=Action.CANCEL, from_status=before, note=reason)
    return order


@transaction.atomic
def order_publish(*, actor: Actor, order: WorkOrder, shown: bool, note: str = "") -> WorkOrder:
    """Show a request on the echo wall, or keep it off (a family matter, a name in the text): staff decide."""
    order = _locked(order)
    _require(actor, "order.triage", order)
    domain.next_status(order.status, "publish")
    if order.on_echo_wall != shown:
        order.on_echo_wall = shown
        order.save(update_fields=["on_echo_wall", "updated_at"])
        _event(
            order,
            actor=actor,
            action=Action.PUBLISH,
            from_status=order.status,
            note=_text(note, field_name="note", max_length=MAX_TEXT),
            public=False,
            shown=shown,
        )
    return order


# --- points for who solved it --------------------------------------------------------------------------------------
@transaction.atomic
def order_credit(
    *, actor: Actor, order: WorkOrder, person: Person, rule_id: int, minutes: int | None = None, note: str = ""
) -> Any:
    """A volunteer who solved a request is credited through the earning rules: the claim arrives verified (the
    order's resolution is the witness) and waits for staff approval like any other; once per order and person."""
    from linli.points import selectors as points_selectors
    from linli.points import services as points

    order = _locked(order)
    _require(actor, "order.triage", order)
    domain.next_status(order.status, "credit")
    if person.community_id != order.community_id:
        raise NotFound(field="person")
    rule = points_selectors.rule_for(order.community, rule_id)
    when = (order.resolved_at or timezone.now()).astimezone(tz()).date()
    submitted = points.claim_for_work_order(
        actor=actor,
        person=person,
        rule=rule,
        work_order_id=order.pk,
        occurred_on=when,
        minutes=minutes,
        note=_text(note, field_name="note", max_length=500) or order.title,
    )
    if not submitted.replayed:
        _event(
            order,
            actor=actor,
            action=Action.CREDIT,
            from_status=order.status,
            public=False,
            person=person.name,
            claim=submitted.claim.pk,
        )
    return submitted


# --- the clock's sweep -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Swept:
    escalated: list[str]
    already: int


def orders_sweep(*, now: datetime | None = None, community: Community | None = None) -> Swept:
    """Escalate every overdue order once (pages compute "overdue" at read time; this leaves the trace and puts the
    order on the street office's list). Idempotent: run it as often as you like."""
    now = now or timezone.now()
    overdue = WorkOrder.objects.filter(status__in=domain.OPEN_STATUSES, due_at__lt=now).exclude(status=Status.ON_HOLD)
    if community is not None:
        overdue = overdue.filter(community=community)
    escalated: list[str] = []
    already = 0
    for order in overdue.only("pk", "escalated_at", "number").order_by("due_at", "pk").iterator():
        if order.escalated_at is not None:
            already += 1
            continue
        with transaction.atomic():
            fresh = _locked(order)
            if fresh.escalated_at is not None or not domain.is_overdue(fresh.status, fresh.due_at, now):
                continue
            order_escalate(actor=None, order=fresh, reason=_("Overdue: no answer by the deadline."), automatic=True)
        escalated.append(order.number)
    return Swept(escalated=escalated, already=already)


# --- Open311 clients -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientIssued:
    client: Open311Client
    key: str  # shown once


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def open311_client_issue(*, actor: Actor, community: Community, name: str) -> ClientIssued:
    require(actor, "order.catalogue", community)
    key = "o311_" + secrets.token_urlsafe(24)
    client = Open311Client.objects.create(
        community=community,
        name=_text(name, field_name="name", max_length=100, required=True),
        prefix=key[:12],
        key_hash=_key_hash(key),
        issued_by=actor.user,
    )
    audit(actor=actor, action="order.open311_client_issue", obj=client, community_id=community.pk, name=client.name)
    return ClientIssued(client, key)


@transaction.atomic
def open311_client_revoke(*, actor: Actor, client: Open311Client) -> Open311Client:
    require(actor, "order.catalogue", client.community)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at", "updated_at"])
        audit(actor=actor, action="order.open311_client_revoke", obj=client, community_id=client.community_id)
    return client


def open311_client_for(key: str) -> Open311Client | None:
    """The live client holding `key`, or None."""
    if not key or len(key) > 100:
        return None
    client = Open311Client.objects.filter(key_hash=_key_hash(key), revoked_at__isnull=True).first()
    if client is not None:
        Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


__all__ = [
    "DONE_STATUSES",
    "AssigneeInput",
    "CategoryData",
    "OrderInput",
    "Replayed",
    "order_accept",
    "order_cancel",
    "order_close",
    "order_create",
    "order_credit",
    "order_dispatch",
    "order_escalate",
    "order_grade",
    "order_hold",
    "order_merge",
    "order_note",
    "order_publish",
    "order_rate",
    "order_reopen",
    "order_resolve",
    "order_resume",
    "order_start",
    "orders_sweep",
    "replay_key",
]
