from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Screening and assignment")

    def ready(self) -> None:
        from petitions.actions import register_provider

        from .actions import case_actions

        register_provider(case_actions)
