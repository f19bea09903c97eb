"""The published monthly disclosure, for anyone: /disclosure/<community code>/[<YYYY-MM>/[notice.pdf|figures.xlsx]]."""

from django.urls import URLPattern, path

from linli.reports import views_public as v

urlpatterns: list[URLPattern] = [
    path("<slug:code>/", v.public_list, name="public_list"),
    path("<slug:code>/<str:month>/", v.public_notice, name="public_notice"),
    path("<slug:code>/<str:month>/notice.pdf", v.public_pdf, name="public_pdf"),
    path("<slug:code>/<str:month>/figures.xlsx", v.public_xlsx, name="public_xlsx"),
]
