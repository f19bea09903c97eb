"""Every change to the points market: catalogue, stock, redemptions, vouchers. One function, one whole state change.

A redemption is ONE transaction: its header (holding the idempotency key), the stock taken by conditional UPDATEs,
its lines, movements and vouchers, and the ledger transfers that pay for it. Out of stock, over a limit, not enough
points: the whole thing rolls back and nothing is left behind.

Lock order, the same everywhere so concurrent requests queue instead of deadlocking: the redemption row (for
changes to an existing one) -> the payer's ledger account -> product rows in id order -> the ledger's system accounts
(inside the posting) -> the number counter (last, so its lock is held only for the commit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import DomainError, Forbidden, Invalid
from linli.common.images import read_upload, reencode
from linli.common.models import audit
from linli.common.sequences import next_number
from linli.ledger import services as ledger
from linli.ledger.errors import IdempotencyKeyReused, InsufficientPoints
from linli.ledger.models import Account, SystemAccount, TransferKind
from linli.market import domain
from linli.market.errors import (
    BadBasket,
    LimitReached,
    NotOnShelf,
    OneChoiceOnly,
    OutOfStock,
    ReasonRequired,
    RedemptionStatusRefused,
    StocktakeClosed,
    StocktakeOpen,
    VoucherNotFound,
    VoucherRefused,
)
from linli.market.models import (
    VOUCHER_KINDS,
    Channel,
    ChoiceGroup,
    LimitPeriod,
    MarketSettings,
    MovementKind,
    Product,
    ProductKind,
    ProductPhoto,
    Redemption,
    RedemptionCounter,
    RedemptionLine,
    RedemptionStatus,
    RedemptionTransfer,
    StockMovement,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    TransferPurpose,
    Voucher,
    VoucherStatus,
)
from linli.org.access import Actor, require, works_in
from linli.org.models import Community, Merchant, PartnerUnit, Person

MAX_PRICE = 100_000
MAX_STOCK_CHANGE = 100_000
MAX_KEY = 120

Payer = Person | Merchant


def _user(actor: Actor | None) -> Any:
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    return key


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(field="reason")
    if len(reason) > 200:
        raise Invalid(_("The reason is too long (200 characters at most)."), code="reason_too_long", field="reason")
    return reason


def market_settings(community: Community | int) -> MarketSettings:
    community_id = community if isinstance(community, int) else community.pk
    found = MarketSettings.objects.filter(community_id=community_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MarketSettings.objects.create(community_id=community_id)
    except IntegrityError:
        return MarketSettings.objects.get(community_id=community_id)


def settings_update(
    *, actor: Actor, community: Community, reservation_days: int, voucher_days: int, counter_note: str = ""
) -> MarketSettings:
    require(actor, "market.manage", community)
    for name, value in (("reservation_days", reservation_days), ("voucher_days", voucher_days)):
        if not isinstance(value, int) or not 1 <= value <= 366:
            raise Invalid(_("Give a number of days from 1 to 366."), code="days_invalid", field=name)
    with transaction.atomic():
        found = market_settings(community)
        found.reservation_days, found.voucher_days = reservation_days, voucher_days
        found.counter_note = (counter_note or "").strip()[:120]
        found.save()
        audit(actor=actor, action="market.settings_update", obj=found, community_id=community.pk)
    return found


# --- catalogue ------------------------------------------------------------------------------------------------------
@dataclass
class ProductData:
    name: str
    price: int
    kind: str = ProductKind.GOODS
    category: str = ""
    description: str = ""
    unit: str = ""
    merchant: Merchant | None = None
    partner: PartnerUnit | None = None
    tracks_stock: bool = True
    low_stock_at: int = 0
    limit_per_person: int | None = None
    limit_period: str = LimitPeriod.MONTH
    available_from: Any = None
    available_until: Any = None
    choice_group: ChoiceGroup | None = None
    is_active: bool = True
    position: int = 0


def _check_product(community: Community, data: ProductData) -> ProductData:
    data.name = (data.name or "").strip()
    if not data.name or len(data.name) > 80:
        raise Invalid(_("Give the item a name of at most 80 characters."), code="name_invalid", field="name")
    if not isinstance(data.price, int) or isinstance(data.price, bool) or not 0 < data.price <= MAX_PRICE:
        raise Invalid(_("The price must be a whole number of points above zero."), code="price_invalid", field="price")
    if data.kind not in ProductKind.values:
        raise Invalid(_("Unknown kind of item."), code="kind_invalid", field="kind")
    if data.limit_period not in LimitPeriod.values:
        raise Invalid(_("Unknown limit period."), code="limit_period_invalid", field="limit_period")
    if data.limit_per_person is not None and not 0 < data.limit_per_person <= domain.MAX_QUANTITY * 10:
        raise Invalid(_("A limit must be a whole number above zero."), code="limit_invalid", field="limit_per_person")
    if data.merchant is not None and data.partner is not None:
        raise Invalid(_("An item has one provider: a merchant or a partner unit."), code="two_providers")
    for provider, name in ((data.merchant, "merchant"), (data.partner, "partner"), (data.choice_group, "choice_group")):
        if provider is not None and provider.community_id != community.pk:
            raise Invalid(_("That is not in this community."), code="other_community", field=name)
    if data.available_from and data.available_until and data.available_until < data.available_from:
        raise Invalid(_("The window ends before it starts."), code="window_invalid", field="available_until")
    if data.kind in VOUCHER_KINDS:
        data.tracks_stock = data.tracks_stock and data.kind == ProductKind.SERVICE  # a coupon is not counted
    for text in ("category", "description", "unit"):
        setattr(data, text, (getattr(data, text) or "").strip())
    return data


_PRODUCT_FIELDS = [
    "name", "price", "kind", "category", "description", "unit", "merchant", "partner", "tracks_stock", "low_stock_at",
    "limit_per_person", "limit_period", "available_from", "available_until", "choice_group", "is_active", "position",
]  # fmt: skip


@dataclass(frozen=True)
class ProductCreated:
    product: Product
    replayed: bool


def _plain(value: Any) -> Any:
    """A ProductData value as JSON: related rows by id, dates as ISO text."""
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _product_fingerprint(data: ProductData, stock: int) -> str:
    body = {f: _plain(getattr(data, f)) for f in _PRODUCT_FIELDS} | {"stock": stock}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _checked_product(actor: Actor, community: Community, data: ProductData, stock: int) -> ProductData:
    require(actor, "market.manage", community)
    data = _check_product(community, data)
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_STOCK_CHANGE:
        raise Invalid(_("Give a whole number, zero or more."), code="quantity_invalid", field="stock")
    if stock and not data.tracks_stock:
        raise Invalid(_("The stock of this item is not counted."), code="stock_not_tracked", field="stock")
    return data


def _product_insert(
    actor: Actor, community: Community, data: ProductData, stock: int, key: str = "", fingerprint: str = ""
) -> Product:
    with transaction.atomic():
        product = Product.objects.create(
            community=community,
            idempotency_key=key,
            request_hash=fingerprint,
            **{f: getattr(data, f) for f in _PRODUCT_FIELDS},
        )
        audit(actor=actor, action="market.product_create", obj=product, community_id=community.pk, price=data.price)
        if stock:
            _move(actor, product, stock, MovementKind.RECEIPT, _("Opening stock"))
    return product


def product_create(*, actor: Actor, community: Community, data: ProductData, stock: int = 0) -> Product:
    """A new item on the shelf; `stock` > 0 books it as the first receipt."""
    data = _checked_product(actor, community, data, stock)
    return _product_insert(actor, community, data, stock)


def _product_replay(community_id: int, key: str, fingerprint: str) -> ProductCreated | None:
    found = Product.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return ProductCreated(found, True)


def product_create_once(
    *, actor: Actor, community: Community, data: ProductData, stock: int = 0, idempotency_key: str
) -> ProductCreated:
    """`product_create` under an idempotency key (the API): a retry with the same key and the same item returns the
    first product (as it is now) and creates nothing; the same key with another item is 409 idempotency_key_reused."""
    key = _clean_key(idempotency_key)
    data = _checked_product(actor, community, data, stock)
    fingerprint = _product_fingerprint(data, stock)
    # optimistic, like a redemption: the unique (community, key) of the insert catches a retry or a concurrent twin
    try:
        return ProductCreated(_product_insert(actor, community, data, stock, key, fingerprint), False)
    except IntegrityError:
        found = _product_replay(community.pk, key, fingerprint)
        if found is not None:
            return found
        raise


def product_update(*, actor: Actor, product: Product, data: ProductData) -> Product:
    """Change how an item is offered. Its stock changes only by movements; receipts keep the price they were sold at."""
    require(actor, "market.manage", product.community)
    data = _check_product(product.community, data)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        price_before = locked.price
        for f in _PRODUCT_FIELDS:
            setattr(locked, f, getattr(data, f))
        locked.save()
        audit(
            actor=actor,
            action="market.product_update",
            obj=locked,
            community_id=locked.community_id,
            price_before=price_before,
            price=locked.price,
            active=locked.is_active,
        )
    return locked


def product_photo_set(*, actor: Actor, product: Product, upload: Any) -> ProductPhoto:
    require(actor, "market.manage", product.community)
    data, width, height = reencode(read_upload(upload))
    with transaction.atomic():
        ProductPhoto.objects.filter(product=product).delete()
        photo = ProductPhoto.objects.create(
            product=product,
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            width=width,
            height=height,
        )
        audit(actor=actor, action="market.product_photo", obj=product, community_id=product.community_id)
    return photo


def choice_group_create(*, actor: Actor, community: Community, name: str) -> ChoiceGroup:
    require(actor, "market.manage", community)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid(_("Give the group a name of at most 60 characters."), code="name_invalid", field="name")
    try:
        with transaction.atomic():
            group = ChoiceGroup.objects.create(community=community, name=name)
            audit(actor=actor, action="market.choice_group_create", obj=group, community_id=community.pk)
    except IntegrityError:
        raise Invalid(_("A group with this name exists already."), code="name_taken", field="name") from None
    return group


# --- stock ----------------------------------------------------------------------------------------------------------
def _take(product_id: int, quantity: int) -> int | None:
    """Take `quantity` off the shelf if that many are there; the stock left, or None. One statement: concurrent takers
    queue on the row and each sees the stock the one before left (PostgreSQL re-checks the WHERE after the wait)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE market_product SET stock = stock - %s WHERE id = %s AND stock >= %s RETURNING stock",
            [quantity, product_id, quantity],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _put(product_id: int, quantity: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE market_product SET stock = stock + %s WHERE id = %s RETURNING stock", [quantity, product_id]
        )
        return int(cursor.fetchone()[0])


