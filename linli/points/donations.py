"""Donations (旧物捐赠换积分): staff register what a resident brings, assess each item, and the donor's points are
posted once; usable items then go on the points market's shelf at a price in points (明码标分).

The chain: registered (donor, items) -> assessed (per item: points for the donor and a shelf price, or "not usable";
the total is posted to the ledger with the key ``donation:<id>``) or declined with a reason. Who: community staff
("donation.manage"); the auditor reads ("donation.view"). Assessment may be done by any staff member in scope,
including the one who received the items (small offices often have one person on duty), but never by the donor
themself: nobody awards points to themselves. Items reach the market through `linli.points.market_port`; while no
market is installed they wait as "queued".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from linli.common.models import audit
from linli.ledger import services as ledger
from linli.ledger.errors import IdempotencyKeyReused
from linli.org.access import Actor, require
from linli.org.models import Community, Person
from linli.points import market_port
from linli.points.models import DonatedItem, Donation, DonationStatus, ItemStatus

MAX_ITEMS = 30
MAX_QUANTITY = 1000
MAX_ITEM_POINTS = 10_000
MAX_PRICE = 100_000
MAX_AGE_DAYS = 366
MAX_TOTAL = 10_000  # one donation never earns more; stops a typo from minting a fortune


# --- refusals -------------------------------------------------------------------------------------------------------
class OwnDonation(Forbidden):
    code = "own_donation"
    default_message = gettext_lazy("Nobody assesses or declines their own donation: another staff member must.")


class WrongDonationStatus(Conflict):
    code = "donation_status"
    default_message = gettext_lazy("This donation has already been assessed or declined; the page may be out of date.")


class MarketNotInstalled(Conflict):
    code = "market_not_installed"
    default_message = gettext_lazy("The points market is not installed yet: the items stay in the queue.")


# --- input ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemInput:
    description: str
    category: str = ""
    quantity: int = 1
    condition: str = ""


@dataclass(frozen=True)
class Assessment:
    """One item's assessment: points per piece for the donor and a shelf price per piece, or not usable (neither).
    The donor earns points × quantity."""

    item_id: int
    usable: bool
    points: int = 0
    price: int | None = None


@dataclass(frozen=True)
class Registered:
    donation: Donation
    replayed: bool


@dataclass
class SendResult:
    done: list[DonatedItem] = field(default_factory=list)
    failed: list[tuple[int, DomainError]] = field(default_factory=list)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _user(actor: Actor) -> Any:
    return actor.user if getattr(actor.user, "pk", None) else None


def _clean_items(items: Sequence[ItemInput]) -> list[ItemInput]:
    if not items:
        raise Invalid(_("List at least one donated item."), code="items_required", field="items")
    if len(items) > MAX_ITEMS:
        raise Invalid(_("At most 30 items per donation."), code="items_too_many", field="items")
    cleaned = []
    for item in items:
        description = (item.description or "").strip()
        if not description or len(description) > 120:
            raise Invalid(_("Each item needs a description of 1 to 120 characters."), code="item_description")
        category, condition = (item.category or "").strip(), (item.condition or "").strip()
        if len(category) > 40 or len(condition) > 60:
            raise Invalid(_("The kind or condition of an item is too long."), code="item_text_too_long")
        if not _whole(item.quantity) or not 0 < item.quantity <= MAX_QUANTITY:
            raise Invalid(_("The quantity must be a whole number from 1 to 1000."), code="item_quantity")
        cleaned.append(ItemInput(description, category, item.quantity, condition))
    return cleaned


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if len(key) > 120:
        raise Invalid(_("The idempotency key is too long (120 characters at most)."), code="idempotency_key_invalid")
    return key


def _replay(community_id: int, key: str, donor: Person) -> Registered | None:
    if not key:
        return None
    found = Donation.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if found.donor_id != donor.pk:
        raise IdempotencyKeyReused()
    return Registered(found, True)


# --- writes ---------------------------------------------------------------------------------------------------------
def donation_register(
    *,
    actor: Actor,
    donor: Person,
    items: Sequence[ItemInput],
    received_on: date | None = None,
    note: str = "",
    idempotency_key: str = "",
) -> Registered:
    """Staff write down what a resident brought. A retry with the same key returns the first registration."""
    require(actor, "donation.manage", donor)
    key = _clean_key(idempotency_key)
    replay = _replay(donor.community_id, key, donor)
    if replay is not None:
        return replay
    if not donor.is_active:
        raise Invalid(_("This person is no longer active."), code="person_inactive")
    cleaned = _clean_items(items)
    today = timezone.localdate()
    received_on = received_on or today
    if received_on > today:
        raise Invalid(_("The date received is in the future."), code="date_future", field="received_on")
    if received_on < today - timedelta(days=MAX_AGE_DAYS):
        raise Invalid(_("The date received is more than a year ago."), code="date_too_old", field="received_on")
    note = (note or "").strip()
    if len(note) > 300:
        raise Invalid(_("The note is too long (300 characters at most)."), code="note_too_long", field="note")
    try:
        with transaction.atomic():
            donation = Donation.objects.create(
                community_id=donor.community_id,
                donor=donor,
                received_by=_user(actor),
                received_on=received_on,
                note=note,
                idempotency_key=key,
            )
            DonatedItem.objects.bulk_create(
                [
                    DonatedItem(
                        community_id=donor.community_id,
                        donation=donation,
                        description=i.description,
                        category=i.category,
                        quantity=i.quantity,
                        condition=i.condition,
                    )
                    for i in cleaned
                ]
            )
            audit(
                actor=actor,
                action="points.donation_register",
                obj=donation,
                community_id=donation.community_id,
                donor=donor.pk,
                items=len(cleaned),
            )
    except IntegrityError:
        replay = _replay(donor.community_id, key, donor)  # the same key won a race
        if replay is not None:
            return replay
        raise
    return Registered(donation, False)


def _locked(donation: Donation) -> Donation:
    try:
        return Donation.objects.select_for_update().select_related("donor").get(pk=donation.pk)
    except Donation.DoesNotExist:
        raise NotFound() from None


def _decider(actor: Actor, donation: Donation) -> None:
    require(actor, "donation.manage", donation.donor)  # 404 outside the scope, 403 for readers inside it
    if actor.person_id is not None and actor.person_id == donation.donor_id:
        raise OwnDonation()
    if donation.status != DonationStatus.REGISTERED:
        raise WrongDonationStatus()


def _check_assessments(items: list[DonatedItem], assessments: Sequence[Assessment]) -> dict[int, Assessment]:
    by_id: dict[int, Assessment] = {}
    for a in assessments:
        if a.item_id in by_id:
            raise Invalid(_("An item was assessed twice."), code="assessment_items", field="items")
        by_id[a.item_id] = a
    if set(by_id) != {i.pk for i in items}:
        raise Invalid(_("Assess every item of the donation, and only those."), code="assessment_items", field="items")
    for a in assessments:
        if a.usable:
            if not _whole(a.points) or not 0 <= a.points <= MAX_ITEM_POINTS:
                raise Invalid(_("Points for an item must be a whole number from 0 to 10000."), code="item_points")
            if not _whole(a.price) or not 0 < a.price <= MAX_PRICE:  # type: ignore[operator]
                raise Invalid(
                    _("A usable item needs a shelf price of 1 to 100000 points."), code="item_price", field="price"
                )
        elif a.points or a.price:
            raise Invalid(_("An item that is not usable earns no points and gets no price."), code="item_unusable")
    return by_id


@transaction.atomic
def donation_assess(*, actor: Actor, donation: Donation, assessments: Sequence[Assessment]) -> Donation:
    """Points per item for the donor and a shelf price; the total is posted to the donor's passbook exactly once."""
    donation = _locked(donation)
    _decider(actor, donation)
    items = list(donation.items.order_by("id"))
    by_id = _check_assessments(items, assessments)
    total = 0
    for item in items:
        a = by_id[item.pk]
        if a.usable:
            item.points, item.price, item.status = a.points, a.price, ItemStatus.QUEUED
        else:
            item.points, item.price, item.status = 0, None, ItemStatus.DISCARDED
        total += item.points * item.quantity
    if total > MAX_TOTAL:
        raise Invalid(_("One donation can earn at most 10000 points."), code="donation_points_too_many")
    DonatedItem.objects.bulk_update(items, ["points", "price", "status"])
    if total > 0:
        memo = _("Donated items: %(items)s") % {"items": "、".join(i.description for i in items)}
        posted = ledger.award(
            person=donation.donor,
            amount=total,
            actor=actor,
            idempotency_key=f"donation:{donation.pk}",
            memo=memo[:200],
            ref_type="donation",
            ref_id=donation.pk,
        )
        donation.transfer_id = posted.transfer.pk
    donation.status = DonationStatus.ASSESSED
    donation.points = total
    donation.assessed_by = _user(actor)
    donation.assessed_at = timezone.now()
    donation.save(update_fields=["status", "points", "assessed_by", "assessed_at", "transfer_id", "updated_at"])
    audit(
        actor=actor,
        action="points.donation_assess",
        obj=donation,
        community_id=donation.community_id,
        points=total,
        transfer=donation.transfer_id,
    )
    if market_port.market() is not None:
        # a market is installed: the usable items go on its shelf now, each on its own (a refusal keeps it queued)
        _send(actor, [i for i in items if i.status == ItemStatus.QUEUED])
    return donation


