"""Every change to the rules catalogue and to claims: one function per whole state change, keyword-only, typed,
atomic, audited, with its permission checked here so that no page, API call, import or script can skip it.

The chain (SEEDS 003): a claim is submitted (own check-in, or recorded by a steward/grid worker/staff for someone
without a phone) -> verified by the steward or grid worker in scope -> approved by community staff, which posts it to
the ledger exactly once. Which checks a rule needs is the rule's `steps`; a claim always passes at least one check by
someone other than the credited person, and its verifier never approves it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.common.errors import Conflict, DomainError, Invalid, NotFound
from linli.common.models import audit
from linli.ledger import services as ledger
from linli.ledger.errors import IdempotencyKeyReused
from linli.org.access import Actor, can, require
from linli.org.models import Community, Person
from linli.points import domain, selectors
from linli.points.errors import (
    CapExceeded,
    NoPoints,
    NotARecorder,
    OwnClaim,
    RuleNotInForce,
    SameChecker,
    WrongStatus,
)
from linli.points.models import (
    OPEN_STATUSES,
    Activity,
    Claim,
    ClaimEvent,
    ClaimStatus,
    Photo,
    Recorder,
    Rule,
    RuleArea,
    RuleVersion,
    Source,
    Steps,
    Unit,
)
from linli.points.photos import photo_store

MAX_AGE_DAYS = 366  # a claim for service more than a year ago is for the paper archive, not the ledger
MAX_MINUTES = 24 * 60
T = TypeVar("T")


# --- the rules catalogue --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleData:
    """A rule version's content, as a form, an API body or a spreadsheet row gives it."""

    name: str
    points: int
    unit: str = Unit.OCCURRENCE
    description: str = ""
    difficulties: list[dict[str, Any]] = field(default_factory=list)
    daily_cap: int | None = None
    monthly_cap: int | None = None
    evidence_required: bool = False
    recorders: tuple[str, ...] = (Recorder.SELF, Recorder.STEWARD, Recorder.GRID)
    steps: str = Steps.VERIFY_APPROVE
    valid_from: date | None = None
    valid_until: date | None = None

    def cleaned(self) -> RuleData:
        name = (self.name or "").strip()
        if not name or len(name) > 100:
            raise Invalid(_("A rule needs a name of 1 to 100 characters."), code="rule_name", field="name")
        if not isinstance(self.points, int) or isinstance(self.points, bool) or not 0 < self.points <= 10_000:
            raise Invalid(_("Points must be a whole number from 1 to 10000."), code="rule_points", field="points")
        if self.unit not in Unit.values:
            raise Invalid(_("Unknown unit."), code="rule_unit", field="unit")
        if not domain.difficulty_levels_valid(self.difficulties):
            raise Invalid(
                _("Difficulty levels are written like “normal:100, hard:150” (percent, 1 to 1000)."),
                code="rule_difficulties",
                field="difficulties",
            )
        for cap, name_ in ((self.daily_cap, "daily_cap"), (self.monthly_cap, "monthly_cap")):
            if cap is not None and not 0 < cap <= 1_000_000:
                raise Invalid(_("A cap must be a positive whole number."), code="rule_cap", field=name_)
        if self.daily_cap and self.monthly_cap and self.daily_cap > self.monthly_cap:
            raise Invalid(_("The daily cap cannot be larger than the monthly cap."), code="rule_cap", field="daily_cap")
        recorders = tuple(r for r in Recorder.values if r in set(self.recorders))
        if not recorders or len(recorders) != len(set(self.recorders)):
            raise Invalid(_("Choose who may record this rule."), code="rule_recorders", field="recorders")
        if self.steps not in Steps.values:
            raise Invalid(_("Unknown checks."), code="rule_steps", field="steps")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise Invalid(_("“Valid until” is before “valid from”."), code="rule_validity", field="valid_until")
        if len(self.description) > 300:
            raise Invalid(_("The description is too long."), code="rule_description", field="description")
        return RuleData(
            name=name,
            points=self.points,
            unit=self.unit,
            description=self.description.strip(),
            difficulties=list(self.difficulties),
            daily_cap=self.daily_cap,
            monthly_cap=self.monthly_cap,
            evidence_required=bool(self.evidence_required),
            recorders=recorders,
            steps=self.steps,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )

    @classmethod
    def of(cls, version: RuleVersion) -> RuleData:
        return cls(
            name=version.name,
            points=version.points,
            unit=version.unit,
            description=version.description,
            difficulties=list(version.difficulties),
            daily_cap=version.daily_cap,
            monthly_cap=version.monthly_cap,
            evidence_required=version.evidence_required,
            recorders=tuple(version.recorder_list),
            steps=version.steps,
            valid_from=version.valid_from,
            valid_until=version.valid_until,
        )


