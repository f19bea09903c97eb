"""Reads of the points market, always through the actor's scope: the shelf is the community's (everyone who lives or
works there reads it), a redemption belongs to its payer (the resident, or the merchant's operator) and the staff and
grid workers who serve them, a voucher to its holder and to the merchant who delivers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from linli.common.errors import NotFound
from linli.ledger import cards
from linli.ledger import selectors as ledger_selectors
from linli.market import domain
from linli.market.errors import VoucherNotFound
from linli.market.models import (
    ChoiceGroup,
    Product,
    Redemption,
    RedemptionLine,
    RedemptionStatus,
    StockMovement,
    Stocktake,
    StocktakeStatus,
    Voucher,
    VoucherStatus,
)
from linli.org.access import Actor, Scope, can, register_model, require, scope_of, scoped, works_in
from linli.org.models import Community, HouseholdMember, Merchant, Person


def _redemption_scope(redemption: Redemption) -> Scope:
    payer = redemption.person or redemption.merchant
    assert payer is not None
    return scope_of(payer)


def _voucher_scope(voucher: Voucher) -> Scope:
    street_id = Community.objects.filter(pk=voucher.community_id).values_list("street_id", flat=True).first()
    return Scope(
        community_id=voucher.community_id,
        street_id=street_id,
        merchant_id=voucher.merchant_id,
        person_id=voucher.person_id,
    )


def _payer_in(path: str) -> Any:
    return lambda ids: Q(person_id__in=HouseholdMember.objects.filter(**{path: ids}).values("person_id"))


def register_scope() -> None:
    register_model(
        Redemption,
        scope=_redemption_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": _payer_in("household__building__grid_id__in"),
            "building": _payer_in("household__building_id__in"),
            "merchant": "merchant_id",
            "person": "person_id",
        },
    )
    register_model(
        Voucher,
        scope=_voucher_scope,
        paths={
            "street": "community__street_id",
            "community": "community_id",
            "grid": None,
            "building": None,
            "merchant": "merchant_id",
            "person": "person_id",
        },
    )


# --- the shelf ------------------------------------------------------------------------------------------------------
def shelf(
    actor: Actor, community: Community, *, q: str = "", kind: str = "", category: str = "", day: date | None = None
) -> QuerySet[Product]:
    """What can be had today, as residents see it."""
    require(actor, "market.view", community)
    day = day or timezone.localdate()
    qs = (
        Product.objects.filter(community=community, is_active=True)
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=day))
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=day))
        .exclude(merchant__is_active=False)
        .exclude(partner__is_active=False)
        .select_related("merchant", "partner", "choice_group", "photo")
        .defer("photo__data")  # the page links to the photo; its bytes stay in the database
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(category__icontains=q) | Q(merchant__name__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("position", "name", "id")


def categories(community: Community) -> list[str]:
    return list(
        Product.objects.filter(community=community, is_active=True)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


def products(actor: Actor, community: Community, *, q: str = "", include_inactive: bool = True) -> QuerySet[Product]:
    """Every item of the community, for the people who keep the shelf."""
    if not works_in(actor, "stock.view", community) and not can(actor, "market.manage", community):
        require(actor, "market.manage", community)
    qs = Product.objects.filter(community=community).select_related("merchant", "partner", "choice_group")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(category__icontains=q))
    return qs.order_by("position", "name", "id")


def product_get(actor: Actor, pk: Any, *, action: str = "market.view") -> Product:
    try:
        product = Product.objects.select_related("community", "merchant", "partner", "choice_group").get(pk=int(pk))
    except (Product.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if not (works_in(actor, action, product.community) or can(actor, action, product.community)):
        raise NotFound()
    return product


def choice_groups(community: Community) -> QuerySet[ChoiceGroup]:
    return ChoiceGroup.objects.filter(community=community)


def low_stock(actor: Actor, community: Community) -> QuerySet[Product]:
    """Counted items at or below their alert level, emptiest first."""
    return (
        products(actor, community, include_inactive=False)
        .filter(tracks_stock=True)
        .extra(where=["market_product.stock <= market_product.low_stock_at"])
        .order_by("stock", "name")
    )


def movements(actor: Actor, product: Product) -> QuerySet[StockMovement]:
    if not works_in(actor, "stock.view", product.community):
        raise NotFound()
    return StockMovement.objects.filter(product=product).select_related("actor", "redemption").order_by("-id")


def stocktakes(actor: Actor, community: Community) -> QuerySet[Stocktake]:
    if not works_in(actor, "stock.view", community):
        require(actor, "stock.view", community)
    return Stocktake.objects.filter(community=community).select_related("started_by", "closed_by").order_by("-id")


def open_stocktake(community: Community) -> Stocktake | None:
    return Stocktake.objects.filter(community=community, status=StocktakeStatus.OPEN).first()


def stocktake_get(actor: Actor, pk: Any) -> Stocktake:
    try:
        take = Stocktake.objects.select_related("community", "started_by", "closed_by").get(pk=int(pk))
    except (Stocktake.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if not works_in(actor, "stock.view", take.community):
        raise NotFound()
    return take


# --- payers ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PayerView:
    payer: Person | Merchant
    balance: int
    open_reservations: list[Redemption]


def balance_of(payer: Person | Merchant) -> int:
    """The payer's points; 0 before they ever had any (reading never creates an account)."""
    if isinstance(payer, Person):
        return ledger_selectors.person_balance(payer.pk)
    return ledger_selectors.merchant_balance(payer.pk)


