"""Phone pages: filing a request (from a building's QR code), the receipt, my requests and their rating; the handler's
tasks and their actions; the building QR codes; the public echo wall."""

from django.urls import URLPattern, path

from linli.orders import views_resident as v

urlpatterns: list[URLPattern] = [
    path("new/", v.new, name="new"),
    path("new/<int:pk>/receipt/", v.receipt, name="receipt"),
    path("mine/", v.mine, name="mine"),
    path("mine/<int:pk>/", v.mine_detail, name="mine_detail"),
    path("mine/<int:pk>/rate/", v.rate, name="rate"),
    path("mine/<int:pk>/withdraw/", v.withdraw, name="withdraw"),
    path("photo/<int:order_pk>/<int:photo_pk>/", v.photo, name="photo"),
    path("tasks/", v.tasks, name="tasks"),
    path("tasks/<int:pk>/", v.task, name="task"),
    path("tasks/<int:pk>/start/", v.task_start, name="task_start"),
    path("tasks/<int:pk>/note/", v.task_note, name="task_note"),
    path("tasks/<int:pk>/resolve/", v.task_resolve, name="task_resolve"),
    path("qr/building/<int:building_pk>.png", v.building_qr, name="building_qr"),
    path("qr/buildings/", v.building_qr_sheet, name="building_qr_sheet"),
    path("echo/<slug:community_code>/", v.echo_wall, name="echo_wall"),
]