def _unique(action: Callable[[], T], message: str, code: str, field_: str) -> T:
    try:
        with transaction.atomic():
            return action()
    except IntegrityError:
        raise Conflict(message, code=code, field=field_) from None


@transaction.atomic
def area_create(*, actor: Actor, community: Community, name: str, position: int = 0) -> RuleArea:
    require(actor, "rule.manage", community)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid(_("An area needs a name of 1 to 60 characters."), code="area_name", field="name")
    area = _unique(
        lambda: RuleArea.objects.create(community=community, name=name, position=position),
        _("This community already has an area with that name."),
        "area_name_taken",
        "name",
    )
    audit(actor=actor, action="points.area_create", obj=area, community_id=community.pk, name=name)
    return area


@transaction.atomic
def area_update(*, actor: Actor, area: RuleArea, name: str, position: int) -> RuleArea:
    require(actor, "rule.manage", area.community)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid(_("An area needs a name of 1 to 60 characters."), code="area_name", field="name")
    area.name, area.position = name, position
    _unique(lambda: area.save(), _("This community already has an area with that name."), "area_name_taken", "name")
    audit(actor=actor, action="points.area_update", obj=area, community_id=area.community_id, name=name)
    return area


def _version(rule: Rule, data: RuleData, number: int, actor: Actor) -> RuleVersion:
    return RuleVersion.objects.create(
        community_id=rule.community_id,
        rule=rule,
        number=number,
        name=data.name,
        description=data.description,
        points=data.points,
        unit=data.unit,
        difficulties=data.difficulties,
        daily_cap=data.daily_cap,
        monthly_cap=data.monthly_cap,
        evidence_required=data.evidence_required,
        recorders=",".join(data.recorders),
        steps=data.steps,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
    )


@transaction.atomic
def rule_create(*, actor: Actor, area: RuleArea, code: str, data: RuleData, position: int = 0) -> Rule:
    community = area.community
    require(actor, "rule.manage", community)
    data = data.cleaned()
    code = (code or "").strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_" for c in code) or not code.isascii():
        raise Invalid(_("A rule code is 1 to 40 letters, digits, “-” or “_”."), code="rule_code", field="code")
    rule = _unique(
        lambda: Rule.objects.create(community=community, area=area, code=code, position=position),
        _("This community already has a rule with that code."),
        "rule_code_taken",
        "code",
    )
    rule.current = _version(rule, data, 1, actor)
    rule.save(update_fields=["current", "updated_at"])
    audit(actor=actor, action="points.rule_create", obj=rule, community_id=community.pk, code=code, name=data.name)
    return rule


