"""Phone pages of the work orders: the resident's request form (opened from a building's QR code), the receipt,
"my requests" with the answer and the rating; the handler's task list and one task with its actions; the building QR
codes; and the public echo wall (回音壁).

Thin views: parse, one service or selector call, render. Permissions are the services' own (`services.may` for one
order); a refusal of a service lands on the form as a translated message, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.views import paginate
from linli.orders import qr, selectors, services
from linli.orders.errors import NotAssigned, PlaceOutside
from linli.orders.forms_resident import NoteForm, RatingForm, RequestForm, ResolveForm, WithdrawForm
from linli.orders.models import Action, Category, CategoryGroup, Channel, OrderEvent, Status, WorkOrder
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require, require_any
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name, mask_phone
from linli.org.models import Building, Community

T = TypeVar("T")

# --- how things read for a resident -----------------------------------------------------------------------------------


def status_words(status: str) -> str:
    """Plain words for where a request stands; no colours, no office jargon."""
    words: dict[str, str] = {
        Status.RECEIVED: _("Received, waiting to be accepted"),
        Status.ACCEPTED: _("Accepted by the community"),
        Status.DISPATCHED: _("Passed to the people who will handle it"),
        Status.IN_PROGRESS: _("Being handled"),
        Status.ON_HOLD: _("Paused for now"),
        Status.RESOLVED: _("Answered: please say if you are satisfied"),
        Status.CLOSED: _("Finished"),
        Status.REOPENED: _("Being handled again"),
        Status.MERGED: _("Joined with the same request of a neighbour"),
        Status.CANCELLED: _("Withdrawn"),
    }
    return str(words.get(status, status))


_LOGIN_PHONE = re.compile(r"\s*[(（][+\d\s-]{5,}[)）]")


def event_words(event: OrderEvent) -> str:
    words: dict[str, str] = {
        Action.RECEIVE: _("Request received"),
        Action.ACCEPT: _("Accepted by the community"),
        Action.GRADE: _("Graded"),
        Action.DISPATCH: _("Passed on to handle"),
        Action.REDISPATCH: _("Passed on to someone else"),
        Action.START: _("Work started"),
        Action.NOTE: _("Note"),
        Action.HOLD: _("Paused"),
        Action.RESUME: _("Resumed"),
        Action.ESCALATE: _("Escalated to the street office"),
        Action.RESOLVE: _("Answered"),
        Action.RATE: _("Rated"),
        Action.CLOSE: _("Closed"),
        Action.REOPEN: _("Reopened"),
        Action.MERGE: _("Joined with another request"),
        Action.CANCEL: _("Withdrawn"),
        Action.CREDIT: _("Points credited"),
    }
    text = str(words.get(event.action, event.action))
    to = event.data.get("to") if isinstance(event.data, dict) else None
    if to and event.action in (Action.DISPATCH, Action.REDISPATCH):
        # a login's name is stored as "name (phone)": the phone is nobody's business on the resident's page
        text += _(": %(who)s") % {"who": "、".join(_LOGIN_PHONE.sub("", str(t)) for t in to)}
    return text


def overdue_words(due: datetime, now: datetime) -> str:
    """Overdue said in words (colour is only a second signal)."""
    days = (timezone.localdate(now) - timezone.localdate(due)).days
    if days <= 0:
        return _("Overdue since today")
    return ngettext("Overdue by %(n)s day", "Overdue by %(n)s days", days) % {"n": days}


# Phone numbers a resident typed into the text: mobiles (with or without +86 and separators), landlines, and any
# other long run of digits (ID numbers). Dates such as 2026-03-05 stay readable.
_PHONES = re.compile(
    r"(?<!\d)(?:\+?86[ -]?)?1\d{2}[ -]?\d{4}[ -]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)|(?<!\d)\d{7,}[\dXx]*(?!\d)"
)


# A room written into the text ("3单元502室", "1单元101", "502室"): the echo wall names the building, never the door.
_ROOMS = re.compile(r"\d+\s*单元\s*\d*\s*(?:室|号)?|\d{2,5}\s*(?:室|号房)")


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """Public text: phone-like numbers and rooms hidden, the given people's names masked (王秀英 -> 王*英)."""
    text = _PHONES.sub("***", text or "")
    text = _ROOMS.sub("***", text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


def _attempt(form: forms.Form, action: Callable[[], T]) -> tuple[T | None, DomainError | None]:
    """Run a service; a refusal about the input becomes an error on the form (403/404 stay error pages)."""
    try:
        return action(), None
    except DomainError as exc:
        if exc.status in {403, 404} and not exc.field:
            raise
        field = "photos" if exc.field == "photo" else exc.field
        form.add_error(field if field in form.fields else None, str(exc.message))
        return None, exc


def _status(form: forms.Form, error: DomainError | None) -> int:
    return error.status if error is not None else 400


# --- filing a request -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    building: Building | None
    error: str  # when the scanned building cannot be used here


def _scanned(request: HttpRequest, actor: Actor) -> Place:
    """The building of the QR code the page was opened from, when the actor may report there."""
    raw = request.GET.get("building", "")
    if not raw:
        return Place(None, "")
    wanted = pages.positive_int(raw)
    building = Building.objects.select_related("community", "compound").filter(pk=wanted).first() if wanted else None
    if building is None or not can(actor, "order.report", building):
        return Place(None, str(PlaceOutside.default_message))
    return Place(building, "")


def _home(request: HttpRequest, actor: Actor) -> Community:
    if actor.person_community_id:
        return Community.objects.get(pk=actor.person_community_id)
    return pages.community_of(request, actor)


def _reportable(actor: Actor, community: Community) -> list[Building]:
    return [b for b in org_selectors.buildings(actor, community=community) if can(actor, "order.report", b)]


def _home_building(actor: Actor, community: Community) -> int | None:
    from linli.org.models import HouseholdMember

    if not actor.person_id:
        return None
    return (
        HouseholdMember.objects.filter(person_id=actor.person_id, household__community=community)
        .values_list("household__building_id", flat=True)
        .first()
    )


def category_groups(community: Community) -> list[tuple[str, list[Category]]]:
    """The service catalogue as the form shows it: big buttons grouped by shelf, in catalogue order."""
    labels = dict(CategoryGroup.choices)
    groups: dict[str, list[Category]] = {}
    for category in selectors.categories(community):
        groups.setdefault(category.group, []).append(category)
    order = list(labels)
    return [(str(labels.get(g, g)), cs) for g, cs in sorted(groups.items(), key=lambda kv: order.index(kv[0]))]


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """The resident's request form. ?building=<id> (the building's QR code) fills in the place and locks it."""
    actor = get_actor(request)
    place = _scanned(request, actor)
    community = place.building.community if place.building is not None else _home(request, actor)
    buildings = [] if place.building is not None else _reportable(actor, community)
    if place.building is None and not buildings and not can(actor, "order.report", community):
        require(actor, "order.report", community)
    locked = place.building is not None
    choices = [(b.pk, str(b)) for b in buildings]
    context: dict[str, Any] = {
        "community": community,
        "place": place,
        "groups": category_groups(community),
    }
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, buildings=choices, locked=locked)
        if form.is_valid():
            key = pages.form_key(request, form.cleaned_data["request_key"])
            filed, error = _attempt(
                form,
                lambda: services.order_create(
                    actor=actor,
                    community=community,
                    data=form.order_input(),
                    channel=Channel.QR if locked else Channel.APP,
                    photos=form.cleaned_data["photos"],
                    request_key=key,
                ),
            )
            if filed is not None:
                if filed.replayed:
                    messages.info(request, _("This request was already sent; it was filed once."))
                return redirect("orders:receipt", pk=filed.order.pk)
            return render(request, "orders/r_new.html", {**context, "form": form}, status=_status(form, error))
        return render(request, "orders/r_new.html", {**context, "form": form}, status=400)
    initial = {"building": place.building.pk if place.building else _home_building(actor, community)}
    form = RequestForm(initial=initial, buildings=choices, locked=locked)
    return render(request, "orders/r_new.html", {**context, "form": form})


