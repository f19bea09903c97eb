"""Owners' votes (业主共同决定, Civil Code art. 278): the staff list and form, the vote page (roll check, live tally and
paper ballots, the frozen result), the public notice (HTML and PDF), and the owner's ballot on the phone.

Thin views: parse, one service or selector call, render. The numbers are the Tally's (`domain.tally`, frozen in
`vote.result` at close): nothing here counts or divides, it only lays out what the tally says. A refusal of a service
(roll incomplete, too early to close, a ballot already counted) is shown on the page in plain words with its status.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.council import notice, selectors, services
from linli.council.errors import RollIncomplete, VoteStatusRefused
from linli.council.forms_votes import CHANNELS, BallotRecordForm, CastForm, ReasonForm, VoteForm
from linli.council.models import AgendaItem, Ballot, Choice, Matter, OwnersVote, VoteStatus
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import PERMISSIONS, Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.models import Community

LIST_SHOWN = 200


# --- how the tally reads --------------------------------------------------------------------------------------------
def _percent(fraction: str) -> str:
    """A bound such as "2/3" as a percentage with two places, to place its mark on a bar."""
    f = Fraction(fraction)
    return f"{Decimal(f.numerator) * 100 / Decimal(f.denominator):.2f}"


def thresholds(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The four tests of art. 278 ¶2 as rows: what share was reached, against which bound, met or not."""
    bound = result["threshold"]
    quorum = {"text": f"≥ {bound['quorum']}", "percent": _percent(bound["quorum"])}
    majority = {
        "text": f"{'>' if bound['strict'] else '≥'} {bound['majority']}",
        "percent": _percent(bound["majority"]),
    }
    m2 = _("m²")
    return [
        {
            "key": "quorum_area",
            "label": _("Taking part: share of all exclusive area"),
            "reached": f"{result['part_area']['m2']} / {result['total_area']['m2']} {m2}",
            "share": result["part_area_share"],
            "bound": quorum,
            "met": result["quorum_area"],
        },
        {
            "key": "quorum_owners",
            "label": _("Taking part: share of all owners"),
            "reached": f"{result['part_owners']} / {result['total_owners']}",
            "share": result["part_owners_share"],
            "bound": quorum,
            "met": result["quorum_owners"],
        },
        {
            "key": "majority_area",
            "label": _("Agree: share of the area taking part"),
            "reached": f"{result['agree_area']['m2']} / {result['part_area']['m2']} {m2}",
            "share": result["agree_area_share"],
            "bound": majority,
            "met": result["majority_area"],
        },
        {
            "key": "majority_owners",
            "label": _("Agree: share of the owners taking part"),
            "reached": f"{result['agree_owners']} / {result['part_owners']}",
            "share": result["agree_owners_share"],
            "bound": majority,
            "met": result["majority_owners"],
        },
    ]


def numbers(vote: OwnersVote, actor: Actor | None = None) -> dict[str, Any] | None:
    """The result to show: the frozen one of a closed vote, or (for staff) the live count of an open one."""
    if vote.status == VoteStatus.CLOSED and vote.result:
        result = vote.result
    elif vote.status == VoteStatus.OPEN and actor is not None:
        tally = selectors.live_tally(actor, vote)
        if tally is None:
            return None
        result = tally.as_dict() | {"basis": tally.basis}
    else:
        return None
    return {"r": result, "thresholds": thresholds(result), "live": vote.status == VoteStatus.OPEN}


def choice_label(value: str) -> str:
    return str(Choice(value).label) if value in Choice.values else _("did not vote")


# --- the list and the form ------------------------------------------------------------------------------------------
@login_required
@require_GET
def votes(request: HttpRequest) -> HttpResponse:
    """Staff and grid roles: the votes of their area. An owner: the votes they are on the roll of."""
    actor = get_actor(request)
    if not (actor.roles & PERMISSIONS["vote.view"]) and not actor.person_id:
        raise Forbidden()
    community = pages.community_of(request, actor)
    status = request.GET.get("status") or ""
    status = status if status in VoteStatus.values else ""
    rows = list(selectors.votes(actor, community, status=status).order_by("-created_at", "-id")[:LIST_SHOWN])
    return render(
        request,
        "council/vt_list.html",
        {
            **pages.picker(actor, community),
            "votes": rows,
            "status": status,
            "statuses": VoteStatus.choices,
            "may_manage": can(actor, "vote.manage", community),
        },
    )


