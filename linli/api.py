"""The JSON API (django-ninja) mounted at /api/v1/. Each app adds its router here."""

from ninja import NinjaAPI

api = NinjaAPI(title="linli API", version="1", urls_namespace="api")
