"""Dashboards under /reports/: what the actor may open, a community, a grid, the street's roll-up (and its .xlsx)."""

from django.urls import URLPattern, path

from linli.reports import views_dashboards as v

urlpatterns: list[URLPattern] = [
    path("", v.home, name="home"),
    path("community/<int:pk>/", v.community, name="community"),
    path("grid/<int:pk>/", v.grid, name="grid"),
    path("street/<int:pk>/", v.street, name="street"),
    path("street/<int:pk>/rollup.xlsx", v.street_xlsx, name="street_xlsx"),
]
