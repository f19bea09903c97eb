from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "linli.orders"
    label = "orders"
    verbose_name = _("work orders")

    def ready(self) -> None:
        from linli.orders.selectors import register_scope

        register_scope()
