"""The shapes of the caring merchants' service points API (django-ninja / pydantic).

A quantity is hours or times above 0 and at most 10000 with two decimals at most ("2.5" or 2.5), the note 300
characters; the service then answers with its stable codes (rule_not_in_force, no_points, cap_exceeded ...)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from linli.common.api import Id, InputSchema


class MerchantServiceIn(InputSchema):
    rule_id: Id = Field(..., description="an earning rule of the merchant's community (not retired)")
    quantity: Decimal = Field(
        ..., gt=0, le=10000, decimal_places=2, description="hours (counted per full hour) or times, by the rule's unit"
    )
    occurred_on: date | None = Field(None, description="the day of the service; default: today (at most a year ago)")
    note: Annotated[str, Field(max_length=300)] = ""


class MerchantServiceOut(Schema):
    id: int
    community_id: int
    merchant_id: int
    rule_id: int
    rule_code: str
    rule_name: str = Field(..., description="the name of the rule's version the points were computed by")
    version_id: int
    unit: str
    quantity: Decimal
    occurred_on: date
    points: int
    note: str
    transfer_id: int | None = Field(..., description="the ledger award from issuance to the merchant's account")
    actor_id: int
    created_at: datetime


class MerchantServicesOut(Schema):
    count: int
    balance: int = Field(..., description="the merchant's points balance now")
    items: list[MerchantServiceOut]
