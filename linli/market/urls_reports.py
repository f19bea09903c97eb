"""The market's figures (redemptions by item and month, top items, stock value, the ledger view), the merchants'
settlements, and their .xlsx downloads."""

from django.urls import URLPattern, path

from linli.market import views_reports as v

urlpatterns: list[URLPattern] = [
    path("reports/", v.market_reports, name="reports"),
    path("reports/export.xlsx", v.reports_export, name="reports_export"),
    path("settlement/", v.settlement, name="settlement"),
    path("settlement/export.xlsx", v.settlement_export, name="settlement_export"),
]
