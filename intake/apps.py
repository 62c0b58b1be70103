from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("intake")

    def ready(self) -> None:
        # Registration must know a final matter (不再受理, Arts 35-37: appeals' Finality) without
        # petitions importing appeals (imports point down): the desk plugs appeals' finality rows
        # into petitions' hooks, as appeals plugs in its desk warning (appeals.apps).
        from petitions import hooks

        from .selectors import finality_rows

        hooks.register_final_matter_provider(finality_rows)
