"""Reads for the reply, evaluation and closure pages, the inboxes and the API (and for appeals and
reports: ``delivered_reply``, ``evaluation_for``). Case visibility itself is decided by
petitions.selectors; these take a case the caller may already see, or a viewer for lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from clocks.deadlines import compute_due
from clocks.models import DeadlineKind
from core.models import Center, User
from core.roles import Role
from petitions.models import Case
from petitions.states import CaseState
from routing.models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole, AssignmentState

from .models import (
    SATISFIED_RATINGS,
    CaseClosure,
    Evaluation,
    EvaluationChannel,
    Reply,
    ReplyStatus,
    ReturnVisit,
)


def evaluation_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "EVALUATION_WINDOW_DAYS", 30)))


def current_reply(case: Case) -> Reply | None:
    """The case's reply that is not superseded (a draft, approved or delivered), if any."""
    return (
        Reply.objects.filter(case=case, superseded_at__isnull=True)
        .select_related("department", "drafted_by", "approved_by", "delivered_by", "sent_back_by")
        .first()
    )


def delivered_reply(case: Case) -> Reply | None:
    """The written reply delivered to the petitioner (the current one), if any."""
    reply = current_reply(case)
    return reply if reply is not None and reply.status == ReplyStatus.DELIVERED else None


@dataclass(frozen=True)
class ReviewRoute:
    """Where and by when the petitioner may ask for review (复查) of a delivered reply."""

    organ: str
    due: date


def review_window_due(*, answered_at: datetime, center: Center) -> datetime:
    """The end of the petitioner's window to ask for review or re-review, opened when a written
    answer was delivered at ``answered_at``: 23:59:59 Beijing time on the 30th calendar day after
    (the day of delivery does not count; a holiday on the last day does not move it: the
    window's rule in clocks). Appeals opens its window clock with it (appeals.windows)."""
    due_at, _provisional, _rule = compute_due(
        kind=DeadlineKind.REVIEW_REQUEST_WINDOW, start=answered_at, center=center
    )
    return due_at


def review_route_of(reply: Reply) -> ReviewRoute | None:
    """The reviewing organ (the center above the one that answered; a province center reviews
    its own answers) and the last day to ask: 30 days from the delivery of the written reply
    (Art 35). The same rule as appeals.services.review_subject, whose window clock
    (appeals.windows) computes its end with ``review_window_due`` below."""
    if reply.delivered_at is None:
        return None
    answering = reply.department.center
    organ = answering.parent if answering.parent_id is not None else answering
    assert organ is not None
    due_at = review_window_due(answered_at=reply.delivered_at, center=reply.case.center)
    return ReviewRoute(organ=organ.name, due=timezone.localdate(due_at))


def evaluation_due_at(reply: Reply) -> datetime | None:
    """End of the evaluation window of a delivered reply."""
    return reply.delivered_at + evaluation_window() if reply.delivered_at else None


def evaluation_for(case: Case) -> Evaluation | None:
    """The evaluation that counts for the case: the latest one of its current delivered reply (a
    return visit may record a newer verdict than the first one)."""
    reply = delivered_reply(case)
    if reply is None:
        return None
    return (
        counting_evaluations(Evaluation.objects.filter(reply=reply))
        .select_related("recorded_by")
        .order_by("-evaluated_at", "-id")
        .first()
    )


def counting_evaluations(rows: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Leave out a verdict "at a return visit" recorded by a member of the department being
    rated: it cannot overwrite the petitioner's own verdict on itself (issue 18 #9). The service
    refuses such rows now; this keeps the ones written before from counting for archiving."""
    return rows.exclude(
        channel=EvaluationChannel.RETURN_VISIT,
        recorded_by__department_id__isnull=False,
        recorded_by__department_id=F("department_id"),
    )


def first_evaluation(reply: Reply) -> Evaluation | None:
    return (
        Evaluation.objects.filter(reply=reply)
        .exclude(channel=EvaluationChannel.RETURN_VISIT)
        .first()
    )


class EvaluationStatus:
    NOT_DUE = "not_due"  # no delivered reply
    OPEN = "open"  # delivered, window running, not evaluated yet
    EVALUATED = "evaluated"
    NOT_EVALUATED = "not_evaluated"  # window ended without an evaluation


def evaluation_status(case: Case, now: datetime | None = None) -> str:
    reply = delivered_reply(case)
    if reply is None:
        return EvaluationStatus.NOT_DUE
    if Evaluation.objects.filter(reply=reply).exists():
        return EvaluationStatus.EVALUATED
    due = evaluation_due_at(reply)
    if due is not None and (now or timezone.now()) > due:
        return EvaluationStatus.NOT_EVALUATED
    return EvaluationStatus.OPEN


def is_satisfied(evaluation: Evaluation | None) -> bool:
    return (
        evaluation is not None
        and evaluation.center_rating in SATISFIED_RATINGS
        and evaluation.department_rating in SATISFIED_RATINGS
    )


def lead_assignment(case: Case) -> Assignment | None:
    """The lead department's current assignment (accepted, or done once the case closed)."""
    return (
        Assignment.objects.filter(case=case, role=AssignmentRole.LEAD)
        .exclude(state__in=[AssignmentState.CANCELLED, AssignmentState.RETURNED])
        .select_related("department", "handler")
        .order_by("-assigned_at", "-id")
        .first()
    )


def lead_among(assignments: Iterable[Assignment]) -> Assignment | None:
    """``lead_assignment`` chosen from the case's assignments already in memory (the case page's
    shared list), without a query."""
    leads = [
        a
        for a in assignments
        if a.role == AssignmentRole.LEAD
        and a.state not in (AssignmentState.CANCELLED, AssignmentState.RETURNED)
    ]
    return max(leads, key=lambda a: (a.assigned_at, a.pk), default=None)


def open_assisting(case: Case) -> list[Assignment]:
    """Assisting parts not finished yet: closing waits for them."""
    return list(
        Assignment.objects.filter(
            case=case, role=AssignmentRole.ASSIST, state__in=ACTIVE_ASSIGNMENT_STATES
        )
        .select_related("department")
        .order_by("id")
    )


def contributions(case: Case) -> list[Assignment]:
    return list(
        Assignment.objects.filter(case=case, role=AssignmentRole.ASSIST)
        .exclude(contribution="")
        .select_related("department")
        .order_by("id")
    )


def merged_contributions(case: Case) -> str:
    """The assisting departments' contributions, one paragraph each: internal advice kept on the
    reply for the file (``Reply.contributions``), never part of the printed text."""
    return "\n".join(f"【{a.department.name}】{a.contribution}" for a in contributions(case))


def evaluations_of(case: Case) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(case=case)
        .select_related("recorded_by", "department")
        .order_by("evaluated_at", "id")
    )


