from django.urls import URLPattern, path

from linli.org import roster_views

urlpatterns: list[URLPattern] = [
    path("", roster_views.index, name="index"),
    path("template.xlsx", roster_views.template_xlsx, name="template_xlsx"),
    path("template.csv", roster_views.template_csv, name="template_csv"),
    path("export.xlsx", roster_views.export, name="export"),
]
