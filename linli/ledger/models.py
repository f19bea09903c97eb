"""The points ledger: accounts and immutable double-entry transfers, per community (DESIGN.md › The ledger).

Invariants, each enforced where it cannot be bypassed:
- amount > 0 and debit != credit: CHECK constraints.
- constrained accounts (everything but issuance) never go negative: CHECK on `balance`, changed only by the conditional
  UPDATE in services.
- transfers are never updated or deleted: triggers (migration 0002) on SQLite and PostgreSQL.
- one idempotency key per community; a transfer is reversed at most once: unique constraints.
- a transfer's accounts are of its community: composite foreign keys (PostgreSQL), a trigger (SQLite); migration 0006.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.org.models import Community, Merchant, Person, Team


class AccountKind(models.TextChoices):
    PERSON = "person", _("person")
    MERCHANT = "merchant", _("merchant")
    TEAM = "team", _("team")
    SYSTEM = "system", _("system")


class SystemAccount(models.TextChoices):
    ISSUANCE = "issuance", _("issuance")
    MARKET = "market", _("points market")
    VOUCHERS = "vouchers", _("vouchers")
    DONATIONS = "donations", _("donations")
    EXPIRY = "expiry", _("expiry")


class Account(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="ledger_accounts")
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    person = models.OneToOneField(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="account")
    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="account")
    team = models.OneToOneField(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="account")
    system_code = models.CharField(max_length=12, choices=SystemAccount.choices, blank=True, default="")
    # False only for issuance: its balance is derived (see selectors.balance), never updated per transfer.
    constrained = models.BooleanField(default=True)
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        constraints = [
            models.CheckConstraint(condition=Q(constrained=False) | Q(balance__gte=0), name="account_not_negative"),
            models.UniqueConstraint(
                fields=["community", "system_code"], condition=~Q(system_code=""), name="one_system_account_each"
            ),
            # what a transfer's composite foreign keys point at: the account, of that community (migration 0006)
            models.UniqueConstraint(fields=["id", "community"], name="account_id_community"),
            models.CheckConstraint(
                condition=(
                    Q(kind="person", person__isnull=False, merchant__isnull=True, team__isnull=True, system_code="")
                    | Q(kind="merchant", person__isnull=True, merchant__isnull=False, team__isnull=True, system_code="")
                    | Q(kind="team", person__isnull=True, merchant__isnull=True, team__isnull=False, system_code="")
                    | (
                        Q(kind="system", person__isnull=True, merchant__isnull=True, team__isnull=True)
                        & ~Q(system_code="")
                    )
                ),
                name="account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.person or self.merchant or self.team
        return str(owner) if owner else self.get_system_code_display()


class TransferKind(models.TextChoices):
    AWARD = "award", _("award")
    REDEMPTION = "redemption", _("redemption")
    REFUND = "refund", _("refund")
    REVERSAL = "reversal", _("reversal")
    ADJUSTMENT = "adjustment", _("adjustment")
    EXPIRY = "expiry", _("expiry")
    GIFT = "gift", _("gift")


class Transfer(models.Model):
    """`amount` points move from `debit` to `credit`. Written once, never changed."""

    # No single-column indexes on these three: the composite indexes below start with each of them and serve the
    # same lookups, and every index is one more write per posting (docs/performance.md › ledger indexes).
    # Their foreign keys are not Django's single-column ones (db_constraint=False) but migration 0006's: on PostgreSQL
    # (debit_id, community_id) and (credit_id, community_id) → ledger_account (id, community_id); on SQLite the
    # table's own single keys plus a trigger. Either way an account of another community is refused.
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    debit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="debits", db_index=False, db_constraint=False
    )
    credit = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credits", db_index=False, db_constraint=False
    )
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=TransferKind.choices)
    memo = models.CharField(max_length=200, blank=True)
    # what caused it: ("claim", 12), ("redemption", 7), ("adjustment", 3) ...
    ref_type = models.CharField(max_length=40, blank=True)
    ref_id = models.BigIntegerField(null=True, blank=True)
    # at most one reversal per transfer: a unique index over the few transfers that reverse one (below), not over every
    # transfer's NULL, which every posting would have to write at the same end of the index
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    # balances right after this transfer, for constrained accounts: the passbook's running balance without a scan
    debit_balance_after = models.BigIntegerField(null=True, blank=True)
    credit_balance_after = models.BigIntegerField(null=True, blank=True)
    row_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("transfer")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=models.F("credit")), name="transfer_two_accounts"),
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="transfer_idempotency_key_unique"),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="transfer_reversed_once"
            ),
        ]
        indexes = [
            models.Index(fields=["debit", "-id"], name="transfer_debit_desc"),
            models.Index(fields=["credit", "-id"], name="transfer_credit_desc"),
            models.Index(fields=["community", "created_at"], name="transfer_community_time"),
            # by cause ("claim", 12): only transfers that have one (a lookup by cause always names one)
            models.Index(fields=["ref_type", "ref_id"], name="transfer_ref_set", condition=Q(ref_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} {self.debit_id}→{self.credit_id}"

    @property
    def reference(self) -> str:
        """What a passbook prints, and what anyone can type into the public proof page."""
        return f"{self.pk}-{self.row_hash[:8]}"


class AccountRollup(models.Model):
    """Balance of an unconstrained account (issuance) up to a transfer id, refreshed when a month is sealed, so its
    balance is the rollup plus a short indexed SUM instead of a scan of all history."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="rollup")
    upto_transfer_id = models.BigIntegerField(default=0)
    balance = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.account} ≤#{self.upto_transfer_id}: {self.balance}"


class Seal(models.Model):
    """A closed month: the Merkle root over its transfers' row hashes in id order, printed on the notice board."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="ledger_seals")
    month = models.CharField(max_length=7)  # YYYY-MM
    first_transfer_id = models.BigIntegerField(null=True)
    last_transfer_id = models.BigIntegerField(null=True)
    transfer_count = models.PositiveIntegerField()
    merkle_root = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(auto_now_add=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("ledger seal")
        constraints = [models.UniqueConstraint(fields=["community", "month"], name="one_seal_per_month")]

    def __str__(self) -> str:
        return f"{self.community} {self.month} {self.merkle_root[:12]}"


class LedgerPolicy(models.Model):
    """Per-community ledger settings; a community without a row uses the defaults."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="ledger_policy")
    # adjustments of more than this many points (either sign) need a second staff member's approval
    adjustment_approval_threshold = models.PositiveIntegerField(_("approval needed above (points)"), default=50)
    expiry_enabled = models.BooleanField(_("points expire"), default=False)
    # points earned in year Y expire at the end of year Y + expiry_years (oldest first)
    expiry_years = models.PositiveSmallIntegerField(_("years points stay valid after the year earned"), default=1)

    class Meta:
        verbose_name = _("ledger policy")

    def __str__(self) -> str:
        return f"{self.community} policy"


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("waiting for approval")
    POSTED = "posted", _("posted")
    REJECTED = "rejected", _("rejected")


class Adjustment(models.Model):
    """A manual correction of a person's points, with a mandatory reason; large ones need a second staff member."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.BigIntegerField(help_text=_("positive adds points, negative takes them away"))
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustment"
    )
    idempotency_key = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("adjustment")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_not_zero"),
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="adjustment_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.account} ({self.status})"


class PointsCard(models.Model):
    """A QR points card (积分卡): identifies a person at the market counter without their phone number.
    The QR holds only a random token; revoking a lost card and issuing a new one changes the token."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="points_cards")
    token = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("points card")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(revoked_at__isnull=True), name="one_live_card_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} card {self.token[:6]}…"
