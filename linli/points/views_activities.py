"""Activity pages: residents browse, sign up and scan; staff create, repeat, change and cancel; the organiser runs the
console (sign-ups, waiting list, attendance, QR poster, "turn attendance into claims").

Thin views: parse, one service or selector call, render. Permission refusals (403/404) escape to the shared error
page (linli.common.middleware); refusals of the business rules become a message on the page they came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.views import attempt, paginate
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.models import Community, Person
from linli.points import activities as services
from linli.points import selectors_activities as reads
from linli.points.forms_activities import (
    ActivityForm,
    CancelForm,
    MarkForm,
    PersonQueryForm,
    SeriesForm,
    series_summary,
)
from linli.points.models import Activity, ActivityStatus, SignupStatus

T = TypeVar("T")
QR_SCALE = 10


# --- helpers --------------------------------------------------------------------------------------------------------
def _detail(activity: Activity) -> str:
    return reverse("points:activity", args=[activity.pk])


def _console(activity: Activity) -> str:
    return reverse("points:activity_console", args=[activity.pk])


def _try(request: HttpRequest, action: Callable[[], T]) -> T | None:
    """Run a service; a refusal of the rules becomes an error message (403/404 still escape to the error page)."""
    try:
        return action()
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return None


def _own_community(request: HttpRequest, actor: Actor) -> Community:
    """A resident's own community; others choose like on every staff page."""
    if actor.person_community_id and not request.GET.get("community"):
        return Community.objects.get(pk=actor.person_community_id)
    return pages.community_of(request, actor)


def qr_url(request: HttpRequest, activity: Activity, kind: str) -> str:
    path = reverse("points:activity_scan", args=[activity.pk, kind])
    return request.build_absolute_uri(f"{path}?t={services.qr_token(activity, kind)}")


def _qr_svg(text: str, title: str) -> str:
    code = segno.make(text, error="m", micro=False)
    return str(code.svg_inline(scale=QR_SCALE, border=4, omitsize=True, svgclass="qr", light="#fff", title=title))


