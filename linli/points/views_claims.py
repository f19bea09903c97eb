"""Claim pages: the resident's check-in and "my claims" (phone first), recording for someone without a phone, the
steward's and grid worker's verification queue, the staff approval queue with bulk actions, the community's claims
list with its Excel export, one claim with its history, and its evidence photo.

Thin views: parse, one service or selector call, render. Every refusal of a service lands on the form (`attempt`) or
in a message; permissions are asked of linli.org.access only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.views import attempt, paginate, query_string_without_page
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import PERMISSIONS, Actor, can, require, require_any
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name
from linli.org.models import Community, Person
from linli.points import domain, selectors, services
from linli.points.export_claims import claims_export, export_filename
from linli.points.forms_claims import ClaimFilterForm, ClaimForm, RejectForm
from linli.points.models import OPEN_STATUSES, Claim, ClaimStatus, Photo, Rule, RuleVersion, Unit

MAX_BULK = 200  # claims per bulk action: a page's worth, well within one request's time


# --- how things read ------------------------------------------------------------------------------------------------


def rule_summary(version: RuleVersion) -> str:
    """ "3 points per full hour": what a rule pays, in plain words."""
    n = version.points
    per: dict[str, str] = {
        Unit.HOUR: ngettext("%(points)s point per full hour", "%(points)s points per full hour", n),
        Unit.ITEM: ngettext("%(points)s point per item", "%(points)s points per item", n),
        Unit.KG: ngettext("%(points)s point per kg", "%(points)s points per kg", n),
    }
    fallback = ngettext("%(points)s point each time", "%(points)s points each time", n)
    return per.get(version.unit, fallback) % {"points": n}


def duration(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    return _("%(h)s h") % {"h": hours} if hours else _("%(m)s min") % {"m": rest}


def event_words(action: str) -> str:
    words = {
        "submitted": _("Sent"),
        "resubmitted": _("Corrected and sent again"),
        "verified": _("Checked"),
        "approved": _("Approved: the points are in the passbook"),
        "rejected": _("Turned down"),
        "withdrawn": _("Withdrawn"),
    }
    return words.get(action, action)


@dataclass(frozen=True)
class Row:
    """A claim as a page shows it: the person's name as this actor may read it, and its amounts in words."""

    claim: Claim
    name: str
    amount: str  # "1 h 30 min", "2.5 kg", "3 items" or ""
    flags: list[str]


def _amount(claim: Claim) -> str:
    unit = claim.rule_version.unit
    if unit == Unit.HOUR:
        return duration(claim.minutes)
    if unit == Unit.KG:
        return _("%(n)s kg") % {"n": claim.quantity.normalize()}
    if unit == Unit.ITEM:
        return _("%(n)s items") % {"n": claim.quantity.normalize()}
    return duration(claim.minutes)


def _flags(claim: Claim) -> list[str]:
    flags = []
    if claim.duplicate_of_id:
        flags.append(_("Another claim for the same rule that day (#%(id)s)") % {"id": claim.duplicate_of_id})
    if claim.photo_reused:
        flags.append(_("This photo was used on another claim before"))
    return flags


def rows_for(actor: Actor, claims: Iterable[Claim]) -> list[Row]:
    reveal: dict[int, bool] = {}
    out = []
    for c in claims:
        if c.person_id not in reveal:
            reveal[c.person_id] = can(actor, "person.view_private", c.person)
        name = c.person.name if reveal[c.person_id] else mask_name(c.person.name)
        out.append(Row(claim=c, name=name, amount=_amount(c), flags=_flags(c)))
    return out


# --- helpers --------------------------------------------------------------------------------------------------------


def _me(actor: Actor) -> Person:
    person = Person.objects.select_related("community").filter(pk=actor.person_id).first() if actor.person_id else None
    if person is None:
        raise NotFound(_("Only residents registered in a community can check in good deeds."))
    return person


def _may_amend(request: HttpRequest, actor: Actor, claim: Claim) -> bool:
    """The credited resident or whoever recorded the claim (the service asks the same)."""
    return (actor.person_id is not None and actor.person_id == claim.person_id) or (
        claim.recorded_by_id is not None and claim.recorded_by_id == request.user.pk
    )


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after an action: the page's own `next` when it is on this site, else `default`."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return default