def _move(
    actor: Actor | None,
    product: Product,
    quantity: int,
    kind: str,
    reason: str,
    *,
    redemption: Redemption | None = None,
    stocktake: Stocktake | None = None,
) -> StockMovement:
    """Change one product's stock by `quantity` (+ in, - out) with its movement row; OutOfStock when it would go
    below zero. Call inside a transaction."""
    if quantity < 0:
        left = _take(product.pk, -quantity)
        if left is None:
            raise OutOfStock(product.name, Product.objects.filter(pk=product.pk).values_list("stock", flat=True).get())
    else:
        left = _put(product.pk, quantity)
    product.stock = left
    return StockMovement.objects.create(
        community_id=product.community_id,
        product=product,
        kind=kind,
        quantity=quantity,
        stock_after=left,
        reason=reason,
        redemption=redemption,
        stocktake=stocktake,
        actor=_user(actor),
    )


def _counted(product: Product) -> None:
    if not product.tracks_stock:
        raise Invalid(_("The stock of this item is not counted."), code="stock_not_tracked")


def stock_receive(*, actor: Actor, product: Product, quantity: int, reason: str = "") -> StockMovement:
    """Goods delivered to the shelf (a purchase, a partner's gift)."""
    require(actor, "stock.manage", product.community)
    _counted(product)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_STOCK_CHANGE:
        raise Invalid(_("Give a whole number above zero."), code="quantity_invalid", field="quantity")
    with transaction.atomic():
        movement = _move(actor, product, quantity, MovementKind.RECEIPT, (reason or "").strip()[:200])
        audit(
            actor=actor,
            action="market.stock_receive",
            obj=product,
            community_id=product.community_id,
            quantity=quantity,
        )
    return movement


