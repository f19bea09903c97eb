from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    name = "linli.council"
    label = "council"
    verbose_name = _("council")

    def ready(self) -> None:
        from linli.council.selectors import register_scope

        register_scope()
