"""Ledger pages under /ledger/, namespace "ledger". Each part has its own module so they grow independently."""

from django.urls import include, path

app_name = "ledger"

urlpatterns = [
    path("", include("linli.ledger.urls_public")),  # the public seal-proof page
    path("", include("linli.ledger.urls_passbook")),  # passbooks, printable passbook, points cards
    path("", include("linli.ledger.urls_staff")),  # posting, reversal, adjustments, seals for staff
]
