"""The page frame of every HTML page (templates/base.html): the main navigation, and the user's
center and department for the user box, without a query or a ``reverse()`` per request.

- The navigation's urls and labels are resolved once per process, per active language (the
  labels are translated) and script prefix; only the filter by the user's roles, which are read
  fresh on every request (a revoked role takes effect at once), and the active flag run per request.
- The user's center and department come from the in-process organisation caches (dropped when a
  center or department is saved, in every process), set on ``request.user`` so that the user box's
  ``{{ user.center }}`` and ``{{ user.department.name }}`` make no query.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .codecache import TableCache
from .models import Department, User
from .orgcache import user_center
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
    # campaigns (专项活动): run by supervisors and leaders; a department head is usually the
    # responsible leader (包案) of matters handed down to the department
    ("campaigns:list", _("Campaigns"), frozenset({Role.SUPERVISOR, Role.LEADER, Role.HEAD})),
    # an outside reviewer's (人大代表, 政协委员, lawyer) landing page: the cases to score
    ("campaigns:reviewer_home", _("My review tasks"), frozenset({Role.REVIEWER})),
    # leaders' reception days (领导接访日): kept by the center's office, read by its leaders
    (
        "outreach:my_reception_days",
        _("Reception days"),
        frozenset({Role.SUPERVISOR, Role.LEADER, Role.HEAD, Role.ADMIN}),
    ),
    ("reports:index", _("Reports"), frozenset({Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST})),
    # a department head answers the center's law-enforcement suggestions (reports/)
    ("reports:suggestions", _("Law-enforcement suggestions"), frozenset({Role.HEAD})),
    # Notifications (消息提醒) are not a section here: the header's badge (with the unread count)
    # is their one link, for every role.
    ("admin:index", _("Administration"), frozenset({Role.ADMIN})),
]

# (language, script prefix) -> [(name, url, label in that language, roles)], sections whose url
# does not resolve (not built) left out.
_resolved: dict[tuple[str | None, str], list[tuple[str, str, str, frozenset[str]]]] = {}
_resolved_lock = threading.Lock()


def _resolved_items() -> list[tuple[str, str, str, frozenset[str]]]:
    key = (get_language(), get_script_prefix())
    found = _resolved.get(key)
    if found is not None:
        return found
    items = []
    for name, label, allowed in NAV_ITEMS:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # a section not built yet is simply not shown
        items.append((name, url, str(label), allowed))
    with _resolved_lock:
        _resolved[key] = items
    return items


def _load_departments() -> dict[int, Department]:
    return {d.pk: d for d in Department.objects.all()}


_departments: TableCache[dict[int, Department]] = TableCache(
    "core.departments", _load_departments, ("core.Department",)
)


def _place_user(user: User) -> None:
    """Set the user's center and department from the caches (copies), unless already loaded."""
    user_center(user)
    if user.department_id is not None and not User.department.is_cached(user):
        found = _departments.get().get(user.department_id)
        if found is not None:
            User.department.field.set_cached_value(user, copy.copy(found))


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if isinstance(user, User):
        _place_user(user)
    roles = user.role_codes
    path = request.path
    items = [
        {"url": url, "label": label, "name": name, "active": path == url}
        for name, url, label, allowed in _resolved_items()
        if roles & allowed or (user.is_superuser and name == "admin:index")
    ]
    return {"nav_items": items}
