"""QR points cards (积分卡): a printed card that identifies a person at the market counter.

The QR code holds "linli:card:<token>" and nothing else: the token is random (secrets.token_urlsafe), so it reveals
neither the phone number nor any id, and cannot be guessed from them. A lost card is revoked; reissuing revokes the
live card and gives a new token, so the old card stops working at once. At most one live card per person (a partial
unique constraint in the database).
"""

from __future__ import annotations

import secrets

import segno
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Conflict, Invalid
from linli.common.models import audit
from linli.ledger.models import PointsCard
from linli.org.access import Actor, require
from linli.org.models import Person

PREFIX = "linli:card:"
TOKEN_BYTES = 18  # 24 URL-safe characters, 144 random bits
QR_SCALE = 10  # units per module in the SVG; the page sizes it (about 70 mm across on a printed A6 card)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def payload(card: PointsCard) -> str:
    """What the QR code says."""
    return f"{PREFIX}{card.token}"


def token_from(scanned: str) -> str:
    """The token in a scanned text ("linli:card:<token>"), or the text itself when it is a bare token."""
    text = (scanned or "").strip()
    return text[len(PREFIX) :] if text.startswith(PREFIX) else text


def qr_svg(card: PointsCard, *, title: str = "") -> str:
    """The card's QR code as inline SVG (sized by CSS through its viewBox)."""
    code = segno.make(payload(card), error="m", micro=False)
    return str(
        code.svg_inline(scale=QR_SCALE, border=4, omitsize=True, svgclass="qr", light="#fff", title=title or None)
    )


# --- reads ----------------------------------------------------------------------------------------------------------


def live_card(person: Person) -> PointsCard | None:
    return PointsCard.objects.filter(person=person, revoked_at__isnull=True).first()


def person_by_card(token: str) -> Person | None:
    """The person a scanned card belongs to, or None when the card is unknown, revoked, or its holder moved away.
    Accepts the bare token or the whole QR text."""
    value = token_from(token)
    if not value or len(value) > 40:
        return None
    card = (
        PointsCard.objects.select_related("person")
        .filter(token=value, revoked_at__isnull=True, person__is_active=True)
        .first()
    )
    return card.person if card is not None else None


# --- writes ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def card_issue(*, actor: Actor, person: Person) -> PointsCard:
    """Issue a new card to `person`; their live card, if any, is revoked in the same transaction."""
    require(actor, "card.manage", person, hide=True)
    if not person.is_active:
        raise Invalid(_("This person is marked as moved away; a card cannot be issued."), code="person_inactive")
    user = actor.user if getattr(actor.user, "pk", None) else None
    now = timezone.now()
    # select_for_update serialises two staff members reissuing the same card; the unique constraint is the backstop
    old = list(PointsCard.objects.select_for_update().filter(person=person, revoked_at__isnull=True))
    for card in old:
        card.revoked_at = now
        card.revoked_by = user
        card.save(update_fields=["revoked_at", "revoked_by"])
        audit(actor=actor, action="card.revoke", obj=card, community_id=card.community_id, person=person.pk)
    try:
        with transaction.atomic():
            card = PointsCard.objects.create(
                community_id=person.community_id, person=person, token=new_token(), issued_by=user
            )
    except IntegrityError:
        raise Conflict(
            _("Someone else issued a card for this person just now. Please look again."), code="card_changed"
        ) from None
    audit(
        actor=actor,
        action="card.issue",
        obj=card,
        community_id=card.community_id,
        person=person.pk,
        replaces=[c.pk for c in old],
    )
    return card


@transaction.atomic
def card_revoke(*, actor: Actor, card: PointsCard) -> PointsCard:
    """Revoke a card (lost or stolen). Revoking a card that is already revoked changes nothing."""
    require(actor, "card.manage", card.person, hide=True)
    locked = PointsCard.objects.select_for_update().get(pk=card.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor.user if getattr(actor.user, "pk", None) else None
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit(actor=actor, action="card.revoke", obj=locked, community_id=locked.community_id, person=locked.person_id)
    return locked
