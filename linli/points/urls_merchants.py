"""Caring merchants earning points through the earning rules (issue 5 item 5): the staff page."""

from django.urls import URLPattern, path

from linli.points import views_merchants as v

urlpatterns: list[URLPattern] = [
    path("merchants/services/", v.merchant_services, name="merchant_services"),
]
