"""Council pages: resolutions."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
