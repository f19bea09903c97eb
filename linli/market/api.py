"""The points market over JSON (tag "points market"): the shelf and its products, stock receipts and adjustments,
movements, low stock, stocktakes (清点), the resident's own market page, redemptions at the counter or reserved on the
phone with their pick-up, cancellation and returns, vouchers and their use (核销), and the market's settings.

Writes that move points, and creating an item, need an `Idempotency-Key` header (1..100 printable characters; 400
idempotency_key_required when missing), kept apart per user: POST /market/redemptions answers 201 the first time and
200 with the same redemption for a retry (the same key with another basket is 409 idempotency_key_reused), and
POST /market/products likewise with the first item (another item under the same key is 409); a return or a voucher use
sent again with its key answers with the state it left. Hand-over and cancel are idempotent by their nature (the
second one answers with the first); stocktake steps refuse a closed count (409 stocktake_closed).

Who (linli.org.access): "market.view" reads the shelf (everyone who lives or works in the community); "market.manage"
changes products and settings (staff); "stock.view" / "stock.manage" / "stock.count" the stock book, receipts and
adjustments, stocktakes (grid roles too, through works_in); "redemption.counter" serves at the counter (staff, grid
workers for their residents), "redemption.reserve" is a resident's own (or a merchant operator's shop's) phone
reservation; "voucher.use" is the provider's operator or staff. Objects outside the caller's scope are 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields as dataclass_fields
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from linli.common.api import Id, IdempotencyKey, PageIn, actor, idempotency_key, paginate, responses
from linli.common.errors import Forbidden, Invalid, NotFound
from linli.market import domain, selectors, services
from linli.market.models import (
    ChoiceGroup,
    Product,
    ProductPhoto,
    Redemption,
    RedemptionLine,
    RedemptionStatus,
    StockMovement,
    Stocktake,
    Voucher,
    VoucherStatus,
)
from linli.market.schemas import (
    AdjustmentIn,
    CancelIn,
    CodeIn,
    CommunityIn,
    CountsIn,
    MeOut,
    MovementOut,
    MovementsOut,
    ProductFieldsIn,
    ProductIn,
    ProductOut,
    ProductsOut,
    ReceiptIn,
    RedemptionFilterIn,
    RedemptionIn,
    RedemptionOut,
    RedemptionsOut,
    ReturnIn,
    SettingsIn,
    SettingsOut,
    ShelfIn,
    StocktakeDetailOut,
    StocktakeIn,
    StocktakesOut,
    VoucherFilterIn,
    VoucherOut,
    VouchersOut,
)
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require_any, works_in
from linli.org.domain import mask_name
from linli.org.models import Community, Merchant, PartnerUnit, Person

router = Router(tags=["points market"])

_key = idempotency_key  # the handlers' `idempotency_key` parameter (the header) shadows the name


# --- input ----------------------------------------------------------------------------------------------------------


def _community(act: Actor, pk: int) -> Community:
    return org_selectors.get_visible(act, Community, pk)


def _in(model: type[Any], pk: int | None, field: str) -> Any:
    """A referenced row by id (None stays None); an unknown id is a 400 on that field, not a 404 of the operation."""
    if pk is None:
        return None
    found = model._default_manager.filter(pk=pk).first()
    if found is None:
        raise Invalid(_("That is not in this community."), code="other_community", field=field)
    return found


# fields a PATCH may clear by sending null; every other field keeps its value when left out and refuses null
_NULLABLE = {"merchant_id", "partner_id", "limit_per_person", "available_from", "available_until", "choice_group_id"}
_REFS: dict[str, tuple[str, type[Any]]] = {
    "merchant_id": ("merchant", Merchant),
    "partner_id": ("partner", PartnerUnit),
    "choice_group_id": ("choice_group", ChoiceGroup),
}


def _product_data(fields: dict[str, Any], base: Product | None) -> services.ProductData:
    """ProductData from what was sent, on top of the product as it is (PATCH) or the defaults (POST)."""
    if base is not None:
        data = services.ProductData(name=base.name, price=base.price)
        for f in dataclass_fields(services.ProductData):
            setattr(data, f.name, getattr(base, f.name))
    else:
        data = services.ProductData(name=fields["name"], price=fields["price"])
    for name, value in fields.items():
        if value is None and name not in _NULLABLE:
            raise Invalid(_("This field cannot be left empty."), code="invalid_input", field=name)
        if name in _REFS:
            attr, model = _REFS[name]
            setattr(data, attr, _in(model, value, name))
        elif hasattr(data, name):
            setattr(data, name, value)
    return data


# --- output ---------------------------------------------------------------------------------------------------------


def _photo_ids(products: Iterable[Product]) -> set[int]:
    ids = [p.pk for p in products]
    return set(ProductPhoto.objects.filter(product_id__in=ids).values_list("product_id", flat=True)) if ids else set()


def _product_out(p: Product, photos: set[int]) -> dict[str, Any]:
    return {
        "id": p.pk,
        "community_id": p.community_id,
        "name": p.name,
        "kind": p.kind,
        "kind_label": str(p.get_kind_display()),
        "category": p.category,
        "description": p.description,
        "unit": p.unit,
        "price": p.price,
        "merchant_id": p.merchant_id,
        "merchant_name": p.merchant.name if p.merchant_id and p.merchant else "",
        "partner_id": p.partner_id,
        "partner_name": p.partner.name if p.partner_id and p.partner else "",
        "tracks_stock": p.tracks_stock,
        "stock": p.stock if p.tracks_stock else None,
        "low_stock_at": p.low_stock_at,
        "is_low": p.is_low,
        "limit_per_person": p.limit_per_person,
        "limit_period": p.limit_period,
        "available_from": p.available_from,
        "available_until": p.available_until,
        "choice_group_id": p.choice_group_id,
        "choice_group_name": p.choice_group.name if p.choice_group_id and p.choice_group else "",
        "is_active": p.is_active,
        "position": p.position,
        "issues_voucher": p.issues_voucher,
        "photo_url": reverse("market:product_photo", args=[p.pk]) if p.pk in photos else None,
    }


def _products_page(qs: QuerySet[Product], page: PageIn) -> dict[str, Any]:
    found = paginate(qs, page)
    photos = _photo_ids(found["items"])
    return {"count": found["count"], "items": [_product_out(p, photos) for p in found["items"]]}


def _one_product(act: Actor, pk: int) -> dict[str, Any]:
    product = selectors.product_get(act, pk)
    return _product_out(product, _photo_ids([product]))


def _movement_out(m: StockMovement) -> dict[str, Any]:
    return {
        "id": m.pk,
        "product_id": m.product_id,
        "kind": m.kind,
        "kind_label": str(m.get_kind_display()),
        "quantity": m.quantity,
        "stock_after": m.stock_after,
        "reason": m.reason,
        "redemption_id": m.redemption_id,
        "redemption_number": m.redemption.number if m.redemption_id and m.redemption else None,
        "stocktake_id": m.stocktake_id,
        "actor_id": m.actor_id,
        "actor_name": m.actor.name if m.actor_id and m.actor else "",
        "created_at": m.created_at,
    }


class _Names:
    """People's names as the caller may read them: in full with "person.view_private", masked otherwise."""

    def __init__(self, act: Actor) -> None:
        self.act = act
        self.reveal: dict[int, bool] = {}

    def __call__(self, person: Person) -> str:
        if person.pk not in self.reveal:
            self.reveal[person.pk] = can(self.act, "person.view_private", person)
        return person.name if self.reveal[person.pk] else mask_name(person.name)