@transaction.atomic
def rule_update(
    *, actor: Actor, rule: Rule, data: RuleData, area: RuleArea | None = None, position: int | None = None
) -> Rule:
    """A changed rule gets a new version; claims already made keep the version they were made under."""
    rule = Rule.objects.select_for_update(of=("self",)).select_related("current").get(pk=rule.pk)
    require(actor, "rule.manage", rule.community)
    data = data.cleaned()
    if area is not None and area.community_id != rule.community_id:
        raise NotFound()
    changed_fields = []
    if area is not None and area.pk != rule.area_id:
        rule.area = area
        changed_fields.append("area")
    if position is not None and position != rule.position:
        rule.position = position
        changed_fields.append("position")
    if rule.current is None or RuleData.of(rule.current) != data:
        number = (rule.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        rule.current = _version(rule, data, number, actor)
        changed_fields.append("current")
    if changed_fields:
        rule.save(update_fields=[*changed_fields, "updated_at"])
        audit(
            actor=actor,
            action="points.rule_update",
            obj=rule,
            community_id=rule.community_id,
            version=rule.current.number if rule.current else None,
        )
    return rule


@transaction.atomic
def rule_retire(*, actor: Actor, rule: Rule, retired: bool = True) -> Rule:
    """A retired rule takes no new claims; open claims under it can still be decided."""
    require(actor, "rule.manage", rule.community)
    if rule.retired != retired:
        rule.retired = retired
        rule.save(update_fields=["retired", "updated_at"])
        audit(actor=actor, action="points.rule_retire", obj=rule, community_id=rule.community_id, retired=retired)
    return rule


# --- claims ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimInput:
    occurred_on: date
    quantity: Decimal = Decimal(1)
    minutes: int | None = None
    difficulty: str = ""
    note: str = ""


@dataclass(frozen=True)
class Submitted:
    claim: Claim
    replayed: bool


def _user(actor: Actor) -> Any:
    return actor.user if getattr(actor.user, "pk", None) else None


def _event(claim: Claim, action: str, actor: Actor | None, note: str = "") -> None:
    ClaimEvent.objects.create(
        community_id=claim.community_id,
        claim=claim,
        action=action,
        actor=_user(actor) if actor else None,
        note=note[:300],
    )


def _clean_input(version: RuleVersion, data: ClaimInput, today: date) -> tuple[Decimal, int | None, int, int]:
    """(quantity, minutes, percent, points) after every check a claim's content needs."""
    if data.occurred_on > today:
        raise Invalid(_("The date of service is in the future."), code="date_future", field="occurred_on")
    if data.occurred_on < today - timedelta(days=MAX_AGE_DAYS):
        raise Invalid(_("The date of service is more than a year ago."), code="date_too_old", field="occurred_on")
    if not domain.in_force(version.valid_from, version.valid_until, data.occurred_on):
        raise RuleNotInForce(field="rule")
    minutes = data.minutes
    if minutes is not None and not 0 < minutes <= MAX_MINUTES:
        raise Invalid(_("Minutes of service must be from 1 to 1440."), code="minutes_invalid", field="minutes")
    if version.unit == Unit.HOUR and not minutes:
        raise Invalid(_("Say how long the service took."), code="minutes_required", field="minutes")
    try:
        quantity = Decimal(data.quantity).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(_("The quantity is not a number."), code="quantity_invalid", field="quantity") from None
    if not Decimal(0) < quantity <= domain.MAX_QUANTITY:
        raise Invalid(_("The quantity must be above 0 and at most 10000."), code="quantity_invalid", field="quantity")
    try:
        percent = domain.difficulty_percent(version.difficulties, data.difficulty)
    except KeyError:
        raise Invalid(_("Unknown difficulty level."), code="difficulty_invalid", field="difficulty") from None
    points = domain.claim_points(
        points=version.points, unit=version.unit, quantity=quantity, minutes=minutes, percent=percent
    )
    if points <= 0:
        raise NoPoints(field="minutes" if version.unit == Unit.HOUR else "quantity")
    if len(data.note) > 300:
        raise Invalid(_("The note is too long (300 characters at most)."), code="note_too_long", field="note")
    return quantity, minutes, percent, points


def _awarded(person_id: int, rule_id: int, first: date, last: date, exclude: int | None = None) -> int:
    qs = Claim.objects.standing().filter(
        person_id=person_id,
        rule_id=rule_id,
        occurred_on__gte=first,
        occurred_on__lte=last,
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return int(qs.aggregate(total=Sum("points"))["total"] or 0)


def _check_caps(
    version: RuleVersion, person_id: int, rule_id: int, day: date, points: int, exclude: int | None
) -> None:
    if version.daily_cap is None and version.monthly_cap is None:
        return
    month_start = day.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    day_so_far = _awarded(person_id, rule_id, day, day, exclude) if version.daily_cap is not None else 0
    month_so_far = _awarded(person_id, rule_id, month_start, month_end, exclude) if version.monthly_cap else 0
    which = domain.beyond_cap(
        points,
        daily_cap=version.daily_cap,
        day_so_far=day_so_far,
        monthly_cap=version.monthly_cap,
        month_so_far=month_so_far,
    )
    if which == "day":
        raise CapExceeded(
            _("Beyond the daily limit of %(cap)s points for this rule (%(left)s left that day).")
            % {"cap": version.daily_cap, "left": domain.cap_room(version.daily_cap, day_so_far)},
            details={"cap": "day", "limit": version.daily_cap, "left": domain.cap_room(version.daily_cap, day_so_far)},
        )
    if which == "month":
        left = domain.cap_room(version.monthly_cap, month_so_far)
        raise CapExceeded(
            _("Beyond the monthly limit of %(cap)s points for this rule (%(left)s left that month).")
            % {"cap": version.monthly_cap, "left": left},
            details={"cap": "month", "limit": version.monthly_cap, "left": left},
        )


def _flag_duplicates(claim: Claim) -> None:
    """Same person, rule and day, or a photo already used on another claim: flagged for the checkers, not refused
    (two clean-ups on one day happen; the checker decides)."""
    other = (
        Claim.objects.filter(person_id=claim.person_id, rule_id=claim.rule_id, occurred_on=claim.occurred_on)
        .exclude(pk=claim.pk)
        .exclude(status__in=[ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN])
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    reused = bool(
        claim.photo_id
        and Claim.objects.filter(photo__sha256=claim.photo.sha256, community_id=claim.community_id)  # type: ignore[union-attr]
        .exclude(pk=claim.pk)
        .exists()
    )
    if other != claim.duplicate_of_id or reused != claim.photo_reused:
        claim.duplicate_of_id = other
        claim.photo_reused = reused
        claim.save(update_fields=["duplicate_of", "photo_reused", "updated_at"])


def _rule_for_claim(rule: Rule, person: Person) -> RuleVersion:
    """The rule's version in force now, read afresh (the caller's object may predate an edit)."""
    if rule.community_id != person.community_id:
        raise NotFound()
    rule = Rule.objects.select_related("current").get(pk=rule.pk)
    if rule.retired or rule.current is None:
        raise RuleNotInForce(_("This rule has been retired."), field="rule")
    return rule.current


def _replay(community_id: int, key: str, person: Person, rule: Rule, data: ClaimInput) -> Submitted | None:
    found = Claim.objects.filter(community_id=community_id, idempotency_key=key).first()
    if found is None:
        return None
    if (found.person_id, found.rule_id, found.occurred_on) != (person.pk, rule.pk, data.occurred_on):
        raise IdempotencyKeyReused()
    return Submitted(found, True)


def _clean_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > 120:
        raise Invalid(_("An idempotency key of 1 to 120 characters is required."), code="idempotency_key_invalid")
    return key


def claim_submit(
    *,
    actor: Actor,
    person: Person,
    rule: Rule,
    data: ClaimInput,
    idempotency_key: str,
    photo: Any = None,
    activity: Activity | None = None,
    ref_type: str = "",
    ref_id: int | None = None,
) -> Submitted:
    """A resident's own check-in, or a claim recorded for them. A retry with the same key returns the first claim."""
    key = _clean_key(idempotency_key)
    replay = _replay(person.community_id, key, person, rule, data)
    if replay is not None:
        return replay
    try:
        with transaction.atomic():
            return Submitted(_submit(actor, person, rule, data, key, photo, activity, ref_type, ref_id), False)
    except IntegrityError:
        # the same key won a race, or the person already has a claim for this activity
        replay = _replay(person.community_id, key, person, rule, data)
        if replay is not None:
            return replay
        raise Conflict(_("This claim already exists."), code="claim_exists") from None


def _submit(
    actor: Actor,
    person: Person,
    rule: Rule,
    data: ClaimInput,
    key: str,
    photo: Any,
    activity: Activity | None,
    ref_type: str,
    ref_id: int | None,
) -> Claim:
    if not person.is_active:
        raise Invalid(_("This person is no longer active."), code="person_inactive")
    kind = Recorder.ORGANISER if activity is not None else selectors.recorder_kind(actor, person)
    if activity is None and kind == "":
        require(actor, "claim.record", person, hide=True)  # 404 outside the scope, 403 inside it
    version = _rule_for_claim(rule, person)
    if activity is None and ref_type == "" and kind not in version.recorder_list:
        raise NotARecorder()
    quantity, minutes, percent, points = _clean_input(version, data, timezone.localdate())
    if version.evidence_required and photo is None and activity is None and ref_type == "":
        raise Invalid(_("This rule needs a photo."), code="photo_required", field="photo")
    _check_caps(version, person.pk, rule.pk, data.occurred_on, points, None)
    stored: Photo | None = (
        photo_store(community_id=person.community_id, upload=photo, user=_user(actor)) if photo else None
    )
    if activity is not None:
        source = Source.ACTIVITY
    elif ref_type == "work_order":
        source = Source.WORK_ORDER
    else:
        source = Source.CHECKIN if kind == Recorder.SELF else Source.RECORDED
    # a steward or grid worker (or staff) who records what they witnessed has verified it; so has an activity's
    # attendance (a QR scanned on the spot or marked by the organiser) and a work order closed by its dispatcher
    witnessed = source in {Source.ACTIVITY, Source.WORK_ORDER} or (
        kind != Recorder.SELF and can(actor, "claim.verify", person)
    )
    status = domain.status_after_submit(version.steps, recorder_verifies=witnessed)
    now = timezone.now()
    claim = Claim.objects.create(
        community_id=person.community_id,
        person=person,
        rule=rule,
        rule_version=version,
        source=source,
        occurred_on=data.occurred_on,
        minutes=minutes,
        quantity=quantity,
        difficulty=data.difficulty,
        percent=percent,
        points=points,
        note=data.note.strip(),
        photo=stored,
        status=ClaimStatus.SUBMITTED,
        recorded_by=_user(actor),
        activity=activity,
        ref_type=ref_type,
        ref_id=ref_id,
        idempotency_key=key,
    )
    _event(claim, "submitted", actor, claim.note)
    audit(actor=actor, action="points.claim_submit", obj=claim, community_id=claim.community_id, points=points)
    _flag_duplicates(claim)
    if status == ClaimStatus.VERIFIED:
        claim.status = ClaimStatus.VERIFIED
        # the attendance or the closed order is the evidence, not a person's check: the approver may be anyone
        claim.verified_by = None if source in {Source.ACTIVITY, Source.WORK_ORDER} else _user(actor)
        claim.verified_at = now
        claim.save(update_fields=["status", "verified_by", "verified_at", "updated_at"])
        _event(claim, "verified", actor, str(Source(source).label) if claim.verified_by is None else "")
        if not domain.needs_approval(version.steps):
            _post(claim, actor)
    return claim


def _locked(claim: Claim) -> Claim:
    """Re-read a claim under a row lock: two checkers clicking at once get one success and one clear refusal."""
    try:
        return Claim.objects.select_for_update(of=("self",)).select_related("rule_version", "person").get(pk=claim.pk)
    except Claim.DoesNotExist:
        raise NotFound() from None


def _not_own(actor: Actor, claim: Claim) -> None:
    if actor.person_id is not None and actor.person_id == claim.person_id:
        raise OwnClaim()


def _post(claim: Claim, actor: Actor) -> None:
    """Approve: check caps under the person's lock, post the points once, record who and when."""
    # lock the person row: two approvals for the same person cannot both fit under one cap
    Person.objects.select_for_update().filter(pk=claim.person_id).values_list("pk").first()
    version = claim.rule_version
    _check_caps(version, claim.person_id, claim.rule_id, claim.occurred_on, claim.points, claim.pk)
    posted = ledger.award(
        person=claim.person,
        amount=claim.points,
        actor=actor,
        idempotency_key=f"claim:{claim.pk}",
        memo=version.name[:200],
        ref_type="claim",
        ref_id=claim.pk,
    )
    claim.status = ClaimStatus.APPROVED
    claim.transfer_id = posted.transfer.pk
    claim.decided_by = _user(actor)
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "transfer_id", "decided_by", "decided_at", "updated_at"])
    _event(claim, "approved", actor)
    audit(
        actor=actor,
        action="points.claim_approve",
        obj=claim,
        community_id=claim.community_id,
        points=claim.points,
        transfer=posted.transfer.pk,
    )


@transaction.atomic
def claim_verify(*, actor: Actor, claim: Claim) -> Claim:
    """The steward or grid worker in scope confirms the good deed. Rules without an approval step post here."""
    claim = _locked(claim)
    require(actor, "claim.verify", claim.person, hide=True)
    _not_own(actor, claim)
    if claim.status != ClaimStatus.SUBMITTED:
        raise WrongStatus()
    claim.status = ClaimStatus.VERIFIED
    claim.verified_by = _user(actor)
    claim.verified_at = timezone.now()
    claim.save(update_fields=["status", "verified_by", "verified_at", "updated_at"])
    _event(claim, "verified", actor)
    audit(actor=actor, action="points.claim_verify", obj=claim, community_id=claim.community_id)
    if not domain.needs_approval(claim.rule_version.steps):
        _post(claim, actor)
    return claim


@transaction.atomic
def claim_approve(*, actor: Actor, claim: Claim) -> Claim:
    """Community staff approve; the points are posted to the passbook in the same transaction, exactly once."""
    claim = _locked(claim)
    require(actor, "claim.approve", claim.person, hide=True)
    _not_own(actor, claim)
    steps = claim.rule_version.steps
    waiting = ClaimStatus.VERIFIED if domain.needs_verification(steps) else ClaimStatus.SUBMITTED
    if claim.status == ClaimStatus.SUBMITTED and waiting == ClaimStatus.VERIFIED:
        raise WrongStatus(_("This claim must be verified by a steward or grid worker first."), code="not_verified")
    if claim.status not in {waiting, ClaimStatus.VERIFIED}:
        raise WrongStatus()
    if claim.verified_by_id is not None and claim.verified_by_id == getattr(_user(actor), "pk", None):
        raise SameChecker()
    _post(claim, actor)
    return claim


@transaction.atomic
def claim_reject(*, actor: Actor, claim: Claim, reason: str) -> Claim:
    """Refuse with a reason the resident reads; they may correct and resubmit."""
    claim = _locked(claim)
    if claim.status == ClaimStatus.SUBMITTED and domain.needs_verification(claim.rule_version.steps):
        if not can(actor, "claim.verify", claim.person):
            require(actor, "claim.approve", claim.person, hide=True)
    else:
        require(actor, "claim.approve", claim.person, hide=True)
    _not_own(actor, claim)
    if claim.status not in OPEN_STATUSES:
        raise WrongStatus()
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise Invalid(_("Give the resident a reason (at most 300 characters)."), code="reason_required", field="reason")
    claim.status = ClaimStatus.REJECTED
    claim.reason = reason
    claim.decided_by = _user(actor)
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "reason", "decided_by", "decided_at", "updated_at"])
    _event(claim, "rejected", actor, reason)
    audit(actor=actor, action="points.claim_reject", obj=claim, community_id=claim.community_id, reason=reason)
    return claim


