from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("Petitions")

    def ready(self) -> None:
        from core.reference_data import register_seeder

        from .defaults import seed_code_tables
        from .models import Channel

        register_seeder(Channel.objects.exists, seed_code_tables)
