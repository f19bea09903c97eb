"""Council pages: resolutions — the board and its export, one resolution and its actions, the public echo wall, the
residents' evaluation desk and the figures."""

from django.urls import URLPattern, path

from linli.council import views_resolutions as v

urlpatterns: list[URLPattern] = [
    path("resolutions/", v.board, name="resolutions"),
    path("resolutions/export.xlsx", v.board_export, name="resolutions_export"),
    path("resolutions/<int:pk>/", v.detail, name="resolution"),
    path("resolutions/<int:pk>/progress/", v.resolution_progress, name="resolution_progress"),
    path("resolutions/<int:pk>/done/", v.resolution_done, name="resolution_done"),
    path("resolutions/<int:pk>/chase/", v.resolution_chase, name="resolution_chase"),
    path("resolutions/<int:pk>/reply/", v.resolution_reply, name="resolution_reply"),
    path("resolutions/<int:pk>/supervisor/", v.resolution_supervise, name="resolution_supervise"),
    path("resolutions/<int:pk>/due/", v.resolution_due, name="resolution_due"),
    path("resolutions/<int:pk>/drop/", v.resolution_drop, name="resolution_drop"),
    path("resolutions/<int:pk>/reopen/", v.resolution_reopen, name="resolution_reopen"),
    path("resolutions/<int:pk>/evaluate/", v.evaluate, name="evaluate"),
    path("evaluate/", v.evaluation_desk, name="evaluation_desk"),
    path("echo/<str:community_code>/", v.echo_wall, name="echo_wall"),
    path("figures/", v.figures, name="figures"),
]
