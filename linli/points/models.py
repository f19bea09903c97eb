"""How points come into being: the rules catalogue, claims and their verification chain, activities and attendance,
donations, and volunteer-service certificates.

A point is minted only by approving a claim (or assessing a donation): the claim names the rule *version* it was
earned under, the person, who recorded, verified and approved it, and the ledger transfer that posted it. Editing a
rule makes a new version; past claims keep theirs. Every table carries `community_id` (DESIGN.md › Scale).
Writes go through `linli.points.services`; reads through `linli.points.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.models import TimeStamped
from linli.ledger.models import Transfer
from linli.org.models import Community, Grid, Merchant, Person, Team


# --- the rules catalogue (积分规则 / 打分标准) ------------------------------------------------------------------------
class RuleArea(TimeStamped):
    """A scoring area: 小区治理, 文明帮创, 废旧利用, 绿色环保, 志愿服务 ..."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["community_id", "position", "id"]
        verbose_name = _("scoring area")
        verbose_name_plural = _("scoring areas")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="rule_area_name_unique")]

    def __str__(self) -> str:
        return self.name


class Unit(models.TextChoices):
    OCCURRENCE = "occurrence", _("per occurrence")
    HOUR = "hour", _("per full hour")
    ITEM = "item", _("per item")
    KG = "kg", _("per kg")


class Recorder(models.TextChoices):
    """Who may put a claim under this rule on record."""

    SELF = "self", _("the resident (check-in)")
    STEWARD = "building_steward", _("building steward")
    GRID = "grid_worker", _("grid worker")
    STAFF = "community_staff", _("community staff")
    ORGANISER = "organiser", _("activity organiser")


class Steps(models.TextChoices):
    """Which checks a claim under this rule passes before its points are posted (at least one, never none)."""

    VERIFY_APPROVE = "verify_approve", _("verified by steward or grid worker, then approved by staff")
    APPROVE = "approve", _("approved by staff")
    VERIFY = "verify", _("verified by steward or grid worker (posted at verification)")


