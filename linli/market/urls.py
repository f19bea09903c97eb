"""Points-market pages under /market/, namespace "market". Each part has its own module so they grow independently."""

from django.urls import include, path

from linli.market import views_common

app_name = "market"

urlpatterns = [
    path("products/<int:pk>/photo", views_common.product_photo, name="product_photo"),
    path("", include("linli.market.urls_resident")),  # the catalogue on a phone, reserving, my redemptions and vouchers
    path("", include("linli.market.urls_merchant")),  # the merchant's voucher screen (核销) and its settlement
    path("", include("linli.market.urls_counter")),  # the staff counter: scan, basket, receipt, pick-up, returns
    path("", include("linli.market.urls_stock")),  # products, receipts, adjustments, movements, stocktake, settings
    path("", include("linli.market.urls_reports")),  # redemptions by item and month, stock value, settlements, export
]
