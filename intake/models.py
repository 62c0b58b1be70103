"""Front-desk records. ``LeaderDuty`` is the schedule of leaders' reception days (领导接访日): the
desk reads who receives today from here; the outreach app keeps the schedule (its services and
pages), publishes it and counts the visits received."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Center
from core.roles import Role


class LeaderDuty(models.Model):
    """A leader (or the head of an organ) receiving visitors at a center on a day (领导接访日):
    when, where and on what subject."""

    date = models.DateField(_("date"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"roles__role__in": [Role.LEADER, Role.HEAD]},
    )
    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    starts_at = models.TimeField(_("from"), null=True, blank=True)
    ends_at = models.TimeField(_("until"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("leader on reception duty")
        verbose_name_plural = _("leader reception duty")
        ordering = ["-date", "center_id"]
        constraints = [
            # A leader once per center and day (several leaders may receive on one day); the
            # unique index also serves the desk's "today's leaders at this center" lookup
            # (WHERE center_id=? AND date=?) and the public schedule (center, date range).
            models.UniqueConstraint(
                fields=["center", "date", "leader"], name="leaderduty_once_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.leader}"

    def clean(self) -> None:
        if (
            self.leader_id is not None
            and self.center_id is not None
            and self.leader.center_id != self.center_id
        ):
            raise ValidationError({"leader": _("The leader must belong to this center.")})
