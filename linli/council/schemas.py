"""The shapes the council API reads and writes. Bounds follow the columns; the services then answer with their stable
codes (meeting_status, resolution_status, rating_invalid, vote_status, roll_incomplete, ballot_already_cast ...).

Whole numbers the services judge (a session's first number, progress, a rating) are only bounded here to what a
64-bit column holds, so that the service gives its own precise code instead of a generic invalid_input.

Areas and shares are never floats: an area is {"exact": "1919/2", "m2": "959.50"}, a share {"exact": "2/3",
"percent": "66.67"} — strings, so no client rounds a vote's result.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from linli.common.api import MAX_ID, Id, InputSchema, PageIn

SeriesKindName = Literal["evening_talk", "consultation", "joint", "other"]
MeetingStatusName = Literal["planned", "held", "closed", "cancelled"]
PartyKindName = Literal["resident", "property", "lawyer", "partner", "grid", "steward", "committee", "staff", "other"]
DisputeKindName = Literal["family", "compound", "external"]
SeverityName = Literal["blue", "yellow", "red"]
ResolutionStatusName = Literal["open", "in_progress", "done", "dropped"]
MatterName = Literal[
    "rules", "statute", "committee", "manager", "fund_use", "fund_raise", "rebuild", "common_use", "other"
]
VoteStatusName = Literal["draft", "open", "closed", "cancelled"]
ChoiceName = Literal["agree", "disagree", "abstain"]
RecordChannelName = Literal["paper", "meeting"]
# any whole number a column could hold; the service says whether it makes sense (its own code and message)
Whole = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
Reason = Annotated[str, Field(max_length=200, description="why (required)")]
Text = Annotated[str, Field(max_length=1000)]


# --- filters ----------------------------------------------------------------------------------------------------------


class CommunityIn(InputSchema):
    community: Id


class MeetingFilterIn(PageIn):
    community: Id
    series: Id | None = None
    status: MeetingStatusName | None = None
    q: str = Field("", max_length=100, description="part of the title, the place or an agenda item")
    upcoming: bool = Field(False, description="only planned meetings still to come, soonest first")


class ResolutionFilterIn(PageIn):
    community: Id
    status: ResolutionStatusName | None = Field(None, description='"open": to do and in progress')
    overdue: bool = Field(False, description="open and past the due date")
    mine: bool = Field(False, description="the caller carries it out or supervises it")
    kind: DisputeKindName | None = None
    severity: SeverityName | None = None
    q: str = Field("", max_length=100, description="part of the resolution, its owner or the problem")


class EchoWallIn(PageIn):
    community: str = Field(..., min_length=1, max_length=40, description="the community's code")


class FiguresIn(InputSchema):
    community: Id
    start: date | None = Field(None, description="meetings held on or after")
    end: date | None = Field(None, description="meetings held on or before")


class VoteFilterIn(PageIn):
    community: Id
    status: VoteStatusName | None = None


# --- series -----------------------------------------------------------------------------------------------------------


class SeriesFieldsIn(InputSchema):
    """What PATCH may change (any subset); POST needs community and name too."""

    name: str | None = Field(None, max_length=60)
    kind: SeriesKindName | None = None
    description: str | None = Field(None, max_length=300)
    numbered_from: Whole | None = Field(None, description="the first session number on the platform (1..100000)")
    is_active: bool | None = None


class SeriesIn(SeriesFieldsIn):
    community_id: Id
    name: str = Field(..., max_length=60)


class SeriesOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    kind_label: str
    description: str
    numbered_from: int
    last_number: int
    is_active: bool
    held: int | None = Field(None, description="sessions held or closed (in lists)")


# --- meetings ---------------------------------------------------------------------------------------------------------


class MeetingFieldsIn(InputSchema):
    """What PATCH may change (any subset); grid, compound and building may be cleared with null."""

    title: str | None = Field(None, max_length=120)
    starts_at: datetime | None = None
    place: str | None = Field(None, max_length=120)
    host: str | None = Field(None, max_length=60)
    grid_id: Id | None = None
    compound_id: Id | None = None
    building_id: Id | None = None


class MeetingIn(MeetingFieldsIn):
    series_id: Id
    title: str = Field(..., max_length=120)
    starts_at: datetime
    place: str = Field(..., max_length=120)
    host: str = Field(..., max_length=60)


class MeetingOut(Schema):
    id: int
    community_id: int
    series_id: int
    series_name: str
    number: int
    title: str
    starts_at: datetime
    place: str
    host: str
    grid_id: int | None
    compound_id: int | None
    building_id: int | None
    status: str
    status_label: str
    held_at: datetime | None
    closed_at: datetime | None
    cancel_reason: str
    created_at: datetime


class MeetingsOut(Schema):
    count: int
    items: list[MeetingOut]


class InvitationIn(InputSchema):
    """A resident (person_id), a partner unit (partner_id) or someone by name (the lawyer, the property company)."""

    kind: PartyKindName = "resident"
    name: str = Field("", max_length=100)
    person_id: Id | None = None
    partner_id: Id | None = None
    note: str = Field("", max_length=200)


class InvitationOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str = Field(..., description="a resident's name is masked for those who do not run the meeting")
    person_id: int | None
    partner_id: int | None
    note: str


class AttendanceIn(InputSchema):
    """A resident (person_id) or a guest by name."""

    person_id: Id | None = None
    name: str = Field("", max_length=100)
    kind: PartyKindName = "resident"


class AttendanceOut(Schema):
    id: int
    person_id: int | None = Field(..., description="only for those who run the meeting")
    name: str = Field(..., description="masked for those who do not run the meeting")
    kind: str
    kind_label: str
    via: str
    at: datetime


class CheckinIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=60, description="the code in the QR on the wall")


class ItemFieldsIn(InputSchema):
    title: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=4000)
    kind: DisputeKindName | None = None
    severity: SeverityName | None = None
    work_order_id: Id | None = Field(None, description="the work order brought to the meeting")


class ItemIn(ItemFieldsIn):
    title: str = Field("", max_length=120, description="may be left out when a work order is given")
    description: str = Field("", max_length=4000)
    kind: DisputeKindName
    severity: SeverityName


class MinutesIn(InputSchema):
    minutes: str = Field(..., max_length=20000)


class HoldIn(InputSchema):
    minutes: str = Field("", max_length=20000)


class ReportIn(InputSchema):
    report: str = Field(..., max_length=8000)


class ReasonIn(InputSchema):
    reason: Reason


# --- resolutions ------------------------------------------------------------------------------------------------------


class ResolutionIn(InputSchema):
    text: str = Field(..., max_length=500, description="what was agreed")
    owner: str = Field(..., max_length=100, description="who carries it out, as the meeting wrote it")
    due_on: date
    owner_user_id: Id | None = Field(None, description="the login who reports its progress")
    supervisor_id: Id | None = Field(None, description="the supervision post (监督岗)")
    on_echo_wall: bool = True


class ResolutionOut(Schema):
    id: int
    community_id: int
    meeting_id: int
    item_id: int
    item_title: str
    kind: str
    severity: str
    text: str
    owner: str
    owner_user_id: int | None
    owner_user_name: str
    supervisor_id: int | None
    supervisor_name: str
    due_on: date
    overdue: bool
    status: str
    status_label: str
    progress: int
    done_at: datetime | None
    last_chased_at: datetime | None
    on_echo_wall: bool
    rating_avg: float | None
    rating_count: int


class ResolutionsOut(Schema):
    count: int
    items: list[ResolutionOut]


class EntryOut(Schema):
    id: int
    kind: str
    kind_label: str
    text: str
    progress: int | None
    public: bool
    actor_name: str
    at: datetime


class EvaluationOut(Schema):
    resolution_id: int
    rating: int
    comment: str
    at: datetime


class ResolutionDetailOut(ResolutionOut):
    timeline: list[EntryOut] = Field(..., description="entries not shown in public only for those who work there")
    my_evaluation: EvaluationOut | None


class ItemOut(Schema):
    id: int
    meeting_id: int
    position: int
    title: str
    description: str
    work_order_id: int | None
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    solved_at: datetime | None
    resolutions: list[ResolutionOut]


class MeetingDetailOut(MeetingOut):
    minutes: str
    report: str
    may_run: bool
    checkin_code: str | None = Field(..., description="the secret of the wall's QR code: only for who runs it")
    invitations: list[InvitationOut]
    attendance: list[AttendanceOut]
    items: list[ItemOut]
    vote_ids: list[int]


class ProgressIn(InputSchema):
    progress: Whole = Field(..., description="0..99; 100 is reported with /done")
    text: Text
    public: bool = True


class TextIn(InputSchema):
    text: Text


class SupervisorIn(InputSchema):
    user_id: Id | None = Field(..., description="null: nobody")


class DueIn(InputSchema):
    due_on: date
    reason: Reason


class EvaluationIn(InputSchema):
    rating: Whole = Field(..., description="1..5 stars")
    comment: str = Field("", max_length=500)


# --- the echo wall and the figures ------------------------------------------------------------------------------------


class WallEntryOut(Schema):
    kind: str
    kind_label: str
    text: str
    progress: int | None
    at: datetime


class WallItemOut(Schema):
    id: int
    meeting: str = Field(..., description="the series and session, e.g. 兴庆夜话 第270期")
    problem: str
    kind: str
    severity: str
    text: str
    owner: str
    due_on: date
    overdue: bool
    status: str
    status_label: str
    progress: int
    done_at: datetime | None
    rating_avg: float | None
    rating_count: int
    entries: list[WallEntryOut]


class WallOut(Schema):
    community: str
    count: int
    items: list[WallItemOut]


class FiguresOut(Schema):
    community_id: int
    start: date | None
    end: date | None
    sessions: int
    problems: int
    solved: int
    by_kind: dict[str, int]
    by_colour: dict[str, int]
    grid: dict[str, dict[str, int]] = Field(..., description="every problem: kind -> colour -> count")
    resolutions: int
    done: int
    done_on_time: int
    overdue: int
    rating_avg: float | None
    rating_count: int


# --- owners' votes ----------------------------------------------------------------------------------------------------


class VoteFieldsIn(InputSchema):
    """What PATCH may change while the vote is a draft (any subset); building XOR compound."""

    title: str | None = Field(None, max_length=120)
    proposal: str | None = Field(None, max_length=8000)
    matter: MatterName | None = None
    closes_at: datetime | None = None
    building_id: Id | None = None
    compound_id: Id | None = None
    item_id: Id | None = Field(None, description="the agenda item the vote settles")


class VoteIn(VoteFieldsIn):
    community_id: Id
    title: str = Field(..., max_length=120)
    proposal: str = Field(..., max_length=8000)
    matter: MatterName = Field(..., description="Civil Code art. 278 ¶1 item; fund_raise, rebuild, common_use need 3/4")
    closes_at: datetime


class AreaOut(Schema):
    exact: str = Field(..., examples=["1919/2"])
    m2: str = Field(..., examples=["959.50"])


class ShareOut(Schema):
    exact: str = Field(..., examples=["2/3"])
    percent: str = Field(..., examples=["66.67"])


class ThresholdOut(Schema):
    quorum: str
    majority: str
    strict: bool = Field(..., description="true: more than the majority; false: at least")


class TallyOut(Schema):
    final: bool = Field(..., description="true: frozen when the vote closed; false: the count so far")
    matter: str
    special: bool
    total_area: AreaOut
    total_owners: int
    part_area: AreaOut
    part_owners: int
    agree_area: AreaOut
    agree_owners: int
    disagree_area: AreaOut
    disagree_owners: int
    abstain_area: AreaOut
    abstain_owners: int
    part_area_share: ShareOut
    part_owners_share: ShareOut
    agree_area_share: ShareOut
    agree_owners_share: ShareOut
    quorum_area: bool
    quorum_owners: bool
    majority_area: bool
    majority_owners: bool
    quorum: bool
    passed: bool
    threshold: ThresholdOut
    basis: list[str]


class VoteOut(Schema):
    id: int
    community_id: int
    title: str
    proposal: str
    matter: str
    matter_label: str
    special: bool
    building_id: int | None
    compound_id: int | None
    place_name: str
    item_id: int | None
    status: str
    status_label: str
    closes_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    cancel_reason: str
    total_area: str | None = Field(..., examples=["959.50"])
    total_owners: int | None
    passed: bool | None
    digest: str


class VotesOut(Schema):
    count: int
    items: list[VoteOut]


class BallotOut(Schema):
    id: int
    vote_id: int
    entry_id: int
    position: int
    choice: str
    choice_label: str
    channel: str
    channel_label: str
    at: datetime
    voided_at: datetime | None
    void_reason: str


class MyEntryOut(Schema):
    id: int
    position: int
    label: str
    area: str
    ballot: BallotOut | None


class VoteDetailOut(VoteOut):
    tally: TallyOut | None = Field(..., description="the count so far for those who run it; the frozen result")
    my_entry: MyEntryOut | None = Field(..., description="the caller's own line on the roll (owners)")


class RollVoterOut(Schema):
    label: str
    area: str
    units: int
    owners: int
    is_developer: bool


class RollCheckOut(Schema):
    complete: bool
    total_area: str
    total_owners: int
    voters: list[RollVoterOut]
    missing_area: list[str]
    missing_owner: list[str]


class RollEntryOut(Schema):
    id: int
    position: int
    label: str
    names: str = Field(..., description="masked for those who do not record ballots")
    area: str
    is_developer: bool
    has_ballot: bool
    ballot: BallotOut | None


class BallotIn(InputSchema):
    entry_id: Id
    choice: ChoiceName
    channel: RecordChannelName = "paper"


class MyBallotIn(InputSchema):
    choice: ChoiceName


class VerifyOut(Schema):
    ok: bool
    problems: list[str]
    digest: str
