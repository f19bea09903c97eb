"""Volunteer service records and certificates (志愿服务记录与证明), after 《志愿服务记录与证明出具办法（试行）》
(民政部令第67号).

The record: what the Measures ask a volunteer's record to hold — the volunteer's name, the service content, hours,
time, place and organiser — read from the person's *approved* claims that carry service minutes (hour-based rules
and activity attendance). Claims without minutes (a mediation counted per occurrence, kilograms of recycling) earn
points but are not service hours, so they are not in the record.

The certificate: staff ("certificate.issue") certify a person's hours for a period. The row freezes what was
certified — minutes, a summary of the services, the name, the issuing committee's name, address and phone — so a
later claim, rename or move never changes an issued certificate. Its number is "<COMMUNITY CODE>-<year>-<00001>",
counted per community and year without gaps under a row lock; its random `code` makes the public confirmation link
(no login), which shows only the number, masked name, hours, period, issuer and date, and whether it was revoked.
Nobody certifies their own hours.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import segno
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from linli.common.errors import Conflict, Forbidden, Invalid, NotFound
from linli.common.models import audit
from linli.common.sequences import next_number
from linli.ledger.errors import IdempotencyKeyReused
from linli.ledger.pdf import FONT
from linli.org.access import Actor, require
from linli.org.domain import mask_name, mask_phone
from linli.org.models import Community, Person
from linli.points.models import Certificate, CertificateCounter, Claim

MAX_YEARS = 10  # a certificate covers at most ten years of service
EARLIEST = date(2000, 1, 1)


# --- refusals -------------------------------------------------------------------------------------------------------
class OwnCertificate(Forbidden):
    code = "own_certificate"
    default_message = gettext_lazy("Nobody certifies their own volunteer hours: another staff member must.")


class NoService(Invalid):
    code = "no_service"
    default_message = gettext_lazy("No approved volunteer hours in this period: there is nothing to certify.")


class AlreadyRevoked(Conflict):
    code = "certificate_revoked"
    default_message = gettext_lazy("This certificate has already been revoked.")


# --- pure helpers ---------------------------------------------------------------------------------------------------
def format_hours(minutes: int) -> str:
    """Hours with at most one decimal, rounded down (never certify more than was served): 90 -> "1.5", 120 -> "2"."""
    tenths = minutes * 10 // 60
    whole, rest = divmod(tenths, 10)
    return f"{whole}.{rest}" if rest else str(whole)


def certificate_number(code: str, year: int, seq: int) -> str:
    return f"{code.upper()}-{year}-{seq:05d}"


@dataclass(frozen=True)
class ServiceEntry:
    claim_id: int
    occurred_on: date
    content: str
    minutes: int
    place: str
    organiser: str

    @property
    def hours(self) -> str:
        return format_hours(self.minutes)


def summarise(entries: Iterable[ServiceEntry]) -> list[dict[str, Any]]:
    """[{"name", "count", "minutes"}] per kind of service, most hours first: what a certificate states."""
    totals: dict[str, list[int]] = {}
    for e in entries:
        count_minutes = totals.setdefault(e.content, [0, 0])
        count_minutes[0] += 1
        count_minutes[1] += e.minutes
    rows = [{"name": name, "count": c, "minutes": m} for name, (c, m) in totals.items()]
    return sorted(rows, key=lambda r: (-r["minutes"], r["name"]))


def check_period(period_from: date, period_to: date, today: date) -> None:
    if period_from > period_to:
        raise Invalid(_("The period ends before it starts."), code="period_invalid", field="period_to")
    if period_to > today:
        raise Invalid(_("The period cannot end in the future."), code="period_invalid", field="period_to")
    if period_from < EARLIEST or (period_to - period_from).days > MAX_YEARS * 366:
        raise Invalid(_("A certificate covers at most ten years."), code="period_invalid", field="period_from")


# --- the record -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceRecord:
    person: Person
    entries: list[ServiceEntry]
    since: date | None
    until: date | None

    @property
    def minutes(self) -> int:
        return sum(e.minutes for e in self.entries)

    @property
    def hours(self) -> str:
        return format_hours(self.minutes)

    @property
    def services(self) -> list[dict[str, Any]]:
        return summarise(self.entries)


def _entries(person: Person, since: date | None, until: date | None) -> list[ServiceEntry]:
    qs = (
        Claim.objects.standing()
        .filter(person=person, minutes__gt=0)
        .select_related("rule_version", "activity__team", "community")
        .order_by("occurred_on", "id")
    )
    if since:
        qs = qs.filter(occurred_on__gte=since)
    if until:
        qs = qs.filter(occurred_on__lte=until)
    entries = []
    for c in qs:
        activity = c.activity
        # an activity names its place and organising team; anything else was organised by the committee itself
        place = activity.place if activity is not None else c.community.name
        organiser = activity.team.name if activity is not None and activity.team is not None else c.community.name
        entries.append(
            ServiceEntry(
                claim_id=c.pk,
                occurred_on=c.occurred_on,
                content=activity.title if activity is not None else c.rule_version.name,
                minutes=int(c.minutes or 0),
                place=place,
                organiser=organiser,
            )
        )
    return entries


def service_record(
    actor: Actor, person: Person, *, since: date | None = None, until: date | None = None
) -> ServiceRecord:
    """A person's volunteer record: staff and the auditor in scope, and the person themself."""
    require(actor, "certificate.view", person, hide=True)
    return ServiceRecord(person=person, entries=_entries(person, since, until), since=since, until=until)


