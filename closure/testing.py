"""Bring a case to "replied and delivered" through the real services, for tests of closure,
appeals and reports (and demo data). Everything goes through the one write path of each step,
so the clocks, events and history are what production writes.

    from closure.testing import bring_to_handling, bring_to_replied

    replied = bring_to_replied(
        reception=cast["reception"], triage=cast["triage"],
        officer=cast["police"], head=cast["head"],
    )
    replied.case.state == "replied"; replied.reply.document_number; replied.evaluation_path

or, with the conftest cast (conftest.py at the project root), the ``replied_case`` fixture:
add ``from closure.testing import replied_case  # noqa: F401`` to a conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from core.models import User
from petitions.models import Case
from petitions.testing import register
from routing.models import Assignment, AssignmentRole
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    sign_for_assignment,
    submit_contribution,
)

from .models import Reply
from .services import ReplyText, approve_reply, deliver_reply, save_reply_draft

DEFAULT_REPLY = ReplyText(
    decision="explain",
    facts_reasons="经调查核实，该案执行款已部分到位，剩余部分正在依法执行中。",
    legal_basis="《中华人民共和国民事诉讼法》第二百三十五条；《信访工作条例》第三十二条",
)


@dataclass
class Replied:
    case: Case
    reply: Reply
    evaluation_path: str  # the one-time link printed on the reply (relative URL)

    @property
    def token(self) -> str:
        return self.evaluation_path.rstrip("/").rsplit("/", 1)[-1]


def bring_to_handling(
    *,
    reception: User,
    triage: User,
    officer: User,
    assisting_officers: tuple[User, ...] = (),
    contribute: bool = True,
    case: Case | None = None,
    **register_overrides: Any,
) -> Case:
    """Register (unless ``case`` is given), assign to ``officer``'s department as lead (and each
    assisting officer's department as assisting), sign for and accept; assisting departments
    sign and submit their contribution unless ``contribute`` is False."""
    if case is None:
        case = register(reception, **register_overrides).case
    assert officer.department is not None
    due = timezone.now() + timedelta(days=60)
    assign_case(
        actor=triage,
        case=case,
        lead=DepartmentDue(officer.department, due),
        assisting=[
            DepartmentDue(o.department, due - timedelta(days=20))
            for o in assisting_officers
            if o.department is not None
        ],
    )
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD, state="pending")
    sign_for_assignment(actor=officer, assignment=lead)
    accept_assignment(actor=officer, assignment=lead)
    for helper in assisting_officers:
        part = Assignment.objects.get(case=case, department=helper.department)
        sign_for_assignment(actor=helper, assignment=part)
        if contribute:
            submit_contribution(
                actor=helper, assignment=part, text=f"{helper.department}：已核实相关情况。"
            )
    case.refresh_from_db()
    return case


def bring_to_replied(
    *,
    reception: User,
    triage: User,
    officer: User,
    head: User,
    assisting_officers: tuple[User, ...] = (),
    text: ReplyText = DEFAULT_REPLY,
    method: str = "in_person",
    signed: bool = True,
    delivered_at: datetime | None = None,
    case: Case | None = None,
    **register_overrides: Any,
) -> Replied:
    """A case with a written reply drafted by ``officer``, approved by ``head`` (of the same
    department) and delivered: state ``replied``, the review window and the evaluation window
    running from the delivery."""
    case = bring_to_handling(
        reception=reception,
        triage=triage,
        officer=officer,
        assisting_officers=assisting_officers,
        case=case,
        **register_overrides,
    )
    save_reply_draft(actor=officer, case=case, text=text, submit=True)
    approve_reply(actor=head, case=case)
    delivery = deliver_reply(
        actor=officer, case=case, method=method, signed=signed, delivered_at=delivered_at
    )
    case.refresh_from_db()
    return Replied(case=case, reply=delivery.reply, evaluation_path=delivery.evaluation_path)


@pytest.fixture
def replied_case(cast: dict[str, User]) -> Replied:
    """A replied and delivered case at the city center: lead police (officer ``police``, head
    ``head``), assisting court (``court``) with its contribution done."""
    return bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
        assisting_officers=(cast["court"],),
    )
