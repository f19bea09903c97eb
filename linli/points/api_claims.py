"""Claims over JSON: list and read them, submit or record one (with an optional evidence photo), verify, approve,
reject, resubmit, withdraw, and verify or approve many at once.

Creating a claim needs an `Idempotency-Key` header (1..100 printable characters): the same key again returns the first
claim with 200 instead of 201 and creates nothing; the same key for another person, rule or day is 409
idempotency_key_reused. Keys are kept apart per user. The body of POST /claims and POST /claims/{id}/resubmit is JSON,
or multipart/form-data with the same fields plus a `photo` file (a JPEG or PNG picture; re-encoded, EXIF dropped).

Who (linli.org.access): "claim.view" reads (staff, grid workers and stewards for their people, the auditor, the
resident themself); "claim.submit" is one's own check-in; "claim.record" records for someone in scope;
"claim.verify" and "claim.approve" are the two checks. People and claims outside the caller's scope are 404.
Bulk actions take up to 200 ids: an id the caller cannot see refuses the whole request (404, `details.claim_ids`);
a claim that cannot be decided (a cap, decided meanwhile) is listed in `failed` with its code, the others go through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

import pydantic
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import ValidationError

from linli.common.api import Id, IdempotencyKey, PageIn, actor, idempotency_key, paginate, responses
from linli.common.errors import Forbidden, Invalid, NotFound
from linli.org import selectors as org_selectors
from linli.org.access import PERMISSIONS, Actor, can, require, require_any
from linli.org.domain import mask_name
from linli.org.models import Community, Person
from linli.points import selectors, services
from linli.points.models import Claim, Photo
from linli.points.schemas_claims import (
    BulkIn,
    BulkOut,
    BulkRejectIn,
    ClaimContentIn,
    ClaimDetailOut,
    ClaimFilterIn,
    ClaimIn,
    ClaimsOut,
    RejectIn,
)
from linli.points.services import ClaimInput

router = Router(tags=["points"])

S = TypeVar("S", bound=pydantic.BaseModel)


# --- input ----------------------------------------------------------------------------------------------------------


_key = idempotency_key


def _body(request: HttpRequest, schema: type[S]) -> tuple[S, UploadedFile | None]:
    """A JSON body, or a multipart form with the same fields and an optional `photo` file."""
    photo: UploadedFile | None = None
    if (request.content_type or "").startswith("multipart/form-data"):
        data: Any = {k: v for k, v in request.POST.items() if v != ""}  # an empty form field means "left out"
        photo = request.FILES.get("photo")
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise Invalid(_("The request body is not valid JSON."), code="invalid_json") from None
        if not isinstance(data, dict):
            raise Invalid(_("The request body must be a JSON object."), code="invalid_input")
    try:
        return schema.model_validate(data), photo
    except pydantic.ValidationError as exc:
        raise ValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None


def _content(data: ClaimContentIn) -> ClaimInput:
    return ClaimInput(
        occurred_on=data.occurred_on or timezone.localdate(),
        quantity=data.quantity if data.quantity is not None else Decimal(1),
        minutes=data.minutes,
        difficulty=data.difficulty,
        note=data.note,
    )


def _request_body(schema: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The spec of a body that is JSON or multipart with a photo (ninja describes only one kind by itself)."""
    json_schema = schema.model_json_schema()
    form_schema = {
        **json_schema,
        "properties": {
            **json_schema.get("properties", {}),
            "photo": {"type": "string", "format": "binary", "description": "evidence photo (JPEG or PNG)"},
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": json_schema}, "multipart/form-data": {"schema": form_schema}},
        }
    }


# --- output ---------------------------------------------------------------------------------------------------------


class _Names:
    """People's names as the caller may read them: in full with "person.view_private", masked otherwise."""

    def __init__(self, act: Actor) -> None:
        self.act = act
        self.reveal: dict[int, bool] = {}

    def __call__(self, person: Person) -> str:
        if person.pk not in self.reveal:
            self.reveal[person.pk] = can(self.act, "person.view_private", person)
        return person.name if self.reveal[person.pk] else mask_name(person.name)


