"""Reads for the screening queue, the department inbox and the pages around them.

Every read takes the viewer (STYLE.md): the queue starts from petitions.selectors.case_list_for,
the inbox from the viewer's own department, and a notice is found only through a case the viewer
may see, so not-yours and not-found are the same 404.

List pages run a constant number of queries whatever their length: the rows carry what the page
shows (select_related / annotations), and the tab counts are one aggregate query with filtered
COUNTs rather than one COUNT per tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from clocks.deadlines import days_remaining, warning_level_for
from clocks.models import Deadline, DeadlineKind, WarningLevel
from core.models import Center, Department, User
from core.roles import Role
from petitions.models import Case, ContentCategory
from petitions.selectors import case_list_for, cases_visible_to
from petitions.states import CaseState

from .models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRole,
    AssignmentState,
    ProgressNote,
    Transfer,
    WrittenNotice,
)

# --- clocks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """A deadline as a list shows it: whole days left (negative when overdue) and its colour,
    measured as clocks.deadlines measures it so the number and the colour always agree."""

    due_at: datetime
    days: int
    level: str

    @property
    def overdue(self) -> bool:
        return self.level == WarningLevel.OVERDUE

    @property
    def days_overdue(self) -> int:
        return max(-self.days, 1)


def clock_for(due_at: datetime | None, now: datetime | None = None) -> Clock | None:
    if due_at is None:
        return None
    now = now or timezone.now()
    return Clock(
        due_at=due_at,
        days=days_remaining(due_at, now),
        level=str(warning_level_for(due_at, now)),
    )


# --- the screening queue (Art 22: a decision within 15 days of registration) -----------------------

QUEUE_STATES = (CaseState.REGISTERED, CaseState.RETURNED)
QUEUE_TABS: dict[str, Q] = {
    "new": Q(state=CaseState.REGISTERED),
    "returned": Q(state=CaseState.RETURNED),
    "open": Q(state__in=CaseState.open_states()),
}
QUEUE_FLAGS: dict[str, Q] = {
    "group": Q(is_group=True),
    "major_urgent": Q(is_major_urgent=True),
    "safety_risk": Q(is_safety_risk=True),
    "skip_level": Q(is_skip_level=True),
    "repeat": Q(visit_count__gt=1),
}


@dataclass(frozen=True)
class QueueFilters:
    category: ContentCategory | None = None
    channel_id: int | None = None
    flags: tuple[str, ...] = ()


def _queue_base(user: User, filters: QueueFilters) -> QuerySet[Case]:
    """Cases at the user's own center (subordinate centers screen their own), filtered."""
    if user.center_id is None:
        return Case.objects.none()
    qs = case_list_for(user).filter(center_id=user.center_id)
    if filters.category is not None:
        # A top-level category stands for itself and everything under it.
        qs = qs.filter(Q(category=filters.category) | Q(category__parent=filters.category))
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    for flag in filters.flags:
        qs = qs.filter(QUEUE_FLAGS[flag])
    return qs


def triage_queue_counts(user: User, filters: QueueFilters) -> dict[str, int]:
    """The number of cases on each tab, in one query.

    Unfiltered, for a user who sees every case of their center (a center role, or superuser),
    from the kept counts (petitions.CaseStateCount, kept by triggers in each writing
    transaction): one indexed query over a handful of rows whatever the center's size. A
    filtered view (category, channel, flags) counts live: it is narrower, and the counters do
    not split by those."""
    from core.roles import CENTER_ROLES
    from petitions.models import CaseStateCount

    if (
        filters == QueueFilters()
        and user.center_id is not None
        and (user.is_superuser or user.role_codes & CENTER_ROLES)
    ):
        rows = (
            CaseStateCount.objects.filter(
                center_id=user.center_id, state__in=sorted(CaseState.open_states())
            )
            .values("state")
            .annotate(n=Sum("cases"))
            .order_by()
        )
        per_state = {row["state"]: int(row["n"] or 0) for row in rows}
        return {
            "new": per_state.get(CaseState.REGISTERED, 0),
            "returned": per_state.get(CaseState.RETURNED, 0),
            "open": sum(per_state.values()),
        }
    return triage_queue_counts_live(user, filters)


def triage_queue_counts_live(user: User, filters: QueueFilters) -> dict[str, int]:
    """The tab counts counted from the cases (the kept counts' reference, and filtered views)."""
    base = _queue_base(user, filters).filter(state__in=CaseState.open_states())
    result = base.aggregate(**{tab: Count("pk", filter=q) for tab, q in QUEUE_TABS.items()})
    return {tab: int(result[tab] or 0) for tab in QUEUE_TABS}