def _ids(request: HttpRequest) -> list[int]:
    ids = [pages.positive_int(v) for v in request.POST.getlist("claim")[:MAX_BULK]]
    return [i for i in dict.fromkeys(ids) if i is not None]


def _require_worker(actor: Actor, action: str) -> None:
    """Queues are for people with a working role for `action`; a resident's own rights do not count here."""
    require_any(actor, action)
    allowed = PERMISSIONS.get(action, frozenset())
    if not any(g.role in allowed for g in actor.grants):
        raise Forbidden()


def _bulk_messages(request: HttpRequest, result: services.BulkResult, done_text: Callable[[int], str]) -> None:
    if result.done:
        messages.success(request, done_text(len(result.done)))
    for pk, error in result.failed:
        messages.error(request, _("Claim #%(id)s: %(why)s") % {"id": pk, "why": error.message})


# --- making a claim: own check-in and recording for someone ---------------------------------------------------------


@dataclass(frozen=True)
class RuleTile:
    rule: Rule
    name: str
    summary: str
    description: str
    photo_needed: bool


def _rule_groups(rules: list[Rule]) -> list[tuple[str, list[RuleTile]]]:
    """Rules by scoring area, in catalogue order."""
    groups: dict[int, tuple[str, list[RuleTile]]] = {}
    for rule in rules:
        version = rule.current
        assert version is not None
        tile = RuleTile(rule, version.name, rule_summary(version), version.description, version.evidence_required)
        groups.setdefault(rule.area_id, (rule.area.name, []))[1].append(tile)
    return list(groups.values())


def _claim_page(request: HttpRequest, actor: Actor, person: Person, *, own: bool, base_url: str) -> HttpResponse:
    """Choose a rule (?rule=), then fill in what was done. The same page for a check-in and for recording."""
    kind = selectors.recorder_kind(actor, person)
    if not kind:
        require(actor, "claim.record", person, hide=True)
        raise Forbidden()
    rules = selectors.rules_in_force(person.community, day=timezone.localdate(), recorder=kind)
    template = "points/checkin.html" if own else "points/record.html"
    context: dict[str, Any] = {
        "person": person,
        "own": own,
        "base_url": base_url,
        "rule_link": base_url + ("&" if "?" in base_url else "?") + "rule=",
        "community": person.community,
    }
    wanted = pages.positive_int(request.POST.get("rule") or request.GET.get("rule"))
    rule = next((r for r in rules if r.pk == wanted), None)
    if rule is None:
        if wanted is not None:
            messages.error(request, _("This good deed cannot be recorded here (any more). Please choose again."))
        return render(request, template, {**context, "groups": _rule_groups(rules)})
    version = rule.current
    assert version is not None
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES, version=version, keyed=True)
        if form.is_valid():
            key = pages.form_key(request, form.cleaned_data["idempotency_key"])
            made = attempt(
                form,
                lambda: services.claim_submit(
                    actor=actor,
                    person=person,
                    rule=rule,
                    data=form.claim_input(),
                    idempotency_key=key,
                    photo=request.FILES.get("photo"),
                ),
            )
            if made is not None:
                if made.replayed:
                    messages.info(request, _("This was already sent; nothing was sent twice."))
                else:
                    messages.success(request, _sent_message(made.claim))
                return redirect("points:claim_detail", pk=made.claim.pk)
    else:
        form = ClaimForm(version=version, keyed=True)
    return render(
        request,
        template,
        {**context, "rule": rule, "version": version, "summary": rule_summary(version), "form": form},
    )


def _sent_message(claim: Claim) -> str:
    if claim.status == ClaimStatus.APPROVED:
        return _("Done: %(points)s points are in the passbook.") % {"points": claim.points}
    if claim.status == ClaimStatus.VERIFIED:
        return _("Sent. Community staff will approve it; then the points go into the passbook.")
    return _("Sent. Your building steward or grid worker will check it; then staff approve it.")


