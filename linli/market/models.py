"""The points market (积分超市): products, stock and its movements, redemptions, vouchers (DESIGN.md › market).

Invariants, each enforced where it cannot be bypassed:
- stock is never negative: CHECK on `Product.stock`, changed only by the conditional UPDATE in services.
- every change of stock is a StockMovement row with who, why and the stock right after.
- one idempotency key per community per redemption: a unique constraint (a retried confirm replays the first).
- the points of a redemption are ledger transfers (person -> market, or -> vouchers while a voucher is open);
  a voucher's points go back to its holder when it expires or is cancelled, never twice (one refund transfer each).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.models import TimeStamped
from linli.ledger.models import Transfer
from linli.org.models import Community, Merchant, PartnerUnit, Person


class ProductKind(models.TextChoices):
    GOODS = "goods", _("goods")
    DONATED = "donated", _("donated second-hand goods")
    SERVICE = "service", _("service")
    COUPON = "coupon", _("coupon")


# services and coupons are delivered later by the provider against a voucher; goods leave the shelf at once
VOUCHER_KINDS = frozenset({ProductKind.SERVICE, ProductKind.COUPON})


class LimitPeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")
    YEAR = "year", _("per year")
    EVER = "ever", _("in all")


class MarketSettings(models.Model):
    """Per-community choices of how the market runs."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="market_settings")
    reservation_days = models.PositiveSmallIntegerField(_("days to pick up a reservation"), default=7)
    voucher_days = models.PositiveSmallIntegerField(_("days a voucher stays valid"), default=30)
    counter_note = models.CharField(_("note printed on receipts"), max_length=120, blank=True)

    def __str__(self) -> str:
        return f"market settings {self.community_id}"


class ChoiceGroup(TimeStamped):
    """Options of which one exchange may take only one (SEEDS 003: one choice per exchange)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        verbose_name = _("one-choice group")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="choice_group_name_once")]

    def __str__(self) -> str:
        return self.name


class Product(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.GOODS)
    category = models.CharField(_("category"), max_length=40, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)  # 袋, 桶, 次
    price = models.PositiveIntegerField(_("price in points"))
    # who delivers a service or honours a coupon: a caring merchant or a partner unit
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("caring merchant")
    )
    partner = models.ForeignKey(
        PartnerUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("partner unit")
    )
    tracks_stock = models.BooleanField(_("counts stock"), default=True)
    stock = models.PositiveIntegerField(_("in stock"), default=0)
    low_stock_at = models.PositiveIntegerField(_("alert at or below"), default=0)
    limit_per_person = models.PositiveIntegerField(_("limit per person"), null=True, blank=True)
    limit_period = models.CharField(
        _("limit period"), max_length=5, choices=LimitPeriod.choices, default=LimitPeriod.MONTH
    )
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    choice_group = models.ForeignKey(
        ChoiceGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("one-choice group"),
    )
    is_active = models.BooleanField(_("on the shelf"), default=True)
    position = models.PositiveIntegerField(default=0)
    donated_item_id = models.BigIntegerField(null=True, blank=True, unique=True)  # points.DonatedItem, when donated
    # set when created through the API (services.product_create_once): a retried create returns this product
    idempotency_key = models.CharField(max_length=120, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("product")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(merchant__isnull=True) | Q(partner__isnull=True), name="product_one_provider"
            ),
            models.UniqueConstraint(
                fields=["community", "idempotency_key"], condition=~Q(idempotency_key=""), name="product_key_once"
            ),
        ]
        indexes = [models.Index(fields=["community", "is_active", "position"], name="product_shelf")]

    def __str__(self) -> str:
        return self.name

    @property
    def issues_voucher(self) -> bool:
        return self.kind in VOUCHER_KINDS

    @property
    def provider(self) -> Merchant | PartnerUnit | None:
        return self.merchant or self.partner

    @property
    def is_low(self) -> bool:
        return self.tracks_stock and self.stock <= self.low_stock_at


class ProductPhoto(models.Model):
    """One photo per product, cleaned by `linli.common.images` (no EXIF, at most 1600 px)."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="photo")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"photo of {self.product_id}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("goods received")
    DONATION = "donation", _("donated goods in")
    REDEMPTION = "redemption", _("redeemed")
    RETURN = "return", _("returned or cancelled")
    ADJUSTMENT = "adjustment", _("adjustment")
    STOCKTAKE = "stocktake", _("stocktake difference")


class StockMovement(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=12, choices=MovementKind.choices)
    quantity = models.IntegerField()  # + in, - out
    stock_after = models.PositiveIntegerField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    redemption = models.ForeignKey(
        "Redemption", on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    stocktake = models.ForeignKey("Stocktake", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="movement_not_zero")]
        indexes = [models.Index(fields=["product", "-id"], name="movement_product_desc")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.quantity:+d}"


