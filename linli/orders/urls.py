"""Work-order pages under /orders/, namespace "orders". Each part has its own module so they grow independently."""

from django.urls import include, path

app_name = "orders"

urlpatterns = [
    path("", include("linli.orders.urls_resident")),  # filing from a building QR, my requests, rating; handlers' tasks
    path("", include("linli.orders.urls_staff")),  # the dispatch board, an order's triage, intake, escalations
    path("", include("linli.orders.urls_reports")),  # figures, export, 12345 import, catalogue, holidays
    path("", include("linli.orders.urls_open311_clients")),  # the Open311 clients' keys (the API: urls_open311)
]