def _payer_name(r: Redemption | Voucher, names: Callable[[Person], str]) -> str:
    if r.person_id and r.person:
        return names(r.person)
    merchant = r.merchant if isinstance(r, Redemption) else r.holder_merchant
    return merchant.name if merchant else ""


def _redemption_out(r: Redemption, names: Callable[[Person], str]) -> dict[str, Any]:
    return {
        "id": r.pk,
        "community_id": r.community_id,
        "number": r.number,
        "person_id": r.person_id,
        "merchant_id": r.merchant_id,
        "payer_name": _payer_name(r, names),
        "channel": r.channel,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "total": r.total,
        "refunded": r.refunded,
        "balance_after": r.balance_after,
        "reserved_until": r.reserved_until,
        "created_at": r.created_at,
        "handed_over_at": r.handed_over_at,
        "closed_at": r.closed_at,
        "reason": r.reason,
        "lines": [
            {
                "id": x.pk,
                "product_id": x.product_id,
                "name": x.name,
                "quantity": x.quantity,
                "price": x.price,
                "points": x.points,
                "returned": x.returned,
                "voucher_ids": [v.pk for v in x.vouchers.all()],
            }
            for x in r.lines.all()
        ],
    }


def _redemption_detail(act: Actor, pk: int) -> dict[str, Any]:
    """A redemption re-read with its lines and vouchers (services return the row they changed)."""
    return _redemption_out(selectors.redemption_get(act, pk), _Names(act))


