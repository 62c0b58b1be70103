"""The supervision overlays (DOMAIN.md §4) and the Art 34 extension: role, state and guards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind, Notification, NotificationKind, WarningLevel
from clocks.sweep import run_deadline_checks
from conftest import make_user
from core.errors import DomainError, PermissionDenied
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Case, CaseEvent
from petitions.services import answer_on_spot
from petitions.testing import register
from routing.models import Assignment, AssignmentState, NoticeKind, WrittenNotice
from routing.services import DepartmentDue, accept_assignment, assign_case, sign_for_assignment
from supervision.models import (
    AccountabilityFinding,
    Bulletin,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
)
from supervision.services import (
    assign_leader_responsibility,
    case_overlays,
    close_order,
    decide_extension,
    issue_bulletin,
    issue_supervision_order,
    order_deadline,
    record_accountability_finding,
    record_consultation,
    request_extension,
    resolve_leader_responsibility,
    respond_to_order,
    send_reminder,
)

pytestmark = pytest.mark.django_db


def handling_case(org, cast, assisting=()) -> tuple[Case, Deadline]:
    """A case accepted by the city police department (the cast's "police" and "head"), with
    assisting departments of the given kinds."""
    case = register(cast["reception"]).case
    lead, *_ = assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
        assisting=[
            DepartmentDue(org.dept(org.city, k), timezone.now() + timedelta(days=30))
            for k in assisting
        ],
    )
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    case.refresh_from_db()
    return case, Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING)


def assigned_case(org, cast) -> Case:
    case = register(cast["reception"]).case
    assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), timezone.now() + timedelta(days=60)
        ),
    )
    case.refresh_from_db()
    return case


def later(days: int = 10) -> datetime:
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def court_head(org):
    return make_user("court_head", org.city, [Role.HEAD], org.dept(org.city, DepartmentKind.COURT))


@pytest.fixture
def province_leader(org):
    return make_user("province_leader", org.province, [Role.LEADER])


# --- extensions -----------------------------------------------------------------------------------


def test_officer_of_the_lead_department_requests_an_extension_for_the_head(org, cast):
    case, handling = handling_case(org, cast)
    request = request_extension(actor=cast["police"], case=case, days=20, reason="需调取卷宗")
    assert request.state == ExtensionState.PENDING and request.deadline == handling
    assert request.history.get().history_user == cast["police"]
    assert CaseEvent.objects.filter(case=case, kind="extension_requested").count() == 1
    note = Notification.objects.get(case=case, body__contains="20")
    assert (note.audience_role, note.audience_department) == (
        Role.HEAD,
        org.dept(org.city, DepartmentKind.POLICE),
    )
    handling.refresh_from_db()
    assert handling.extended_days == 0  # nothing moves before the head approves


@pytest.mark.parametrize("days", [0, 31, 45])
def test_extension_outside_1_to_30_days_is_refused(org, cast, days):
    case, _ = handling_case(org, cast)
    with pytest.raises(ValidationError) as err:
        request_extension(actor=cast["police"], case=case, days=days, reason="复杂")
    assert "days" in err.value.message_dict


def test_extension_needs_a_reason(org, cast):
    case, _ = handling_case(org, cast)
    with pytest.raises(ValidationError) as err:
        request_extension(actor=cast["police"], case=case, days=10, reason="  ")
    assert "reason" in err.value.message_dict


def test_a_second_extension_of_the_same_handling_period_is_refused(org, cast):
    case, _ = handling_case(org, cast)
    first = request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    with pytest.raises(DomainError) as pending:
        request_extension(actor=cast["police"], case=case, days=5, reason="再次")
    assert pending.value.code == "extension_exists"
    decide_extension(actor=cast["head"], request=first, approve=True, note="")
    with pytest.raises(DomainError) as approved:
        request_extension(actor=cast["head"], case=case, days=5, reason="再次")
    assert approved.value.code == "extension_exists"


def test_a_rejected_extension_may_be_asked_for_again(org, cast):
    case, _ = handling_case(org, cast)
    first = request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    decide_extension(actor=cast["head"], request=first, approve=False, note="理由不足")
    again = request_extension(actor=cast["police"], case=case, days=10, reason="补充理由")
    assert again.state == ExtensionState.PENDING


def test_extension_is_only_for_a_case_being_handled(org, cast):
    case = assigned_case(org, cast)  # the lead has not accepted yet
    with pytest.raises(DomainError):
        request_extension(actor=cast["police"], case=case, days=10, reason="复杂")


def test_extension_cannot_be_asked_for_after_the_period_ended(org, cast):
    case, handling = handling_case(org, cast)
    with time_machine.travel(handling.due_at + timedelta(hours=1)), pytest.raises(DomainError):
        request_extension(actor=cast["police"], case=case, days=10, reason="复杂")


@pytest.mark.parametrize("who", ["court", "supervisor", "triage"])
def test_only_the_lead_department_requests_an_extension(org, cast, who):
    case, _ = handling_case(org, cast)
    with pytest.raises(PermissionDenied):
        request_extension(actor=cast[who], case=case, days=10, reason="复杂")


def test_head_of_another_department_cannot_approve(org, cast, court_head):
    case, _ = handling_case(org, cast)
    request = request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    with pytest.raises(PermissionDenied):
        decide_extension(actor=court_head, request=request, approve=True, note="")
    request.refresh_from_db()
    assert request.state == ExtensionState.PENDING


def test_an_officer_cannot_approve_even_in_the_lead_department(org, cast):
    case, _ = handling_case(org, cast)
    request = request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    with pytest.raises(PermissionDenied):
        decide_extension(actor=cast["police"], request=request, approve=True, note="")


def test_approval_moves_the_due_date_issues_the_notice_and_resets_warnings(org, cast):
    case, handling = handling_case(org, cast)
    old_due = handling.due_at
    with time_machine.travel(old_due - timedelta(days=2, hours=1)):
        run_deadline_checks()
        handling.refresh_from_db()
        assert handling.warning_level == WarningLevel.APPROACHING
        request = request_extension(actor=cast["police"], case=case, days=30, reason="需鉴定")
        result = decide_extension(actor=cast["head"], request=request, approve=True, note="同意")
    handling.refresh_from_db()
    assert handling.due_at == old_due + timedelta(days=30)
    assert handling.extended_days == 30 and handling.extension_reason == "需鉴定"
    assert handling.warning_level == WarningLevel.ON_TIME
    assert handling.history.first().history_user == cast["head"]
    case.refresh_from_db()
    assert case.next_due_at == handling.due_at
    request.refresh_from_db()
    assert (request.state, request.decided_by) == (ExtensionState.APPROVED, cast["head"])
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.EXTENSION)
    assert result.notice == notice
    assert notice.title == "信访事项延期办理告知书"
    assert "需鉴定" in notice.body and "延长30日" in notice.body
    assert f"{handling.due_at.astimezone(CHINA_TZ):%Y年%m月%d日}" in notice.body
    assert CaseEvent.objects.filter(case=case, kind="extension_approved").count() == 1
    assert Notification.objects.filter(case=case, recipient=cast["police"]).exists()


def test_approving_an_overdue_clock_clears_its_overdue_record_and_escalation(org, cast):
    case, handling = handling_case(org, cast)
    with time_machine.travel(handling.due_at - timedelta(days=5)):
        request = request_extension(actor=cast["police"], case=case, days=30, reason="需鉴定")
    with time_machine.travel(handling.due_at + timedelta(hours=2)):
        run_deadline_checks()
        handling.refresh_from_db()
        assert handling.warning_level == WarningLevel.OVERDUE and handling.escalation_step == 1
        decide_extension(actor=cast["head"], request=request, approve=True, note="")
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.ON_TIME
    assert handling.overdue_since is None and handling.escalation_step == 0
    # The new date is measured afresh by the sweep.
    with time_machine.travel(handling.due_at + timedelta(hours=1)):
        run_deadline_checks()
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.OVERDUE
    assert handling.overdue_since > handling.due_at - timedelta(days=1)


def test_rejection_needs_a_note_and_leaves_the_clock_alone(org, cast):
    case, handling = handling_case(org, cast)
    request = request_extension(actor=cast["police"], case=case, days=10, reason="复杂")
    with pytest.raises(ValidationError) as err:
        decide_extension(actor=cast["head"], request=request, approve=False, note="")
    assert "note" in err.value.message_dict
    decide_extension(actor=cast["head"], request=request, approve=False, note="理由不足")
    handling.refresh_from_db()
    assert handling.extended_days == 0
    assert not WrittenNotice.objects.filter(case=case, kind=NoticeKind.EXTENSION).exists()
    with pytest.raises(DomainError):
        decide_extension(actor=cast["head"], request=request, approve=True, note="")


# --- supervision orders ----------------------------------------------------------------------------


def test_supervisor_issues_an_order_with_its_own_clock_to_the_department(org, cast):
    case, _ = handling_case(org, cast)
    police = org.dept(org.city, DepartmentKind.POLICE)
    due = later(7)
    order = issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="三日内报告进展",
        due_at=due,
        department=police,
    )
    assert order.number == f"{case.number}-D01" and order.state == OrderState.OPEN
    clock = order_deadline(order)
    assert clock is not None and clock.kind == DeadlineKind.SUPERVISION_ORDER and clock.is_open
    assert clock.due_at.astimezone(CHINA_TZ).date() == due.astimezone(CHINA_TZ).date()
    assert order.due_at == clock.due_at
    assert clock.assignment_id == Assignment.objects.get(case=case, department=police).pk
    audience = set(
        Notification.objects.filter(case=case, kind=NotificationKind.SUPERVISION_ORDER).values_list(
            "audience_department", "audience_role"
        )
    )
    assert audience == {(police.pk, Role.OFFICER), (police.pk, Role.HEAD)}
    assert order.history.get().history_user == cast["supervisor"]
    case.refresh_from_db()
    assert case.next_due_at == clock.due_at  # the order is due before the handling period


def test_order_without_a_department_on_an_unassigned_case_goes_to_triage(org, cast):
    case = register(cast["reception"]).case
    issue_supervision_order(
        actor=cast["leader"], case=case, requirement="尽快审查", due_at=later(3)
    )
    note = Notification.objects.get(case=case, kind=NotificationKind.SUPERVISION_ORDER)
    assert (note.audience_center, note.audience_role) == (org.city, Role.TRIAGE)


def test_province_supervisor_may_supervise_a_city_case_but_an_outsider_may_not(org, cast):
    case, _ = handling_case(org, cast)
    order = issue_supervision_order(
        actor=cast["province_supervisor"], case=case, requirement="督办", due_at=later()
    )
    assert order.issued_by == cast["province_supervisor"]
    for who in ("outsider", "police", "triage"):
        with pytest.raises(PermissionDenied):
            issue_supervision_order(actor=cast[who], case=case, requirement="督办", due_at=later())


def test_county_supervisor_cannot_supervise_the_city_above(org, cast):
    case, _ = handling_case(org, cast)
    county_supervisor = make_user("county_supervisor", org.county_a, [Role.SUPERVISOR])
    with pytest.raises(PermissionDenied):
        send_reminder(actor=county_supervisor, case=case, message="催办")


def test_order_needs_a_requirement_a_future_date_and_a_department_of_the_case(org, cast):
    case, _ = handling_case(org, cast)
    with pytest.raises(ValidationError) as err:
        issue_supervision_order(actor=cast["supervisor"], case=case, requirement="", due_at=later())
    assert "requirement" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        issue_supervision_order(
            actor=cast["supervisor"], case=case, requirement="督办", due_at=later(-1)
        )
    assert "due_at" in err.value.message_dict
    for department in (
        org.dept(org.county_a, DepartmentKind.POLICE),  # another center's
        org.dept(org.city, DepartmentKind.COURT),  # no part in the case
    ):
        with pytest.raises(ValidationError) as err:
            issue_supervision_order(
                actor=cast["supervisor"],
                case=case,
                requirement="督办",
                due_at=later(),
                department=department,
            )
        assert "department" in err.value.message_dict


def test_order_on_a_closed_case_is_refused(org, cast):
    case = register(cast["reception"]).case
    answer_on_spot(actor=cast["reception"], case=case, answer="已当场解答")
    with pytest.raises(DomainError):
        issue_supervision_order(
            actor=cast["supervisor"], case=case, requirement="督办", due_at=later()
        )


def test_order_response_meets_its_deadline(org, cast):
    case, handling = handling_case(org, cast)
    order = issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="报告进展",
        due_at=later(5),
        department=org.dept(org.city, DepartmentKind.POLICE),
    )
    answered = respond_to_order(actor=cast["police"], order=order, response="已约谈信访人")
    assert answered.state == OrderState.RESPONDED and answered.responded_by == cast["police"]
    clock = order_deadline(order)
    assert clock is not None and clock.met_at == answered.responded_at
    case.refresh_from_db()
    assert case.next_due_at == handling.due_at  # back to the handling period
    assert Notification.objects.filter(recipient=cast["supervisor"], case=case).exists()
    assert CaseEvent.objects.filter(case=case, kind="supervision_order_responded").exists()
    with pytest.raises(DomainError):
        respond_to_order(actor=cast["head"], order=order, response="再答")


def test_order_response_is_written_and_by_the_addressed_department(org, cast):
    case, _ = handling_case(org, cast)
    order = issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="报告进展",
        due_at=later(5),
        department=org.dept(org.city, DepartmentKind.POLICE),
    )
    with pytest.raises(ValidationError):
        respond_to_order(actor=cast["police"], order=order, response=" ")
    for who in ("court", "supervisor"):
        with pytest.raises(PermissionDenied):
            respond_to_order(actor=cast[who], order=order, response="答复")


def test_lead_department_answers_an_order_addressed_to_no_department(org, cast):
    case, _ = handling_case(org, cast)
    order = issue_supervision_order(
        actor=cast["supervisor"], case=case, requirement="报告", due_at=later(5)
    )
    police = org.dept(org.city, DepartmentKind.POLICE)
    # named at issue time (致 公安局), its clock on the lead's assignment like a chosen department's
    assert order.department == police
    clock = order_deadline(order)
    assert clock.assignment_id == Assignment.objects.get(case=case, department=police).pk
    assert respond_to_order(actor=cast["head"], order=order, response="已处理").state == (
        OrderState.RESPONDED
    )


def test_an_overdue_order_is_picked_up_by_the_sweep_and_escalated(org, cast):
    case, _ = handling_case(org, cast)
    police = org.dept(org.city, DepartmentKind.POLICE)
    order = issue_supervision_order(
        actor=cast["supervisor"], case=case, requirement="报告", due_at=later(3), department=police
    )
    with time_machine.travel(order.due_at + timedelta(hours=1)):
        run_deadline_checks()
    clock = order_deadline(order)
    assert clock.warning_level == WarningLevel.OVERDUE and clock.escalation_step == 1
    assert Notification.objects.filter(
        case=case, kind=NotificationKind.OVERDUE, body__startswith="supervision_order"
    ).exists()
    escalation = Notification.objects.get(case=case, kind=NotificationKind.ESCALATION)
    assert (escalation.audience_role, escalation.audience_department) == (Role.HEAD, police)


def test_one_open_order_per_addressee_until_it_is_closed(org, cast):
    case, _ = handling_case(org, cast, assisting=[DepartmentKind.COURT])
    police = org.dept(org.city, DepartmentKind.POLICE)
    first = issue_supervision_order(
        actor=cast["supervisor"], case=case, requirement="一", due_at=later(), department=police
    )
    with pytest.raises(DomainError):
        issue_supervision_order(
            actor=cast["supervisor"], case=case, requirement="二", due_at=later(), department=police
        )
    other = issue_supervision_order(
        actor=cast["supervisor"],
        case=case,
        requirement="二",
        due_at=later(),
        department=org.dept(org.city, DepartmentKind.COURT),
    )
    assert other.number == f"{case.number}-D02"
    with pytest.raises(PermissionDenied):
        close_order(actor=cast["leader"], order=first)  # closing is the supervisor's
    closed = close_order(actor=cast["supervisor"], order=first)
    assert closed.state == OrderState.CLOSED
    assert order_deadline(first).met_at is not None  # withdrawn: its clock stops
    again = issue_supervision_order(
        actor=cast["supervisor"], case=case, requirement="三", due_at=later(), department=police
    )
    assert again.number == f"{case.number}-D03"
    with pytest.raises(DomainError):
        close_order(actor=cast["supervisor"], order=first)


# --- reminders -------------------------------------------------------------------------------------


def test_reminder_goes_to_the_lead_department_and_a_double_click_sends_once(org, cast):
    case, _ = handling_case(org, cast)
    first = send_reminder(actor=cast["supervisor"], case=case, message="请加快办理")
    second = send_reminder(actor=cast["supervisor"], case=case, message="请加快办理")
    assert first.sent and not second.sent and second.event == first.event
    reminders = Notification.objects.filter(case=case, kind=NotificationKind.REMINDER)
    police = org.dept(org.city, DepartmentKind.POLICE)
    assert set(reminders.values_list("audience_department", "audience_role")) == {
        (police.pk, Role.OFFICER),
        (police.pk, Role.HEAD),
    }
    assert CaseEvent.objects.filter(case=case, kind="reminder").count() == 1
    # Another supervisor's reminder, or the same one's a minute later, is a new reminder.
    assert send_reminder(actor=cast["leader"], case=case, message="催办").sent
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=5)):
        assert send_reminder(actor=cast["supervisor"], case=case, message="再催").sent
    assert CaseEvent.objects.filter(case=case, kind="reminder").count() == 3


def test_reminder_on_an_unassigned_case_goes_to_triage(org, cast):
    case = register(cast["reception"]).case
    send_reminder(actor=cast["supervisor"], case=case, message="请尽快审查")
    note = Notification.objects.get(case=case, kind=NotificationKind.REMINDER)
    assert (note.audience_center, note.audience_role) == (org.city, Role.TRIAGE)


def test_reminder_is_for_supervisors_and_leaders_and_needs_a_message(org, cast):
    case, _ = handling_case(org, cast)
    with pytest.raises(PermissionDenied):
        send_reminder(actor=cast["head"], case=case, message="催办")
    with pytest.raises(ValidationError):
        send_reminder(actor=cast["supervisor"], case=case, message="")


# --- leader responsibility -------------------------------------------------------------------------


def test_leader_responsibility_is_assigned_and_resolved(org, cast):
    case, _ = handling_case(org, cast)
    responsibility = assign_leader_responsibility(
        actor=cast["supervisor"],
        case=case,
        leader=cast["leader"],
        handler=cast["police"],
        due_at=later(30),
        target_result="息诉罢访",
    )
    assert set(
        Notification.objects.filter(case=case, recipient__isnull=False).values_list(
            "recipient", flat=True
        )
    ) >= {cast["leader"].pk, cast["police"].pk}
    with pytest.raises(DomainError):
        assign_leader_responsibility(
            actor=cast["supervisor"],
            case=case,
            leader=cast["leader"],
            handler=None,
            due_at=later(30),
            target_result="再次",
        )
    with pytest.raises(PermissionDenied):
        resolve_leader_responsibility(
            actor=cast["police"], responsibility=responsibility, result="x"
        )
    done = resolve_leader_responsibility(
        actor=cast["leader"], responsibility=responsibility, result="已化解，信访人签字息诉"
    )
    assert done.is_resolved and done.resolved_at is not None
    assert done.history.first().history_user == cast["leader"]
    with pytest.raises(DomainError):
        resolve_leader_responsibility(actor=cast["leader"], responsibility=done, result="again")


def test_a_province_leader_may_answer_for_a_city_case(org, cast, province_leader):
    case, _ = handling_case(org, cast)
    responsibility = assign_leader_responsibility(
        actor=cast["province_supervisor"],
        case=case,
        leader=province_leader,
        handler=None,
        due_at=later(30),
        target_result="化解",
    )
    assert responsibility.leader == province_leader


def test_the_named_leader_must_hold_the_leader_role_and_see_the_case(org, cast, province_leader):
    case, _ = handling_case(org, cast)
    county_leader = make_user("county_leader", org.county_a, [Role.LEADER])
    for leader in (cast["supervisor"], county_leader, province_leader):
        # the supervisor is no leader; the county leader cannot see a city case; the province
        # leader is above the city supervisor, outside the centers they supervise
        with pytest.raises(ValidationError) as err:
            assign_leader_responsibility(
                actor=cast["supervisor"],
                case=case,
                leader=leader,
                handler=None,
                due_at=later(30),
                target_result="化解",
            )
        assert "leader" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        assign_leader_responsibility(
            actor=cast["supervisor"],
            case=case,
            leader=cast["leader"],
            handler=cast["outsider"],
            due_at=later(-1),
            target_result="",
        )
    assert set(err.value.message_dict) == {"handler", "due_at", "target_result"}
    assert not LeaderResponsibility.objects.exists()


# --- consultations ---------------------------------------------------------------------------------


def test_consultation_records_the_organs_and_their_decisions(org, cast):
    case, _ = handling_case(org, cast)
    organs = [org.dept(org.city, k) for k in (DepartmentKind.POLICE, DepartmentKind.COURT)]
    consultation = record_consultation(
        actor=cast["leader"],
        case=case,
        held_at=timezone.now() - timedelta(hours=2),
        departments=organs,
        participants="公安、法院承办人",
        decisions="法院牵头执行，公安配合",
    )
    assert list(consultation.departments.order_by("id")) == organs
    assert set(
        Notification.objects.filter(case=case, audience_role=Role.HEAD).values_list(
            "audience_department", flat=True
        )
    ) >= {d.pk for d in organs}
    assert CaseEvent.objects.filter(case=case, kind="consultation").exists()


def test_consultation_needs_decisions_and_departments_of_the_case_center(org, cast):
    case, _ = handling_case(org, cast)
    with pytest.raises(ValidationError) as err:
        record_consultation(
            actor=cast["supervisor"],
            case=case,
            held_at=timezone.now(),
            departments=[org.dept(org.county_a, DepartmentKind.POLICE)],
            participants="",
            decisions="",
        )
    assert set(err.value.message_dict) == {"departments", "decisions"}
    with pytest.raises(PermissionDenied):
        record_consultation(
            actor=cast["head"],
            case=case,
            held_at=timezone.now(),
            departments=[org.dept(org.city, DepartmentKind.POLICE)],
            participants="",
            decisions="决定",
        )


# --- accountability findings -----------------------------------------------------------------------


def test_findings_need_a_department_or_an_officer(org, cast):
    case, _ = handling_case(org, cast)
    with pytest.raises(ValidationError) as err:
        record_accountability_finding(actor=cast["supervisor"], case=case, finding="超期未办")
    assert err.value.messages
    assert not AccountabilityFinding.objects.exists()
    record = record_accountability_finding(
        actor=cast["supervisor"],
        case=case,
        officer=cast["police"],
        finding="超期未办",
        measures="通报批评",
    )
    assert record.officer == cast["police"] and record.department is None
    assert Notification.objects.filter(case=case, recipient=cast["police"]).exists()


def test_findings_are_recorded_within_the_supervised_centers(org, cast):
    case, _ = handling_case(org, cast)
    record = record_accountability_finding(
        actor=cast["leader"],
        case=case,
        department=org.dept(org.city, DepartmentKind.POLICE),
        finding="答复不规范",
    )
    assert record.history.get().history_user == cast["leader"]
    with pytest.raises(ValidationError) as err:
        record_accountability_finding(
            actor=cast["supervisor"],
            case=case,
            department=org.dept(org.other_province, DepartmentKind.COURT),
            finding="x",
        )
    assert "department" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        record_accountability_finding(
            actor=cast["police"], case=case, officer=cast["police"], finding="x"
        )


def test_findings_name_only_those_who_held_an_assignment_on_the_case(org, cast, court_head):
    """Issue 13 #4: no finding (and no notification) against a bystander."""
    case, _ = handling_case(org, cast, assisting=[DepartmentKind.COURT])
    procuratorate = org.dept(org.city, DepartmentKind.PROCURATORATE)
    for kwargs, field in [
        ({"department": procuratorate}, "department"),
        ({"officer": cast["procuratorate"]}, "officer"),
        ({"officer": cast["court"]}, "officer"),  # the court assisted, but not through him
    ]:
        with pytest.raises(ValidationError) as err:
            record_accountability_finding(
                actor=cast["supervisor"], case=case, finding="超期未办", **kwargs
            )
        assert field in err.value.message_dict
    assert not AccountabilityFinding.objects.exists()
    assert not Notification.objects.filter(recipient=cast["procuratorate"]).exists()
    # the lead and the assisting department, the officer who handled it, the heads of both
    for kwargs in [
        {"department": org.dept(org.city, DepartmentKind.COURT)},
        {"department": org.dept(org.city, DepartmentKind.POLICE), "officer": cast["police"]},
        {"officer": cast["head"]},
        {"officer": court_head},
    ]:
        record_accountability_finding(
            actor=cast["supervisor"], case=case, finding="超期未办", **kwargs
        )
    assert AccountabilityFinding.objects.filter(case=case).count() == 4


def test_findings_may_name_departments_along_the_transfer_chain(org, cast):
    case, _ = handling_case(org, cast)
    city_police = org.dept(org.city, DepartmentKind.POLICE)
    Assignment.objects.filter(case=case).update(state=AssignmentState.RETURNED)
    Case.objects.filter(pk=case.pk).update(center=org.county_a)
    Assignment.objects.create(
        case=case,
        department=org.dept(org.county_a, DepartmentKind.POLICE),
        role="lead",
        state=AssignmentState.PENDING,
        due_at=timezone.now() + timedelta(days=60),
        assigned_by=cast["county_triage"],
        assigned_at=timezone.now(),
    )
    case.refresh_from_db()
    for department in (city_police, org.dept(org.county_a, DepartmentKind.POLICE)):
        record_accountability_finding(
            actor=cast["supervisor"], case=case, department=department, finding="推诿"
        )
    with pytest.raises(ValidationError):
        record_accountability_finding(
            actor=cast["supervisor"],
            case=case,
            department=org.dept(org.county_a, DepartmentKind.COURT),
            finding="x",
        )


# --- bulletins -------------------------------------------------------------------------------------


def test_bulletin_names_units_and_cases_and_each_case_gets_the_event(org, cast):
    case, _ = handling_case(org, cast)
    police = org.dept(org.city, DepartmentKind.POLICE)
    county_court = org.dept(org.county_a, DepartmentKind.COURT)
    bulletin = issue_bulletin(
        actor=cast["supervisor"],
        title="关于超期办理的通报",
        body="以下单位办理超期",
        departments=[police, county_court],
        cases=[case],
    )
    assert bulletin.center == org.city
    assert set(bulletin.departments.all()) == {police, county_court}
    assert list(bulletin.cases.all()) == [case]
    assert CaseEvent.objects.filter(case=case, kind="bulletin").count() == 1
    assert (
        Notification.objects.filter(title="关于超期办理的通报", audience_role=Role.HEAD).count()
        == 2
    )
    assert case_overlays(case).bulletins == [bulletin]


def test_bulletins_are_scoped_to_what_the_issuer_supervises(org, cast):
    case, _ = handling_case(org, cast)
    foreign_case = register(cast["outsider"]).case
    with pytest.raises(ValidationError) as err:
        issue_bulletin(
            actor=cast["supervisor"],
            title="通报",
            body="正文",
            departments=[org.dept(org.province, DepartmentKind.POLICE)],
            cases=[case, foreign_case],
        )
    assert set(err.value.message_dict) == {"departments", "cases"}
    with pytest.raises(ValidationError) as err:
        issue_bulletin(actor=cast["supervisor"], title="", body="", departments=[], cases=[])
    assert set(err.value.message_dict) == {"title", "body", "departments"}
    with pytest.raises(PermissionDenied):
        issue_bulletin(
            actor=cast["head"],
            title="通报",
            body="正文",
            departments=[org.dept(org.city, DepartmentKind.POLICE)],
        )
    assert not Bulletin.objects.exists()


def test_case_overlays_reads_in_a_fixed_number_of_queries(org, cast, django_assert_num_queries):
    case, _ = handling_case(org, cast, assisting=[DepartmentKind.COURT, DepartmentKind.JUSTICE])
    police = org.dept(org.city, DepartmentKind.POLICE)
    for kind in (DepartmentKind.POLICE, DepartmentKind.COURT, DepartmentKind.JUSTICE):
        issue_supervision_order(
            actor=cast["supervisor"],
            case=case,
            requirement="督办",
            due_at=later(),
            department=org.dept(org.city, kind),
        )
        record_consultation(
            actor=cast["supervisor"],
            case=case,
            held_at=timezone.now(),
            departments=[police, org.dept(org.city, kind)],
            participants="",
            decisions="决定",
        )
        record_accountability_finding(
            actor=cast["supervisor"], case=case, department=police, finding="超期"
        )
        issue_bulletin(
            actor=cast["supervisor"], title="通报", body="正文", departments=[police], cases=[case]
        )
    with django_assert_num_queries(10):
        overlays = case_overlays(case)
    assert len(overlays.orders) == 3 and len(overlays.consultations) == 3
    assert len(overlays.bulletins) == 3 and len(overlays.findings) == 3
    # handling, three orders and the assisting departments' two objection periods
    assert len(overlays.deadlines) == 6
