"""Staff pages: the dispatch board, one order with its triage actions, intake by hotline/walk-in/chat/patrol, and the
street office's escalations."""

from django.urls import URLPattern, path

from linli.orders import views_staff as v

urlpatterns: list[URLPattern] = [
    path("board/", v.board, name="board"),
    path("intake/", v.intake, name="intake"),
    path("escalations/", v.escalations, name="escalations"),
    path("<int:pk>/", v.detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", v.act, name="act"),
]