def return_visits_of(case: Case) -> QuerySet[ReturnVisit]:
    return (
        ReturnVisit.objects.filter(case=case)
        .select_related("department", "done_by", "created_by", "evaluation")
        .order_by("scheduled_for", "id")
    )


def closure_of(case: Case) -> CaseClosure | None:
    return CaseClosure.objects.filter(case=case).first()


# --- the department's closure inbox --------------------------------------------------------------


@dataclass
class ClosureInbox:
    to_draft: list[Case]
    drafts: list[Reply]
    to_approve: list[Reply]
    to_deliver: list[Reply]
    visits_due: list[ReturnVisit]

    @property
    def total(self) -> int:
        return (
            len(self.to_draft)
            + len(self.drafts)
            + len(self.to_approve)
            + len(self.to_deliver)
            + len(self.visits_due)
        )


INBOX_LIMIT = 200


def _reply_rows(department_id: int, statuses: list[str]) -> QuerySet[Reply]:
    return (
        Reply.objects.filter(
            department_id=department_id, status__in=statuses, superseded_at__isnull=True
        )
        .select_related("case", "case__main_petitioner", "drafted_by", "sent_back_by")
        .order_by("drafted_at", "id")
    )


def closure_inbox(user: User) -> ClosureInbox:
    """What waits for the user's department: cases being handled with no reply yet, drafts (and
    drafts sent back), drafts awaiting the head's approval, approved replies to deliver, and
    return visits to make. A constant number of queries whatever the number of rows."""
    department_id = user.department_id
    if department_id is None:
        return ClosureInbox([], [], [], [], [])
    has_reply = Reply.objects.filter(case_id=OuterRef("pk"), superseded_at__isnull=True)
    lead_here = Assignment.objects.filter(
        case_id=OuterRef("pk"),
        department_id=department_id,
        role=AssignmentRole.LEAD,
        state=AssignmentState.ACCEPTED,
    )
    to_draft = list(
        Case.objects.filter(state=CaseState.HANDLING)
        .filter(Exists(lead_here))
        .exclude(Exists(has_reply))
        .select_related("main_petitioner")
        .order_by("next_due_at", "id")[:INBOX_LIMIT]
    )
    drafts = list(_reply_rows(department_id, [ReplyStatus.DRAFT])[:INBOX_LIMIT])
    to_approve = list(_reply_rows(department_id, [ReplyStatus.SUBMITTED])[:INBOX_LIMIT])
    to_deliver = list(_reply_rows(department_id, [ReplyStatus.APPROVED])[:INBOX_LIMIT])
    visits_due = list(
        ReturnVisit.objects.filter(department_id=department_id, done_at__isnull=True)
        .select_related("case", "evaluation")
        .order_by("scheduled_for", "id")[:INBOX_LIMIT]
    )
    return ClosureInbox(to_draft, drafts, to_approve, to_deliver, visits_due)


def closure_inbox_count(user: User) -> int:
    """For the link from the department inbox: what waits for this user's role."""
    if user.department_id is None:
        return 0
    statuses = [ReplyStatus.APPROVED]
    if user.has_role(Role.HEAD):
        statuses.append(ReplyStatus.SUBMITTED)
    if user.has_role(Role.OFFICER):
        statuses.append(ReplyStatus.DRAFT)
    # One query for both (UNION ALL of the two indexed id lists, counted): the link is on every
    # load of the department inbox.
    replies = Reply.objects.filter(
        department_id=user.department_id, status__in=statuses, superseded_at__isnull=True
    ).values_list("pk")
    visits = ReturnVisit.objects.filter(
        department_id=user.department_id, done_at__isnull=True
    ).values_list("pk")
    return replies.union(visits, all=True).count()
