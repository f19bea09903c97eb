"""Council pages: meetings (series, planning, the meeting page and its forms, QR check-in, printable minutes)."""

from django.urls import URLPattern, path

from linli.council import views_meetings as v

urlpatterns: list[URLPattern] = [
    path("meetings/", v.meetings, name="meetings"),
    path("meetings/series/", v.series, name="series"),
    path("meetings/new/", v.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", v.meeting, name="meeting"),
    path("meetings/<int:pk>/edit/", v.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/invite/", v.meeting_invite, name="meeting_invite"),
    path("meetings/<int:pk>/attendance/", v.attendance_add, name="attendance_add"),
    path("meetings/<int:pk>/agenda/", v.agenda_add, name="agenda_add"),
    path("meetings/<int:pk>/hold/", v.meeting_hold, name="meeting_hold"),
    path("meetings/<int:pk>/minutes/", v.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/close/", v.meeting_close, name="meeting_close"),
    path("meetings/<int:pk>/cancel/", v.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/qr/", v.meeting_qr, name="meeting_qr"),
    path("meetings/<int:pk>/print/", v.meeting_print, name="meeting_print"),
    path("invitations/<int:pk>/remove/", v.invitation_remove, name="invitation_remove"),
    path("attendance/<int:pk>/remove/", v.attendance_remove, name="attendance_remove"),
    path("agenda/<int:pk>/edit/", v.agenda_edit, name="agenda_edit"),
    path("agenda/<int:pk>/resolutions/new/", v.resolution_new, name="resolution_new"),
    path("checkin/<str:code>/", v.checkin, name="checkin"),
]
