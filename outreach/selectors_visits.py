"""Reads of 下访 / 约访 and of the leaders' reception days (领导接访日).

- ``outreach_for_case(user, case)``: the case's visits to the petitioner and appointments, newest
  first. ``case`` must come from petitions.selectors.get_case_for (the viewer's scoping).
- ``visits_by_leader(leader)``: the leader's page (the home page): the 下访 the leader went on and
  the visits the leader received in person (reception days, appointments, tours).
- ``reception_days(center_ids, since, until)``, ``public_schedule(today)``, ``leaders_on_duty``:
  the schedule, its public notice, the desk's choice of today's leaders.
- ``counts(center_ids, since, until)``: the reports' figures (issue 20 §2, §3), see its docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import pgettext_lazy

from core.models import User, UserRole
from core.roles import Role
from intake.models import LeaderDuty
from petitions.models import Case, Visit
from routing.models import Assignment, AssignmentRole
from supervision.models import LeaderResponsibility

from .models import Outreach, OutreachKind, OutreachState

PUBLIC_SCHEDULE_DAYS = 30

# Words of the choices that collide in the catalogue with the same English elsewhere ("Home" is
# the navigation's 首页, "Kept" a campaign's 已列入): in a context of their own.
PLACE_LABELS = {
    "home": pgettext_lazy("place", "Home"),
    "village": pgettext_lazy("place", "Village or community"),
    "workplace": pgettext_lazy("place", "Workplace"),
    "center": pgettext_lazy("place", "Reception center"),
    "other": pgettext_lazy("place", "Other"),
}
STATE_LABELS = {
    "done": pgettext_lazy("outreach", "Done"),
    "scheduled": pgettext_lazy("outreach", "Scheduled"),
    "kept": pgettext_lazy("outreach", "Kept"),
    "missed": pgettext_lazy("outreach", "Missed"),
    "cancelled": pgettext_lazy("outreach", "Cancelled"),
}


def place_label(value: str) -> str:
    return str(PLACE_LABELS.get(value, value))


def state_label(value: str) -> str:
    return str(STATE_LABELS.get(value, value))


LEADER_PAGE_ROWS = 20

__all__ = [
    "COUNT_KEYS",
    "PUBLIC_SCHEDULE_DAYS",
    "case_panel_context",
    "counts",
    "get_appointment_for",
    "leaders_on_duty",
    "outreach_for_case",
    "public_schedule",
    "reception_days",
    "visits_by_leader",
]


def outreach_for_case(user: User, case: Case) -> list[Outreach]:
    """The case's 下访 and 约访, newest first (served by outreach_case_idx). The viewer's access
    to the case is the caller's get_case_for; ``user`` is kept for the signature's symmetry with
    the other selectors and future narrowing."""
    return list(
        Outreach.objects.filter(case_id=case.pk)
        .select_related("leader", "recorded_by", "visit")
        .order_by("-at", "-pk")
    )


def get_appointment_for(user: User, case: Case, pk: int) -> Outreach | None:
    return (
        Outreach.objects.filter(case_id=case.pk, pk=pk, kind=OutreachKind.APPOINTMENT)
        .select_related("case", "leader")
        .first()
    )


def case_panel_context(user: User, case: Case, page: Any) -> dict[str, Any]:
    """The case page's visits part (outreach.case_panel): the 下访 and 约访 (one query) and, for
    who may record, the forms (one query: the leaders to choose from). Whether the viewer may
    record is read from the page's assignments (``page.assignments``, loaded once for the
    page). The visits received in person by a leader are in the page's visits table."""
    from .services.visits import may_record_outreach

    rows = outreach_for_case(user, case)
    assignments = getattr(page, "assignments", None)
    may_record = may_record_outreach(user, case, assignments=assignments)
    context: dict[str, Any] = {
        "home_visits": [r for r in rows if r.kind == OutreachKind.HOME_VISIT],
        "appointments": [r for r in rows if r.kind == OutreachKind.APPOINTMENT],
        "may_record": may_record,
    }
    if may_record:
        from .views_visits import panel_forms

        context.update(panel_forms(case))
    return context


