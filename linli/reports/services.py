"""The two state changes reports make: storing a closed month's figures, and publishing the monthly disclosure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from linli.common.errors import Conflict, Invalid
from linli.common.models import audit
from linli.common.text import clean_text
from linli.ledger import sealing
from linli.org.access import Actor, require
from linli.org.models import Community
from linli.reports import domain, figures
from linli.reports.models import CommunityMonth, Disclosure


class MonthInvalid(Invalid):
    code = "month_invalid"
    default_message = gettext_lazy("Give the month as YYYY-MM, for example 2026-10.")


class MonthNotOver(Conflict):
    code = "month_not_over"
    default_message = gettext_lazy("This month has not ended yet; it can be published a few minutes after it ends.")


class ReasonRequired(Invalid):
    code = "reason_required"
    default_message = gettext_lazy("Say why the published disclosure is being corrected.")


class KeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = gettext_lazy("This request key was already used for another month or community.")


def month_from_text(text: str) -> date:
    month = domain.parse_month(text)
    if month is None:
        raise MonthInvalid()
    return month


def month_is_over(month: date, now: datetime | None = None) -> bool:
    _, end = figures.window(month)
    return end + sealing.GRACE <= (now or timezone.now())


# --- stored months --------------------------------------------------------------------------------------------------


def month_store(community_id: int, month: date, *, db: str = "default", now: datetime | None = None) -> CommunityMonth:
    """Compute a closed month (reading `db`, perhaps the replica) and keep it on the primary. Recomputing replaces
    the stored figures: safe to run again from cron (`linli report refresh`)."""
    now = now or timezone.now()
    if not month_is_over(month, now):
        raise MonthNotOver()
    previous = (
        CommunityMonth.objects.filter(community_id=community_id, month=domain.add_months(month, -1))
        .values_list("figures", flat=True)
        .first()
    )
    start = None
    if previous and previous.get("version") == figures.VERSION:
        start = previous["points"]["circulation_end"]
    data = figures.month_figures(community_id, month, circulation_start=start, db=db, now=now)
    row, _ = CommunityMonth.objects.using("default").update_or_create(
        community_id=community_id, month=month, defaults={"figures": data, "computed_at": now}
    )
    return row


# --- the monthly disclosure -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    disclosure: Disclosure
    created: bool


def disclosure_publish(
    *, actor: Actor | None, community: Community, month: date, idempotency_key: str, reason: str = ""
) -> Published:
    """Seal the ledger month (if not yet), count the month, freeze it as the disclosure.

    Publishing a month that already has a disclosure returns it unchanged, unless a `reason` is given: then the figures
    are counted again and published as the next revision, and the earlier one is marked replaced (it stays readable).
    The same idempotency key returns the first answer; reused for another community or month it is a 409.
    `actor=None` is the operator at the console (`linli report monthly`), like `linli ledger seal`."""
    if actor is not None:
        require(actor, "report.publish", community, hide=True)
    reason = clean_text(reason, field_name="reason", max_length=200)
    key = (idempotency_key or "").strip()[:120]
    if not key:
        raise Invalid(gettext_lazy("An idempotency key is required."), code="idempotency_key_required")
    now = timezone.now()
    if not month_is_over(month, now):
        raise MonthNotOver()
    existing = Disclosure.objects.filter(community=community, idempotency_key=key).first()
    if existing is not None:
        if existing.month != month:
            raise KeyReused()
        return Published(existing, False)
    label = f"{month:%Y-%m}"
    # the seal is its own transaction (it may take a while on a big month) and is itself idempotent
    seal = sealing.ledger_seal(community=community, month=label, actor=actor).seal
    try:
        with transaction.atomic():
            current = (
                Disclosure.objects.select_for_update()
                .filter(community=community, month=month, replaced_at__isnull=True)
                .first()
            )
            if current is not None and not reason:
                return Published(current, False)
            data = figures.month_figures(community.pk, month, now=now)
            if current is not None:
                # one current disclosure per month (a unique index): retire the old one before the new one goes in
                current.replaced_at = now
                current.save(update_fields=["replaced_at"])
            disclosure = Disclosure.objects.create(
                community=community,
                month=month,
                revision=(current.revision + 1) if current else 1,
                figures=data,
                digest=domain.digest(data),
                seal=seal,
                published_at=now,
                published_by=actor.user if actor is not None else None,
                reason=reason if current else "",
                idempotency_key=key,
            )
            CommunityMonth.objects.update_or_create(
                community=community, month=month, defaults={"figures": data, "computed_at": now}
            )
            audit(
                actor=actor,
                action="report.publish",
                obj=disclosure,
                community_id=community.pk,
                month=label,
                revision=disclosure.revision,
                digest=disclosure.digest,
            )
    except IntegrityError:
        # a concurrent publish of the same month (or the same key) won: answer with what it stored
        again = Disclosure.objects.filter(community=community, idempotency_key=key).first()
        if again is not None:
            return Published(again, False)
        winner = Disclosure.objects.filter(community=community, month=month, replaced_at__isnull=True).first()
        if winner is None:
            raise
        return Published(winner, False)
    return Published(disclosure, True)
