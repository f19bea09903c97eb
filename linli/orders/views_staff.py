"""Staff pages of the work orders: the dispatch board, one order with its triage actions, intake of a request that
came by phone, at the desk, in the chat group or on patrol, and the street office's escalations.

Thin views: parse, one service or selector call, render. Who may do what is the services' own (`services.may`);
a refusal of the order's step or of the input lands inline on the form it came from; a refusal of who may act is
the 403/404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import DomainError, Forbidden, Invalid, NotFound
from linli.common.views import attempt, paginate, query_string_without_page
from linli.orders import domain, selectors, services
from linli.orders.forms_staff import (
    AUTO,
    BoardFilterForm,
    CreditForm,
    DispatchForm,
    GradeForm,
    IntakeForm,
    MergeForm,
    NoteForm,
    NoteOnlyForm,
    PublishForm,
    RateForm,
    ReasonForm,
    ResolveForm,
)
from linli.orders.models import DONE_STATUSES, OPEN_STATUSES, Assignment, OrderEvent, Severity, Status, WorkOrder
from linli.orders.selectors_staff import Candidate, dispatch_candidates
from linli.orders.services import AssigneeInput
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import PERMISSIONS, Actor, can, require_any
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name, mask_phone
from linli.org.models import Community, Person

# --- how an order reads ---------------------------------------------------------------------------------------------


def due_words(order: WorkOrder, now: datetime) -> tuple[str, str]:
    """("overdue by 2 days", "overdue") — the deadline in plain words and a CSS state; nothing once answered."""
    if order.status not in OPEN_STATUSES:
        return "", ""
    if domain.is_overdue(order.status, order.due_at, now):
        days = (now - order.due_at).days
        if days < 1:
            return _("overdue since today"), "overdue"
        return ngettext("overdue by %(n)s day", "overdue by %(n)s days", days) % {"n": days}, "overdue"
    if domain.is_due_soon(order.status, order.due_at, now):
        hours = int((order.due_at - now).total_seconds() // 3600)
        if hours < 24:
            return ngettext("due in %(n)s hour", "due in %(n)s hours", hours) % {"n": hours}, "soon"
        days = hours // 24
        return ngettext("due in %(n)s day", "due in %(n)s days", days) % {"n": days}, "soon"
    return "", ""


def place_of(order: WorkOrder) -> str:
    parts = [str(p) for p in (order.grid, order.building) if p is not None]
    if order.address:
        parts.append(order.address)
    return " · ".join(parts)


def handler_names(assignments: list[Assignment]) -> list[str]:
    return [f"{a.assignee}" + (" ★" if a.is_lead else "") for a in assignments]


@dataclass(frozen=True)
class Row:
    order: WorkOrder
    place: str
    handlers: list[str]
    due: str
    due_state: str


def rows_for(orders: Any, now: datetime) -> list[Row]:
    out = []
    for o in orders:
        due, state = due_words(o, now)
        active = [a for a in o.assignments.all() if a.active]  # prefetched by the caller
        out.append(Row(order=o, place=place_of(o), handlers=handler_names(active), due=due, due_state=state))
    return out


def _require_worker(actor: Actor, action: str) -> None:
    """Staff lists are for people with a working role for `action`; a resident's own rights do not count here."""
    require_any(actor, action)
    allowed = PERMISSIONS.get(action, frozenset())
    if not any(g.role in allowed for g in actor.grants):
        raise Forbidden()


def _one_person(actor: Actor, community: Community, text: str, field: str) -> Person:
    """The one resident of `community` a name or full mobile number names; an inline error otherwise."""
    found = list(org_selectors.people(actor, community=community, q=text.strip())[:2])
    if not found:
        raise NotFound(_("No resident of this community matches; check the name or number."), field=field)
    if len(found) > 1:
        raise Invalid(_("Several residents match; type the full mobile number."), code="ambiguous", field=field)
    return found[0]


