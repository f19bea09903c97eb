"""Report pages: staff and grid dashboards under /reports/, the public monthly disclosure under /disclosure/.
Namespace "reports"; each part has its own module."""

from django.urls import include, path

app_name = "reports"

urlpatterns = [
    path("reports/", include("linli.reports.urls_disclosures")),  # staff: the months, publish, correct, downloads
    path("reports/", include("linli.reports.urls_dashboards")),  # community, grid and street dashboards
    path("disclosure/", include("linli.reports.urls_public")),  # anyone: the published notices, PDF, xlsx
]
