"""Meeting pages: the list of a community's meetings and its series, planning a session, the meeting page with its
invitations, attendance, agenda and resolutions, the steps of a meeting (held, minutes, closed, cancelled), the
check-in QR code on the wall and the resident's check-in, and the printable minutes.

Who: everyone who lives or works in the community reads (selectors.may_view); whoever runs the meeting
(selectors.may_run: staff, the grid it is held in) sees and posts the forms; the series are the staff's
(council.manage on the community); residents sign themselves in (meeting.checkin). Thin views: parse, one service or
selector call, render. A refusal of the input or of the meeting's step lands inline on the form it came from, with
the error's status; a refusal of who may act is the 403/404 page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.common.views import paginate
from linli.council import selectors, services
from linli.council.errors import BadCheckinCode
from linli.council.forms_meetings import (
    AgendaForm,
    AttendanceForm,
    CancelForm,
    CloseForm,
    HoldForm,
    InviteForm,
    MeetingForm,
    MinutesForm,
    OrderSearchForm,
    ResolutionForm,
    SeriesForm,
)
from linli.council.models import AgendaItem, Meeting, MeetingStatus, PartyKind
from linli.orders import qr
from linli.orders import selectors as orders_selectors
from linli.orders.models import WorkOrder
from linli.orders.services import may as order_may
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, works_in
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name
from linli.org.models import Community, Person

T = TypeVar("T")
OPEN_STEPS = (MeetingStatus.PLANNED, MeetingStatus.HELD)


# --- small helpers ----------------------------------------------------------------------------------------------------
def _attempt(form: forms.Form, action: Callable[[], T]) -> tuple[T | None, int]:
    """Run a service; a DomainError becomes an error on the form and gives the status the page answers with."""
    try:
        return action(), 200
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return None, exc.status


def _url(name: str, *args: Any) -> str:
    """A page another part of the app builds (the resolution page, a work order): no link until it exists."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _meeting_url(meeting: Meeting, anchor: str = "") -> str:
    return reverse("council:meeting", args=[meeting.pk]) + (f"#{anchor}" if anchor else "")


def _reveals(actor: Actor, community: Community) -> bool:
    """Staff and grid roles see residents' names in full; everyone else masked (张*和)."""
    return works_in(actor, "council.manage", community)


def _require_manage_somewhere(actor: Actor, community: Community) -> None:
    if not works_in(actor, "council.manage", community):
        raise Forbidden() if selectors.may_view(actor, community) else NotFound()


def _runnable(request: HttpRequest, pk: Any) -> tuple[Actor, Meeting]:
    """The meeting, for whoever runs it: 404 for outsiders, 403 for readers."""
    actor = get_actor(request)
    meeting = selectors.get_meeting(actor, pk)
    if not selectors.may_run(actor, meeting):
        raise Forbidden()
    return actor, meeting


def _one_person(actor: Actor, community: Community, text: str) -> Person:
    """The one resident of `community` a name or full mobile number names; an inline error otherwise."""
    found = list(org_selectors.people(actor, community=community, q=text.strip())[:2])
    if not found:
        raise Invalid(_("No resident of this community matches; check the name or number."), field="person")
    if len(found) > 1:
        raise Invalid(_("Several residents match; type the full mobile number."), code="ambiguous", field="person")
    return found[0]


def _open_orders(actor: Actor, community: Community, q: str = "", also: Any = None) -> list[WorkOrder]:
    """The community's open work orders the actor may see (search by number or title), and the one posted."""
    board = orders_selectors.board(actor, community, orders_selectors.Board(status="open", q=q))
    orders = list(board[:100])
    wanted = pages.positive_int(str(also or ""))
    if wanted and wanted not in {o.pk for o in orders}:
        try:
            order = orders_selectors.order_get(actor, wanted)
        except NotFound:
            return orders
        if order.community_id == community.pk:
            orders.append(order)
    return orders


def _series_label(meeting: Meeting) -> str:
    return _("%(series)s No. %(number)s") % {"series": meeting.series.name, "number": meeting.number}