# --- the board ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_worker(actor, "order.view")
    keys = set(BoardFilterForm.base_fields)
    form = BoardFilterForm(
        request.GET if keys & set(request.GET) else None,
        categories=selectors.categories(community, include_inactive=True),
        grids=org_selectors.grids(actor, community=community),
    )
    qs = selectors.board(actor, community, form.board())
    page = paginate(request, qs)
    counts = selectors.counts_by(selectors.board(actor, community), "status")
    now = timezone.now()
    return render(
        request,
        "orders/s_board.html",
        {
            **pages.picker(actor, community),
            "filter_form": form,
            "filtering": form.is_bound,
            "page": page,
            "rows": rows_for(page.object_list, now),
            "qs": query_string_without_page(request),
            "counts": [(s, label, counts.get(s, 0)) for s, label in Status.choices],
            "open_count": sum(counts.get(s, 0) for s in OPEN_STATUSES),
            "may_intake": any(g.role in PERMISSIONS["order.report"] for g in actor.grants),
        },
    )


# --- one order ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One action of the detail page: the permission the service asks, the step it takes (domain.TRANSITIONS) and
    the form it reads."""

    permission: str
    step: str
    title: str
    button: str
    form: Callable[..., forms.Form]


def _acts() -> dict[str, Act]:
    return {
        "accept": Act("order.triage", "accept", _("Accept"), _("Accept the request"), NoteOnlyForm),
        "grade": Act("order.triage", "grade", _("Colour"), _("Save the colour"), GradeForm),
        "dispatch": Act("order.triage", "dispatch", _("Dispatch"), _("Dispatch"), DispatchForm),
        "start": Act("order.handle", "start", _("Start work"), _("Work has started"), NoteOnlyForm),
        "note": Act("order.handle", "note", _("Add a note"), _("Add the note"), NoteForm),
        "hold": Act("order.triage", "hold", _("Put on hold"), _("Put on hold"), ReasonForm),
        "resume": Act("order.triage", "resume", _("Resume"), _("Resume work"), NoteOnlyForm),
        "escalate": Act("order.escalate", "escalate", _("Escalate to the street"), _("Escalate"), ReasonForm),
        "resolve": Act("order.handle", "resolve", _("Resolve"), _("Send the answer"), ResolveForm),
        "close": Act("order.triage", "close", _("Close without a rating"), _("Close"), NoteOnlyForm),
        "rate": Act("order.rate", "rate", _("Record a phone rating"), _("Record the rating"), RateForm),
        "reopen": Act("order.triage", "reopen", _("Reopen"), _("Reopen"), ReasonForm),
        "merge": Act("order.triage", "merge", _("Merge a duplicate"), _("Merge"), MergeForm),
        "cancel": Act("order.triage", "cancel", _("Cancel"), _("Cancel the request"), ReasonForm),
        "credit": Act("order.triage", "credit", _("Credit a volunteer with points"), _("Credit"), CreditForm),
        "publish": Act("order.triage", "publish", _("Echo wall"), _("Save"), PublishForm),
    }


def _step_allowed(order: WorkOrder, step: str) -> bool:
    allowed_from, _to = domain.TRANSITIONS[step]
    if step == "dispatch":  # a dispatched order takes more handlers, or new ones (转派)
        return order.status in allowed_from or order.status in domain.TRANSITIONS["redispatch"][0]
    return order.status in allowed_from


def _rules(community: Community) -> list[tuple[int, str]]:
    from linli.points import selectors as points_selectors

    rules = points_selectors.rules_in_force(community, day=timezone.localdate())
    return [(r.pk, r.current.name if r.current else str(r.pk)) for r in rules]


def _form_for(name: str, act: Act, order: WorkOrder, actor: Actor, data: Any = None, files: Any = None) -> forms.Form:
    kwargs: dict[str, Any] = {}
    if name == "dispatch":
        kwargs["candidates"] = [(c.value, c.label) for c in dispatch_candidates(actor, order.community)]
    elif name == "credit":
        kwargs["rules"] = _rules(order.community)
    if name == "publish" and data is None:
        kwargs["initial"] = {"shown": order.on_echo_wall}
    if name == "grade" and data is None:
        kwargs["initial"] = {
            "severity": order.severity or order.factors.get("suggested") or None,
            **{k: order.factors.get(k) for k in domain.FACTORS},
        }
    if files is not None:
        return act.form(data, files, **kwargs)
    return act.form(data, **kwargs)


def _reveal(actor: Actor, order: WorkOrder) -> bool:
    """Names and phones in full for those who may read people's private data there, and for whoever handles it."""
    where = order.reporter or order.building or order.grid or order.community
    return can(actor, "person.view_private", where) or services.is_assignee(actor, order)


