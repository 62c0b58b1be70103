"""The campaigns card on the supervision dashboard (supervision.hooks): the viewer's running
campaigns, each with its deadline, days left and overdue matters. Two queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from clocks.deadlines import CHINA_TZ
from supervision.hooks import Panel

from .models import CampaignState, MatterOutcome
from .selectors import campaigns_visible_to, matters_visible_to

OPEN_OUTCOMES = (MatterOutcome.IN_HAND, MatterOutcome.STALLED)


def running_campaigns_panel(user: Any, now: datetime) -> Panel | None:
    today = now.astimezone(CHINA_TZ).date()
    campaigns = list(
        campaigns_visible_to(user)
        .filter(state=CampaignState.OPEN)
        .select_related("center")
        .order_by("ends_on", "pk")[:20]
    )
    if not campaigns:
        return None
    overdue: dict[int, int] = dict(
        matters_visible_to(user)
        .select_related(None)
        .filter(campaign__in=[c.pk for c in campaigns])
        .order_by()
        .values_list("campaign_id")
        .annotate(n=Count("pk", filter=Q(outcome__in=OPEN_OUTCOMES, due_on__lt=today)))
    )
    rows = [
        {
            "campaign": c,
            "url": reverse("campaigns:detail", args=[c.pk]),
            "overdue_url": reverse("campaigns:matters", args=[c.pk]) + "?state=overdue#ledger",
            "days_left": (c.ends_on - today).days,
            "overdue": overdue.get(c.pk, 0),
        }
        for c in campaigns
    ]
    return Panel("campaigns/_dashboard_panel.html", {"rows": rows})


__all__ = ["running_campaigns_panel"]
