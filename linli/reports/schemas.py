"""Input and output shapes of the reports API (linli/reports/api.py).

A month's figures travel as the plain dict `linli.reports.figures.month_figures` returns (its shape is versioned by
`figures.VERSION` and documented there): the same dict the monthly disclosure freezes and digests, so a client can
recompute the digest from what it received.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from linli.common.api import InputSchema


class MonthsIn(InputSchema):
    since: str = Field("", max_length=7, description="first month, YYYY-MM (default: the community's first month)")
    until: str = Field("", max_length=7, description="last month, YYYY-MM (default: the running month)")


class MonthsOut(Schema):
    community_id: int
    months: list[str] = Field(description="YYYY-MM, oldest first (at most 36)")
    figures: list[dict[str, Any]] = Field(description="one month's figures per month, as the disclosure freezes them")


class SeriesOut(Schema):
    months: list[str]
    values: dict[str, list[float | int | None]] = Field(description="metric -> one value per month (None: no rate)")


class CommunityDashboardOut(Schema):
    community_id: int
    community: str
    months: list[str]
    series: SeriesOut
    latest: dict[str, Any] = Field(description="the running month's figures (counted live)")
    last_closed: dict[str, Any] | None = Field(description="the last closed month's figures")


class GridDashboardOut(Schema):
    grid_id: int
    grid: str
    community_id: int
    months: list[str]
    rows: list[dict[str, int]] = Field(description="one per month: volunteers, earned, received, completed, meetings")
    series: SeriesOut


class RollupIn(InputSchema):
    month: str = Field("", max_length=7, description="YYYY-MM (default: the last closed month)")
    metric: str = Field("volunteers", max_length=40, description="what the rows are ranked by")


class RollupRowOut(Schema):
    community_id: int
    community: str
    code: str
    rank: int | None = Field(description="1 = best; equal values share a rank; None when the value is missing")
    values: dict[str, float | int | None]


class RollupOut(Schema):
    street_id: int
    street: str
    month: str
    metric: str
    metrics: list[str] = Field(description="every metric a roll-up can be ranked by")
    rows: list[RollupRowOut]
    totals: dict[str, float | int | None]


class SealOut(Schema):
    month: str
    root: str = Field(description="the Merkle root of the month's ledger entries, printed on the notice")
    transfers: int
    first_transfer_id: int | None
    last_transfer_id: int | None
    sealed_at: datetime


class DisclosureOut(Schema):
    id: int
    community_id: int
    month: str
    revision: int
    current: bool = Field(description="false once a later revision replaced it")
    published_at: datetime
    published_by: str | None = Field(description="the staff member (None: the operator at the console)")
    reason: str = Field(description="why it was corrected (revisions after the first)")
    replaced_at: datetime | None
    digest: str = Field(description="SHA-256 of the canonical figures (reports.domain.canonical)")
    seal: SealOut
    public_url: str = Field(description="the notice's public page")


class DisclosuresOut(Schema):
    count: int
    items: list[DisclosureOut]


class PublishIn(InputSchema):
    month: str = Field(..., max_length=7, description="YYYY-MM, a month that has ended")
    reason: str = Field("", max_length=200, description="required to correct a published month (a new revision)")


class PublicIn(InputSchema):
    revision: int | None = Field(None, ge=1, le=32767, description="an earlier revision (default: the current one)")


class PublicDisclosureOut(Schema):
    community: str
    community_code: str
    month: str
    revision: int
    current: bool
    published_at: datetime
    reason: str
    replaced_at: datetime | None
    digest: str
    seal: SealOut
    figures: dict[str, Any]
    public_url: str