# --- writes ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    replayed: bool


def _replay(community_id: int, key: str, person: Person, period_from: date, period_to: date) -> Issued | None:
    if not key:
        return None
    found = Certificate.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if (found.person_id, found.period_from, found.period_to) != (person.pk, period_from, period_to):
        raise IdempotencyKeyReused()
    return Issued(found, True)


def certificate_issue(
    *, actor: Actor, person: Person, period_from: date, period_to: date, idempotency_key: str = ""
) -> Issued:
    """Certify a person's approved volunteer hours for a period. A retry with the same key returns the first one."""
    require(actor, "certificate.issue", person)
    if actor.person_id is not None and actor.person_id == person.pk:
        raise OwnCertificate()
    key = (idempotency_key or "").strip()
    if len(key) > 120:
        raise Invalid(_("The idempotency key is too long (120 characters at most)."), code="idempotency_key_invalid")
    replay = _replay(person.community_id, key, person, period_from, period_to)
    if replay is not None:
        return replay
    check_period(period_from, period_to, timezone.localdate())
    try:
        with transaction.atomic():
            return Issued(_issue(actor, person, period_from, period_to, key), False)
    except IntegrityError:
        replay = _replay(person.community_id, key, person, period_from, period_to)
        if replay is not None:
            return replay
        raise


