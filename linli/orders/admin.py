"""Read-only admin views of the work-order tables (every change goes through linli.orders.services)."""

from django.contrib import admin

from linli.common.admin import ReadOnlyAdmin
from linli.orders import models


@admin.register(models.Category, models.Open311Client)
class CatalogueAdmin(ReadOnlyAdmin):
    list_filter = ("community",)


@admin.register(models.Holiday)
class HolidayAdmin(ReadOnlyAdmin):
    list_display = ("day", "name", "is_workday", "street")
    list_filter = ("street",)


@admin.register(models.WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "community", "title", "category", "status", "severity", "received_at", "due_at")
    list_filter = ("status", "severity", "channel", "community")
    search_fields = ("number", "title")


@admin.register(models.OrderEvent, models.Assignment)
class TimelineAdmin(ReadOnlyAdmin):
    list_filter = ("community",)
