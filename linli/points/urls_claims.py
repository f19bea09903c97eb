"""Claim pages: check-in and my claims (residents), recording for someone, the verification and approval queues,
the community's claims list and its Excel export, one claim, its photo and its actions."""

from django.urls import URLPattern, path

from linli.points import views_claims as v

urlpatterns: list[URLPattern] = [
    path("checkin/", v.checkin, name="checkin"),
    path("claims/mine/", v.my_claims, name="my_claims"),
    path("claims/record/", v.record, name="record"),
    path("claims/verify/", v.verify_queue, name="verify_queue"),
    path("claims/verify/bulk/", v.verify_bulk, name="verify_bulk"),
    path("claims/approve/", v.approve_queue, name="approve_queue"),
    path("claims/approve/bulk/", v.approve_bulk, name="approve_bulk"),
    path("claims/", v.claims_list, name="claims"),
    path("claims/export.xlsx", v.claims_xlsx, name="claims_xlsx"),
    path("claims/<int:pk>/", v.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/photo/", v.claim_photo, name="claim_photo"),
    path("claims/<int:pk>/resubmit/", v.claim_resubmit, name="claim_resubmit"),
    path("claims/<int:pk>/withdraw/", v.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:pk>/verify/", v.claim_verify, name="claim_verify"),
    path("claims/<int:pk>/approve/", v.claim_approve, name="claim_approve"),
    path("claims/<int:pk>/reject/", v.claim_reject, name="claim_reject"),
]
