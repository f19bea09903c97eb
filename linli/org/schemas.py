"""The shapes the org API reads and writes (django-ninja / pydantic).

Input schemas bound every string to the column it lands in (so PostgreSQL never sees an over-long value)
and leave the business rules (phone form, birth-year range, tags, relations, same community) to
`linli.org.services`, which answer with stable error codes. Output schemas never carry more personal data than
the actor may see: phones are masked by the API handler before they get here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema

from linli.common.api import Id, InputSchema, PageIn

TagName = Annotated[str, Field(max_length=30)]
Search = Annotated[str, Field(max_length=100, description="search text")]


def _given(obj: Any, key: str) -> Any:
    """Resolvers also see plain dicts (a handler extending a schema's output): use the value already there."""
    return obj.get(key) if isinstance(obj, dict) else None


# --- reading ------------------------------------------------------------------------------------------------


class CommunityOut(Schema):
    id: int
    name: str
    code: str
    street_id: int
    street_name: str
    address: str
    phone: str

    @staticmethod
    def resolve_street_name(obj: Any) -> str:
        return str(obj.street.name)


class GridOut(Schema):
    id: int
    community_id: int
    parent_id: int | None
    name: str
    number: int
    building_count: int = 0


class CompoundOut(Schema):
    id: int
    community_id: int
    grid_id: int | None
    name: str
    address: str
    property_company: str


class BuildingOut(Schema):
    id: int
    community_id: int
    grid_id: int
    compound_id: int | None
    name: str
    label: str = Field(..., description="compound and building name, as shown on pages")
    floors: int | None

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return str(obj)


class HouseholdOut(Schema):
    id: int
    community_id: int
    building_id: int
    building_label: str
    unit: str
    room: str
    address: str
    floor_area: Decimal | None
    developer_held: bool
    note: str

    @staticmethod
    def resolve_building_label(obj: Any) -> str:
        return _given(obj, "building_label") or str(obj.building)


class MemberOut(Schema):
    id: int
    person_id: int
    name: str
    phone: str = Field(..., description="masked (138****1234) unless the actor may see it in full")
    relation: str
    is_owner: bool


class HouseholdDetailOut(HouseholdOut):
    members: list[MemberOut]


class PersonOut(Schema):
    id: int
    community_id: int
    name: str
    phone: str = Field(..., description="masked (138****1234) unless the actor may see it in full")
    phone_masked: bool
    gender: str
    birth_year: int | None
    tags: list[str]
    note: str = Field(..., description="empty unless the actor may see the person's private data")
    is_active: bool
    has_login: bool


class PlaceOut(Schema):
    member_id: int
    household_id: int
    address: str
    relation: str
    is_owner: bool


class PersonDetailOut(PersonOut):
    households: list[PlaceOut]


class TeamOut(Schema):
    id: int
    community_id: int
    name: str
    description: str
    leader_id: int | None
    leader_name: str
    member_count: int = 0

    @staticmethod
    def resolve_leader_name(obj: Any) -> str:
        return obj.leader.name if obj.leader_id else ""


class MerchantOut(Schema):
    id: int
    community_id: int
    name: str
    address: str
    contact_name: str
    contact_phone: str
    offer: str
    is_active: bool


class PartnerOut(Schema):
    id: int
    community_id: int
    name: str
    kind: str
    contact_name: str
    contact_phone: str
    agreement_signed_on: date | None
    is_active: bool


class UserOut(Schema):
    id: int
    name: str
    phone: str


class RoleOut(Schema):
    role: str
    label: str
    level: str = Field(..., description="street | community | grid | building | merchant")
    scope_id: int
    scope_name: str


class MePersonOut(Schema):
    id: int
    name: str
    community_id: int
    community_name: str


class MeOut(Schema):
    user: UserOut
    roles: list[RoleOut]
    person: MePersonOut | None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="the first characters of the key, to recognise it")
    user_id: int
    user_name: str
    issued_by_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    is_active: bool

    @staticmethod
    def resolve_user_name(obj: Any) -> str:
        return _given(obj, "user_name") or str(obj.user.name)


class TokenIssuedOut(TokenOut):
    key: str = Field(..., description="the secret key: shown this once, never again")


# --- list filters (query string; all include limit/offset) --------------------------------------------------


class CommunityFilter(PageIn):
    community: Id | None = Field(None, description="only this community (404 when it is outside your area)")


class BuildingFilter(CommunityFilter):
    grid: Id | None = None
    compound: Id | None = None
    q: Search = ""


class HouseholdFilter(CommunityFilter):
    building: Id | None = None
    q: Search = ""


class PersonFilter(CommunityFilter):
    q: Search = Field("", description="part of a name, or four or more digits of a phone number")
    tag: TagName = ""


# --- writing ------------------------------------------------------------------------------------------------


class HouseholdIn(InputSchema):
    building_id: Id
    room: str = Field(..., max_length=20)
    unit: str = Field("", max_length=20)
    address: str = Field("", max_length=200, description="left empty: built from building, unit and room")
    floor_area: Decimal | None = Field(None, description="exclusive floor area in m² (for owners' votes)")
    developer_held: bool = Field(False, description="unsold or not handed over: counted with the developer's units")
    note: str = Field("", max_length=200)


class HouseholdPatch(InputSchema):
    """Only the fields sent change. A new `building_id` moves the household (same community, in scope)."""

    building_id: Id | None = None
    room: str | None = Field(None, max_length=20)
    unit: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=200)
    floor_area: Decimal | None = None
    developer_held: bool | None = None
    note: str | None = Field(None, max_length=200)


class PersonIn(InputSchema):
    community_id: Id | None = Field(None, description="may be left out when household_id is given")
    name: str = Field(..., max_length=200)
    phone: str = Field("", max_length=40)
    gender: str = Field("", max_length=1, description="F, M or empty")
    birth_year: int | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=200)
    household_id: Id | None = Field(None, description="put the new person straight into this household")
    relation: str = Field("other", max_length=10)
    is_owner: bool = False


class PersonPatch(InputSchema):
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    gender: str | None = Field(None, max_length=1)
    birth_year: int | None = None
    tags: list[TagName] | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=200)


class MemberIn(InputSchema):
    person_id: Id
    relation: str = Field("other", max_length=10)
    is_owner: bool = False


class TokenIn(InputSchema):
    user_id: Id
    name: str = Field(..., max_length=100)
