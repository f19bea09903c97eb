"""Council pages: meetings."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
