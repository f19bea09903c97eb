"""Donations, certificates and volunteer records under /points/ (namespace "points")."""

from django.urls import URLPattern, path

from linli.points import views_records as v

urlpatterns: list[URLPattern] = [
    path("donations/", v.donation_list, name="donations"),
    path("donations/new/", v.donation_new, name="donation_new"),
    path("donations/queue/", v.donation_queue, name="donation_queue"),
    path("donations/queue/send/", v.donation_queue_send, name="donation_queue_send"),
    path("donations/<int:pk>/", v.donation_detail, name="donation_detail"),
    path("donations/<int:pk>/assess/", v.donation_assess, name="donation_assess"),
    path("donations/<int:pk>/decline/", v.donation_decline, name="donation_decline"),
    path("certificates/", v.certificate_list, name="certificates"),
    path("certificates/issue/", v.certificate_issue, name="certificate_issue"),
    path("certificates/<int:pk>/", v.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/pdf/", v.certificate_pdf, name="certificate_pdf"),
    path("certificates/<int:pk>/revoke/", v.certificate_revoke, name="certificate_revoke"),
    path("cert/<str:code>/", v.certificate_public, name="certificate_public"),  # public: the QR code's page
    path("volunteer/", v.my_volunteer_record, name="my_volunteer_record"),
    path("volunteer/<int:pk>/", v.volunteer_record, name="volunteer_record"),
]
