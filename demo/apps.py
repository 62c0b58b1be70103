from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo and bench data (``manage.py seed_demo``), kept out of the domain apps: nothing in them
    imports this app."""

    name = "demo"
    verbose_name = _("Demo data")
