from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role

# (url name, label, roles that see it). Order is the navigation order.
NAV_ITEMS: list[tuple[str, Any, frozenset[str]]] = [
    ("home", _("Home"), frozenset(Role.values)),
    ("intake:desk", _("Front desk"), frozenset({Role.RECEPTION, Role.TRIAGE})),
    ("petitions:case_list", _("Cases"), frozenset(Role.values)),
    ("routing:triage_queue", _("Screening queue"), frozenset({Role.TRIAGE, Role.SUPERVISOR})),
    ("routing:inbox", _("Department inbox"), frozenset({Role.OFFICER, Role.HEAD})),
    ("supervision:dashboard", _("Supervision"), frozenset({Role.SUPERVISOR, Role.LEADER})),
    (
        "appeals:queue",
        _("Reviews and terminations"),
        frozenset({Role.SUPERVISOR, Role.LEADER}),
    ),
    ("reports:index", _("Reports"), frozenset({Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST})),
    # a department head answers the center's law-enforcement suggestions (reports/)
    ("reports:suggestions", _("Law-enforcement suggestions"), frozenset({Role.HEAD})),
    ("supervision:notifications", _("Notifications"), frozenset(Role.values)),
    ("admin:index", _("Administration"), frozenset({Role.ADMIN})),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    roles = user.role_codes
    items = []
    for name, label, allowed in NAV_ITEMS:
        if not (roles & allowed or (user.is_superuser and name == "admin:index")):
            continue
        try:
            url = reverse(name)
        except Exception:  # noqa: BLE001,S112 - a section not built yet is simply not shown
            continue
        items.append({"url": url, "label": label, "name": name, "active": request.path == url})
    return {"nav_items": items}