def _may_amend(actor: Actor, claim: Claim) -> bool:
    """The credited resident or whoever recorded the claim for them."""
    return (actor.person_id is not None and actor.person_id == claim.person_id) or (
        claim.recorded_by_id is not None and claim.recorded_by_id == getattr(_user(actor), "pk", None)
    )


@transaction.atomic
def claim_resubmit(*, actor: Actor, claim: Claim, data: ClaimInput, photo: Any = None) -> Claim:
    """A rejected claim, corrected, goes back to the start of the chain under the rule as it is now."""
    claim = _locked(claim)
    if not _may_amend(actor, claim):
        require(actor, "claim.view", claim.person, hide=True)
        raise NotARecorder(_("Only the resident or whoever recorded the claim can resubmit it."))
    if claim.status != ClaimStatus.REJECTED:
        raise WrongStatus(_("Only a rejected claim can be resubmitted."))
    version = _rule_for_claim(claim.rule, claim.person)
    quantity, minutes, percent, points = _clean_input(version, data, timezone.localdate())
    if photo is not None:
        claim.photo = photo_store(community_id=claim.community_id, upload=photo, user=_user(actor))
    if version.evidence_required and claim.photo_id is None and claim.source in {Source.CHECKIN, Source.RECORDED}:
        raise Invalid(_("This rule needs a photo."), code="photo_required", field="photo")
    _check_caps(version, claim.person_id, claim.rule_id, data.occurred_on, points, claim.pk)
    claim.rule_version = version
    claim.occurred_on, claim.quantity, claim.minutes = data.occurred_on, quantity, minutes
    claim.difficulty, claim.percent, claim.points = data.difficulty, percent, points
    claim.note = data.note.strip()
    claim.status = ClaimStatus.SUBMITTED
    claim.verified_by = claim.decided_by = None
    claim.verified_at = claim.decided_at = None
    claim.reason = ""
    claim.save()
    _event(claim, "resubmitted", actor, claim.note)
    audit(actor=actor, action="points.claim_resubmit", obj=claim, community_id=claim.community_id, points=points)
    _flag_duplicates(claim)
    return claim


