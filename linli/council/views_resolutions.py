"""Resolution pages: the board with its filters and Excel export, one resolution with its timeline and actions
(progress, done, chase, public reply, supervisor, due date, drop, reopen), the public echo wall (回音壁), the residents'
evaluation desk (评议台) and the council figures.

Thin views: parse, one service or selector call, render. Who may act is the services' own (`services.may_report`,
`services.may_supervise`); a refusal about the input or the resolution's step lands inline on the form it came from
(400/409), a refusal of who may act is the 403/404 page.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.views import paginate, query_string_without_page
from linli.council import domain, selectors, services
from linli.council.forms_resolutions import (
    BoardFilterForm,
    ChaseForm,
    DoneForm,
    DueForm,
    EvaluateForm,
    FiguresForm,
    ProgressForm,
    ReasonForm,
    ReplyForm,
    SuperviseForm,
)
from linli.council.models import (
    OPEN_RESOLUTION,
    DisputeKind,
    EntryKind,
    Resolution,
    ResolutionEntry,
    ResolutionStatus,
)
from linli.ledger.export import xlsx_cell  # Excel-safe cells: local times, text never read as a formula
from linli.orders.models import Severity
from linli.orders.selectors_staff import dispatch_candidates
from linli.orders.views_resident import scrub  # phones and rooms hidden in public text
from linli.org import pages
from linli.org.access import PERMISSIONS, Actor, can, works_in
from linli.org.context_processors import get_actor
from linli.org.models import Community

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STARS = range(1, 6)


# --- who is looking ---------------------------------------------------------------------------------------------------
def _is_worker(actor: Actor) -> bool:
    """Holds a working role that reads the council (staff, grid, steward, auditor); a resident's own rights do not
    count."""
    allowed = PERMISSIONS["council.view"]
    return any(g.role in allowed for g in actor.grants)


def _require_worker(actor: Actor) -> None:
    if not actor.is_authenticated or not _is_worker(actor):
        raise Forbidden()


def _works_here(actor: Actor, community: Community) -> bool:
    """Works in the community through a role (not merely lives there): sees internal entries and names."""
    return works_in(dataclasses.replace(actor, person_id=None, person_community_id=None), "council.view", community)


def _meeting_url(resolution: Resolution) -> str:
    try:
        return reverse("council:meeting", args=[resolution.item.meeting_id])
    except NoReverseMatch:  # the meeting pages belong to another part of the app
        return ""


# --- how a resolution reads -------------------------------------------------------------------------------------------
def status_words(resolution: Resolution) -> str:
    words: dict[str, str] = {
        ResolutionStatus.OPEN: _("Not started yet"),
        ResolutionStatus.IN_PROGRESS: _("Being carried out"),
        ResolutionStatus.DONE: _("Done"),
        ResolutionStatus.DROPPED: _("Dropped"),
    }
    return str(words.get(resolution.status, resolution.status))


@dataclass(frozen=True)
class Due:
    words: str  # "overdue by 3 days", "due today", "5 days left"; empty once done or dropped
    state: str  # overdue | soon | ok | ""


def due_of(resolution: Resolution, today: date) -> Due:
    if resolution.status not in OPEN_RESOLUTION:
        return Due("", "")
    left = domain.days_left(resolution.due_on, today)
    if domain.is_overdue(resolution.status, resolution.due_on, today):
        n = -left
        return Due(ngettext("Overdue by %(n)s day", "Overdue by %(n)s days", n) % {"n": n}, "overdue")
    if left == 0:
        return Due(_("Due today"), "soon")
    return Due(ngettext("%(n)s day left", "%(n)s days left", left) % {"n": left}, "soon" if left <= 3 else "ok")


def entry_words(entry: ResolutionEntry) -> str:
    words: dict[str, str] = {
        EntryKind.PROGRESS: _("Progress"),
        EntryKind.CHASE: _("Chased by the supervisor"),
        EntryKind.REPLY: _("Reply"),
        EntryKind.DONE: _("Done"),
        EntryKind.REOPEN: _("Reopened"),
        EntryKind.DUE: _("Due date changed"),
        EntryKind.DROP: _("Dropped"),
        EntryKind.SUPERVISOR: _("Supervisor named"),
    }
    text = str(words.get(entry.kind, entry.kind))
    if entry.progress is not None and entry.kind in (EntryKind.PROGRESS, EntryKind.REOPEN):
        text += f" · {entry.progress}%"
    return text


# --- the board --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    r: Resolution
    due: Due


def _board_query(request: HttpRequest, actor: Actor) -> tuple[Community, BoardFilterForm, Any]:
    _require_worker(actor)
    community = pages.community_of(request, actor)
    form = BoardFilterForm(request.GET if set(BoardFilterForm.base_fields) & set(request.GET) else None)
    qs = selectors.resolutions(actor, community, **form.filters())
    return community, form, qs


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community, form, qs = _board_query(request, actor)
    page = paginate(request, qs)
    today = timezone.localdate()
    filters = form.filters()
    return render(
        request,
        "council/rs_board.html",
        {
            **pages.picker(actor, community),
            "filter_form": form,
            "filtering": form.is_bound and not (set(request.GET) <= {"community", "overdue", "page"}),
            "page": page,
            "rows": [Row(r, due_of(r, today)) for r in page.object_list],
            "qs": query_string_without_page(request),
            "export_qs": request.GET.urlencode(),
            "tab": "overdue" if filters["overdue"] else filters["status"] or "all",
            "stars": STARS,
        },
    )


def _cell(sheet: Any, value: Any) -> Any:
    """Dates as Excel dates, averages as numbers; everything else as the ledger export writes it."""
    if isinstance(value, date) and not isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=datetime.combine(value, time()))
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, float):
        return WriteOnlyCell(sheet, value=value)
    return xlsx_cell(sheet, value)


@login_required
@require_GET
def board_export(request: HttpRequest) -> HttpResponse:
    """The filtered board as an .xlsx (台账): exactly the rows the board shows, every page of them."""
    actor = get_actor(request)
    community, _form, qs = _board_query(request, actor)
    today = timezone.localdate()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Resolutions"))
    titles = [
        _("Meeting"),
        _("Meeting date"),
        _("Agenda item"),
        _("Kind of dispute"),
        _("Colour"),
        _("Resolution"),
        _("Carried out by"),
        _("Supervisor"),
        _("Due"),
        _("Status"),
        _("Progress (%)"),
        _("Days overdue"),
        _("Done"),
        _("Rating average"),
        _("Ratings"),
    ]
    widths = {0: 18, 2: 26, 5: 40, 6: 20, 7: 14}
    for index in range(len(titles)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = widths.get(index, 12)
    bold = Font(bold=True)
    header = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    sheet.freeze_panes = "A2"
    for r in qs.iterator(chunk_size=500):
        meeting = r.item.meeting
        late = -domain.days_left(r.due_on, today) if domain.is_overdue(r.status, r.due_on, today) else None
        values: list[Any] = [
            f"{meeting.series.name} {meeting.number}",
            timezone.localdate(meeting.starts_at),
            r.item.title,
            DisputeKind(r.item.kind).label if r.item.kind in DisputeKind.values else r.item.kind,
            Severity(r.item.severity).label if r.item.severity in Severity.values else r.item.severity,
            r.text,
            r.owner,
            r.supervisor.name if r.supervisor else "",
            r.due_on,
            r.get_status_display(),
            r.progress,
            late,
            r.done_at,
            float(r.rating_avg) if r.rating_avg is not None else None,
            r.rating_count,
        ]
        sheet.append([_cell(sheet, v) for v in values])
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    name = f"resolutions-{community.code}-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- one resolution ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Act:
    """One action of the resolution page: its title, button and form; `may` says who, `when` at which step."""

    title: str
    button: str
    form: Callable[..., forms.Form]
    may: Callable[[Actor, Resolution], bool]
    when: tuple[str, ...]


def _may_chase(actor: Actor, resolution: Resolution) -> bool:
    uid = getattr(actor.user, "pk", None)
    return (uid is not None and uid == resolution.supervisor_id) or services.may_supervise(actor, resolution)


OPEN = tuple(OPEN_RESOLUTION)
ANY_STEP = tuple(ResolutionStatus.values)


def _acts() -> dict[str, Act]:
    return {
        "progress": Act(_("Report progress"), _("Save the progress"), ProgressForm, services.may_report, OPEN),
        "done": Act(_("Report it done"), _("It is done"), DoneForm, services.may_report, OPEN),
        "chase": Act(_("Chase"), _("Send the chase"), ChaseForm, _may_chase, OPEN),
        "reply": Act(_("Public reply"), _("Publish the reply"), ReplyForm, services.may_report, ANY_STEP),
        "supervise": Act(_("Name the supervisor"), _("Save"), SuperviseForm, services.may_supervise, OPEN),
        "due": Act(_("Move the due date"), _("Save the date"), DueForm, services.may_supervise, OPEN),
        "drop": Act(_("Drop it"), _("Drop the resolution"), ReasonForm, services.may_supervise, OPEN),
        "reopen": Act(
            _("Reopen"), _("Reopen the resolution"), ReasonForm, services.may_supervise, (ResolutionStatus.DONE,)
        ),
    }


def _candidates(actor: Actor, community: Community) -> list[tuple[int, str]]:
    """People with a login who work in the community (staff, grid, stewards): who may supervise."""
    return [
        (int(c.value.split(":")[1]), c.label)
        for c in dispatch_candidates(actor, community)
        if c.value.startswith("user:")
    ]


def _form(name: str, act: Act, actor: Actor, resolution: Resolution, data: Any = None) -> forms.Form:
    if name == "supervise":
        initial = {"supervisor": resolution.supervisor_id} if data is None else None
        return SuperviseForm(data, candidates=_candidates(actor, resolution.item.meeting.community), initial=initial)
    if name == "due" and data is None:
        return DueForm(initial={"due_on": resolution.due_on})
    return act.form(data)


def _detail(
    request: HttpRequest,
    actor: Actor,
    resolution: Resolution,
    *,
    bound: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    community = resolution.item.meeting.community
    worker = _works_here(actor, community)
    shown: list[tuple[str, Act, forms.Form, str]] = []
    for name, act in _acts().items():
        is_bound = bool(bound and bound[0] == name)
        if not is_bound and (resolution.status not in act.when or not act.may(actor, resolution)):
            continue
        form = bound[1] if bound and bound[0] == name else _form(name, act, actor, resolution)
        shown.append((name, act, form, reverse(f"council:resolution_{name}", args=[resolution.pk])))
    entries = selectors.timeline(actor, resolution, public_only=not worker)
    summary = selectors.evaluations_of(resolution)
    count = summary["count"]
    distribution = [
        (n, summary["stars"].get(n, 0), round(100 * summary["stars"].get(n, 0) / count) if count else 0)
        for n in reversed(STARS)
    ]
    evaluator = bool(actor.person_id) and can(actor, "resolution.evaluate", community)
    return render(
        request,
        "council/rs_detail.html",
        {
            "r": resolution,
            "item": resolution.item,
            "meeting": resolution.item.meeting,
            "meeting_url": _meeting_url(resolution),
            "community": community,
            "worker": worker,
            "status_words": status_words(resolution),
            "due": due_of(resolution, timezone.localdate()),
            "entries": [(e, entry_words(e)) for e in entries],
            "summary": summary,
            "distribution": distribution,
            "acts": shown,
            "open_form": bound[0] if bound else "",
            "may_evaluate": evaluator and resolution.status == ResolutionStatus.DONE,
            "mine": selectors.my_evaluation(actor, resolution) if evaluator else None,
            "stars": STARS,
        },
        status=status,
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _detail(request, actor, selectors.get_resolution(actor, pk))


def _run(name: str, actor: Actor, resolution: Resolution, d: dict[str, Any]) -> str:
    """Call the one service the action stands for; returns the message to show."""
    if name == "progress":
        services.resolution_progress(
            actor=actor, resolution=resolution, progress=d["progress"], text=d["text"], public=d["public"]
        )
        return _("Progress saved: %(p)s%%.") % {"p": d["progress"]}
    if name == "done":
        services.resolution_done(actor=actor, resolution=resolution, text=d["text"])
        return _("Marked as done. Residents can now rate it on the evaluation desk.")
    if name == "chase":
        services.resolution_chase(actor=actor, resolution=resolution, text=d["text"])
        return _("Chase recorded.")
    if name == "reply":
        services.resolution_reply(actor=actor, resolution=resolution, text=d["text"])
        return _("Reply published on the echo wall.")
    if name == "supervise":
        supervisor = get_user_model().objects.filter(pk=d["supervisor"], is_active=True).first()
        if supervisor is None:
            raise NotFound(field="supervisor")
        services.resolution_supervise(actor=actor, resolution=resolution, supervisor=supervisor)
        return _("Supervisor saved.")
    if name == "due":
        services.resolution_set_due(actor=actor, resolution=resolution, due_on=d["due_on"], reason=d["reason"])
        return _("Due date moved.")
    if name == "drop":
        services.resolution_drop(actor=actor, resolution=resolution, reason=d["reason"])
        return _("Resolution dropped.")
    if name == "reopen":
        services.resolution_reopen(actor=actor, resolution=resolution, reason=d["reason"])
        return _("Reopened: back to work.")
    raise NotFound()


def _act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One action: POST -> one service call -> back to the resolution with a message, or the form again with the
    error inline (400 bad input, 409 not at that step)."""
    actor = get_actor(request)
    resolution = selectors.get_resolution(actor, pk)
    act = _acts()[name]
    if not act.may(actor, resolution):
        raise Forbidden()  # the resolution is visible, the action is not theirs
    form = _form(name, act, actor, resolution, request.POST)
    if not form.is_valid():
        return _detail(request, actor, resolution, bound=(name, form), status=400)
    try:
        text = _run(name, actor, resolution, form.cleaned_data)
    except DomainError as exc:
        if exc.status in {403, 404} and exc.field is None:
            raise
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        fresh = selectors.get_resolution(actor, pk)
        return _detail(request, actor, fresh, bound=(name, form), status=exc.status)
    messages.success(request, text)
    return redirect("council:resolution", pk=resolution.pk)


