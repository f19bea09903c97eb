from django.contrib import admin

from linli.common.admin import ReadOnlyAdmin
from linli.org import models


@admin.register(models.Street, models.Community, models.Grid, models.Compound, models.Building)
class PlaceAdmin(ReadOnlyAdmin):
    search_fields = ("name",)


@admin.register(models.Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("address", "building", "floor_area")
    search_fields = ("address",)


@admin.register(models.Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("name", "community", "birth_year", "is_active")
    search_fields = ("name",)
    exclude = ("phone",)  # the admin is no way around phone masking


@admin.register(models.User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("name", "is_active", "date_joined")
    exclude = ("password",)


@admin.register(models.RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "street", "community", "grid", "building", "merchant")
    list_filter = ("role",)


@admin.register(models.Team, models.Merchant, models.PartnerUnit, models.ApiToken)
class DirectoryAdmin(ReadOnlyAdmin):
    pass