def payer_view(actor: Actor, payer: Person | Merchant) -> PayerView:
    """What the counter shows once a card is scanned: balance and reservations waiting to be picked up."""
    require(actor, "redemption.counter", payer, hide=True)
    return PayerView(payer, balance_of(payer), list(reservations_of(payer)))


def reservations_of(payer: Person | Merchant) -> QuerySet[Redemption]:
    field = "person" if isinstance(payer, Person) else "merchant"
    return (
        Redemption.objects.filter(**{field: payer}, status=RedemptionStatus.RESERVED)
        .prefetch_related("lines")
        .order_by("reserved_until")
    )


def person_by_card(actor: Actor, scanned: str) -> Person:
    """The resident whose live QR points card was scanned (or its code typed)."""
    person = cards.person_by_card(cards.token_from(scanned))
    if person is None or not can(actor, "redemption.counter", person):
        raise NotFound(code="card_unknown")
    return person


def counter_people(actor: Actor, community: Community, q: str) -> QuerySet[Person]:
    """Search by name or the last digits of a phone, for residents who forgot their card."""
    q = (q or "").strip()
    qs = scoped(actor, "redemption.counter", Person.objects.filter(community=community, is_active=True))
    if not q:
        return qs.none()
    return qs.filter(Q(name__icontains=q) | Q(phone__endswith=q)).order_by("name")[:20]


# --- redemptions ----------------------------------------------------------------------------------------------------
def _redemptions() -> QuerySet[Redemption]:
    return Redemption.objects.select_related("person", "merchant", "actor", "handed_over_by").prefetch_related(
        Prefetch("lines", queryset=RedemptionLine.objects.select_related("product")),
        Prefetch("lines__vouchers", queryset=Voucher.objects.order_by("pk")),
    )


def redemptions(
    actor: Actor,
    community: Community | None = None,
    *,
    status: str = "",
    channel: str = "",
    q: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Redemption]:
    qs = scoped(actor, "redemption.view", _redemptions())
    if community is not None:
        qs = qs.filter(community=community)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(person__name__icontains=q) | Q(merchant__name__icontains=q))
    if since:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        qs = qs.filter(created_at__lt=timezone.make_aware(datetime.combine(until, time.max)))
    return qs.order_by("-id")


def my_redemptions(actor: Actor) -> QuerySet[Redemption]:
    if not actor.person_id:
        return Redemption.objects.none()
    return _redemptions().filter(person_id=actor.person_id).order_by("-id")


def redemption_get(actor: Actor, pk: Any) -> Redemption:
    try:
        redemption = _redemptions().get(pk=int(pk))
    except (Redemption.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    require(actor, "redemption.view", redemption, hide=True)
    return redemption


# --- vouchers -------------------------------------------------------------------------------------------------------
def _vouchers() -> QuerySet[Voucher]:
    return Voucher.objects.select_related("product", "person", "merchant", "partner", "used_by", "line__redemption")


def my_vouchers(actor: Actor) -> QuerySet[Voucher]:
    if not actor.person_id:
        return Voucher.objects.none()
    return _vouchers().filter(person_id=actor.person_id).order_by("status", "valid_until")


def vouchers(actor: Actor, *, merchant: Merchant | None = None, status: str = "") -> QuerySet[Voucher]:
    qs = scoped(actor, "voucher.view", _vouchers())
    if merchant is not None:
        qs = qs.filter(merchant=merchant)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def voucher_get(actor: Actor, pk: Any) -> Voucher:
    try:
        voucher = _vouchers().get(pk=int(pk))
    except (Voucher.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    require(actor, "voucher.view", voucher, hide=True)
    return voucher


def voucher_find(actor: Actor, typed: str) -> Voucher:
    """A voucher by the code a merchant typed or scanned; only the ones the actor may use are found."""
    code = domain.clean_code(typed)
    if not domain.code_well_formed(code):
        raise VoucherNotFound()
    voucher = _vouchers().filter(code=code).first()
    if voucher is None or not can(actor, "voucher.use", voucher):
        raise VoucherNotFound()
    return voucher


def operator_merchants(actor: Actor) -> QuerySet[Merchant]:
    """The shops whose operator the actor is."""
    ids = {i for g in actor.grants if g.level == "merchant" for i in g.ids}
    return Merchant.objects.filter(pk__in=ids).order_by("name")


def vouchers_used_recently(actor: Actor, merchant: Merchant, *, limit: int = 20) -> QuerySet[Voucher]:
    return vouchers(actor, merchant=merchant, status=VoucherStatus.USED).order_by("-used_at")[:limit]