def _voucher_out(v: Voucher, act: Actor, names: _Names, *, reveal: bool = False) -> dict[str, Any]:
    # the code is what the provider asks for: only its holder (or whoever just typed it) reads it while it is open
    holder = reveal or (act.person_id is not None and v.person_id == act.person_id)
    shown = holder or v.status != VoucherStatus.ISSUED
    code = domain.format_code(v.code) if shown else f"{v.code[:4]}-****"
    redemption = v.line.redemption
    return {
        "id": v.pk,
        "code": code,
        "qr": f"{domain.VOUCHER_QR_PREFIX}{v.code}" if holder and v.status == VoucherStatus.ISSUED else None,
        "product_id": v.product_id,
        "product_name": v.line.name,
        "merchant_id": v.merchant_id,
        "merchant_name": v.merchant.name if v.merchant_id and v.merchant else "",
        "partner_id": v.partner_id,
        "partner_name": v.partner.name if v.partner_id and v.partner else "",
        "person_id": v.person_id,
        "person_name": _payer_name(v, names),
        "points": v.points,
        "status": v.status,
        "status_label": str(v.get_status_display()),
        "valid_until": v.valid_until,
        "issued_at": v.issued_at,
        "used_at": v.used_at,
        "redemption_id": redemption.pk,
        "redemption_number": redemption.number,
    }


def _stocktake_out(t: Stocktake) -> dict[str, Any]:
    return {
        "id": t.pk,
        "community_id": t.community_id,
        "status": t.status,
        "status_label": str(t.get_status_display()),
        "note": t.note,
        "started_by_id": t.started_by_id,
        "started_at": t.started_at,
        "closed_by_id": t.closed_by_id,
        "closed_at": t.closed_at,
    }


def _stocktake_detail(act: Actor, pk: int) -> dict[str, Any]:
    take = selectors.stocktake_get(act, pk)
    lines = list(take.lines.select_related("product").order_by("product__position", "product__name", "pk"))
    counted = [x for x in lines if x.counted is not None]
    totals = domain.variance_totals(
        domain.Variance(x.product_id, x.expected, x.counted, x.price) for x in counted if x.counted is not None
    )
    return {
        **_stocktake_out(take),
        "lines": [
            {
                "id": x.pk,
                "product_id": x.product_id,
                "product_name": x.product.name,
                "expected": x.expected,
                "counted": x.counted,
                "variance": x.variance,
                "price": x.price,
            }
            for x in lines
        ],
        "counted": len(counted),
        "variance": totals,
    }


def _settings_out(found: Any) -> dict[str, Any]:
    return {
        "community_id": found.community_id,
        "reservation_days": found.reservation_days,
        "voucher_days": found.voucher_days,
        "counter_note": found.counter_note,
    }


# --- the shelf and its products -------------------------------------------------------------------------------------