class Rule(TimeStamped):
    """A rule's identity; its content lives in versions. `current` is the version new claims use."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    area = models.ForeignKey(RuleArea, on_delete=models.PROTECT, related_name="rules", verbose_name=_("area"))
    code = models.SlugField(_("code"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    current = models.ForeignKey(
        "RuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("version")
    )
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["community_id", "area__position", "position", "id"]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="rule_code_unique")]

    def __str__(self) -> str:
        return self.current.name if self.current_id and self.current else self.code


class RuleVersion(models.Model):
    """One version of a rule, never changed once written: claims point here, so an award keeps its rule as it was."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    points = models.PositiveIntegerField(_("points"))
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices, default=Unit.OCCURRENCE)
    # [{"name": "一般", "percent": 100}, {"name": "较难", "percent": 150}]: the chosen level multiplies the points
    difficulties = models.JSONField(_("difficulty levels"), default=list, blank=True)
    daily_cap = models.PositiveIntegerField(_("cap per person per day"), null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(_("cap per person per month"), null=True, blank=True)
    evidence_required = models.BooleanField(_("photo required"), default=False)
    recorders = models.CharField(_("who may record"), max_length=120, default="self,building_steward,grid_worker")
    steps = models.CharField(_("checks"), max_length=20, choices=Steps.choices, default=Steps.VERIFY_APPROVE)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule_id", "-number"]
        verbose_name = _("rule version")
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_unique"),
            models.CheckConstraint(condition=Q(points__gt=0), name="rule_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def recorder_list(self) -> list[str]:
        return [r for r in self.recorders.split(",") if r]


# --- claims (打卡 / 申报) -------------------------------------------------------------------------------------------
class Source(models.TextChoices):
    CHECKIN = "checkin", _("own check-in")
    RECORDED = "recorded", _("recorded for the resident")
    ACTIVITY = "activity", _("activity attendance")
    WORK_ORDER = "work_order", _("work order")


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("waiting for verification")
    VERIFIED = "verified", _("waiting for approval")
    APPROVED = "approved", _("approved and posted")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


OPEN_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.VERIFIED)


class Photo(models.Model):
    """Evidence, re-encoded (no EXIF, at most 1600 px) and kept in the database: app servers stay stateless and a
    database backup is the whole record. `sha256` is of the upload as received, to flag the same photo twice."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("photo")

    def __str__(self) -> str:
        return f"photo {self.pk}"


class ClaimQuerySet(models.QuerySet["Claim"]):
    def with_reversal(self) -> ClaimQuerySet:
        """Each claim's `points_reversed`: staff reversed the transfer that posted it in the ledger (a mistake undone
        there). The claim keeps "approved" — that is what happened — but its points no longer stand."""
        return self.annotate(points_reversed=_reversed())

    def standing(self) -> ClaimQuerySet:
        """Approved claims whose points stand: what caps, leaderboards and volunteer records count."""
        return self.filter(status=ClaimStatus.APPROVED).exclude(_reversed())


def _reversed() -> Exists:
    # the partial unique index on reverses_id makes this one index probe per claim
    return Exists(Transfer.objects.filter(reverses_id=OuterRef("transfer_id")))


class Claim(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="claims", verbose_name=_("person"))
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="claims", verbose_name=_("rule"))
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="claims")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    occurred_on = models.DateField(_("date of service"))
    minutes = models.PositiveIntegerField(_("minutes of service"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2, default=1)
    difficulty = models.CharField(_("difficulty"), max_length=30, blank=True)
    percent = models.PositiveSmallIntegerField(default=100)  # the difficulty's multiplier, as it was
    points = models.PositiveIntegerField(_("points"))
    note = models.CharField(_("what was done"), max_length=300, blank=True)
    photo = models.ForeignKey(Photo, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED)
    # who did each step (users; the credited person may do none of them)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)  # why it was rejected; the resident sees it
    transfer_id = models.BigIntegerField(null=True, blank=True)  # the ledger transfer that posted it
    # flags for the queues, never a block: same person + rule + day, or a photo already used
    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    photo_reused = models.BooleanField(default=False)
    # what it came from: an activity, a work order (ref_type "work_order")
    activity = models.ForeignKey("Activity", on_delete=models.PROTECT, null=True, blank=True, related_name="claims")
    ref_type = models.CharField(max_length=40, blank=True)
    ref_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=120)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="claim_idempotency_key_unique"),
            models.UniqueConstraint(
                fields=["activity", "person"], condition=Q(activity__isnull=False), name="claim_once_per_activity"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="claim_points_positive"),
        ]
        indexes = [
            models.Index(fields=["community", "status", "-id"], name="claim_queue"),
            models.Index(fields=["person", "rule", "occurred_on"], name="claim_person_rule_day"),
            models.Index(fields=["community", "status", "decided_at"], name="claim_decided"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.person_id} +{self.points}"


class ClaimEvent(models.Model):
    """A claim's history, shown to the resident: submitted, verified, approved, rejected (with reason), resubmitted."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.action}"


