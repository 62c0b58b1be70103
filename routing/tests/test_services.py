import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.http import Http404
from django.utils import timezone, translation

from clocks.models import Deadline, DeadlineKind
from core.errors import DomainError, IllegalTransition, PermissionDenied, StaleState
from core.models import DepartmentKind
from petitions.models import Case
from petitions.selectors import cases_visible_to, get_case_for
from petitions.states import CaseState
from petitions.testing import register
from routing.models import Assignment, AssignmentState, NoticeKind, RoutingRule, WrittenNotice
from routing.notices import notice_pdf
from routing.services import (
    DepartmentDue,
    accept_assignment,
    add_progress_note,
    assign_case,
    confirm_return,
    not_accept,
    reassign_case,
    refer_out,
    return_assignment,
    route_to_legal_procedure,
    screening_flags,
    sign_for_assignment,
    submit_contribution,
    suggest_lead_department,
    transfer_case,
)

pytestmark = pytest.mark.django_db


def due(days=30):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def case(cast):
    return register(cast["reception"]).case


def assign(org, cast, case, assisting=(DepartmentKind.COURT,)):
    c = org.city
    return assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(org.dept(c, DepartmentKind.POLICE), due()),
        assisting=[DepartmentDue(org.dept(c, k), due(20)) for k in assisting],
    )


def test_assign_creates_lead_and_assisting_with_their_own_due_dates_and_clocks(org, cast, case):
    lead, assist = assign(org, cast, case)
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED
    assert (lead.role, assist.role) == ("lead", "assist") and lead.due_at != assist.due_at
    assert Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING).met_at is not None
    assert (
        Deadline.objects.filter(case=case, kind=DeadlineKind.OBJECTION, met_at__isnull=True).count()
        == 2
    )
    assert case.events.filter(kind="assign", actor=cast["triage"]).exists()
    assert case.history.first().history_user == cast["triage"]


def test_only_triage_assigns(org, cast, case):
    with pytest.raises(PermissionDenied):
        assign_case(
            actor=cast["reception"],
            case=case,
            lead=DepartmentDue(org.dept(org.city, DepartmentKind.POLICE), due()),
        )


def test_assigning_to_a_department_of_another_center_is_refused(org, cast, case):
    with pytest.raises(ValidationError) as exc:
        assign_case(
            actor=cast["triage"],
            case=case,
            lead=DepartmentDue(org.dept(org.county_a, DepartmentKind.POLICE), due()),
        )
    assert "lead" in exc.value.message_dict
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED and not Assignment.objects.exists()


def test_due_date_in_the_past_is_refused(org, cast, case):
    with pytest.raises(ValidationError) as exc:
        assign_case(
            actor=cast["triage"],
            case=case,
            lead=DepartmentDue(
                org.dept(org.city, DepartmentKind.POLICE), timezone.now() - timedelta(days=1)
            ),
        )
    assert "lead_due" in exc.value.message_dict


def test_subordinate_center_cases_are_read_only(org, cast):
    county_case = register(cast["county_reception"]).case
    city_triage = cast["triage"]
    with pytest.raises(PermissionDenied):
        not_accept(actor=city_triage, case=county_case, reason="x")


def test_assigning_twice_is_an_illegal_transition(org, cast, case):
    assign(org, cast, case)
    with pytest.raises(IllegalTransition):
        assign(org, cast, case)


def test_stale_form_is_refused(org, cast, case):
    version = case.version
    assign(org, cast, case)
    with pytest.raises(StaleState):
        not_accept(actor=cast["triage"], case=case, reason="x", expected_version=version)


@pytest.mark.django_db(transaction=True)
def test_two_triage_staff_assigning_at_once_one_wins(org, cast):
    case = register(cast["reception"]).case
    version = case.version
    second_triage = cast["triage"]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def work(kind):
        try:
            barrier.wait()
            c = Case.objects.get(pk=case.pk)
            assign_case(
                actor=second_triage,
                case=c,
                expected_version=version,
                lead=DepartmentDue(org.dept(org.city, kind), due()),
            )
            results.append("ok")
        except (StaleState, IllegalTransition) as exc:
            results.append(type(exc).__name__)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=work, args=(k,))
        for k in (DepartmentKind.POLICE, DepartmentKind.COURT)
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["StaleState", "ok"]
    assert Assignment.objects.filter(case=case).count() == 1


def test_officer_sees_only_their_departments_cases(org, cast, case):
    assign(org, cast, case)
    assert list(cases_visible_to(cast["police"])) == [case]
    assert list(cases_visible_to(cast["court"])) == [case]  # assisting
    assert not cases_visible_to(cast["justice"]).exists()
    with pytest.raises(Http404):
        get_case_for(cast["justice"], case.pk)


def test_lead_signs_and_accepts_and_gets_the_handling_clock_and_notice(org, cast, case):
    lead, _assist = assign(org, cast, case)
    signed = sign_for_assignment(actor=cast["police"], assignment=lead)
    assert signed.state == AssignmentState.SIGNED and signed.signed_at is not None
    notice = accept_assignment(actor=cast["police"], assignment=lead)
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING
    assert (
        notice.kind == NoticeKind.ACCEPTANCE
        and case.number in notice.body
        and "六十日" in notice.body
    )
    handling = Deadline.objects.get(case=case, kind=DeadlineKind.HANDLING)
    assert (handling.due_at - handling.starts_at).days in (60, 61)
    assert notice_pdf(notice).startswith(b"%PDF")