def stock_adjust(*, actor: Actor, product: Product, change: int, reason: str) -> StockMovement:
    """Broken, spoilt, found: a correction with a reason. Never below zero."""
    require(actor, "stock.manage", product.community)
    _counted(product)
    if not isinstance(change, int) or isinstance(change, bool) or change == 0 or abs(change) > MAX_STOCK_CHANGE:
        raise Invalid(_("Give a whole number other than zero."), code="quantity_invalid", field="change")
    reason = _reason(reason)
    with transaction.atomic():
        movement = _move(actor, product, change, MovementKind.ADJUSTMENT, reason)
        audit(actor=actor, action="market.stock_adjust", obj=product, community_id=product.community_id, change=change)
    return movement


def stocktake_start(*, actor: Actor, community: Community, note: str = "") -> Stocktake:
    """Open a count of every counted item on the shelf. One open count per community."""
    if not works_in(actor, "stock.count", community):
        raise Forbidden()
    try:
        with transaction.atomic():
            take = Stocktake.objects.create(community=community, started_by=actor.user, note=(note or "").strip()[:200])
            StocktakeLine.objects.bulk_create(
                StocktakeLine(stocktake=take, product=p, expected=p.stock, price=p.price)
                for p in Product.objects.filter(community=community, tracks_stock=True).filter(
                    Q(is_active=True) | Q(stock__gt=0)
                )
            )
            audit(actor=actor, action="market.stocktake_start", obj=take, community_id=community.pk)
    except IntegrityError:
        raise StocktakeOpen() from None
    return take


def stocktake_count(*, actor: Actor, stocktake: Stocktake, counts: Mapping[int, int | None]) -> Stocktake:
    """Write down what was counted, product by product (None clears a count). May be called many times."""
    if not works_in(actor, "stock.count", stocktake.community):
        raise Forbidden()
    with transaction.atomic():
        take = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if take.status != StocktakeStatus.OPEN:
            raise StocktakeClosed()
        lines = {line.product_id: line for line in take.lines.all()}
        for product_id, counted in counts.items():
            line = lines.get(product_id)
            if line is None:
                raise Invalid(_("That item is not part of this count."), code="not_in_stocktake", field=str(product_id))
            if counted is not None and (not isinstance(counted, int) or not 0 <= counted <= MAX_STOCK_CHANGE):
                raise Invalid(_("Give a whole number, zero or more."), code="quantity_invalid", field=str(product_id))
            line.counted = counted
        StocktakeLine.objects.bulk_update(lines.values(), ["counted"])
    return take


