"""The staff counter of the points market (积分超市收银台): scan a card or find a resident, build a basket, confirm
ONE redemption, print the receipt; hand over reservations, take returns, and look back over today's counter.

Who: community staff and street admins for everyone of their communities (and the caring merchants spending their
own points); grid chiefs and workers for the residents of their grids — the services refuse anyone else, and the page
says so. Thin views: parse, one service or selector call, render. Everything works without JavaScript; htmx swaps
the till's basket in place.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.common.views import paginate, query_string_without_page
from linli.ledger.errors import IdempotencyKeyReused
from linli.market import domain, selectors, services
from linli.market.forms_counter import (
    Basket,
    CancelForm,
    HistoryForm,
    PickupForm,
    ReturnForm,
    ReturnRow,
    ScanForm,
    new_key,
    read_basket,
    reservation_number,
)
from linli.market.models import VOUCHER_KINDS, Channel, Redemption, RedemptionStatus, VoucherStatus
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, works_in
from linli.org.context_processors import get_actor
from linli.org.domain import mask_name, mask_phone
from linli.org.models import Community, Merchant, Person

Payer = Person | Merchant


def _require_counter(actor: Actor, community: Community) -> None:
    """The counter of a community: its staff, and its grid chiefs and workers (for the residents of their grids)."""
    if not works_in(actor, "redemption.counter", community):
        raise Forbidden()


def _counter_url(community_id: int) -> str:
    return f"{reverse('market:counter')}?community={community_id}"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- step 1: who is served --------------------------------------------------------------------------------------------
@login_required
def counter(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_counter(actor, community)
    form = ScanForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    found: list[tuple[Person, str]] = []
    merchant_pk = pages.positive_int(request.GET.get("merchant"))
    if merchant_pk is not None:  # the merchant picker is a plain GET form: it works without JavaScript
        return redirect("market:counter_till_merchant", merchant_pk=merchant_pk)
    if q:
        number = reservation_number(q)
        if number is not None:  # a reservation's QR scanned into the main box: go straight to the pick-up
            return redirect(f"{reverse('market:counter_pickup')}?community={community.pk}&q={number}")
        try:
            person = selectors.person_by_card(actor, q)
        except NotFound:
            person = None
        if person is not None and person.community_id == community.pk:
            return redirect("market:counter_till", person_pk=person.pk)
        people = list(selectors.counter_people(actor, community, q))
        found = [(p, mask_phone(p.phone)) for p in people]
    merchants = [m for m in org_selectors.merchants(actor, community=community) if m.is_active]
    merchants = [m for m in merchants if can(actor, "redemption.counter", m)]
    return render(
        request,
        "market/c_counter.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "q": q,
            "found": found,
            "merchants": merchants,
            "pickup_form": PickupForm(),
        },
    )


# --- the till ---------------------------------------------------------------------------------------------------------
def _till(request: HttpRequest, actor: Actor, payer: Payer) -> HttpResponse:
    view = selectors.payer_view(actor, payer)  # refuses (404) whom the actor may not serve
    community = payer.community
    shelf = list(selectors.shelf(actor, community))
    key = new_key()
    basket = Basket()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        key = (request.POST.get("key") or "").strip()[:64] or new_key()
        basket = read_basket(request.POST, shelf)
        if request.POST.get("do") == "confirm":
            if basket.errors:
                status = 400
            elif not basket.lines:
                problems.append(_("The basket is empty: add something first."))
                status = 400
            else:
                try:
                    placed = services.redemption_create(
                        actor=actor,
                        payer=payer,
                        lines=basket.wants(),
                        channel=Channel.COUNTER,
                        idempotency_key=pages.form_key(request, key),
                    )
                except IdempotencyKeyReused:
                    # the page was confirmed once already and then changed (the Back button): start a new exchange
                    problems.append(_("This basket was already confirmed once; check it and confirm again."))
                    key, status = new_key(), 409
                except DomainError as error:
                    problems.append(str(error.message))
                    status = error.status
                else:
                    receipt = reverse("market:receipt", args=[placed.redemption.pk])
                    if _is_htmx(request):
                        response = HttpResponse(status=204)
                        response["HX-Redirect"] = receipt
                        return response
                    return redirect(receipt)
    total = basket.total
    context = {
        "community": community,
        "payer": payer,
        "is_person": isinstance(payer, Person),
        "phone": mask_phone(payer.phone) if isinstance(payer, Person) else "",  # a counter is seen by the queue
        "balance": view.balance,
        "reservations": view.open_reservations,
        "shelf": shelf,
        "basket": basket,
        "in_basket": basket.quantities,
        "total": total,
        "after": view.balance - total,
        "short": total > view.balance,
        "errors": basket.errors + problems,
        "key": key,
        "action": request.path,
        "cancel_form": CancelForm(),
    }
    template = "market/c_till_basket.html" if _is_htmx(request) else "market/c_till.html"
    return render(request, template, context, status=status if not _is_htmx(request) else 200)


@login_required
@require_http_methods(["GET", "POST"])
def counter_till(request: HttpRequest, person_pk: int) -> HttpResponse:
    actor = get_actor(request)
    person = org_selectors.get_visible(actor, Person, person_pk)
    if not person.is_active:
        raise NotFound()
    return _till(request, actor, person)


@login_required
@require_http_methods(["GET", "POST"])
def counter_till_merchant(request: HttpRequest, merchant_pk: int) -> HttpResponse:
    actor = get_actor(request)
    merchant = org_selectors.get_visible(actor, Merchant, merchant_pk)
    return _till(request, actor, merchant)


# --- the receipt ------------------------------------------------------------------------------------------------------
def _voucher_qr(code: str) -> str:
    qr = segno.make(f"{domain.VOUCHER_QR_PREFIX}{code}", error="m", micro=False)
    return str(qr.svg_inline(scale=4, border=2, omitsize=True, svgclass="qr", light="#fff", title=code))


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    redemption = selectors.redemption_get(actor, pk)
    vouchers = [
        {"v": v, "line": line, "code": domain.format_code(v.code), "svg": _voucher_qr(v.code)}
        for line in redemption.lines.all()
        for v in line.vouchers.all()
    ]
    community = redemption.community
    serves = can(actor, "redemption.counter", redemption)
    return render(
        request,
        "market/c_receipt.html",
        {
            "r": redemption,
            "community": community,
            "payer_name": redemption.payer.name,
            "vouchers": vouchers,
            "note": services.market_settings(community).counter_note,
            "serves": serves,
            "can_return": serves and redemption.status == RedemptionStatus.COMPLETED,
            "served_by": redemption.handed_over_by or redemption.actor,
            "when": redemption.handed_over_at or redemption.created_at,
        },
    )


# --- reservations picked up at the counter ----------------------------------------------------------------------------
def _pickup_page(
    request: HttpRequest,
    actor: Actor,
    community: Community,
    form: PickupForm,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    found: Redemption | None = None
    problem = ""
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if q:
        number = reservation_number(q)
        if number is None:
            problem = _("That is not a reservation number. It looks like 2026-0042.")
        else:
            found = selectors.redemptions(actor, community, q=number).filter(number=number).first()
            if found is None or not can(actor, "redemption.counter", found):
                found, problem = None, _("No reservation %(number)s that you can hand over.") % {"number": number}
    return render(
        request,
        "market/c_pickup.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "q": q,
            "found": found,
            "problem": problem,
            "cancel_form": cancel_form or CancelForm(),
            "payer_name": found.payer.name if found else "",
        },
        status=status,
    )


@login_required
def counter_pickup(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_counter(actor, community)
    return _pickup_page(request, actor, community, PickupForm(request.GET or None))


@login_required
@require_POST
def counter_hand_over(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    redemption = selectors.redemption_get(actor, pk)
    try:
        services.redemption_hand_over(actor=actor, redemption=redemption)
    except DomainError as error:
        if error.status in {403, 404}:
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Handed over. Here is the receipt."))
    return redirect("market:receipt", pk=redemption.pk)


@login_required
@require_POST
def counter_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    redemption = selectors.redemption_get(actor, pk)
    if not can(actor, "redemption.counter", redemption):
        raise NotFound()
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.redemption_cancel(actor=actor, redemption=redemption, reason=form.cleaned_data["reason"])
        except DomainError as error:
            if error.status in {403, 404}:
                raise
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("The reservation is cancelled; its points are back in the account."))
            return redirect("market:receipt", pk=redemption.pk)
    community = redemption.community
    pickup = PickupForm({"q": redemption.number or ""})
    return _pickup_page(request, actor, community, pickup, cancel_form=form, status=400)


# --- returns ----------------------------------------------------------------------------------------------------------
def _return_rows(redemption: Redemption) -> list[ReturnRow]:
    rows = []
    for line in redemption.lines.all():
        if line.product.kind in VOUCHER_KINDS:  # only vouchers not yet used can be handed back
            room = sum(1 for v in line.vouchers.all() if v.status == VoucherStatus.ISSUED)
        else:
            room = line.quantity - line.returned
        rows.append(ReturnRow(line, max(room, 0)))
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def counter_return(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    redemption = selectors.redemption_get(actor, pk)
    if not can(actor, "redemption.counter", redemption):
        raise NotFound()
    rows = _return_rows(redemption)
    status = 200
    if request.method == "POST":
        form = ReturnForm(request.POST, rows=rows)
        if form.is_valid():
            try:
                services.redemption_return(
                    actor=actor,
                    redemption=redemption,
                    quantities=form.quantities(),
                    reason=form.cleaned_data["reason"],
                    idempotency_key=pages.form_key(request, form.cleaned_data["idempotency_key"]),
                )
            except DomainError as error:
                if error.status in {403, 404}:
                    raise
                form.add_error("reason" if error.field == "reason" else None, str(error.message))
            else:
                messages.success(request, _("Taken back; the points are in the account again."))
                return redirect("market:receipt", pk=redemption.pk)
        status = 400
    else:
        form = ReturnForm(rows=rows)
    return render(
        request,
        "market/c_return.html",
        {
            "r": redemption,
            "community": redemption.community,
            "form": form,
            "payer_name": redemption.payer.name,
            "open": redemption.status == RedemptionStatus.COMPLETED,
        },
        status=status,
    )


# --- today at the counter ---------------------------------------------------------------------------------------------
def _payer_label(redemption: Redemption) -> str:
    return mask_name(redemption.person.name) if redemption.person else redemption.payer.name


@login_required
def counter_history(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    _require_counter(actor, community)
    form = HistoryForm(request.GET or None)
    d: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    day: date = d.get("day") or timezone.localdate()
    qs = selectors.redemptions(
        actor,
        community,
        status=d.get("status") or "",
        channel=d.get("channel") or "",
        q=(d.get("q") or "").strip(),
        since=day,
        until=day,
    )
    page = paginate(request, qs)
    rows = [(r, _payer_label(r)) for r in page.object_list]
    return render(
        request,
        "market/c_history.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "day": day,
            "page": page,
            "rows": rows,
            "query": query_string_without_page(request),
            "completed": RedemptionStatus.COMPLETED,
        },
    )