@transaction.atomic
def donation_decline(*, actor: Actor, donation: Donation, reason: str) -> Donation:
    """Turn a donation down (the donor takes the things back); no points, nothing goes on the shelf."""
    donation = _locked(donation)
    _decider(actor, donation)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the donor a reason (at most 300 characters)."), code="reason_required", field="reason")
    donation.items.update(status=ItemStatus.DISCARDED, points=0, price=None)
    donation.status = DonationStatus.DECLINED
    donation.points = 0
    donation.reason = reason
    donation.assessed_by = _user(actor)
    donation.assessed_at = timezone.now()
    donation.save(update_fields=["status", "points", "reason", "assessed_by", "assessed_at", "updated_at"])
    audit(actor=actor, action="points.donation_decline", obj=donation, community_id=donation.community_id)
    return donation


def _send(actor: Actor, items: Sequence[DonatedItem]) -> SendResult:
    port = market_port.market()
    if port is None:
        raise MarketNotInstalled()
    result = SendResult()
    for item in items:
        try:
            with transaction.atomic():
                locked = DonatedItem.objects.select_for_update().get(pk=item.pk)
                if locked.status != ItemStatus.QUEUED or locked.price is None:
                    continue  # someone else sent it meanwhile
                ref = port.stock_donated_item(item=locked, price=locked.price, actor=actor)
                if not isinstance(ref, str) or not 0 < len(ref) <= 60:
                    raise Conflict(_("The market gave no stock reference."), code="market_bad_reference")
                locked.status, locked.market_ref, locked.stocked_at = ItemStatus.STOCKED, ref, timezone.now()
                locked.save(update_fields=["status", "market_ref", "stocked_at"])
                audit(
                    actor=actor,
                    action="points.donated_item_stock",
                    obj=locked,
                    community_id=locked.community_id,
                    market_ref=ref,
                    price=locked.price,
                )
                result.done.append(locked)
        except DomainError as error:
            result.failed.append((item.pk, error))
    return result