# --- the list and the series ------------------------------------------------------------------------------------------
@login_required
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    all_series = list(selectors.series_of(actor, community))  # 404 for those who may not read the community
    series_id = pages.positive_int(request.GET.get("series"))
    series = next((s for s in all_series if s.pk == series_id), None)
    status = request.GET.get("status", "")
    status = status if status in MeetingStatus.values else ""
    q = request.GET.get("q", "")[:50].strip()
    upcoming: list[Meeting] = []
    if status in ("", MeetingStatus.PLANNED):
        upcoming = list(selectors.meetings(actor, community, series=series, q=q, upcoming=True)[:50])
    rest = (
        selectors.meetings(actor, community, series=series, status=status, q=q)
        .exclude(pk__in=[m.pk for m in upcoming])
        .order_by("-starts_at", "-id")
    )
    page = paginate(request, rest)
    return render(
        request,
        "council/mt_list.html",
        {
            **pages.picker(actor, community),
            "all_series": all_series,
            "series": series,
            "status": status,
            "statuses": MeetingStatus.choices,
            "q": q,
            "upcoming": upcoming,
            "page": page,
            "may_plan": works_in(actor, "council.manage", community),
            "may_series": can(actor, "council.manage", community),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def series(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    if not can(actor, "council.manage", community):
        raise Forbidden() if selectors.may_view(actor, community) else NotFound()
    all_series = list(selectors.series_of(actor, community))
    status = 200
    if request.method == "POST":
        form = SeriesForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            editing = next((s for s in all_series if s.pk == d["series"]), None)
            if d["series"] and editing is None:
                raise NotFound()
            saved, status = _attempt(
                form,
                lambda: services.series_save(
                    actor=actor,
                    community=community,
                    name=d["name"],
                    kind=d["kind"],
                    description=d["description"],
                    numbered_from=d["numbered_from"],
                    is_active=d["is_active"],
                    series=editing,
                ),
            )
            if saved is not None:
                messages.success(request, _("Series “%(name)s” saved.") % {"name": saved.name})
                return redirect(reverse("council:series") + f"?community={community.pk}")
        else:
            status = 400
    else:
        editing = next((s for s in all_series if s.pk == pages.positive_int(request.GET.get("edit"))), None)
        form = SeriesForm(initial=SeriesForm.initial_for(editing) if editing else None)
    return render(
        request,
        "council/mt_series.html",
        {**pages.picker(actor, community), "all_series": all_series, "form": form, "editing": form["series"].value()},
        status=status,
    )


# --- planning and editing a meeting -----------------------------------------------------------------------------------
def _meeting_form(actor: Actor, community: Community, data: Any = None, **kwargs: Any) -> MeetingForm:
    return MeetingForm(
        data,
        series=[s for s in selectors.series_of(actor, community) if s.is_active],
        compounds=org_selectors.compounds(actor, community=community),
        buildings=org_selectors.buildings(actor, community=community),
        grids=org_selectors.grids(actor, community=community),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_manage_somewhere(actor, community)
    status = 200
    if request.method == "POST":
        form = _meeting_form(actor, community, request.POST)
        if form.is_valid():
            chosen = next(s for s in selectors.series_of(actor, community) if s.pk == form.cleaned_data["series"])
            key = form.cleaned_data["idempotency_key"]
            made, status = _attempt(
                form,
                lambda: services.meeting_create(
                    actor=actor,
                    series=chosen,
                    data=form.meeting_data(),
                    idempotency_key=pages.form_key(request, key) if key else "",
                ),
            )
            if made is not None:
                messages.success(request, _("%(label)s is planned.") % {"label": _series_label(made)})
                return redirect(_meeting_url(made))
        else:
            status = 400
    else:
        form = _meeting_form(actor, community)
    return render(
        request,
        "council/mt_form.html",
        {"community": community, "form": form, "meeting": None, "has_series": bool(form.fields["series"].choices)},  # type: ignore[attr-defined]
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, meeting = _runnable(request, pk)
    status = 200
    if request.method == "POST":
        form = _meeting_form(actor, meeting.community, request.POST, new=False)
        if form.is_valid():
            saved, status = _attempt(
                form, lambda: services.meeting_update(actor=actor, meeting=meeting, data=form.meeting_data())
            )
            if saved is not None:
                messages.success(request, _("The meeting is saved."))
                return redirect(_meeting_url(saved))
        else:
            status = 400
    else:
        form = _meeting_form(actor, meeting.community, new=False, initial=MeetingForm.initial_for(meeting))
    return render(
        request,
        "council/mt_form.html",
        {"community": meeting.community, "form": form, "meeting": meeting, "label": _series_label(meeting)},
        status=status,
    )


# --- the meeting page -------------------------------------------------------------------------------------------------
def _resolution_form(item: AgendaItem, workers: list[Any], data: Any = None) -> ResolutionForm:
    return ResolutionForm(data, workers=workers, prefix=f"res{item.pk}")


def _meeting_page(
    request: HttpRequest,
    actor: Actor,
    meeting: Meeting,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    detail = selectors.meeting_detail(actor, meeting)
    community = meeting.community
    reveal = _reveals(actor, community)
    may_run = detail["may_run"]

    def shown(name: str, person_id: int | None, kind: str) -> str:
        return name if reveal or (person_id is None and kind != PartyKind.RESIDENT) else mask_name(name)

    kinds = dict(PartyKind.choices)
    invited: dict[str, list[dict[str, Any]]] = {}
    for inv in detail["invitations"]:
        invited.setdefault(str(kinds.get(inv.kind, inv.kind)), []).append(
            {"pk": inv.pk, "name": shown(inv.name, inv.person_id, inv.kind), "note": inv.note}
        )
    attendance = [
        {"pk": a.pk, "name": shown(a.name, a.person_id, a.kind), "kind": a.get_kind_display(), "via": a.via, "at": a.at}
        for a in detail["attendance"]
    ]
    open_step = meeting.status in OPEN_STEPS
    may_resolve = may_run and meeting.status in (MeetingStatus.HELD, MeetingStatus.CLOSED)
    workers = list(selectors.workers_of(actor, community)) if may_resolve else []
    items = []
    for item in detail["items"]:
        order = item.work_order
        items.append(
            {
                "item": item,
                "order_url": _url("orders:detail", order.pk) if order and order_may(actor, "order.view", order) else "",
                "resolutions": [(r, _url("council:resolution", r.pk)) for r in item.resolutions.all()],
                "form": bound.get(f"res{item.pk}") or (_resolution_form(item, workers) if may_resolve else None),
            }
        )
    context: dict[str, Any] = {
        "m": meeting,
        "community": community,
        "label": _series_label(meeting),
        "invited": list(invited.items()),
        "invited_count": len(detail["invitations"]),
        "attendance": attendance,
        "items": items,
        "votes": detail["votes"],
        "may_run": may_run,
        "may_print": works_in(actor, "council.manage", community),
        "open_step": open_step,
        "open_form": next(iter(bound), ""),
    }
    if may_run and open_step:
        search = OrderSearchForm(request.GET)
        q = search.cleaned_data["order_q"].strip() if search.is_valid() else ""
        context |= {
            "order_search": search,
            "attend_form": bound.get("attend") or AttendanceForm(),
            "agenda_form": bound.get("agenda") or AgendaForm(orders=_open_orders(actor, community, q)),
        }
        if meeting.status == MeetingStatus.PLANNED:
            partners = org_selectors.partners(actor, community=community)
            context |= {
                "invite_form": bound.get("invite") or InviteForm(partners=partners),
                "hold_form": bound.get("hold") or HoldForm(),
                "cancel_form": bound.get("cancel") or CancelForm(),
            }
        else:
            context |= {
                "minutes_form": bound.get("minutes") or MinutesForm(initial={"minutes": meeting.minutes}),
                "close_form": bound.get("close") or CloseForm(initial={"report": meeting.report}),
            }
    return render(request, "council/mt_detail.html", context, status=status)


@login_required
@require_GET
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _meeting_page(request, actor, selectors.get_meeting(actor, pk))


def _done(request: HttpRequest, meeting: Meeting, text: str, anchor: str = "") -> HttpResponse:
    messages.success(request, text)
    return redirect(_meeting_url(meeting, anchor))


def _step(
    request: HttpRequest,
    pk: int,
    name: str,
    form_class: type[forms.Form],
    action: Callable[[Actor, Meeting, dict[str, Any]], Any],
    done: str,
    anchor: str = "",
) -> HttpResponse:
    """One form of the meeting page: valid and accepted → back to the page; otherwise the page with the error."""
    actor, meeting = _runnable(request, pk)
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        _result, status = _attempt(form, lambda: action(actor, meeting, form.cleaned_data))
        if status == 200:
            return _done(request, meeting, done, anchor)
    return _meeting_page(request, actor, meeting, bound={name: form}, status=status)


@login_required
@require_POST
def meeting_invite(request: HttpRequest, pk: int) -> HttpResponse:
    actor, meeting = _runnable(request, pk)
    form = InviteForm(request.POST, partners=org_selectors.partners(actor, community=meeting.community))
    status = 400
    if form.is_valid():
        d = form.cleaned_data

        def invite() -> Any:
            person = _one_person(actor, meeting.community, d["person"]) if d["person"].strip() else None
            return services.meeting_invite(
                actor=actor,
                meeting=meeting,
                kind=PartyKind.RESIDENT if person is not None else d["kind"],
                name=d["name"],
                person=person,
                partner=d["partner"],
                note=d["note"],
            )

        made, status = _attempt(form, invite)
        if made is not None:
            return _done(request, meeting, _("%(name)s is invited.") % {"name": made.name}, "invited")
    return _meeting_page(request, actor, meeting, bound={"invite": form}, status=status)


@login_required
@require_POST
def invitation_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    invitation = selectors.get_invitation(actor, pk)
    return _remove(
        request,
        invitation.meeting,
        lambda: services.invitation_remove(actor=actor, invitation=invitation),
        _("The invitation is removed."),
        "invited",
    )


def _remove(request: HttpRequest, meeting: Meeting, remove: Callable[[], None], done: str, anchor: str) -> HttpResponse:
    """Take one row off a meeting (an invitation, a sign-in): only for those who run it; a refusal is a message."""
    if not selectors.may_run(get_actor(request), meeting):
        raise Forbidden()
    try:
        remove()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(_meeting_url(meeting, anchor))
    return _done(request, meeting, done, anchor)


@login_required
@require_POST
def attendance_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor, meeting = _runnable(request, pk)
    form = AttendanceForm(request.POST)
    status = 400
    if form.is_valid():
        d = form.cleaned_data

        def record() -> Any:
            person = _one_person(actor, meeting.community, d["person"]) if d["person"].strip() else None
            kind = PartyKind.RESIDENT if person is not None else d["kind"] or PartyKind.OTHER
            return services.attendance_record(actor=actor, meeting=meeting, person=person, name=d["name"], kind=kind)

        made, status = _attempt(form, record)
        if made is not None:
            return _done(request, meeting, _("%(name)s is signed in.") % {"name": made.name}, "attendance")
    return _meeting_page(request, actor, meeting, bound={"attend": form}, status=status)


@login_required
@require_POST
def attendance_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    attendance = selectors.get_attendance(actor, pk)
    return _remove(
        request,
        attendance.meeting,
        lambda: services.attendance_remove(actor=actor, attendance=attendance),
        _("The sign-in is removed."),
        "attendance",
    )


@login_required
@require_POST
def agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor, meeting = _runnable(request, pk)
    orders = _open_orders(actor, meeting.community, also=request.POST.get("item-work_order"))
    form = AgendaForm(request.POST, orders=orders)
    status = 400
    if form.is_valid():
        made, status = _attempt(form, lambda: services.agenda_add(actor=actor, meeting=meeting, data=form.item_data()))
        if made is not None:
            return _done(request, meeting, _("“%(title)s” is on the agenda.") % {"title": made.title}, "agenda")
    return _meeting_page(request, actor, meeting, bound={"agenda": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def agenda_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    item = selectors.get_item(actor, pk)
    meeting = item.meeting
    if not selectors.may_run(actor, meeting):
        raise Forbidden()
    status = 200
    if request.method == "POST":
        orders = _open_orders(actor, meeting.community, also=request.POST.get("item-work_order"))
        form = AgendaForm(request.POST, orders=orders)
        if form.is_valid():
            saved, status = _attempt(
                form, lambda: services.agenda_update(actor=actor, item=item, data=form.item_data())
            )
            if saved is not None:
                return _done(request, meeting, _("The agenda item is saved."), "agenda")
        else:
            status = 400
    else:
        orders = _open_orders(actor, meeting.community, also=item.work_order_id)
        if item.work_order is not None and item.work_order.pk not in {o.pk for o in orders}:
            orders.append(item.work_order)  # answered since: it stays choosable for this item
        initial = {
            "work_order": item.work_order_id,
            "title": item.title,
            "description": item.description,
            "kind": item.kind,
            "severity": item.severity,
        }
        form = AgendaForm(orders=orders, initial=initial)
    return render(
        request,
        "council/mt_agenda_form.html",
        {"m": meeting, "item": item, "form": form, "label": _series_label(meeting)},
        status=status,
    )


@login_required
@require_POST
def meeting_hold(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "hold",
        HoldForm,
        lambda actor, m, d: services.meeting_hold(actor=actor, meeting=m, minutes=d["minutes"]),
        _("The meeting is marked as held. Record the resolutions under each item."),
    )


@login_required
@require_POST
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "minutes",
        MinutesForm,
        lambda actor, m, d: services.meeting_minutes(actor=actor, meeting=m, minutes=d["minutes"]),
        _("The minutes are saved."),
        "minutes",
    )


@login_required
@require_POST
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "close",
        CloseForm,
        lambda actor, m, d: services.meeting_close(actor=actor, meeting=m, report=d["report"]),
        _("The meeting is closed. Its resolutions go on being chased."),
    )


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        "cancel",
        CancelForm,
        lambda actor, m, d: services.meeting_cancel(actor=actor, meeting=m, reason=d["reason"]),
        _("The meeting is cancelled."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def resolution_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    item = selectors.get_item(actor, pk)
    meeting = item.meeting
    if not selectors.may_run(actor, meeting):
        raise Forbidden()
    workers = list(selectors.workers_of(actor, meeting.community))
    status = 200
    if request.method == "POST":
        form = _resolution_form(item, workers, request.POST)
        if form.is_valid():
            d = form.cleaned_data
            made, status = _attempt(
                form,
                lambda: services.resolution_create(
                    actor=actor,
                    item=item,
                    text=d["text"],
                    owner=d["owner"],
                    due_on=d["due_on"],
                    owner_user=form.user("owner_user"),
                    supervisor=form.user("supervisor"),
                    on_echo_wall=d["on_echo_wall"],
                ),
            )
            if made is not None:
                return _done(request, meeting, _("The resolution is recorded."), f"item-{item.pk}")
        else:
            status = 400
    else:
        form = _resolution_form(item, workers)
    return render(
        request,
        "council/mt_resolution_form.html",
        {"m": meeting, "item": item, "form": form, "label": _series_label(meeting)},
        status=status,
    )


# --- the QR code on the wall, and the resident's check-in -------------------------------------------------------------
@login_required
@require_GET
def meeting_qr(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, meeting = _runnable(request, pk)
    url = request.build_absolute_uri(reverse("council:checkin", args=[meeting.checkin_code]))
    return render(
        request,
        "council/mt_qr.html",
        {
            "m": meeting,
            "label": _series_label(meeting),
            "url": url,
            "svg": qr.svg(url, _("Check in: %(title)s") % {"title": meeting.title}),
            "opens": meeting.starts_at - services.CHECKIN_OPENS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, code: str) -> HttpResponse:
    actor = get_actor(request)
    try:
        meeting = selectors.meeting_by_code(code[:64])
    except NotFound:
        error = BadCheckinCode()
        return render(request, "council/mt_checkin.html", {"error": error}, status=error.status)
    if not selectors.may_view(actor, meeting.community):
        raise NotFound()
    may_checkin = can(actor, "meeting.checkin", meeting.community) and actor.person_id is not None
    before = selectors.my_attendance(actor, meeting) if may_checkin else None
    context: dict[str, Any] = {
        "m": meeting,
        "label": _series_label(meeting),
        "may_checkin": may_checkin,
        "done": before,
        "already": before is not None,
        "opens": meeting.starts_at - services.CHECKIN_OPENS,
        "not_yet": meeting.status == MeetingStatus.PLANNED
        and timezone.now() < meeting.starts_at - services.CHECKIN_OPENS,
        "over": meeting.status not in OPEN_STEPS,
    }
    if request.method == "POST" and before is None:
        if not may_checkin:
            raise Forbidden()
        try:
            context["done"] = services.meeting_checkin(actor=actor, meeting=meeting, code=code)
        except DomainError as exc:
            context["error"] = exc
            return render(request, "council/mt_checkin.html", context, status=exc.status)
    return render(request, "council/mt_checkin.html", context)


# --- printable minutes and report -------------------------------------------------------------------------------------
@login_required
@require_GET
def meeting_print(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    meeting = selectors.get_meeting(actor, pk)
    if not works_in(actor, "council.manage", meeting.community):
        raise Forbidden()
    detail = selectors.meeting_detail(actor, meeting)
    kinds = dict(PartyKind.choices)
    by_kind = Counter(a.kind for a in detail["attendance"])
    return render(
        request,
        "council/mt_print.html",
        {
            "m": meeting,
            "label": _series_label(meeting),
            "attendance": detail["attendance"],
            "by_kind": [(kinds.get(k, k), n) for k, n in by_kind.most_common()],
            "items": detail["items"],
            "invitations": detail["invitations"],
            "printed_at": timezone.now(),
        },
    )
