from django.contrib import admin
from django.urls import include, path

from linli.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("org/roster/", include(("linli.org.roster_urls", "roster"))),
    path("ledger/", include("linli.ledger.urls")),
    path("points/", include("linli.points.urls")),
    path("orders/", include("linli.orders.urls")),
    path("market/", include("linli.market.urls")),
    path("council/", include("linli.council.urls")),
    path("open311/v2/", include("linli.orders.urls_open311")),
    path("", include("linli.reports.urls")),
    path("", include("linli.org.urls")),
]
