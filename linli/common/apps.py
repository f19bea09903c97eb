from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "linli.common"
    label = "common"
    verbose_name = "linli common"
