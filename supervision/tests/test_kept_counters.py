"""The kept counters of the triage tabs and the dashboard (issue 21 §1, supervision.counters):
after a seeded random mix of services and sweeps (time moved), and after concurrent services on
one center, every kept figure equals a full live recount; both screens read them in a constant
number of queries."""

from __future__ import annotations

import contextlib
import random
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clocks.sweep import run_deadline_checks
from core.errors import DomainError
from petitions.models import Case, CaseStateCount
from petitions.testing import register
from routing.models import Assignment, AssignmentState
from routing.selectors import QueueFilters, triage_queue_counts, triage_queue_counts_live
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    not_accept,
    return_assignment,
    sign_for_assignment,
    transfer_case,
)
from supervision.counters import compact_kept_counters, recount_kept_counters
from supervision.models import DashboardCount
from supervision.selectors import (
    DashboardFilters,
    dashboard_figures,
    dashboard_figures_live,
    dashboard_scope,
)
from supervision.tests.test_dashboard import staff_at


def assert_dashboard_matches_recount(user, now):
    scope = dashboard_scope(user)
    for filters in [DashboardFilters()] + [DashboardFilters(center_id=c.pk) for c in scope.centers]:
        kept = dashboard_figures(user, filters, scope=scope, now=now)
        live = dashboard_figures_live(user, filters, scope=scope, now=now)
        assert kept == live, filters
    return dashboard_figures(user, DashboardFilters(), scope=scope, now=now)


def assert_triage_matches_recount(users) -> None:
    for user in users:
        assert triage_queue_counts(user, QueueFilters()) == triage_queue_counts_live(
            user, QueueFilters()
        )


class Mix:
    """Services on random cases of two centers, with the dashboard's inputs all moving: clocks
    going at risk (the sweep with time moved), assignment, sign-for, acceptance (the handler),
    return, transfer to the county, closing at screening."""

    def __init__(self, org, cast, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.city = staff_at(org, cast, org.city)
        self.county = staff_at(org, cast, org.county_a)
        self.org = org

    def staff(self, case):
        return self.city if case.center_id == self.org.city.pk else self.county

    def step(self, now) -> None:
        # a refusal (e.g. the objection window ran out) is part of the mix
        with contextlib.suppress(DomainError, ValidationError):
            self._step(now)

    def _step(self, now) -> None:
        open_cases = list(Case.objects.filter(state__in=("registered", "returned")))
        pending = list(Assignment.objects.filter(state=AssignmentState.PENDING))
        signed = list(Assignment.objects.filter(state=AssignmentState.SIGNED))
        op = self.rnd.choice(
            [
                "register",
                "register",
                "assign",
                "assign",
                "sign",
                "accept",
                "return",
                "transfer",
                "not_accept",
            ]
        )
        if op == "register" or not open_cases:
            staff = self.rnd.choice([self.city, self.county])
            register(staff.reception, is_law_related=self.rnd.random() < 0.5)
            return
        case = self.rnd.choice(open_cases)
        staff = self.staff(case)
        if op == "assign" and case.state == "registered":
            assign_case(
                actor=staff.triage,
                case=case,
                lead=DepartmentDue(
                    staff.officer.department, now + timedelta(days=self.rnd.randint(2, 40))
                ),
            )
        elif op == "sign" and pending:
            a = self.rnd.choice(pending)
            sign_for_assignment(actor=self.staff(a.case).officer, assignment=a)
        elif op == "accept" and signed:
            a = self.rnd.choice(signed)
            accept_assignment(actor=self.staff(a.case).officer, assignment=a)
        elif op == "return" and pending:
            a = self.rnd.choice(pending)
            return_assignment(
                actor=self.staff(a.case).officer, assignment=a, reason="不属本单位职责"
            )
        elif op == "transfer" and case.center_id == self.org.city.pk:
            transfer_case(actor=staff.triage, case=case, to_center=self.org.county_a, reason="属地")
        elif op == "not_accept" and case.state == "registered":
            not_accept(actor=staff.triage, case=case, reason="不属于信访事项")


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [21, 2026])
def test_kept_counters_match_a_full_recount_after_a_random_mix(org, cast, seed):
    mix = Mix(org, cast, seed)
    start = timezone.now()
    triage_users = [cast["triage"], cast["county_triage"]]
    supervisor = cast["province_supervisor"]
    seen_overdue = seen_at_risk = 0
    for day in range(0, 60, 4):
        now = start + timedelta(days=day)
        with time_machine.travel(now, tick=False):
            for _ in range(4):
                mix.step(now)
            run_deadline_checks(now=now)
            assert_triage_matches_recount(triage_users)
            figures = assert_dashboard_matches_recount(supervisor, now)
            seen_overdue = max(seen_overdue, figures.overdue_clocks)
            seen_at_risk = max(seen_at_risk, figures.totals.total)
    # something was counted on the way: overdue clocks, cases at risk
    assert seen_overdue > 0 and seen_at_risk > 1
    kept = dashboard_figures(
        supervisor, DashboardFilters(), scope=dashboard_scope(supervisor), now=now
    )
    # folding the delta rows and rebuilding from scratch change nothing
    before = (triage_queue_counts(cast["triage"], QueueFilters()), kept)
    compact_kept_counters()
    scope = dashboard_scope(supervisor)
    assert dashboard_figures(supervisor, DashboardFilters(), scope=scope, now=now) == before[1]
    recount_kept_counters()
    assert dashboard_figures(supervisor, DashboardFilters(), scope=scope, now=now) == before[1]
    assert triage_queue_counts(cast["triage"], QueueFilters()) == before[0]


