"""Staff ledger pages under /ledger/staff/ (namespace "ledger")."""

from django.urls import URLPattern, path

from linli.ledger import views_staff as v

urlpatterns: list[URLPattern] = [
    path("staff/", v.staff_home, name="staff_home"),
    path("staff/award/", v.award, name="award"),
    path("staff/transfers/<int:pk>/", v.transfer_detail, name="transfer_detail"),
    path("staff/transfers/<int:pk>/reverse/", v.reverse_transfer, name="reverse"),
    path("staff/adjust/", v.adjust, name="adjust"),
    path("staff/adjustments/<int:pk>/approve/", v.adjustment_approve, name="adjustment_approve"),
    path("staff/adjustments/<int:pk>/reject/", v.adjustment_reject, name="adjustment_reject"),
    path("staff/policy/", v.policy, name="policy"),
]
