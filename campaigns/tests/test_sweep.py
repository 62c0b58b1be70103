"""The sweep (排查): each criterion on a case that meets it and one that just does not, their
combinations, the campaign's scope, validation, re-runs that keep decisions, keep and drop, who
may sweep, and one query whatever the number of cases."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from appeals.models import Finality, FinalityReason
from campaigns.models import CampaignKind, CandidateDecision, Matter, SweepCandidate
from campaigns.services import decide_candidate, run_sweep
from campaigns.sweep import SweepCriteria, find_candidates, parse_criteria
from closure.models import Evaluation, EvaluationChannel, Rating
from core.errors import DomainError, PermissionDenied
from core.models import DepartmentKind
from petitions.models import Case, CaseEvent, Channel, Visit
from petitions.states import CaseState

from .conftest import NOW

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def visit(case: Case, at: datetime, cast: dict[str, Any], *, first: bool = False) -> Visit:
    return Visit.objects.create(
        case=case,
        petitioner=case.main_petitioner,
        center=case.center,
        channel=Channel.objects.get(code="t-cmp-visit"),
        at=at,
        received_by=cast["reception"],
        # every visit after a case's first is a repeat visit (petitions.services.add_visit)
        is_repeat=not first,
    )


def closed(case: Case, at: datetime) -> Case:
    Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED, closed_at=at)
    case.refresh_from_db()
    return case


def evaluate(case: Case, at: datetime, center: str, department: str, **extra: Any) -> Evaluation:
    return Evaluation.objects.create(
        case=case,
        center_rating=center,
        department_rating=department,
        channel=extra.pop("channel", EvaluationChannel.DESK),
        evaluated_at=at,
        **extra,
    )


def found_ids(org: Any, criteria: dict[str, Any], *, centers: list[int] | None = None) -> set[int]:
    result = find_candidates(
        center_ids=centers or [org.city.pk], criteria=parse_criteria(criteria), now=NOW
    )
    return {row[0] for row in result.rows}


# --- each criterion ------------------------------------------------------------------------------


def test_open_days_over_counts_open_cases_registered_before_the_limit(org, make_case):
    old = make_case(state=CaseState.HANDLING, registered_at=NOW - 91 * DAY)
    young = make_case(state=CaseState.HANDLING, registered_at=NOW - 89 * DAY)
    old_but_closed = closed(make_case(registered_at=NOW - 200 * DAY), NOW - 100 * DAY)
    assert found_ids(org, {"open_days_over": 90}) == {old.pk}
    assert young.pk not in found_ids(org, {"open_days_over": 90})
    assert old_but_closed.pk not in found_ids(org, {"open_days_over": 0})


def test_visits_at_least_counts_visits_of_the_last_twelve_months(org, make_case, cast):
    three = make_case()
    for days in (1, 100, 364):
        visit(three, NOW - days * DAY, cast)
    two_recent = make_case()
    for days in (1, 100, 366):  # the third is outside the 12 months
        visit(two_recent, NOW - days * DAY, cast)
    assert found_ids(org, {"visits_at_least": 3}) == {three.pk}
    assert found_ids(org, {"visits_at_least": 2}) == {three.pk, two_recent.pk}


def test_group_and_skip_level_are_the_case_flags(org, make_case):
    group = make_case()
    skip = make_case()
    plain = make_case()
    Case.objects.filter(pk=group.pk).update(is_group=True)
    Case.objects.filter(pk=skip.pk).update(is_skip_level=True)
    assert found_ids(org, {"group": True}) == {group.pk}
    assert found_ids(org, {"skip_level": True}) == {skip.pk}
    assert plain.pk not in found_ids(org, {"group": True, "skip_level": True, "match": "any"})


def test_repeat_after_closure_is_a_visit_or_a_new_case_after_closed_at(org, make_case, cast):
    closed_at = NOW - 30 * DAY
    visited_after = closed(make_case(), closed_at)
    visit(visited_after, closed_at + DAY, cast)
    visited_before = closed(make_case(), closed_at)
    visit(visited_before, closed_at - DAY, cast)
    came_back = closed(make_case(), closed_at)
    newer = make_case(petitioner=came_back.main_petitioner, registered_at=closed_at + DAY)
    earlier_only = closed(make_case(), closed_at)
    make_case(petitioner=earlier_only.main_petitioner, registered_at=closed_at - 10 * DAY)
    open_case = make_case()
    visit(open_case, NOW - DAY, cast)
    assert found_ids(org, {"repeat_after_closure": True}) == {visited_after.pk, came_back.pk}
    assert newer.pk not in found_ids(org, {"repeat_after_closure": True})


def test_final_returning_is_a_final_matter_with_a_visit_or_new_case_after_finality(
    org, make_case, cast
):
    final_at = NOW - 60 * DAY

    def final(case: Case) -> Case:
        Finality.objects.create(
            case=case, reason=FinalityReason.REVIEW_WINDOW_LAPSED, final_at=final_at
        )
        return closed(case, final_at - 40 * DAY)

    visited_after = final(make_case())
    visit(visited_after, final_at + DAY, cast)
    visited_before = final(make_case())
    visit(visited_before, final_at - DAY, cast)
    came_back = final(make_case())
    make_case(petitioner=came_back.main_petitioner, registered_at=final_at + 2 * DAY)
    quiet = final(make_case())
    not_final = closed(make_case(), final_at)
    visit(not_final, final_at + DAY, cast)
    assert found_ids(org, {"final_returning": True}) == {visited_after.pk, came_back.pk}
    assert quiet.pk not in found_ids(org, {"final_returning": True})


def test_overdue_is_an_open_case_past_its_next_duty(org, make_case):
    overdue = make_case(state=CaseState.HANDLING)
    due_later = make_case(state=CaseState.HANDLING)
    closed_late = closed(make_case(), NOW - DAY)
    Case.objects.filter(pk__in=[overdue.pk, closed_late.pk]).update(
        next_due_at=NOW - timedelta(hours=1)
    )
    Case.objects.filter(pk=due_later.pk).update(next_due_at=NOW + timedelta(hours=1))
    assert found_ids(org, {"overdue": True}) == {overdue.pk}


def test_dissatisfied_reads_the_latest_evaluation(org, make_case):
    d, s, b = Rating.DISSATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED
    center_unhappy = make_case()
    evaluate(center_unhappy, NOW - 10 * DAY, d, s)
    department_unhappy = make_case()
    evaluate(department_unhappy, NOW - 10 * DAY, b, d)
    changed_mind = make_case()
    evaluate(changed_mind, NOW - 10 * DAY, d, d)
    evaluate(changed_mind, NOW - 2 * DAY, s, s, channel=EvaluationChannel.RETURN_VISIT)
    happy = make_case()
    evaluate(happy, NOW - 10 * DAY, s, b)
    assert found_ids(org, {"dissatisfied": True}) == {center_unhappy.pk, department_unhappy.pk}
    assert {changed_mind.pk, happy.pk}.isdisjoint(found_ids(org, {"dissatisfied": True}))


# --- combinations ------------------------------------------------------------------------------


def test_criteria_combine_with_and_by_default(org, make_case):
    both = make_case(state=CaseState.HANDLING, registered_at=NOW - 100 * DAY)
    only_old = make_case(state=CaseState.HANDLING, registered_at=NOW - 100 * DAY)
    only_group = make_case(state=CaseState.HANDLING, registered_at=NOW - 10 * DAY)
    Case.objects.filter(pk__in=[both.pk, only_group.pk]).update(is_group=True)
    result = find_candidates(
        center_ids=[org.city.pk],
        criteria=parse_criteria({"open_days_over": 90, "group": True}),
        now=NOW,
    )
    assert result.total == 1
    assert result.rows == [(both.pk, both.number, ["open_days_over", "group"])]
    assert {only_old.pk, only_group.pk}.isdisjoint({r[0] for r in result.rows})


def test_any_mode_lists_the_criteria_each_case_met(org, make_case):
    both = make_case(state=CaseState.HANDLING, registered_at=NOW - 100 * DAY)
    only_old = make_case(state=CaseState.HANDLING, registered_at=NOW - 99 * DAY)
    only_group = make_case(state=CaseState.HANDLING, registered_at=NOW - 10 * DAY)
    neither = make_case(state=CaseState.HANDLING, registered_at=NOW - 5 * DAY)
    Case.objects.filter(pk__in=[both.pk, only_group.pk]).update(is_group=True)
    result = find_candidates(
        center_ids=[org.city.pk],
        criteria=parse_criteria({"open_days_over": 90, "group": True, "match": "any"}),
        now=NOW,
    )
    assert result.total == 3
    assert result.rows == [
        (both.pk, both.number, ["open_days_over", "group"]),
        (only_old.pk, only_old.number, ["open_days_over"]),
        (only_group.pk, only_group.number, ["group"]),
    ]
    assert neither.pk not in {r[0] for r in result.rows}


def test_past_the_cap_the_oldest_are_returned_and_the_count_is_truncated(org, make_case):
    cases = [make_case(registered_at=NOW - (200 - i) * DAY) for i in range(5)]
    result = find_candidates(
        center_ids=[org.city.pk], criteria=parse_criteria({"open_days_over": 1}), now=NOW, cap=3
    )
    assert (result.total, result.truncated) == (3, True)
    assert [r[0] for r in result.rows] == [c.pk for c in cases[:3]]


def test_up_to_the_cap_the_count_is_exact(org, make_case):
    cases = [make_case(registered_at=NOW - (200 - i) * DAY) for i in range(4)]
    exactly = find_candidates(
        center_ids=[org.city.pk], criteria=parse_criteria({"open_days_over": 1}), now=NOW, cap=4
    )
    assert (exactly.total, exactly.truncated) == (4, False)
    assert [r[0] for r in exactly.rows] == [c.pk for c in cases]
    one_more = find_candidates(
        center_ids=[org.city.pk], criteria=parse_criteria({"open_days_over": 1}), now=NOW, cap=3
    )
    assert (one_more.total, one_more.truncated) == (3, True)


def test_the_or_mode_is_truncated_past_the_cap_with_its_flags(org, make_case):
    oldest = make_case(state=CaseState.HANDLING, registered_at=NOW - 300 * DAY)
    group = make_case(state=CaseState.HANDLING, registered_at=NOW - 10 * DAY)
    young_group = make_case(state=CaseState.HANDLING, registered_at=NOW - 5 * DAY)
    Case.objects.filter(pk__in=[group.pk, young_group.pk]).update(is_group=True)
    result = find_candidates(
        center_ids=[org.city.pk],
        criteria=parse_criteria({"open_days_over": 90, "group": True, "match": "any"}),
        now=NOW,
        cap=2,
    )
    assert (result.total, result.truncated) == (2, True)
    assert result.rows == [
        (oldest.pk, oldest.number, ["open_days_over"]),
        (group.pk, group.number, ["group"]),
    ]


def test_the_open_cases_index_predicate_is_the_sweeps_list_of_open_states():
    """campaigns 0004's partial index serves open_days_over only while its predicate is the
    list the sweep writes (PostgreSQL matches the IN list)."""
    migration = importlib.import_module("campaigns.migrations.0004_sweep_fast")
    assert sorted(CaseState.open_states()) == migration.OPEN_STATES


def test_visits_at_least_counts_the_first_visit_beside_the_repeat_visits(org, make_case, cast):
    """A case's k visits are at most one first visit and k-1 repeat visits (the sweep's
    pre-filter): the first visit in the window counts."""
    three = make_case(registered_at=NOW - 30 * DAY)
    visit(three, NOW - 30 * DAY, cast, first=True)
    visit(three, NOW - 5 * DAY, cast)
    visit(three, NOW - 2 * DAY, cast)
    two = make_case(registered_at=NOW - 30 * DAY)
    visit(two, NOW - 30 * DAY, cast, first=True)
    visit(two, NOW - 5 * DAY, cast)
    first_too_old = make_case(registered_at=NOW - 400 * DAY)
    visit(first_too_old, NOW - 400 * DAY, cast, first=True)
    visit(first_too_old, NOW - 5 * DAY, cast)
    visit(first_too_old, NOW - 2 * DAY, cast)
    assert found_ids(org, {"visits_at_least": 3}) == {three.pk}
    assert found_ids(org, {"visits_at_least": 2}) == {three.pk, two.pk, first_too_old.pk}
    assert found_ids(org, {"visits_at_least": 1}) == {three.pk, two.pk, first_too_old.pk}


# --- scope ---------------------------------------------------------------------------------------


def test_scope_is_the_campaigns_center_and_subordinates_only_when_asked(
    org, make_case, make_campaign, cast, at_now
):
    city = make_case(center=org.city)
    county = make_case(center=org.county_a)
    elsewhere = make_case(center=org.other_province)
    own = make_campaign(kind=CampaignKind.SWEEP)
    wide = make_campaign(kind=CampaignKind.SWEEP, include_subordinates=True)
    criteria = {"open_days_over": 30}
    assert {
        c.case_id for c in run_sweep(actor=cast["supervisor"], campaign=own, criteria=criteria)
    } == {city.pk}
    assert {
        c.case_id for c in run_sweep(actor=cast["supervisor"], campaign=wide, criteria=criteria)
    } == {city.pk, county.pk}
    assert elsewhere.pk not in set(SweepCandidate.objects.values_list("case_id", flat=True))


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"open_days": 90}, "open_days"),
        ({"open_days_over": True}, "open_days_over"),
        ({"open_days_over": "90"}, "open_days_over"),
        ({"open_days_over": -1}, "open_days_over"),
        ({"visits_at_least": 0}, "visits_at_least"),
        ({"group": "yes"}, "group"),
        ({"group": True, "match": "some"}, "match"),
        ({}, "criteria"),
        ({"group": False}, "criteria"),
        ([1, 2], "criteria"),
    ],
)
def test_bad_criteria_are_refused_by_field(criteria, field):
    with pytest.raises(ValidationError) as raised:
        parse_criteria(criteria)
    assert list(raised.value.message_dict) == [field]


def test_bad_criteria_are_explained_in_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        parse_criteria({"open_days_over": -1, "colour": True})
    assert raised.value.message_dict == {
        "open_days_over": ["请输入 0 到 36500 之间的整数。"],
        "colour": ["未知的排查条件。"],
    }


def test_saved_criteria_are_the_canonical_form():
    assert parse_criteria({"group": True, "overdue": False, "open_days_over": 0}).as_dict() == {
        "open_days_over": 0,
        "group": True,
        "match": "all",
    }


# --- run, re-run, decide ---------------------------------------------------------------------------


@pytest.fixture
def sweep_campaign(make_campaign):
    return make_campaign(kind=CampaignKind.SWEEP, name="信访积案大排查")


def test_run_saves_criteria_and_candidates_with_history(
    org, make_case, sweep_campaign, cast, at_now
):
    a = make_case(registered_at=NOW - 100 * DAY)
    b = make_case(registered_at=NOW - 95 * DAY)
    version = sweep_campaign.version
    run = run_sweep(
        actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 90}
    )
    assert run.total == 2
    assert [c.case_id for c in run] == [a.pk, b.pk]
    sweep_campaign.refresh_from_db()
    assert sweep_campaign.sweep_criteria == {"open_days_over": 90, "match": "all"}
    assert sweep_campaign.version == version + 1
    assert sweep_campaign.history.first().history_user == cast["supervisor"]
    rows = SweepCandidate.objects.filter(campaign=sweep_campaign).order_by("case_id")
    assert [(r.case_id, r.criteria_met, r.decision) for r in rows] == [
        (a.pk, ["open_days_over"], CandidateDecision.PENDING),
        (b.pk, ["open_days_over"], CandidateDecision.PENDING),
    ]
    history = SweepCandidate.history.filter(campaign_id=sweep_campaign.pk)
    assert [(h.history_type, h.history_user) for h in history] == [
        ("+", cast["supervisor"]),
        ("+", cast["supervisor"]),
    ]


def test_rerun_keeps_decisions_and_drops_only_undecided_rows_not_found_again(
    org, make_case, sweep_campaign, cast, at_now
):
    dropped = make_case(registered_at=NOW - 100 * DAY)
    pending_old = make_case(registered_at=NOW - 100 * DAY)
    young = make_case(registered_at=NOW - 40 * DAY)
    Case.objects.filter(pk=dropped.pk).update(is_group=True)
    supervisor = cast["supervisor"]
    run_sweep(actor=supervisor, campaign=sweep_campaign, criteria={"open_days_over": 30})
    candidate = SweepCandidate.objects.get(campaign=sweep_campaign, case=dropped)
    decide_candidate(actor=supervisor, candidate=candidate, keep=False, reason="已息诉，无需列入")
    # Narrower: only the group case meets it now, the dropped one; two undecided ones are gone.
    run = run_sweep(actor=supervisor, campaign=sweep_campaign, criteria={"group": True})
    assert [c.case_id for c in run] == [dropped.pk]
    rows = {c.case_id: c for c in SweepCandidate.objects.filter(campaign=sweep_campaign)}
    assert set(rows) == {dropped.pk}
    assert rows[dropped.pk].decision == CandidateDecision.DROPPED
    assert rows[dropped.pk].reason == "已息诉，无需列入"
    assert rows[dropped.pk].criteria_met == ["group"]
    # The same criteria again: no duplicates.
    run_sweep(actor=supervisor, campaign=sweep_campaign, criteria={"group": True})
    assert SweepCandidate.objects.filter(campaign=sweep_campaign).count() == 1
    gone = SweepCandidate.history.filter(history_type="-").values_list("case_id", flat=True)
    assert sorted(gone) == sorted([pending_old.pk, young.pk])


def test_drop_needs_a_reason_and_is_recorded(org, make_case, sweep_campaign, cast, at_now):
    case = make_case(registered_at=NOW - 100 * DAY)
    run_sweep(actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 90})
    candidate = SweepCandidate.objects.get(case=case)
    with pytest.raises(ValidationError) as raised:
        decide_candidate(actor=cast["supervisor"], candidate=candidate, keep=False, reason="  ")
    assert list(raised.value.message_dict) == ["reason"]
    decide_candidate(actor=cast["supervisor"], candidate=candidate, keep=False, reason="重复登记")
    candidate.refresh_from_db()
    assert (candidate.decision, candidate.reason, candidate.decided_by) == (
        CandidateDecision.DROPPED,
        "重复登记",
        cast["supervisor"],
    )
    assert candidate.history.first().history_user == cast["supervisor"]
    event = CaseEvent.objects.get(case=case, kind="campaign_candidate_dropped")
    assert "重复登记" in event.message
    with pytest.raises(DomainError):  # a double submit does nothing more
        decide_candidate(actor=cast["supervisor"], candidate=candidate, keep=False, reason="重复")


def test_keep_hands_the_matter_down_in_the_same_transaction(
    org, make_case, sweep_campaign, cast, at_now
):
    case = make_case(registered_at=NOW - 100 * DAY)
    run_sweep(actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 90})
    candidate = SweepCandidate.objects.get(case=case)
    with pytest.raises(ValidationError) as raised:
        decide_candidate(actor=cast["supervisor"], candidate=candidate, keep=True, reason="积案")
    assert list(raised.value.message_dict) == ["hand_down"]
    decide_candidate(
        actor=cast["supervisor"],
        candidate=candidate,
        keep=True,
        reason="三年未息诉，列为积案",
        hand_down={
            "department": org.dept(org.city, DepartmentKind.POLICE),
            "leader": cast["head"],
            "handler": cast["police"],
            "due_on": date(2026, 5, 31),
            "target_result": "依法化解，息诉罢访",
            "summary": "要求赔偿",
        },
    )
    candidate.refresh_from_db()
    assert candidate.decision == CandidateDecision.KEPT
    matter = Matter.objects.get(campaign=sweep_campaign, case=case)
    assert (matter.leader, matter.handler, matter.due_on) == (
        cast["head"],
        cast["police"],
        date(2026, 5, 31),
    )
    assert matter.history.count() >= 1
    assert CaseEvent.objects.filter(case=case, kind="campaign_candidate_kept").count() == 1
    with pytest.raises(DomainError):
        decide_candidate(actor=cast["supervisor"], candidate=candidate, keep=False, reason="改变")


def test_a_failed_hand_down_leaves_the_candidate_undecided(
    org, make_case, sweep_campaign, cast, at_now
):
    case = make_case(registered_at=NOW - 100 * DAY)
    run_sweep(actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 90})
    candidate = SweepCandidate.objects.get(case=case)
    with pytest.raises((ValidationError, DomainError, PermissionDenied)):
        decide_candidate(
            actor=cast["supervisor"],
            candidate=candidate,
            keep=True,
            reason="列为积案",
            hand_down={
                "department": org.dept(org.city, DepartmentKind.POLICE),
                "leader": cast["head"],
                "due_on": date(2025, 1, 1),
                "target_result": "",
            },
        )
    candidate.refresh_from_db()
    assert candidate.decision == CandidateDecision.PENDING
    assert not Matter.objects.filter(case=case).exists()


@pytest.mark.parametrize("who", ["police", "head", "reception", "province_supervisor", "outsider"])
def test_only_the_campaigns_managers_may_sweep_or_decide(
    org, make_case, sweep_campaign, cast, at_now, who
):
    case = make_case(registered_at=NOW - 100 * DAY)
    with pytest.raises(PermissionDenied):
        run_sweep(actor=cast[who], campaign=sweep_campaign, criteria={"open_days_over": 90})
    run_sweep(actor=cast["leader"], campaign=sweep_campaign, criteria={"open_days_over": 90})
    candidate = SweepCandidate.objects.get(case=case)
    with pytest.raises(PermissionDenied):
        decide_candidate(actor=cast[who], candidate=candidate, keep=False, reason="不属积案")
    candidate.refresh_from_db()
    assert candidate.decision == CandidateDecision.PENDING


def test_a_quality_review_does_not_sweep(make_campaign, cast, at_now):
    review = make_campaign(kind=CampaignKind.QUALITY_REVIEW)
    with pytest.raises(DomainError):
        run_sweep(actor=cast["supervisor"], campaign=review, criteria={"group": True})


# --- one query -------------------------------------------------------------------------------------


def _all_criteria() -> SweepCriteria:
    return parse_criteria(
        {
            "open_days_over": 1,
            "visits_at_least": 1,
            "group": True,
            "skip_level": True,
            "repeat_after_closure": True,
            "final_returning": True,
            "overdue": True,
            "dissatisfied": True,
            "match": "any",
        }
    )


def _some_cases(make_case: Callable[..., Case], cast: dict[str, Any], n: int) -> None:
    for i in range(n):
        case = make_case(registered_at=NOW - (100 + i) * DAY)
        visit(case, NOW - DAY, cast)
        evaluate(case, NOW - DAY, Rating.DISSATISFIED, Rating.SATISFIED)


def test_the_sweep_is_one_query_whatever_the_number_of_cases(org, make_case, cast):
    _some_cases(make_case, cast, 2)
    with CaptureQueriesContext(connection) as few:
        small = find_candidates(center_ids=[org.city.pk], criteria=_all_criteria(), now=NOW)
    _some_cases(make_case, cast, 6)
    with CaptureQueriesContext(connection) as many:
        large = find_candidates(center_ids=[org.city.pk], criteria=_all_criteria(), now=NOW)
    assert (small.total, large.total) == (2, 8)
    assert len(few.captured_queries) == len(many.captured_queries) == 1
    assert large.rows[0][2] == ["open_days_over", "visits_at_least", "dissatisfied"]


def test_run_sweep_query_count_is_constant(org, make_case, sweep_campaign, cast, at_now):
    _some_cases(make_case, cast, 2)
    with CaptureQueriesContext(connection) as few:
        run_sweep(actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 1})
    _some_cases(make_case, cast, 6)
    with CaptureQueriesContext(connection) as many:
        run_sweep(actor=cast["supervisor"], campaign=sweep_campaign, criteria={"open_days_over": 1})
    assert SweepCandidate.objects.filter(campaign=sweep_campaign).count() == 8
    assert len(few.captured_queries) == len(many.captured_queries)