def _action_view(name: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _act(request, pk, name)

    view.__name__ = f"resolution_{name}"
    return view


resolution_progress = _action_view("progress")
resolution_done = _action_view("done")
resolution_chase = _action_view("chase")
resolution_reply = _action_view("reply")
resolution_supervise = _action_view("supervise")
resolution_due = _action_view("due")
resolution_drop = _action_view("drop")
resolution_reopen = _action_view("reopen")


# --- the echo wall (public) -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Echo:
    """One resolution as the public reads it: no supervisor, no actor, no resident; phones and rooms hidden."""

    pk: int
    meeting: str
    held: date
    item: str
    kind: str
    text: str
    owner: str
    due_on: date
    status: str
    state: str
    due: Due
    progress: int
    entries: list[tuple[Any, str, str]]
    rating_avg: float | None
    rating_count: int


def echo_of(r: Resolution, today: date) -> Echo:
    meeting = r.item.meeting
    entries = [
        (e.at, entry_words(e), scrub(e.text))
        for i, e in enumerate(r.entries.all())  # prefetched: public entries only
        if not (i == 0 and e.kind == EntryKind.PROGRESS and e.text == r.text)  # the agreement itself, shown above
    ]
    return Echo(
        pk=r.pk,
        meeting=f"{meeting.series.name} · " + _("session %(n)s") % {"n": meeting.number},
        held=timezone.localdate(meeting.starts_at),
        item=scrub(r.item.title),
        kind=str(DisputeKind(r.item.kind).label) if r.item.kind in DisputeKind.values else "",
        text=scrub(r.text),
        owner=scrub(r.owner),
        due_on=r.due_on,
        status=status_words(r),
        state=r.status,
        due=due_of(r, today),
        progress=r.progress,
        entries=entries,
        rating_avg=round(float(avg), 1) if (avg := getattr(r, "rating_avg", None)) is not None else None,
        rating_count=getattr(r, "rating_count", 0),
    )


@require_GET
def echo_wall(request: HttpRequest, community_code: str) -> HttpResponse:
    community = Community.objects.filter(code=community_code).first()
    if community is None:
        raise NotFound()
    page = paginate(request, selectors.echo_wall(community), per_page=20)
    today = timezone.localdate()
    try:
        orders_wall = reverse("orders:echo_wall", args=[community.code])
    except NoReverseMatch:
        orders_wall = ""
    return render(
        request,
        "council/rs_echo_wall.html",
        {
            "community": community,
            "page": page,
            "items": [echo_of(r, today) for r in page.object_list],
            "orders_wall": orders_wall,
            "stars": STARS,
            "qs": "",
        },
    )


# --- the evaluation desk (评议台) -----------------------------------------------------------------------------------
def _resident_community(actor: Actor) -> Community:
    """The community a signed-in resident lives in, when they may rate there; 403 for everyone else."""
    if not actor.person_id or not actor.person_community_id:
        raise Forbidden()
    community = Community.objects.get(pk=actor.person_community_id)
    if not can(actor, "resolution.evaluate", community):
        raise Forbidden()
    return community


@login_required
@require_GET
def evaluation_desk(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _resident_community(actor)
    waiting, rated = selectors.evaluation_desk(actor, community)
    return render(
        request,
        "council/rs_desk.html",
        {"community": community, "waiting": waiting, "rated": rated, "stars": STARS},
    )


@login_required
@require_http_methods(["GET", "POST"])
def evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    resolution = selectors.get_resolution(actor, pk)  # 404 outside the community
    community = resolution.item.meeting.community
    if not actor.person_id or not can(actor, "resolution.evaluate", community):
        raise Forbidden()
    mine = selectors.my_evaluation(actor, resolution)
    status = 200
    if request.method == "POST":
        form = EvaluateForm(request.POST)
        if form.is_valid():
            try:
                services.evaluation_give(
                    actor=actor,
                    resolution=resolution,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except DomainError as exc:
                if exc.status in {403, 404} and exc.field is None:
                    raise
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("Thank you: your rating is recorded."))
                return redirect("council:evaluation_desk")
        else:
            status = 400
    else:
        form = EvaluateForm(initial={"rating": mine.rating, "comment": mine.comment} if mine else None)
    return render(
        request,
        "council/rs_evaluate.html",
        {
            "r": resolution,
            "item": resolution.item,
            "meeting": resolution.item.meeting,
            "form": form,
            "mine": mine,
            "open": resolution.status == ResolutionStatus.DONE,
            "status_words": status_words(resolution),
            "summary": selectors.evaluations_of(resolution),
            "stars": STARS,
            "star_words": [
                _("1 – poorly"),
                _("2 – not well"),
                _("3 – acceptable"),
                _("4 – well"),
                _("5 – very well"),
            ],
        },
        status=status,
    )


# --- figures ----------------------------------------------------------------------------------------------------------
@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    _require_worker(actor)
    community = pages.community_of(request, actor)
    form = FiguresForm(request.GET if {"start", "end"} & set(request.GET) else None)
    start, end = form.period()
    status = 400 if form.is_bound and not form.is_valid() else 200
    f = selectors.figures(actor, community, start=start, end=end)
    colours = Severity.choices
    table = [
        (
            label,
            [f.grid.get(kind, {}).get(c, 0) for c, _l in colours],
            sum(f.grid.get(kind, {}).values()),
            f.by_kind.get(kind, 0),
        )
        for kind, label in DisputeKind.choices
    ]
    return render(
        request,
        "council/rs_figures.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "start": start,
            "end": end,
            "f": f,
            "colours": colours,
            "table": table,
            "colour_totals": [sum(f.grid.get(k, {}).get(c, 0) for k in DisputeKind.values) for c, _l in colours],
            "colour_solved": [f.by_colour.get(c, 0) for c, _l in colours],
            "on_time": round(100 * f.done_on_time / f.done) if f.done else None,
            "kinds": {k: f.by_kind.get(k, 0) for k in DisputeKind.values},
        },
        status=status,
    )
