"""Work orders over JSON: the service catalogue, the dispatch board, "my requests", "my tasks", one order with its
handlers and timeline, its photos, filing a request, every step of the chain, and the figures.

Every write needs an `Idempotency-Key` header (1..100 printable characters; 400 idempotency_key_required when
missing). Keys are kept apart per user. POST /orders with a key already used returns the first order with 200 instead
of 201 and files nothing (the same key for another category or description is 409 idempotency_key_reused). A step on
an order (accept, dispatch, resolve ...) sent again with the same key answers 200 with the order as it is now, instead
of doing the step twice or refusing it as out of turn; the same key for another step is 409 idempotency_key_reused.
The body of POST /orders, /orders/{id}/note and /orders/{id}/resolve is JSON, or multipart/form-data with the same
fields plus up to six `photos` files (JPEG or PNG; re-encoded, EXIF dropped).

Who (linli.org.access, through linli.orders.services.may): "order.view" reads (staff, grid workers and stewards in
scope, the auditor, the resident who asked, anyone assigned); "order.report" files; "order.triage" accepts, grades,
dispatches, holds, merges, closes, reopens and credits (staff, grid chief); "order.handle" starts, notes and resolves
(staff, grid workers, stewards, and whoever is assigned); "order.rate" is the resident who asked (staff record a
rating given by phone); "order.stats" the figures. Orders outside the caller's scope are 404; readers who may not
take a step get 403. Names, phones and addresses are masked for callers who do not work on the order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pydantic
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import ValidationError

from linli.common.api import Id, IdempotencyKey, PageIn, actor, idempotency_key, paginate, responses
from linli.common.errors import Conflict, Invalid, NotFound
from linli.orders import domain, selectors, services
from linli.orders.models import Assignment, OrderEvent, WorkOrder
from linli.orders.schemas import (
    CategoryOut,
    CommunityIn,
    CreditIn,
    CreditOut,
    DispatchIn,
    GradeIn,
    MergeIn,
    NoteIn,
    NoteOptionalIn,
    OrderDetailOut,
    OrderFilterIn,
    OrderIn,
    OrdersOut,
    PublishIn,
    RateIn,
    ReasonIn,
    ResolveIn,
    StatsIn,
    StatsOut,
)
from linli.orders.services import AssigneeInput, OrderInput
from linli.org import selectors as org_selectors
from linli.org.access import Actor, require_any, scoped
from linli.org.domain import mask_address, mask_name, mask_phone
from linli.org.models import Community, Person

router = Router(tags=["work orders"])

S = TypeVar("S", bound=pydantic.BaseModel)
_idempotency = idempotency_key  # the handlers' `idempotency_key` parameter (the header) shadows the name


def _key_reused() -> Conflict:
    return Conflict(_("This request key was already used for a different request."), code="idempotency_key_reused")


# --- input ----------------------------------------------------------------------------------------------------------


def _body(request: HttpRequest, schema: type[S]) -> tuple[S, list[UploadedFile]]:
    """A JSON body, or a multipart form with the same fields and `photos` files."""
    photos: list[UploadedFile] = []
    if (request.content_type or "").startswith("multipart/form-data"):
        data: Any = {k: v for k, v in request.POST.items() if v != ""}  # an empty form field means "left out"
        photos = [*request.FILES.getlist("photos"), *request.FILES.getlist("photo")]
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Invalid(_("The request body is not valid JSON."), code="invalid_json") from None
        if not isinstance(data, dict):
            raise Invalid(_("The request body must be a JSON object."), code="invalid_input")
    try:
        return schema.model_validate(data), photos
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


def _request_body(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The spec of a body that is JSON, or multipart with photos (ninja describes only one kind by itself)."""
    json_schema = schema.model_json_schema()
    photos = {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "up to 6 photos"}
    form_schema = {**json_schema, "properties": {**json_schema.get("properties", {}), "photos": photos}}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": json_schema}, "multipart/form-data": {"schema": form_schema}},
        }
    }