def triage_queue(user: User, tab: str, filters: QueueFilters) -> QuerySet[Case]:
    """The tab's cases, oldest first (the 15-day clock runs from registration), each annotated
    with ``screening_due_at``: the open screening clock, else the case's next deadline."""
    screening_due = (
        Deadline.objects.filter(
            case_id=OuterRef("pk"),
            kind=DeadlineKind.SCREENING,
            assignment_id__isnull=True,
            met_at__isnull=True,
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return (
        _queue_base(user, filters)
        .filter(QUEUE_TABS[tab])
        .select_related("category__parent")
        .annotate(screening_due_at=Coalesce(Subquery(screening_due), "next_due_at"))
        .order_by("registered_at", "id")
    )


def transfer_targets(case: Case) -> QuerySet[Center]:
    """Other active centers of the case's province, the centers below the case's center first
    (a skip-level visit goes down to the level with jurisdiction), then the rest by hierarchy."""
    root = case.center.path.strip("/").split("/")[0]
    return (
        Center.objects.filter(path__startswith=f"/{root}/", is_active=True)
        .exclude(pk=case.center_id)
        .annotate(
            below=SqlCase(When(path__startswith=case.center.path, then=Value(0)), default=Value(1))
        )
        .order_by("below", "path")
    )


def case_departments(case: Case) -> QuerySet[Department]:
    """Departments a case may be assigned to: the active ones of the center holding it."""
    return Department.objects.filter(center_id=case.center_id, is_active=True).order_by("id")


def active_assignments(case: Case) -> list[Assignment]:
    """The case's running assignments, the lead first."""
    rows = Assignment.objects.filter(case=case, state__in=ACTIVE_ASSIGNMENT_STATES).select_related(
        "department"
    )
    return sorted(rows, key=lambda a: (a.role != AssignmentRole.LEAD, a.pk))


# --- the department inbox ----------------------------------------------------------------------------

INBOX_TABS = ("new", "mine", "due_soon", "overdue", "returned")
DUE_SOON_DAYS = 7
INBOX_SORTS: dict[str, tuple[str, ...]] = {
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "assigned": ("assigned_at", "id"),
    "-assigned": ("-assigned_at", "-id"),
    "number": ("case__number",),
    "-number": ("-case__number",),
}


def inbox_tab_q(tab: str, user: User, now: datetime) -> Q:
    active = Q(state__in=ACTIVE_ASSIGNMENT_STATES)
    if tab == "new":
        return Q(state=AssignmentState.PENDING)
    if tab == "mine":
        return Q(state__in=(AssignmentState.SIGNED, AssignmentState.ACCEPTED)) & (
            Q(handler_id=user.pk) | Q(handler__isnull=True)
        )
    if tab == "due_soon":
        return active & Q(due_at__gte=now, due_at__lt=now + timedelta(days=DUE_SOON_DAYS))
    if tab == "overdue":
        return active & Q(due_at__lt=now)
    if tab == "returned":
        return Q(state=AssignmentState.RETURNED)
    raise ValueError(f"unknown inbox tab {tab!r}")


def assignments_for(user: User) -> QuerySet[Assignment]:
    """The assignments a user may open: those of their own department (officer or head)."""
    if user.is_superuser:
        return Assignment.objects.all()
    if not user.is_authenticated or not user.department_id:
        return Assignment.objects.none()
    if not user.has_role(Role.OFFICER, Role.HEAD):
        return Assignment.objects.none()
    return Assignment.objects.filter(department_id=user.department_id)


@dataclass(frozen=True)
class InboxFilters:
    role: str = ""
    category: ContentCategory | None = None


def _inbox_base(user: User, filters: InboxFilters) -> QuerySet[Assignment]:
    if not user.department_id:
        return Assignment.objects.none()
    # WHERE department_id=? AND state IN (...) [AND due_at ...]: assignment_dept_state_due_idx.
    # Done and cancelled assignments are on no tab, so the index range skips them.
    qs = assignments_for(user).filter(
        department_id=user.department_id,
        state__in=(*ACTIVE_ASSIGNMENT_STATES, AssignmentState.RETURNED),
    )
    if filters.role in AssignmentRole.values:
        qs = qs.filter(role=filters.role)
    if filters.category is not None:
        qs = qs.filter(
            Q(case__category=filters.category) | Q(case__category__parent=filters.category)
        )
    return qs


def inbox_counts(user: User, filters: InboxFilters, now: datetime) -> dict[str, int]:
    """The number of assignments on each tab, in one query."""
    result = _inbox_base(user, filters).aggregate(
        **{tab: Count("pk", filter=inbox_tab_q(tab, user, now)) for tab in INBOX_TABS}
    )
    return {tab: int(result[tab] or 0) for tab in INBOX_TABS}


def inbox(
    user: User, tab: str, filters: InboxFilters, sort: str, now: datetime
) -> QuerySet[Assignment]:
    return (
        _inbox_base(user, filters)
        .filter(inbox_tab_q(tab, user, now))
        .select_related("case__main_petitioner", "case__category__parent")
        .order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["due"]))
    )


def get_assignment_for(user: User, pk: int | str) -> Assignment:
    """An assignment of the user's department, or Http404 (not-yours and not-found alike)."""
    try:
        return (
            assignments_for(user)
            .select_related(
                "case__main_petitioner",
                "case__category__parent",
                "case__channel",
                "case__purpose",
                "case__organ",
                "case__center",
                "department",
                "handler",
                "signed_by",
                "assigned_by",
            )
            .get(pk=pk)
        )
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assignment") from None


