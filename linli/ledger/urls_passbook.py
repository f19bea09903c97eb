"""Passbooks, the printable passbook and QR points cards (namespace "ledger", mounted under /ledger/)."""

from django.urls import URLPattern, path

from linli.ledger import views_passbook as views

urlpatterns: list[URLPattern] = [
    path("passbook/", views.my_passbook, name="my_passbook"),
    path("passbook/pdf/", views.my_passbook_pdf, name="my_passbook_pdf"),
    path("card/", views.my_card, name="my_card"),
    path("people/<int:pk>/passbook/", views.passbook, name="passbook"),
    path("people/<int:pk>/passbook/pdf/", views.passbook_pdf, name="passbook_pdf"),
    path("people/<int:pk>/card/", views.card, name="card"),
    path("people/<int:pk>/card/reissue/", views.card_reissue, name="card_reissue"),
    path("people/<int:pk>/card/revoke/", views.card_revoke, name="card_revoke"),
]
