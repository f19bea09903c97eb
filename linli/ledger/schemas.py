"""The shapes the ledger API reads and writes (django-ninja / pydantic).

Amounts are strict integers (no "5", no 5.0, no true): the services then check the range and the sign and answer
with stable codes (amount_invalid, reason_required ...). Text is bounded by the column it lands in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import StrictInt

from linli.common.api import MAX_LIMIT, Id, InputSchema

Text200 = Annotated[str, Field(max_length=200)]


# --- reading ------------------------------------------------------------------------------------------------


class BalanceOut(Schema):
    person_id: int
    account_id: int | None
    balance: int


class PassbookLineOut(Schema):
    transfer_id: int
    reference: str
    created_at: datetime
    kind: str
    kind_label: str
    memo: str
    change: int = Field(..., description="+ earned, − spent")
    balance_after: int | None
    counterparty: str


class PassbookOut(Schema):
    person_id: int
    balance: int
    items: list[PassbookLineOut]
    next_before: int | None = Field(None, description="pass as ?before= for the next (older) page; null at the end")


class TransferOut(Schema):
    id: int
    reference: str
    community_id: int
    debit_account_id: int
    debit_name: str
    credit_account_id: int
    credit_name: str
    amount: int
    kind: str
    memo: str
    ref_type: str
    ref_id: int | None
    reverses_id: int | None
    reversed_by_id: int | None = None
    actor_id: int | None
    created_at: datetime
    debit_balance_after: int | None
    credit_balance_after: int | None
    row_hash: str


class TransfersOut(Schema):
    items: list[TransferOut]
    next_before: int | None = Field(None, description="pass as ?before= for the next (older) page; null at the end")


class AdjustmentOut(Schema):
    id: int
    community_id: int
    person_id: int | None
    amount: int
    reason: str
    status: str
    requested_by_id: int
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    transfer_id: int | None
    needs_approval: bool = Field(..., description="still waiting for a second staff member")


# --- filters ------------------------------------------------------------------------------------------------


class KeysetIn(InputSchema):
    before: Id | None = Field(None, description="only transfers older than this id (keyset paging)")
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="items per page (1..200)")


class PassbookIn(KeysetIn):
    limit: int = Field(20, ge=1, le=100, description="lines per page (1..100)")


class TransferFilter(KeysetIn):
    community: Id | None = None
    person: Id | None = None


# --- writing ------------------------------------------------------------------------------------------------


class AwardIn(InputSchema):
    person_id: Id
    amount: StrictInt = Field(..., description="points, a whole number above zero")
    memo: Text200 = ""


class AdjustmentIn(InputSchema):
    person_id: Id
    amount: StrictInt = Field(..., description="positive adds points, negative takes them away; never zero")
    reason: Text200


class ReverseIn(InputSchema):
    reason: Text200


class RejectIn(InputSchema):
    note: Text200 = ""