def _optional_body(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The spec of an optional JSON body (a step whose fields all have defaults may be sent with none)."""
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": schema.model_json_schema()}}}}


# --- output ---------------------------------------------------------------------------------------------------------


class _Reader:
    """What the caller may read in full: the reporter's name, phone and address go to those who work on the order
    (they call the resident back) and to the resident themself; everyone else reads them masked."""

    def __init__(self, act: Actor, orders: Iterable[WorkOrder] = ()) -> None:
        self.act = act
        self.by_place: dict[tuple[int, int | None, int | None], bool] = {}
        ids = [o.pk for o in orders]
        self.assigned: set[int] = set()
        if ids and getattr(act.user, "pk", None):
            self.assigned = set(
                selectors.my_tasks(act, include_done=True).filter(pk__in=ids).values_list("pk", flat=True)
            )

    def full(self, order: WorkOrder) -> bool:
        if self.act.person_id is not None and order.reporter_id == self.act.person_id:
            return True
        if order.pk in self.assigned:
            return True
        # the answer depends only on where the order sits: ask once per place
        place = (order.community_id, order.grid_id, order.building_id)
        if place not in self.by_place:
            self.by_place[place] = services.may(self.act, "order.handle", order) or services.may(
                self.act, "order.triage", order
            )
        return self.by_place[place]


def _out(order: WorkOrder, reader: _Reader, now: Any) -> dict[str, Any]:
    full = reader.full(order)
    reporter_name = order.reporter.name if order.reporter_id and order.reporter else ""
    return {
        "id": order.pk,
        "community_id": order.community_id,
        "number": order.number,
        "channel": order.channel,
        "channel_label": str(order.get_channel_display()),
        "external_ref": order.external_ref,
        "category_id": order.category_id,
        "category_code": order.category.code,
        "category_name": order.category.name,
        "title": order.title,
        "description": order.description,
        "grid_id": order.grid_id,
        "grid_name": order.grid.name if order.grid_id and order.grid else "",
        "building_id": order.building_id,
        "building_name": order.building.name if order.building_id and order.building else "",
        "address": order.address if full or not order.address else mask_address(order.address),
        "lat": order.lat,
        "long": order.long,
        "reporter_id": order.reporter_id,
        "reporter_name": reporter_name if full else mask_name(reporter_name),
        "contact_name": order.contact_name if full else mask_name(order.contact_name),
        "contact_phone": order.contact_phone if full else mask_phone(order.contact_phone),
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "severity": order.severity,
        "factors": order.factors or {},
        "received_at": order.received_at,
        "accepted_at": order.accepted_at,
        "dispatched_at": order.dispatched_at,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "due_at": order.due_at,
        "overdue": domain.is_overdue(order.status, order.due_at, now),
        "due_soon": domain.is_due_soon(order.status, order.due_at, now),
        "escalated_at": order.escalated_at,
        "answer": order.answer,
        "rating": order.rating,
        "feedback": order.feedback,
        "rated_at": order.rated_at,
        "reopen_count": order.reopen_count,
        "merged_into_id": order.merged_into_id,
    }


def _page(act: Actor, qs: Any, page: PageIn) -> dict[str, Any]:
    found = paginate(qs, page)
    reader = _Reader(act, found["items"])
    now = timezone.now()
    return {"count": found["count"], "items": [_out(o, reader, now) for o in found["items"]]}


def _assignment(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "handler": a.handler,
        "handler_label": str(a.get_handler_display()),
        "user_id": a.user_id,
        "team_id": a.team_id,
        "unit_id": a.unit_id,
        "name": str(a.assignee or ""),
        "is_lead": a.is_lead,
        "active": a.active,
        "assigned_at": a.assigned_at,
        "ended_at": a.ended_at,
    }


def _event(e: OrderEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "at": e.at,
        "action": e.action,
        "action_label": str(e.get_action_display()),
        "actor_id": e.actor_id,
        "actor_name": e.actor.name if e.actor_id and e.actor else "",
        "from_status": e.from_status,
        "to_status": e.to_status,
        "note": e.note,
        "is_public": e.is_public,
        # the request key is the client's own business, not part of the story
        "data": {k: v for k, v in (e.data or {}).items() if k != "key"},
        "photo_ids": [p.pk for p in e.photos.all()],
    }


# The steps of the chain, the permission each asks (services.may) and the statuses it may start from.
_STEPS: dict[str, str] = {
    "accept": "order.triage",
    "grade": "order.triage",
    "dispatch": "order.triage",
    "start": "order.handle",
    "note": "order.handle",
    "hold": "order.triage",
    "resume": "order.triage",
    "escalate": "order.escalate",
    "resolve": "order.handle",
    "rate": "order.rate",
    "close": "order.triage",
    "reopen": "order.triage",
    "merge": "order.triage",
    "cancel": "order.triage",
    "credit": "order.triage",
    "publish": "order.triage",
}


def _actions(act: Actor, order: WorkOrder) -> list[str]:
    """What the caller may do next: a hint for clients (the services decide again when the step is sent)."""
    allowed: dict[str, bool] = {}
    found = []
    for step, permission in _STEPS.items():
        starts = set(domain.TRANSITIONS[step][0])
        if step == "dispatch":
            starts |= domain.TRANSITIONS["redispatch"][0]
        if order.status not in starts:
            continue
        if permission not in allowed:
            allowed[permission] = services.may(act, permission, order)
        own = step == "cancel" and act.person_id is not None and order.reporter_id == act.person_id
        if allowed[permission] or own:
            found.append(step)
    return found


def _detail(act: Actor, order_pk: int) -> dict[str, Any]:
    """The order re-read with its handlers, the timeline the caller may read and the photos of that timeline."""
    order = selectors.order_get(act, order_pk)
    events = selectors.timeline(act, order)
    shown = {e.pk for e in events}
    photos = [p for p in selectors.photos(order) if p.event_id is None or p.event_id in shown]
    return {
        **_out(order, _Reader(act, [order]), timezone.now()),
        "assignments": [_assignment(a) for a in selectors.assignments(order)],
        "timeline": [_event(e) for e in events],
        "photos": [
            {
                "id": p.pk,
                "url": f"/api/v1/orders/{order.pk}/photos/{p.pk}",
                "width": p.width,
                "height": p.height,
                "event_id": p.event_id,
                "uploaded_at": p.uploaded_at,
            }
            for p in photos
        ],
        "actions": _actions(act, order),
    }


# --- reading --------------------------------------------------------------------------------------------------------


@router.get(
    "/order-categories",
    response=responses({200: list[CategoryOut]}),
    summary="The service catalogue (服务超市) of a community: what a request can be about",
)
def list_categories(request: HttpRequest, filters: Query[CommunityIn]) -> list[dict[str, Any]]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "description": c.description,
            "group": c.group,
            "group_label": str(c.get_group_display()),
            "handler": c.handler,
            "handler_label": str(c.get_handler_display()),
            "deadline_days": c.deadline_days,
            "day_kind": c.day_kind,
            "severity_days": c.severity_days or {},
            "keywords": c.keywords,
        }
        for c in selectors.categories(community)
    ]


@router.get(
    "/orders",
    response=responses({200: OrdersOut}),
    summary="The dispatch board: orders of a community the caller may read, due first, with the board's filters",
)
def list_orders(request: HttpRequest, filters: Query[OrderFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    require_any(act, "order.view")
    board = selectors.Board(
        status=filters.status or "",
        severity=filters.severity or "",
        category_id=filters.category,
        grid_id=filters.grid,
        channel=filters.channel or "",
        overdue=filters.overdue,
        due_soon=filters.due_soon,
        escalated=filters.escalated,
        unassigned=filters.unassigned,
        q=filters.q.strip(),
        since=filters.since,
        until=filters.until,
    )
    return _page(act, selectors.board(act, community, board), filters)


@router.get("/orders/mine", response=responses({200: OrdersOut}), summary="The requests the caller made, newest first")
def my_requests(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    return _page(act, selectors.my_requests(act), page)


@router.get(
    "/orders/tasks",
    response=responses({200: OrdersOut}),
    summary="The open orders assigned to the caller (or to a team they lead), due first",
)
def my_tasks(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    return _page(act, selectors.my_tasks(act), page)


@router.get(
    "/orders/stats",
    response=responses({200: StatsOut}),
    summary="Figures of the orders in the caller's scope: received, completed, satisfaction, time to close, overdue",
)
def order_stats(request: HttpRequest, filters: Query[StatsIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    require_any(act, "order.stats")
    if filters.since and filters.until and filters.since > filters.until:
        raise Invalid(_("The start date lies after the end date."), code="date_range", field="since")
    qs = scoped(act, "order.stats", WorkOrder.objects.filter(community=community))
    if filters.since:
        qs = qs.filter(received_at__date__gte=filters.since)
    if filters.until:
        qs = qs.filter(received_at__date__lte=filters.until)
    if filters.grid:
        qs = qs.filter(grid_id=filters.grid)
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    figures = selectors.figures(qs)
    return {
        "community_id": community.pk,
        "since": filters.since,
        "until": filters.until,
        **figures.__dict__,
        "by_status": selectors.counts_by(qs, "status"),
        "by_severity": selectors.counts_by(qs, "severity"),
        "by_category": selectors.counts_by(qs, "category__code"),
        "by_channel": selectors.counts_by(qs, "channel"),
    }


@router.get(
    "/orders/{order_id}",
    response=responses({200: OrderDetailOut}),
    summary="One order with its handlers, the timeline the caller may read, its photos and the caller's next steps",
)
def get_order(request: HttpRequest, order_id: Id) -> dict[str, Any]:
    return _detail(actor(request), order_id)


@router.get(
    "/orders/{order_id}/photos/{photo_id}",
    response=responses({200: None}),
    summary="One photo of an order (JPEG)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the photo",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_order_photo(request: HttpRequest, order_id: Id, photo_id: Id) -> HttpResponse:
    act = actor(request)
    photo = selectors.photo_get(act, order_id, photo_id)
    if photo.event_id is not None and photo.event_id not in {e.pk for e in selectors.timeline(act, photo.order)}:
        raise NotFound()  # a photo of an internal note: only for those who read internal notes
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- filing ---------------------------------------------------------------------------------------------------------


@router.post(
    "/orders",
    response=responses({200: OrderDetailOut, 201: OrderDetailOut}),
    summary="File a request (201; 200 when the same request was already filed under this Idempotency-Key)",
    openapi_extra=_request_body(OrderIn),
)
def create_order(request: HttpRequest, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    key = _idempotency(request, idempotency_key)
    data, photos = _body(request, OrderIn)
    community_id = data.community_id or act.person_community_id
    if community_id is None:
        raise Invalid(_("Say which community the request is for."), code="community_required", field="community_id")
    community = org_selectors.get_visible(act, Community, community_id)
    if data.received_at is not None and data.channel in ("qr", "app"):
        # only a worker recording an earlier call or visit backdates a request: the clock starts when it came in
        raise Invalid(
            _("Only requests taken by phone, in person or on patrol may carry an earlier time."),
            code="received_at_not_allowed",
            field="received_at",
        )
    filed = services.order_create(
        actor=act,
        community=community,
        data=OrderInput(
            category=data.category,
            description=data.description,
            title=data.title,
            building_id=data.building_id,
            grid_id=data.grid_id,
            address=data.address,
            lat=data.lat,
            long=data.long,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            reporter_id=data.reporter_id,
            external_ref=data.external_ref,
            received_at=data.received_at,
        ),
        channel=data.channel,
        photos=photos,
        request_key=key,
    )
    order = filed.order
    same = order.category.code == data.category and order.description == data.description.strip()
    if filed.replayed and order.request_key == key and not same:
        raise _key_reused()
    return Status(200 if filed.replayed else 201, _detail(act, order.pk))


# --- the steps ------------------------------------------------------------------------------------------------------


def _step(
    request: HttpRequest,
    order_id: int,
    header: str | None,
    actions: set[str],
    call: Callable[[Actor, WorkOrder], object],
) -> dict[str, Any]:
    """Run one step under the request's key; a retry of the same request answers with the order as it is now."""
    act = actor(request)
    key = _idempotency(request, header)
    order = selectors.order_get(act, order_id)
    try:
        with services.replay_key(key):
            call(act, order)
    except services.Replayed as done:
        if done.event.action not in actions:
            raise _key_reused() from None
    return _detail(act, order.pk)


def _step_route(name: str, summary: str, **extra: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return router.post(
        f"/orders/{{order_id}}/{name}", response=responses({200: OrderDetailOut}), summary=summary, **extra
    )


@_step_route(
    "accept", "Accept a received request (受理): staff or the grid chief", openapi_extra=_optional_body(NoteOptionalIn)
)
def accept_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    payload = _body(request, NoteOptionalIn)[0]
    return _step(
        request,
        order_id,
        idempotency_key,
        {"accept"},
        lambda act, order: services.order_accept(actor=act, order=order, note=payload.note),
    )


@_step_route("grade", "Set the colour (blue, yellow, red); the factors' suggestion is recorded beside it")
def grade_order(
    request: HttpRequest, order_id: Id, payload: GradeIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    factors = payload.factors.model_dump(exclude_none=True) if payload.factors else None
    return _step(
        request,
        order_id,
        idempotency_key,
        {"grade"},
        lambda act, order: services.order_grade(
            actor=act, order=order, severity=payload.severity, factors=factors, note=payload.note
        ),
    )


@_step_route("dispatch", "Dispatch (派单) to one handler or several at once (联动处置); replace re-dispatches (转派)")
def dispatch_order(
    request: HttpRequest, order_id: Id, payload: DispatchIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    assignees = [
        AssigneeInput(handler=a.handler, user_id=a.user_id, team_id=a.team_id, unit_id=a.unit_id, is_lead=a.is_lead)
        for a in payload.assignees
    ]
    return _step(
        request,
        order_id,
        idempotency_key,
        {"dispatch", "redispatch"},
        lambda act, order: services.order_dispatch(
            actor=act, order=order, assignees=assignees, note=payload.note, replace=payload.replace
        ),
    )


@_step_route("start", "Start work on a dispatched order (a handler)", openapi_extra=_optional_body(NoteOptionalIn))
def start_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    payload = _body(request, NoteOptionalIn)[0]
    return _step(
        request,
        order_id,
        idempotency_key,
        {"start"},
        lambda act, order: services.order_start(actor=act, order=order, note=payload.note),
    )


@_step_route("note", "Add a note (internal unless public) with optional photos", openapi_extra=_request_body(NoteIn))
def note_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    data, photos = _body(request, NoteIn)
    return _step(
        request,
        order_id,
        idempotency_key,
        {"note"},
        lambda act, order: services.order_note(
            actor=act, order=order, note=data.note, public=data.public, photos=photos
        ),
    )


@_step_route("publish", "Show the request on the public echo wall, or keep it off")
def publish_order(
    request: HttpRequest, order_id: Id, payload: PublishIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"publish"},
        lambda act, order: services.order_publish(actor=act, order=order, shown=payload.shown, note=payload.note),
    )


@_step_route("hold", "Put on hold with a reason: the clock pauses")
def hold_order(
    request: HttpRequest, order_id: Id, payload: ReasonIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"hold"},
        lambda act, order: services.order_hold(actor=act, order=order, reason=payload.reason),
    )


@_step_route(
    "resume",
    "Resume an order on hold: the time on hold is added to the deadline",
    openapi_extra=_optional_body(NoteOptionalIn),
)
def resume_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    payload = _body(request, NoteOptionalIn)[0]
    return _step(
        request,
        order_id,
        idempotency_key,
        {"resume"},
        lambda act, order: services.order_resume(actor=act, order=order, note=payload.note),
    )


@_step_route("escalate", "Escalate to the street office (上报) with a reason")
def escalate_order(
    request: HttpRequest, order_id: Id, payload: ReasonIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"escalate"},
        lambda act, order: services.order_escalate(actor=act, order=order, reason=payload.reason),
    )


@_step_route(
    "resolve", "Resolve: the answer the resident reads, with optional photos", openapi_extra=_request_body(ResolveIn)
)
def resolve_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    data, photos = _body(request, ResolveIn)
    return _step(
        request,
        order_id,
        idempotency_key,
        {"resolve"},
        lambda act, order: services.order_resolve(actor=act, order=order, answer=data.answer, photos=photos),
    )


@_step_route("rate", "Rate the answer 1-5 (the resident; staff record a rating given by phone): 1-2 reopens")
def rate_order(
    request: HttpRequest, order_id: Id, payload: RateIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"rate"},
        lambda act, order: services.order_rate(actor=act, order=order, rating=payload.rating, comment=payload.comment),
    )