def _out(claim: Claim, names: _Names) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "community_id": claim.community_id,
        "person_id": claim.person_id,
        "person_name": names(claim.person),
        "rule_id": claim.rule_id,
        "rule_version_id": claim.rule_version_id,
        "rule_name": claim.rule_version.name,
        "area_name": claim.rule.area.name,
        "unit": claim.rule_version.unit,
        "source": claim.source,
        "occurred_on": claim.occurred_on,
        "minutes": claim.minutes,
        "quantity": claim.quantity,
        "difficulty": claim.difficulty,
        "points": claim.points,
        "note": claim.note,
        "status": claim.status,
        "status_label": str(claim.get_status_display()),
        "reason": claim.reason,
        "recorded_by_id": claim.recorded_by_id,
        "verified_by_id": claim.verified_by_id,
        "verified_at": claim.verified_at,
        "decided_by_id": claim.decided_by_id,
        "decided_at": claim.decided_at,
        "transfer_id": claim.transfer_id,
        "duplicate_of_id": claim.duplicate_of_id,
        "photo_reused": claim.photo_reused,
        "photo_url": f"/api/v1/claims/{claim.pk}/photo" if claim.photo_id else None,
        "activity_id": claim.activity_id,
        "ref_type": claim.ref_type,
        "ref_id": claim.ref_id,
        "created_at": claim.created_at,
    }


def _detail(act: Actor, claim: Claim) -> dict[str, Any]:
    """A claim re-read with its relations and history (services return the row they changed)."""
    fresh = selectors.claim_get(act, claim.pk)
    events = [
        {
            "action": e.action,
            "at": e.at,
            "actor_id": e.actor_id,
            "actor_name": e.actor.name if e.actor else "",
            "note": e.note,
        }
        for e in fresh.events.select_related("actor")
    ]
    return {**_out(fresh, _Names(act)), "events": events}


def _many(act: Actor, claims: Sequence[Claim]) -> list[dict[str, Any]]:
    names = _Names(act)
    # the services hand back the rows they locked; read them again with what the output needs, in one query
    related = Claim.objects.select_related("person", "rule_version", "rule__area")
    fresh = related.in_bulk([c.pk for c in claims]) if claims else {}
    return [_out(fresh.get(c.pk, c), names) for c in claims]


# --- who -------------------------------------------------------------------------------------------------------------


def _require_worker(act: Actor, action: str) -> None:
    """Queues and bulk checks are for working roles; a resident's rights over their own claims do not count."""
    require_any(act, action)
    allowed = PERMISSIONS.get(action, frozenset())
    if not any(g.role in allowed for g in act.grants):
        raise Forbidden()


def _claims(act: Actor, ids: list[int]) -> list[Claim]:
    """The claims of a bulk request, in the order asked; all must be visible to the caller."""
    found: list[Claim] = []
    missing: list[int] = []
    for pk in dict.fromkeys(ids):
        try:
            found.append(selectors.claim_get(act, pk))
        except NotFound:
            missing.append(pk)
    if missing:
        raise NotFound(details={"claim_ids": missing})
    return found


def _bulk(act: Actor, result: services.BulkResult) -> dict[str, Any]:
    return {
        "done": _many(act, result.done),
        "failed": [{"claim_id": pk, "code": e.code, "message": str(e.message)} for pk, e in result.failed],
    }


# --- reading --------------------------------------------------------------------------------------------------------


