"""Shapes of the rules-catalogue and leaderboard API (django-ninja / pydantic).

Numbers are strict integers (no "5", no 5.0, no true); the services then check ranges and answer with stable codes
(rule_points, rule_unit, rule_recorders, rule_cap ...). Text is bounded by the column it lands in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from linli.common.api import Id, InputSchema

Name30 = Annotated[str, Field(min_length=1, max_length=30)]
Name60 = Annotated[str, Field(max_length=60)]
Name100 = Annotated[str, Field(max_length=100)]
Text300 = Annotated[str, Field(max_length=300)]
Code = Annotated[str, Field(max_length=40, description="letters, digits, - or _; unique in the community")]
Small = Annotated[StrictInt, Field(ge=0, le=32000)]

UNIT_HELP = "occurrence | hour (per full hour) | item | kg"
RECORDERS_HELP = "any of self, building_steward, grid_worker, community_staff, organiser"
STEPS_HELP = "verify_approve | approve | verify"


class Difficulty(Schema):
    name: Name30
    percent: StrictInt = Field(..., description="multiplies the points: 150 is one and a half times")


# --- reading ------------------------------------------------------------------------------------------------
class AreaOut(Schema):
    id: int
    community_id: int
    name: str
    position: int


class VersionOut(Schema):
    number: int
    name: str
    description: str
    points: int
    unit: str
    difficulties: list[Difficulty]
    daily_cap: int | None
    monthly_cap: int | None
    evidence_required: bool
    recorders: list[str]
    steps: str
    valid_from: date | None
    valid_until: date | None
    created_at: datetime
    created_by_id: int | None


class RuleOut(Schema):
    id: int
    community_id: int
    area_id: int
    area_name: str
    code: str
    position: int
    retired: bool
    version: VersionOut = Field(..., description="the version new claims are made under")


class RuleDetailOut(RuleOut):
    versions: list[VersionOut] = Field(..., description="every version, newest first")


class RulesFilter(InputSchema):
    community: Id
    include_retired: bool = False


class LeaderboardFilter(InputSchema):
    community: Id
    grid: Id | None = None
    period: str = Field("month", description="month | year | all")


class LeaderRowOut(Schema):
    rank: int
    person_id: int | None = Field(None, description="only for people the caller may see; null when the name is masked")
    name: str
    points: int
    me: bool


class LeaderboardOut(Schema):
    community_id: int
    grid_id: int | None
    period: str
    since: datetime | None = Field(None, description="approved at or after this moment; null for all time")
    people: int = Field(..., description="how many people earned points in the period")
    rows: list[LeaderRowOut]
    me: LeaderRowOut | None = Field(None, description="the caller's own line, also when outside the top")


# --- writing ------------------------------------------------------------------------------------------------
class AreaIn(InputSchema):
    community_id: Id
    name: Name60
    position: Small = 0


class RuleContentIn(InputSchema):
    """A rule version's content."""

    name: Name100
    points: StrictInt = Field(..., description="1 to 10000")
    unit: str = Field("occurrence", description=UNIT_HELP)
    description: Text300 = ""
    difficulties: list[Difficulty] = Field(default_factory=list, max_length=20)
    daily_cap: StrictInt | None = None
    monthly_cap: StrictInt | None = None
    evidence_required: StrictBool = False
    recorders: list[Annotated[str, Field(max_length=30)]] = Field(
        default_factory=lambda: ["self", "building_steward", "grid_worker"], max_length=10, description=RECORDERS_HELP
    )
    steps: str = Field("verify_approve", description=STEPS_HELP)
    valid_from: date | None = None
    valid_until: date | None = None


class RuleIn(RuleContentIn):
    area_id: Id
    code: Code
    position: Small = 0


class RuleUpdateIn(InputSchema):
    """Fields left out keep their value; null clears a cap or a validity date."""

    area_id: Id | None = None
    position: Small | None = None
    name: Name100 | None = None
    points: StrictInt | None = None
    unit: str | None = Field(None, description=UNIT_HELP)
    description: Text300 | None = None
    difficulties: list[Difficulty] | None = Field(None, max_length=20)
    daily_cap: StrictInt | None = None
    monthly_cap: StrictInt | None = None
    evidence_required: StrictBool | None = None
    recorders: list[Annotated[str, Field(max_length=30)]] | None = Field(
        None, max_length=10, description=RECORDERS_HELP
    )
    steps: str | None = Field(None, description=STEPS_HELP)
    valid_from: date | None = None
    valid_until: date | None = None


class RetireIn(InputSchema):
    retired: StrictBool = Field(True, description="false takes the rule back into use")
