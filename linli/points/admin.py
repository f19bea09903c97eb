"""Read-only admin views of the earning tables (every change goes through linli.points.services)."""

from django.contrib import admin

from linli.common.admin import ReadOnlyAdmin
from linli.points import models


@admin.register(models.RuleArea, models.Rule, models.RuleVersion, models.ActivitySeries, models.Activity)
class CatalogueAdmin(ReadOnlyAdmin):
    list_filter = ("community",)


@admin.register(models.Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ("id", "community", "person", "rule", "points", "status", "source", "occurred_on")
    list_filter = ("status", "source", "community")
    exclude = ("photo",)


@admin.register(models.Donation, models.Certificate)
class RecordAdmin(ReadOnlyAdmin):
    list_filter = ("community",)