def objection_deadline(assignment: Assignment) -> Deadline | None:
    """The 5-working-day objection clock of an assignment (Art 23), running or met."""
    return (
        Deadline.objects.filter(
            case_id=assignment.case_id, kind=DeadlineKind.OBJECTION, assignment_id=assignment.pk
        )
        .order_by("-id")
        .first()
    )


def assisting_contributions(assignment: Assignment) -> list[Assignment]:
    """For the lead: the case's assisting assignments with what each has contributed, which the
    lead folds into the one consolidated reply. Other departments see none of this."""
    if assignment.role != AssignmentRole.LEAD:
        return []
    return list(
        Assignment.objects.filter(case_id=assignment.case_id, role=AssignmentRole.ASSIST)
        .exclude(state=AssignmentState.CANCELLED)
        .select_related("department")
        .order_by("assigned_at", "id")
    )


def notes_visible_to(user: User, case: Case) -> QuerySet[ProgressNote]:
    """Progress notes: internal ones stay in the author's department; shared ones are seen by the
    center's staff and by every department on the case."""
    qs = ProgressNote.objects.filter(case=case).select_related("author", "department")
    if user.is_superuser:
        return qs.order_by("created_at", "id")
    visible = Q(shared_with_center=True)
    if user.department_id:
        visible |= Q(department_id=user.department_id)
    else:
        visible |= Q(department__isnull=True)  # the center's own internal notes
    return qs.filter(visible).order_by("created_at", "id")


# --- written notices ---------------------------------------------------------------------------------


def get_notice_for(user: User, pk: int | str) -> WrittenNotice:
    """A notice of a case the user may see (petitions.selectors), or Http404."""
    try:
        return (
            WrittenNotice.objects.filter(case__in=cases_visible_to(user).values("pk"))
            .select_related("case", "issued_by")
            .get(pk=pk)
        )
    except (WrittenNotice.DoesNotExist, ValueError, TypeError):
        raise Http404("No such notice") from None


def notices_of(case: Case) -> list[WrittenNotice]:
    return list(WrittenNotice.objects.filter(case=case).order_by("issued_at", "id"))


def page_slice(total: int, page: Any, size: int) -> tuple[int, int, int]:
    """(page number, first row, number of pages) for a list whose total is already counted, so
    paging costs no extra COUNT query."""
    pages = max((total + size - 1) // size, 1)
    try:
        number = int(page)
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), pages)
    return number, (number - 1) * size, pages


def latest_notice(case: Case, kind: str) -> WrittenNotice | None:
    return WrittenNotice.objects.filter(case=case, kind=kind).order_by("-issued_at", "-id").first()


def open_screening_deadline(case: Case) -> Deadline | None:
    return (
        Deadline.objects.filter(
            case=case, kind=DeadlineKind.SCREENING, assignment_id__isnull=True, met_at__isnull=True
        )
        .order_by("due_at")
        .first()
    )


def returned_assignments(case: Case) -> list[Assignment]:
    """Why a returned case came back: the departments' objections, newest first."""
    return list(
        Assignment.objects.filter(case=case, state=AssignmentState.RETURNED)
        .select_related("department")
        .order_by("-returned_at", "-id")
    )


# --- what petitions' visibility and case page need (registered in routing.apps via petitions.hooks)


def cases_transferred_out_by(center_ids: Sequence[int]) -> QuerySet[Transfer, int]:
    """Ids of the cases these centers transferred outside their own subtree: they stay readable
    to follow the outcome (a ``values_list`` the visibility selector UNIONs, no query of its
    own)."""
    return (
        Transfer.objects.filter(from_center_id__in=center_ids)
        .exclude(to_center_id__in=center_ids)
        .values_list("case_id", flat=True)
        .distinct()
    )


def assigned_to_department_q(department_id: int) -> Q:
    """Cases the department is or was assigned, as a condition on Case."""
    return Q(Exists(Assignment.objects.filter(case_id=OuterRef("pk"), department_id=department_id)))


def case_page_assignments(case_id: int) -> list[Assignment]:
    """The case's assignments, oldest first, with department and handler (the case page)."""
    return list(
        Assignment.objects.filter(case_id=case_id)
        .select_related("department", "handler")
        .order_by("assigned_at", "id")
    )


def assignment_audience(event: Any) -> list[dict[str, object]]:
    """The outbox audience of an assign/reassign event (clocks.notify): the officers and heads
    of each department holding an active assignment of the case."""
    departments = Assignment.objects.filter(
        case_id=event.case_id, state__in=ACTIVE_ASSIGNMENT_STATES
    ).values_list("department_id", flat=True)
    return [
        {
            "audience_center_id": event.case.center_id,
            "audience_department_id": d,
            "audience_role": role,
        }
        for d in departments
        for role in ("officer", "head")
    ]
