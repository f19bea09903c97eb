"""Donations, donated items waiting for the market shelf, volunteer records and certificates over JSON.

Registering a donation and issuing a certificate need an `Idempotency-Key` header (1..100 printable characters): the
same key again returns the first one with 200 instead of 201 and creates nothing; the same key for another donor,
person or period is 409 idempotency_key_reused. Keys are kept apart per user.

Who (linli.org.access): "donation.view" reads donations (staff, the auditor), "donation.manage" registers, assesses
and declines them (staff; never the donor themself: 403 own_donation). "certificate.view" reads certificates and
volunteer records (staff, the auditor, the person themself), "certificate.issue" issues and revokes (staff; never for
oneself: 403 own_certificate). Objects outside the caller's scope are 404. The public confirmation stays a page
(`public_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from linli.common.api import Id, IdempotencyKey, actor, idempotency_key, responses
from linli.common.errors import Invalid, NotFound
from linli.org import selectors as org_selectors
from linli.org.access import Actor, can, require
from linli.org.domain import mask_name
from linli.org.models import Community, Person
from linli.points import certificates, donations
from linli.points.donations import Assessment, ItemInput
from linli.points.models import Certificate, DonatedItem, Donation
from linli.points.schemas_records import (
    AssessIn,
    CertificateFilterIn,
    CertificateIn,
    CertificateOut,
    CertificatesOut,
    DeclineIn,
    DonationFilterIn,
    DonationIn,
    DonationOut,
    DonationsOut,
    ItemsOut,
    QueueFilterIn,
    RecordFilterIn,
    RecordOut,
    RevokeIn,
)

router = Router(tags=["points"])


_key = idempotency_key


def _namer(act: Actor, community_id: int) -> Callable[[str], str]:
    """Full names for staff; masked for readers who may not see personal data (the auditor)."""
    community = Community.objects.get(pk=community_id)
    return (lambda name: name) if can(act, "person.view_private", community) else mask_name


def _item_out(i: DonatedItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "donation_id": i.donation_id,
        "description": i.description,
        "category": i.category,
        "quantity": i.quantity,
        "condition": i.condition,
        "points": i.points,
        "price": i.price,
        "status": i.status,
        "market_ref": i.market_ref,
    }


def _donation_out(d: Donation, name: Callable[[str], str]) -> dict[str, Any]:
    return {
        "id": d.pk,
        "community_id": d.community_id,
        "donor_id": d.donor_id,
        "donor_name": name(d.donor.name),
        "received_on": d.received_on,
        "received_by_id": d.received_by_id,
        "status": d.status,
        "points": d.points,
        "assessed_by_id": d.assessed_by_id,
        "assessed_at": d.assessed_at,
        "transfer_id": d.transfer_id,
        "note": d.note,
        "reason": d.reason,
        "items": [_item_out(i) for i in d.items.order_by("id")],
    }


def _one(request: HttpRequest, d: Donation) -> dict[str, Any]:
    fresh = Donation.objects.select_related("donor").get(pk=d.pk)
    return _donation_out(fresh, _namer(actor(request), fresh.community_id))


# --- donations ------------------------------------------------------------------------------------------------------
@router.get("/donations", response=responses({200: DonationsOut}), summary="Donations of a community, newest first")
def list_donations(request: HttpRequest, filters: Query[DonationFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    qs = donations.donations(act, community, status=filters.status)
    count = qs.count()
    rows = list(qs.prefetch_related("items")[filters.offset : filters.offset + filters.limit])
    name = _namer(act, community.pk)
    return {"count": count, "items": [_donation_out(d, name) for d in rows]}


@router.post(
    "/donations",
    response=responses({200: DonationOut, 201: DonationOut}),
    summary="Register a donation and its items (201; 200 when the same request was already registered)",
)
def register_donation(request: HttpRequest, payload: DonationIn, idempotency_key: IdempotencyKey = None) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    donor = org_selectors.get_visible(act, Person, payload.donor_id)
    done = donations.donation_register(
        actor=act,
        donor=donor,
        items=[ItemInput(i.description, i.category, i.quantity, i.condition) for i in payload.items],
        received_on=payload.received_on,
        note=payload.note,
        idempotency_key=key,
    )
    return Status(200 if done.replayed else 201, _one(request, done.donation))


@router.get("/donations/{donation_id}", response=responses({200: DonationOut}), summary="One donation")
def get_donation(request: HttpRequest, donation_id: Id) -> dict[str, Any]:
    return _one(request, donations.donation_get(actor(request), donation_id))


@router.post(
    "/donations/{donation_id}/assess",
    response=responses({200: DonationOut}),
    summary="Assess every item (points per piece and shelf price, or not usable); the total is posted once",
)
def assess_donation(request: HttpRequest, donation_id: Id, payload: AssessIn) -> dict[str, Any]:
    act = actor(request)
    donation = donations.donation_get(act, donation_id)
    done = donations.donation_assess(
        actor=act,
        donation=donation,
        assessments=[Assessment(a.item_id, a.usable, a.points, a.price) for a in payload.items],
    )
    return _one(request, done)


@router.post(
    "/donations/{donation_id}/decline",
    response=responses({200: DonationOut}),
    summary="Decline a donation with a reason; no points",
)
def decline_donation(request: HttpRequest, donation_id: Id, payload: DeclineIn) -> dict[str, Any]:
    act = actor(request)
    done = donations.donation_decline(
        actor=act, donation=donations.donation_get(act, donation_id), reason=payload.reason
    )
    return _one(request, done)


@router.get(
    "/donated-items",
    response=responses({200: ItemsOut}),
    summary="Assessed items waiting to go on the market shelf (queued), oldest first",
)
def donated_item_queue(request: HttpRequest, filters: Query[QueueFilterIn]) -> dict[str, Any]:
    act = actor(request)
    community = org_selectors.get_visible(act, Community, filters.community)
    qs = donations.item_queue(act, community)
    count = qs.count()
    return {"count": count, "items": [_item_out(i) for i in qs[filters.offset : filters.offset + filters.limit]]}


# --- volunteer records and certificates -----------------------------------------------------------------------------
def _certificate_out(request: HttpRequest, c: Certificate, name: Callable[[str], str]) -> dict[str, Any]:
    return {
        "id": c.pk,
        "community_id": c.community_id,
        "person_id": c.person_id,
        "person_name": c.person_name if actor(request).person_id == c.person_id else name(c.person_name),
        "number": c.number,
        "period_from": c.period_from,
        "period_to": c.period_to,
        "minutes": c.minutes,
        "hours": certificates.format_hours(c.minutes),
        "services": c.services,
        "issuer_name": c.issuer_name,
        "issued_by_id": c.issued_by_id,
        "issued_at": c.issued_at,
        "revoked_at": c.revoked_at,
        "revoked_reason": c.revoked_reason,
        "public_url": request.build_absolute_uri(certificates.public_path(c)),
    }


@router.get(
    "/people/{person_id}/volunteer-record",
    response=responses({200: RecordOut}),
    summary="A person's volunteer service: approved service with its hours, place and organiser",
)
def volunteer_record(request: HttpRequest, person_id: Id, period: Query[RecordFilterIn]) -> dict[str, Any]:
    act = actor(request)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    record = certificates.service_record(act, person, since=period.since, until=period.until)
    name = person.name if act.person_id == person.pk else _namer(act, person.community_id)(person.name)
    return {
        "person_id": person.pk,
        "name": name,
        "minutes": record.minutes,
        "hours": record.hours,
        "since": record.since,
        "until": record.until,
        "entries": [e.__dict__ for e in record.entries],
    }


@router.get(
    "/certificates",
    response=responses({200: CertificatesOut}),
    summary="Certificates of a community (?community=, staff and auditor) or of a person (?person=)",
)
def list_certificates(request: HttpRequest, filters: Query[CertificateFilterIn]) -> dict[str, Any]:
    act = actor(request)
    if filters.person:
        person = Person.objects.filter(pk=filters.person).first()
        if person is None:
            raise NotFound()
        qs = certificates.certificates_of(act, person)
        community_id = person.community_id
    elif filters.community:
        community = org_selectors.get_visible(act, Community, filters.community)
        qs = certificates.certificates(act, community)
        community_id = community.pk
    else:
        raise Invalid(_("Say which community or person."), code="filter_required", field="community")
    count = qs.count()
    name = _namer(act, community_id)
    rows = qs[filters.offset : filters.offset + filters.limit]
    return {"count": count, "items": [_certificate_out(request, c, name) for c in rows]}


@router.post(
    "/certificates",
    response=responses({200: CertificateOut, 201: CertificateOut}),
    summary="Issue a certificate for a person's approved hours in a period (201; 200 when already issued)",
)
def issue_certificate(
    request: HttpRequest, payload: CertificateIn, idempotency_key: IdempotencyKey = None
) -> Status[Any]:
    act = actor(request)
    key = _key(request, idempotency_key)
    person = org_selectors.get_visible(act, Person, payload.person_id)
    done = certificates.certificate_issue(
        actor=act,
        person=person,
        period_from=payload.period_from,
        period_to=payload.period_to,
        idempotency_key=key,
    )
    cert = done.certificate
    return Status(200 if done.replayed else 201, _certificate_out(request, cert, _namer(act, cert.community_id)))


@router.get("/certificates/{certificate_id}", response=responses({200: CertificateOut}), summary="One certificate")
def get_certificate(request: HttpRequest, certificate_id: Id) -> dict[str, Any]:
    act = actor(request)
    cert = certificates.certificate_get(act, certificate_id)
    return _certificate_out(request, cert, _namer(act, cert.community_id))


@router.post(
    "/certificates/{certificate_id}/revoke",
    response=responses({200: CertificateOut}),
    summary="Revoke a certificate with a reason; its public page then says so",
)
def revoke_certificate(request: HttpRequest, certificate_id: Id, payload: RevokeIn) -> dict[str, Any]:
    act = actor(request)
    cert = certificates.certificate_get(act, certificate_id)
    require(act, "certificate.issue", cert.person)
    done = certificates.certificate_revoke(actor=act, certificate=cert, reason=payload.reason)
    return _certificate_out(request, done, _namer(act, done.community_id))


@router.get(
    "/certificates/{certificate_id}/pdf",
    response=responses({200: None}),
    summary="The printable certificate (application/pdf, A4)",
    openapi_extra={"responses": {"200": {"description": "PDF", "content": {"application/pdf": {}}}}},
)
def certificate_pdf(request: HttpRequest, certificate_id: Id) -> HttpResponse:
    cert = certificates.certificate_get(actor(request), certificate_id)
    body = certificates.render_pdf(cert, public_url=request.build_absolute_uri(certificates.public_path(cert)))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
