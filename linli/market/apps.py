from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketConfig(AppConfig):
    name = "linli.market"
    label = "market"
    verbose_name = _("points market")

    def ready(self) -> None:
        from linli.market.selectors import register_scope

        register_scope()
