"""Staff: the monthly disclosures of a community (/reports/disclosures/) and publishing or correcting one."""

from django.urls import URLPattern, path

from linli.reports import views_disclosures as v

urlpatterns: list[URLPattern] = [
    path("disclosures/", v.disclosures, name="disclosures"),
    path("disclosures/publish/", v.disclosure_publish, name="disclosure_publish"),
]
