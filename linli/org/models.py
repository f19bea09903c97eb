"""The organisation everything hangs on: street -> community -> grid -> compound/building -> household -> person.

Every business table carries `community_id` (the tenant key, see DESIGN.md › Scale), including the ones whose
community could be reached through a parent: it keeps every query and every future shard single-community.
Writes go through `linli.org.services`; reads through `linli.org.selectors`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.common.models import TimeStamped


class Street(TimeStamped):
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(TimeStamped):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street"))
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    address = models.CharField(_("office address"), max_length=200, blank=True)
    phone = models.CharField(_("office phone"), max_length=20, blank=True)
    area_km2 = models.DecimalField(_("area (km²)"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_name_unique_in_street")]

    def __str__(self) -> str:
        return self.name


class Grid(TimeStamped):
    """A grid (网格); `parent` makes it a micro-grid (微网格) inside a larger grid of the same community."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent grid")
    )
    name = models.CharField(_("name"), max_length=100)
    number = models.PositiveIntegerField(_("number"), default=1)

    class Meta:
        ordering = ["community_id", "number", "name"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


class Compound(TimeStamped):
    """A residential compound (小区/院落)."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="compounds", verbose_name=_("grid")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    property_company = models.CharField(_("property company"), max_length=100, blank=True)

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="compound_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


class Building(TimeStamped):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("community")
    )
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("grid"))
    compound = models.ForeignKey(
        Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="buildings", verbose_name=_("compound")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 3号楼"))
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    class Meta:
        ordering = ["community_id", "compound_id", "name"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(fields=["community", "compound", "name"], name="building_name_unique_in_compound")
        ]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.name}" if self.compound is not None else self.name


class Household(TimeStamped):
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="households", verbose_name=_("community")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("building")
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, help_text=_("e.g. 2单元"))
    room = models.CharField(_("room"), max_length=20, help_text=_("e.g. 502"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    floor_area = models.DecimalField(
        _("exclusive floor area (m²)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("needed for owners' votes"),
    )
    # Unsold or not yet handed over: still the developer's. In an owners' vote all such units count as one owner
    # (SPC interpretation on building ownership, art. 9).
    developer_held = models.BooleanField(
        _("still the developer's"), default=False, help_text=_("unsold, or sold but not yet handed over")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["building_id", "unit", "room"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="household_room_unique_in_building"),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gt=0), name="household_floor_area_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.address or f"{self.building} {self.unit}{self.room}"


class Tag(models.TextChoices):
    PARTY_MEMBER = "party_member", _("party member")
    VETERAN = "veteran", _("veteran")
    ELDER_ALONE = "elder_alone", _("elder living alone")
    DISABLED = "disabled", _("disabled")
    LOW_INCOME = "low_income", _("low income")
    NEW_ECONOMY = "new_economy", _("new-economy worker")


class Gender(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")
    UNKNOWN = "", _("not given")


class Person(TimeStamped):
    """A resident. May have no phone and no login: staff then act for them."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="people", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default="")
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    # Stored as ",veteran,elder_alone," so that `tags__contains=",veteran,"` filters the same on SQLite and PostgreSQL.
    tags = models.CharField(_("tags"), max_length=200, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("off when the person moved away or died"))
    user = models.OneToOneField(
        "User", on_delete=models.SET_NULL, null=True, blank=True, related_name="person", verbose_name=_("login")
    )

    class Meta:
        ordering = ["community_id", "name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["community", "name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "phone"], condition=~Q(phone=""), name="person_phone_unique_in_community"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    def tag_labels(self) -> list[str]:
        labels = dict(Tag.choices)
        return [str(labels[t]) for t in self.tag_list if t in labels]


def encode_tags(tags: list[str] | tuple[str, ...] | set[str]) -> str:
    ordered = [t for t in Tag.values if t in set(tags)]
    return f",{','.join(ordered)}," if ordered else ""


class Relation(models.TextChoices):
    HEAD = "head", _("head of household")
    SPOUSE = "spouse", _("spouse")
    CHILD = "child", _("child")
    PARENT = "parent", _("parent")
    RELATIVE = "relative", _("other relative")
    TENANT = "tenant", _("tenant")
    OTHER = "other", _("other")


class HouseholdMember(models.Model):
    """A person's place in a household; `is_owner` marks the owners who vote (Civil Code art. 278)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices, default=Relation.OTHER)
    is_owner = models.BooleanField(_("owner"), default=False)

    class Meta:
        verbose_name = _("household member")
        constraints = [models.UniqueConstraint(fields=["household", "person"], name="member_once_per_household")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.household}"


class DutyRole(models.TextChoices):
    """The five armbands (五员) of SEEDS.md 001."""

    PATROLLER = "patroller", _("environmental patroller")
    HAZARD_INSPECTOR = "hazard_inspector", _("safety-hazard inspector")
    MEDIATOR = "mediator", _("dispute mediator")
    ORDER_KEEPER = "order_keeper", _("building guard / order keeper")
    SPECIAL_GROUPS_HELPER = "special_groups_helper", _("helper of special groups")


class Team(TimeStamped):
    """A volunteer team: 帮帮团, 银发互助队, 红领之家 ..."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="teams", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("leader")
    )

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="team_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="team_memberships")
    duty_role = models.CharField(_("duty role"), max_length=30, choices=DutyRole.choices, blank=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)

    class Meta:
        verbose_name = _("team member")
        constraints = [models.UniqueConstraint(fields=["team", "person"], name="team_member_once")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.team}"


