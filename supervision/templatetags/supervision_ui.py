"""Template helpers of supervision's shared components.

- ``{% unread_notification_count as n %}`` for the notification badge in the page header: one COUNT
  query per request however many times a page asks (the badge and the dashboard both show it),
  the first answer being kept on the request.
- ``{% pending_extensions %}`` on the department inbox (routing, which does not import
  supervision): a head's extension requests awaiting decision, each with a link to decide.
- ``{% own_responsibilities %}`` on the home page (core): a leader's own key cases (包案).
- ``days|days_overdue`` for the warning-level tag: whole days overdue from
  ``deadlines.days_remaining`` (at least 1, as a clock past due by minutes is one day late).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from clocks.notify import unread_count
from core.models import User
from core.roles import Role
from routing.selectors import clock_for

from ..selectors import pending_extensions_for, responsibilities_of

register = template.Library()

_CACHE_ATTR = "_supervision_unread_notifications"


@register.simple_tag(takes_context=True)
def unread_notification_count(context: Any) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not isinstance(user, User) or not user.is_authenticated:
        return 0
    if request is not None and hasattr(request, _CACHE_ATTR):
        return int(getattr(request, _CACHE_ATTR))
    count = unread_count(user)
    if request is not None:
        setattr(request, _CACHE_ATTR, count)
    return count


@register.filter
def days_overdue(days: Any) -> int:
    try:
        return max(-int(days), 1)
    except (TypeError, ValueError):
        return 1


@register.inclusion_tag("supervision/_pending_extensions.html", takes_context=True)
def pending_extensions(context: Any) -> dict[str, Any]:
    """A department head's extension requests awaiting decision (Art 34), listed in the inbox.
    No query for anyone but a head."""
    user = context.get("user")
    requests = pending_extensions_for(user) if isinstance(user, User) else []
    return {"requests": requests}


@register.inclusion_tag("supervision/_own_responsibilities.html", takes_context=True)
def own_responsibilities(context: Any) -> dict[str, Any]:
    """The leader's own key cases (包案) on the home page, each with its due date's clock while
    unresolved and a link to the case's responsibility section. No query for anyone but a
    leader."""
    user = context.get("user")
    found = responsibilities_of(user) if isinstance(user, User) else []
    now = timezone.now()
    return {
        "is_leader": isinstance(user, User) and user.has_role(Role.LEADER),
        "rows": [(r, None if r.is_resolved else clock_for(r.due_at, now)) for r in found],
    }
