"""Hooks of closure into pages of lower apps (the case page, the department inbox), as template
tags so that petitions and routing do not import closure (layers point down)."""

from __future__ import annotations

from typing import Any

from django import template

from core.models import User
from core.roles import Role
from petitions.actions import CasePage
from petitions.models import Case

from ..actions import page_reply
from ..selectors import closure_inbox_count, current_reply

register = template.Library()


@register.inclusion_tag("closure/_case_actions.html", takes_context=True)
def closure_case_actions(context: dict[str, Any], case: Case) -> dict[str, Any]:
    """The reply and closure steps on the case page: a summary and a link to the closure page,
    where every step the user may take has its form."""
    user = context.get("user")
    page = context.get("case_page")  # the case page's shared loads (petitions.actions.CasePage)
    reply = page_reply(case, page) if isinstance(page, CasePage) else current_reply(case)
    return {"case": case, "reply": reply, "user": user}


@register.inclusion_tag("closure/_inbox_link.html", takes_context=True)
def closure_inbox_link(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    show = isinstance(user, User) and user.has_role(Role.OFFICER, Role.HEAD)
    return {
        "show": show,
        "count": closure_inbox_count(user) if show and isinstance(user, User) else 0,
    }
