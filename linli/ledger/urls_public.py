from django.urls import URLPattern, path

from linli.ledger import views_public

urlpatterns: list[URLPattern] = [
    path("proof/", views_public.proof, name="proof"),  # public: no login
]
