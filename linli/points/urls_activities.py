"""Activity pages (namespace "points", under /points/): residents' list and detail, sign-up, QR scan; staff list,
create, edit, cancel, recurring series; the organiser's console, attendance, QR poster and closing."""

from django.urls import URLPattern, path

from linli.points import views_activities as v

urlpatterns: list[URLPattern] = [
    path("activities/", v.activity_list, name="activities"),
    path("activities/<int:pk>/", v.activity_detail, name="activity"),
    path("activities/<int:pk>/signup/", v.activity_signup, name="activity_signup"),
    path("activities/<int:pk>/signup/cancel/", v.activity_signup_cancel, name="activity_signup_cancel"),
    path("activities/<int:pk>/scan/<str:kind>/", v.activity_scan, name="activity_scan"),
    path("staff/activities/", v.activity_staff, name="activity_staff"),
    path("staff/activities/new/", v.activity_create, name="activity_create"),
    path("staff/activities/<int:pk>/edit/", v.activity_edit, name="activity_edit"),
    path("staff/activities/<int:pk>/cancel/", v.activity_cancel, name="activity_cancel"),
    path("staff/activities/series/new/", v.activity_series_create, name="activity_series_create"),
    path("staff/activities/series/<int:pk>/", v.activity_series, name="activity_series"),
    path("staff/activities/series/<int:pk>/extend/", v.activity_series_extend, name="activity_series_extend"),
    path("staff/activities/series/<int:pk>/end/", v.activity_series_end, name="activity_series_end"),
    path("activities/<int:pk>/console/", v.activity_console, name="activity_console"),
    path("activities/<int:pk>/attendance/", v.activity_mark, name="activity_mark"),
    path("activities/<int:pk>/poster/", v.activity_poster, name="activity_poster"),
    path("activities/<int:pk>/poster/new-codes/", v.activity_new_codes, name="activity_new_codes"),
    path("activities/<int:pk>/close/", v.activity_close, name="activity_close"),
]