@login_required
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """After filing: the number to quote and the date the answer is due."""
    actor = get_actor(request)
    order = selectors.order_get(actor, pk)
    return render(
        request,
        "orders/r_receipt.html",
        {"o": order, "mine": actor.person_id is not None and order.reporter_id == actor.person_id},
    )


# --- my requests ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    page = paginate(request, selectors.my_requests(actor), per_page=20)
    now = timezone.now()
    rows = [
        {
            "o": o,
            "words": status_words(o.status),
            "overdue": overdue_words(o.due_at, now) if o.is_open and o.due_at < now else "",
            "to_rate": o.status == Status.RESOLVED,
        }
        for o in page.object_list
    ]
    return render(request, "orders/r_mine.html", {"page": page, "rows": rows, "qs": "", "resident": actor.person_id})


def _own(actor: Actor, pk: int) -> WorkOrder:
    """One of the actor's own requests (someone else's is not found here: staff use the dispatch board)."""
    order = selectors.order_get(actor, pk)
    if actor.person_id is None or order.reporter_id != actor.person_id:
        raise NotFound()
    return order


def _detail(
    request: HttpRequest,
    actor: Actor,
    order: WorkOrder,
    *,
    rating_form: RatingForm | None = None,
    withdraw_form: WithdrawForm | None = None,
    status: int = 200,
) -> HttpResponse:
    events = [e for e in selectors.timeline(actor, order) if e.is_public]
    public_ids = {e.pk for e in events}
    shown = [p for p in selectors.photos(order) if p.event_id is None or p.event_id in public_ids]
    return render(
        request,
        "orders/r_detail.html",
        {
            "o": order,
            "words": status_words(order.status),
            "events": [(e, event_words(e)) for e in events],
            "photos": shown,
            "may_rate": order.status == Status.RESOLVED and services.may(actor, "order.rate", order),
            "may_withdraw": order.status in (Status.RECEIVED, Status.ACCEPTED),
            "rating_form": rating_form or RatingForm(),
            "withdraw_form": withdraw_form or WithdrawForm(),
            "stars": range(1, 6),
        },
        status=status,
    )


