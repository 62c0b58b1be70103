from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClocksConfig(AppConfig):
    """The clock engine: holiday calendar, deadline rules, deadlines, the sweep and the
    notification outbox. Below routing, supervision and closure, which all run on its clocks."""

    name = "clocks"
    verbose_name = _("deadlines and notifications")
