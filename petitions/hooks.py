"""Extension points for the apps above petitions (imports point down: petitions never imports
them). An app registers its callables from its ``AppConfig.ready()``.

- Warning providers add lines to the front desk's warnings about a person
  (petitions.services.registration_warnings), e.g. appeals: "不再受理" for a final matter.
- Visibility providers give, for a user's centers, the ids of further cases those centers may
  read (petitions.selectors.visible_cases_q), e.g. appeals: the cases a center reviews. A provider
  returns a ``values_list("case_id", flat=True)`` queryset; the selector unions it with its own id
  query, so a provider adds no query of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import Case, Petitioner

WarningProvider = Callable[["Petitioner", "Case | None"], list[str]]
VisibilityProvider = Callable[[Sequence[int]], "QuerySet[Any]"]

_warning_providers: list[WarningProvider] = []
_visibility_providers: list[VisibilityProvider] = []


def register_warning_provider(provider: WarningProvider) -> None:
    if provider not in _warning_providers:
        _warning_providers.append(provider)


def register_visibility_provider(provider: VisibilityProvider) -> None:
    if provider not in _visibility_providers:
        _visibility_providers.append(provider)


def warning_providers() -> tuple[WarningProvider, ...]:
    return tuple(_warning_providers)


def visibility_providers() -> tuple[VisibilityProvider, ...]:
    return tuple(_visibility_providers)
