"""The market on a resident's phone: the shelf, reserving, my redemptions and my vouchers."""

from django.urls import URLPattern, path

from linli.market import views_resident as v

urlpatterns: list[URLPattern] = [
    path("", v.shelf, name="shelf"),
    path("reserve/", v.reserve, name="reserve"),
    path("mine/", v.mine, name="mine"),
    path("mine/<int:pk>/", v.my_redemption, name="my_redemption"),
    path("mine/<int:pk>/cancel/", v.my_redemption_cancel, name="my_redemption_cancel"),
    path("mine/vouchers/<int:pk>/", v.my_voucher, name="my_voucher"),
]
