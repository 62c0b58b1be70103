"""Extension points for the apps above petitions (imports point down: petitions never imports
them). An app registers its callables from its ``AppConfig.ready()``.

- Warning providers add lines to the front desk's warnings about a person
  (petitions.services.registration_warnings), e.g. appeals: "不再受理" for a final matter.
- Visibility providers give, for a user's centers, the ids of further cases those centers may
  read (petitions.selectors.visible_cases_q), e.g. appeals: the cases a center reviews. A provider
  returns a ``values_list("case_id", flat=True)`` queryset; the selector unions it with its own id
  query, so a provider adds no query of its own.
- User visibility providers give, for one user, the ids of cases that user may read beyond the
  center and department rules (``values_list("case_id", flat=True)``), or None when they add
  nothing for this user (no query), e.g. campaigns: an outside reviewer's sampled cases.
- Department conditions give, for a department id, a Q on Case for the cases that department
  may read (petitions.selectors.visible_cases_q), e.g. routing: an EXISTS on its assignments.
- The case assignments loader gives the case page its assignment rows (routing).
- Final-matter providers give the rows whose existence makes a case's matter final (不再受理,
  Arts 35-37), as a queryset correlated on the outer case (``OuterRef("pk")``), e.g. appeals'
  Finality. Registration (petitions.services.register_case) wraps them in EXISTS in the query that
  reads the person's earlier cases on the matter, so a provider adds no query of its own.
- Case page sections add a card to the case page (petitions.views.render_case_page), e.g.
  outreach: the case's 下访, 约访, tours, judicial aid and messages. A provider takes the viewer,
  the case and the page's shared ``petitions.actions.CasePage`` and returns a ``CaseSection``
  (a template and its context; the template reads it as ``section``) or None when it has nothing
  for this viewer. Keep it to a few narrow queries: the page's query count is tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Q, QuerySet

    from .models import Case, Petitioner

WarningProvider = Callable[["Petitioner", "Case | None"], list[str]]
VisibilityProvider = Callable[[Sequence[int]], "QuerySet[Any]"]
FinalMatterProvider = Callable[[], "QuerySet[Any]"]
UserVisibilityProvider = Callable[[Any], "QuerySet[Any] | None"]
DepartmentCondition = Callable[[int], "Q"]


@dataclass(frozen=True)
class CaseSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


CaseSectionProvider = Callable[[Any, "Case", Any], "CaseSection | None"]

_warning_providers: list[WarningProvider] = []
_visibility_providers: list[VisibilityProvider] = []
_final_matter_providers: list[FinalMatterProvider] = []
_user_visibility_providers: list[UserVisibilityProvider] = []
_case_section_providers: list[CaseSectionProvider] = []
_department_conditions: list[DepartmentCondition] = []


def register_department_condition(condition: DepartmentCondition) -> None:
    if condition not in _department_conditions:
        _department_conditions.append(condition)


def department_conditions() -> tuple[DepartmentCondition, ...]:
    return tuple(_department_conditions)


# The case page's assignment rows (oldest first, with department and handler), from the app
# that assigns cases (routing); one loader, registered once.
CaseAssignmentsLoader = Callable[[int], list[Any]]
_case_assignments_loader: list[CaseAssignmentsLoader] = []


def register_case_assignments_loader(loader: CaseAssignmentsLoader) -> None:
    _case_assignments_loader[:] = [loader]


def case_assignments(case_id: int) -> list[Any]:
    return _case_assignments_loader[0](case_id) if _case_assignments_loader else []


def register_warning_provider(provider: WarningProvider) -> None:
    if provider not in _warning_providers:
        _warning_providers.append(provider)


def register_visibility_provider(provider: VisibilityProvider) -> None:
    if provider not in _visibility_providers:
        _visibility_providers.append(provider)


def register_final_matter_provider(provider: FinalMatterProvider) -> None:
    if provider not in _final_matter_providers:
        _final_matter_providers.append(provider)


def register_user_visibility_provider(provider: UserVisibilityProvider) -> None:
    if provider not in _user_visibility_providers:
        _user_visibility_providers.append(provider)


def user_visibility_providers() -> tuple[UserVisibilityProvider, ...]:
    return tuple(_user_visibility_providers)


def warning_providers() -> tuple[WarningProvider, ...]:
    return tuple(_warning_providers)


def visibility_providers() -> tuple[VisibilityProvider, ...]:
    return tuple(_visibility_providers)


def final_matter_providers() -> tuple[FinalMatterProvider, ...]:
    return tuple(_final_matter_providers)


def register_case_section(provider: CaseSectionProvider) -> None:
    if provider not in _case_section_providers:
        _case_section_providers.append(provider)


def case_sections(user: Any, case: Case, page: Any) -> list[CaseSection]:
    """The sections the registered providers offer this viewer on this case, in registration
    order (``page`` is the render's petitions.actions.CasePage)."""
    sections = []
    for provider in _case_section_providers:
        section = provider(user, case, page)
        if section is not None:
            sections.append(section)
    return sections


# --- notices to the petitioner ----------------------------------------------------------------------
# Petitions, routing and closure tell the person of a step (the receipt, the assignment, the reply
# ready) through ``notify_petitioner``; outreach registers the listener that queues a text message
# (outreach.services.messages.queue_message). Called inside the step's transaction; ``secrets``
# (a query code, an evaluation link) go only to the person, never into a shown or logged copy;
# ``key`` makes the notice once per cause.

PetitionerNoticeListener = Callable[..., Any]
_petitioner_notice_listeners: list[PetitionerNoticeListener] = []


def register_petitioner_notice_listener(listener: PetitionerNoticeListener) -> None:
    if listener not in _petitioner_notice_listeners:
        _petitioner_notice_listeners.append(listener)


def notify_petitioner(
    kind: str,
    *,
    case: Case | None,
    petitioner: Petitioner,
    context: dict[str, Any],
    secrets: dict[str, Any] | None = None,
    key: str,
) -> None:
    for listener in _petitioner_notice_listeners:
        listener(kind, case=case, petitioner=petitioner, context=context, secrets=secrets, key=key)


# --- the clock engine -----------------------------------------------------------------------------
# Registration opens the screening clock in the same statement as the case, answering on the spot
# meets it, and every event writes its outbox rows: the statutory clocks and the outbox are the
# clocks app's, above petitions, which registers itself here (clocks.apps); petitions never
# imports it.


@dataclass(frozen=True)
class ClockEngine:
    plan: Callable[..., Any]  # (kind, start, center) -> a plan with kind, rule, start, due_at
    model: type[Any]  # the deadline model whose rows a plan becomes
    meet: Callable[..., Any]  # (case, kind, at): stop the case's running clock of that kind
    notify_event: Callable[[Any], Any]  # (event): its outbox rows, delivery after commit


_clock_engine: list[ClockEngine] = []


def register_clock_engine(engine: ClockEngine) -> None:
    _clock_engine[:] = [engine]


def clock_engine() -> ClockEngine | None:
    return _clock_engine[0] if _clock_engine else None
