"""Deliberation (议事): meetings in a series, their agenda and the resolutions someone is chased to complete; and
owners' votes (业主共同决定) counted as Civil Code art. 278 counts them.

SEEDS 002: the "府西夜话" evening talks — problem laid out, measures agreed, supervision post (监督岗), echo wall
(回音壁), evaluation desk (评议台), disputes graded blue / yellow / red and counted by kind. SEEDS 003: the roof repair
vote (2/3 take part; 3/4 of them agree). Writes go through `linli.council.services`; reads through
`linli.council.selectors`; the vote arithmetic is `linli.council.domain`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.models import TimeStamped
from linli.orders.models import Severity, WorkOrder
from linli.org.models import Building, Community, Compound, Grid, Household, PartnerUnit, Person


# --- meetings ---------------------------------------------------------------------------------------------------------
class SeriesKind(models.TextChoices):
    EVENING_TALK = "evening_talk", _("evening talk (夜话)")
    CONSULTATION = "consultation", _("consultation meeting (议事协商会)")
    JOINT = "joint", _("joint meeting with units")
    OTHER = "other", _("other")


class MeetingSeries(TimeStamped):
    """A named run of meetings whose sessions are numbered: 府西夜话 第 270 期."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=14, choices=SeriesKind.choices, default=SeriesKind.EVENING_TALK)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # sessions held before the platform was used, so the numbering continues where the paper register stopped
    numbered_from = models.PositiveIntegerField(_("first number"), default=1)
    last_number = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="series_name_unique")]

    def __str__(self) -> str:
        return self.name


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    HELD = "held", _("held, minutes pending")
    CLOSED = "closed", _("closed with a report")
    CANCELLED = "cancelled", _("cancelled")


class Meeting(TimeStamped):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"))
    series = models.ForeignKey(
        MeetingSeries, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("series")
    )
    number = models.PositiveIntegerField(_("session"))
    title = models.CharField(_("title"), max_length=120)
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=120)
    host = models.CharField(_("host"), max_length=60)
    # where it is held and whom it concerns; the grid decides which grid workers run it
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True, max_length=20000)
    report = models.TextField(_("closing report"), blank=True, max_length=8000)
    held_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # the secret in the check-in QR code on the wall of the meeting room
    checkin_code = models.CharField(max_length=24, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    request_key = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [models.Index(fields=["community", "starts_at"])]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="meeting_number_unique"),
            models.UniqueConstraint(
                fields=["community", "request_key"], condition=~Q(request_key=""), name="meeting_request_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series.name} {self.number} · {self.title}"


class PartyKind(models.TextChoices):
    RESIDENT = "resident", _("resident")
    PROPERTY = "property", _("property company")
    LAWYER = "lawyer", _("community lawyer")
    PARTNER = "partner", _("partner unit")
    GRID = "grid", _("grid worker")
    STEWARD = "steward", _("building steward")
    COMMITTEE = "committee", _("owners' committee")
    STAFF = "staff", _("community staff")
    OTHER = "other", _("other")


class Invitation(models.Model):
    """A party invited to a meeting: a resident of the community, a partner unit, or someone named (the lawyer)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(_("kind"), max_length=10, choices=PartyKind.choices)
    name = models.CharField(_("name"), max_length=100)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    partner = models.ForeignKey(PartnerUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["meeting_id", "kind", "id"]
        verbose_name = _("invitation")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="invitation_person_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "partner"], condition=Q(partner__isnull=False), name="invitation_partner_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CheckinVia(models.TextChoices):
    QR = "qr", _("scanned the QR code")
    STAFF = "staff", _("signed in by staff")


class Attendance(models.Model):
    """Someone who came: a resident (once per meeting) or a guest by name."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=PartyKind.choices, default=PartyKind.RESIDENT)
    via = models.CharField(max_length=6, choices=CheckinVia.choices)
    at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["meeting_id", "at", "id"]
        verbose_name = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="attendance_person_once"
            )
        ]

    def __str__(self) -> str:
        return self.name


class DisputeKind(models.TextChoices):
    """The three kinds SEEDS 002 counts (70 / 79 / 47)."""

    FAMILY = "family", _("family or neighbour dispute")
    COMPOUND = "compound", _("problem inside the compound")
    EXTERNAL = "external", _("external dispute (property company, units)")