@login_required
def checkin(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    person = _me(actor)
    require(actor, "claim.submit", person)
    return _claim_page(request, actor, person, own=True, base_url=reverse("points:checkin"))


@login_required
def record(request: HttpRequest) -> HttpResponse:
    """A steward, grid worker or staff member records a good deed for someone (often an elder without a phone)."""
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_worker(actor, "claim.record")
    chosen = pages.positive_int(request.POST.get("person") or request.GET.get("person"))
    if chosen is not None:
        person = pages.person_in(actor, community, chosen)
        require(actor, "claim.record", person)
        base = f"{reverse('points:record')}?community={community.pk}&person={person.pk}"
        return _claim_page(request, actor, person, own=False, base_url=base)
    q = request.GET.get("q", "").strip()[:50]
    found: list[tuple[Person, str]] = []
    if q:
        recordable = selectors.people_for(actor, "claim.record", community).values("pk")
        people = list(org_selectors.people(actor, community=community, q=q).filter(pk__in=recordable)[:20])
        phones = org_selectors.phones_for(actor, people)
        found = [(p, phones[p.pk]) for p in people]
    return render(
        request,
        "points/record.html",
        {**pages.picker(actor, community), "q": q, "found": found, "searching": True},
    )


# --- the resident's claims ------------------------------------------------------------------------------------------


@login_required
def my_claims(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    person = _me(actor)
    page = paginate(request, selectors.claims_of(actor, person), per_page=20)
    return render(
        request,
        "points/claims_mine.html",
        {"person": person, "page": page, "rows": rows_for(actor, page.object_list), "qs": ""},
    )


@login_required
@require_GET
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    return _detail(request, actor, claim, RejectForm())


def _detail(request: HttpRequest, actor: Actor, claim: Claim, reject_form: RejectForm, status: int = 200) -> Any:
    steps = claim.rule_version.steps
    mine = actor.person_id == claim.person_id
    may_verify = (
        claim.status == ClaimStatus.SUBMITTED
        and domain.needs_verification(steps)
        and not mine
        and can(actor, "claim.verify", claim.person)
    )
    waiting_approval = claim.status == ClaimStatus.VERIFIED or (
        claim.status == ClaimStatus.SUBMITTED and not domain.needs_verification(steps)
    )
    may_approve = waiting_approval and not mine and can(actor, "claim.approve", claim.person)
    amend = _may_amend(request, actor, claim)
    return render(
        request,
        "points/claim_detail.html",
        {
            "row": rows_for(actor, [claim])[0],
            "c": claim,
            "events": [(e, event_words(e.action)) for e in claim.events.select_related("actor")],
            "may_verify": may_verify,
            "may_approve": may_approve and claim.verified_by_id != request.user.pk,
            "may_reject": (may_verify or may_approve) and claim.status in OPEN_STATUSES,
            "may_withdraw": amend and claim.status in OPEN_STATUSES,
            "may_resubmit": amend and claim.status == ClaimStatus.REJECTED,
            "reject_form": reject_form,
            "own": mine,
        },
        status=status,
    )


@login_required
@require_GET
def claim_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The evidence photo, only to those who may see the claim; never cached by shared caches."""
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    photo = Photo.objects.filter(pk=claim.photo_id).only("data", "content_type").first() if claim.photo_id else None
    if photo is None:
        raise NotFound(_("This claim has no photo."))
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="claim-{claim.pk}.jpg"'
    return response


@login_required
def claim_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    if not _may_amend(request, actor, claim):
        raise Forbidden(_("Only the resident or whoever recorded the claim can resubmit it."))
    rule = Rule.objects.select_related("current").get(pk=claim.rule_id)
    if claim.status != ClaimStatus.REJECTED:
        messages.info(request, _("Only a rejected claim can be corrected and sent again."))
        return redirect("points:claim_detail", pk=claim.pk)
    if rule.retired or rule.current is None:
        messages.error(request, _("This rule has been retired; the claim cannot be sent again."))
        return redirect("points:claim_detail", pk=claim.pk)
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES, version=rule.current, keyed=False)
        if form.is_valid():
            done = attempt(
                form,
                lambda: services.claim_resubmit(
                    actor=actor, claim=claim, data=form.claim_input(), photo=request.FILES.get("photo")
                ),
            )
            if done is not None:
                messages.success(request, _sent_message(done))
                return redirect("points:claim_detail", pk=claim.pk)
    else:
        form = ClaimForm(initial=ClaimForm.initial_of(claim), version=rule.current, keyed=False)
    return render(
        request,
        "points/claim_resubmit.html",
        {"c": claim, "version": rule.current, "summary": rule_summary(rule.current), "form": form},
    )


@login_required
@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    if not _may_amend(request, actor, claim):
        raise Forbidden(_("Only the resident or whoever recorded the claim can withdraw it."))
    try:
        services.claim_withdraw(actor=actor, claim=claim)
        messages.success(request, _("The claim has been withdrawn."))
    except DomainError as exc:
        if exc.status in {403, 404}:
            raise
        messages.error(request, str(exc.message))
    return redirect("points:claim_detail", pk=claim.pk)


# --- checking: one claim --------------------------------------------------------------------------------------------


def _decided(request: HttpRequest, claim: Claim, text: str, default: str) -> HttpResponse:
    """After one action: the htmx card swap on the queues, else back to where the button was."""
    if getattr(request, "htmx", False):
        return render(request, "points/_claim_done.html", {"c": claim, "text": text})
    messages.success(request, text)
    return redirect(_back(request, default))


def _refused(request: HttpRequest, claim: Claim, error: DomainError, default: str) -> HttpResponse:
    """A refusal of who may act is the error page (403/404); a claim in the wrong state or beyond a cap is a message
    on the page the checker came from."""
    if error.status in {403, 404}:
        raise error
    if getattr(request, "htmx", False):
        return render(request, "points/_claim_done.html", {"c": claim, "text": str(error.message), "error": True})
    messages.error(request, str(error.message))
    return redirect(_back(request, default))


@login_required
@require_POST
def claim_verify(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    default = reverse("points:claim_detail", args=[claim.pk])
    try:
        claim = services.claim_verify(actor=actor, claim=claim)
    except DomainError as exc:
        return _refused(request, claim, exc, default)
    text = (
        _("Checked. %(points)s points are in the passbook.") % {"points": claim.points}
        if claim.status == ClaimStatus.APPROVED
        else _("Checked. Staff will approve it.")
    )
    return _decided(request, claim, text, default)


@login_required
@require_POST
def claim_approve(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    default = reverse("points:claim_detail", args=[claim.pk])
    try:
        claim = services.claim_approve(actor=actor, claim=claim)
    except DomainError as exc:
        return _refused(request, claim, exc, default)
    return _decided(request, claim, _("Approved: %(points)s points posted.") % {"points": claim.points}, default)


@login_required
@require_POST
def claim_reject(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    claim = selectors.claim_get(actor, pk)
    default = reverse("points:claim_detail", args=[claim.pk])
    form = RejectForm(request.POST)
    if not form.is_valid():
        if getattr(request, "htmx", False):
            return render(
                request,
                "points/_claim_done.html",
                {"c": claim, "text": _("Give the resident a reason."), "error": True},
            )
        return _detail(request, actor, claim, form, status=400)
    try:
        claim = services.claim_reject(actor=actor, claim=claim, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _refused(request, claim, exc, default)
    return _decided(request, claim, _("Turned down. The resident sees your reason."), default)


# --- the verification queue (stewards and grid workers, on a phone) -------------------------------------------------


@login_required
@require_GET
def verify_queue(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_worker(actor, "claim.verify")
    page = paginate(request, selectors.verify_queue(actor, community), per_page=30)
    return render(
        request,
        "points/verify_queue.html",
        {
            **pages.picker(actor, community),
            "page": page,
            "rows": rows_for(actor, page.object_list),
            "qs": query_string_without_page(request),
            "here": request.get_full_path(),
        },
    )


@login_required
@require_POST
def verify_bulk(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_worker(actor, "claim.verify")
    ids = _ids(request)
    back = _back(request, f"{reverse('points:verify_queue')}?community={community.pk}")
    if not ids:
        messages.error(request, _("Select the claims to verify first."))
        return redirect(back)
    waiting = {c.pk: c for c in selectors.verify_queue(actor, community).filter(pk__in=ids)}
    result = services.claims_verify(actor=actor, claims=[waiting[i] for i in ids if i in waiting])
    gone = [i for i in ids if i not in waiting]
    if gone:
        messages.warning(request, _("%(n)s of the selected claims were no longer waiting.") % {"n": len(gone)})
    _bulk_messages(request, result, lambda n: ngettext("%(n)s claim verified.", "%(n)s claims verified.", n) % {"n": n})
    return redirect(back)


# --- the approval queue and the claims list (staff) -----------------------------------------------------------------


def _filter_form(request: HttpRequest, community: Community, with_status: bool) -> ClaimFilterForm:
    data = request.GET if any(k in request.GET for k in ClaimFilterForm.base_fields) else None
    return ClaimFilterForm(data, community=community, with_status=with_status)


@login_required
@require_GET
def approve_queue(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "claim.approve", community)
    form = _filter_form(request, community, with_status=False)
    page = paginate(request, selectors.approve_queue(actor, community, form.claim_filter()))
    return render(
        request,
        "points/approve_queue.html",
        {
            **pages.picker(actor, community),
            "filter_form": form,
            "filtering": form.is_bound and (not form.is_valid() or any(form.cleaned_data.values())),
            "page": page,
            "rows": rows_for(actor, page.object_list),
            "qs": query_string_without_page(request),
            "here": request.get_full_path(),
            "user_id": request.user.pk,
        },
    )


@login_required
@require_POST
def approve_bulk(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "claim.approve", community)
    back = _back(request, f"{reverse('points:approve_queue')}?community={community.pk}")
    ids = _ids(request)
    action = request.POST.get("action", "approve")
    if not ids:
        messages.error(request, _("Select the claims first."))
        return redirect(back)
    if action not in {"approve", "reject"}:
        messages.error(request, _("Unknown action."))
        return redirect(back)
    reason = request.POST.get("reason", "").strip()
    if action == "reject" and not reason:
        messages.error(request, _("Give the residents a reason before turning claims down."))
        return redirect(back)
    waiting = {c.pk: c for c in selectors.approve_queue(actor, community).filter(pk__in=ids)}
    chosen = [waiting[i] for i in ids if i in waiting]
    if len(chosen) < len(ids):
        messages.warning(
            request, _("%(n)s of the selected claims were no longer waiting.") % {"n": len(ids) - len(chosen)}
        )
    if action == "approve":
        result = services.claims_approve(actor=actor, claims=chosen)
        _bulk_messages(
            request, result, lambda n: ngettext("%(n)s claim approved.", "%(n)s claims approved.", n) % {"n": n}
        )
    else:
        result = services.claims_reject(actor=actor, claims=chosen, reason=reason[:300])
        _bulk_messages(
            request, result, lambda n: ngettext("%(n)s claim turned down.", "%(n)s claims turned down.", n) % {"n": n}
        )
    return redirect(back)


@login_required
@require_GET
def claims_list(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "claim.view", community)
    form = _filter_form(request, community, with_status=True)
    page = paginate(request, selectors.claims(actor, community, form.claim_filter()))
    export = request.GET.copy()
    export.pop("page", None)
    export["community"] = str(community.pk)
    return render(
        request,
        "points/claims_list.html",
        {
            **pages.picker(actor, community),
            "filter_form": form,
            "filtering": form.is_bound and (not form.is_valid() or any(form.cleaned_data.values())),
            "page": page,
            "rows": rows_for(actor, page.object_list),
            "qs": query_string_without_page(request),
            "export_qs": export.urlencode(),
            "may_approve": can(actor, "claim.approve", community),
        },
    )


@login_required
@require_GET
def claims_xlsx(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "claim.view", community)
    form = _filter_form(request, community, with_status=True)
    body = claims_export(actor=actor, community=community, f=form.claim_filter())
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(community)}"'
    response["Cache-Control"] = "private, no-store"
    return response