@transaction.atomic
def claim_withdraw(*, actor: Actor, claim: Claim) -> Claim:
    claim = _locked(claim)
    if not _may_amend(actor, claim):
        require(actor, "claim.view", claim.person, hide=True)
        raise NotARecorder(_("Only the resident or whoever recorded the claim can withdraw it."))
    if claim.status not in OPEN_STATUSES:
        raise WrongStatus()
    claim.status = ClaimStatus.WITHDRAWN
    claim.save(update_fields=["status", "updated_at"])
    _event(claim, "withdrawn", actor)
    audit(actor=actor, action="points.claim_withdraw", obj=claim, community_id=claim.community_id)
    return claim


# --- many at once ---------------------------------------------------------------------------------------------------
@dataclass
class BulkResult:
    done: list[Claim] = field(default_factory=list)
    failed: list[tuple[int, DomainError]] = field(default_factory=list)


def _bulk(claims: Iterable[Claim], one: Callable[[Claim], Claim]) -> BulkResult:
    """Each claim in its own transaction: one refusal (a cap, a claim someone else just decided) stops only itself."""
    result = BulkResult()
    for claim in claims:
        try:
            result.done.append(one(claim))
        except DomainError as error:
            result.failed.append((claim.pk, error))
    return result


def claims_verify(*, actor: Actor, claims: Sequence[Claim]) -> BulkResult:
    return _bulk(claims, lambda c: claim_verify(actor=actor, claim=c))


