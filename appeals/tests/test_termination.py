"""Lawful termination (依法终结): proposed by the department, reviewed by the center, approved at
provincial level (Art 37; the 涉法涉诉 rules)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from appeals import services
from appeals.models import Finality, FinalityReason, Termination, TerminationState
from appeals.testing import delivered_case
from clocks.deadlines import CHINA_TZ
from core.errors import DomainError, PermissionDenied
from petitions.models import Case
from petitions.services import registration_warnings
from petitions.states import CaseState

from .conftest import DELIVERED

pytestmark = pytest.mark.django_db

GROUNDS = "已经法院再审、检察院监督程序，法律程序已穷尽。"


def propose(actor, case, **kw) -> Termination:
    case.refresh_from_db()
    return services.propose_termination(actor=actor, case=case, grounds=GROUNDS, **kw)


def review(actor, case, approve=True, opinion="同意报请省级审批。"):
    case.refresh_from_db()
    return services.decide_termination(actor=actor, case=case, approve=approve, opinion=opinion)


def approve(actor, case, **kw):
    case.refresh_from_db()
    kw.setdefault("approving_body", "省委政法委")
    kw.setdefault("approval_date", date(2026, 9, 30))
    return services.decide_termination(actor=actor, case=case, approve=True, **kw)


def test_the_whole_path_terminates_the_case_and_flags_the_person(county_case, county, province):
    termination = propose(county.officer, county_case)
    assert termination.state == TerminationState.PROPOSED
    assert termination.support_unit == county.department
    review(county.supervisor, county_case)
    termination = approve(province.leader, county_case)
    assert termination.state == TerminationState.APPROVED
    assert termination.approving_body == "省委政法委"
    assert termination.approval_date == date(2026, 9, 30)
    county_case.refresh_from_db()
    assert county_case.state == CaseState.TERMINATED
    finality = Finality.objects.get(case=county_case)
    assert finality.reason == FinalityReason.TERMINATED and finality.termination == termination
    warnings = registration_warnings(county_case.main_petitioner)
    assert any(county_case.number in w and county.department.name in w for w in warnings)


def test_a_case_that_is_not_law_related_cannot_be_terminated(county):
    case = delivered_case(county, delivered_at=DELIVERED, is_law_related=False)
    version = case.version
    with pytest.raises(DomainError) as exc:
        propose(county.officer, case)
    assert exc.value.code == "not_law_related"
    case.refresh_from_db()
    assert case.version == version and not Termination.objects.exists()


def test_only_the_lead_department_proposes(county_case, county, org):
    from appeals.testing import staff_for

    other = staff_for(org.county_b)
    for actor in (other.officer, county.supervisor, county.reception):
        with pytest.raises(PermissionDenied):
            propose(actor, county_case)
    assert not Termination.objects.exists()


def test_a_grounds_text_is_required(county_case, county):
    with pytest.raises(ValidationError):
        services.propose_termination(actor=county.officer, case=county_case, grounds="  ")


def test_a_double_submit_and_a_second_proposal_create_nothing_twice(county_case, county):
    first = propose(county.officer, county_case, submission_key="t-1")
    again = propose(county.officer, county_case, submission_key="t-1")
    assert first.pk == again.pk
    with pytest.raises(DomainError) as exc:
        propose(county.head, county_case)
    assert exc.value.code == "already_proposed"
    assert Termination.objects.count() == 1


def test_the_center_review_is_the_case_centers(county_case, county, city, province):
    propose(county.officer, county_case)
    for actor in (city.supervisor, province.supervisor, county.officer):
        with pytest.raises(PermissionDenied):
            review(actor, county_case)
    assert Termination.objects.get().state == TerminationState.PROPOSED


def test_approval_by_a_non_provincial_user_is_refused(county_case, county, city):
    propose(county.officer, county_case)
    review(county.supervisor, county_case)
    version = Case.objects.get(pk=county_case.pk).version
    for actor in (county.supervisor, city.supervisor, city.leader):
        with pytest.raises(PermissionDenied):
            approve(actor, county_case)
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REPLIED and county_case.version == version
    assert Termination.objects.get().state == TerminationState.CENTER_REVIEWED


def test_a_province_of_another_tree_cannot_approve(county_case, county, org):
    from appeals.testing import staff_for

    other = staff_for(org.other_province)
    propose(county.officer, county_case)
    review(county.supervisor, county_case)
    with pytest.raises(PermissionDenied):
        approve(other.supervisor, county_case)


def test_approval_needs_the_approving_body_and_date(county_case, county, province):
    propose(county.officer, county_case)
    review(county.supervisor, county_case)
    with pytest.raises(ValidationError) as exc:
        approve(province.supervisor, county_case, approving_body="", approval_date=None)
    assert {"approving_body", "approval_date"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        approve(province.supervisor, county_case, approval_date=date(2999, 1, 1))
    assert Termination.objects.get().state == TerminationState.CENTER_REVIEWED


def test_not_approving_needs_a_reason_and_leaves_the_case(county_case, county, province):
    propose(county.officer, county_case)
    with pytest.raises(ValidationError):
        review(county.supervisor, county_case, approve=False, opinion="")
    review(county.supervisor, county_case)
    termination = services.decide_termination(
        actor=province.supervisor, case=county_case, approve=False, opinion="程序尚未穷尽。"
    )
    assert termination.state == TerminationState.REJECTED
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REPLIED
    assert not Finality.objects.exists()
    # a new proposal may follow a refused one
    propose(county.officer, county_case)


def test_a_province_case_goes_through_both_steps_at_the_province(province):
    case = delivered_case(province, delivered_at=DELIVERED)
    propose(province.officer, case)
    review(province.supervisor, case)
    approve(province.leader, case)
    case.refresh_from_db()
    assert case.state == CaseState.TERMINATED


def test_an_archived_case_is_not_proposed(county_case, county):
    Case.objects.filter(pk=county_case.pk).update(state=CaseState.ARCHIVED)
    with pytest.raises(DomainError):
        propose(county.officer, county_case)
    assert not Termination.objects.exists()


def test_no_decision_without_a_proposal(county_case, county):
    with pytest.raises(DomainError) as exc:
        review(county.supervisor, county_case)
    assert exc.value.code == "no_proposal"


# --- issue 18 #1: termination only after the procedures are exhausted (Art 37 after Arts 35-36) --


def _at(day: str) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, 10, 0, tzinfo=CHINA_TZ)


def test_proposing_while_the_review_window_is_open_is_refused_naming_the_date(county_case, county):
    # reply delivered 20 Sep: the petitioner may ask for review until the end of 20 Oct
    version = county_case.version
    with time_machine.travel(_at("2026-10-09")), pytest.raises(DomainError) as exc:
        propose(county.officer, county_case)
    assert exc.value.code == "procedures_open"
    assert "2026-10-20" in str(exc.value) and "2026-10-21" in str(exc.value)
    assert "复查" in str(exc.value)
    county_case.refresh_from_db()
    assert county_case.version == version and not Termination.objects.exists()
    # the last day of the window is still the petitioner's
    last_minute = datetime(2026, 10, 20, 23, 59, tzinfo=CHINA_TZ)
    with time_machine.travel(last_minute), pytest.raises(DomainError):
        propose(county.officer, county_case)
    with time_machine.travel(_at("2026-10-21")):
        assert propose(county.officer, county_case).state == TerminationState.PROPOSED


def test_proposing_while_a_review_is_pending_or_the_re_review_window_open_is_refused(
    county_case, county, city
):
    with time_machine.travel(_at("2026-10-09")):
        county_case.refresh_from_db()
        services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="不服"
        )
        with pytest.raises(DomainError) as exc:
            propose(county.officer, county_case)
    assert exc.value.code == "procedures_open" and "2026-11-08" in str(exc.value)
    with time_machine.travel(_at("2026-10-12")):
        county_case.refresh_from_db()
        services.decide_review(
            actor=city.supervisor, case=county_case, decision="uphold", answer="维持"
        )
    # review answer 12 Oct: re-review may be asked until 11 Nov
    with time_machine.travel(_at("2026-11-01")), pytest.raises(DomainError) as exc:
        propose(county.officer, county_case)
    assert "2026-11-11" in str(exc.value) and "复核" in str(exc.value)
    assert not Termination.objects.exists()
    with time_machine.travel(_at("2026-11-12")):
        propose(county.officer, county_case)


def _legacy_proposal(case, staff, *, reviewed: bool) -> Termination:
    """A proposal made before the guard existed (or the window reopened since): the rows as the
    old code wrote them."""
    from django.utils import timezone

    return Termination.objects.create(
        case=case,
        department=staff.department,
        grounds=GROUNDS,
        proposed_by=staff.officer,
        proposed_at=timezone.now(),
        support_unit=staff.department,
        state=TerminationState.CENTER_REVIEWED if reviewed else TerminationState.PROPOSED,
    )


def test_center_review_and_approval_recheck_the_window(county_case, county, province):
    with time_machine.travel(_at("2026-10-09")):
        _legacy_proposal(county_case, county, reviewed=False)
        with pytest.raises(DomainError) as exc:
            review(county.supervisor, county_case)
        assert exc.value.code == "procedures_open"
        Termination.objects.update(state=TerminationState.CENTER_REVIEWED)
        with pytest.raises(DomainError) as exc:
            approve(province.leader, county_case, approval_date=date(2026, 10, 9))
        assert exc.value.code == "procedures_open" and "2026-10-20" in str(exc.value)
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REPLIED and not Finality.objects.exists()
    assert Termination.objects.get().state == TerminationState.CENTER_REVIEWED


def test_a_review_requested_between_proposal_and_approval_blocks_the_approval(
    county_case, county, province
):
    with time_machine.travel(_at("2026-10-09")):
        _legacy_proposal(county_case, county, reviewed=True)
        county_case.refresh_from_db()
        services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="不服"
        )
        with pytest.raises(DomainError) as exc:
            approve(province.leader, county_case, approval_date=date(2026, 10, 9))
    assert exc.value.code == "procedures_open" and "2026-11-08" in str(exc.value)
    county_case.refresh_from_db()
    assert county_case.state == CaseState.REVIEW
    assert Termination.objects.get().state == TerminationState.CENTER_REVIEWED
