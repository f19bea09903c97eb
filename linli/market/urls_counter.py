"""The staff counter: scan or search, the till and its basket, receipts, pick-ups, cancellations, returns, history."""

from django.urls import URLPattern, path

from linli.market import views_counter as v

urlpatterns: list[URLPattern] = [
    path("counter/", v.counter, name="counter"),
    path("counter/people/<int:person_pk>/", v.counter_till, name="counter_till"),
    path("counter/merchants/<int:merchant_pk>/", v.counter_till_merchant, name="counter_till_merchant"),
    path("counter/pickup/", v.counter_pickup, name="counter_pickup"),
    path("counter/history/", v.counter_history, name="counter_history"),
    path("counter/receipts/<int:pk>/", v.receipt, name="receipt"),
    path("counter/redemptions/<int:pk>/hand-over/", v.counter_hand_over, name="counter_hand_over"),
    path("counter/redemptions/<int:pk>/cancel/", v.counter_cancel, name="counter_cancel"),
    path("counter/redemptions/<int:pk>/return/", v.counter_return, name="counter_return"),
]
