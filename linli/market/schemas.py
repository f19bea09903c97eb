"""The shapes the points-market API reads and writes. Bounds follow the columns; the services then answer with their
stable codes (price_invalid, quantity_invalid, basket_empty, out_of_stock, limit_reached, voucher_status ...).

Whole numbers that the services judge (prices, quantities, stock changes) are only bounded here to what a 64-bit
column holds, so that the service gives its own precise code instead of a generic invalid_input."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import model_validator

from linli.common.api import MAX_ID, Id, InputSchema, PageIn

KindName = Literal["goods", "donated", "service", "coupon"]
PeriodName = Literal["day", "week", "month", "year", "ever"]
ChannelName = Literal["counter", "phone"]
RedemptionStatusName = Literal["reserved", "completed", "expired", "cancelled", "returned"]
VoucherStatusName = Literal["issued", "used", "expired", "cancelled"]
# any whole number a column could hold; the service says whether it makes sense (its own code and message)
Whole = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
Reason = Annotated[str, Field(max_length=200, description="why (required for adjustments, returns)")]


# --- filters --------------------------------------------------------------------------------------------------------


class CommunityIn(InputSchema):
    community: Id


class ShelfIn(PageIn):
    community: Id
    q: str = Field("", max_length=100, description="part of the name, category or merchant")
    kind: KindName | None = None
    category: str = Field("", max_length=40)
    include_inactive: bool = Field(False, description="every item, also those off the shelf (those who keep it)")


class RedemptionFilterIn(PageIn):
    community: Id | None = None
    status: RedemptionStatusName | None = None
    channel: ChannelName | None = None
    q: str = Field("", max_length=100, description="part of the number or the payer's name")
    since: date | None = Field(None, description="made on or after")
    until: date | None = Field(None, description="made on or before")


class VoucherFilterIn(PageIn):
    merchant: Id | None = None
    status: VoucherStatusName | None = None


class CodeIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=60, description="the code typed (K7M2-Q9XD) or the QR text")


# --- catalogue ------------------------------------------------------------------------------------------------------


class ProductFieldsIn(InputSchema):
    """What PATCH may change (any subset); POST needs name and price too."""

    name: str | None = Field(None, max_length=200)
    price: Whole | None = None
    kind: KindName | None = None
    category: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=300)
    unit: str | None = Field(None, max_length=10)
    merchant_id: Id | None = Field(None, description="the caring merchant who delivers it")
    partner_id: Id | None = Field(None, description="the partner unit who delivers it")
    tracks_stock: bool | None = None
    low_stock_at: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    limit_per_person: Whole | None = None
    limit_period: PeriodName | None = None
    available_from: date | None = None
    available_until: date | None = None
    choice_group_id: Id | None = None
    is_active: bool | None = None
    position: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class ProductIn(ProductFieldsIn):
    community_id: Id
    name: str = Field(..., max_length=200)
    price: Whole
    stock: Annotated[int, Field(ge=0, le=100_000)] = Field(0, description="opening stock, booked as a receipt")


class ReceiptIn(InputSchema):
    quantity: Whole
    reason: str = Field("", max_length=200)


class AdjustmentIn(InputSchema):
    change: Whole = Field(..., description="+ found, - broken or spoilt; never below zero")
    reason: Reason


class ProductOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    kind_label: str
    category: str
    description: str
    unit: str
    price: int
    merchant_id: int | None
    merchant_name: str
    partner_id: int | None
    partner_name: str
    tracks_stock: bool
    stock: int | None = Field(..., description="null when the item's stock is not counted")
    low_stock_at: int
    is_low: bool
    limit_per_person: int | None
    limit_period: str
    available_from: date | None
    available_until: date | None
    choice_group_id: int | None
    choice_group_name: str
    is_active: bool
    position: int
    issues_voucher: bool
    photo_url: str | None


class ProductsOut(Schema):
    count: int
    items: list[ProductOut]


class MovementOut(Schema):
    id: int
    product_id: int
    kind: str
    kind_label: str
    quantity: int
    stock_after: int
    reason: str
    redemption_id: int | None
    redemption_number: str | None
    stocktake_id: int | None
    actor_id: int | None
    actor_name: str
    created_at: datetime


class MovementsOut(Schema):
    count: int
    items: list[MovementOut]


# --- stocktakes -----------------------------------------------------------------------------------------------------


class StocktakeIn(InputSchema):
    community_id: Id
    note: str = Field("", max_length=200)


class CountIn(InputSchema):
    product_id: Id
    counted: Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)] | None = Field(..., description="null clears a count")


class CountsIn(InputSchema):
    counts: list[CountIn] = Field(..., min_length=1, max_length=2000)


class StocktakeLineOut(Schema):
    id: int
    product_id: int
    product_name: str
    expected: int
    counted: int | None
    variance: int | None
    price: int


class VarianceOut(Schema):
    products_off: int
    short_units: int
    over_units: int
    short_points: int
    over_points: int


class StocktakeOut(Schema):
    id: int
    community_id: int
    status: str
    status_label: str
    note: str
    started_by_id: int
    started_at: datetime
    closed_by_id: int | None
    closed_at: datetime | None


class StocktakesOut(Schema):
    count: int
    items: list[StocktakeOut]


class StocktakeDetailOut(StocktakeOut):
    lines: list[StocktakeLineOut]
    counted: int = Field(..., description="lines counted so far")
    variance: VarianceOut


# --- redemptions ----------------------------------------------------------------------------------------------------


class PayerIn(InputSchema):
    """Exactly one: the resident, the merchant of the alliance, or the scanned QR points card (or its typed code)."""

    person_id: Id | None = None
    merchant_id: Id | None = None
    card: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def exactly_one(self) -> PayerIn:
        given = [v for v in (self.person_id, self.merchant_id, self.card) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of person_id, merchant_id, card")
        return self


class LineIn(InputSchema):
    product_id: Id
    quantity: Whole = Field(..., description="1..99")


class RedemptionIn(InputSchema):
    payer: PayerIn
    channel: ChannelName = Field(..., description="counter: handed over at once; phone: reserved, picked up later")
    # the service refuses more than 30 lines (basket_too_large); this only keeps a body from growing without end
    lines: list[LineIn] = Field(..., max_length=500)


class CancelIn(InputSchema):
    reason: str = Field("", max_length=200)


class ReturnLineIn(InputSchema):
    line_id: Id
    quantity: Whole


class ReturnIn(InputSchema):
    lines: list[ReturnLineIn] = Field(..., min_length=1, max_length=500)
    reason: Reason


class VoucherOut(Schema):
    id: int
    code: str = Field(..., description="K7M2-Q9XD; masked (K7M2-****) for everyone but its holder while unused")
    qr: str | None = Field(..., description="the text of its QR code (holder only)")
    product_id: int
    product_name: str
    merchant_id: int | None
    merchant_name: str
    partner_id: int | None
    partner_name: str
    person_id: int | None
    person_name: str
    points: int
    status: str
    status_label: str
    valid_until: datetime
    issued_at: datetime
    used_at: datetime | None
    redemption_id: int
    redemption_number: str | None


class VouchersOut(Schema):
    count: int
    items: list[VoucherOut]


class RedemptionLineOut(Schema):
    id: int
    product_id: int
    name: str
    quantity: int
    price: int
    points: int
    returned: int
    voucher_ids: list[int]


class RedemptionOut(Schema):
    id: int
    community_id: int
    number: str | None
    person_id: int | None
    merchant_id: int | None
    payer_name: str
    channel: str
    status: str
    status_label: str
    total: int
    refunded: int
    balance_after: int | None
    reserved_until: datetime | None
    created_at: datetime
    handed_over_at: datetime | None
    closed_at: datetime | None
    reason: str
    lines: list[RedemptionLineOut]


class RedemptionsOut(Schema):
    count: int
    items: list[RedemptionOut]


class MeOut(Schema):
    person_id: int | None = Field(..., description="null when the signed-in user is no resident")
    community_id: int | None
    balance: int
    reservations: list[RedemptionOut]
    vouchers: list[VoucherOut]


# --- settings -------------------------------------------------------------------------------------------------------


class SettingsIn(InputSchema):
    community_id: Id
    reservation_days: Whole = Field(..., description="1..366")
    voucher_days: Whole = Field(..., description="1..366")
    counter_note: str = Field("", max_length=120)


class SettingsOut(Schema):
    community_id: int
    reservation_days: int
    voucher_days: int
    counter_note: str


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
