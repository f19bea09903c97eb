"""Open311 GeoReport v2 under /open311/v2/ (namespace "open311"): resource.{json|xml}, as the spec names them.

An unknown extension reaches the view and is answered with a 404 in the spec's error format."""

from django.urls import URLPattern, re_path

from linli.orders import open311

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,8})$"

urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/.]{1,60})" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/.]{1,40})" + FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/.]{1,64})" + FMT, open311.token, name="token"),
]