def visits_by_leader(leader: User, *, limit: int = LEADER_PAGE_ROWS) -> dict[str, Any]:
    """The leader's 下访 (with whether the case is one of the leader's 包案 cases) and the visits
    the leader received in person, newest first (three queries)."""
    own_case = LeaderResponsibility.objects.filter(case_id=OuterRef("case_id"), leader=leader)
    home = list(
        Outreach.objects.filter(leader=leader, kind=OutreachKind.HOME_VISIT)
        .annotate(is_own_case=Exists(own_case))
        .select_related("case")
        .order_by("-at", "-pk")[:limit]
    )
    appointments = list(
        Outreach.objects.filter(
            leader=leader, kind=OutreachKind.APPOINTMENT, state=OutreachState.SCHEDULED
        )
        .select_related("case")
        .order_by("at", "pk")[:limit]
    )
    received = list(
        Visit.objects.filter(received_by_leader=leader)
        .select_related("case", "petitioner")
        .order_by("-at", "-pk")[:limit]
    )
    return {"home_visits": home, "appointments": appointments, "received": received}


# --- the schedule ---------------------------------------------------------------------------------


def reception_days(
    center_ids: Iterable[int], since: date | None = None, until: date | None = None
) -> QuerySet[LeaderDuty]:
    """The schedule of these centers, by day and time (``until`` inclusive)."""
    qs = LeaderDuty.objects.filter(center_id__in=list(center_ids))
    if since is not None:
        qs = qs.filter(date__gte=since)
    if until is not None:
        qs = qs.filter(date__lte=until)
    return qs.select_related("leader", "center").order_by("date", "starts_at", "center_id", "pk")


def public_schedule(today: date, days: int = PUBLIC_SCHEDULE_DAYS) -> list[dict[str, Any]]:
    """The next ``days`` days' reception days of every center (the province's centers), as the
    public may read them: day, time, center, place, subject, the leader's name and title. Nothing
    else of the person (no account, no contact). One query."""
    rows = (
        LeaderDuty.objects.filter(date__gte=today, date__lt=today + timedelta(days=days))
        .select_related("leader", "center")
        .annotate(
            is_leader=Exists(
                UserRole.objects.filter(user_id=OuterRef("leader_id"), role=Role.LEADER)
            )
        )
        .order_by("date", "starts_at", "center__path", "pk")
    )
    return [public_row(d) for d in rows]


def public_row(duty: LeaderDuty) -> dict[str, Any]:
    from django.utils.translation import gettext as _

    leader = duty.leader
    name = leader.get_full_name() or leader.username
    is_leader = getattr(duty, "is_leader", None)
    if is_leader is None:
        is_leader = leader.has_role(Role.LEADER)
    return {
        "date": duty.date,
        "starts_at": duty.starts_at,
        "ends_at": duty.ends_at,
        "center": duty.center.name,
        "place": duty.place,
        "subject": duty.subject,
        "leader": name,
        "title": _("Leader") if is_leader else _("Department head"),
    }


def leaders_on_duty(center_id: int | None, day: date) -> list[LeaderDuty]:
    """Today's leaders receiving at this center, by time (the desk's banner and its choice of
    who received the visit in person). Served by leaderduty_once_per_day (center, date)."""
    if center_id is None:
        return []
    return list(
        LeaderDuty.objects.filter(center_id=center_id, date=day)
        .select_related("leader")
        .order_by("starts_at", "pk")
    )


# --- the reports' figures ---------------------------------------------------------------------------

