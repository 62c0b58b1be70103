from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Organisation and accounts")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (API tokens end with a password change, core.signals)

        # django-axes's app config has no verbose name ("Axes" in the admin): name its section in
        # our words (the lockout's models are translated in our catalogue).
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("Login lockouts")
