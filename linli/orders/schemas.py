"""The shapes the work-order API reads and writes. Bounds follow the columns and the services (title 120, description,
notes and answers 4000, reasons 500, comments 500 characters; ratings 1..5; colour factors 1..3); the services then
answer with their stable codes (order_status, unknown_category, place_outside, already_rated, reason_required ...)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import field_validator, model_validator

from linli.common.api import Id, InputSchema, PageIn

StatusName = Literal[
    "received",
    "accepted",
    "dispatched",
    "in_progress",
    "on_hold",
    "resolved",
    "closed",
    "reopened",
    "merged",
    "cancelled",
]
SeverityName = Literal["blue", "yellow", "red"]
HandlerName = Literal["grid_worker", "steward", "property", "team", "external", "staff"]
# the channels a caller of this API may file through (Open311 clients use /open311/v2/)
ChannelName = Literal["qr", "app", "hotline", "walk_in", "chat", "patrol", "12345", "council"]
Note = Annotated[str, Field(max_length=4000, description="a line on the timeline")]
Reason = Annotated[str, Field(max_length=500, description="why (required; the resident may read it)")]
Factor = Annotated[int, Field(ge=1, le=3)]


# --- reading filters -------------------------------------------------------------------------------------------------


class CommunityIn(InputSchema):
    community: Id


class OrderFilterIn(PageIn):
    community: Id
    status: StatusName | Literal["open", "done"] | None = Field(
        None, description="one status, or open (still owed an answer) / done (resolved or closed)"
    )
    severity: SeverityName | Literal["none"] | None = Field(None, description="a colour, or none (not graded yet)")
    category: Id | None = None
    grid: Id | None = None
    channel: ChannelName | Literal["open311"] | None = None
    overdue: bool = False
    due_soon: bool = Field(False, description="open and due within two days")
    escalated: bool = Field(False, description="escalated by hand or by the clock")
    unassigned: bool = False
    q: str = Field("", max_length=100, description="part of the number, title, description or address")
    since: date | None = Field(None, description="received on or after")
    until: date | None = Field(None, description="received on or before")


class StatsIn(InputSchema):
    community: Id
    since: date | None = Field(None, description="received on or after")
    until: date | None = Field(None, description="received on or before")
    grid: Id | None = None
    category: Id | None = None


# --- writing ---------------------------------------------------------------------------------------------------------


class OrderIn(InputSchema):
    community_id: Id | None = Field(None, description="left out: the caller's own community (residents)")
    category: str = Field(..., min_length=1, max_length=40, description="the category's code (Open311 service_code)")
    description: str = Field(..., max_length=4000)
    title: str = Field("", max_length=120, description="left out: the start of the description")
    channel: ChannelName = Field("app", description="hotline, walk_in, chat, patrol ... are for community workers")
    building_id: Id | None = None
    grid_id: Id | None = None
    address: str = Field("", max_length=200)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    long: Decimal | None = Field(None, ge=-180, le=180)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    reporter_id: Id | None = Field(None, description="staff filing for a resident of the community")
    external_ref: str = Field("", max_length=40, description="e.g. the 12345 hotline's order number")
    received_at: datetime | None = Field(
        None, description="when the request came in (without an offset: local time); left out: now"
    )

    @field_validator("received_at", mode="after")
    @classmethod
    def received_at_in_our_era(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)  # the community's own clock, like the pages' forms
        try:
            value = value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("not a time we can store") from None
        if value.year < 2000:
            raise ValueError("too long ago for a request still on file")
        return value


class NoteOptionalIn(InputSchema):
    note: Note = ""


class GradeFactorsIn(InputSchema):
    scale: Factor | None = None
    difficulty: Factor | None = None
    impact: Factor | None = None


class GradeIn(InputSchema):
    severity: SeverityName
    factors: GradeFactorsIn | None = Field(None, description="scale, difficulty and social impact, 1..3 each")
    note: Note = ""


class AssigneeIn(InputSchema):
    handler: HandlerName
    user_id: Id | None = Field(None, description="a grid worker, steward or staff member (their login)")
    team_id: Id | None = Field(None, description="a volunteer team")
    unit_id: Id | None = Field(None, description="a partner unit: the property company, the power company ...")
    is_lead: bool = False

    @model_validator(mode="after")
    def exactly_one_assignee(self) -> AssigneeIn:
        chosen = [x for x in (self.user_id, self.team_id, self.unit_id) if x is not None]
        if len(chosen) != 1:
            raise ValueError("name exactly one of user_id, team_id, unit_id")
        return self


class DispatchIn(InputSchema):
    assignees: list[AssigneeIn] = Field(..., min_length=1, max_length=10)
    replace: bool = Field(False, description="on an order already dispatched: re-dispatch (转派) instead of adding")
    note: Note = ""


class NoteIn(InputSchema):
    note: Note = ""
    public: bool = Field(False, description="shown to the resident; internal otherwise")


class PublishIn(InputSchema):
    shown: bool = Field(..., description="true: on the public echo wall (masked); false: kept off it")
    note: Note = ""


class ReasonIn(InputSchema):
    reason: Reason


class ResolveIn(InputSchema):
    answer: str = Field(..., max_length=4000, description="what was done: the resident and the echo wall read it")


class RateIn(InputSchema):
    rating: int = Field(..., ge=1, le=5, description="1-2 reopens the order, 3-5 closes it")
    comment: str = Field("", max_length=500)


class MergeIn(InputSchema):
    into: Id = Field(..., description="the order this one repeats")
    note: Note = ""


class CreditIn(InputSchema):
    person_id: Id = Field(..., description="the volunteer who solved it")
    rule_id: Id = Field(..., description="the earning rule")
    minutes: int | None = Field(None, ge=1, le=1440, description="for hourly rules")
    note: str = Field("", max_length=500)


# --- output ----------------------------------------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    description: str
    group: str
    group_label: str
    handler: str
    handler_label: str
    deadline_days: int
    day_kind: str
    severity_days: dict[str, int]
    keywords: str


class OrderOut(Schema):
    id: int
    community_id: int
    number: str
    channel: str
    channel_label: str
    external_ref: str
    category_id: int
    category_code: str
    category_name: str
    title: str
    description: str
    grid_id: int | None
    grid_name: str
    building_id: int | None
    building_name: str
    address: str = Field(..., description="masked (…楼****) for callers who do not work on the order")
    lat: Decimal | None
    long: Decimal | None
    reporter_id: int | None
    reporter_name: str = Field(..., description="masked (王*英) for callers who do not work on the order")
    contact_name: str
    contact_phone: str = Field(..., description="masked (138****1234) for callers who do not work on the order")
    status: str
    status_label: str
    severity: str
    factors: dict[str, Any]
    received_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    due_at: datetime
    overdue: bool
    due_soon: bool
    escalated_at: datetime | None
    answer: str
    rating: int | None
    feedback: str
    rated_at: datetime | None
    reopen_count: int
    merged_into_id: int | None


class OrdersOut(Schema):
    count: int
    items: list[OrderOut]


class AssignmentOut(Schema):
    id: int
    kind: str
    handler: str
    handler_label: str
    user_id: int | None
    team_id: int | None
    unit_id: int | None
    name: str
    is_lead: bool
    active: bool
    assigned_at: datetime
    ended_at: datetime | None


class EventOut(Schema):
    id: int
    at: datetime
    action: str
    action_label: str
    actor_id: int | None
    actor_name: str
    from_status: str
    to_status: str
    note: str
    is_public: bool
    data: dict[str, Any]
    photo_ids: list[int]


class PhotoOut(Schema):
    id: int
    url: str
    width: int
    height: int
    event_id: int | None
    uploaded_at: datetime


class OrderDetailOut(OrderOut):
    assignments: list[AssignmentOut]
    timeline: list[EventOut] = Field(..., description="internal notes only for those who work on the order")
    photos: list[PhotoOut]
    actions: list[str] = Field(..., description="the steps the caller may take now (accept, grade, dispatch ...)")


class CreditOut(Schema):
    order_id: int
    claim_id: int
    claim_status: str
    points: int
    replayed: bool


class StatsOut(Schema):
    community_id: int
    since: date | None
    until: date | None
    received: int
    completed: int
    completion_rate: float | None = Field(..., description="percent, one decimal; null when nothing was received")
    rated: int
    satisfied: int = Field(..., description="rated 4 or 5")
    satisfaction_rate: float | None
    mean_hours_to_close: float | None
    p90_hours_to_close: float | None
    overdue: int
    by_status: dict[str, int]
    by_severity: dict[str, int] = Field(..., description='"" = not graded yet')
    by_category: dict[str, int] = Field(..., description="by category code")
    by_channel: dict[str, int]