def stocktake_close(*, actor: Actor, stocktake: Stocktake) -> Stocktake:
    """Book every difference between what was counted and the book stock NOW (redemptions during the count are
    already in the book) as a stocktake movement; items left uncounted stay as they are."""
    if not works_in(actor, "stock.count", stocktake.community):
        raise Forbidden()
    with transaction.atomic():
        take = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if take.status != StocktakeStatus.OPEN:
            raise StocktakeClosed()
        lines = list(take.lines.select_related("product").filter(counted__isnull=False).order_by("product_id"))
        products = {
            p.pk: p
            for p in Product.objects.select_for_update().filter(pk__in=[x.product_id for x in lines]).order_by("pk")
        }
        for line in lines:
            product = products[line.product_id]
            line.expected = product.stock
            assert line.counted is not None
            if line.counted != product.stock:
                _move(
                    actor,
                    product,
                    line.counted - product.stock,
                    MovementKind.STOCKTAKE,
                    _("Stocktake %(number)d") % {"number": take.pk},
                    stocktake=take,
                )
        StocktakeLine.objects.bulk_update(lines, ["expected"])
        take.status, take.closed_by, take.closed_at = StocktakeStatus.CLOSED, actor.user, timezone.now()
        take.save(update_fields=["status", "closed_by", "closed_at"])
        totals = domain.variance_totals(
            domain.Variance(x.product_id, x.expected, x.counted or 0, x.price) for x in lines
        )
        audit(actor=actor, action="market.stocktake_close", obj=take, community_id=take.community_id, **totals)
    return take


def stocktake_cancel(*, actor: Actor, stocktake: Stocktake) -> Stocktake:
    if not works_in(actor, "stock.count", stocktake.community):
        raise Forbidden()
    with transaction.atomic():
        take = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if take.status != StocktakeStatus.OPEN:
            raise StocktakeClosed()
        take.status, take.closed_by, take.closed_at = StocktakeStatus.CANCELLED, actor.user, timezone.now()
        take.save(update_fields=["status", "closed_by", "closed_at"])
        audit(actor=actor, action="market.stocktake_cancel", obj=take, community_id=take.community_id)
    return take


# --- redemptions ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Placed:
    redemption: Redemption
    replayed: bool  # True when an earlier identical request had already placed it
    # what was just written, id order (None on a replay): the receipt without reading it again
    lines: Sequence[RedemptionLine] | None = None
    vouchers: Sequence[Voucher] | None = None


def payer_account(payer: Payer, *, lock: bool = False) -> Account:
    if isinstance(payer, Person):
        return ledger.account_for_person(payer, lock=lock)
    return ledger.account_for_merchant(payer, lock=lock)


def _authorise(actor: Actor, payer: Payer, channel: str) -> None:
    if channel == Channel.COUNTER:
        require(actor, "redemption.counter", payer, hide=True)
    elif channel == Channel.PHONE:
        require(actor, "redemption.reserve", payer, hide=True)
    else:
        raise Invalid(_("Unknown channel."), code="channel_invalid")
    if isinstance(payer, Person) and not payer.is_active:
        raise Invalid(_("This person is no longer registered in the community."), code="person_inactive")
    if isinstance(payer, Merchant) and not payer.is_active:
        raise Invalid(_("This merchant has left the alliance."), code="merchant_inactive")


def _fingerprint(payer: Payer, wants: Sequence[domain.Want], channel: str) -> str:
    body = {
        "payer": [type(payer).__name__.lower(), payer.pk],
        "channel": channel,
        "lines": sorted([w.product_id, w.quantity] for w in wants),
    }
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def _replay(community_id: int, key: str, fingerprint: str) -> Placed | None:
    found = Redemption.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Placed(found, True)


def redemption_create(
    *, actor: Actor, payer: Payer, lines: Sequence[domain.Want], channel: str, idempotency_key: str
) -> Placed:
    """Exchange points for a basket: at the counter (handed over at once) or reserved on the phone (picked up later).
    All or nothing. A retry with the same key returns the first redemption."""
    key = _clean_key(idempotency_key)
    _authorise(actor, payer, channel)
    wants = domain.merge_basket(lines)
    problem = domain.basket_problem(wants)
    if problem is not None:
        raise BadBasket(code=problem)
    fingerprint = _fingerprint(payer, wants, channel)
    # optimistic, like the ledger: the header insert is the transaction's first write, so a retry is caught by the
    # unique key before anything else is touched, and a first request costs no look-up by key
    try:
        with transaction.atomic():
            return _place(actor, payer, wants, channel, key, fingerprint)
    except IntegrityError:
        # an earlier request with this key, or a concurrent one (PostgreSQL: we waited on its unique-index entry)
        found = _replay(payer.community_id, key, fingerprint)
        if found is not None:
            return found
        raise


