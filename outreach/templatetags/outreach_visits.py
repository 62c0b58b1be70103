"""Template helpers of 下访 / 约访 and the reception days, for pages of the apps below outreach
(which load this library without importing outreach):

- ``{% public_reception_schedule %}`` on the public status page (intake): the next 30 days'
  reception days of the centers, with no personal data beyond the leader's name and title.
- ``{% leader_outreach %}`` on the home page (core), a leader's page: the 下访 the leader went on
  (their 包案 cases marked), the appointments they receive and the visits they received in
  person. No query for anyone but a leader or department head.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from core.models import User
from core.roles import Role

from ..selectors_visits import place_label, public_schedule, state_label, visits_by_leader

register = template.Library()


@register.inclusion_tag("outreach/visits/_public_schedule.html")
def public_reception_schedule() -> dict[str, Any]:
    today = timezone.now().astimezone(CHINA_TZ).date()
    return {"rows": public_schedule(today)}


@register.inclusion_tag("outreach/visits/_leader_outreach.html", takes_context=True)
def leader_outreach(context: Any) -> dict[str, Any]:
    user = context.get("user")
    if not isinstance(user, User) or not user.has_role(Role.LEADER, Role.HEAD):
        return {"shown": False}
    return {"shown": True, "page": visits_by_leader(user)}


@register.filter
def outreach_place(value: str) -> str:
    return place_label(value)


@register.filter
def outreach_state(value: str) -> str:
    return state_label(value)