def test_signing_for_a_case_assigned_elsewhere_is_refused(org, cast, case):
    lead, _assist = assign(org, cast, case)
    with pytest.raises(PermissionDenied):
        sign_for_assignment(actor=cast["justice"], assignment=lead)


def test_accept_before_sign_is_refused(org, cast, case):
    lead, _ = assign(org, cast, case)
    with pytest.raises(DomainError):
        accept_assignment(actor=cast["police"], assignment=lead)


def test_assisting_department_contributes(org, cast, case):
    _lead, assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["court"], assignment=assist)
    done = submit_contribution(
        actor=cast["court"], assignment=assist, text="法院执行情况：已立案执行。"
    )
    assert done.state == AssignmentState.DONE and done.contribution.startswith("法院")
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED  # an assisting department does not move the case


def test_return_within_five_working_days_goes_back_to_triage(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    return_assignment(actor=cast["police"], assignment=lead, reason="不属于本单位职责。")
    case.refresh_from_db()
    assert case.state == CaseState.RETURNED
    confirm_return(actor=cast["triage"], case=case)
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED
    assert Deadline.objects.filter(
        case=case, kind=DeadlineKind.SCREENING, met_at__isnull=True
    ).exists()


def test_return_after_five_working_days_is_refused(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    with (
        time_machine.travel(objection.due_at + timedelta(minutes=1)),
        pytest.raises(DomainError) as exc,
    ):
        return_assignment(actor=cast["police"], assignment=lead, reason="不属于本单位职责。")
    assert exc.value.code == "deadline_passed"


def test_return_needs_a_reason(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    with pytest.raises(ValidationError):
        return_assignment(actor=cast["police"], assignment=lead, reason=" ")


def test_not_accept_refer_and_legal_route_issue_notices(org, cast):
    a = register(cast["reception"]).case
    b = register(cast["reception"]).case
    c = register(cast["reception"]).case
    assert (
        not_accept(actor=cast["triage"], case=a, reason="不属于信访事项").kind
        == NoticeKind.NOT_ACCEPTED
    )
    assert (
        refer_out(actor=cast["triage"], case=b, competent_organ="市人社局", reason="劳动争议").kind
        == NoticeKind.REFERRAL
    )
    n = route_to_legal_procedure(
        actor=cast["triage"],
        case=c,
        organ="市中级人民法院",
        procedure="审判监督程序",
        legal_case_number="（2025）冀01民申12号",
    )
    assert n.kind == NoticeKind.LEGAL_PROCEDURE
    states = dict(Case.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("pk", "state"))
    assert states == {
        a.pk: CaseState.NOT_ACCEPTED,
        b.pk: CaseState.REFERRED,
        c.pk: CaseState.LEGAL_PROCEDURE,
    }
    with pytest.raises(ValidationError):
        not_accept(actor=cast["triage"], case=register(cast["reception"]).case, reason="")


def test_transfer_moves_the_case_to_the_county_queue_with_history(org, cast, case):
    transfer_case(
        actor=cast["triage"], case=case, to_center=org.county_a, reason="越级访，转属地办理"
    )
    case.refresh_from_db()
    assert case.center == org.county_a and case.state == CaseState.REGISTERED
    assert case in cases_visible_to(cast["county_triage"])
    assert case in cases_visible_to(cast["triage"])  # the sender keeps read access
    assert case.history.count() >= 2 and case.events.filter(kind="transfer").exists()
    assert WrittenNotice.objects.filter(case=case, kind=NoticeKind.TRANSFER).exists()
    # the county center now acts on it; the city can no longer
    with pytest.raises(PermissionDenied):
        not_accept(actor=cast["triage"], case=case, reason="x")
    not_accept(actor=cast["county_triage"], case=case, reason="不属于信访事项")


def test_transfer_outside_the_province_is_refused(org, cast, case):
    with pytest.raises(ValidationError):
        transfer_case(actor=cast["triage"], case=case, to_center=org.other_province, reason="x")


def test_reassign_by_supervisor_cancels_old_assignments(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    reassign_case(
        actor=cast["supervisor"],
        case=case,
        reason="职责调整",
        lead=DepartmentDue(org.dept(org.city, DepartmentKind.JUSTICE), due()),
    )
    lead.refresh_from_db()
    assert lead.state == AssignmentState.CANCELLED
    assert case.events.filter(kind="reassign", message="职责调整").exists()
    assert list(cases_visible_to(cast["justice"])) == [case]


def test_routing_rule_suggests_the_lead(org, cast, case):
    RoutingRule.objects.create(category=case.category, department_kind=DepartmentKind.JUSTICE)
    assert suggest_lead_department(case).kind == DepartmentKind.JUSTICE
    RoutingRule.objects.all().delete()
    assert suggest_lead_department(case).kind == DepartmentKind.COURT  # from the organ concerned


def test_progress_notes_are_limited_to_the_assigned_departments(org, cast, case):
    assign(org, cast, case)
    add_progress_note(actor=cast["police"], case=case, text="已调取卷宗。")
    with pytest.raises(PermissionDenied):
        add_progress_note(actor=cast["justice"], case=case, text="x")


def test_same_matter_already_handled_is_flagged(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    again = register(cast["reception"], case.main_petitioner).case
    with translation.override("en"):
        assert any("Art 19" in f for f in screening_flags(again))
