"""The dashboard's department and officer breakdowns come from one GROUPING SETS query
(supervision.selectors._grouped_by_responsible, issue 10): checked against a full recount, one
plain GROUP BY per column, over cases with and without a department or a handler."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from clocks.models import Deadline
from clocks.sweep import run_deadline_checks
from petitions.testing import register
from supervision.selectors import (
    DashboardFilters,
    _grouped,
    _grouped_by_responsible,
    at_risk_deadlines,
    dashboard_figures,
    dashboard_scope,
)
from supervision.tests.test_dashboard import handling_case, overdue_by, staff_at


def test_department_and_officer_breakdowns_match_a_full_recount(org, cast):
    now = timezone.now()
    for center, n, days in ((org.city, 3, 2), (org.county_a, 2, 40), (org.city, 1, 100)):
        staff = staff_at(org, cast, center)
        for _ in range(n):
            overdue_by(handling_case(staff), days, now)
    # a screening clock nobody answers for yet (no department, no handler)
    unassigned = register(cast["reception"]).case
    Deadline.objects.filter(case=unassigned, met_at__isnull=True).update(
        starts_at=now - timedelta(days=20), due_at=now - timedelta(days=5)
    )
    run_deadline_checks(now=now)

    supervisor = cast["province_supervisor"]
    qs = at_risk_deadlines(supervisor, DashboardFilters(), now=now)
    by_department, by_officer = _grouped_by_responsible(qs)
    assert by_department == _grouped(qs, "responsible_department_id")
    assert by_officer == _grouped(qs, "responsible_handler_id")
    assert sum(c.total for c in by_department.values()) >= 6
    assert None in by_department and None in by_officer

    figures = dashboard_figures(
        supervisor, DashboardFilters(), scope=dashboard_scope(supervisor), now=now
    )
    assert sum(r.counts.overdue for r in figures.by_officer) == sum(
        c.overdue for c in _grouped(qs, "responsible_handler_id").values()
    )
