"""The caring merchant's voucher screen (核销) on a phone."""

from django.urls import URLPattern, path

from linli.market import views_merchant as v

urlpatterns: list[URLPattern] = [
    path("vouchers/desk/", v.voucher_desk, name="voucher_desk"),
    path("vouchers/<int:pk>/use/", v.voucher_use, name="voucher_use"),
]
