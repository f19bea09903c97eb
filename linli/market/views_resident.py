"""The points market on a phone (积分超市): the shelf with "you have N points", reserving an item to pick up at the
counter, my redemptions and my vouchers with their QR codes.

Who pays: a resident pays from their own points; a merchant operator (爱心商户) may pay from their shop's points, and
someone who is both picks with a simple switch ("pay from: me / the shop"). Everyone else who works in the community
sees the shelf as residents see it, without the reserve buttons.

Thin views: parse, one service or selector call, render. A refusal of the service (out of stock, over the limit, not
enough points, not on the shelf) is shown on the shelf in plain words with its status; nothing is half-done because
the service is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from linli.common.errors import DomainError, Forbidden, NotFound
from linli.market import domain, selectors, services
from linli.market.forms_resident import ReserveForm
from linli.market.models import Product, ProductKind, Redemption, RedemptionStatus, Voucher, VoucherStatus
from linli.org import pages
from linli.org import selectors as org_selectors
from linli.org.access import Actor
from linli.org.context_processors import get_actor
from linli.org.models import Community, Merchant, Person

Payer = Person | Merchant

KIND_FILTERS = (
    (ProductKind.GOODS, gettext_lazy("goods")),
    (ProductKind.DONATED, gettext_lazy("second-hand")),
    (ProductKind.SERVICE, gettext_lazy("services")),
    (ProductKind.COUPON, gettext_lazy("coupons")),
)
SHELF_SHOWN = 200  # a community shelf is tens of items; this only bounds a runaway search
MINE_SHOWN = 50


# --- who pays -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """One way the actor can pay: themselves ("me") or one of their shops (its id as text)."""

    value: str
    label: str
    payer: Payer


def _choices(actor: Actor) -> list[Choice]:
    choices: list[Choice] = []
    if actor.person_id:
        person = org_selectors.get_visible(actor, Person, actor.person_id)
        if person.is_active:
            choices.append(Choice("me", _("me"), person))
    for shop in selectors.operator_merchants(actor):
        if shop.is_active:
            choices.append(Choice(str(shop.pk), shop.name, shop))
    return choices


def _chosen(choices: list[Choice], wanted: str) -> Choice | None:
    for choice in choices:
        if choice.value == wanted:
            return choice
    return choices[0] if choices else None


def _is_mine(choices: list[Choice], redemption: Redemption) -> bool:
    return any(
        (isinstance(c.payer, Person) and redemption.person_id == c.payer.pk)
        or (isinstance(c.payer, Merchant) and redemption.merchant_id == c.payer.pk)
        for c in choices
    )


def _community(request: HttpRequest, actor: Actor, choice: Choice | None) -> Community:
    if choice is not None:
        return Community.objects.get(pk=choice.payer.community_id)
    return pages.community_of(request, actor)


# --- how an item reads ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    product: Product
    left: str  # stock in words, "" when plenty or not counted
    sold_out: bool
    need: int  # points still missing for one, 0 when affordable
    limit: str
    form: ReserveForm


LOW_STOCK_WORDS_AT = 5


def stock_words(product: Product) -> tuple[str, bool]:
    """ "Only 2 left" / "Out of stock" in words; nothing said when there is plenty or stock is not counted."""
    if not product.tracks_stock:
        return "", False
    if product.stock <= 0:
        return _("Out of stock"), True
    if product.stock <= max(LOW_STOCK_WORDS_AT, product.low_stock_at):
        return ngettext("Only %(n)d left", "Only %(n)d left", product.stock) % {"n": product.stock}, False
    return "", False


def limit_words(product: Product) -> str:
    if product.limit_per_person is None:
        return ""
    return _("At most %(n)d %(unit)s %(period)s per person") % {
        "n": product.limit_per_person,
        "unit": product.unit,
        "period": product.get_limit_period_display(),
    }


def _items(products: list[Product], balance: int | None, pay: str, typed: dict[int, Any]) -> list[Item]:
    out = []
    for p in products:
        left, sold_out = stock_words(p)
        need = max(0, p.price - balance) if balance is not None else 0
        form = ReserveForm(initial={"product": p.pk, "pay": pay, "quantity": typed.get(p.pk, 1)})
        out.append(Item(p, left, sold_out, need, limit_words(p), form))
    return out


def qr_svg(text: str, title: str) -> str:
    """An inline SVG QR code, sharp at any size on a phone screen (the counter's scanner reads it from the glass)."""
    code = segno.make(text, error="m", micro=False)
    return str(code.svg_inline(scale=8, border=4, omitsize=True, svgclass="qr", light="#fff", title=title))


# --- the shelf ------------------------------------------------------------------------------------------------------
def _shelf_context(
    request: HttpRequest, actor: Actor, wanted_pay: str, *, error: str = "", product_id: int | None = None,
    quantity: Any = None,
) -> dict[str, Any]:  # fmt: skip
    choices = _choices(actor)
    choice = _chosen(choices, wanted_pay)
    community = _community(request, actor, choice)
    q = (request.GET.get("q") or "").strip()[:40]
    kind = request.GET.get("kind") or ""
    kind = kind if kind in ProductKind.values else ""
    category = (request.GET.get("category") or "").strip()[:40]
    products = list(selectors.shelf(actor, community, q=q, kind=kind, category=category)[:SHELF_SHOWN])
    balance = selectors.balance_of(choice.payer) if choice is not None else None
    typed = {product_id: quantity} if product_id is not None and quantity else {}
    return {
        "community": community,
        "choices": choices,
        "choice": choice,
        "balance": balance,
        "items": _items(products, balance, choice.value if choice else "", typed),
        "q": q,
        "kind": kind,
        "category": category,
        "kinds": KIND_FILTERS,
        "categories": selectors.categories(community),
        "reservations": list(selectors.reservations_of(choice.payer)) if choice is not None else [],
        "error": error,
        "error_product": product_id,
    }


@login_required
@require_GET
def shelf(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    return render(request, "market/r_shelf.html", _shelf_context(request, actor, request.GET.get("pay", "")))


def _refused(request: HttpRequest, actor: Actor, form: ReserveForm, message: str, status: int) -> HttpResponse:
    """Back to the shelf with the refusal in plain words at the top and on the item's card; the typed quantity kept."""
    product_id = pages.positive_int(form.data.get("product"))
    context = _shelf_context(
        request, actor, form.data.get("pay", ""), error=message, product_id=product_id,
        quantity=(form.data.get("quantity") or "")[:4],
    )  # fmt: skip
    return render(request, "market/r_shelf.html", context, status=status)


@login_required
@require_POST
def reserve(request: HttpRequest) -> HttpResponse:
    """Reserve one item on the phone: paid now, picked up at the counter (or a voucher issued at once for a service)."""
    actor = get_actor(request)
    form = ReserveForm(request.POST)
    choices = _choices(actor)
    if not choices:
        raise Forbidden(_("Only residents and caring merchants reserve with their points here."))
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0] if form.errors else _("Please check the form.")
        return _refused(request, actor, form, str(first), 400)
    data = form.cleaned_data
    choice = _chosen(choices, data["pay"] or "")
    assert choice is not None
    try:
        placed = services.redemption_create(
            actor=actor,
            payer=choice.payer,
            lines=[domain.Want(data["product"], data["quantity"])],
            channel="phone",
            idempotency_key=pages.form_key(request, data["request_key"]),
        )
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _refused(request, actor, form, str(exc.message), exc.status)
    if placed.replayed:
        messages.info(request, _("This was already reserved; it was reserved once."))
    return redirect("market:my_redemption", pk=placed.redemption.pk)


# --- my redemptions and vouchers ------------------------------------------------------------------------------------
def status_words(redemption: Redemption) -> str:
    if redemption.status == RedemptionStatus.COMPLETED:
        return _("Picked up") if redemption.channel == "phone" else _("Handed over at the counter")
    words: dict[str, str] = {
        RedemptionStatus.RESERVED: _("Reserved: pick it up at the counter"),
        RedemptionStatus.EXPIRED: _("Not picked up in time: points returned"),
        RedemptionStatus.CANCELLED: _("Cancelled: points returned"),
        RedemptionStatus.RETURNED: _("Returned: points given back"),
    }
    return str(words.get(redemption.status, redemption.get_status_display()))


def voucher_words(voucher: Voucher, now: Any) -> str:
    if voucher.status == VoucherStatus.ISSUED and voucher.valid_until < now:
        return _("Expired: the points go back to you")
    words: dict[str, str] = {
        VoucherStatus.ISSUED: _("Ready to use"),
        VoucherStatus.USED: _("Used"),
        VoucherStatus.EXPIRED: _("Expired: points returned"),
        VoucherStatus.CANCELLED: _("Cancelled: points returned"),
    }
    return str(words.get(voucher.status, voucher.get_status_display()))


def _ready_first(vouchers: list[Voucher], now: Any) -> list[Voucher]:
    ready = [v for v in vouchers if v.status == VoucherStatus.ISSUED and v.valid_until >= now]
    rest = [v for v in vouchers if v not in ready]
    ready.sort(key=lambda v: v.valid_until)
    rest.sort(key=lambda v: v.issued_at, reverse=True)
    return ready + rest


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    choices = _choices(actor)
    if not choices:
        raise Forbidden(_("Only residents and caring merchants have redemptions and vouchers here."))
    redemptions = list(selectors.my_redemptions(actor)[:MINE_SHOWN])
    shops = [c.payer.pk for c in choices if isinstance(c.payer, Merchant)]
    if shops:
        redemptions += list(selectors.redemptions(actor).filter(merchant_id__in=shops)[:MINE_SHOWN])
        redemptions.sort(key=lambda r: r.pk, reverse=True)
    now = timezone.now()
    vouchers = _ready_first(list(selectors.my_vouchers(actor)[:MINE_SHOWN]), now)
    return render(
        request,
        "market/r_mine.html",
        {
            "redemptions": [(r, status_words(r)) for r in redemptions],
            "vouchers": [(v, voucher_words(v, now), domain.format_code(v.code)) for v in vouchers],
            "now": now,
        },
    )


def _own_redemption(actor: Actor, pk: int) -> Redemption:
    """One of the actor's own redemptions (or their shop's); someone else's is not found here."""
    redemption = selectors.redemption_get(actor, pk)
    if not _is_mine(_choices(actor), redemption):
        raise NotFound()
    return redemption


def _redemption_page(
    request: HttpRequest, actor: Actor, redemption: Redemption, *, error: str = "", status: int = 200
) -> HttpResponse:
    now = timezone.now()
    vouchers = [
        (v, voucher_words(v, now), domain.format_code(v.code))
        for line in redemption.lines.all()
        for v in line.vouchers.all()
    ]
    return render(
        request,
        "market/r_redemption.html",
        {
            "r": redemption,
            "words": status_words(redemption),
            "reserved": redemption.status == RedemptionStatus.RESERVED,
            "balance": selectors.balance_of(redemption.payer),
            "qr": qr_svg(redemption.number or "", _("Reservation number")) if redemption.number else "",
            "vouchers": vouchers,
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def my_redemption(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    redemption = _own_redemption(actor, pk)
    return _redemption_page(request, actor, redemption)


@login_required
@require_POST
def my_redemption_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Call off a reservation before pick-up: goods back on the shelf, points back at once. Twice is once."""
    actor = get_actor(request)
    redemption = _own_redemption(actor, pk)
    try:
        services.redemption_cancel(actor=actor, redemption=redemption, reason=_("Cancelled on the phone"))
    except DomainError as exc:
        if exc.status in {403, 404}:
            raise
        fresh = selectors.redemption_get(actor, pk)
        return _redemption_page(request, actor, fresh, error=str(exc.message), status=exc.status)
    messages.success(request, _("Cancelled. The points are back in your account."))
    return redirect("market:my_redemption", pk=redemption.pk)


@login_required
@require_GET
def my_voucher(request: HttpRequest, pk: int) -> HttpResponse:
    """One voucher full screen: the QR for the merchant's scanner and the code in huge letters to read out."""
    actor = get_actor(request)
    voucher = selectors.voucher_get(actor, pk)
    if actor.person_id is None or voucher.person_id != actor.person_id:
        raise NotFound()
    now = timezone.now()
    ready = voucher.status == VoucherStatus.ISSUED and voucher.valid_until >= now
    return render(
        request,
        "market/r_voucher.html",
        {
            "v": voucher,
            "words": voucher_words(voucher, now),
            "ready": ready,
            "code": domain.format_code(voucher.code),
            "qr": qr_svg(domain.VOUCHER_QR_PREFIX + voucher.code, _("Voucher code")) if ready else "",
            "back": reverse("market:mine"),
        },
    )