class AgendaItem(TimeStamped):
    """A problem laid on the table: a work order brought to the meeting, or a new topic."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("work order")
    )
    kind = models.CharField(_("kind of dispute"), max_length=10, choices=DisputeKind.choices)
    severity = models.CharField(_("colour"), max_length=6, choices=Severity.choices)
    # set when its last open resolution is done: the problem counts as solved (SEEDS 002 "196 problems solved")
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)

    class Meta:
        ordering = ["meeting_id", "position", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        indexes = [models.Index(fields=["community", "kind", "solved_at"])]

    def __str__(self) -> str:
        return self.title


class ResolutionStatus(models.TextChoices):
    OPEN = "open", _("to do")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    DROPPED = "dropped", _("dropped")


OPEN_RESOLUTION = (ResolutionStatus.OPEN, ResolutionStatus.IN_PROGRESS)


class Resolution(TimeStamped):
    """A measure agreed at the table (决议): who carries it out by when, who chases it, how far it is."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="resolutions")
    text = models.CharField(_("what was agreed"), max_length=500)
    owner = models.CharField(_("carried out by"), max_length=100)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supervisor"),
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=12, choices=ResolutionStatus.choices, default=ResolutionStatus.OPEN
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    last_chased_at = models.DateTimeField(null=True, blank=True)
    on_echo_wall = models.BooleanField(_("shown on the echo wall"), default=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        indexes = [models.Index(fields=["community", "status", "due_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="resolution_progress_0_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(progress=100, done_at__isnull=False), name="resolution_done_is_100"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class EntryKind(models.TextChoices):
    PROGRESS = "progress", _("progress")
    CHASE = "chase", _("chased by the supervisor")
    REPLY = "reply", _("public reply")
    DONE = "done", _("done")
    REOPEN = "reopen", _("reopened")
    DUE = "due", _("due date changed")
    DROP = "drop", _("dropped")
    SUPERVISOR = "supervisor", _("supervisor named")


class ResolutionEntry(models.Model):
    """The timeline of a resolution. Public entries are what the echo wall shows."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    text = models.CharField(max_length=1000, blank=True)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    public = models.BooleanField(default=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["resolution_id", "at", "id"]
        verbose_name = _("resolution entry")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"


class Evaluation(models.Model):
    """A resident's verdict on how a resolution was carried out (评议台): once each, may be changed."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="evaluations")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evaluation")
        constraints = [
            models.UniqueConstraint(fields=["resolution", "person"], name="evaluation_once_per_person"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="evaluation_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}"


# --- owners' votes ----------------------------------------------------------------------------------------------------
class Matter(models.TextChoices):
    """The matters of Civil Code art. 278 ¶1, items 1-9. Items 6-8 need the larger majority (¶2)."""

    RULES = "rules", _("(1) make or amend the rules of procedure of the owners' assembly")
    STATUTE = "statute", _("(2) make or amend the management statute")
    COMMITTEE = "committee", _("(3) elect the owners' committee or replace its members")
    MANAGER = "manager", _("(4) hire or dismiss the property service company or another manager")
    FUND_USE = "fund_use", _("(5) use the maintenance fund of the building and its facilities")
    FUND_RAISE = "fund_raise", _("(6) raise the maintenance fund")
    REBUILD = "rebuild", _("(7) alter or rebuild the building and its facilities")
    COMMON_USE = "common_use", _("(8) change the use of common parts, or run a business in them")
    OTHER = "other", _("(9) another major matter of common ownership and management")


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("being prepared")
    OPEN = "open", _("open for ballots")
    CLOSED = "closed", _("closed, result frozen")
    CANCELLED = "cancelled", _("cancelled")


class OwnersVote(TimeStamped):
    """A matter the owners of one building or compound decide together."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    proposal = models.TextField(_("proposal"), max_length=8000)
    matter = models.CharField(_("matter (Civil Code art. 278)"), max_length=12, choices=Matter.choices)
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="votes",
        verbose_name=_("agenda item"),
    )
    status = models.CharField(_("status"), max_length=10, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    closes_at = models.DateTimeField(_("ballots close"))
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    # the roll, frozen when the vote opens
    total_area = models.DecimalField(_("total exclusive area (m²)"), max_digits=14, decimal_places=2, null=True)
    total_owners = models.PositiveIntegerField(_("owners"), null=True)
    # the result, frozen when it closes: every number of the tally, and a digest of the roll and the ballots
    result = models.JSONField(default=dict, blank=True)
    passed = models.BooleanField(_("passed"), null=True)
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("owners' vote")
        verbose_name_plural = _("owners' votes")
        constraints = [
            models.CheckConstraint(
                condition=Q(compound__isnull=True, building__isnull=False)
                | Q(compound__isnull=False, building__isnull=True),
                name="vote_one_place",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def place(self) -> Compound | Building:
        return self.building or self.compound  # type: ignore[return-value]


class RollEntry(models.Model):
    """One owner as the law counts them: every unit of one buyer together, or all of the developer's units."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    vote = models.ForeignKey(OwnersVote, on_delete=models.CASCADE, related_name="roll")
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=300)  # the rooms, e.g. "1号楼 1单元101、1单元102"
    names = models.CharField(max_length=300, blank=True)  # the owners' names as registered (masked in public)
    area = models.DecimalField(max_digits=12, decimal_places=2)
    is_developer = models.BooleanField(default=False)

    class Meta:
        ordering = ["vote_id", "position"]
        verbose_name = _("owner on the roll")
        constraints = [models.UniqueConstraint(fields=["vote", "position"], name="roll_position_unique")]

    def __str__(self) -> str:
        return self.label


class RollUnit(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(RollEntry, on_delete=models.CASCADE, related_name="units")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    area = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "household"], name="roll_unit_once")]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.area}"


class RollOwner(models.Model):
    """A person who may cast the ballot of a roll entry (any registered owner of its units)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(RollEntry, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "person"], name="roll_owner_once")]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.person_id}"


class Choice(models.TextChoices):
    AGREE = "agree", _("agree")
    DISAGREE = "disagree", _("disagree")
    ABSTAIN = "abstain", _("abstain")


class BallotChannel(models.TextChoices):
    PHONE = "phone", _("cast on the phone")
    PAPER = "paper", _("paper ballot recorded by staff")
    MEETING = "meeting", _("show of hands at a meeting, recorded by staff")


class Ballot(models.Model):
    """One roll entry's ballot. A wrong record is voided (with a reason) and recorded again, never edited."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    vote = models.ForeignKey(OwnersVote, on_delete=models.CASCADE, related_name="ballots")
    entry = models.ForeignKey(RollEntry, on_delete=models.PROTECT, related_name="ballots")
    choice = models.CharField(_("choice"), max_length=8, choices=Choice.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=BallotChannel.choices)
    cast_by = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["vote_id", "at", "id"]
        verbose_name = _("ballot")
        constraints = [
            models.UniqueConstraint(fields=["entry"], condition=Q(voided_at__isnull=True), name="ballot_once_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.choice}"
