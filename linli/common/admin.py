"""The Django admin is a read-only window for the platform operator: every change goes through services and pages,
which check scope and write audit records; the admin does neither, so it may not write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from linli.common.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "object_type", "object_id", "actor", "community_id")
    list_filter = ("action", "object_type")
    search_fields = ("action", "object_type")
