"""Front-desk records. ``LeaderDuty`` is a stop-gap: supervision will own the full duty roster of
leader reception days (领导接访日); until then the desk reads who is on duty today from here."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Center
from core.roles import Role


class LeaderDuty(models.Model):
    """The leader receiving visitors at a center on a day (领导接访日)."""

    date = models.DateField(_("date"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"roles__role": Role.LEADER},
    )
    center = models.ForeignKey(
        Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("leader on reception duty")
        verbose_name_plural = _("leader reception duty")
        ordering = ["-date", "center_id"]
        constraints = [
            # One leader per center and day; the unique index also serves the desk's
            # "today's leader at this center" lookup (WHERE center_id=? AND date=?).
            models.UniqueConstraint(fields=["center", "date"], name="leaderduty_one_per_day"),
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
