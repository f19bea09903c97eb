"""Catalogue and stock pages for staff and the grid workers who count the shelf (namespace "market")."""

from django.urls import URLPattern, path

from linli.market import views_stock as v

urlpatterns: list[URLPattern] = [
    path("products/", v.products, name="products"),
    path("products/new/", v.product_new, name="product_new"),
    path("products/<int:pk>/edit/", v.product_edit, name="product_edit"),
    path("products/<int:pk>/stock/", v.product_stock, name="product_stock"),
    path("choice-groups/", v.choice_groups, name="choice_groups"),
    path("stocktakes/", v.stocktakes, name="stocktakes"),
    path("stocktakes/<int:pk>/", v.stocktake, name="stocktake"),
    path("stocktakes/<int:pk>/export.xlsx", v.stocktake_export, name="stocktake_export"),
    path("settings/", v.market_settings, name="settings"),
]