@pytest.mark.django_db
def test_triage_counts_hand_counted(org, cast):
    for _ in range(3):
        register(cast["reception"])
    returned = register(cast["reception"]).case
    closed = register(cast["reception"]).case
    register(cast["county_reception"])
    not_accept(actor=cast["triage"], case=closed, reason="不属于信访事项")
    (lead,) = assign_case(
        actor=cast["triage"],
        case=returned,
        lead=DepartmentDue(cast["police"].department, timezone.now() + timedelta(days=30)),
    )
    return_assignment(actor=cast["police"], assignment=lead, reason="不属本单位职责")
    counts = triage_queue_counts(cast["triage"], QueueFilters())
    returned.refresh_from_db()
    assert counts["new"] == 3 and counts["open"] == 3 + (returned.state in ("returned",))
    assert counts == triage_queue_counts_live(cast["triage"], QueueFilters())
    assert triage_queue_counts(cast["county_triage"], QueueFilters())["new"] == 1


@pytest.mark.django_db
def test_triage_tabs_and_dashboard_read_in_constant_queries(org, cast):
    now = timezone.now()
    supervisor = cast["province_supervisor"]
    scope = dashboard_scope(supervisor)

    def read() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as triage:
            triage_queue_counts(cast["triage"], QueueFilters())
        with CaptureQueriesContext(connection) as dashboard:
            dashboard_figures(supervisor, DashboardFilters(), scope=scope, now=now)
        return len(triage), len(dashboard)

    register(cast["reception"])
    read()  # the process's caches warm (the user's roles)
    small = read()
    mix = Mix(org, cast, 7)
    for _ in range(25):
        mix.step(now)
    run_deadline_checks(now=now + timedelta(days=45))
    large = read()
    # one query each for the counters (+ the officers' names when officers are listed)
    assert small[0] == large[0] == 1
    assert small[1] <= 2 and large[1] <= 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_services_on_one_center_keep_the_counters_exact(org, cast):
    """Real threads, separate connections: registrations, assignments and acceptances at one
    center at the same time as sweeps; then every counter equals the recount."""
    city = staff_at(org, cast, org.city)
    now = timezone.now()
    cases = [register(city.reception).case for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(fn) -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            errors.append(exc)
        finally:
            connections.close_all()

    def registrations() -> None:
        for _ in range(4):
            register(city.reception)

    def assignments(mine) -> None:
        for case in mine:
            (lead,) = assign_case(
                actor=city.triage,
                case=case,
                lead=DepartmentDue(city.officer.department, now + timedelta(days=3)),
            )
            sign_for_assignment(actor=city.officer, assignment=lead)
            accept_assignment(actor=city.officer, assignment=lead)

    def sweeps() -> None:
        for days in (1, 2, 5):
            run_deadline_checks(now=now + timedelta(days=days))

    threads = [
        threading.Thread(target=worker, args=(registrations,)),
        threading.Thread(target=worker, args=(lambda: assignments(cases[:3]),)),
        threading.Thread(target=worker, args=(lambda: assignments(cases[3:]),)),
        threading.Thread(target=worker, args=(sweeps,)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    compact_kept_counters()  # refreshes what a sweep left pending, folds the deltas
    later = now + timedelta(days=70)
    run_deadline_checks(now=later)
    assert_triage_matches_recount([cast["triage"]])
    assert_dashboard_matches_recount(cast["province_supervisor"], later)
    assert triage_queue_counts(cast["triage"], QueueFilters())["new"] == 4
    figures = dashboard_figures(
        cast["province_supervisor"],
        DashboardFilters(),
        scope=dashboard_scope(cast["province_supervisor"]),
        now=later,
    )
    # at day 70: the six accepted cases' 60-day handling clocks and the four new cases'
    # screening clocks are overdue
    assert figures.totals.overdue == 10
    assert CaseStateCount.objects.exists() and DashboardCount.objects.exists()