def _issue(actor: Actor, person: Person, period_from: date, period_to: date, key: str) -> Certificate:
    entries = _entries(person, period_from, period_to)
    minutes = sum(e.minutes for e in entries)
    if minutes <= 0:
        raise NoService()
    community = Community.objects.get(pk=person.community_id)
    now = timezone.now()
    year = timezone.localdate(now).year
    seq = next_number(CertificateCounter, community=community, year=year)
    certificate = Certificate.objects.create(
        community=community,
        person=person,
        number=certificate_number(community.code, year, seq),
        period_from=period_from,
        period_to=period_to,
        minutes=minutes,
        services=summarise(entries),
        code=secrets.token_urlsafe(18),  # 24 characters, 144 random bits: the public link cannot be guessed
        issued_by=actor.user,
        issued_at=now,
        person_name=person.name,
        issuer_name=community.name,
        issuer_address=community.address,
        issuer_phone=community.phone,
        idempotency_key=key,
    )
    audit(
        actor=actor,
        action="points.certificate_issue",
        obj=certificate,
        community_id=community.pk,
        number=certificate.number,
        person=person.pk,
        minutes=minutes,
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, actor: Actor, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate (issued in error, hours later found wrong); its public page then says "revoked"."""
    try:
        certificate = Certificate.objects.select_for_update().select_related("person").get(pk=certificate.pk)
    except Certificate.DoesNotExist:
        raise NotFound() from None
    require(actor, "certificate.issue", certificate.person)  # 404 outside the scope, 403 for readers inside it
    if certificate.revoked_at is not None:
        raise AlreadyRevoked()
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise Invalid(_("Say why it is revoked (at most 200 characters)."), code="reason_required", field="reason")
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_by = actor.user if getattr(actor.user, "pk", None) else None
    certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    audit(
        actor=actor,
        action="points.certificate_revoke",
        obj=certificate,
        community_id=certificate.community_id,
        reason=reason,
    )
    return certificate


# --- reads ----------------------------------------------------------------------------------------------------------
def certificates(actor: Actor, community: Community, *, q: str = "") -> QuerySet[Certificate]:
    """Every certificate of the community: staff and the auditor."""
    require(actor, "certificate.view", community)
    qs = Certificate.objects.filter(community=community).select_related("person", "issued_by")
    if q:
        qs = qs.filter(person_name__icontains=q) | qs.filter(number__icontains=q)
    return qs.order_by("-id")


def certificates_of(actor: Actor, person: Person) -> QuerySet[Certificate]:
    require(actor, "certificate.view", person, hide=True)
    return Certificate.objects.filter(person=person).select_related("issued_by").order_by("-id")


def certificate_get(actor: Actor, pk: Any) -> Certificate:
    try:
        certificate = Certificate.objects.select_related("person", "community", "issued_by").get(pk=int(pk))
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    require(actor, "certificate.view", certificate.person, hide=True)
    return certificate


def certificate_by_code(code: str) -> Certificate:
    """The public confirmation: no login, so only the unguessable code finds a certificate."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        raise NotFound()
    found = Certificate.objects.select_related("community").filter(code=code).first()
    if found is None:
        raise NotFound()
    return found


# --- printing -------------------------------------------------------------------------------------------------------
def public_path(certificate: Certificate) -> str:
    """The public confirmation page's path; the PDF's QR code holds this on the site's own address."""
    return reverse("points:certificate_public", args=[certificate.code])


def qr_data_uri(url: str) -> str:
    """The QR code as a PNG data URI (the PDF renderer fetches nothing from outside)."""
    png = segno.make(url, error="m", micro=False).png_data_uri(scale=6, border=2)
    return str(png)


@dataclass(frozen=True)
class PublicView:
    """What anyone with the link may see — nothing else personal."""

    number: str
    name: str
    hours: str
    period_from: date
    period_to: date
    issuer: str
    issued_on: date
    revoked: bool
    revoked_on: date | None


def public_view(certificate: Certificate) -> PublicView:
    return PublicView(
        number=certificate.number,
        name=mask_name(certificate.person_name),
        hours=format_hours(certificate.minutes),
        period_from=certificate.period_from,
        period_to=certificate.period_to,
        issuer=certificate.issuer_name,
        issued_on=timezone.localdate(certificate.issued_at),
        revoked=certificate.revoked_at is not None,
        revoked_on=timezone.localdate(certificate.revoked_at) if certificate.revoked_at else None,
    )


def render_pdf(certificate: Certificate, *, public_url: str) -> bytes:
    """The A4 certificate (志愿服务证明) with its number, the committee's details, a place for the seal and a QR code
    to the public confirmation page."""
    phone = Person.objects.filter(pk=certificate.person_id).values_list("phone", flat=True).first() or ""
    services = [{**s, "hours": format_hours(int(s["minutes"]))} for s in certificate.services]
    html = render_to_string(
        "points/certificate_pdf.html",
        {
            "font": FONT,
            "c": certificate,
            "hours": format_hours(certificate.minutes),
            "services": services,
            "phone": mask_phone(phone),
            "issued_on": timezone.localdate(certificate.issued_at),
            "public_url": public_url,
            "qr": qr_data_uri(public_url),
            "revoked": certificate.revoked_at is not None,
        },
    )
    # only the QR code's data: URI may be read; nothing is ever fetched from a network or a file
    written = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    assert written is not None  # write_pdf() without a target returns the bytes
    return bytes(written)
