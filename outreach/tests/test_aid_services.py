"""Judicial aid services (司法救助): the life of an application, the cap, the clocks, roles,
stale writes and double submits. Amounts are hand-computed from the test rule (fixtures_aid:
36 months × 5,000.00 = 180,000.00 yuan; a leader approves above 50,000.00)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind, Notification, WarningLevel
from clocks.sweep import run_deadline_checks
from conftest import make_user
from core.errors import DomainError, PermissionDenied, StaleState
from core.roles import Role
from outreach.models import (
    AidApplication,
    AidCapRule,
    AidState,
    EligibilityCheck,
    EligibilityQuestion,
    Message,
)
from outreach.services import aid
from outreach.tests.fixtures_aid import (  # noqa: F401  (fixtures)
    AID_NOW,
    CAP,
    DECISION_DUE,
    aid_clock,
    answer_all,
    apply,
    cap_rule,
    complete,
    court_head,
    decide,
    pdf,
)
from petitions.models import Attachment, CaseEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("aid_clock", "cap_rule")]


def aid_events(case):
    return list(
        CaseEvent.objects.filter(case=case, kind__startswith="aid_")
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def clock(case, kind):
    return Deadline.objects.get(case=case, kind=kind)


def test_whole_life_under_the_threshold(handling_case, cast, people):
    case = handling_case
    reception, officer, head = (
        cast["county_reception"],
        cast["county_police"],
        people["county_head"],
    )
    application = apply(reception, case, "30000", files=[pdf("judgment.pdf"), pdf("poverty.pdf")])
    assert application.state == AidState.APPLIED
    assert application.department == head.department  # the lead department by default
    applied = CaseEvent.objects.get(case=case, kind="aid_applied")
    files = Attachment.objects.filter(case=case, kind="evidence").order_by("pk")
    assert [a.original_name for a in files] == ["judgment.pdf", "poverty.pdf"]
    assert applied.data["attachments"] == [a.pk for a in files]
    assert not Deadline.objects.filter(case=case, kind=DeadlineKind.AID_DECISION).exists()

    complete(reception, application)
    application.refresh_from_db()
    assert application.state == AidState.COMPLETE and application.completed_at == AID_NOW
    decision_clock = clock(case, DeadlineKind.AID_DECISION)
    assert decision_clock.due_at == DECISION_DUE and decision_clock.met_at is None
    head_note = Notification.objects.get(case=case, body="aid_complete")
    assert head_note.audience_department_id == head.department_id
    assert head_note.audience_role == Role.HEAD

    answer_all(officer, application)
    assert EligibilityCheck.objects.filter(application=application).count() == 8

    decided = decide(head, application, amount=Decimal("30000.00"), reasons="符合救助条件")
    assert decided.state == AidState.GRANTED
    assert decided.amount == Decimal("30000.00") and decided.cap_amount == CAP
    assert clock(case, DeadlineKind.AID_DECISION).met_at == AID_NOW
    payment_clock = clock(case, DeadlineKind.AID_PAYMENT)
    assert payment_clock.due_at == DECISION_DUE and payment_clock.met_at is None

    decided.refresh_from_db()
    paid = aid.pay_aid(
        actor=officer,
        application=decided,
        paid_on=date(2026, 3, 2),
        method="银行转账",
        amount=Decimal("30000.00"),
        voucher=pdf("voucher.pdf"),
        expected_version=decided.version,
    )
    assert paid.state == AidState.PAID and paid.paid_amount == Decimal("30000.00")
    assert paid.voucher is not None and paid.voucher.original_name == "voucher.pdf"
    assert clock(case, DeadlineKind.AID_PAYMENT).met_at == AID_NOW
    assert aid_events(case) == [
        "aid_applied",
        "aid_complete",
        "aid_eligibility",
        "aid_granted",
        "aid_paid",
    ]
    # history: created, complete, checklist, decided, paid
    assert application.history.count() == 5
    assert application.history.first().history_user == officer
    texts = list(
        Message.objects.filter(case=case, kind="aid_result")
        .order_by("pk")
        .values_list("dedupe_key", "body_masked")
    )
    assert [key for key, _ in texts] == [
        f"aid:{application.pk}:granted",
        f"aid:{application.pk}:paid",
    ]
    assert "30,000.00元" in texts[0][1] and "2026年03月02日发放" in texts[1][1]


def test_above_the_threshold_a_leader_approves(handling_case, org, cast, people):
    case = handling_case
    application = apply(cast["county_reception"], case, "60000")
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    decided = decide(people["county_head"], application, amount="50000.01")
    assert decided.state == AidState.AWAITING_LEADER
    assert clock(case, DeadlineKind.AID_DECISION).met_at is None  # not final yet
    assert not Deadline.objects.filter(case=case, kind=DeadlineKind.AID_PAYMENT).exists()
    note = Notification.objects.get(case=case, body="aid_awaiting_leader")
    assert (note.audience_center_id, note.audience_role) == (case.center_id, Role.LEADER)
    assert not Message.objects.filter(case=case, kind="aid_result").exists()

    with pytest.raises(PermissionDenied):  # the head cannot approve their own grant
        aid.approve_aid(actor=people["county_head"], application=decided, approve=True)
    other = make_user("b_leader", org.county_b, [Role.LEADER])
    with pytest.raises(PermissionDenied):  # a leader of another county
        aid.approve_aid(actor=other, application=decided, approve=True)

    approved = aid.approve_aid(
        actor=cast["leader"],  # the city's leader: a center above the organ's
        application=decided,
        approve=True,
        expected_version=decided.version,
    )
    assert approved.state == AidState.GRANTED and approved.approved_by == cast["leader"]
    assert clock(case, DeadlineKind.AID_DECISION).met_at == AID_NOW
    assert clock(case, DeadlineKind.AID_PAYMENT).met_at is None
    assert aid_events(case)[-2:] == ["aid_awaiting_leader", "aid_approved"]


def test_a_leader_refuses_with_reasons(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case, "60000")
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    decided = decide(people["county_head"], application, amount="60000")
    with pytest.raises(ValidationError) as no_reason:
        aid.approve_aid(actor=people["county_leader"], application=decided, approve=False)
    assert "reasons" in no_reason.value.message_dict
    refused = aid.approve_aid(
        actor=people["county_leader"],
        application=decided,
        approve=False,
        reasons="申请人已获得同等数额的社会救助",
        expected_version=decided.version,
    )
    assert refused.state == AidState.REFUSED and refused.reasons == "申请人已获得同等数额的社会救助"
    assert clock(handling_case, DeadlineKind.AID_DECISION).met_at == AID_NOW
    assert (
        Message.objects.get(case=handling_case, kind="aid_result").dedupe_key
        == f"aid:{application.pk}:refused"
    )


def test_refusal_requires_reasons_and_meets_the_clock(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], application)
    with pytest.raises(ValidationError) as err:
        decide(people["county_head"], application, decision="refuse", reasons="  ")
    assert err.value.message_dict["reasons"] == ["不予救助应当说明理由。"]
    refused = decide(
        people["county_head"], application, decision="refuse", reasons="不属于救助范围"
    )
    assert refused.state == AidState.REFUSED and refused.amount is None
    assert clock(handling_case, DeadlineKind.AID_DECISION).met_at == AID_NOW
    assert aid_events(handling_case)[-1] == "aid_refused"


def test_the_cap_is_36_months_of_the_wage(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case, "200000")
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    with pytest.raises(ValidationError) as over:
        decide(people["county_head"], application, amount="180000.01")
    # 36 × 5,000.00 = 180,000.00
    assert over.value.message_dict["amount"] == [
        "不得超过救助限额180,000.00元（本年度标准：36个月 × 5,000.00元）。"
    ]
    at_cap = decide(people["county_head"], application, amount="180000.00")
    assert at_cap.state == AidState.AWAITING_LEADER and at_cap.cap_amount == Decimal("180000.00")


def test_a_grant_is_at_most_the_amount_requested(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case, "20000")
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    with pytest.raises(ValidationError) as err:
        decide(people["county_head"], application, amount="20000.01")
    assert err.value.message_dict["amount"] == ["不得超过申请金额（20,000.00元）。"]


def test_no_rule_for_the_province_and_year_is_409(handling_case, cast, people):
    AidCapRule.objects.all().delete()
    application = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    with pytest.raises(DomainError) as err:
        decide(people["county_head"], application, amount="1000")
    assert err.value.code == "aid_cap_missing"
    assert (
        str(err.value)
        == "尚未设置130000省份2026年度的司法救助限额：请管理员先录入职工月平均工资数额。"
    )
    application.refresh_from_db()
    assert application.state == AidState.COMPLETE and application.amount is None


def test_decision_needs_complete_materials_and_the_checklist(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case)
    with pytest.raises(DomainError) as early:
        decide(people["county_head"], application, amount="1000")
    assert early.value.code == "aid_incomplete"
    complete(cast["county_reception"], application)
    with pytest.raises(DomainError) as unchecked:
        decide(people["county_head"], application, amount="1000")
    assert unchecked.value.code == "aid_checklist"


def test_roles(handling_case, cast, people, court_head):  # noqa: F811
    application = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    for who in (cast["county_police"], court_head, cast["head"], people["county_leader"]):
        with pytest.raises(PermissionDenied):
            decide(who, application, amount="1000")
    with pytest.raises(PermissionDenied):  # outside the case's scope
        apply(cast["outsider"], handling_case)
    with pytest.raises(PermissionDenied):  # a supervisor does not apply (no attachments role)
        apply(people["county_supervisor"], handling_case)
    with pytest.raises(PermissionDenied):  # the city's reception reads the county's case only
        apply(cast["reception"], handling_case)
    with pytest.raises(PermissionDenied):  # another department pays nothing
        aid.pay_aid(
            actor=people["county_officer_court"],
            application=application,
            paid_on=date(2026, 3, 2),
            method="现金",
            amount="1",
            voucher=pdf(),
        )


def test_apply_validation(handling_case, cast):
    from petitions.testing import make_petitioner

    stranger = make_petitioner(cast["county_reception"], name="李四")
    with pytest.raises(ValidationError) as err:
        apply(
            cast["county_reception"],
            handling_case,
            "0",
            applicant=stranger,
            circumstances=" ",
            department=cast["court"].department,  # did not handle the case
        )
    assert set(err.value.message_dict) == {
        "applicant",
        "circumstances",
        "requested_amount",
        "department",
    }
    assert not AidApplication.objects.exists()


def test_stale_writes_are_refused(handling_case, cast):
    case = handling_case
    old = case.version
    first = apply(cast["county_reception"], case)
    with pytest.raises(StaleState):
        apply(cast["county_reception"], case, expected_version=old - 1)
    with pytest.raises(StaleState):
        aid.mark_complete(
            actor=cast["county_reception"], application=first, expected_version=first.version + 1
        )
    first.refresh_from_db()
    assert first.state == AidState.APPLIED


def test_double_submit_creates_one(handling_case, cast):
    one = apply(cast["county_reception"], handling_case, submission_key="k-1")
    two = apply(cast["county_reception"], handling_case, submission_key="k-1")
    assert one.pk == two.pk
    assert AidApplication.objects.count() == 1
    assert CaseEvent.objects.filter(kind="aid_applied").count() == 1


def test_eligibility_needs_a_reason_for_each_answer(handling_case, cast):
    application = apply(cast["county_reception"], handling_case)
    first, second = EligibilityQuestion.objects.all()[:2]
    with pytest.raises(ValidationError) as err:
        aid.answer_eligibility(
            actor=cast["county_police"],
            application=application,
            answers=[
                {"question": first.pk, "answer": "yes", "reason": ""},
                {"question": second.pk, "answer": "maybe", "reason": "不清楚"},
            ],
        )
    assert err.value.message_dict["answers"] == [
        "第1项：请填写作答理由。",
        "第2项：请选择“是”“否”或“尚未查明”。",
    ]
    aid.answer_eligibility(
        actor=cast["county_police"],
        application=application,
        answers=[{"question": first.pk, "answer": "unknown", "reason": "待调取伤情鉴定"}],
    )
    aid.answer_eligibility(  # answered again: replaced, history keeps the first
        actor=cast["county_police"],
        application=application,
        answers=[{"question": first.pk, "answer": "yes", "reason": "已调取鉴定：重伤二级"}],
    )
    check = EligibilityCheck.objects.get(application=application)
    assert (check.answer, check.reason) == ("yes", "已调取鉴定：重伤二级")
    assert check.history.count() == 2


def test_payment_is_at_most_the_grant_and_needs_a_voucher(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case, "30000")
    complete(cast["county_reception"], application)
    answer_all(people["county_head"], application)
    granted = decide(people["county_head"], application, amount="20000")
    with pytest.raises(ValidationError) as err:
        aid.pay_aid(
            actor=cast["county_police"],
            application=granted,
            paid_on=date(2026, 3, 3),  # tomorrow
            method="",
            amount="1",
            voucher=None,
        )
    assert set(err.value.message_dict) == {"paid_on", "method", "voucher"}
    with pytest.raises(ValidationError) as too_much:
        aid.pay_aid(
            actor=cast["county_police"],
            application=granted,
            paid_on=date(2026, 3, 2),
            method="银行转账",
            amount="20000.01",
            voucher=pdf(),
        )
    assert too_much.value.message_dict["amount"] == ["不得超过决定救助金额（20,000.00元）。"]


def test_the_sweep_supervises_the_aid_clocks_like_other_duties(handling_case, cast, people):
    application = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], application)
    late = datetime(2026, 3, 17, 10, 0, tzinfo=CHINA_TZ)
    with time_machine.travel(late, tick=False):
        run_deadline_checks()
    decision_clock = clock(handling_case, DeadlineKind.AID_DECISION)
    assert decision_clock.warning_level == WarningLevel.OVERDUE
    assert decision_clock.escalation_step == 1  # the head at once (default steps)
    escalated = CaseEvent.objects.get(case=handling_case, kind="escalated")
    assert escalated.data["kind"] == "aid_decision"
    handling_case.refresh_from_db()
    assert handling_case.next_due_at == DECISION_DUE  # the earliest running duty


def test_two_applications_share_the_case_clock_until_both_are_decided(handling_case, cast, people):
    first = apply(cast["county_reception"], handling_case)
    second = apply(cast["county_reception"], handling_case)
    complete(cast["county_reception"], first)
    complete(cast["county_reception"], second)
    assert Deadline.objects.filter(case=handling_case, kind="aid_decision").count() == 1
    decide(people["county_head"], first, decision="refuse", reasons="不符合条件")
    assert clock(handling_case, DeadlineKind.AID_DECISION).met_at is None
    decide(people["county_head"], second, decision="refuse", reasons="不符合条件")
    assert clock(handling_case, DeadlineKind.AID_DECISION).met_at == AID_NOW


def test_aid_is_never_conditional_on_giving_up_a_petition_or_review():
    names = {f.name for f in AidApplication._meta.get_fields()}
    assert names == {
        "id",
        "case",
        "applicant",
        "circumstance",
        "circumstances",
        "department",
        "requested_amount",
        "state",
        "applied_at",
        "completed_at",
        "cap_amount",
        "amount",
        "reasons",
        "decided_by",
        "decided_at",
        "approved_by",
        "approved_at",
        "paid_on",
        "payment_method",
        "paid_amount",
        "voucher",
        "created_by",
        "submission_key",
        "version",
        "eligibility",
    }
    for text in aid.RESULT_TEXT.values():
        for word in ("息诉", "罢访", "放弃", "撤回", "复查", "复核"):
            assert word not in text