def claims_approve(*, actor: Actor, claims: Sequence[Claim]) -> BulkResult:
    return _bulk(claims, lambda c: claim_approve(actor=actor, claim=c))


def claims_reject(*, actor: Actor, claims: Sequence[Claim], reason: str) -> BulkResult:
    return _bulk(claims, lambda c: claim_reject(actor=actor, claim=c, reason=reason))


# --- the boundary other apps call ------------------------------------------------------------------------------------
def claim_for_work_order(
    *,
    actor: Actor,
    person: Person,
    rule: Rule,
    work_order_id: int,
    occurred_on: date,
    minutes: int | None = None,
    note: str = "",
) -> Submitted:
    """The work-order app credits a closed order's helper: the claim arrives verified (the order's closing is the
    witness) and waits for staff approval like any other. One claim per order and helper, however often called."""
    if actor.person_id == person.pk:
        raise OwnClaim(_("Nobody credits points to themselves."))
    require(actor, "claim.record", person, hide=True)
    return claim_submit(
        actor=actor,
        person=person,
        rule=rule,
        data=ClaimInput(occurred_on=occurred_on, minutes=minutes, note=note),
        idempotency_key=f"work_order:{work_order_id}:{person.pk}",
        ref_type="work_order",
        ref_id=work_order_id,
    )