# --- activities -----------------------------------------------------------------------------------------------------
class ActivitySeries(TimeStamped):
    """A recurring activity (free haircuts on the first Monday of every month): `rrule` is an RFC 5545 RRULE."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    rrule = models.CharField(_("repeats"), max_length=200)
    start_time = models.TimeField(_("starts at"))
    end_time = models.TimeField(_("ends at"))
    first_date = models.DateField(_("from"))
    last_date = models.DateField(_("until"), null=True, blank=True)
    ended = models.BooleanField(default=False)
    # what every occurrence copies when it is generated (migration 0003_activities_series)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("organising team")
    )
    grid = models.ForeignKey(Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120, default="")
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    rule = models.ForeignKey(
        Rule, on_delete=models.PROTECT, null=True, related_name="series", verbose_name=_("points rule")
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("organiser")
    )

    class Meta:
        verbose_name = _("recurring activity")

    def __str__(self) -> str:
        return self.title


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("open")
    CANCELLED = "cancelled", _("cancelled")
    CLOSED = "closed", _("closed (points turned into claims)")


class Activity(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("organising team")
    )
    grid = models.ForeignKey(Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)  # None: no limit
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="activities", verbose_name=_("points rule"))
    series = models.ForeignKey(ActivitySeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="items")
    status = models.CharField(max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("organiser")
    )
    secret = models.CharField(max_length=40)  # signs the check-in QR codes; a new secret voids printed codes

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["community", "starts_at"], name="activity_time")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_order")]

    def __str__(self) -> str:
        return self.title


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("signed up")
    WAITING = "waiting", _("on the waiting list")
    CANCELLED = "cancelled", _("cancelled")


class Signup(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=SignupStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "person"], name="signup_once")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.activity_id}"


class Attendance(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendances")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField()
    checked_out_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["checked_in_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activity", "person"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.activity_id}"

    @property
    def minutes(self) -> int | None:
        if self.checked_out_at is None:
            return None
        return max(0, int((self.checked_out_at - self.checked_in_at).total_seconds() // 60))


# --- donations (旧物捐赠换积分) ---------------------------------------------------------------------------------------
class DonationStatus(models.TextChoices):
    REGISTERED = "registered", _("registered, waiting for assessment")
    ASSESSED = "assessed", _("assessed and points posted")
    DECLINED = "declined", _("declined")


class Donation(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    donor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("donor"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    status = models.CharField(max_length=12, choices=DonationStatus.choices, default=DonationStatus.REGISTERED)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    transfer_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)  # why it was declined; the donor hears it
    idempotency_key = models.CharField(max_length=120, blank=True)  # a form sent twice registers one donation

    class Meta:
        ordering = ["-id"]
        verbose_name = _("donation")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="donation_idempotency_key_unique",
            )
        ]


class ItemStatus(models.TextChoices):
    QUEUED = "queued", _("waiting to go on the shelf")
    STOCKED = "stocked", _("on the market shelf")
    DISCARDED = "discarded", _("not usable")


class DonatedItem(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    donation = models.ForeignKey(Donation, on_delete=models.CASCADE, related_name="items")
    description = models.CharField(_("item"), max_length=120)
    category = models.CharField(_("kind"), max_length=40, blank=True)  # books, toys, shoes ...
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    condition = models.CharField(_("condition"), max_length=60, blank=True)
    points = models.PositiveIntegerField(_("points for the donor"), default=0)
    price = models.PositiveIntegerField(_("shelf price in points"), null=True, blank=True)  # 明码标分
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.QUEUED)
    market_ref = models.CharField(max_length=60, blank=True)  # the market's stock entry, once stocked
    stocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


# --- volunteer-service certificates (民政部令第67号) -----------------------------------------------------------------
class Certificate(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("certificate number"), max_length=60, unique=True)
    # who and which committee, as certified: a later rename or move does not change an issued certificate
    person_name = models.CharField(_("name"), max_length=100, default="")
    issuer_name = models.CharField(_("issued by"), max_length=100, default="")
    issuer_address = models.CharField(_("office address"), max_length=200, blank=True)
    issuer_phone = models.CharField(_("office phone"), max_length=20, blank=True)
    period_from = models.DateField(_("from"))
    period_to = models.DateField(_("to"))
    minutes = models.PositiveIntegerField(_("minutes of service"))
    services = models.JSONField(default=list)  # [{"name": ..., "count": n, "minutes": m}] as certified
    code = models.CharField(max_length=32, unique=True)  # the public confirmation link's secret part
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=120, blank=True)  # a form sent twice issues one certificate

    class Meta:
        ordering = ["-id"]
        verbose_name = _("volunteer service certificate")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="certificate_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number


class CertificateCounter(models.Model):
    """The last certificate number per community and year: one row, incremented under its row lock, so numbers are
    unique and without gaps however many staff issue at once (a rolled-back issue rolls its number back too)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="certificate_counter_unique")]

    def __str__(self) -> str:
        return f"{self.community_id}/{self.year}: {self.last}"


class MerchantService(models.Model):
    """A caring merchant's service (hours or times) recorded by staff under an earning rule, and the points it earned
    (issue 5 item 5). Written once by `merchant_service.merchant_service_record`; the points are a ledger award from
    issuance to the merchant's account."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant"))
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule"))
    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(max_length=12, choices=Unit.choices)
    quantity = models.DecimalField(_("hours or times"), max_digits=10, decimal_places=2)
    occurred_on = models.DateField(_("date of service"))
    points = models.PositiveIntegerField(_("points"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    transfer_id = models.BigIntegerField(null=True, blank=True)  # the ledger award (ledger.Transfer)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("merchant service")
        constraints = [
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="merchant_service_key_once"),
            models.CheckConstraint(condition=Q(points__gt=0), name="merchant_service_points_positive"),
        ]
        indexes = [models.Index(fields=["merchant", "rule", "occurred_on"], name="merchant_service_caps")]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.points}"
