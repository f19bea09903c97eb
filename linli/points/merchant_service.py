"""Caring merchants earn points through the earning rules (issue 5 item 5): staff record a shop's service (so many
hours, so many times) under a rule of the catalogue, and the shop's ledger account is credited from issuance, with
the points computed by the rule's current version exactly as a claim's are (`domain.claim_points`: full hours only).
The shop then spends them in the points market like anyone.

A "per occurrence" rule counts each time: 3 free haircuts under "haircut for an elder, 5" earn 15. The rule's daily
and monthly caps hold per merchant. Every record is idempotent (the same key and body answer with the first record;
the same key with another body is a 409) and audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Invalid
from linli.common.models import audit
from linli.ledger import selectors as ledger_selectors
from linli.ledger import services as ledger
from linli.ledger.errors import IdempotencyKeyReused
from linli.ledger.models import SystemAccount, TransferKind
from linli.org.access import Actor, require
from linli.org.models import Merchant
from linli.points import domain
from linli.points.errors import CapExceeded, NoPoints, RuleNotInForce
from linli.points.models import MerchantService, Rule, Unit

MAX_AGE_DAYS = 366
MAX_KEY = 120  # the column; room for the API's per-user prefix ("api:<user>:") before a 100-character key


@dataclass(frozen=True)
class Recorded:
    service: MerchantService
    replayed: bool


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(_("The quantity is not a number."), code="quantity_invalid", field="quantity") from None
    if not Decimal(0) < quantity <= domain.MAX_QUANTITY:
        raise Invalid(_("The quantity must be above 0 and at most 10000."), code="quantity_invalid", field="quantity")
    return quantity


def service_points(*, points: int, unit: str, quantity: Decimal) -> int:
    """Points for `quantity` hours (unit "hour": full hours only, as a claim's minutes) or times or items or kg."""
    if unit == Unit.HOUR:
        minutes = int(quantity * 60)
        return domain.claim_points(points=points, unit=unit, quantity=Decimal(1), minutes=minutes, percent=100)
    if unit == Unit.OCCURRENCE:  # each time is one occurrence of the rule
        return domain.claim_points(points=points, unit=Unit.ITEM, quantity=quantity, minutes=None, percent=100)
    return domain.claim_points(points=points, unit=unit, quantity=quantity, minutes=None, percent=100)


def _earned(merchant: Merchant, rule: Rule, first: date, last: date) -> int:
    total = MerchantService.objects.filter(
        merchant=merchant, rule=rule, occurred_on__gte=first, occurred_on__lte=last
    ).aggregate(s=Sum("points"))["s"]
    return int(total or 0)


def _check_caps(merchant: Merchant, rule: Rule, day: date, points: int, daily: int | None, monthly: int | None) -> None:
    if daily is None and monthly is None:
        return
    month_start = day.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    day_so_far = _earned(merchant, rule, day, day) if daily is not None else 0
    month_so_far = _earned(merchant, rule, month_start, month_end) if monthly is not None else 0
    which = domain.beyond_cap(
        points, daily_cap=daily, day_so_far=day_so_far, monthly_cap=monthly, month_so_far=month_so_far
    )
    if which:
        cap, so_far = (daily, day_so_far) if which == "day" else (monthly, month_so_far)
        left = domain.cap_room(cap, so_far)
        message = (
            _("Beyond the daily limit of %(cap)s points for this rule (%(left)s left that day).")
            if which == "day"
            else _("Beyond the monthly limit of %(cap)s points for this rule (%(left)s left that month).")
        )
        raise CapExceeded(message % {"cap": cap, "left": left}, details={"cap": which, "limit": cap, "left": left})


def _fingerprint(merchant: Merchant, rule: Rule, quantity: Decimal, occurred_on: date, note: str) -> str:
    body = [merchant.pk, rule.pk, str(quantity), occurred_on.isoformat(), note]
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def _replay(community_id: int, key: str, fingerprint: str) -> Recorded | None:
    found = MerchantService.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Recorded(found, True)


def merchant_service_record(
    *,
    actor: Actor,
    merchant: Merchant,
    rule: Rule,
    quantity: Any,
    occurred_on: date,
    note: str = "",
    idempotency_key: str,
) -> Recorded:
    """Record a merchant's service under `rule` and post its points to the merchant's account (staff only)."""
    require(actor, "merchant.award", merchant, hide=True)
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    if rule.community_id != merchant.community_id:
        raise Invalid(_("That rule is not in this community."), code="other_community", field="rule")
    if not merchant.is_active:
        raise Invalid(_("This merchant has left the alliance."), code="merchant_inactive", field="merchant")
    note = (note or "").strip()
    if len(note) > 300:
        raise Invalid(_("The note is too long (300 characters at most)."), code="note_too_long", field="note")
    today = timezone.localdate()
    if occurred_on > today:
        raise Invalid(_("The date of service is in the future."), code="date_future", field="occurred_on")
    if occurred_on < today - timedelta(days=MAX_AGE_DAYS):
        raise Invalid(_("The date of service is more than a year ago."), code="date_too_old", field="occurred_on")
    amount = _quantity(quantity)
    fingerprint = _fingerprint(merchant, rule, amount, occurred_on, note)
    found = _replay(merchant.community_id, key, fingerprint)
    if found is not None:
        return found
    version = rule.current
    if rule.retired or version is None or not domain.in_force(version.valid_from, version.valid_until, occurred_on):
        raise RuleNotInForce(field="rule")
    points = service_points(points=version.points, unit=version.unit, quantity=amount)
    if points <= 0:
        raise NoPoints(field="quantity")
    try:
        with transaction.atomic():
            account = ledger.account_for_merchant(merchant)
            ledger.account_lock(account)  # two records for one shop queue here, so both cannot fit under one cap
            _check_caps(merchant, rule, occurred_on, points, version.daily_cap, version.monthly_cap)
            record = MerchantService.objects.create(
                community_id=merchant.community_id,
                merchant=merchant,
                rule=rule,
                version=version,
                unit=version.unit,
                quantity=amount,
                occurred_on=occurred_on,
                points=points,
                note=note,
                actor=actor.user,
                idempotency_key=key,
                request_hash=fingerprint,
            )
            posted = ledger.transfer_post(
                debit=ledger.system_account(merchant.community_id, SystemAccount.ISSUANCE),
                credit=account,
                amount=points,
                kind=TransferKind.AWARD,
                actor=actor,
                idempotency_key=f"merchant-service-{record.pk}",
                memo=(f"{version.name} × {amount.normalize():f}")[:200],
                ref_type="merchant_service",
                ref_id=record.pk,
            )
            record.transfer_id = posted.transfer.pk
            record.save(update_fields=["transfer_id"])
            audit(
                actor=actor,
                action="points.merchant_service_record",
                obj=record,
                community_id=merchant.community_id,
                merchant=merchant.pk,
                rule=rule.code,
                points=points,
            )
    except IntegrityError:
        found = _replay(merchant.community_id, key, fingerprint)  # the same key committed by a concurrent request
        if found is not None:
            return found
        raise
    return Recorded(record, False)


# --- reads ----------------------------------------------------------------------------------------------------------
def merchant_services(actor: Actor, merchant: Merchant) -> QuerySet[MerchantService]:
    """A merchant's earnings, newest first: for the staff who record them, the auditor and the shop's own operator."""
    require(actor, "merchant_service.view", merchant, hide=True)
    return MerchantService.objects.filter(merchant=merchant).select_related("rule", "version", "actor").order_by("-id")


def merchant_balance(actor: Actor, merchant: Merchant) -> int:
    require(actor, "merchant_service.view", merchant, hide=True)
    return ledger_selectors.merchant_balance(merchant.pk)


def award_rules(merchant: Merchant) -> QuerySet[Rule]:
    """The rules a merchant's service can be recorded under: the community's, not retired, with a version."""
    return (
        Rule.objects.filter(community_id=merchant.community_id, retired=False, current__isnull=False)
        .select_related("current", "area")
        .order_by("area__position", "position", "code")
    )
