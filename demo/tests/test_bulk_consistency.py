"""Every bulk-generated case (demo.cases) has the rows the services would have written for its
state, so it shows in the queues and its pages offer the next step (read through the real
selectors and views, as the seeded demo users)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from appeals.models import (
    ACTIVE_TERMINATION_STATES,
    Finality,
    FinalityReason,
    ReviewKind,
    ReviewRequest,
    Termination,
    TerminationState,
)
from appeals.selectors import forwarded_reviews, waiting_reviews, waiting_terminations
from clocks.models import Deadline
from closure.models import CaseClosure, Evaluation, Rating, Reply, ReplyStatus, ReturnVisit
from core.models import Center, User
from core.reference_data import ensure_reference_data
from core.roles import Role
from demo.organisation import demo_username
from petitions.models import Case
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole

pytestmark = pytest.mark.django_db

S = CaseState
NOW = datetime(2026, 6, 16, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CASES, SEED = 300, 11
# case state → state of its lead assignment, as routing.services leaves it
LEAD_STATE: dict[str, str] = {S.ASSIGNED: "pending", S.SIGNED: "signed", S.HANDLING: "accepted"}
# case state → the duty clock that runs in it (clocks.Deadline kind)
DUTY: dict[str, str] = {
    S.REGISTERED: "screening",
    S.ASSIGNED: "acceptance_notice",
    S.SIGNED: "acceptance_notice",
    S.HANDLING: "handling",
    S.REVIEW: "review_decision",
    S.RE_REVIEW: "re_review_decision",
}


@pytest.fixture(autouse=True)
def seeded(db: None) -> Iterator[None]:
    """300 bulk cases (no worklist), and the clock stopped at the seeding's "now" so that windows
    and due dates are read as the generator laid them out."""
    ensure_reference_data()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "seed_demo",
            cases=CASES,
            seed=SEED,
            batch=64,
            no_worklist=True,
            no_report_counters=True,
            no_campaigns=True,
            stdout=io.StringIO(),
        )
        yield


def deciders(center: Center) -> list[User]:
    return list(
        User.objects.filter(
            username__in=[
                demo_username(center.region_code, Role.SUPERVISOR),
                demo_username(center.region_code, Role.LEADER),
            ]
        ).order_by("username")
    )


def page(user: User, case: Case) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("appeals:case", args=[case.pk]))
    assert response.status_code == 200, (case.number, user.username)
    return response.content.decode()


def test_the_sample_reaches_the_states_checked_here():
    states = Counter(Case.objects.values_list("state", flat=True))
    for state in (S.HANDLING, S.REPLIED, S.REVIEW, S.CLOSED, S.ARCHIVED):
        assert states[state] > 0, states


def test_every_review_and_re_review_waits_in_the_deciding_centers_queue_and_page():
    cases = list(
        Case.objects.filter(state__in=[S.REVIEW, S.RE_REVIEW]).select_related("center__parent")
    )
    assert cases
    for case in cases:
        pending = list(ReviewRequest.objects.filter(case=case, decision=""))
        assert len(pending) == 1, case.number
        request = pending[0]
        kind = ReviewKind.REVIEW if case.state == S.REVIEW else ReviewKind.RE_REVIEW
        assert request.kind == kind, case.number
        # one level up from the body whose answer is challenged (Arts 35-36)
        if kind == ReviewKind.REVIEW:
            assert request.reply is not None and request.reply.status == ReplyStatus.DELIVERED
            answering = request.reply.department.center
        else:
            assert request.previous is not None and request.previous.decision, case.number
            answering = request.previous.reviewing_center
        assert request.reviewing_center_id == (answering.parent_id or answering.pk), case.number
        # Art 36: a re-review of a review decided at the top (no center above) goes upward
        top = kind == ReviewKind.RE_REVIEW and answering.parent_id is None
        assert bool(request.forwarded_to) == top, case.number
        clock = Deadline.objects.get(case=case, kind=DUTY[case.state], met_at__isnull=True)
        assert clock.due_at == request.decision_due_at == case.next_due_at, case.number
        queue, form = (
            (forwarded_reviews, "outcome-form") if top else (waiting_reviews, "decide-form")
        )
        offered = [
            user
            for user in deciders(request.reviewing_center)
            if queue(user).filter(pk=request.pk).exists()
        ]
        assert offered, f"{case.number}: in no decider's queue at {request.reviewing_center}"
        for user in offered:
            assert f'data-testid="{form}"' in page(user, case), (case.number, user.username)


def test_every_replied_case_has_its_delivered_reply_and_review_window():
    cases = list(Case.objects.filter(state=S.REPLIED))
    assert cases
    for case in cases:
        reply = Reply.objects.get(case=case, superseded_at__isnull=True)
        assert reply.status == ReplyStatus.DELIVERED and reply.delivered_at, case.number
        assert reply.document_number and reply.approved_by_id, case.number
        assert Deadline.objects.filter(case=case, kind="review_window").exists(), case.number
        assert not Deadline.objects.duties().filter(case=case, met_at__isnull=True).exists()


def test_every_assigned_case_has_its_lead_assignment_and_running_clock():
    cases = list(Case.objects.filter(state__in=list(LEAD_STATE)))
    assert any(c.state == S.HANDLING for c in cases)
    for case in cases:
        lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
        assert lead.state == LEAD_STATE[case.state], case.number
        clock = Deadline.objects.get(case=case, kind=DUTY[case.state], met_at__isnull=True)
        assert case.next_due_at == clock.due_at, case.number
        if case.state == S.HANDLING:
            assert lead.handler_id and lead.accepted_at, case.number


def test_every_open_case_runs_the_clock_of_its_state():
    for case in Case.objects.filter(state__in=list(DUTY)):
        assert Deadline.objects.filter(
            case=case, kind=DUTY[case.state], met_at__isnull=True
        ).exists(), (case.number, case.state)


def test_every_termination_under_way_waits_for_its_approver():
    active = list(
        Termination.objects.filter(state__in=ACTIVE_TERMINATION_STATES).select_related(
            "case__center"
        )
    )
    for termination in active:
        case = termination.case
        assert case.state in {S.REPLIED, S.CLOSED}, case.number
        center = (
            case.center
            if termination.state == TerminationState.PROPOSED
            else Center.objects.get(level="province")
        )
        approvers = [
            u for u in deciders(center) if waiting_terminations(u).filter(pk=termination.pk)
        ]
        assert approvers, case.number
        testid = (
            "termination-review-form"
            if termination.state == TerminationState.PROPOSED
            else "termination-approve-form"
        )
        assert f'data-testid="{testid}"' in page(approvers[0], case), case.number


def test_final_terminated_and_archived_cases_have_their_records():
    for case in Case.objects.filter(state=S.TERMINATED):
        assert Termination.objects.filter(case=case, state=TerminationState.APPROVED).exists()
        assert Finality.objects.get(case=case).reason == FinalityReason.TERMINATED
    re_reviewed = ReviewRequest.objects.filter(kind=ReviewKind.RE_REVIEW).exclude(decision="")
    for request in re_reviewed:
        assert Finality.objects.filter(case=request.case_id).exists(), request.case_id
    archived = Case.objects.filter(state=S.ARCHIVED)
    assert archived.exists()
    numbers = CaseClosure.objects.filter(case__in=archived).exclude(archive_number=None)
    assert numbers.count() == archived.count()


def test_a_dissatisfied_verdict_schedules_a_return_visit():
    dissatisfied = Evaluation.objects.filter(center_rating=Rating.DISSATISFIED)
    for evaluation in dissatisfied:
        assert ReturnVisit.objects.filter(evaluation=evaluation).exists(), evaluation.case_id
