from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClosureConfig(AppConfig):
    name = "closure"
    verbose_name = _("Reply, evaluation and closure")

    def ready(self) -> None:
        from petitions.actions import register_provider
        from petitions.events import register_event_labels

        from .actions import case_actions

        register_provider(case_actions)
        register_event_labels({"evaluation_link_reissued": _("Evaluation link re-issued")})
