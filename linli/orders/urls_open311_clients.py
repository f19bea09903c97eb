"""The staff page for Open311 clients' keys, under /orders/ (namespace "orders"); the API itself is urls_open311."""

from django.urls import URLPattern, path

from linli.orders import open311

urlpatterns: list[URLPattern] = [
    path("open311/clients/", open311.clients, name="open311_clients"),
    path("open311/clients/<int:pk>/revoke/", open311.client_revoke, name="open311_client_revoke"),
]
