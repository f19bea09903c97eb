"""Staff ledger pages: the community's ledger at a glance, awarding points, one transfer and its reversal,
adjustments and their approval, and the ledger policy.

Who: community staff and street admins post, reverse, adjust and set the policy ("ledger.post" / "ledger.adjust");
the auditor and the grid chiefs and workers read (grid workers only the people of their grids); residents use their
own passbook pages instead. Thin views: parse, one service or selector call, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.common.errors import DomainError
from linli.common.views import attempt
from linli.ledger import adjustments, selectors, services
from linli.ledger import selectors_staff as reads
from linli.ledger.forms import AdjustmentForm, AwardForm, PersonSearchForm, PolicyForm, ReverseForm
from linli.ledger.models import AdjustmentStatus, Transfer, TransferKind
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require
from linli.org.context_processors import get_actor
from linli.org.models import Community, Person

PAGE = 50

# --- helpers --------------------------------------------------------------------------------------------------------


_community = pages.community_of
_picker = pages.picker
_int = pages.positive_int
_person_in = pages.person_in
_key = pages.form_key


def _search(request: HttpRequest, actor: Actor, community: Community) -> dict[str, Any]:
    """Choose a person: by name or phone, among the people of the community the actor may see."""
    form = PersonSearchForm(request.GET or None)
    found: list[tuple[Person, str]] = []
    q = ""
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
    if q:
        people = list(org_selectors.people(actor, community=community, q=q)[:20])
        phones = org_selectors.phones_for(actor, people)
        found = [(p, phones[p.pk]) for p in people]
    return {"search_form": form, "q": q, "found": found}


def _home(community_id: int) -> str:
    return f"{reverse('ledger:staff_home')}?community={community_id}"


# --- the community's ledger -----------------------------------------------------------------------------------------


@login_required
def staff_home(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _community(request, actor)
    reads.require_ledger_worker(actor, community)
    q = request.GET.get("q", "")[:50]
    rows, next_before = reads.transfers_page(
        reads.transfers(actor, community=community, q=q), before=_int(request.GET.get("before")), limit=PAGE
    )
    return render(
        request,
        "ledger/staff_home.html",
        {
            **_picker(actor, community),
            "totals": reads.community_totals(community),
            "rows": rows,
            "q": q,
            "before": request.GET.get("before", ""),
            "next_before": next_before,
            "pending": list(reads.pending_adjustments(actor, community)[:100]),
            "can_post": can(actor, "ledger.post", community),
            "can_adjust": can(actor, "ledger.adjust", community),
            "policy": adjustments.policy_for(community),
            "user_id": request.user.pk,
        },
    )


# --- awards ---------------------------------------------------------------------------------------------------------


@login_required
def award(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _community(request, actor)
    require(actor, "ledger.post", community)
    person: Person | None = None
    if request.method == "POST":
        form = AwardForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            person = _person_in(actor, community, d["person"])
            require(actor, "ledger.post", person)
            chosen = person
            posted = attempt(
                form,
                lambda: services.award(
                    person=chosen,
                    amount=d["amount"],
                    actor=actor.user,
                    idempotency_key=_key(request, d["idempotency_key"]),
                    memo=d["memo"],
                ),
            )
            if posted is not None:
                if posted.replayed:
                    messages.info(request, _("This award was already posted; nothing was posted twice."))
                else:
                    messages.success(
                        request,
                        _("%(points)s points awarded to %(name)s.") % {"points": d["amount"], "name": person.name},
                    )
                return redirect("ledger:transfer_detail", pk=posted.transfer.pk)
        elif _int(request.POST.get("person")):
            person = _person_in(actor, community, request.POST["person"])
    else:
        if request.GET.get("person"):
            person = _person_in(actor, community, request.GET["person"])
            require(actor, "ledger.post", person)
        form = AwardForm(initial={"person": person.pk if person else None})
    return render(
        request,
        "ledger/staff_award.html",
        {**_picker(actor, community), **_search(request, actor, community), "form": form, "person": person},
    )


# --- one transfer and its reversal ----------------------------------------------------------------------------------


def _transfer_page(
    request: HttpRequest, actor: Actor, transfer: Transfer, form: ReverseForm, status: int = 200
) -> HttpResponse:
    reversal = reads.reversal_of(transfer)
    return render(
        request,
        "ledger/staff_transfer.html",
        {
            "t": transfer,
            "community": transfer.community,
            "reversal": reversal,
            "adjustment": getattr(transfer, "adjustment", None) if transfer.kind == TransferKind.ADJUSTMENT else None,
            "can_reverse": (
                reversal is None
                and transfer.kind != TransferKind.REVERSAL
                and can(actor, "ledger.post", transfer.community)
            ),
            "form": form,
        },
        status=status,
    )


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    transfer = reads.transfer_visible(actor, pk)
    reads.require_ledger_worker(actor, transfer.community)
    return _transfer_page(request, actor, transfer, ReverseForm())


@login_required
@require_POST
def reverse_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    transfer = reads.transfer_visible(actor, pk)
    require(actor, "ledger.post", transfer.community)
    form = ReverseForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        posted = attempt(
            form,
            lambda: services.transfer_reverse(
                transfer=transfer,
                actor=actor.user,
                idempotency_key=_key(request, d["idempotency_key"]),
                memo=d["reason"].strip(),
            ),
        )
        if posted is not None:
            if posted.replayed:
                messages.info(request, _("This reversal was already posted; nothing was posted twice."))
            else:
                messages.success(request, _("The transfer has been reversed."))
            return redirect("ledger:transfer_detail", pk=transfer.pk)
    return _transfer_page(request, actor, transfer, form)


# --- adjustments ----------------------------------------------------------------------------------------------------


@login_required
def adjust(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _community(request, actor)
    require(actor, "ledger.adjust", community)
    person: Person | None = None
    if request.method == "POST":
        form = AdjustmentForm(request.POST)
        if _int(request.POST.get("person")):
            person = _person_in(actor, community, request.POST["person"])
        if form.is_valid() and person is not None:
            d = form.cleaned_data
            chosen = person
            made = attempt(
                form,
                lambda: adjustments.adjustment_request_or_replay(
                    actor=actor,
                    person=chosen,
                    amount=d["amount"],
                    reason=d["reason"],
                    idempotency_key=_key(request, d["idempotency_key"]),
                ),
            )
            if made is not None:
                adj = made.adjustment
                if adj.status == AdjustmentStatus.PENDING:
                    messages.warning(
                        request,
                        _("Saved. This adjustment needs a second approval by another staff member before it counts."),
                    )
                    return redirect(_home(community.pk))
                messages.success(request, _("The adjustment has been posted."))
                return redirect("ledger:transfer_detail", pk=adj.transfer_id)
    else:
        if request.GET.get("person"):
            person = _person_in(actor, community, request.GET["person"])
            require(actor, "ledger.adjust", person)
        form = AdjustmentForm(initial={"person": person.pk if person else None})
    balance = None
    if person is not None:
        account = reads.person_account(person)
        balance = selectors.balance(account) if account else 0
    return render(
        request,
        "ledger/staff_adjust.html",
        {
            **_picker(actor, community),
            **_search(request, actor, community),
            "form": form,
            "person": person,
            "balance": balance,
            "threshold": adjustments.policy_for(community).adjustment_approval_threshold,
        },
    )


def _decide(request: HttpRequest, pk: int, approve: bool) -> HttpResponse:
    actor = get_actor(request)
    adj = reads.adjustment_visible(actor, pk)
    require(actor, "ledger.adjust", adj.community)
    key = request.POST.get("idempotency_key", "")[:64]
    try:
        if approve:
            adjustments.adjustment_approve(
                actor=actor, adjustment=adj, idempotency_key=_key(request, key) if key else ""
            )
            messages.success(request, _("Approved: the adjustment has been posted."))
        else:
            adjustments.adjustment_reject(actor=actor, adjustment=adj, note=request.POST.get("note", "")[:200])
            messages.success(request, _("The adjustment has been turned down; nothing was posted."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect(_home(adj.community_id))


@login_required
@require_POST
def adjustment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@login_required
@require_POST
def adjustment_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=False)


# --- the policy -----------------------------------------------------------------------------------------------------


@login_required
def policy(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = _community(request, actor)
    require(actor, "ledger.adjust", community)
    current = adjustments.policy_for(community)
    form = PolicyForm(
        request.POST or None,
        initial={
            "adjustment_approval_threshold": current.adjustment_approval_threshold,
            "expiry_enabled": current.expiry_enabled,
            "expiry_years": current.expiry_years,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved = attempt(
            form,
            lambda: adjustments.policy_update(
                actor=actor,
                community=community,
                adjustment_approval_threshold=d["adjustment_approval_threshold"],
                expiry_enabled=d["expiry_enabled"],
                expiry_years=d["expiry_years"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved."))
            return redirect(_home(community.pk))
    return render(request, "ledger/staff_policy.html", {**_picker(actor, community), "form": form})