def _photo_url(order: WorkOrder, photo_pk: int) -> str:
    try:
        return reverse("orders:photo", args=[order.pk, photo_pk])
    except NoReverseMatch:  # the photo view belongs to another part of the app
        return ""


def _detail(
    request: HttpRequest,
    actor: Actor,
    order: WorkOrder,
    *,
    bound: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    acts = _acts()
    shown: list[tuple[str, Act, forms.Form]] = []
    for name, act in acts.items():
        if not _step_allowed(order, act.step) or not services.may(actor, act.permission, order):
            continue
        if name == "rate" and order.reporter_id and order.reporter_id == actor.person_id:
            continue  # a resident rates on their own page
        form = bound[1] if bound and bound[0] == name else _form_for(name, act, order, actor)
        shown.append((name, act, form))
    if bound and bound[0] not in {n for n, _a, _f in shown}:
        shown.append((bound[0], acts[bound[0]], bound[1]))
    handlers = list(selectors.assignments(order))
    reveal = _reveal(actor, order)
    reporter = order.reporter
    name = reporter.name if reporter else order.contact_name
    phone = (reporter.phone if reporter else "") or order.contact_phone
    events = selectors.timeline(actor, order)
    now = timezone.now()
    due, due_state = due_words(order, now)
    factors = [
        (key, order.factors[key], domain.FACTOR_LABELS[key][order.factors[key] - 1])
        for key in domain.FACTORS
        if isinstance(order.factors.get(key), int) and 1 <= order.factors[key] <= 3
    ]
    return render(
        request,
        "orders/s_detail.html",
        {
            "o": order,
            "community": order.community,
            "place": place_of(order),
            "contact_name": name if reveal or not name else mask_name(name),
            "contact_phone": phone if reveal or not phone else mask_phone(phone),
            "due": due,
            "due_state": due_state,
            "factors": factors,
            "suggested": dict(Severity.choices).get(order.factors.get("suggested", ""), ""),
            "handlers": handlers,
            "photos": [(p, _photo_url(order, p.pk)) for p in selectors.photos(order)],
            "events": [(e, _event_words(e)) for e in events],
            "acts": shown,
            "open_form": bound[0] if bound else _next_step(order, [n for n, _a, _f in shown], bool(handlers)),
            "is_done": order.status in DONE_STATUSES,
        },
        status=status,
    )


def _next_step(order: WorkOrder, shown: list[str], has_handlers: bool) -> str:
    """The form the page opens: the step the order waits for (grade before dispatch, dispatch before the answer)."""
    wanted = ["accept", "grade" if not order.severity else "", "dispatch" if not has_handlers else "", "resolve"]
    wanted += ["close", "dispatch"]
    return next((name for name in wanted if name and name in shown), shown[0] if shown else "")


def _event_words(event: OrderEvent) -> str:
    words = event.get_action_display()
    data = event.data or {}
    if event.action in {"dispatch", "redispatch"} and data.get("to"):
        words += " → " + "、".join(str(t) for t in data["to"])
    elif event.action == "grade" and data.get("severity"):
        words += " · " + str(dict(Severity.choices).get(data["severity"], data["severity"]))
    elif event.action == "rate" and data.get("rating"):
        words += " · " + "★" * int(data["rating"]) + (" " + _("(by phone)") if data.get("by_phone") else "")
    elif event.action == "merge" and data.get("into"):
        words += " → " + str(data["into"])
    elif event.action == "credit" and data.get("person"):
        words += " · " + str(data["person"])
    return words


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    _require_worker(actor, "order.view")  # residents follow their requests on their own page
    order = selectors.order_get(actor, pk)
    return _detail(request, actor, order)


def _run(name: str, actor: Actor, order: WorkOrder, form: forms.Form, request: HttpRequest) -> tuple[Any, str]:
    """Call the one service the action stands for; returns its result and the message to show."""
    d = form.cleaned_data
    photos = d.get("photos") or []
    if name == "accept":
        return services.order_accept(actor=actor, order=order, note=d["note"]), _("Accepted.")
    if name == "grade":
        assert isinstance(form, GradeForm)
        done = services.order_grade(
            actor=actor, order=order, severity=d["severity"], factors=form.factors(), note=d["note"]
        )
        return done, _("Colour saved: %(c)s.") % {"c": done.get_severity_display()}
    if name == "dispatch":
        by_value: dict[str, Candidate] = {c.value: c for c in dispatch_candidates(actor, order.community)}
        chosen = [by_value[v] for v in d["assignees"]]
        lead = d["lead"] or chosen[0].value
        assignees = [
            AssigneeInput(
                handler=d["handler"] if d["handler"] and d["handler"] != AUTO else c.handler,
                is_lead=c.value == lead,
                **{f"{c.value.split(':')[0]}_id": int(c.value.split(":")[1])},
            )
            for c in chosen
        ]
        done = services.order_dispatch(
            actor=actor, order=order, assignees=assignees, note=d["note"], replace=d["replace"]
        )
        return done, _("Dispatched.")
    if name == "start":
        return services.order_start(actor=actor, order=order, note=d["note"]), _("Marked as in progress.")
    if name == "note":
        note = services.order_note(actor=actor, order=order, note=d["note"], public=d["public"], photos=photos)
        return note, _("Note added.")
    if name == "hold":
        return services.order_hold(actor=actor, order=order, reason=d["reason"]), _("On hold: the clock is paused.")
    if name == "resume":
        return services.order_resume(actor=actor, order=order, note=d["note"]), _("Resumed.")
    if name == "escalate":
        done = services.order_escalate(actor=actor, order=order, reason=d["reason"])
        return done, _("Escalated: it is on the street office's list.")
    if name == "resolve":
        done = services.order_resolve(actor=actor, order=order, answer=d["answer"], photos=photos)
        return done, _("Resolved. The resident can read the answer and rate it.")
    if name == "close":
        return services.order_close(actor=actor, order=order, note=d["note"]), _("Closed.")
    if name == "rate":
        done = services.order_rate(actor=actor, order=order, rating=d["rating"], comment=d["comment"])
        return done, _("Rating recorded.")
    if name == "reopen":
        return services.order_reopen(actor=actor, order=order, reason=d["reason"]), _("Reopened.")
    if name == "merge":
        try:
            into = selectors.order_by_number(actor, order.community, d["into"].strip())
        except NotFound:
            raise NotFound(_("No order with this number in the community."), field="into") from None
        done = services.order_merge(actor=actor, order=order, into=into, note=d["note"])
        return done, _("Merged into %(n)s.") % {"n": into.number}
    if name == "cancel":
        return services.order_cancel(actor=actor, order=order, reason=d["reason"]), _("Cancelled.")
    if name == "publish":
        done = services.order_publish(actor=actor, order=order, shown=d["shown"], note=d["note"])
        return done, _("Shown on the echo wall.") if done.on_echo_wall else _("Kept off the echo wall.")
    if name == "credit":
        person = _one_person(actor, order.community, d["person"], "person")
        services.order_credit(actor=actor, order=order, person=person, rule_id=d["rule"], minutes=d["minutes"])
        return None, _("Sent for points: staff approve it on the claims page.")
    raise NotFound()


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on one order: POST -> one service call -> back to the order with a message."""
    actor = get_actor(request)
    _require_worker(actor, "order.view")
    order = selectors.order_get(actor, pk)
    acts = _acts()
    if action not in acts:
        raise NotFound()
    spec = acts[action]
    if not services.may(actor, spec.permission, order):
        raise Forbidden()  # the order is visible (order_get), the action is not theirs
    form = _form_for(action, spec, order, actor, request.POST, request.FILES if action in {"note", "resolve"} else None)
    if not form.is_valid():
        return _detail(request, actor, order, bound=(action, form), status=400)
    try:
        _result, text = _run(action, actor, order, form, request)
    except DomainError as exc:
        if exc.status in {403, 404} and exc.field is None:
            raise
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        fresh = selectors.order_get(actor, pk)
        return _detail(request, actor, fresh, bound=(action, form), status=exc.status)
    messages.success(request, text)
    if not services.may(actor, "order.view", WorkOrder.objects.get(pk=order.pk)):
        return redirect("orders:board")
    return redirect("orders:detail", pk=order.pk)


# --- intake -----------------------------------------------------------------------------------------------------------


@login_required
def intake(request: HttpRequest) -> HttpResponse:
    """Hotline, walk-in, chat group or patrol (随手拍): a worker writes the request down, with photos."""
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_worker(actor, "order.report")
    options: dict[str, Any] = {
        "categories": selectors.categories(community),
        "buildings": org_selectors.buildings(actor, community=community).order_by("grid__number", "name"),
        "grids": org_selectors.grids(actor, community=community).order_by("number"),
    }
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, **options)
        if form.is_valid():
            d = form.cleaned_data

            def file() -> services.Filed:
                reporter = _one_person(actor, community, d["reporter"], "reporter") if d["reporter"] else None
                return services.order_create(
                    actor=actor,
                    community=community,
                    data=form.order_input(reporter.pk if reporter else None),
                    channel=d["channel"],
                    photos=d["photos"],
                    request_key=pages.form_key(request, d["idempotency_key"]),
                )

            filed = attempt(form, file)
            if filed is not None:
                number = filed.order.number
                if filed.replayed:
                    messages.info(request, _("Already recorded as %(n)s; nothing was filed twice.") % {"n": number})
                else:
                    messages.success(request, _("Recorded as %(n)s.") % {"n": number})
                if services.may(actor, "order.view", filed.order):
                    return redirect("orders:detail", pk=filed.order.pk)
                return redirect(f"{reverse('orders:intake')}?community={community.pk}")
        status = 400
    else:
        form = IntakeForm(channel=request.GET.get("channel", ""), **options)  # ?channel=patrol from the task list
        status = 200
    return render(request, "orders/s_intake.html", {**pages.picker(actor, community), "form": form}, status=status)


# --- the street office's escalations -------------------------------------------------------------------------------


@login_required
@require_GET
def escalations(request: HttpRequest) -> HttpResponse:
    """Escalated and overdue open orders of every community the actor triages (the street admin: the whole street)."""
    actor = get_actor(request)
    require_any(actor, "order.triage")
    ids = [c.pk for c in org_selectors.communities(actor) if can(actor, "order.triage", c)]
    if not ids:
        raise Forbidden()
    active = Assignment.objects.filter(active=True).select_related("user", "team", "unit")
    qs = selectors.escalated_in(actor, Community.objects.filter(pk__in=ids)).prefetch_related(
        Prefetch("assignments", queryset=active)
    )
    page = paginate(request, qs)
    now = timezone.now()
    return render(
        request,
        "orders/s_escalations.html",
        {"page": page, "rows": rows_for(page.object_list, now), "qs": query_string_without_page(request)},
    )