def _shelf(community_id: int, wants: Sequence[domain.Want], today: Any) -> dict[int, Product]:
    products = {
        p.pk: p
        for p in Product.objects.filter(community_id=community_id, pk__in=[w.product_id for w in wants]).select_related(
            "merchant", "partner"
        )
    }
    for want in wants:
        product = products.get(want.product_id)
        if (
            product is None
            or not product.is_active
            or not domain.available_on(today, product.available_from, product.available_until)
            or (product.merchant is not None and not product.merchant.is_active)
            or (product.partner is not None and not product.partner.is_active)
        ):
            raise NotOnShelf(details={"product": want.product_id})
    clashes = domain.choice_clashes({p.pk: p.choice_group_id for p in products.values()}, wants)
    if clashes:
        names = ", ".join(ChoiceGroup.objects.filter(pk__in=clashes).values_list("name", flat=True))
        raise OneChoiceOnly(
            _("Only one item from “%(group)s” can be taken per exchange.") % {"group": names},
            details={"groups": clashes},
        )
    return products


def _payer_filter(payer: Payer) -> Q:
    return Q(redemption__person=payer) if isinstance(payer, Person) else Q(redemption__merchant=payer)


def _check_limits(payer: Payer, wants: Sequence[domain.Want], products: Mapping[int, Product], now: datetime) -> None:
    limited = [w for w in wants if products[w.product_id].limit_per_person is not None]
    if not limited:
        return
    today = timezone.localdate(now)
    starts = {w.product_id: domain.period_start(products[w.product_id].limit_period, today) for w in limited}
    earliest = min((s for s in starts.values() if s is not None), default=None)
    rows = RedemptionLine.objects.filter(_payer_filter(payer), product_id__in=list(starts)).exclude(
        redemption__status__in=[RedemptionStatus.EXPIRED, RedemptionStatus.CANCELLED]
    )
    if earliest is not None and all(s is not None for s in starts.values()):
        rows = rows.filter(redemption__created_at__gte=_local_midnight(earliest))
    taken: dict[int, int] = {}
    for product_id, created_at, quantity, returned in rows.values_list(
        "product_id", "redemption__created_at", "quantity", "returned"
    ):
        start = starts[product_id]
        if start is None or timezone.localdate(created_at) >= start:
            taken[product_id] = taken.get(product_id, 0) + quantity - returned
    for want in limited:
        product = products[want.product_id]
        room = domain.limit_room(product.limit_per_person, taken.get(product.pk, 0))
        if room is not None and want.quantity > room:
            raise LimitReached(
                _("“%(name)s”: at most %(limit)d %(period)s; %(room)d more now.")
                % {
                    "name": product.name,
                    "limit": product.limit_per_person,
                    "period": product.get_limit_period_display(),
                    "room": room,
                },
                details={"product": product.pk, "room": room},
            )


