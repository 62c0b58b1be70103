"""What a user can do on a case now: the buttons and links of the case page's "可执行操作".

petitions knows nothing of the apps above it (routing, supervision, closure, ...), so they
contribute the actions. The interface is small:

    from petitions.actions import Action, register_provider

    def my_actions(user: User, case: Case, ctx: CasePage) -> Iterable[Action]:
        if <this user may do X on this case now>:
            yield Action(label=_("Write the reply"), url=reverse("closure:reply", args=[case.pk]))

    class ClosureConfig(AppConfig):
        def ready(self) -> None:
            register_provider(my_actions)

``case_actions(user, case)`` asks every registered provider, in registration order (the order of
INSTALLED_APPS), and returns their actions as one list; petitions.views shows them.

``ctx`` (a ``CasePage``) holds what the case page has loaded already, shared by the providers so
that each decides without a query of its own: the case's assignments (with department and
handler), read once per render, and ``ctx.memo(key, load)`` for a fact several providers or
fragments of the page need (e.g. closure's current reply), loaded once.

Rules for a provider:
- Offer only what this user may do on this case NOW (role, state, own center/department, guards
  the service will check). Read-only viewers (a higher center, the sending center) get nothing.
- Every action must work: ``method="get"`` is a link to a built page that answers 200 for this
  user (a ``#fragment`` should name an element of that page); ``method="post"`` is a one-click
  button posting to a view that does the action and redirects (no form fields other than the
  CSRF token). Anything that needs input is a "get" link to the page with its form.
  Something not built yet is not offered. tests/test_case_actions.py checks every action of every
  role on cases in every state.
- Labels are translatable text naming the action (a verb), not a state name.
- Keep it cheap: the case page calls each provider once per render. Read the case's assignments
  from ``ctx``, never by a query; anything else through ``ctx.memo`` or one narrow query, and
  only when the user's role makes it matter. The page's query count must not grow with the
  number of events, assignments or deadlines (tests/test_case_page_queries.py).
- A provider that raises is a bug: the page shows the error (500) rather than hide actions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils.functional import Promise

if TYPE_CHECKING:
    from core.models import User

    from .models import Case

__all__ = [
    "Action",
    "CasePage",
    "Provider",
    "case_actions",
    "register_provider",
    "registered_providers",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Action:
    label: str | Promise
    url: str
    method: str = "get"  # "get": a link; "post": a one-click button (CSRF form)
    style: str = ""  # "", "primary" or "danger" (button styles of app.css)
    name: str = ""  # stable identifier for tests and data attributes, e.g. "routing.sign_for"

    def __post_init__(self) -> None:
        if self.method not in ("get", "post"):
            raise ValueError(f"Action.method must be 'get' or 'post', not {self.method!r}")


class CasePage:
    """What one render of the case page has loaded, shared by the providers and fragments.

    ``assignments``: every assignment of the case, oldest first, with department and handler
    (the page's "Assignments" table shows the same list), read on first use unless given.
    ``memo(key, load)`` runs ``load`` once per page and keeps its result (keys are
    "<app>.<what>"), for what several providers or fragments need (closure's current reply,
    supervision's open orders)."""

    def __init__(
        self,
        user: User,
        case: Case,
        *,
        assignments: list[Any] | None = None,
    ) -> None:
        self.user = user
        self.case = case
        self._assignments = assignments
        self._memo: dict[str, Any] = {}

    @property
    def assignments(self) -> list[Any]:
        if self._assignments is None:
            self._assignments = list(
                self.case.assignments.select_related("department", "handler").order_by(  # type: ignore[attr-defined]
                    "assigned_at", "id"
                )
            )
        return self._assignments

    def memo(self, key: str, load: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]  # type: ignore[no-any-return]


Provider = Callable[["User", "Case", CasePage], Iterable[Action]]

_providers: list[Provider] = []


def register_provider(provider: Provider) -> Provider:
    """Add a provider (idempotent, so a ready() run twice does not list actions twice). Returns
    it, so it can be used as a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def registered_providers() -> tuple[Provider, ...]:
    return tuple(_providers)


def case_actions(user: User, case: Case, page: CasePage | None = None) -> list[Action]:
    page = page if page is not None else CasePage(user, case)
    actions: list[Action] = []
    for provider in _providers:
        actions.extend(provider(user, case, page))
    return actions
