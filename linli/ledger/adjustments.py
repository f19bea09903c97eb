"""Manual adjustments of a person's points, and the community's ledger policy.

An adjustment corrects a person's balance by hand: it always carries a reason, nobody adjusts their own account,
and one of more than the community's threshold (LedgerPolicy.adjustment_approval_threshold, either sign) waits for
a *different* staff member to approve it. Posting moves points between the person and the community's issuance
account (positive: issuance → person; negative: person → issuance) as a transfer of kind "adjustment" that points
back at the adjustment (ref_type "adjustment") and carries the reason as its memo.

Idempotency: a request's key is unique per community among adjustments; a retry with the same key and the same
content returns the first adjustment, the same key with different content is a 409. An adjustment posts at most
once: its status moves from pending by one conditional UPDATE. An approval retried with the same key returns the
posted adjustment; a rejection retried by the same person with the same note returns the rejected one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.common.errors import Conflict, Forbidden, Invalid
from linli.ledger import domain, services
from linli.ledger.errors import IdempotencyKeyReused, InvalidAmount
from linli.ledger.models import (
    Adjustment,
    AdjustmentStatus,
    LedgerPolicy,
    SystemAccount,
    Transfer,
    TransferKind,
)
from linli.org.access import Actor, actor_for, require
from linli.org.models import Community, Person

MAX_REASON = 200
MAX_THRESHOLD = services.MAX_AMOUNT
MAX_EXPIRY_YEARS = 50


class AdjustmentDecided(Conflict):
    code = "adjustment_decided"
    default_message = gettext_lazy("This adjustment has already been approved or rejected.")


def _as_actor(actor: Actor | Any) -> Actor:
    """Services take the request's Actor; a plain User (commands, demo data) is turned into one."""
    return actor if isinstance(actor, Actor) else actor_for(actor)


def _user_id(actor: Actor) -> int | None:
    return getattr(actor.user, "pk", None)


# --- the policy -----------------------------------------------------------------------------------------------------


def policy_for(community: Community | int) -> LedgerPolicy:
    """The community's policy; the defaults (unsaved) when it has none."""
    community_id = community if isinstance(community, int) else community.pk
    found = LedgerPolicy.objects.filter(community_id=community_id).first()
    return found if found is not None else LedgerPolicy(community_id=community_id)


@transaction.atomic
def policy_update(
    *,
    actor: Actor | Any,
    community: Community,
    adjustment_approval_threshold: int,
    expiry_enabled: bool,
    expiry_years: int,
) -> LedgerPolicy:
    act = _as_actor(actor)
    require(act, "ledger.adjust", community)
    if not isinstance(adjustment_approval_threshold, int) or not 0 <= adjustment_approval_threshold <= MAX_THRESHOLD:
        raise Invalid(
            _("The approval threshold must be a whole number of points from 0 to %(max)s.") % {"max": MAX_THRESHOLD},
            code="threshold_invalid",
            field="adjustment_approval_threshold",
        )
    if not isinstance(expiry_years, int) or not 1 <= expiry_years <= MAX_EXPIRY_YEARS:
        raise Invalid(
            _("Points stay valid for 1 to %(max)s years.") % {"max": MAX_EXPIRY_YEARS},
            code="expiry_years_invalid",
            field="expiry_years",
        )
    policy, _created = LedgerPolicy.objects.update_or_create(
        community=community,
        defaults={
            "adjustment_approval_threshold": adjustment_approval_threshold,
            "expiry_enabled": bool(expiry_enabled),
            "expiry_years": expiry_years,
        },
    )
    return policy


# --- adjustments ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requested:
    adjustment: Adjustment
    replayed: bool  # True when an earlier identical request had already created it


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > services.MAX_KEY:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    return key


def _clean_amount(amount: Any) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0 or abs(amount) > services.MAX_AMOUNT:
        raise InvalidAmount(
            _("An adjustment is a whole number of points, not zero: positive adds points, negative takes them away."),
            field="amount",
        )
    return amount


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Please give the reason for this adjustment."), code="reason_required", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_("The reason is too long (200 characters at most)."), code="reason_too_long", field="reason")
    return reason


def _refuse_own_account(act: Actor, person: Person) -> None:
    if person.user_id is not None and person.user_id == _user_id(act):
        raise Forbidden(_("Nobody adjusts their own points."), code="self_adjustment")


def _post(adjustment: Adjustment, user: Any, transfer_key: str) -> Transfer:
    issuance = services.system_account(adjustment.community_id, SystemAccount.ISSUANCE)
    account = adjustment.account
    debit, credit = (issuance, account) if adjustment.amount > 0 else (account, issuance)
    posted = services.transfer_post(
        debit=debit,
        credit=credit,
        amount=abs(adjustment.amount),
        kind=TransferKind.ADJUSTMENT,
        actor=user,
        idempotency_key=transfer_key,
        memo=adjustment.reason,
        ref_type="adjustment",
        ref_id=adjustment.pk,
    )
    return posted.transfer


def _same_request(existing: Adjustment, account_id: int, amount: int, reason: str) -> Requested:
    if existing.account_id != account_id or existing.amount != amount or existing.reason != reason:
        raise IdempotencyKeyReused()
    return Requested(existing, True)


