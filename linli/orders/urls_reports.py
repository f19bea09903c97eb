"""Figures (community and street), the .xlsx export, the 12345 import, the service catalogue, the holiday calendar."""

from django.urls import URLPattern, path

from linli.orders import views_reports as v

urlpatterns: list[URLPattern] = [
    path("stats/", v.stats, name="stats"),
    path("stats/street/", v.stats_street, name="stats_street"),
    path("export.xlsx", v.export_xlsx, name="export"),
    path("import/", v.import_12345, name="import"),
    path("import/example.xlsx", v.import_example, name="import_example"),
    path("categories/", v.categories, name="categories"),
    path("categories/install/", v.categories_install, name="categories_install"),
    path("categories/new/", v.category_new, name="category_new"),
    path("categories/<int:pk>/", v.category_edit, name="category_edit"),
    path("holidays/", v.holidays, name="holidays"),
    path("holidays/<int:pk>/remove/", v.holiday_remove, name="holiday_remove"),
]