def _local_midnight(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _place(
    actor: Actor, payer: Payer, wants: Sequence[domain.Want], channel: str, key: str, fingerprint: str
) -> Placed:
    now = timezone.now()
    community_id = payer.community_id
    redemption = Redemption.objects.create(  # first: a concurrent retry waits here on the key, before any stock
        community_id=community_id,
        person=payer if isinstance(payer, Person) else None,
        merchant=payer if isinstance(payer, Merchant) else None,
        channel=channel,
        status=RedemptionStatus.COMPLETED,
        actor=actor.user,
        created_at=now,
        idempotency_key=key,
        request_hash=fingerprint,
    )
    account = payer_account(payer, lock=True)  # the payer's row is held: limits and balance are checked once
    balance = account.balance
    products = _shelf(community_id, wants, timezone.localdate(now))
    _check_limits(payer, wants, products, now)
    total = sum(products[w.product_id].price * w.quantity for w in wants)
    if total > balance:
        raise InsufficientPoints(
            _("Not enough points: %(balance)d in the account, the basket costs %(total)d.")
            % {"balance": balance, "total": total},
            details={"balance": balance, "total": total},
        )
    lines = RedemptionLine.objects.bulk_create(
        RedemptionLine(
            redemption=redemption,
            product=products[w.product_id],
            name=products[w.product_id].name,
            quantity=w.quantity,
            price=products[w.product_id].price,
        )
        for w in wants
    )
    voucher_lines = [x for x in lines if products[x.product_id].issues_voucher]
    has_goods_to_fetch = len(voucher_lines) < len(lines)
    reserving = channel == Channel.PHONE and has_goods_to_fetch
    settings = market_settings(community_id) if voucher_lines or reserving else None  # a plain sale needs none
    vouchers = (
        _issue_vouchers(redemption, payer, voucher_lines, products, settings, now)
        if voucher_lines and settings is not None
        else []
    )
    audit(
        actor=actor,
        action="market.redemption_create",
        obj=redemption,
        community_id=community_id,
        total=total,
        channel=channel,
    )
    goods = sum(x.points for x in lines if not products[x.product_id].issues_voucher)
    held = total - goods
    legs = [
        ledger.Leg(account, ledger.system_account(community_id, code), amount, TransferKind.REDEMPTION, _memo(lines),
                   "redemption", redemption.pk)
        for code, amount in ((SystemAccount.MARKET, goods), (SystemAccount.VOUCHERS, held))
        if amount
    ]  # fmt: skip
    # the rows every basket shares come last — stock, then the market account (the ledger posting), then the number —
    # so each is locked for as few statements as possible before the commit
    for line in sorted(lines, key=lambda x: x.product_id):  # id order: concurrent baskets lock rows alike
        product = products[line.product_id]
        if product.tracks_stock:
            _move(actor, product, -line.quantity, MovementKind.REDEMPTION, "", redemption=redemption)
    transfers = ledger.transfer_post_batch(
        community=Community(pk=community_id),
        legs=legs,
        actor=actor,
        idempotency_key=f"redemption-{redemption.pk}",
        fresh_key=True,  # named after the row inserted above, in this transaction
    )
    RedemptionTransfer.objects.bulk_create(
        RedemptionTransfer(redemption=redemption, transfer=t, purpose=TransferPurpose.PAYMENT) for t in transfers
    )
    redemption.total = total
    redemption.balance_after = transfers[-1].debit_balance_after
    if reserving:
        assert settings is not None
        redemption.status = RedemptionStatus.RESERVED
        redemption.reserved_until = domain.end_of_day_after(timezone.localtime(now), settings.reservation_days)
    else:
        redemption.handed_over_at, redemption.handed_over_by = now, _user(actor)
    redemption.number = f"{now.year}-{next_number(RedemptionCounter, community_id=community_id, year=now.year):04d}"
    redemption.save(
        update_fields=[
            "number",
            "total",
            "balance_after",
            "status",
            "reserved_until",
            "handed_over_at",
            "handed_over_by",
        ]
    )
    return Placed(redemption, False, lines, vouchers)


def _memo(lines: Sequence[RedemptionLine]) -> str:
    text = ", ".join(f"{x.name} ×{x.quantity}" for x in lines)
    return text if len(text) <= 200 else text[:199] + "…"


def _issue_vouchers(
    redemption: Redemption,
    payer: Payer,
    lines: Sequence[RedemptionLine],
    products: Mapping[int, Product],
    settings: MarketSettings,
    now: datetime,
) -> list[Voucher]:
    until = domain.end_of_day_after(timezone.localtime(now), settings.voucher_days)
    wanted = sum(x.quantity for x in lines)
    codes: set[str] = set()
    while len(codes) < wanted:
        fresh = {domain.new_voucher_code() for _ in range(wanted - len(codes))} - codes
        codes |= fresh - set(Voucher.objects.filter(code__in=fresh).values_list("code", flat=True))
    pool = sorted(codes)
    vouchers = []
    for line in lines:
        product = products[line.product_id]
        for _n in range(line.quantity):
            vouchers.append(
                Voucher(
                    community_id=redemption.community_id,
                    line=line,
                    product=product,
                    person=payer if isinstance(payer, Person) else None,
                    holder_merchant=payer if isinstance(payer, Merchant) else None,
                    merchant=product.merchant,
                    partner=product.partner,
                    code=pool.pop(),
                    points=line.price,
                    valid_until=until,
                    issued_at=now,
                )
            )
    return Voucher.objects.bulk_create(vouchers)


def _locked(redemption: Redemption) -> Redemption:
    return Redemption.objects.select_for_update(of=("self",)).select_related("person", "merchant").get(pk=redemption.pk)


def redemption_hand_over(*, actor: Actor, redemption: Redemption) -> Redemption:
    """A reserved basket is picked up at the counter. Handing over twice is answered with the first hand-over."""
    require(actor, "redemption.counter", redemption, hide=True)
    with transaction.atomic():
        locked = _locked(redemption)
        if locked.status == RedemptionStatus.COMPLETED and locked.channel == Channel.PHONE:
            return locked
        if locked.status != RedemptionStatus.RESERVED:
            raise RedemptionStatusRefused()
        locked.status, locked.handed_over_at, locked.handed_over_by = (
            RedemptionStatus.COMPLETED,
            timezone.now(),
            actor.user,
        )
        locked.save(update_fields=["status", "handed_over_at", "handed_over_by"])
        audit(actor=actor, action="market.redemption_hand_over", obj=locked, community_id=locked.community_id)
    return locked


@dataclass
class _Refund:
    goods: dict[int, int] = field(default_factory=dict)  # line id -> quantity back
    vouchers: list[Voucher] = field(default_factory=list)


def _refund(
    actor: Actor | None, redemption: Redemption, plan: _Refund, key: str, voucher_status: str, memo: str
) -> int:
    """Put goods back on the shelf and close vouchers, then return their points to the payer in one posting."""
    lines = {x.pk: x for x in redemption.lines.select_related("product").order_by("product_id")}
    goods_points = 0
    for line_id, quantity in sorted(plan.goods.items(), key=lambda kv: lines[kv[0]].product_id):
        line = lines[line_id]
        if line.product.tracks_stock:
            _move(actor, line.product, quantity, MovementKind.RETURN, memo, redemption=redemption)
        line.returned += quantity
        line.save(update_fields=["returned"])
        goods_points += quantity * line.price
    held = 0
    now = timezone.now()
    for voucher in plan.vouchers:
        voucher.status, voucher.closed_at = voucher_status, now
        voucher.save(update_fields=["status", "closed_at"])
        held += voucher.points
        line = lines[voucher.line_id]
        line.returned += 1
        line.save(update_fields=["returned"])
        if line.product.tracks_stock:  # a counted service (five housekeeping visits a month) gets its slot back
            _move(actor, line.product, 1, MovementKind.RETURN, memo, redemption=redemption)
    if not goods_points and not held:
        return 0
    account = payer_account(redemption.payer)
    legs = [
        ledger.Leg(ledger.system_account(redemption.community_id, code), account, amount, TransferKind.REFUND, memo,
                   "redemption", redemption.pk)
        for code, amount in ((SystemAccount.MARKET, goods_points), (SystemAccount.VOUCHERS, held))
        if amount
    ]  # fmt: skip
    transfers = ledger.transfer_post_batch(
        community=Community(pk=redemption.community_id), legs=legs, actor=actor, idempotency_key=key
    )
    RedemptionTransfer.objects.bulk_create(
        RedemptionTransfer(redemption=redemption, transfer=t, purpose=TransferPurpose.REFUND, request_key=key)
        for t in transfers
    )
    redemption.refunded += goods_points + held
    return goods_points + held


def _open_goods(redemption: Redemption) -> dict[int, int]:
    return {
        x.pk: x.quantity - x.returned
        for x in redemption.lines.filter(quantity__gt=F("returned")).exclude(product__kind__in=VOUCHER_KINDS)
    }


def _unused_vouchers(redemption: Redemption) -> list[Voucher]:
    return list(
        Voucher.objects.select_for_update()
        .filter(line__redemption=redemption, status=VoucherStatus.ISSUED)
        .order_by("pk")
    )


def redemption_cancel(*, actor: Actor, redemption: Redemption, reason: str = "") -> Redemption:
    """Call off a reservation before pick-up: everything not yet delivered goes back (goods to the shelf, unused
    vouchers closed) and its points with it. Cancelling twice answers with the first cancellation."""
    require(actor, "redemption.cancel", redemption, hide=True)
    with transaction.atomic():
        locked = _locked(redemption)
        if locked.status == RedemptionStatus.CANCELLED:
            return locked
        if locked.status != RedemptionStatus.RESERVED:
            raise RedemptionStatusRefused()
        memo = _("Reservation %(number)s cancelled") % {"number": locked.number}
        plan = _Refund(goods=_open_goods(locked), vouchers=_unused_vouchers(locked))
        _refund(actor, locked, plan, f"redemption-{locked.pk}-cancel", VoucherStatus.CANCELLED, memo)
        locked.status, locked.closed_at = RedemptionStatus.CANCELLED, timezone.now()
        locked.reason = (reason or "").strip()[:200]
        locked.save(update_fields=["status", "closed_at", "reason", "refunded"])
        audit(actor=actor, action="market.redemption_cancel", obj=locked, community_id=locked.community_id)
    return locked


def redemption_return(
    *, actor: Actor, redemption: Redemption, quantities: Mapping[int, int], reason: str, idempotency_key: str
) -> Redemption:
    """Goods brought back to the counter (or unused vouchers handed in): stock and points back together. `quantities`
    maps line ids to how many come back; a retried return with the same key is answered without acting again."""
    require(actor, "redemption.counter", redemption, hide=True)
    reason = _reason(reason)
    key = f"redemption-{redemption.pk}-return-{_clean_key(idempotency_key)}"
    if len(key) > MAX_KEY - 3:
        raise Invalid(_("An idempotency key of 1 to 100 characters is required."), code="idempotency_key_invalid")
    with transaction.atomic():
        locked = _locked(redemption)
        if locked.transfers.filter(request_key=key).exists():
            return locked
        if locked.status != RedemptionStatus.COMPLETED:
            raise RedemptionStatusRefused()
        lines = {x.pk: x for x in locked.lines.select_related("product")}
        plan = _Refund()
        for line_id, quantity in quantities.items():
            line = lines.get(line_id)
            if line is None:
                raise Invalid(_("That line is not part of this redemption."), code="line_unknown")
            if quantity == 0:
                continue
            if (
                not isinstance(quantity, int)
                or isinstance(quantity, bool)
                or not 0 < quantity <= line.quantity - line.returned
            ):
                raise Invalid(
                    _("More than was taken, or already returned."), code="return_too_many", field=str(line_id)
                )
            if line.product.issues_voucher:
                unused = list(
                    Voucher.objects.select_for_update().filter(line=line, status=VoucherStatus.ISSUED).order_by("pk")
                )
                if len(unused) < quantity:
                    raise Invalid(
                        _("Only unused vouchers can be handed back."), code="voucher_used", field=str(line_id)
                    )
                plan.vouchers += unused[:quantity]
            else:
                plan.goods[line_id] = quantity
        if not plan.goods and not plan.vouchers:
            raise Invalid(_("Choose what comes back."), code="return_empty")
        memo = _("Return for %(number)s: %(reason)s") % {"number": locked.number, "reason": reason}
        _refund(actor, locked, plan, key, VoucherStatus.CANCELLED, memo[:200])
        if locked.refunded == locked.total:
            locked.status, locked.closed_at = RedemptionStatus.RETURNED, timezone.now()
        locked.reason = reason
        locked.save(update_fields=["status", "closed_at", "reason", "refunded"])
        audit(
            actor=actor, action="market.redemption_return", obj=locked, community_id=locked.community_id, reason=reason
        )
    return locked


# --- vouchers ------------------------------------------------------------------------------------------------------
def voucher_use(*, actor: Actor, voucher: Voucher, code: str, idempotency_key: str) -> Voucher:
    """The merchant delivered the service (核销): the held points move to the market for good. `code` is what the
    holder showed (typed or scanned): knowing a voucher's id is not enough to use it. The same key again answers with
    the first use; any other attempt on a used voucher is refused, saying when it was used."""
    key = _clean_key(idempotency_key)
    require(actor, "voucher.use", voucher, hide=True)
    if domain.clean_code(code) != voucher.code:
        raise VoucherNotFound()
    with transaction.atomic():
        locked = Voucher.objects.select_for_update(of=("self",)).select_related("product", "line").get(pk=voucher.pk)
        if locked.status == VoucherStatus.USED and locked.use_key == key:
            return locked
        if locked.status != VoucherStatus.ISSUED:
            raise VoucherRefused(details={"status": locked.status})
        now = timezone.now()
        if locked.valid_until < now:
            raise VoucherRefused(
                _("This voucher has expired; its points go back to its holder."), code="voucher_expired"
            )
        posted = ledger.transfer_post(
            debit=ledger.system_account(locked.community_id, SystemAccount.VOUCHERS),
            credit=ledger.system_account(locked.community_id, SystemAccount.MARKET),
            amount=locked.points,
            kind=TransferKind.REDEMPTION,
            actor=actor,
            idempotency_key=f"voucher-{locked.pk}-use",
            memo=_("Voucher %(code)s used") % {"code": domain.format_code(locked.code)},
            ref_type="voucher",
            ref_id=locked.pk,
        )
        RedemptionTransfer.objects.create(
            redemption_id=locked.line.redemption_id, transfer=posted.transfer, purpose=TransferPurpose.VOUCHER_USE
        )
        locked.status, locked.used_at, locked.used_by, locked.use_key = VoucherStatus.USED, now, actor.user, key
        locked.save(update_fields=["status", "used_at", "used_by", "use_key"])
        audit(actor=actor, action="market.voucher_use", obj=locked, community_id=locked.community_id)
    return locked


# --- the daily sweep -----------------------------------------------------------------------------------------------
@dataclass
class Swept:
    reservations: int = 0
    vouchers: int = 0
    points_returned: int = 0
    failed: list[tuple[str, int, DomainError]] = field(default_factory=list)


def market_sweep(*, now: datetime | None = None, community: Community | None = None) -> Swept:
    """Reservations not picked up in time and vouchers past their date give their points back (and reserved goods
    go back on the shelf). Each in its own transaction; safe to run as often as wanted (`linli market sweep`)."""
    now = now or timezone.now()
    result = Swept()
    reservations = Redemption.objects.filter(status=RedemptionStatus.RESERVED, reserved_until__lt=now)
    vouchers = Voucher.objects.filter(status=VoucherStatus.ISSUED, valid_until__lt=now)
    if community is not None:
        reservations, vouchers = reservations.filter(community=community), vouchers.filter(community=community)
    for pk in reservations.values_list("pk", flat=True):
        try:
            with transaction.atomic():
                locked = _locked(Redemption(pk=pk))
                if (
                    locked.status != RedemptionStatus.RESERVED
                    or locked.reserved_until is None
                    or locked.reserved_until >= now
                ):
                    continue
                memo = _("Reservation %(number)s not picked up") % {"number": locked.number}
                result.points_returned += _refund(
                    None,
                    locked,
                    _Refund(goods=_open_goods(locked)),
                    f"redemption-{pk}-expire",
                    VoucherStatus.EXPIRED,
                    memo,
                )
                locked.status, locked.closed_at = RedemptionStatus.EXPIRED, now
                locked.save(update_fields=["status", "closed_at", "refunded"])
                audit(actor=None, action="market.redemption_expire", obj=locked, community_id=locked.community_id)
                result.reservations += 1
        except DomainError as error:
            result.failed.append(("redemption", pk, error))
    for pk, redemption_id in vouchers.values_list("pk", "line__redemption_id"):
        try:
            with transaction.atomic():
                redemption = _locked(Redemption(pk=redemption_id))  # the redemption first, as everywhere
                voucher = Voucher.objects.select_for_update().filter(pk=pk, status=VoucherStatus.ISSUED).first()
                if voucher is None or voucher.valid_until >= now:
                    continue
                memo = _("Voucher %(code)s expired") % {"code": domain.format_code(voucher.code)}
                result.points_returned += _refund(
                    None, redemption, _Refund(vouchers=[voucher]), f"voucher-{pk}-expire", VoucherStatus.EXPIRED, memo
                )
                redemption.save(update_fields=["refunded"])
                audit(actor=None, action="market.voucher_expire", obj=voucher, community_id=voucher.community_id)
                result.vouchers += 1
        except DomainError as error:
            result.failed.append(("voucher", pk, error))
    return result