@_step_route("close", "Close a resolved order the resident did not rate", openapi_extra=_optional_body(NoteOptionalIn))
def close_order(request: HttpRequest, order_id: Id, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    payload = _body(request, NoteOptionalIn)[0]
    return _step(
        request,
        order_id,
        idempotency_key,
        {"close"},
        lambda act, order: services.order_close(actor=act, order=order, note=payload.note),
    )


@_step_route("reopen", "Reopen a resolved or closed order with a reason: a fresh deadline")
def reopen_order(
    request: HttpRequest, order_id: Id, payload: ReasonIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"reopen"},
        lambda act, order: services.order_reopen(actor=act, order=order, reason=payload.reason),
    )


@_step_route("merge", "Merge a duplicate into the order it repeats")
def merge_order(
    request: HttpRequest, order_id: Id, payload: MergeIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    def merge(act: Actor, order: WorkOrder) -> object:
        into = selectors.order_get(act, payload.into)
        return services.order_merge(actor=act, order=order, into=into, note=payload.note)

    return _step(request, order_id, idempotency_key, {"merge"}, merge)


@_step_route("cancel", "Cancel: the resident withdraws their own request, or staff cancel one with a reason")
def cancel_order(
    request: HttpRequest, order_id: Id, payload: ReasonIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    return _step(
        request,
        order_id,
        idempotency_key,
        {"cancel"},
        lambda act, order: services.order_cancel(actor=act, order=order, reason=payload.reason),
    )


@router.post(
    "/orders/{order_id}/credit",
    response=responses({200: CreditOut}),
    summary="Credit the volunteer who solved it through an earning rule (a verified claim waiting for approval)",
)
def credit_order(
    request: HttpRequest, order_id: Id, payload: CreditIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    from linli.points import selectors as points_selectors

    act = actor(request)
    key = _idempotency(request, idempotency_key)
    order = selectors.order_get(act, order_id)
    person = Person.objects.filter(pk=payload.person_id).first()
    if person is None:
        raise NotFound(field="person_id")
    try:
        with services.replay_key(key):
            submitted = services.order_credit(
                actor=act,
                order=order,
                person=person,
                rule_id=payload.rule_id,
                minutes=payload.minutes,
                note=payload.note,
            )
        claim, replayed = submitted.claim, submitted.replayed
    except services.Replayed as done:
        claim_id = done.event.data.get("claim")
        if done.event.action != "credit" or claim_id is None:
            raise _key_reused() from None
        claim, replayed = points_selectors.claim_get(act, claim_id), True
    return {
        "order_id": order.pk,
        "claim_id": claim.pk,
        "claim_status": claim.status,
        "points": claim.points,
        "replayed": replayed,
    }
