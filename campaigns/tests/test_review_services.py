# ruff: noqa: F811 (pytest fixtures imported from review_fixtures are redefined as arguments)
"""Quality review (案件评查) services: the default sheet, sampling rules, reviewers, scores,
objection, decision, results, findings and bulletins."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.models import CampaignKind, ObjectionState, SampledCase, ScoreSheet
from campaigns.selectors_review import EXCELLENT, FAIL, PASS, review_results
from campaigns.services.review import DEFAULT_SHEET_NAME, sheet_for
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import DepartmentKind, User
from core.roles import Role
from petitions.models import CaseEvent
from supervision.models import AccountabilityFinding

from .review_fixtures import (  # noqa: F401 (fixtures)
    STRONG_PASSWORD,
    handled,
    lawyer,
    review,
    scores_for,
    scores_totalling,
)

pytestmark = pytest.mark.django_db

POLICE, COURT = DepartmentKind.POLICE, DepartmentKind.COURT


def sample_ids(result: Any) -> set[int]:
    return {s.case_id for s in result.samples}


# --- the default sheet --------------------------------------------------------------------------


def test_default_sheet_has_six_sections_totalling_100() -> None:
    sheet = ScoreSheet.objects.get(center__isnull=True, name=DEFAULT_SHEET_NAME)
    items = list(sheet.items.all())
    assert sum(i.points for i in items) == 100
    assert {i.section for i in items} == {
        "facts",
        "law",
        "procedure",
        "documents",
        "reply",
        "time_limits",
    }
    assert (sheet.excellent_from, sheet.pass_from) == (90, 60)


def test_a_center_copies_the_default_sheet_and_edits_its_own(cast: dict, org: Any) -> None:
    sheet = services.copy_score_sheet(actor=cast["admin"], center=org.city)
    assert sheet.center == org.city
    assert sum(i.points for i in sheet.items.all()) == 100
    items = [
        {"section": "facts", "criterion": "事实清楚", "points": 60},
        {"section": "time_limits", "criterion": "按期办结", "points": 40},
    ]
    services.replace_score_items(actor=cast["supervisor"], sheet=sheet, items=items)
    assert [(i.criterion, i.points) for i in sheet.items.order_by("sort_order")] == [
        ("事实清楚", 60),
        ("按期办结", 40),
    ]
    with pytest.raises(ValidationError) as bad:
        services.replace_score_items(
            actor=cast["supervisor"],
            sheet=sheet,
            items=[{"section": "facts", "criterion": "事实清楚", "points": 90}],
        )
    assert "各项合计90分，须合计100分。" in bad.value.messages  # the UI language, zh-hans
    with pytest.raises(PermissionDenied):
        services.copy_score_sheet(actor=cast["police"], center=org.city)
    with pytest.raises(PermissionDenied):  # the default sheet is copied, never edited
        services.replace_score_items(
            actor=cast["admin"], sheet=ScoreSheet.objects.get(center__isnull=True), items=items
        )


# --- sampling -----------------------------------------------------------------------------------


def test_dissatisfied_rule_draws_exactly_the_dissatisfied(
    review: Any, handled: Any, cast: dict, org: Any
) -> None:
    dept_unhappy = handled(rating="dissatisfied")
    center_unhappy = handled(COURT, rating="satisfied", center_rating="dissatisfied")
    county_unhappy = handled(center=org.county_a, rating="dissatisfied")
    handled(rating="satisfied")
    handled(rating="basically_satisfied")
    handled()  # never evaluated
    handled(rating="dissatisfied", state="handling")  # not handled yet
    handled(rating="dissatisfied", center=org.county_b, registered_at=review_start_minus_day())
    handled(center=org.other_province, rating="dissatisfied")  # outside the scope

    result = services.sample_cases(
        actor=cast["supervisor"], campaign=review, rules={"dissatisfied": True}
    )

    assert sample_ids(result) == {dept_unhappy.pk, center_unhappy.pk, county_unhappy.pk}
    assert result.counts["dissatisfied"] == 3
    rows = SampledCase.objects.filter(campaign=review)
    assert {r.rule for r in rows} == {"dissatisfied"}
    assert rows.get(case=center_unhappy).department == org.dept(org.city, COURT)
    review.refresh_from_db()
    assert review.score_sheet is not None  # fixed at the first sampling


def review_start_minus_day() -> Any:
    from .review_fixtures import REGISTERED

    return REGISTERED.replace(month=1, day=31)


def test_repeat_rule_draws_repeat_petitions(review: Any, handled: Any, cast: dict) -> None:
    many_visits = handled(visits=3)
    repeat_visit = handled(COURT, repeat_visit=True)
    handled()
    handled(COURT)

    result = services.sample_cases(
        actor=cast["supervisor"], campaign=review, rules={"repeat": True}
    )

    assert sample_ids(result) == {many_visits.pk, repeat_visit.pk}


def test_per_department_draws_n_handled_cases_of_each_lead_department(
    review: Any, handled: Any, cast: dict, org: Any
) -> None:
    police = [handled(POLICE) for _ in range(3)]
    court = handled(COURT)

    result = services.sample_cases(
        actor=cast["supervisor"], campaign=review, rules={"per_department": 2}
    )

    rows = list(SampledCase.objects.filter(campaign=review).select_related("department"))
    by_dept: dict[str, int] = {}
    for row in rows:
        by_dept[row.department.kind] = by_dept.get(row.department.kind, 0) + 1
    assert by_dept == {POLICE: 2, COURT: 1}
    assert sample_ids(result) <= {c.pk for c in police} | {court.pk}
    assert court.pk in sample_ids(result)


def test_random_sampling_never_draws_a_case_twice(review: Any, handled: Any, cast: dict) -> None:
    cases = {handled().pk for _ in range(5)}
    first = services.sample_cases(actor=cast["supervisor"], campaign=review, rules={"random": 3})
    second = services.sample_cases(actor=cast["supervisor"], campaign=review, rules={"random": 5})

    assert len(sample_ids(first)) == 3
    assert sample_ids(second) == cases - sample_ids(first)
    assert SampledCase.objects.filter(campaign=review, rule="random").count() == 5


def test_rules_are_validated(review: Any, cast: dict) -> None:
    with pytest.raises(ValidationError) as bad:
        services.sample_cases(
            actor=cast["supervisor"], campaign=review, rules={"random": "x", "colour": 1}
        )
    assert bad.value.message_dict["rules"] == [
        "未知的规则：colour。",
        "“random”须为1至500之间的整数。",
    ]
    with pytest.raises(ValidationError):
        services.sample_cases(actor=cast["supervisor"], campaign=review, rules={})


def test_only_the_campaign_office_samples_and_only_a_review_campaign(
    review: Any, make_campaign: Any, cast: dict
) -> None:
    with pytest.raises(PermissionDenied):
        services.sample_cases(actor=cast["police"], campaign=review, rules={"random": 1})
    backlog = make_campaign(kind=CampaignKind.BACKLOG)
    with pytest.raises(DomainError):
        services.sample_cases(actor=cast["supervisor"], campaign=backlog, rules={"random": 1})


# --- reviewers and scores -----------------------------------------------------------------------


@pytest.fixture
def sampled(review: Any, handled: Any, cast: dict) -> SampledCase:
    case = handled(rating="dissatisfied")
    services.sample_cases(actor=cast["supervisor"], campaign=review, rules={"dissatisfied": True})
    return SampledCase.objects.get(campaign=review, case=case)


def test_reviewers_are_center_staff_outside_the_department_or_outside_reviewers(
    sampled: SampledCase, cast: dict, lawyer: User
) -> None:
    with pytest.raises(ValidationError) as bad:
        services.assign_reviewers(
            actor=cast["supervisor"], sample=sampled, reviewers=[cast["head"], cast["outsider"]]
        )
    assert bad.value.message_dict["reviewers"] == [
        "head是被评查部门的人员（应当回避）。",
        "outsider既不是本活动所属中心的工作人员，也不是外部评查人员。",
    ]
    services.assign_reviewers(
        actor=cast["supervisor"], sample=sampled, reviewers=[lawyer, cast["court"]]
    )
    assert set(sampled.reviewers.all()) == {lawyer, cast["court"]}
    with pytest.raises(PermissionDenied):
        services.assign_reviewers(actor=cast["court"], sample=sampled, reviewers=[lawyer])


def test_only_an_assigned_reviewer_scores(sampled: SampledCase, cast: dict, lawyer: User) -> None:
    campaign, case = sampled.campaign, sampled.case
    with pytest.raises(PermissionDenied):
        services.submit_review(
            actor=lawyer, campaign=campaign, case=case, scores=scores_for(campaign)
        )
    services.assign_reviewers(actor=cast["supervisor"], sample=sampled, reviewers=[lawyer])
    made = services.submit_review(
        actor=lawyer,
        campaign=campaign,
        case=case,
        scores=scores_for(campaign, {1: 5, 2: 0}),
        comment="证据核查不充分",
    )
    assert made.total == 100 - 3 - 10
    assert made.scores.count() == sheet_for(campaign).items.count()


def test_bad_scores_are_refused_with_a_message_per_item(
    sampled: SampledCase, cast: dict, lawyer: User
) -> None:
    campaign = sampled.campaign
    services.assign_reviewers(actor=cast["supervisor"], sample=sampled, reviewers=[lawyer])
    scores = scores_for(campaign, {1: 9})  # item 1 is worth 8
    dropped = scores.pop(2)  # item 3 not scored
    scores.append({"item": 999999, "points": 1})
    with pytest.raises(ValidationError) as bad:
        services.submit_review(actor=lawyer, campaign=campaign, case=sampled.case, scores=scores)
    messages = bad.value.message_dict["scores"]
    sheet = sheet_for(campaign)
    first = sheet.items.order_by("sort_order").first()
    assert f"第1项（{first.criterion}）：得分须在0至8分之间。" in messages
    assert "999999不是本评分表的评分项。" in messages
    third = sheet.items.get(pk=dropped["item"])
    assert f"第3项（{third.criterion}）未评分。" in messages
    assert len(messages) == 3
    assert not sampled.reviews.exists()


def test_one_review_per_reviewer_editable_with_its_version_until_an_objection(
    sampled: SampledCase, cast: dict, lawyer: User
) -> None:
    campaign, case = sampled.campaign, sampled.case
    services.assign_reviewers(actor=cast["supervisor"], sample=sampled, reviewers=[lawyer])
    first = services.submit_review(
        actor=lawyer, campaign=campaign, case=case, scores=scores_totalling(campaign, 80)
    )
    with pytest.raises(DomainError) as again:
        services.submit_review(
            actor=lawyer, campaign=campaign, case=case, scores=scores_totalling(campaign, 70)
        )
    assert again.value.code == "already_reviewed"
    with pytest.raises(StaleState):
        services.submit_review(
            actor=lawyer,
            campaign=campaign,
            case=case,
            scores=scores_totalling(campaign, 70),
            expected_version=first.version + 5,
        )
    edited = services.submit_review(
        actor=lawyer,
        campaign=campaign,
        case=case,
        scores=scores_totalling(campaign, 70),
        expected_version=first.version,
    )
    assert (edited.pk, edited.total, edited.version) == (first.pk, 70, first.version + 1)
    services.object_to_review(actor=cast["head"], review=edited, reasons="扣分依据不足")
    edited.refresh_from_db()
    with pytest.raises(DomainError):
        services.submit_review(
            actor=lawyer,
            campaign=campaign,
            case=case,
            scores=scores_totalling(campaign, 90),
            expected_version=edited.version,
        )


# --- objection and decision -----------------------------------------------------------------------


@pytest.fixture
def scored(sampled: SampledCase, cast: dict, lawyer: User) -> Any:
    services.assign_reviewers(actor=cast["supervisor"], sample=sampled, reviewers=[lawyer])
    return services.submit_review(
        actor=lawyer,
        campaign=sampled.campaign,
        case=sampled.case,
        scores=scores_totalling(sampled.campaign, 55),
    )


def test_the_reviewed_department_objects_once_with_reasons(scored: Any, cast: dict) -> None:
    with pytest.raises(PermissionDenied):  # not the department under review
        services.object_to_review(actor=cast["court"], review=scored, reasons="不服")
    with pytest.raises(ValidationError):
        services.object_to_review(actor=cast["police"], review=scored, reasons="  ")
    services.object_to_review(actor=cast["police"], review=scored, reasons="回访记录已附卷")
    scored.refresh_from_db()
    assert scored.objection_state == ObjectionState.PENDING
    assert scored.objected_by == cast["police"]
    with pytest.raises(DomainError) as twice:
        services.object_to_review(actor=cast["head"], review=scored, reasons="再次异议")
    assert twice.value.code == "objected"


def test_an_upheld_objection_changes_the_final_total(scored: Any, cast: dict) -> None:
    campaign = scored.sample.campaign
    assert review_results(campaign).cases[0].score == Decimal("55.0")
    services.object_to_review(actor=cast["head"], review=scored, reasons="回访记录已附卷")
    with pytest.raises(PermissionDenied):
        services.decide_objection(
            actor=cast["police"], review=scored, upheld=True, note="x", adjusted_total=70
        )
    with pytest.raises(ValidationError) as bad:
        services.decide_objection(actor=cast["supervisor"], review=scored, upheld=True, note="")
    assert set(bad.value.message_dict) == {"note", "adjusted_total"}
    decided = services.decide_objection(
        actor=cast["supervisor"],
        review=scored,
        upheld=True,
        note="回访记录属实，改为62分",
        adjusted_total=62,
    )
    assert (decided.total, decided.final_total) == (55, 62)
    row = review_results(campaign).cases[0]
    assert (row.score, row.band) == (Decimal("62.0"), PASS)
    with pytest.raises(DomainError):
        services.decide_objection(
            actor=cast["supervisor"], review=decided, upheld=False, note="again"
        )


def test_a_rejected_objection_leaves_the_total(scored: Any, cast: dict) -> None:
    services.object_to_review(actor=cast["head"], review=scored, reasons="不服")
    with pytest.raises(ValidationError):
        services.decide_objection(
            actor=cast["supervisor"], review=scored, upheld=False, note="维持", adjusted_total=60
        )
    decided = services.decide_objection(
        actor=cast["leader"], review=scored, upheld=False, note="扣分有据，维持"
    )
    assert decided.objection_state == ObjectionState.REJECTED
    assert decided.final_total == 55


# --- results ------------------------------------------------------------------------------------


def test_results_rank_departments_and_centers_against_a_hand_count(
    review: Any, handled: Any, cast: dict, org: Any, lawyer: User
) -> None:
    a = handled(POLICE, rating="dissatisfied")
    b = handled(COURT, rating="dissatisfied")
    c = handled(POLICE, center=org.county_a, rating="dissatisfied")
    unscored = handled(COURT, rating="dissatisfied")
    services.sample_cases(actor=cast["supervisor"], campaign=review, rules={"dissatisfied": True})
    staff = cast["justice"]  # city justice officer: not in any department under review
    for case in (a, b, c, unscored):
        sample = SampledCase.objects.get(campaign=review, case=case)
        services.assign_reviewers(
            actor=cast["supervisor"], sample=sample, reviewers=[lawyer, staff]
        )
    given = {a: (92, 88), b: (71, 71), c: (50, 49)}
    for case, (by_lawyer, by_staff) in given.items():
        for who, total in ((lawyer, by_lawyer), (staff, by_staff)):
            services.submit_review(
                actor=who, campaign=review, case=case, scores=scores_totalling(review, total)
            )

    results = review_results(review, cast["supervisor"])

    by_case = {r.sample.case_id: r for r in results.cases}
    # case score: mean of its reviews' totals, one decimal
    assert (by_case[a.pk].score, by_case[a.pk].band, by_case[a.pk].rank) == (
        Decimal("90.0"),
        EXCELLENT,
        1,
    )
    assert (by_case[b.pk].score, by_case[b.pk].band, by_case[b.pk].rank) == (
        Decimal("71.0"),
        PASS,
        2,
    )
    assert (by_case[c.pk].score, by_case[c.pk].band, by_case[c.pk].rank) == (
        Decimal("49.5"),
        FAIL,
        3,
    )
    assert (by_case[unscored.pk].score, by_case[unscored.pk].rank) == (None, None)
    departments = [(u.name, u.score, u.band, u.rank, u.cases) for u in results.by_department]
    city_police = str(org.dept(org.city, POLICE))
    city_court = str(org.dept(org.city, COURT))
    county_police = str(org.dept(org.county_a, POLICE))
    assert departments == [
        (city_police, Decimal("90.0"), EXCELLENT, 1, 1),
        (city_court, Decimal("71.0"), PASS, 2, 2),  # two sampled, one scored
        (county_police, Decimal("49.5"), FAIL, 3, 1),
    ]
    centers = [(u.name, u.score, u.band, u.rank) for u in results.by_center]
    # city: mean of 90.0 and 71.0 = 80.5; county: 49.5
    assert centers == [
        (org.city.name, Decimal("80.5"), PASS, 1),
        (org.county_a.name, Decimal("49.5"), FAIL, 2),
    ]


# --- findings and bulletins -------------------------------------------------------------------------


def test_a_finding_opens_a_responsibility_trace_through_supervision(
    scored: Any, cast: dict, org: Any
) -> None:
    with pytest.raises(PermissionDenied):
        services.open_finding_from_review(actor=cast["police"], review=scored, finding="x")
    finding = services.open_finding_from_review(
        actor=cast["supervisor"], review=scored, finding="未按期回访，答复未告知复查途径"
    )
    assert finding.department == org.dept(org.city, POLICE)
    assert finding.case == scored.sample.case
    assert AccountabilityFinding.objects.filter(case=scored.sample.case).count() == 1
    assert CaseEvent.objects.filter(case=scored.sample.case, kind="accountability_finding").exists()


def test_failing_cases_go_into_the_months_bulletin(
    scored: Any, review: Any, handled: Any, cast: dict, org: Any, lawyer: User
) -> None:
    bulletin = services.issue_review_bulletin(
        actor=cast["supervisor"],
        campaign=review,
        title="关于2026年一季度案件评查情况的通报",
        body="评查不合格案件1件。",
    )
    assert list(bulletin.departments.all()) == [org.dept(org.city, POLICE)]
    assert list(bulletin.cases.all()) == [scored.sample.case]
    assert CaseEvent.objects.filter(case=scored.sample.case, kind="bulletin").exists()


# --- outside reviewers ----------------------------------------------------------------------------


def test_an_outside_reviewer_account_has_only_the_reviewer_role(
    review: Any, cast: dict, org: Any
) -> None:
    with pytest.raises(ValidationError) as bad:
        services.add_outside_reviewer(
            actor=cast["supervisor"],
            campaign=review,
            username="police",
            full_name="",
            kind="mayor",
            password="123",
        )
    assert set(bad.value.message_dict) == {"username", "full_name", "kind", "password"}
    made = services.add_outside_reviewer(
        actor=cast["supervisor"],
        campaign=review,
        username="deputy_wang",
        full_name="王五",
        kind="deputy",
        password=STRONG_PASSWORD,
    )
    made.refresh_from_db()
    assert made.role_codes == frozenset({Role.REVIEWER})
    assert (made.center, made.department, made.full_name) == (org.city, None, "王五（人大代表）")
    assert made.check_password(STRONG_PASSWORD)
    with pytest.raises(PermissionDenied):
        services.add_outside_reviewer(
            actor=cast["police"],
            campaign=review,
            username="x_lawyer",
            full_name="赵六",
            kind="lawyer",
            password=STRONG_PASSWORD,
        )
