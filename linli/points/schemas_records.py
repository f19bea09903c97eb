"""The shapes of the donations, certificates and volunteer-record API (django-ninja / pydantic).

Numbers are strict integers (no "5", no 5.0, no true) and text is bounded by its column; the services then check the
rules and answer with stable codes (item_price, no_service, period_invalid ...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from linli.common.api import MAX_LIMIT, Id, InputSchema

# --- donations ------------------------------------------------------------------------------------------------------


class ItemIn(InputSchema):
    description: Annotated[str, Field(min_length=1, max_length=120)]
    category: Annotated[str, Field(max_length=40)] = ""
    quantity: StrictInt = Field(1, ge=1, le=1000)
    condition: Annotated[str, Field(max_length=60)] = ""


class DonationIn(InputSchema):
    donor_id: Id
    items: list[ItemIn] = Field(..., min_length=1, max_length=30)
    received_on: date | None = Field(None, description="default: today")
    note: Annotated[str, Field(max_length=300)] = ""


class AssessItemIn(InputSchema):
    item_id: Id
    usable: StrictBool
    points: StrictInt = Field(0, description="points per piece for the donor (0..10000); 0 when not usable")
    price: StrictInt | None = Field(
        None, description="shelf price per piece in points (1..100000); null when not usable"
    )


class AssessIn(InputSchema):
    items: list[AssessItemIn] = Field(..., min_length=1, max_length=30, description="every item, once")


class DeclineIn(InputSchema):
    reason: Annotated[str, Field(max_length=300)]


class DonationFilterIn(InputSchema):
    community: Id
    status: Annotated[str, Field(max_length=12)] = Field("", description="registered | assessed | declined")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class QueueFilterIn(InputSchema):
    community: Id
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class ItemOut(Schema):
    id: int
    donation_id: int
    description: str
    category: str
    quantity: int
    condition: str
    points: int = Field(..., description="per piece, for the donor")
    price: int | None = Field(..., description="shelf price per piece in points")
    status: str = Field(..., description="queued | stocked | discarded")
    market_ref: str


class DonationOut(Schema):
    id: int
    community_id: int
    donor_id: int
    donor_name: str = Field(..., description="masked (王*英) for readers who may not see personal data")
    received_on: date
    received_by_id: int | None
    status: str
    points: int | None
    assessed_by_id: int | None
    assessed_at: datetime | None
    transfer_id: int | None
    note: str
    reason: str
    items: list[ItemOut]


class DonationsOut(Schema):
    count: int
    items: list[DonationOut]


class ItemsOut(Schema):
    count: int
    items: list[ItemOut]


# --- certificates ---------------------------------------------------------------------------------------------------


class CertificateIn(InputSchema):
    person_id: Id
    period_from: date
    period_to: date


class RevokeIn(InputSchema):
    reason: Annotated[str, Field(max_length=200)]


class CertificateFilterIn(InputSchema):
    community: Id | None = None
    person: Id | None = None
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)


class ServiceOut(Schema):
    name: str
    count: int
    minutes: int


class CertificateOut(Schema):
    id: int
    community_id: int
    person_id: int
    person_name: str
    number: str
    period_from: date
    period_to: date
    minutes: int
    hours: str
    services: list[ServiceOut]
    issuer_name: str
    issued_by_id: int | None
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str
    public_url: str = Field(..., description="the confirmation page the printed QR code opens (no login)")


class CertificatesOut(Schema):
    count: int
    items: list[CertificateOut]


class RecordFilterIn(InputSchema):
    since: date | None = None
    until: date | None = None


class EntryOut(Schema):
    claim_id: int
    occurred_on: date
    content: str
    minutes: int
    place: str
    organiser: str


class RecordOut(Schema):
    person_id: int
    name: str
    minutes: int
    hours: str
    since: date | None
    until: date | None
    entries: list[EntryOut]