def donated_items_send_to_market(*, actor: Actor, community: Community) -> SendResult:
    """Push every queued item of the community to the market's shelf, each in its own transaction: one refusal stops
    only that item. 409 market_not_installed while no market implements the port."""
    require(actor, "donation.manage", community)
    return _send(actor, list(item_queue(actor, community)))


# --- reads ----------------------------------------------------------------------------------------------------------
def donations(actor: Actor, community: Community, *, status: str = "", q: str = "") -> QuerySet[Donation]:
    require(actor, "donation.view", community)
    qs = (
        Donation.objects.filter(community=community)
        .select_related("donor", "received_by", "assessed_by")
        .annotate(item_count=Count("items"))
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(donor__name__icontains=q) | Q(items__description__icontains=q)).distinct()
    return qs.order_by("-id")


def donation_get(actor: Actor, pk: Any) -> Donation:
    try:
        donation = Donation.objects.select_related("donor", "community", "received_by", "assessed_by").get(pk=int(pk))
    except (Donation.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    require(actor, "donation.view", donation.donor, hide=True)
    return donation


def item_queue(actor: Actor, community: Community) -> QuerySet[DonatedItem]:
    """Assessed, usable items waiting to go on the market's shelf, oldest first."""
    require(actor, "donation.view", community)
    return (
        DonatedItem.objects.filter(
            community=community,
            status=ItemStatus.QUEUED,
            donation__status=DonationStatus.ASSESSED,
            price__isnull=False,
        )
        .select_related("donation__donor")
        .order_by("id")
    )