@router.get(
    "/market/products",
    response=responses({200: ProductsOut}),
    summary="The shelf of a community as residents see it today; include_inactive: every item (those who keep it)",
)
def list_products(request: HttpRequest, filters: Query[ShelfIn]) -> dict[str, Any]:
    act = actor(request)
    community = _community(act, filters.community)
    q = filters.q.strip()
    if filters.include_inactive:
        qs = selectors.products(act, community, q=q)
        if filters.kind:
            qs = qs.filter(kind=filters.kind)
        if filters.category:
            qs = qs.filter(category=filters.category)
    else:
        qs = selectors.shelf(act, community, q=q, kind=filters.kind or "", category=filters.category)
    return _products_page(qs, filters)


@router.get("/market/products/{product_id}", response=responses({200: ProductOut}), summary="One item")
def get_product(request: HttpRequest, product_id: Id) -> dict[str, Any]:
    return _one_product(actor(request), product_id)


@router.post(
    "/market/products",
    response=responses({200: ProductOut, 201: ProductOut}),
    summary=(
        "Put a new item on the shelf (staff); a stock above zero is booked as its first receipt (201; 200 with the "
        "first item when the same request was already made under this Idempotency-Key)"
    ),
)
def create_product(request: HttpRequest, payload: ProductIn, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    community = _community(act, payload.community_id)
    fields = payload.model_dump(exclude_unset=True, exclude={"community_id", "stock"})
    created = services.product_create_once(
        actor=act, community=community, data=_product_data(fields, None), stock=payload.stock, idempotency_key=key
    )
    return Status(200 if created.replayed else 201, _one_product(act, created.product.pk))


@router.patch(
    "/market/products/{product_id}",
    response=responses({200: ProductOut}),
    summary="Change how an item is offered (staff): only the fields sent; its stock changes only by movements",
)
def update_product(request: HttpRequest, product_id: Id, payload: ProductFieldsIn) -> dict[str, Any]:
    act = actor(request)
    product = selectors.product_get(act, product_id)
    data = _product_data(payload.model_dump(exclude_unset=True), product)
    services.product_update(actor=act, product=product, data=data)
    return _one_product(act, product.pk)


@router.post(
    "/market/products/{product_id}/receipts",
    response=responses({201: MovementOut}),
    summary="Goods delivered to the shelf (a purchase, a partner's gift)",
)
def receive_stock(request: HttpRequest, product_id: Id, payload: ReceiptIn) -> Status[Any]:
    act = actor(request)
    product = selectors.product_get(act, product_id)
    movement = services.stock_receive(actor=act, product=product, quantity=payload.quantity, reason=payload.reason)
    return Status(201, _movement_out(movement))


@router.post(
    "/market/products/{product_id}/adjustments",
    response=responses({201: MovementOut}),
    summary="Correct the stock with a reason (broken, spoilt, found); never below zero",
)
def adjust_stock(request: HttpRequest, product_id: Id, payload: AdjustmentIn) -> Status[Any]:
    act = actor(request)
    product = selectors.product_get(act, product_id)
    movement = services.stock_adjust(actor=act, product=product, change=payload.change, reason=payload.reason)
    return Status(201, _movement_out(movement))


@router.get(
    "/market/products/{product_id}/movements",
    response=responses({200: MovementsOut}),
    summary="Every change of an item's stock, newest first, with who and why",
)
def list_movements(request: HttpRequest, product_id: Id, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    found = paginate(selectors.movements(act, selectors.product_get(act, product_id)), page)
    return {"count": found["count"], "items": [_movement_out(m) for m in found["items"]]}


@router.get(
    "/market/low-stock",
    response=responses({200: list[ProductOut]}),
    summary="Counted items at or below their alert level, emptiest first",
)
def list_low_stock(request: HttpRequest, filters: Query[CommunityIn]) -> list[dict[str, Any]]:
    act = actor(request)
    items = list(selectors.low_stock(act, _community(act, filters.community)))
    photos = _photo_ids(items)
    return [_product_out(p, photos) for p in items]


# --- stocktakes -----------------------------------------------------------------------------------------------------


@router.get("/market/stocktakes", response=responses({200: StocktakesOut}), summary="The counts of a community")
def list_stocktakes(request: HttpRequest, filters: Query[CommunityIn], page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    found = paginate(selectors.stocktakes(act, _community(act, filters.community)), page)
    return {"count": found["count"], "items": [_stocktake_out(t) for t in found["items"]]}


@router.post(
    "/market/stocktakes",
    response=responses({201: StocktakeDetailOut}),
    summary="Start counting the shelf (清点); one open count per community (409 stocktake_open)",
)
def start_stocktake(request: HttpRequest, payload: StocktakeIn) -> Status[Any]:
    act = actor(request)
    take = services.stocktake_start(actor=act, community=_community(act, payload.community_id), note=payload.note)
    return Status(201, _stocktake_detail(act, take.pk))


@router.get(
    "/market/stocktakes/{stocktake_id}",
    response=responses({200: StocktakeDetailOut}),
    summary="One count with its lines and the variance so far",
)
def get_stocktake(request: HttpRequest, stocktake_id: Id) -> dict[str, Any]:
    return _stocktake_detail(actor(request), stocktake_id)


@router.post(
    "/market/stocktakes/{stocktake_id}/counts",
    response=responses({200: StocktakeDetailOut}),
    summary="Write down what was counted (null clears a count); may be sent many times",
)
def count_stocktake(request: HttpRequest, stocktake_id: Id, payload: CountsIn) -> dict[str, Any]:
    act = actor(request)
    take = selectors.stocktake_get(act, stocktake_id)
    counts: dict[int, int | None] = {}
    for line in payload.counts:
        if line.product_id in counts:
            raise Invalid(_("Each item once per request."), code="count_twice", field=str(line.product_id))
        counts[line.product_id] = line.counted
    services.stocktake_count(actor=act, stocktake=take, counts=counts)
    return _stocktake_detail(act, take.pk)


@router.post(
    "/market/stocktakes/{stocktake_id}/close",
    response=responses({200: StocktakeDetailOut}),
    summary="Close the count: every difference is booked as a stocktake movement",
)
def close_stocktake(request: HttpRequest, stocktake_id: Id) -> dict[str, Any]:
    act = actor(request)
    services.stocktake_close(actor=act, stocktake=selectors.stocktake_get(act, stocktake_id))
    return _stocktake_detail(act, stocktake_id)


@router.post(
    "/market/stocktakes/{stocktake_id}/cancel",
    response=responses({200: StocktakeDetailOut}),
    summary="Call off an open count; nothing is booked",
)
def cancel_stocktake(request: HttpRequest, stocktake_id: Id) -> dict[str, Any]:
    act = actor(request)
    services.stocktake_cancel(actor=act, stocktake=selectors.stocktake_get(act, stocktake_id))
    return _stocktake_detail(act, stocktake_id)


# --- the resident's own ---------------------------------------------------------------------------------------------


@router.get(
    "/market/me",
    response=responses({200: MeOut}),
    summary="The signed-in resident's points, reservations waiting to be picked up and vouchers still to use",
)
def my_market(request: HttpRequest) -> dict[str, Any]:
    act = actor(request)
    names = _Names(act)
    person = Person.objects.filter(pk=act.person_id).first() if act.person_id else None
    if person is None:  # a login without a resident behind it has nothing here
        return {"person_id": None, "community_id": None, "balance": 0, "reservations": [], "vouchers": []}
    reserved = selectors.my_redemptions(act).filter(status=RedemptionStatus.RESERVED).order_by("reserved_until")
    vouchers = selectors.my_vouchers(act).filter(status=VoucherStatus.ISSUED).order_by("valid_until", "pk")
    return {
        "person_id": person.pk,
        "community_id": person.community_id,
        "balance": selectors.balance_of(person),
        "reservations": [_redemption_out(r, names) for r in reserved],
        "vouchers": [_voucher_out(v, act, names) for v in vouchers],
    }


# --- redemptions ----------------------------------------------------------------------------------------------------


def _payer(act: Actor, payload: RedemptionIn) -> Person | Merchant:
    given = payload.payer
    if given.card is not None:
        return selectors.person_by_card(act, given.card)
    found: Person | Merchant | None
    if given.person_id is not None:
        found = Person.objects.filter(pk=given.person_id).first()
    else:
        found = Merchant.objects.filter(pk=given.merchant_id or 0).first()
    if found is None:
        raise NotFound(field="payer")
    return found


@router.post(
    "/market/redemptions",
    response=responses({200: RedemptionOut, 201: RedemptionOut}),
    summary=(
        "Exchange points for a basket, at the counter or reserved on the phone (201; 200 when the same request was "
        "already placed under this Idempotency-Key). All or nothing: 409 out_of_stock, insufficient_points, "
        "limit_reached"
    ),
)
def create_redemption(
    request: HttpRequest, payload: RedemptionIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    placed = services.redemption_create(
        actor=act,
        payer=_payer(act, payload),
        lines=[domain.Want(x.product_id, x.quantity) for x in payload.lines],
        channel=payload.channel,
        idempotency_key=key,
    )
    return Status(200 if placed.replayed else 201, _placed_out(placed))


def _placed_out(placed: services.Placed) -> dict[str, Any]:
    """The receipt of a redemption just placed (or replayed), without reading it again through the scope checks: the
    service has just allowed the caller to serve or be this payer (redemption.counter / .reserve, both within
    redemption.view), and whoever may serve a resident reads their name in full (person.view_private). The counter's
    hot path: this saves the five queries of a second permission check, and a new one's lines and vouchers are the
    ones the service just wrote (two more)."""
    redemption = placed.redemption
    if placed.lines is not None:
        vouchers = placed.vouchers or []
        for line in placed.lines:
            _prefetched(line, "vouchers", [v for v in vouchers if v.line_id == line.pk])
        _prefetched(redemption, "lines", placed.lines)
    else:
        lines = RedemptionLine.objects.filter(redemption=redemption).prefetch_related(
            Prefetch("vouchers", queryset=Voucher.objects.order_by("pk"))
        )
        _prefetched(redemption, "lines", list(lines))
    payer = redemption.person or redemption.merchant
    return _redemption_out(redemption, lambda _person: payer.name if payer is not None else "")


def _prefetched(obj: Any, name: str, rows: Sequence[Any]) -> None:
    """Fill `obj.<name>.all()` with `rows`, as prefetch_related would (a query set whose results are already in)."""
    query = getattr(obj, name).all()
    query._result_cache = list(rows)
    query._prefetch_done = True
    obj._prefetched_objects_cache = {**getattr(obj, "_prefetched_objects_cache", {}), name: query}


@router.get(
    "/market/redemptions",
    response=responses({200: RedemptionsOut}),
    summary="Redemptions the caller may read (their own, their residents', their community's), newest first",
)
def list_redemptions(request: HttpRequest, filters: Query[RedemptionFilterIn]) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "redemption.view")  # a building steward has no redemptions to read: 403, not an empty list
    if filters.since and filters.until and filters.since > filters.until:
        raise Invalid(_("The start date lies after the end date."), code="date_range", field="since")
    community = _community(act, filters.community) if filters.community is not None else None
    qs = selectors.redemptions(
        act,
        community,
        status=filters.status or "",
        channel=filters.channel or "",
        q=filters.q.strip(),
        since=filters.since,
        until=filters.until,
    )
    found = paginate(qs, filters)
    names = _Names(act)
    return {"count": found["count"], "items": [_redemption_out(r, names) for r in found["items"]]}


@router.get(
    "/market/redemptions/{redemption_id}",
    response=responses({200: RedemptionOut}),
    summary="One redemption with its lines (the receipt)",
)
def get_redemption(request: HttpRequest, redemption_id: Id) -> dict[str, Any]:
    return _redemption_detail(actor(request), redemption_id)


@router.post(
    "/market/redemptions/{redemption_id}/hand-over",
    response=responses({200: RedemptionOut}),
    summary="A reservation is picked up at the counter (sent twice: answered with the first hand-over)",
)
def hand_over_redemption(request: HttpRequest, redemption_id: Id) -> dict[str, Any]:
    act = actor(request)
    services.redemption_hand_over(actor=act, redemption=selectors.redemption_get(act, redemption_id))
    return _redemption_detail(act, redemption_id)


@router.post(
    "/market/redemptions/{redemption_id}/cancel",
    response=responses({200: RedemptionOut}),
    summary="Call off a reservation before pick-up: goods back on the shelf, points back (idempotent)",
)
def cancel_redemption(request: HttpRequest, redemption_id: Id, payload: CancelIn) -> dict[str, Any]:
    act = actor(request)
    redemption = selectors.redemption_get(act, redemption_id)
    services.redemption_cancel(actor=act, redemption=redemption, reason=payload.reason)
    return _redemption_detail(act, redemption_id)


@router.post(
    "/market/redemptions/{redemption_id}/return",
    response=responses({200: RedemptionOut}),
    summary="Goods brought back (or unused vouchers handed in): stock and points back together",
)
def return_redemption(
    request: HttpRequest, redemption_id: Id, payload: ReturnIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    act = actor(request)
    # the service prefixes the key with the redemption; a digest keeps any header of 1..100 characters within bounds
    key = hashlib.sha256(_key(request, idempotency_key).encode()).hexdigest()[:40]
    redemption = selectors.redemption_get(act, redemption_id)
    quantities: dict[int, int] = {}
    for line in payload.lines:
        quantities[line.line_id] = quantities.get(line.line_id, 0) + line.quantity
    services.redemption_return(
        actor=act, redemption=redemption, quantities=quantities, reason=payload.reason, idempotency_key=key
    )
    return _redemption_detail(act, redemption_id)


# --- vouchers -------------------------------------------------------------------------------------------------------


@router.get(
    "/market/vouchers",
    response=responses({200: VouchersOut}),
    summary="Vouchers the caller may read: a resident's own, a merchant's to deliver, a community's (staff)",
)
def list_vouchers(request: HttpRequest, filters: Query[VoucherFilterIn]) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "voucher.view")
    merchant = org_selectors.get_visible(act, Merchant, filters.merchant) if filters.merchant is not None else None
    found = paginate(selectors.vouchers(act, merchant=merchant, status=filters.status or ""), filters)
    names = _Names(act)
    return {"count": found["count"], "items": [_voucher_out(v, act, names) for v in found["items"]]}


@router.get(
    "/market/vouchers/lookup",
    response=responses({200: VoucherOut}),
    summary="A voucher by the code typed or scanned (K7M2-Q9XD, k7m2q9xd, LINLI-V:…); only ones the caller may use",
)
def lookup_voucher(request: HttpRequest, filters: Query[CodeIn]) -> dict[str, Any]:
    act = actor(request)
    return _voucher_out(selectors.voucher_find(act, filters.code), act, _Names(act), reveal=True)


@router.post(
    "/market/vouchers/{voucher_id}/use",
    response=responses({200: VoucherOut}),
    summary="The service was delivered (核销): the voucher's points go to the market for good",
)
def use_voucher(
    request: HttpRequest, voucher_id: Id, data: CodeIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    voucher = selectors.voucher_get(act, voucher_id)
    used = services.voucher_use(actor=act, voucher=voucher, code=data.code, idempotency_key=key)
    return _voucher_out(selectors.voucher_get(act, used.pk), act, _Names(act))


# --- settings -------------------------------------------------------------------------------------------------------


@router.get(
    "/market/settings",
    response=responses({200: SettingsOut}),
    summary="How the community's market runs: days to pick up a reservation, days a voucher stays valid",
)
def get_settings(request: HttpRequest, filters: Query[CommunityIn]) -> dict[str, Any]:
    act = actor(request)
    community = _community(act, filters.community)
    if not works_in(act, "market.view", community):
        raise Forbidden()
    return _settings_out(services.market_settings(community))


@router.put("/market/settings", response=responses({200: SettingsOut}), summary="Change how the market runs (staff)")
def update_settings(request: HttpRequest, payload: SettingsIn) -> dict[str, Any]:
    act = actor(request)
    found = services.settings_update(
        actor=act,
        community=_community(act, payload.community_id),
        reservation_days=payload.reservation_days,
        voucher_days=payload.voucher_days,
        counter_note=payload.counter_note,
    )
    return _settings_out(found)