@transaction.atomic
def adjustment_request_or_replay(
    *, actor: Actor | Any, person: Person, amount: int, reason: str, idempotency_key: str
) -> Requested:
    """`adjustment_request`, also telling whether this was a retry of an earlier identical request."""
    act = _as_actor(actor)
    require(act, "ledger.adjust", person)
    key = _clean_key(idempotency_key)
    amount = _clean_amount(amount)
    reason = _clean_reason(reason)
    _refuse_own_account(act, person)
    account = services.account_for_person(person)
    existing = Adjustment.objects.filter(community_id=person.community_id, idempotency_key=key).first()
    if existing is not None:
        return _same_request(existing, account.pk, amount, reason)
    try:
        with transaction.atomic():
            adjustment = Adjustment.objects.create(
                community_id=person.community_id,
                account=account,
                amount=amount,
                reason=reason,
                requested_by=act.user,
                idempotency_key=key,
            )
    except IntegrityError:  # the same request, sent twice at once: the other one won
        existing = Adjustment.objects.get(community_id=person.community_id, idempotency_key=key)
        return _same_request(existing, account.pk, amount, reason)
    threshold = policy_for(person.community_id).adjustment_approval_threshold
    if not domain.needs_second_approval(amount, threshold):
        transfer = _post(adjustment, act.user, f"adjustment:{adjustment.pk}")
        Adjustment.objects.filter(pk=adjustment.pk).update(
            status=AdjustmentStatus.POSTED, decided_by=act.user, decided_at=timezone.now(), transfer=transfer
        )
        adjustment.refresh_from_db()
    return Requested(adjustment, False)


def adjustment_request(
    *, actor: Actor | Any, person: Person, amount: int, reason: str, idempotency_key: str
) -> Adjustment:
    """Correct a person's points by `amount` (either sign) for `reason`. Posts at once when |amount| is within the
    community's threshold; otherwise the adjustment waits (PENDING) for another staff member's approval."""
    return adjustment_request_or_replay(
        actor=actor, person=person, amount=amount, reason=reason, idempotency_key=idempotency_key
    ).adjustment


def _approval_key(adjustment: Adjustment, idempotency_key: str) -> str:
    suffix = hashlib.sha256(idempotency_key.encode()).hexdigest()[:16] if idempotency_key else "approved"
    return f"adjustment:{adjustment.pk}:{suffix}"


def _locked(adjustment: Adjustment) -> Adjustment:
    return (
        Adjustment.objects.select_for_update(of=("self",))
        .select_related("account__person", "transfer")
        .get(pk=adjustment.pk)
    )


def _decide_checks(act: Actor, adjustment: Adjustment) -> Person:
    person = adjustment.account.person
    if person is None:  # adjustments are made on people's accounts only
        raise Invalid(_("Only a person's points can be adjusted."), code="adjustment_account")
    require(act, "ledger.adjust", person)
    return person


@transaction.atomic
def adjustment_approve(*, actor: Actor | Any, adjustment: Adjustment, idempotency_key: str = "") -> Adjustment:
    """A second staff member in scope, never the requester, posts a pending adjustment. Approving twice is a 409;
    the same approval retried with its idempotency key returns the posted adjustment."""
    act = _as_actor(actor)
    adj = _locked(adjustment)
    person = _decide_checks(act, adj)
    transfer_key = _approval_key(adj, idempotency_key.strip())
    if adj.status != AdjustmentStatus.PENDING:
        replay = idempotency_key and adj.transfer is not None and adj.transfer.idempotency_key == transfer_key
        if replay:
            return adj
        raise AdjustmentDecided()
    if adj.requested_by_id == _user_id(act):
        raise Forbidden(
            _("You asked for this adjustment, so another staff member must approve it."), code="self_approval"
        )
    _refuse_own_account(act, person)
    now = timezone.now()
    claimed = Adjustment.objects.filter(pk=adj.pk, status=AdjustmentStatus.PENDING).update(
        status=AdjustmentStatus.POSTED, decided_by=act.user, decided_at=now
    )
    if not claimed:
        raise AdjustmentDecided()
    transfer = _post(adj, act.user, transfer_key)
    Adjustment.objects.filter(pk=adj.pk).update(transfer=transfer)
    adj.refresh_from_db()
    return adj


@transaction.atomic
def adjustment_reject(*, actor: Actor | Any, adjustment: Adjustment, note: str = "") -> Adjustment:
    """Turn a pending adjustment down (the requester may withdraw their own). Nothing is posted."""
    act = _as_actor(actor)
    adj = _locked(adjustment)
    _decide_checks(act, adj)
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise Invalid(_("The note is too long (200 characters at most)."), code="note_too_long", field="note")
    if adj.status != AdjustmentStatus.PENDING:
        if adj.status == AdjustmentStatus.REJECTED and adj.decided_by_id == _user_id(act) and adj.decision_note == note:
            return adj  # the same rejection, retried
        raise AdjustmentDecided()
    Adjustment.objects.filter(pk=adj.pk, status=AdjustmentStatus.PENDING).update(
        status=AdjustmentStatus.REJECTED, decided_by=act.user, decided_at=timezone.now(), decision_note=note
    )
    adj.refresh_from_db()
    return adj