@login_required
@require_GET
def mine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _detail(request, actor, _own(actor, pk))


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    order = _own(actor, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _detail(request, actor, order, rating_form=form, status=400)
    d = form.cleaned_data
    done, error = _attempt(
        form, lambda: services.order_rate(actor=actor, order=order, rating=d["rating"], comment=d["comment"])
    )
    if done is None:
        return _detail(request, actor, order, rating_form=form, status=_status(form, error))
    if done.status == Status.REOPENED:
        messages.warning(request, _("Sorry it is not solved. Your request is reopened and will be handled again."))
    else:
        messages.success(request, _("Thank you for your rating. The request is finished."))
    return redirect("orders:mine_detail", pk=order.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    order = _own(actor, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail(request, actor, order, withdraw_form=form, status=400)
    reason = form.cleaned_data["reason"] or _("Withdrawn by the resident.")
    done, error = _attempt(form, lambda: services.order_cancel(actor=actor, order=order, reason=reason))
    if done is None:
        return _detail(request, actor, order, withdraw_form=form, status=_status(form, error))
    messages.success(request, _("Your request is withdrawn."))
    return redirect("orders:mine_detail", pk=order.pk)


@login_required
@require_GET
def photo(request: HttpRequest, order_pk: int, photo_pk: int) -> HttpResponse:
    """A photo of an order, only to those who may see the order (and its note); never kept by shared caches."""
    actor = get_actor(request)
    found = selectors.photo_get(actor, order_pk, photo_pk)
    response = HttpResponse(bytes(found.data), content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="order-{found.order_id}-{found.pk}.jpg"'
    return response


# --- the handler's tasks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    o: WorkOrder
    overdue: str
    due_soon: bool
    place: str


def _rows(orders: Iterable[WorkOrder], now: datetime) -> list[TaskRow]:
    out = []
    for o in orders:
        late = o.due_at < now
        soon = not late and o.due_at <= now + _SOON
        place = str(o.building) if o.building is not None else (o.address or (o.grid.name if o.grid else ""))
        out.append(TaskRow(o, overdue_words(o.due_at, now) if late else "", soon, place))
    return out


_SOON = selectors.domain.DUE_SOON
TASKS_SHOWN = 100


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    """Assigned to me (or my team), then the open orders in my area nobody has yet; due first."""
    actor = get_actor(request)
    assigned = list(selectors.my_tasks(actor)[:TASKS_SHOWN])
    try:
        require_any(actor, "order.handle")
    except Forbidden:
        if not assigned:
            raise
    unassigned = list(selectors.open_unassigned(actor)[:TASKS_SHOWN])
    now = timezone.now()
    return render(
        request,
        "orders/tasks.html",
        {"assigned": _rows(assigned, now), "unassigned": _rows(unassigned, now), "limit": TASKS_SHOWN},
    )


def _task_order(actor: Actor, pk: int) -> WorkOrder:
    order = selectors.order_get(actor, pk)
    if not services.may(actor, "order.handle", order):
        raise NotAssigned()
    return order


def _contact(actor: Actor, order: WorkOrder) -> tuple[str, str]:
    """Who to call back: the handler needs the number; a resident's own record is the source when there is one."""
    reporter = order.reporter
    name = reporter.name if reporter is not None else order.contact_name
    phone = order.contact_phone or (reporter.phone if reporter is not None else "")
    if (
        reporter is not None
        and not can(actor, "person.view_private", reporter)
        and not services.is_assignee(actor, order)
    ):
        return mask_name(name), mask_phone(phone)
    return name, phone


def _task_context(
    actor: Actor,
    order: WorkOrder,
    *,
    note_form: NoteForm | None = None,
    resolve_form: ResolveForm | None = None,
    flash: str = "",
    failed: bool = False,
) -> dict[str, Any]:
    now = timezone.now()
    name, phone = _contact(actor, order)
    return {
        "o": order,
        "row": _rows([order], now)[0],
        "words": order.get_status_display(),
        "events": [(e, event_words(e)) for e in selectors.timeline(actor, order)],
        "photos": list(selectors.photos(order)),
        "handlers": list(selectors.assignments(order)),
        "contact_name": name,
        "contact_phone": phone,
        "can_start": order.status == Status.DISPATCHED,
        "can_resolve": order.status in (Status.DISPATCHED, Status.IN_PROGRESS),
        "can_note": order.status not in (Status.MERGED,),
        "note_form": note_form or NoteForm(),
        "resolve_form": resolve_form or ResolveForm(),
        "flash": flash,
        "failed": failed,
    }


@login_required
@require_GET
def task(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return render(request, "orders/task.html", _task_context(actor, _task_order(actor, pk)))


def _after(
    request: HttpRequest, actor: Actor, order: WorkOrder, text: str, error: DomainError | None, **forms_: Any
) -> HttpResponse:
    """htmx: the task card, swapped in place. Without JavaScript: back to the task (done), or the task page with the
    error beside the field (refused)."""
    fresh = selectors.order_get(actor, order.pk)
    htmx = bool(getattr(request, "htmx", False))
    failed = error is not None or any(f is not None and f.errors for f in forms_.values())
    if htmx:
        context = _task_context(actor, fresh, flash=text, failed=failed, **(forms_ if failed else {}))
        return render(request, "orders/_r_task_card.html", context)
    if not failed:
        messages.success(request, text)
        return redirect("orders:task", pk=order.pk)
    status = error.status if error is not None else 400
    context = _task_context(actor, fresh, flash=text, failed=True, **forms_)
    return render(request, "orders/task.html", context, status=status)


def _refusal(form: forms.Form) -> str:
    errors = form.non_field_errors()
    return str(errors[0]) if errors else _("Please check the form.")


@login_required
@require_POST
def task_start(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    order = _task_order(actor, pk)
    form = forms.Form(request.POST)
    form.is_valid()  # an empty form: only so that a refusal can be added to it
    done, error = _attempt(form, lambda: services.order_start(actor=actor, order=order))
    if done is None:
        return _after(request, actor, order, _refusal(form), error)
    return _after(request, actor, order, _("Started. The resident sees that the work is under way."), None)


@login_required
@require_POST
def task_note(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    order = _task_order(actor, pk)
    form = NoteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _after(request, actor, order, _("Please check the note."), None, note_form=form)
    d = form.cleaned_data
    done, error = _attempt(
        form,
        lambda: services.order_note(actor=actor, order=order, note=d["note"], public=d["public"], photos=d["photos"]),
    )
    if done is None:
        return _after(request, actor, order, _refusal(form), error, note_form=form)
    text = _("Note added; the resident can read it.") if d["public"] else _("Note added (internal).")
    return _after(request, actor, order, text, None)


@login_required
@require_POST
def task_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    order = _task_order(actor, pk)
    form = ResolveForm(request.POST, request.FILES)
    if not form.is_valid():
        return _after(request, actor, order, _("Please write the answer."), None, resolve_form=form)
    d = form.cleaned_data
    done, error = _attempt(
        form, lambda: services.order_resolve(actor=actor, order=order, answer=d["answer"], photos=d["photos"])
    )
    if done is None:
        return _after(request, actor, order, _refusal(form), error, resolve_form=form)
    return _after(request, actor, order, _("Answered. The resident is asked to rate it."), None)


# --- building QR codes ------------------------------------------------------------------------------------------------


def _require_qr(actor: Actor, community: Community) -> None:
    """Printing the building codes is the office's job (the service catalogue's or the structure's keepers)."""
    if not (can(actor, "order.catalogue", community) or can(actor, "org.manage", community)):
        require(actor, "order.catalogue", community)


@login_required
@require_GET
def building_qr(request: HttpRequest, building_pk: int) -> HttpResponse:
    actor = get_actor(request)
    building = org_selectors.get_visible(actor, Building, building_pk)
    _require_qr(actor, building.community)
    response = HttpResponse(qr.png(qr.intake_url(request, building)), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = f'inline; filename="building-{building.pk}-qr.png"'
    return response


@login_required
@require_GET
def building_qr_sheet(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_qr(actor, community)
    buildings = org_selectors.buildings(actor, community=community).order_by("grid__number", "compound__name", "name")
    sheets = []
    for b in buildings:
        url = qr.intake_url(request, b)
        sheets.append({"b": b, "url": url, "svg": qr.svg(url, _("Report a problem: %(b)s") % {"b": b})})
    return render(request, "orders/qr_sheet.html", {**pages.picker(actor, community), "sheets": sheets})


# --- the echo wall (回音壁), public ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    """One answered request as the public may read it: nothing that identifies a person."""

    category: str
    place: str
    who: str
    text: str
    answer: str
    answered: datetime | None
    rating: int | None


def echo_of(o: WorkOrder) -> Echo:
    names = [o.reporter.name if o.reporter is not None else "", o.contact_name]
    who = mask_name(names[0] or names[1]) or _("a resident")
    return Echo(
        category=o.category.name,
        place=o.building.name if o.building is not None else (o.grid.name if o.grid is not None else ""),
        who=who,
        text=scrub(o.description, names),
        answer=scrub(o.answer, names),
        answered=o.resolved_at,
        rating=o.rating,
    )


@require_GET
def echo_wall(request: HttpRequest, community_code: str) -> HttpResponse:
    community = Community.objects.filter(code=community_code).first()
    if community is None:
        raise NotFound()
    page = paginate(request, selectors.echo_wall(community).select_related("reporter"), per_page=20)
    return render(
        request,
        "orders/echo_wall.html",
        {
            "community": community,
            "page": page,
            "items": [echo_of(o) for o in page.object_list],
            "figures": selectors.community_figures(community),
            "stars": range(1, 6),
            "qs": "",
        },
    )
