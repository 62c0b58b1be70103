"""No action can skip a state of ``petitions/states.py`` (issue 11): a table generated from it.

For every transition of ``TRANSITIONS`` and every case state that is not one of its sources, a case
is brought into that state through the real services and the action is called by a user who holds
a role of the transition, as the API call and as the page form POST of the action:
- API: 409 with a message in the user's language (zh-hans); nothing written (the case row, its
  version, its events and history, and every row hanging off it stay as they were);
- page: never a 5xx, the case keeps its state and everything else, and the page says why (an error
  message or a form error).

``API_CALLS`` and ``PAGE_CALLS`` map every transition to its endpoint: a new transition without
an entry fails ``test_every_transition_has_an_api_call``, and a new state without a builder in
``STATE_BUILDERS`` fails ``test_a_case_in_every_state_refuses_every_action_not_allowed_there``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closure.testing import bring_to_handling, bring_to_replied
from conftest import Org
from core.models import DepartmentKind, User
from petitions.models import Case
from petitions.states import TRANSITIONS, CaseState
from petitions.testing import register
from routing.models import Assignment, AssignmentState

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Ctx:
    org: Org
    cast: dict[str, User]

    def dept(self, kind: str = DepartmentKind.POLICE) -> int:
        return self.org.dept(self.org.city, kind).pk


Body = Callable[[Ctx, Case], dict[str, Any]]


def _due(days: int = 60) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _date(days: int = 60) -> str:
    return timezone.localdate(timezone.now() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Call:
    """One way of asking for a transition: the URL name (its ``pk`` is the case, or the actor
    department's assignment when ``on_assignment``), the actor (a cast name holding a role of the
    transition) and the body (the ``expected_version`` is added)."""

    url: str
    actor: str
    body: Body = lambda ctx, case: {}
    on_assignment: bool = False
    prefix: str = ""  # the page form's prefix (routing's forms have one; "decision" has none)
    # Other transitions this endpoint performs (it chooses by state or by a body field): a state
    # from which one of them is allowed is not a refusal test of this call.
    siblings: frozenset[str] = field(default_factory=frozenset)


API_CALLS: dict[str, Call] = {
    "answer_on_spot": Call("api:case-answer", "reception", lambda ctx, c: {"answer": "已当场答复"}),
    "not_accept": Call(
        "api:routing-screen",
        "triage",
        lambda ctx, c: {"decision": "not_accept", "reason": "不属于受理范围"},
    ),
    "refer_out": Call(
        "api:routing-screen",
        "triage",
        lambda ctx, c: {"decision": "refer_out", "competent_organ": "市仲裁委", "reason": "属仲裁"},
    ),
    "route_legal": Call(
        "api:routing-screen",
        "triage",
        lambda ctx, c: {
            "decision": "legal_procedure",
            "organ": "市中级人民法院",
            "procedure": "审判监督程序",
            "legal_case_number": "（2025）冀01民申1号",
        },
    ),
    "assign": Call(
        "api:routing-assign",
        "triage",
        lambda ctx, c: {"lead": {"department": ctx.dept(), "due_at": _due()}},
    ),
    "transfer": Call(
        "api:routing-transfer",
        "triage",
        lambda ctx, c: {"to_center": ctx.org.county_a.pk, "reason": "属地管辖"},
    ),
    "reassign": Call(
        "api:routing-reassign",
        "triage",
        lambda ctx, c: {
            "lead": {"department": ctx.dept(DepartmentKind.COURT), "due_at": _due()},
            "reason": "改由法院办理",
        },
    ),
    "sign_for": Call("api:routing-sign", "police"),
    "return_assignment": Call(
        "api:routing-return", "police", lambda ctx, c: {"reason": "不属于本单位管辖"}
    ),
    "confirm_return": Call("api:routing-confirm-return", "triage", lambda ctx, c: {"note": "同意"}),
    "accept": Call("api:routing-accept", "police"),
    "reply": Call(
        "api:closure-deliver", "police", lambda ctx, c: {"method": "in_person", "signed": True}
    ),
    "close_by_agreement": Call(
        "api:closure-agreement",
        "head",
        lambda ctx, c: {
            "kind": "mediation",
            "agreement": SimpleUploadedFile("协议.pdf", PDF, "application/pdf"),
            "note": "双方达成调解协议",
        },
    ),
    "request_review": Call(
        "api:appeals-review",
        "reception",
        lambda ctx, c: {"kind": "review", "reason": "对答复不服"},
    ),
    "decide_review": Call(
        "api:appeals-review-decide",
        "province_supervisor",
        lambda ctx, c: {"decision": "uphold", "answer": "维持原处理意见"},
        siblings=frozenset({"decide_re_review"}),
    ),
    "request_re_review": Call(
        "api:appeals-review",
        "reception",
        lambda ctx, c: {"kind": "re_review", "reason": "对复查意见不服"},
    ),
    "decide_re_review": Call(
        "api:appeals-review-decide",
        "province_supervisor",
        lambda ctx, c: {"decision": "uphold", "answer": "维持复查意见"},
        siblings=frozenset({"decide_review"}),
    ),
    "close": Call("api:closure-close", "supervisor", lambda ctx, c: {"note": "办结"}),
    "terminate": Call(
        "api:appeals-termination-approve",
        "province_supervisor",
        lambda ctx, c: {
            "decision": "approve",
            "opinion": "同意终结",
            "approving_body": "省委政法委",
            "approval_date": _date(0),
        },
    ),
    "archive": Call(
        "api:closure-archive", "supervisor", lambda ctx, c: {"override_reason": "督查员决定归档"}
    ),
    "reopen": Call("api:closure-reopen", "supervisor", lambda ctx, c: {"reason": "发现新情况"}),
}

# The page form of each transition on an existing case. The one-stop answer is given in the desk's
# registration form, on a case that does not exist yet: it has no form on a case in another state.
PAGE_CALLS: dict[str, Call | None] = {
    "answer_on_spot": None,
    "not_accept": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {"decision": "not_accept", "reason": "不受理"},
        prefix="not_accept",
    ),
    "refer_out": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {"decision": "refer", "competent_organ": "市仲裁委", "reason": "属仲裁"},
        prefix="refer",
    ),
    "route_legal": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {
            "decision": "legal",
            "organ": "市中级人民法院",
            "procedure": "审判监督程序",
            "legal_case_number": "（2025）冀01民申1号",
        },
        prefix="legal",
    ),
    "assign": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {"decision": "assign", "lead": ctx.dept(), "lead_due": _date()},
        prefix="assign",
    ),
    "transfer": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {
            "decision": "transfer",
            "to_center": ctx.org.county_a.pk,
            "reason": "属地管辖",
        },
        prefix="transfer",
    ),
    "reassign": Call(
        "routing:reassign",
        "triage",
        lambda ctx, c: {
            "lead": ctx.dept(DepartmentKind.COURT),
            "lead_due": _date(),
            "reason": "改由法院办理",
        },
        prefix="reassign",
    ),
    "sign_for": Call("routing:assignment_sign", "police", on_assignment=True),
    "return_assignment": Call(
        "routing:assignment_return",
        "police",
        lambda ctx, c: {"reason": "不属于本单位管辖"},
        on_assignment=True,
        prefix="return",
    ),
    "confirm_return": Call(
        "routing:screen",
        "triage",
        lambda ctx, c: {"decision": "confirm", "note": "同意"},
        prefix="confirm",
    ),
    "accept": Call("routing:assignment_accept", "police", on_assignment=True),
    "reply": Call(
        "closure:reply_deliver",
        "police",
        lambda ctx, c: {"method": "in_person", "signed": "yes", "delivered_on": _date(0)},
    ),
    "close_by_agreement": Call(
        "closure:agreement",
        "head",
        lambda ctx, c: {
            "kind": "mediation",
            "agreement": SimpleUploadedFile("协议.pdf", PDF, "application/pdf"),
            "note": "双方达成调解协议",
        },
    ),
    "request_review": Call(
        "appeals:request_review",
        "reception",
        lambda ctx, c: {"kind": "review", "channel": "in_person", "reason": "对答复不服"},
    ),
    "decide_review": Call(
        "appeals:decide_review",
        "province_supervisor",
        lambda ctx, c: {"decision": "uphold", "answer": "维持原处理意见"},
        siblings=frozenset({"decide_re_review"}),
    ),
    "request_re_review": Call(
        "appeals:request_review",
        "reception",
        lambda ctx, c: {"kind": "re_review", "channel": "in_person", "reason": "对复查意见不服"},
    ),
    "decide_re_review": Call(
        "appeals:decide_review",
        "province_supervisor",
        lambda ctx, c: {"decision": "uphold", "answer": "维持复查意见"},
        siblings=frozenset({"decide_review"}),
    ),
    "close": Call("closure:close", "supervisor", lambda ctx, c: {"note": "办结"}),
    "terminate": Call(
        "appeals:decide_termination",
        "province_supervisor",
        lambda ctx, c: {
            "decision": "approve",
            "opinion": "同意终结",
            "approving_body": "省委政法委",
            "approval_date": _date(0),
        },
    ),
    "archive": Call(
        "closure:archive", "supervisor", lambda ctx, c: {"override_reason": "督查员决定归档"}
    ),
    "reopen": Call("closure:reopen", "supervisor", lambda ctx, c: {"reason": "发现新情况"}),
}


# --- a case in every state, through the real services --------------------------------------------


def _assigned(ctx: Ctx) -> Case:
    from routing.services import DepartmentDue, assign_case

    c = ctx.cast
    case = register(c["reception"]).case
    assert c["police"].department is not None
    assign_case(
        actor=c["triage"],
        case=case,
        lead=DepartmentDue(c["police"].department, timezone.now() + timedelta(days=60)),
    )
    return case


def _lead(case: Case) -> Assignment:
    return (
        Assignment.objects.filter(case=case).exclude(state=AssignmentState.CANCELLED).latest("pk")
    )


def _signed(ctx: Ctx) -> Case:
    from routing.services import sign_for_assignment

    case = _assigned(ctx)
    sign_for_assignment(actor=ctx.cast["police"], assignment=_lead(case))
    return case


def _returned(ctx: Ctx) -> Case:
    from routing.services import return_assignment

    case = _assigned(ctx)
    return_assignment(actor=ctx.cast["police"], assignment=_lead(case), reason="不属于本单位")
    return case


def _registered(ctx: Ctx) -> Case:
    """Registered again after a confirmed return, so the police department still sees it."""
    from routing.services import confirm_return

    case = _returned(ctx)
    confirm_return(actor=ctx.cast["triage"], case=case, note="")
    return case


def _screened(decision: str) -> Callable[[Ctx], Case]:
    def build(ctx: Ctx) -> Case:
        from routing import services

        case = _returned(ctx)
        triage = ctx.cast["triage"]
        if decision == "not_accept":
            services.not_accept(actor=triage, case=case, reason="不属于受理范围")
        elif decision == "refer_out":
            services.refer_out(actor=triage, case=case, competent_organ="仲裁委", reason="属仲裁")
        else:
            services.route_to_legal_procedure(
                actor=triage,
                case=case,
                organ="市中级人民法院",
                procedure="审判监督程序",
                legal_case_number="（2025）冀01民申9号",
            )
        return case

    return build


def _handling(ctx: Ctx) -> Case:
    c = ctx.cast
    return bring_to_handling(reception=c["reception"], triage=c["triage"], officer=c["police"])


def _replied(ctx: Ctx) -> Case:
    c = ctx.cast
    return bring_to_replied(
        reception=c["reception"], triage=c["triage"], officer=c["police"], head=c["head"]
    ).case


def _review(ctx: Ctx) -> Case:
    from appeals.services import request_review

    case = _replied(ctx)
    request_review(actor=ctx.cast["reception"], case=case, kind="review", reason="不服")
    return case


def _re_review(ctx: Ctx) -> Case:
    from appeals.services import decide_review, request_review

    case = _review(ctx)
    decide_review(
        actor=ctx.cast["province_supervisor"], case=case, decision="uphold", answer="维持"
    )
    request_review(actor=ctx.cast["reception"], case=case, kind="re_review", reason="仍不服")
    return case


def _closed(ctx: Ctx) -> Case:
    from closure.services import close_case

    case = _replied(ctx)
    close_case(actor=ctx.cast["supervisor"], case=case, note="")
    return case


def _terminated(ctx: Ctx) -> Case:
    from appeals.services import decide_termination, propose_termination

    # Art 37 comes after Arts 35-36: the reply was delivered 40 days ago and the petitioner's
    # review window (30 days) has passed unused, so termination may be proposed now.
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        case = _replied(ctx)
    propose_termination(actor=ctx.cast["police"], case=case, grounds="法律程序已穷尽")
    decide_termination(actor=ctx.cast["supervisor"], case=case, approve=True, opinion="同意")
    decide_termination(
        actor=ctx.cast["province_supervisor"],
        case=case,
        approve=True,
        opinion="同意",
        approving_body="省委政法委",
        approval_date=timezone.localdate(),
    )
    return case


def _archived(ctx: Ctx) -> Case:
    from closure.services import archive_case

    case = _closed(ctx)
    archive_case(actor=ctx.cast["supervisor"], case=case, override_reason="未参评，督查员决定归档")
    return case


STATE_BUILDERS: dict[str, Callable[[Ctx], Case]] = {
    CaseState.REGISTERED: _registered,
    CaseState.NOT_ACCEPTED: _screened("not_accept"),
    CaseState.REFERRED: _screened("refer_out"),
    CaseState.LEGAL_PROCEDURE: _screened("route_legal"),
    CaseState.ASSIGNED: _assigned,
    CaseState.RETURNED: _returned,
    CaseState.SIGNED: _signed,
    CaseState.HANDLING: _handling,
    CaseState.REPLIED: _replied,
    CaseState.REVIEW: _review,
    CaseState.RE_REVIEW: _re_review,
    CaseState.CLOSED: _closed,
    CaseState.TERMINATED: _terminated,
    CaseState.ARCHIVED: _archived,
}


# --- what must not move ---------------------------------------------------------------------------

CASE_FIELDS = [f.attname for f in Case._meta.concrete_fields]


def _count_sql() -> tuple[str, list[str]]:
    """One query counting, for a case, the rows of every model that hangs off it (events,
    assignments, notices, replies, reviews, deadlines, attachments, ...) and of its history."""
    parts, labels = [], []
    for rel in Case._meta.related_objects:
        if rel.many_to_many:
            continue
        meta = rel.related_model._meta
        parts.append(
            f'(SELECT count(*) FROM "{meta.db_table}" WHERE "{rel.field.column}" = %(pk)s)'
        )
        labels.append(meta.label)
    history = Case.history.model._meta  # type: ignore[attr-defined]
    parts.append(f'(SELECT count(*) FROM "{history.db_table}" WHERE "id" = %(pk)s)')
    labels.append("history")
    return "SELECT " + ", ".join(parts), labels


COUNT_SQL, COUNT_LABELS = _count_sql()


def snapshot(case: Case) -> dict[str, Any]:
    """The case row and the counts of COUNT_SQL: nothing of this may move on a refusal."""
    from django.db import connection

    row = Case.objects.filter(pk=case.pk).values(*CASE_FIELDS).get()
    with connection.cursor() as cursor:
        cursor.execute(COUNT_SQL, {"pk": case.pk})
        counts = dict(zip(COUNT_LABELS, cursor.fetchone(), strict=True))
    return {"row": row, "counts": counts}


def refusals(call_table: Mapping[str, Call | None]) -> list[tuple[str, str]]:
    """(transition, state) for every state the transition may not start from (and no sibling
    transition of the same endpoint may either)."""
    pairs = []
    for name, transition in TRANSITIONS.items():
        call = call_table[name]
        if call is None:
            continue
        allowed = set(transition.sources)
        for sibling in call.siblings:
            allowed |= TRANSITIONS[sibling].sources
        pairs += [(name, state) for state in CaseState.values if state not in allowed]
    return pairs


def _url(call: Call, ctx: Ctx, case: Case) -> str | None:
    if not call.on_assignment:
        return reverse(call.url, kwargs={"pk": case.pk})
    department = ctx.cast[call.actor].department_id or 0
    assignment = (
        Assignment.objects.filter(case=case, department_id=department)
        .exclude(state=AssignmentState.CANCELLED)
        .order_by("-pk")
        .first()
    )
    return reverse(call.url, kwargs={"pk": assignment.pk}) if assignment else None


def _multipart(body: dict[str, Any]) -> bool:
    return any(isinstance(v, SimpleUploadedFile) for v in body.values())


# --- the tests ------------------------------------------------------------------------------------


def test_every_transition_has_an_api_call():
    missing = sorted(set(TRANSITIONS) - set(API_CALLS))
    assert not missing, f"transitions without an API call in API_CALLS: {missing}"
    assert not set(API_CALLS) - set(TRANSITIONS), "API_CALLS names a transition that is gone"
    missing_pages = sorted(set(TRANSITIONS) - set(PAGE_CALLS))
    assert not missing_pages, (
        f"transitions without an entry (or None) in PAGE_CALLS: {missing_pages}"
    )
    for name in TRANSITIONS:
        for call in (API_CALLS[name], PAGE_CALLS[name]):
            if call is not None:
                reverse(call.url, kwargs={"pk": 1})  # the URL exists


def test_a_case_in_every_state_refuses_every_action_not_allowed_there(org, cast):
    ctx = Ctx(org, cast)
    missing = sorted(set(CaseState.values) - set(STATE_BUILDERS))
    assert not missing, f"states without a builder in STATE_BUILDERS: {missing}"
    cases = {state: build(ctx) for state, build in STATE_BUILDERS.items()}
    for state, case in cases.items():
        case.refresh_from_db()
        assert case.state == state, (state, case.state)
    for name, call in API_CALLS.items():
        roles = cast[call.actor].role_codes
        assert roles & TRANSITIONS[name].roles, f"{call.actor} holds no role of {name}"
    clients: dict[str, Client] = {}

    def client(actor: str) -> Client:
        if actor not in clients:
            clients[actor] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            clients[actor].force_login(cast[actor])
        return clients[actor]

    problems: list[str] = []
    api_pairs = refusals(API_CALLS)
    page_pairs = refusals(PAGE_CALLS)
    assert len(api_pairs) > 200 and len(page_pairs) > 180, (len(api_pairs), len(page_pairs))
    for name, state in api_pairs:
        call = API_CALLS[name]
        case = cases[state]
        case.refresh_from_db()
        before = snapshot(case)
        body = {**call.body(ctx, case), "expected_version": case.version}
        url = _url(call, ctx, case)
        assert url is not None
        if _multipart(body):
            response = client(call.actor).post(url, body)
        else:
            response = client(call.actor).post(url, body, content_type="application/json")
        where = f"API {name} in {state} as {call.actor}: {response.status_code}"
        after = snapshot(case)
        if after != before:
            problems.append(f"{where}: the case changed {_diff(before, after)}")
        if response.status_code != 409:
            problems.append(f"{where} (expected 409) {response.content[:300]!r}")
            continue
        detail = str(response.json().get("detail", ""))
        if not CHINESE.search(detail):
            problems.append(f"{where}: message not in Chinese: {detail!r}")
    for name, state in page_pairs:
        page_call = PAGE_CALLS[name]
        assert page_call is not None
        call = page_call
        case = cases[state]
        case.refresh_from_db()
        before = snapshot(case)
        url = _url(call, ctx, case)
        if url is None:
            continue  # the department holds no assignment of this case: nothing to post to
        body = {**call.body(ctx, case), "expected_version": case.version}
        if call.prefix:
            body = {k if k == "decision" else f"{call.prefix}-{k}": v for k, v in body.items()}
        response = client(call.actor).post(url, body, follow=True)
        where = f"page {name} in {state} as {call.actor}: {response.status_code}"
        after = snapshot(case)
        if after != before:
            problems.append(f"{where}: the case changed {_diff(before, after)}")
        if response.status_code >= 500:
            problems.append(where)
            continue
        if response.status_code in (403, 404):
            continue  # the page is not this user's at this stage: refused before any form
        html = response.content.decode()
        if "msg-error" not in html and "errorlist" not in html and "errorbox" not in html:
            problems.append(f"{where}: no error message on the page {_form_errors(response)}")
    assert not problems, f"{len(problems)} findings:\n" + "\n".join(problems)


def _form_errors(response: Any) -> list[Any]:
    from django import forms

    found = []
    for context in response.context or []:
        for value in context.dicts if hasattr(context, "dicts") else [context]:
            for item in value.values() if isinstance(value, dict) else []:
                if isinstance(item, forms.BaseForm) and item.is_bound and item.errors:
                    found.append(item.errors.get_json_data())
    return found


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v, after["row"][k]) for k, v in before["row"].items() if after["row"][k] != v}
    out |= {
        k: (v, after["counts"][k]) for k, v in before["counts"].items() if after["counts"][k] != v
    }
    return out