class StocktakeStatus(models.TextChoices):
    OPEN = "open", _("counting")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


class Stocktake(models.Model):
    """A count of the shelf (清点). Closing it books each difference as a movement and keeps the variance report."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=StocktakeStatus.choices, default=StocktakeStatus.OPEN)
    note = models.CharField(_("note"), max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community"], condition=Q(status="open"), name="one_open_stocktake_per_community"
            )
        ]

    def __str__(self) -> str:
        return f"stocktake {self.pk}"


class StocktakeLine(models.Model):
    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    expected = models.PositiveIntegerField()  # the book stock when the count was closed (or started, while open)
    counted = models.PositiveIntegerField(null=True, blank=True)
    price = models.PositiveIntegerField()  # points value per unit at the time, for the variance report

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["stocktake", "product"], name="stocktake_line_once")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.counted}/{self.expected}"

    @property
    def variance(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


class Channel(models.TextChoices):
    COUNTER = "counter", _("at the counter")
    PHONE = "phone", _("reserved on the phone")


class RedemptionStatus(models.TextChoices):
    RESERVED = "reserved", _("reserved, waiting to be picked up")
    COMPLETED = "completed", _("handed over")
    EXPIRED = "expired", _("not picked up in time, points returned")
    CANCELLED = "cancelled", _("cancelled, points returned")
    RETURNED = "returned", _("returned, points given back")


class Redemption(models.Model):
    """One exchange of points for goods, services or coupons: all its lines, one debit, together or not at all."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    # "2026-0042", gapless per community and year; taken as the redemption's last write (the counter row's lock is
    # then held only for the commit), so empty only inside the creating transaction
    number = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001 (NULLs do not clash on unique)
    # who pays: a resident, or a merchant of the alliance spending what it earned
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices)
    total = models.PositiveIntegerField(default=0)
    refunded = models.PositiveIntegerField(default=0)
    balance_after = models.BigIntegerField(null=True, blank=True)  # the payer's balance right after paying
    reserved_until = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # expired, cancelled or returned
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="redemption_key_once"),
            models.UniqueConstraint(fields=["community", "number"], name="redemption_number_once"),
            models.CheckConstraint(
                condition=Q(person__isnull=False, merchant__isnull=True)
                | Q(person__isnull=True, merchant__isnull=False),
                name="redemption_one_payer",
            ),
            models.CheckConstraint(condition=Q(refunded__lte=models.F("total")), name="redemption_refund_bounded"),
        ]
        indexes = [
            models.Index(fields=["person", "-id"], name="redemption_person_desc"),
            models.Index(fields=["community", "status", "reserved_until"], name="redemption_open"),
            models.Index(fields=["community", "created_at"], name="redemption_community_time"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def payer(self) -> Person | Merchant:
        payer = self.person or self.merchant
        assert payer is not None
        return payer


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)  # as sold: a later rename does not change a receipt
    quantity = models.PositiveIntegerField()
    price = models.PositiveIntegerField()
    returned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(returned__lte=models.F("quantity")), name="line_return_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"

    @property
    def points(self) -> int:
        return self.quantity * self.price


class TransferPurpose(models.TextChoices):
    PAYMENT = "payment", _("payment")
    REFUND = "refund", _("points returned")
    VOUCHER_USE = "voucher_use", _("voucher used")


class RedemptionTransfer(models.Model):
    """The ledger transfers a redemption caused: its payment(s), refunds, and voucher settlements."""

    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="transfers")
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=12, choices=TransferPurpose.choices)
    request_key = models.CharField(max_length=120, blank=True)  # the return's idempotency key, to answer retries

    def __str__(self) -> str:
        return f"{self.redemption_id}: {self.transfer_id}"


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("ready to use")
    USED = "used", _("used")
    EXPIRED = "expired", _("expired, points returned")
    CANCELLED = "cancelled", _("cancelled, points returned")


class Voucher(models.Model):
    """A service or coupon bought with points, delivered later by its merchant or partner unit against the code."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(RedemptionLine, on_delete=models.PROTECT, related_name="vouchers")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    holder_merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    partner = models.ForeignKey(PartnerUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    code = models.CharField(max_length=12, unique=True)
    points = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED)
    valid_until = models.DateTimeField()
    issued_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    use_key = models.CharField(max_length=120, blank=True)  # a retried "use" with the same key replays
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["merchant", "status", "used_at"], name="voucher_merchant_use"),
            models.Index(fields=["community", "status", "valid_until"], name="voucher_open"),
            models.Index(fields=["person", "-id"], name="voucher_person_desc"),
        ]

    def __str__(self) -> str:
        return self.code


class RedemptionCounter(models.Model):
    """Gapless redemption numbers per community and year, taken under a row lock."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="redemption_counter_once")]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