def _vote_form(request: HttpRequest, actor: Actor, community: Community, **kwargs: Any) -> VoteForm:
    meetings = selectors.meetings(actor, community)  # the form offers the items of the community's meetings
    items = AgendaItem.objects.filter(meeting__in=meetings.values("id")).select_related("meeting").order_by("-id")
    return VoteForm(
        request.POST or None,
        buildings=org_selectors.buildings(actor, community=community).order_by("name"),
        compounds=org_selectors.compounds(actor, community=community).order_by("name"),
        items=items,
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def vote_new(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "vote.manage", community)
    form = _vote_form(request, actor, community)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                vote = services.vote_create(actor=actor, community=community, data=form.vote_data())
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("The vote is prepared. Check the roll of owners, then open it."))
                return redirect("council:vote", pk=vote.pk)
        status = 400
    return render(request, "council/vt_form.html", {"form": form, "community": community, "vote": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def vote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    vote = selectors.get_vote(actor, pk)
    require(actor, "vote.manage", vote.community)
    if vote.status != VoteStatus.DRAFT:
        messages.error(request, _("Once a vote is open its question and matter stay as announced."))
        return redirect("council:vote", pk=vote.pk)
    form = _vote_form(request, actor, vote.community, initial=VoteForm.initial_of(vote))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.vote_update(actor=actor, vote=vote, data=form.vote_data())
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("Saved."))
                return redirect("council:vote", pk=vote.pk)
        status = 400
    return render(
        request, "council/vt_form.html", {"form": form, "community": vote.community, "vote": vote}, status=status
    )


# --- the vote page --------------------------------------------------------------------------------------------------
def _page(request: HttpRequest, actor: Actor, vote: OwnersVote, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The staff page of a vote at whatever step it is; `extra` carries an inline refusal and the typed input."""
    context: dict[str, Any] = {
        "vote": vote,
        "may_manage": can(actor, "vote.manage", vote.community),
        "may_record": vote.status == VoteStatus.OPEN and can(actor, "vote.record", vote.place),
        "numbers": numbers(vote, actor),
        "reason_form": ReasonForm(),
        **extra,
    }
    if vote.status == VoteStatus.DRAFT:
        context["check"] = selectors.roll_check(actor, vote)
    else:
        entries = list(selectors.roll(actor, vote))
        for entry in entries:
            counted = list(entry.ballots.all())
            entry.ballot = counted[0] if counted else None  # type: ignore[attr-defined]
        context["entries"] = entries
        context["voided"] = [b for b in selectors.ballots(actor, vote) if b.voided_at is not None]
        context["channels"] = CHANNELS
        context["choices"] = Choice.choices
    if vote.status == VoteStatus.CLOSED:
        context["verified"] = services.vote_verify(vote)
    return render(request, "council/vt_vote.html", context, status=status)


def _staff_vote(request: HttpRequest, pk: int) -> tuple[Actor, OwnersVote]:
    actor = get_actor(request)
    vote = selectors.get_vote(actor, pk)
    require(actor, "vote.view", vote)
    return actor, vote


@login_required
@require_GET
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    vote = selectors.get_vote(actor, pk)
    if not can(actor, "vote.view", vote):
        return redirect("council:my_vote", pk=vote.pk)  # an owner on the roll: their own ballot page
    return _page(request, actor, vote)


def _refused(request: HttpRequest, actor: Actor, vote: OwnersVote, exc: DomainError, **extra: Any) -> HttpResponse:
    if exc.status in (403, 404):
        raise exc
    vote.refresh_from_db()
    return _page(request, actor, vote, status=exc.status, error=exc, **extra)


@login_required
@require_POST
def vote_open(request: HttpRequest, pk: int) -> HttpResponse:
    actor, vote = _staff_vote(request, pk)
    try:
        services.vote_open(actor=actor, vote=vote)
    except RollIncomplete as exc:
        return _refused(request, actor, vote, exc, incomplete=exc.details)
    except DomainError as exc:
        return _refused(request, actor, vote, exc)
    messages.success(request, _("The vote is open: the roll of owners is frozen and ballots are counted."))
    return redirect("council:vote", pk=vote.pk)


@login_required
@require_POST
def ballot_record(request: HttpRequest, pk: int) -> HttpResponse:
    actor, vote = _staff_vote(request, pk)
    require(actor, "vote.record", vote.place)  # refuse outsiders before telling them what was wrong with the input
    form = BallotRecordForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _refused(request, actor, vote, DomainError(str(first)))
    entry = selectors.roll(actor, vote).filter(pk=form.cleaned_data["entry"]).first()
    if entry is None:
        return _refused(request, actor, vote, DomainError(_("That owner is not on this vote's roll.")))
    try:
        ballot = services.ballot_record(
            actor=actor,
            vote=vote,
            entry=entry,
            choice=form.cleaned_data["choice"],
            channel=form.cleaned_data["channel"],
        )
    except DomainError as exc:
        return _refused(request, actor, vote, exc, failed_entry=entry.pk)
    messages.success(
        request,
        _("Recorded for no. %(pos)d (%(rooms)s): %(choice)s.")
        % {"pos": entry.position, "rooms": entry.label, "choice": choice_label(ballot.choice)},
    )
    return redirect(reverse("council:vote", args=[vote.pk]) + f"#entry-{entry.pk}")


@login_required
@require_POST
def ballot_void(request: HttpRequest, pk: int) -> HttpResponse:
    # the ballot names its vote; the vote decides who may see and change it
    vote_id = Ballot.objects.filter(pk=pk).values_list("vote_id", flat=True).first()
    if vote_id is None:
        raise NotFound()
    actor, vote = _staff_vote(request, vote_id)
    ballot = selectors.ballots(actor, vote).get(pk=pk)
    require(actor, "vote.manage", vote.community)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refused(request, actor, vote, DomainError(_("Say why the ballot is voided.")), failed_ballot=ballot.pk)
    try:
        services.ballot_void(actor=actor, ballot=ballot, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _refused(request, actor, vote, exc, failed_ballot=ballot.pk)
    messages.success(
        request, _("The ballot of no. %(pos)d is voided; record it again.") % {"pos": ballot.entry.position}
    )
    return redirect(reverse("council:vote", args=[vote.pk]) + f"#entry-{ballot.entry_id}")


@login_required
@require_POST
def vote_close(request: HttpRequest, pk: int) -> HttpResponse:
    actor, vote = _staff_vote(request, pk)
    try:
        services.vote_close(actor=actor, vote=vote)
    except DomainError as exc:
        return _refused(request, actor, vote, exc)
    messages.success(request, _("Counted and closed: the result is frozen."))
    return redirect("council:vote", pk=vote.pk)


@login_required
@require_POST
def vote_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor, vote = _staff_vote(request, pk)
    form = ReasonForm(request.POST)
    require(actor, "vote.manage", vote.community)
    if not form.is_valid():
        return _refused(request, actor, vote, DomainError(_("Say why the vote is cancelled.")))
    try:
        services.vote_cancel(actor=actor, vote=vote, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _refused(request, actor, vote, exc)
    messages.success(request, _("The vote is cancelled."))
    return redirect("council:vote", pk=vote.pk)


# --- the public notice ----------------------------------------------------------------------------------------------
def _notice_context(request: HttpRequest, pk: int) -> dict[str, Any]:
    actor = get_actor(request)
    vote = selectors.get_vote_notice(actor, pk)
    if vote.status != VoteStatus.CLOSED:
        raise VoteStatusRefused(_("The notice is printed once the vote is closed and counted."))
    rows = [
        {"position": pos, "rooms": rooms, "area": area, "choice": choice_label(choice)}
        for pos, rooms, area, choice in selectors.notice_rows(actor, vote)
    ]
    return {
        "vote": vote,
        "matter": Matter(vote.matter).label,
        "numbers": numbers(vote),
        "rows": rows,
        "closed_on": timezone.localtime(vote.closed_at) if vote.closed_at else None,
        "opened_at": timezone.localtime(vote.opened_at) if vote.opened_at else None,
    }


@login_required
@require_GET
def vote_notice(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "council/vt_notice.html", _notice_context(request, pk))


@login_required
@require_GET
def vote_notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    context = _notice_context(request, pk)
    response = HttpResponse(notice.render_pdf(context), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="vote-{context["vote"].pk}-notice.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the owner's phone ballot ---------------------------------------------------------------------------------------
@login_required
@require_GET
def my_votes(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    if not actor.person_id:
        raise Forbidden(_("Only owners vote here."))
    return render(request, "council/vt_my_votes.html", {"votes": list(selectors.my_votes(actor)[:LIST_SHOWN])})


def _ballot_page(
    request: HttpRequest, actor: Actor, vote: OwnersVote, *, status: int = 200, **extra: Any
) -> HttpResponse:
    entry = selectors.my_entry(actor, vote)
    if entry is None:
        raise NotFound()
    ballot = selectors.my_ballot(actor, vote)
    return render(
        request,
        "council/vt_my_vote.html",
        {
            "vote": vote,
            "entry": entry,
            "ballot": ballot,
            "ballot_label": choice_label(ballot.choice) if ballot else "",
            "matter": Matter(vote.matter).label,
            "special": vote.matter in services.domain.SPECIAL_MATTERS,
            "numbers": numbers(vote),
            "choices": Choice.choices,
            **extra,
        },
        status=status,
    )


@login_required
@require_GET
def my_vote(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    return _ballot_page(request, actor, selectors.get_vote(actor, pk))


@login_required
@require_POST
def my_vote_cast(request: HttpRequest, pk: int) -> HttpResponse:
    """Two steps without JavaScript: the choice, then "You chose 同意 — confirm?"; only the second one counts."""
    actor = get_actor(request)
    vote = selectors.get_vote(actor, pk)
    if selectors.my_entry(actor, vote) is None:
        raise NotFound()
    form = CastForm(request.POST)
    if not form.is_valid():
        return _ballot_page(request, actor, vote, status=400, error=_("Choose agree, disagree or abstain."))
    choice = form.cleaned_data["choice"]
    if not form.cleaned_data["confirm"]:
        return _ballot_page(request, actor, vote, confirm=choice, confirm_label=choice_label(choice))
    try:
        services.ballot_cast(actor=actor, vote=vote, choice=choice)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        vote.refresh_from_db()
        return _ballot_page(request, actor, vote, status=exc.status, error=str(exc.message), code=exc.code)
    messages.success(request, _("Thank you. Your ballot is counted: %(choice)s.") % {"choice": choice_label(choice)})
    return redirect("council:my_vote", pk=vote.pk)
