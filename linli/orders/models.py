"""Resident requests as work orders (诉求/工单): the service catalogue, the orders, who handles them, their timeline.

SEEDS 001/004: grid accepts -> triage and assignment (分流交办) -> joint handling (联动处置) -> feedback and evaluation
(反馈评价); every request gets an owner, a deadline (15 days unless the category says otherwise) and an answer the
resident rates. Writes go through `linli.orders.services`; reads through `linli.orders.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.models import TimeStamped
from linli.org.models import Building, Community, Grid, PartnerUnit, Person, Street, Team


class CategoryGroup(models.TextChoices):
    """The six shelves of the 360 service supermarket (SEEDS 004) plus the hazards and environment of 000/001."""

    PROPERTY = "property", _("property management")
    HOME_LIFE = "home_life", _("home life")
    MEDIATION = "mediation", _("dispute mediation")
    SOCIAL = "social", _("social organisations")
    SAFETY = "safety", _("safety hazards")
    ENVIRONMENT = "environment", _("environment")
    OTHER = "other", _("other")


class HandlerKind(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    STEWARD = "steward", _("building steward")
    PROPERTY = "property", _("property company")
    TEAM = "team", _("volunteer team")
    EXTERNAL = "external", _("external unit")
    STAFF = "staff", _("community staff")


class DayKind(models.TextChoices):
    CALENDAR = "calendar", _("calendar days")
    WORKING = "working", _("working days")


class Severity(models.TextChoices):
    """三色: graded by scale, difficulty and social impact (SEEDS 002)."""

    BLUE = "blue", _("blue")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class Category(TimeStamped):
    """One entry of the service catalogue (服务超市). `code` is the Open311 service_code."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    group = models.CharField(_("group"), max_length=20, choices=CategoryGroup.choices, default=CategoryGroup.OTHER)
    handler = models.CharField(
        _("default handler"), max_length=20, choices=HandlerKind.choices, default=HandlerKind.GRID_WORKER
    )
    deadline_days = models.PositiveSmallIntegerField(_("days to answer"), default=15)
    day_kind = models.CharField(_("counted in"), max_length=10, choices=DayKind.choices, default=DayKind.CALENDAR)
    # {"red": 3, "yellow": 7}: a graver request is answered sooner; a colour missing here uses deadline_days
    severity_days = models.JSONField(_("days by colour"), default=dict, blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True, help_text=_("comma-separated, for search"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["community_id", "position", "name"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="order_category_code_unique"),
            models.CheckConstraint(condition=Q(deadline_days__gte=1), name="order_category_deadline_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """The street's calendar for working-day deadlines: public holidays, and weekend days worked instead (调休)."""

    street = models.ForeignKey(Street, on_delete=models.CASCADE, related_name="+", verbose_name=_("street"))
    day = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=50)
    is_workday = models.BooleanField(_("worked"), default=False, help_text=_("a weekend day worked in exchange"))

    class Meta:
        ordering = ["street_id", "day"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["street", "day"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Channel(models.TextChoices):
    QR = "qr", _("building QR code")
    APP = "app", _("resident's phone")
    HOTLINE = "hotline", _("community hotline")
    WALK_IN = "walk_in", _("walk-in")
    CHAT = "chat", _("chat group")
    PATROL = "patrol", _("grid patrol")
    HOTLINE_12345 = "12345", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")
    COUNCIL = "council", _("deliberation meeting")


class Status(models.TextChoices):
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    DISPATCHED = "dispatched", _("dispatched")
    IN_PROGRESS = "in_progress", _("in progress")
    ON_HOLD = "on_hold", _("on hold")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    MERGED = "merged", _("merged")
    CANCELLED = "cancelled", _("cancelled")


# Orders whose clock runs: someone still owes the resident an answer.
OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.ON_HOLD, Status.REOPENED}
)
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


class WorkOrder(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    number = models.CharField(_("number"), max_length=20)
    token = models.CharField(max_length=32, unique=True)  # Open311 token: the receipt a client holds before an id
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_ref = models.CharField(_("external number"), max_length=40, blank=True)  # e.g. the 12345 order number
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="orders", verbose_name=_("category"))
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000)
    # where
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # who asked: a person of the community, or a caller known only by name and phone
    reporter = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("reporter")
    )
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    # triage
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    held_from = models.CharField(max_length=12, blank=True)  # the status to resume when on hold
    severity = models.CharField(_("colour"), max_length=6, choices=Severity.choices, blank=True)
    factors = models.JSONField(default=dict, blank=True)  # {"scale": 1-3, "difficulty": 1-3, "impact": 1-3}
    # the clock
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("answer due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalation_reason = models.CharField(max_length=200, blank=True)
    # the answer and the resident's verdict
    answer = models.TextField(_("answer"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    feedback = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged")
    on_echo_wall = models.BooleanField(_("shown on the echo wall"), default=True)
    request_key = models.CharField(max_length=120, blank=True)  # a double-tapped submit files once

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["community", "status", "due_at"]),
            models.Index(fields=["community", "received_at"]),
            models.Index(fields=["reporter", "received_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["community", "number"], name="order_number_unique"),
            models.UniqueConstraint(
                fields=["community", "request_key"], condition=~Q(request_key=""), name="order_request_key_unique"
            ),
            models.UniqueConstraint(
                fields=["community", "channel", "external_ref"],
                condition=~Q(external_ref=""),
                name="order_external_ref_unique",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="order_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class OrderCounter(models.Model):
    """Gapless order numbers per community and year (2026-0042), taken under a row lock."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="order_counter_once")]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class AssigneeKind(models.TextChoices):
    USER = "user", _("a person with a login")
    TEAM = "team", _("volunteer team")
    UNIT = "unit", _("unit")


class Assignment(models.Model):
    """One handler of an order. Several active at once is joint handling (联动处置); re-dispatch ends the old ones."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    kind = models.CharField(max_length=6, choices=AssigneeKind.choices)
    handler = models.CharField(_("handler type"), max_length=20, choices=HandlerKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey(PartnerUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_lead = models.BooleanField(_("lead"), default=False)
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order_id", "-is_lead", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="user", user__isnull=False, team__isnull=True, unit__isnull=True)
                    | Q(kind="team", user__isnull=True, team__isnull=False, unit__isnull=True)
                    | Q(kind="unit", user__isnull=True, team__isnull=True, unit__isnull=False)
                ),
                name="assignment_one_assignee",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user or self.team or self.unit)

    @property
    def assignee(self) -> object:
        return self.user or self.team or self.unit


class Action(models.TextChoices):
    RECEIVE = "receive", _("received")
    ACCEPT = "accept", _("accepted")
    GRADE = "grade", _("graded")
    DISPATCH = "dispatch", _("dispatched")
    REDISPATCH = "redispatch", _("re-dispatched")
    START = "start", _("work started")
    NOTE = "note", _("note")
    HOLD = "hold", _("put on hold")
    RESUME = "resume", _("resumed")
    ESCALATE = "escalate", _("escalated")
    RESOLVE = "resolve", _("resolved")
    RATE = "rate", _("rated")
    CLOSE = "close", _("closed")
    REOPEN = "reopen", _("reopened")
    MERGE = "merge", _("merged")
    CANCEL = "cancel", _("cancelled")
    CREDIT = "credit", _("points credited")
    PUBLISH = "publish", _("echo wall changed")


class OrderEvent(models.Model):
    """The timeline: every action on an order, who and when. Internal notes never leave staff pages."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True, max_length=4000)
    is_public = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["order_id", "at", "id"]
        indexes = [models.Index(fields=["order", "at"])]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action}"


class OrderPhoto(models.Model):
    """A photo of the problem or of the fix, cleaned by `linli.common.images` (no EXIF, at most 1600 px)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(OrderEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    data = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"photo {self.pk}"


class Open311Client(TimeStamped):
    """An Open311 application allowed to file requests in one community. Only the key's SHA-256 is stored."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
