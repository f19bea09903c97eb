"""The shapes the claim API reads and writes. Bounds follow the columns and the claim service (minutes 1..1440,
quantity above 0 and at most 10000, note 300 characters); the service then answers with its stable codes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from linli.common.api import Id, InputSchema, PageIn

Reason = Annotated[str, Field(min_length=1, max_length=300, description="shown to the resident")]


# --- writing --------------------------------------------------------------------------------------------------------


class ClaimContentIn(InputSchema):
    occurred_on: date | None = Field(None, description="the day of service; today when left out")
    minutes: int | None = Field(None, ge=1, le=1440, description="required for hourly rules")
    quantity: Decimal | None = Field(None, gt=0, le=10000, decimal_places=2, description="items or kg")
    difficulty: str = Field("", max_length=30, description="one of the rule's difficulty levels; empty: the first")
    note: str = Field("", max_length=300, description="what was done")


class ClaimIn(ClaimContentIn):
    rule_id: Id
    person_id: Id | None = Field(None, description="whom the claim is for; left out: the caller's own check-in")


class RejectIn(InputSchema):
    reason: Reason


class BulkIn(InputSchema):
    claim_ids: list[Id] = Field(..., min_length=1, max_length=200)


class BulkRejectIn(BulkIn):
    reason: Reason


class ClaimFilterIn(PageIn):
    community: Id
    queue: Literal["verify", "approve"] | None = Field(
        None, description="verify: waiting for the caller's check; approve: waiting for staff approval"
    )
    person: Id | None = None
    status: Literal["submitted", "verified", "approved", "rejected", "withdrawn"] | None = None
    area: Id | None = None
    rule: Id | None = None
    grid: Id | None = None
    source: Literal["checkin", "recorded", "activity", "work_order"] | None = None
    since: date | None = Field(None, description="date of service from")
    until: date | None = Field(None, description="date of service until")
    flagged: bool = Field(False, description="only claims flagged as possible duplicates or with a reused photo")
    q: str = Field("", max_length=50, description="part of the person's name or of the note")


# --- reading --------------------------------------------------------------------------------------------------------


class ClaimEventOut(Schema):
    action: str
    at: datetime
    actor_id: int | None
    actor_name: str
    note: str


class ClaimOut(Schema):
    id: int
    community_id: int
    person_id: int
    person_name: str = Field(..., description="masked (王*英) for callers who may not see the person's private data")
    rule_id: int
    rule_version_id: int
    rule_name: str
    area_name: str
    unit: str
    source: str
    occurred_on: date
    minutes: int | None
    quantity: Decimal
    difficulty: str
    points: int
    note: str
    status: str
    status_label: str
    reason: str
    recorded_by_id: int | None
    verified_by_id: int | None
    verified_at: datetime | None
    decided_by_id: int | None
    decided_at: datetime | None
    transfer_id: int | None
    duplicate_of_id: int | None
    photo_reused: bool
    photo_url: str | None
    activity_id: int | None
    ref_type: str
    ref_id: int | None
    created_at: datetime


class ClaimDetailOut(ClaimOut):
    events: list[ClaimEventOut]


class ClaimsOut(Schema):
    count: int
    items: list[ClaimOut]


class BulkFailureOut(Schema):
    claim_id: int
    code: str
    message: str


class BulkOut(Schema):
    done: list[ClaimOut]
    failed: list[BulkFailureOut]
