"""Reports read every other app and write only two things of their own (DESIGN.md › reports/, decision 0015):

- `CommunityMonth`: the figures of one closed month of one community, computed once after the month ended, so that
  dashboards and the street roll-up read 12 small rows per community instead of millions of transfers. The current
  month is always computed live and never stored.
- `Disclosure`: the monthly disclosure (每月公示) as it was published — the figures frozen, the ledger seal it prints,
  who published it and when. What was pinned on the notice board must read the same a year later; a correction is a
  new revision with a reason, and the earlier one stays readable, marked as replaced.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.ledger.models import Seal
from linli.org.models import Community


class CommunityMonth(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month
    figures = models.JSONField()  # reports.domain.MonthFigures.as_dict()
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("month's figures")
        constraints = [models.UniqueConstraint(fields=["community", "month"], name="one_summary_per_month")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m}"


class Disclosure(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # the first day of the month
    revision = models.PositiveSmallIntegerField(default=1)
    figures = models.JSONField()  # frozen at publication
    digest = models.CharField(max_length=64)  # SHA-256 of the canonical figures: printed small on the notice
    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)  # a later revision took its place
    idempotency_key = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("monthly disclosure")
        ordering = ["-month", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["community", "month", "revision"], name="disclosure_revision_once"),
            models.UniqueConstraint(
                fields=["community", "month"], condition=Q(replaced_at__isnull=True), name="one_current_disclosure"
            ),
            models.UniqueConstraint(fields=["community", "idempotency_key"], name="disclosure_key_once"),
            models.CheckConstraint(condition=Q(revision=1) | ~Q(reason=""), name="disclosure_correction_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} r{self.revision}"