COUNT_KEYS = (
    "home_visits",
    "home_visits_by_leaders",
    "appointments",
    "appointments_kept",
    "appointments_missed",
    "leader_receptions",
    "leader_receptions_by_leaders",
    "leader_receptions_by_heads",
)


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def _lead_department() -> Subquery:
    # The case's lead department: its latest lead assignment (active or done), as the reports
    # count a case under the department that handled it.
    return Subquery(
        Assignment.objects.filter(case_id=OuterRef("case_id"), role=AssignmentRole.LEAD)
        .order_by("-assigned_at", "-pk")
        .values("department_id")[:1]
    )


def counts(center_ids: Sequence[int], since: datetime, until: datetime) -> dict[str, Any]:
    """The reports' outreach figures over ``since <= at < until`` for these centers (three
    grouped queries), as ``{"total": {...}, "by_center": {center_id: {...}},
    "by_department": {department_id: {...}}}``, each inner dict with every key of COUNT_KEYS:

    - ``home_visits``: 下访 recorded (by when they took place), ``home_visits_by_leaders`` those
      with a leader (a leader or department head) who went; by the case's center and lead
      department.
    - ``appointments``: 约访 set for a time in the period (cancelled ones left out);
      ``appointments_kept`` / ``appointments_missed`` of them; by the case's center and lead
      department.
    - ``leader_receptions``: visits received in person by a leader (petitions.Visit.
      received_by_leader: reception days, kept appointments, tours), by the visit's center;
      ``leader_receptions_by_leaders`` those by a user with the leader role,
      ``leader_receptions_by_heads`` those by a department head (the head of the organ in person,
      as the department reports count them) without the leader role. By department: the
      receiving head's own department (a head's receptions count for the organ they head).
    """
    ids = list(center_ids)
    out: dict[str, Any] = {"total": _zero(), "by_center": {}, "by_department": {}}

    def add(bucket: str, key: Any, values: dict[str, int]) -> None:
        if bucket == "total":
            target = out["total"]
        else:
            if key is None:
                return
            target = out[bucket].setdefault(key, _zero())
        for name, n in values.items():
            target[name] += n or 0

    outreach = (
        Outreach.objects.filter(case__center_id__in=ids, at__gte=since, at__lt=until)
        .exclude(state=OutreachState.CANCELLED)
        .annotate(department_id=_lead_department())
        .values("case__center_id", "department_id")
        .annotate(
            home_visits=Count("pk", filter=Q(kind=OutreachKind.HOME_VISIT)),
            home_visits_by_leaders=Count(
                "pk", filter=Q(kind=OutreachKind.HOME_VISIT, leader__isnull=False)
            ),
            appointments=Count("pk", filter=Q(kind=OutreachKind.APPOINTMENT)),
            appointments_kept=Count(
                "pk", filter=Q(kind=OutreachKind.APPOINTMENT, state=OutreachState.KEPT)
            ),
            appointments_missed=Count(
                "pk", filter=Q(kind=OutreachKind.APPOINTMENT, state=OutreachState.MISSED)
            ),
        )
        .order_by()
    )
    row: dict[str, Any]
    for row in outreach:  # type: ignore[assignment]
        values = {k: row[k] for k in COUNT_KEYS[:5]}
        add("total", None, values)
        add("by_center", row["case__center_id"], values)
        add("by_department", row["department_id"], values)

    is_leader = Exists(
        UserRole.objects.filter(user_id=OuterRef("received_by_leader_id"), role=Role.LEADER)
    )
    receptions = (
        Visit.objects.filter(
            center_id__in=ids, at__gte=since, at__lt=until, received_by_leader__isnull=False
        )
        .annotate(by_leader=is_leader)
        .values("center_id", "received_by_leader__department_id", "by_leader")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in receptions:  # type: ignore[assignment]
        n = row["n"]
        values = {
            "leader_receptions": n,
            "leader_receptions_by_leaders": n if row["by_leader"] else 0,
            "leader_receptions_by_heads": 0 if row["by_leader"] else n,
        }
        add("total", None, values)
        add("by_center", row["center_id"], values)
        add("by_department", row["received_by_leader__department_id"], values)
    return out