@router.get(
    "/claims",
    response=responses({200: ClaimsOut}),
    summary="Claims of a community the caller may read, newest first (or a queue: ?queue=verify|approve)",
)
def list_claims(request: HttpRequest, filters: Query[ClaimFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    require_any(act, "claim.view")
    f = selectors.ClaimFilter(
        status=filters.status or "",
        area=filters.area,
        rule=filters.rule,
        grid=filters.grid,
        source=filters.source or "",
        since=filters.since,
        until=filters.until,
        flagged=filters.flagged,
        q=filters.q.strip(),
    )
    if filters.queue == "verify":
        _require_worker(act, "claim.verify")
        qs = selectors.verify_queue(act, community, f)
    elif filters.queue == "approve":
        require(act, "claim.approve", community)
        qs = selectors.approve_queue(act, community, f)
    else:
        qs = selectors.claims(act, community, f)
    if filters.person:
        qs = qs.filter(person_id=filters.person)
    page = paginate(qs, filters)
    names = _Names(act)
    return {"count": page["count"], "items": [_out(c, names) for c in page["items"]]}


# many at once: declared before /claims/{claim_id}, whose pattern would otherwise take "bulk-…" as an id
@router.post("/claims/bulk-verify", response=responses({200: BulkOut}), summary="Verify many claims")
def bulk_verify(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    act = actor(request)
    _require_worker(act, "claim.verify")
    return _bulk(act, services.claims_verify(actor=act, claims=_claims(act, payload.claim_ids)))


@router.post("/claims/bulk-approve", response=responses({200: BulkOut}), summary="Approve and post many claims")
def bulk_approve(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    act = actor(request)
    require_any(act, "claim.approve")
    return _bulk(act, services.claims_approve(actor=act, claims=_claims(act, payload.claim_ids)))


@router.post("/claims/bulk-reject", response=responses({200: BulkOut}), summary="Turn many claims down with one reason")
def bulk_reject(request: HttpRequest, payload: BulkRejectIn) -> dict[str, Any]:
    act = actor(request)
    _require_worker(act, "claim.verify")  # checkers reject before verification, staff after it
    claims = _claims(act, payload.claim_ids)
    return _bulk(act, services.claims_reject(actor=act, claims=claims, reason=payload.reason))


@router.get("/claims/{claim_id}", response=responses({200: ClaimDetailOut}), summary="One claim with its history")
def get_claim(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _detail(act, selectors.claim_get(act, claim_id))


@router.get(
    "/claims/{claim_id}/photo",
    response=responses({200: None}),
    summary="The claim's evidence photo (JPEG)",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the photo",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_claim_photo(request: HttpRequest, claim_id: Id) -> HttpResponse:
    act = actor(request)
    claim = selectors.claim_get(act, claim_id)
    photo = Photo.objects.filter(pk=claim.photo_id).only("data", "content_type").first() if claim.photo_id else None
    if photo is None:
        raise NotFound(_("This claim has no photo."), code="no_photo")
    response = HttpResponse(bytes(photo.data), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@router.get(
    "/people/{person_id}/claims",
    response=responses({200: ClaimsOut}),
    summary="A person's claims, newest first",
)
def person_claims(request: HttpRequest, person_id: Id, page: Query[PageIn]) -> dict[str, Any]:
    act = actor(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    found = paginate(selectors.claims_of(act, person), page)
    names = _Names(act)
    return {"count": found["count"], "items": [_out(c, names) for c in found["items"]]}


# --- making a claim -------------------------------------------------------------------------------------------------


@router.post(
    "/claims",
    response=responses({200: ClaimDetailOut, 201: ClaimDetailOut}),
    summary="Check in (own claim) or record a claim for someone (201; 200 when the same request was already made)",
    openapi_extra=_request_body(ClaimIn),
)
def create_claim(request: HttpRequest, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    data, photo = _body(request, ClaimIn)
    if data.person_id is not None:
        person = org_selectors.get_visible(act, Person, data.person_id)
    elif act.person_id is not None:
        person = Person.objects.get(pk=act.person_id)
    else:
        raise Invalid(_("Say whom the claim is for (person_id)."), code="person_required", field="person_id")
    rule = selectors.rule_for(person.community, data.rule_id)
    made = services.claim_submit(
        actor=act, person=person, rule=rule, data=_content(data), idempotency_key=key, photo=photo
    )
    return Status(200 if made.replayed else 201, _detail(act, made.claim))


@router.post(
    "/claims/{claim_id}/resubmit",
    response=responses({200: ClaimDetailOut}),
    summary="Correct a rejected claim and send it again (the resident or whoever recorded it)",
    openapi_extra=_request_body(ClaimContentIn),
)
def resubmit_claim(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    act = actor(request)
    claim = selectors.claim_get(act, claim_id)
    data, photo = _body(request, ClaimContentIn)
    return _detail(act, services.claim_resubmit(actor=act, claim=claim, data=_content(data), photo=photo))


@router.post(
    "/claims/{claim_id}/withdraw",
    response=responses({200: ClaimDetailOut}),
    summary="Withdraw an open claim (the resident or whoever recorded it)",
)
def withdraw_claim(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _detail(act, services.claim_withdraw(actor=act, claim=selectors.claim_get(act, claim_id)))


# --- checking -------------------------------------------------------------------------------------------------------


@router.post(
    "/claims/{claim_id}/verify",
    response=responses({200: ClaimDetailOut}),
    summary="Verify a claim (steward, grid worker or staff in scope; never one's own)",
)
def verify_claim(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _detail(act, services.claim_verify(actor=act, claim=selectors.claim_get(act, claim_id)))


@router.post(
    "/claims/{claim_id}/approve",
    response=responses({200: ClaimDetailOut}),
    summary="Approve a claim and post its points to the passbook once (community staff; not its verifier)",
)
def approve_claim(request: HttpRequest, claim_id: Id) -> dict[str, Any]:
    act = actor(request)
    return _detail(act, services.claim_approve(actor=act, claim=selectors.claim_get(act, claim_id)))


@router.post(
    "/claims/{claim_id}/reject",
    response=responses({200: ClaimDetailOut}),
    summary="Turn a claim down with a reason the resident reads",
)
def reject_claim(request: HttpRequest, claim_id: Id, payload: RejectIn) -> dict[str, Any]:
    act = actor(request)
    claim = services.claim_reject(actor=act, claim=selectors.claim_get(act, claim_id), reason=payload.reason)
    return _detail(act, claim)