class Merchant(TimeStamped):
    """A caring merchant (爱心商户) of the alliance."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="merchants", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    offer = models.CharField(_("what they offer"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("caring merchant")
        verbose_name_plural = _("caring merchants")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="merchant_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


class PartnerUnit(TimeStamped):
    """A partner unit (共建单位): a company, school or agency with a co-building agreement."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="partners", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=50, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    agreement_signed_on = models.DateField(_("agreement signed on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["community_id", "name"]
        verbose_name = _("partner unit")
        verbose_name_plural = _("partner units")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="partner_name_unique_in_community")]

    def __str__(self) -> str:
        return self.name


# --- sign-in and roles -----------------------------------------------------------------------------------------------
class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login: a mobile number and a password. What it may do comes from its RoleAssignments."""

    phone = models.CharField(_("mobile number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the Django admin"), default=False)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("street administrator")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    GRID_CHIEF = "grid_chief", _("grid chief")
    GRID_WORKER = "grid_worker", _("grid worker")
    BUILDING_STEWARD = "building_steward", _("building steward")
    MERCHANT_OPERATOR = "merchant_operator", _("merchant operator")
    AUDITOR = "auditor", _("auditor")
    RESIDENT = "resident", _("resident")


# Which scope column each role is held in.
ROLE_SCOPE: dict[str, str] = {
    Role.STREET_ADMIN: "street",
    Role.COMMUNITY_STAFF: "community",
    Role.AUDITOR: "community",
    Role.GRID_CHIEF: "grid",
    Role.GRID_WORKER: "grid",
    Role.BUILDING_STEWARD: "building",
    Role.MERCHANT_OPERATOR: "merchant",
}


class RoleAssignment(TimeStamped):
    """A role held within exactly one scope. Residents need none: their login's Person is their scope."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=[c for c in Role.choices if c[0] != Role.RESIDENT])
    street = models.ForeignKey(Street, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, null=True, blank=True, related_name="role_holders")
    building = models.ForeignKey(Building, on_delete=models.CASCADE, null=True, blank=True, related_name="role_holders")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, null=True, blank=True, related_name="role_holders")

    class Meta:
        verbose_name = _("role assignment")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "street", "community", "grid", "building", "merchant"],
                name="role_assignment_unique",
            ),
            # exactly one scope column is set
            models.CheckConstraint(
                condition=(
                    Q(
                        street__isnull=False,
                        community__isnull=True,
                        grid__isnull=True,
                        building__isnull=True,
                        merchant__isnull=True,
                    )
                    | Q(
                        street__isnull=True,
                        community__isnull=False,
                        grid__isnull=True,
                        building__isnull=True,
                        merchant__isnull=True,
                    )
                    | Q(
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=False,
                        building__isnull=True,
                        merchant__isnull=True,
                    )
                    | Q(
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=True,
                        building__isnull=False,
                        merchant__isnull=True,
                    )
                    | Q(
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=True,
                        building__isnull=True,
                        merchant__isnull=False,
                    )
                ),
                name="role_assignment_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} @ {self.scope_object}"

    @property
    def scope_object(self) -> models.Model | None:
        return self.street or self.community or self.grid or self.building or self.merchant


class ApiToken(TimeStamped):
    """A bearer token for an API client. Only its SHA-256 is stored; the key is shown once when issued."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
