"""Earning pages under /points/, namespace "points". Each part has its own module so they grow independently."""

from django.urls import include, path

app_name = "points"

urlpatterns = [
    path("", include("linli.points.urls_claims")),  # check-in, my claims, verification and approval queues
    path("", include("linli.points.urls_rules")),  # the rules catalogue: editor, import/export, public page
    path("", include("linli.points.urls_activities")),  # activities, sign-up, QR check-in/out, attendance
    path("", include("linli.points.urls_records")),  # donations, certificates, leaderboards
    path("", include("linli.points.urls_merchants")),  # caring merchants' service points (staff)
]
