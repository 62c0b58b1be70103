"""Lawful termination (依法终结): proposed by the department, reviewed by the center, approved at
provincial level (Art 37; the 涉法涉诉 rules)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from appeals import services
from appeals.models import Finality, FinalityReason, Termination, TerminationState
from appeals.testing import delivered_case
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
