"""Caring merchants' service points over JSON (issue 5 item 5): staff record a shop's service hours or times under an
earning rule, and the points go from issuance to the shop's ledger account (linli.points.merchant_service).

POST /points/merchants/{merchant_id}/services needs an `Idempotency-Key` header (1..100 printable characters; 400
idempotency_key_required when missing), kept apart per user: 201 the first time, 200 with the same record for a retry
(nothing posted again), 409 idempotency_key_reused for the same key with another body.

Who (linli.org.access): "merchant.award" (staff, the street admin) records a shop's services; "merchant_service.view"
reads them (those staff, the auditor, and the shop's own operator). A merchant outside the caller's sight is 404; one
they may see but not award or read (another shop's operator sees its name only, a resident) is 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from linli.common.api import Id, IdempotencyKey, PageIn, actor, idempotency_key, paginate, responses
from linli.common.errors import Invalid
from linli.org import selectors as org_selectors
from linli.org.access import Actor, require
from linli.org.models import Merchant
from linli.points import merchant_service
from linli.points.models import MerchantService, Rule
from linli.points.schemas_merchants import MerchantServiceIn, MerchantServiceOut, MerchantServicesOut

router = Router(tags=["points"])

_key = idempotency_key  # the handlers' `idempotency_key` parameter (the header) shadows the name


def _merchant(act: Actor, pk: int, action: str = "merchant.award") -> Merchant:
    """A merchant the caller may see (else 404) and act on (else 403)."""
    merchant = org_selectors.get_visible(act, Merchant, pk)
    require(act, action, merchant)
    return merchant


def _service_out(s: MerchantService) -> dict[str, Any]:
    return {
        "id": s.pk,
        "community_id": s.community_id,
        "merchant_id": s.merchant_id,
        "rule_id": s.rule_id,
        "rule_code": s.rule.code,
        "rule_name": s.version.name,
        "version_id": s.version_id,
        "unit": s.unit,
        "quantity": s.quantity,
        "occurred_on": s.occurred_on,
        "points": s.points,
        "note": s.note,
        "transfer_id": s.transfer_id,
        "actor_id": s.actor_id,
        "created_at": s.created_at,
    }


@router.get(
    "/points/merchants/{merchant_id}/services",
    response=responses({200: MerchantServicesOut}),
    summary="A caring merchant's recorded services and the points each earned, newest first, with its balance",
)
def list_merchant_services(request: HttpRequest, merchant_id: Id, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    merchant = _merchant(act, merchant_id, "merchant_service.view")
    found = paginate(merchant_service.merchant_services(act, merchant), page)
    return {
        "count": found["count"],
        "balance": merchant_service.merchant_balance(act, merchant),
        "items": [_service_out(s) for s in found["items"]],
    }


@router.post(
    "/points/merchants/{merchant_id}/services",
    response=responses({200: MerchantServiceOut, 201: MerchantServiceOut}),
    summary=(
        "Record a caring merchant's service under an earning rule and post its points to the shop (201; 200 when the "
        "same request was already recorded under this Idempotency-Key). 409 cap_exceeded beyond the rule's limits"
    ),
)
def record_merchant_service(
    request: HttpRequest, merchant_id: Id, payload: MerchantServiceIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    merchant = _merchant(act, merchant_id)
    rule = Rule.objects.filter(pk=payload.rule_id).first()
    if rule is None:  # an unknown rule is bad input on that field, not a missing merchant
        raise Invalid(_("That rule is not in this community."), code="other_community", field="rule")
    done = merchant_service.merchant_service_record(
        actor=act,
        merchant=merchant,
        rule=rule,
        quantity=payload.quantity,
        occurred_on=payload.occurred_on or timezone.localdate(),
        note=payload.note,
        idempotency_key=key,
    )
    fresh = MerchantService.objects.select_related("rule", "version").get(pk=done.service.pk)
    return Status(200 if done.replayed else 201, _service_out(fresh))