# --- residents ------------------------------------------------------------------------------------------------------
@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _own_community(request, actor)
    rows = list(reads.upcoming(actor, community)[:100])
    mine = {s.activity_id: s for s in reads.my_signups(actor)}
    return render(
        request,
        "points/activities.html",
        {
            **pages.picker(actor, community),
            "rows": [(a, mine.get(a.pk)) for a in rows],
            "mine": list(mine.values()),
            "organised": list(reads.organised_by(actor)[:20]),
            "can_manage": can(actor, "activity.manage", community),
        },
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    signup = reads.signup_of(activity, actor.person_id)
    now = timezone.now()
    return render(
        request,
        "points/activity.html",
        {
            "a": activity,
            "community": activity.community,
            "signup": signup if signup and signup.status != SignupStatus.CANCELLED else None,
            "position": reads.waiting_position(signup) if signup and signup.status == SignupStatus.WAITING else None,
            "attended": reads.attendance_of(activity, actor.person_id),
            "can_join": (
                actor.person_community_id == activity.community_id
                and activity.status == ActivityStatus.OPEN
                and activity.ends_at > now
            ),
            "places_left": (
                None if activity.capacity is None else max(0, activity.capacity - activity.n_confirmed)  # type: ignore[attr-defined]
            ),
            "can_console": services.may_console(actor, activity),
            "can_manage": can(actor, "activity.manage", activity.community),
        },
    )


def _own_person(actor: Actor, activity: Activity) -> Person:
    if actor.person_id is None:
        raise services.NotAResident()
    if actor.person_community_id != activity.community_id:
        raise NotFound()
    return Person.objects.get(pk=actor.person_id)


@login_required
@require_POST
def activity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    person = _own_person(actor, activity)
    signup = _try(request, lambda: services.signup_create(actor=actor, activity=activity, person=person))
    if signup is not None:
        if signup.status == SignupStatus.CONFIRMED:
            messages.success(request, _("You have a place. See you there!"))
        else:
            messages.warning(request, _("It is full: you are on the waiting list and move up when a place frees."))
    return redirect(_detail(activity))


@login_required
@require_POST
def activity_signup_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    person = _own_person(actor, activity)
    if _try(request, lambda: services.signup_cancel(actor=actor, activity=activity, person=person)) is not None:
        messages.success(request, _("Your sign-up is cancelled."))
    return redirect(_detail(activity))


@login_required
def activity_scan(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The page a phone camera opens from the poster's QR code: one big button to confirm."""
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    if kind not in services.KINDS:
        raise NotFound()
    person = _own_person(actor, activity)
    require(actor, "activity.join", person)
    token = (request.POST.get("t") or request.GET.get("t") or "")[:300]
    context: dict[str, Any] = {"a": activity, "kind": kind, "token": token, "person": person, "done": None}
    try:
        services.qr_check(activity, kind, token)
        if request.method == "POST":
            service = services.attendance_check_in if kind == services.CHECK_IN else services.attendance_check_out
            context["done"] = service(actor=actor, activity=activity, token=token)
    except (Forbidden, NotFound):
        raise
    except DomainError as exc:
        context["error"] = exc
        return render(request, "points/scan.html", context, status=exc.status)
    return render(request, "points/scan.html", context)


# --- staff: the list, one activity, a series -------------------------------------------------------------------------
@login_required
def activity_staff(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    when = request.GET.get("when", "upcoming")
    f = reads.ActivityFilter(
        when=when if when in {"upcoming", "past", "all"} else "upcoming",
        status=request.GET.get("status", "")[:12],
        q=request.GET.get("q", "")[:50].strip(),
    )
    page = paginate(request, reads.staff_list(actor, community, f))
    return render(
        request,
        "points/activity_staff.html",
        {
            **pages.picker(actor, community),
            "page": page,
            "f": f,
            "series": list(reads.series_list(actor, community)[:50]),
            "statuses": ActivityStatus.choices,
        },
    )


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "activity.manage", community)
    form = ActivityForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        made = attempt(form, lambda: services.activity_create(actor=actor, community=community, data=form.data_()))
        if made is not None:
            messages.success(request, _("The activity is published."))
            return redirect(_detail(made))
    return render(request, "points/activity_form.html", {**pages.picker(actor, community), "form": form, "a": None})


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    require(actor, "activity.manage", activity.community)
    day = timezone.localdate(activity.starts_at)
    if request.method == "POST":
        form = ActivityForm(request.POST, community=activity.community, day=day)
        if form.is_valid():
            saved = attempt(form, lambda: services.activity_update(actor=actor, activity=activity, data=form.data_()))
            if saved is not None:
                messages.success(request, _("Saved."))
                return redirect(_detail(saved))
    else:
        form = ActivityForm(initial=ActivityForm.initial_of(activity), community=activity.community, day=day)
    return render(
        request,
        "points/activity_form.html",
        {"community": activity.community, "form": form, "a": activity, "cancel_form": CancelForm()},
    )


@login_required
@require_POST
def activity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_get(actor, pk)
    require(actor, "activity.manage", activity.community)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    if _try(request, lambda: services.activity_cancel(actor=actor, activity=activity, reason=reason)) is not None:
        messages.success(request, _("The activity is cancelled. Everyone who signed up sees it on their page."))
    return redirect(_detail(activity))


@login_required
def activity_series_create(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "activity.manage", community)
    form = SeriesForm(
        request.POST or None,
        community=community,
        initial={"repeat": "monthly_weekday", "first_date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        made = attempt(
            form, lambda: services.activity_series_create(actor=actor, community=community, data=form.data_())
        )
        if made is not None:
            messages.success(
                request, _("%(n)s dates of the next three months are published.") % {"n": len(made.created)}
            )
            return redirect("points:activity_series", pk=made.series.pk)
    return render(request, "points/activity_series_form.html", {**pages.picker(actor, community), "form": form})


@login_required
def activity_series(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    series = reads.series_get(actor, pk)
    return render(
        request,
        "points/activity_series.html",
        {
            "s": series,
            "community": series.community,
            "summary": series_summary(series),
            "items": list(reads.series_items(series)),
        },
    )


@login_required
@require_POST
def activity_series_extend(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    series = reads.series_get(actor, pk)
    done = _try(request, lambda: services.activity_series_extend(series=series, actor=actor))
    if done is not None:
        messages.success(request, _("%(n)s more dates published.") % {"n": len(done.created)})
    return redirect("points:activity_series", pk=series.pk)


@login_required
@require_POST
def activity_series_end(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    series = reads.series_get(actor, pk)
    done = _try(request, lambda: services.activity_series_end(actor=actor, series=series))
    if done is not None:
        messages.success(
            request,
            _("The series has ended: %(c)s empty dates cancelled, %(k)s with sign-ups kept.")
            % {"c": len(done.cancelled), "k": len(done.kept)},
        )
    return redirect("points:activity_series", pk=series.pk)


# --- the organiser's console ----------------------------------------------------------------------------------------
@login_required
def activity_console(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_for_console(actor, pk)
    signups = list(reads.signups(actor, activity))
    attendance = {a.person_id: a for a in reads.attendance(actor, activity)}
    query = PersonQueryForm(request.GET or None)
    found: list[Person] = []
    if query.is_valid() and query.cleaned_data["q"].strip():
        found = list(org_selectors.people(actor, community=activity.community, q=query.cleaned_data["q"].strip())[:20])
    signed_ids = {s.person_id for s in signups}
    walk_ins = [a for pid, a in attendance.items() if pid not in signed_ids]
    return render(
        request,
        "points/activity_console.html",
        {
            "a": activity,
            "community": activity.community,
            "confirmed": [(s, attendance.get(s.person_id)) for s in signups if s.status == SignupStatus.CONFIRMED],
            "waiting": [s for s in signups if s.status == SignupStatus.WAITING],
            "walk_ins": walk_ins,
            "attended": len(attendance),
            "checked_out": sum(1 for a in attendance.values() if a.checked_out_at),
            "query": query,
            "found": found,
            "can_run": services.may_run(actor, activity),
            "is_over": activity.ends_at <= timezone.now(),
            "start": timezone.localtime(activity.starts_at),
            "end": timezone.localtime(activity.ends_at),
        },
    )


@login_required
@require_POST
def activity_mark(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_for_console(actor, pk)
    form = MarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please check the times."))
        return redirect(_console(activity))
    person = reads.markable_person(actor, activity, form.cleaned_data["person"])
    arrived, left = form.times(activity)
    present = form.cleaned_data["present"]
    done = _try(
        request,
        lambda: (
            services.attendance_mark(
                actor=actor,
                activity=activity,
                person=person,
                present=present,
                checked_in_at=arrived,
                checked_out_at=left,
            )
            or True
        ),
    )
    if done is not None:
        if present:
            messages.success(request, _("%(name)s is marked present.") % {"name": person.name})
        else:
            messages.success(request, _("%(name)s is marked absent.") % {"name": person.name})
    return redirect(_console(activity))


@login_required
def activity_poster(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_for_console(actor, pk)
    if not services.may_run(actor, activity):
        raise Forbidden()
    codes = []
    for kind, label in ((services.CHECK_IN, _("Check in")), (services.CHECK_OUT, _("Check out"))):
        url = qr_url(request, activity, kind)
        codes.append({"kind": kind, "label": label, "url": url, "svg": _qr_svg(url, str(label))})
    opens, closes = services.rules_.qr_window(activity.starts_at, activity.ends_at)
    return render(
        request,
        "points/activity_poster.html",
        {"a": activity, "community": activity.community, "codes": codes, "opens": opens, "closes": closes},
    )


@login_required
@require_POST
def activity_new_codes(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_for_console(actor, pk)
    if not services.may_run(actor, activity):
        raise Forbidden()
    if _try(request, lambda: services.activity_new_codes(actor=actor, activity=activity)) is not None:
        messages.success(request, _("New QR codes made: print the poster again; the old codes no longer work."))
    return redirect("points:activity_poster", pk=activity.pk)


@login_required
@require_POST
def activity_close(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    activity = reads.activity_for_console(actor, pk)
    if not services.may_run(actor, activity):
        raise Forbidden()
    result = _try(request, lambda: services.activity_close(actor=actor, activity=activity))
    if result is not None:
        messages.success(
            request,
            _(
                "Attendance turned into claims: %(created)s new, %(approved)s approved and credited, "
                "%(left)s waiting for approval, %(skipped)s skipped."
            )
            % {
                "created": result.created,
                "approved": result.approved,
                "left": len(result.left_verified),
                "skipped": len(result.skipped),
            },
        )
        for skipped in result.skipped:
            messages.warning(request, f"{skipped.person.name}: {skipped.reason}")
        if any(c.person_id == actor.person_id for c in result.left_verified):
            messages.info(request, _("Your own claim waits for another staff member's approval."))
    return redirect(_console(activity))
