"""The shapes the activity API reads and writes. Bounds follow the columns and linli.points.activities; the service
then answers with its stable codes (rule_invalid, capacity_too_small, qr_invalid, qr_expired, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from linli.common.api import Id, InputSchema, PageIn


# --- writing --------------------------------------------------------------------------------------------------------
class ActivityIn(InputSchema):
    community_id: Id
    title: str = Field(..., min_length=1, max_length=100)
    place: str = Field(..., min_length=1, max_length=120)
    starts_at: datetime = Field(..., description="with its time zone, e.g. 2026-05-04T09:00:00+08:00")
    ends_at: datetime
    rule_id: Id = Field(..., description="a points rule of the community, in force on the day")
    capacity: int | None = Field(None, ge=1, le=10000, description="places; left out: no limit")
    description: str = Field("", max_length=2000)
    team_id: Id | None = None
    grid_id: Id | None = None
    organiser_phone: str = Field("", max_length=20, description="the organiser's login; empty: staff only")


class SignupIn(InputSchema):
    person_id: Id | None = Field(None, description="left out: the caller themself (staff may name an elder)")


class TokenIn(InputSchema):
    token: str = Field(..., min_length=1, max_length=300, description="the `t` parameter of the scanned QR code URL")


class MarkIn(InputSchema):
    person_id: Id
    present: bool = True
    checked_in_at: datetime | None = Field(None, description="left out: the activity's start")
    checked_out_at: datetime | None = Field(None, description="left out: the activity's end")


class CloseIn(InputSchema):
    approve: bool = Field(True, description="approve the claims at once where the caller may (claim.approve)")


class ActivityFilterIn(PageIn):
    community: Id
    when: Literal["upcoming", "past", "all"] = "upcoming"
    status: Literal["open", "cancelled", "closed"] | None = None


# --- reading --------------------------------------------------------------------------------------------------------
class ActivityOut(Schema):
    id: int
    community_id: int
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    status: str
    capacity: int | None
    confirmed: int
    waiting: int
    places_left: int | None
    rule_id: int
    rule_name: str
    points: int
    unit: str
    team_id: int | None
    team_name: str | None
    grid_id: int | None
    series_id: int | None
    organiser_id: int | None
    my_signup: Literal["confirmed", "waiting"] | None = Field(None, description="the caller's own sign-up")


class ActivitiesOut(Schema):
    count: int
    items: list[ActivityOut]


class SignupOut(Schema):
    activity_id: int
    person_id: int
    status: str
    position: int | None = Field(None, description="place on the waiting list (1 = next)")
    promoted_person_ids: list[int] = Field(default_factory=list, description="who moved up off the waiting list")


class AttendanceOut(Schema):
    activity_id: int
    person_id: int
    person_name: str
    checked_in_at: datetime
    checked_out_at: datetime | None
    minutes: int | None = Field(None, description="minutes credited: the overlap with the activity's time")
    marked: bool
    changed: bool = Field(True, description="false when the scan repeated one already recorded")


class AttendanceListOut(Schema):
    count: int
    items: list[AttendanceOut]


class MarkOut(Schema):
    person_id: int
    present: bool
    attendance: AttendanceOut | None


class LeftOut(Schema):
    claim_id: int
    person_id: int


class SkippedOut(Schema):
    person_id: int
    code: str
    reason: str


class CloseOut(Schema):
    activity_id: int
    created: int
    approved: int
    already: int
    left_verified: list[LeftOut]
    skipped: list[SkippedOut]
