"""The points ledger over JSON: balances, passbooks, transfers in scope, awards, reversals, adjustments.

Every write needs an `Idempotency-Key` header (1..100 printable characters; 400 idempotency_key_required when
missing). A retry with the same key and the same body returns the first result (200 instead of 201, the same ids)
and posts nothing; the same key with a different body is 409 idempotency_key_reused. Keys are kept apart per user,
so one client can never replay (or read back) another's request.

Who: "ledger.view" reads a person's balance and passbook (staff, grid workers in their grids, the auditor, the
resident themself); "ledger.post" awards and reverses, "ledger.adjust" asks for and decides adjustments (staff).
People outside the actor's scope are 404; readers in scope who may not write get 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from linli.common.api import Id, IdempotencyKey, actor, idempotency_key, responses
from linli.common.errors import Invalid, NotFound
from linli.ledger import adjustments, selectors, services
from linli.ledger import selectors_staff as reads
from linli.ledger.models import Account, AccountKind, Adjustment, AdjustmentStatus, Transfer, TransferKind
from linli.ledger.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AwardIn,
    BalanceOut,
    PassbookIn,
    PassbookOut,
    RejectIn,
    ReverseIn,
    TransferFilter,
    TransferOut,
    TransfersOut,
)
from linli.org import domain as org_domain
from linli.org import selectors as org_selectors
from linli.org.access import Actor, require, require_any, scoped
from linli.org.models import Community, Person

router = Router(tags=["ledger"])


# --- helpers ------------------------------------------------------------------------------------------------


_key = idempotency_key


def _person(act: Actor, pk: int, action: str) -> Person:
    """A person the actor may see (else 404) and may do `action` for (else 403)."""
    person = org_selectors.get_visible(act, Person, pk)
    require(act, action, person)
    return person


def _visible_people(act: Actor, accounts: list[Account]) -> set[int]:
    ids = {a.person_id for a in accounts if a.person_id}
    if not ids:
        return set()
    return set(scoped(act, "ledger.view", Person.objects.filter(pk__in=ids)).values_list("pk", flat=True))


def _name(account: Account, visible: set[int]) -> str:
    """Names of people whose passbook the actor may not read are masked (张*和)."""
    if account.kind == AccountKind.PERSON and account.person_id not in visible and account.person is not None:
        return org_domain.mask_name(account.person.name)
    return str(account)


def _transfers_out(act: Actor, rows: list[Transfer]) -> list[dict[str, Any]]:
    visible = _visible_people(act, [a for t in rows for a in (t.debit, t.credit)])
    reversed_by = dict(Transfer.objects.filter(reverses_id__in=[t.pk for t in rows]).values_list("reverses_id", "id"))
    return [
        {
            "id": t.pk,
            "reference": t.reference,
            "community_id": t.community_id,
            "debit_account_id": t.debit_id,
            "debit_name": _name(t.debit, visible),
            "credit_account_id": t.credit_id,
            "credit_name": _name(t.credit, visible),
            "amount": t.amount,
            "kind": t.kind,
            "memo": t.memo,
            "ref_type": t.ref_type,
            "ref_id": t.ref_id,
            "reverses_id": t.reverses_id,
            "reversed_by_id": reversed_by.get(t.pk),
            "actor_id": t.actor_id,
            "created_at": t.created_at,
            "debit_balance_after": t.debit_balance_after,
            "credit_balance_after": t.credit_balance_after,
            "row_hash": t.row_hash,
        }
        for t in rows
    ]


def _transfer_out(act: Actor, transfer: Transfer) -> dict[str, Any]:
    t = Transfer.objects.select_related(*reads.TRANSFER_RELATED).get(pk=transfer.pk)
    return _transfers_out(act, [t])[0]


def _adjustment_out(adj: Adjustment) -> dict[str, Any]:
    return {
        "id": adj.pk,
        "community_id": adj.community_id,
        "person_id": adj.account.person_id,
        "amount": adj.amount,
        "reason": adj.reason,
        "status": adj.status,
        "requested_by_id": adj.requested_by_id,
        "requested_at": adj.requested_at,
        "decided_by_id": adj.decided_by_id,
        "decided_at": adj.decided_at,
        "decision_note": adj.decision_note,
        "transfer_id": adj.transfer_id,
        "needs_approval": adj.status == AdjustmentStatus.PENDING,
    }


# --- reading ------------------------------------------------------------------------------------------------


@router.get("/people/{person_id}/balance", response=responses({200: BalanceOut}), summary="A person's points balance")
def person_balance(request: HttpRequest, person_id: Id) -> dict[str, Any]:
    person = _person(actor(request), person_id, "ledger.view")
    account = reads.person_account(person)
    return {
        "person_id": person.pk,
        "account_id": account.pk if account else None,
        "balance": selectors.balance(account) if account else 0,
    }


@router.get(
    "/people/{person_id}/passbook",
    response=responses({200: PassbookOut}),
    summary="A person's passbook, newest first (keyset pages: ?before=<next_before>)",
)
def person_passbook(request: HttpRequest, person_id: Id, page: Query[PassbookIn]) -> dict[str, Any]:
    act = actor(request)
    person = _person(act, person_id, "ledger.view")
    account = reads.person_account(person)
    if account is None:
        return {"person_id": person.pk, "balance": 0, "items": [], "next_before": None}
    lines = selectors.passbook_page(account, before_id=page.before, limit=min(page.limit + 1, 100))
    more = len(lines) > page.limit
    lines = lines[: page.limit]
    visible = _visible_people(act, [line.counterparty for line in lines])
    kinds = dict(TransferKind.choices)
    return {
        "person_id": person.pk,
        "balance": selectors.balance(account),
        "items": [
            {
                "transfer_id": line.transfer.pk,
                "reference": line.transfer.reference,
                "created_at": line.transfer.created_at,
                "kind": line.transfer.kind,
                "kind_label": str(kinds.get(line.transfer.kind, line.transfer.kind)),
                "memo": line.transfer.memo,
                "change": line.change,
                "balance_after": line.balance_after,
                "counterparty": _name(line.counterparty, visible),
            }
            for line in lines
        ],
        "next_before": lines[-1].transfer.pk if more and lines else None,
    }


@router.get(
    "/transfers",
    response=responses({200: TransfersOut}),
    summary="Transfers in the actor's scope, newest first (?community=, ?person=, keyset ?before=)",
)
def list_transfers(request: HttpRequest, filters: Query[TransferFilter]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community) if filters.community else None
    if filters.person:
        person = _person(act, filters.person, "ledger.view")
        if community is not None and person.community_id != community.pk:
            raise NotFound()
        rows, next_before = reads.person_transfers_page(
            reads.person_account(person), before=filters.before, limit=filters.limit
        )
    else:
        require_any(act, "ledger.view")
        rows, next_before = reads.transfers_page(
            reads.transfers(act, community=community), before=filters.before, limit=filters.limit
        )
    return {"items": _transfers_out(act, rows), "next_before": next_before}


@router.get("/transfers/{transfer_id}", response=responses({200: TransferOut}), summary="One transfer")
def get_transfer(request: HttpRequest, transfer_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _transfers_out(act, [reads.transfer_visible(act, transfer_id)])[0]


# --- writing ------------------------------------------------------------------------------------------------


@router.post(
    "/awards",
    response=responses({200: TransferOut, 201: TransferOut}),
    summary="Award points to a person (201; 200 when the same request was already posted)",
)
def create_award(request: HttpRequest, payload: AwardIn, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    person = _person(act, payload.person_id, "ledger.post")
    posted = services.award(
        person=person, amount=payload.amount, actor=act.user, idempotency_key=key, memo=payload.memo
    )
    return Status(200 if posted.replayed else 201, _transfer_out(act, posted.transfer))


@router.post(
    "/transfers/{transfer_id}/reverse",
    response=responses({200: TransferOut, 201: TransferOut}),
    summary="Reverse a transfer with a new one pointing at it (at most once)",
)
def reverse_transfer(
    request: HttpRequest, transfer_id: Id, payload: ReverseIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    transfer = reads.transfer_visible(act, transfer_id)
    require(act, "ledger.post", transfer.community)
    reason = payload.reason.strip()
    if not reason:
        raise Invalid(_("Please say why the transfer is being reversed."), code="reason_required", field="reason")
    posted = services.transfer_reverse(transfer=transfer, actor=act.user, idempotency_key=key, memo=reason)
    return Status(200 if posted.replayed else 201, _transfer_out(act, posted.transfer))


@router.post(
    "/adjustments",
    response=responses({200: AdjustmentOut, 201: AdjustmentOut}),
    summary="Ask for an adjustment (posted at once within the threshold, else waits for a second approval)",
)
def create_adjustment(
    request: HttpRequest, payload: AdjustmentIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    person = _person(act, payload.person_id, "ledger.adjust")
    made = adjustments.adjustment_request_or_replay(
        actor=act, person=person, amount=payload.amount, reason=payload.reason, idempotency_key=key
    )
    return Status(200 if made.replayed else 201, _adjustment_out(made.adjustment))


def _adjustment(act: Actor, pk: int) -> Adjustment:
    adj = reads.adjustment_visible(act, pk)
    require(act, "ledger.adjust", adj.community)
    return adj


@router.post(
    "/adjustments/{adjustment_id}/approve",
    response=responses({200: AdjustmentOut}),
    summary="Approve and post a waiting adjustment (another staff member than the one who asked)",
)
def approve_adjustment(
    request: HttpRequest, adjustment_id: Id, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    adj = adjustments.adjustment_approve(actor=act, adjustment=_adjustment(act, adjustment_id), idempotency_key=key)
    return _adjustment_out(adj)


@router.post(
    "/adjustments/{adjustment_id}/reject",
    response=responses({200: AdjustmentOut}),
    summary="Turn a waiting adjustment down; nothing is posted",
)
def reject_adjustment(
    request: HttpRequest, adjustment_id: Id, payload: RejectIn, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    act = actor(request)
    _key(request, idempotency_key)
    adj = adjustments.adjustment_reject(actor=act, adjustment=_adjustment(act, adjustment_id), note=payload.note)
    return _adjustment_out(adj)
