"""带案巡视 services and selectors: who plans, scoping, receptions, meetings, instructions as 督办,
the report's figures and "live until every instruction is met"."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404

from clocks.deadlines import CHINA_TZ
from clocks.models import Notification
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import DepartmentKind
from outreach import selectors_tours as sel
from outreach.models import Tour, TourCase, TourMeeting, TourReception, TourState
from outreach.services import tours as svc
from outreach.tests.conftest import NOW
from petitions.models import CaseEvent, Visit
from supervision.models import Consultation, OrderState, SupervisionOrder
from supervision.services import close_order, respond_to_order

pytestmark = pytest.mark.django_db

START, END = date(2026, 2, 9), date(2026, 2, 13)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    """Autouse, so the clock stops at NOW before any case fixture registers a case."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan(org, cast, handling_case):
    def make(**overrides: Any) -> Tour:
        fields: dict[str, Any] = {
            "actor": cast["supervisor"],
            "target_center": org.county_a,
            "starts_on": START,
            "ends_on": END,
            "leader": cast["leader"],
            "members": [cast["supervisor"]],
            "cases": [handling_case],
        }
        fields.update(overrides)
        return svc.plan_tour(**fields)

    return make


def test_city_supervisor_plans_a_tour_of_a_county(org, cast, people, plan, handling_case):
    tour = plan(title="甲县带案巡视")
    assert (tour.center, tour.target_center, tour.state, tour.version) == (
        org.city,
        org.county_a,
        TourState.PLANNED,
        1,
    )
    assert list(tour.members.all()) == [cast["supervisor"]]
    assert list(TourCase.objects.filter(tour=tour).values_list("case_id", flat=True)) == [
        handling_case.pk
    ]
    event = CaseEvent.objects.get(case=handling_case, kind="tour_planned")
    assert event.data == {"tour": tour.pk, "matter": None}
    # the county's supervisors and leaders are told, and the leader and the member
    to_county = Notification.objects.filter(audience_center=org.county_a, title=tour.title)
    assert sorted(to_county.values_list("audience_role", flat=True)) == ["leader", "supervisor"]
    assert set(
        Notification.objects.filter(recipient__isnull=False).values_list("recipient", flat=True)
    ) == {cast["leader"].pk, cast["supervisor"].pk}
    assert {h.history_user for h in tour.history.all()} == {cast["supervisor"]}


def test_a_county_cannot_plan_a_tour_of_the_city_and_an_officer_cannot_plan(
    org, cast, people, plan
):
    with pytest.raises(PermissionDenied):
        plan(actor=people["county_supervisor"], target_center=org.city)
    with pytest.raises(PermissionDenied):
        plan(actor=cast["supervisor"], target_center=org.city)  # its own center
    with pytest.raises(PermissionDenied):
        plan(actor=cast["police"])
    with pytest.raises(PermissionDenied):
        plan(actor=cast["reception"])
    assert Tour.objects.count() == 0


def test_bad_input_gives_field_errors(org, cast, people, plan, make_handling_case):
    other_county = make_handling_case(at="county_b")
    with pytest.raises(ValidationError) as raised:
        plan(
            ends_on=date(2026, 2, 8),
            leader=cast["police"],
            members=[people["county_supervisor"]],
            cases=[other_county],
        )
    assert set(raised.value.message_dict) == {"ends_on", "leader", "members", "cases"}
    assert other_county.number in raised.value.message_dict["cases"][0]
    with pytest.raises(ValidationError) as raised:
        plan(cases=[])
    assert set(raised.value.message_dict) == {"cases"}
    assert Tour.objects.count() == 0


def test_double_submit_plans_one_tour(plan):
    first = plan(submission_key="k-1")
    again = plan(submission_key="k-1")
    assert again.pk == first.pk
    assert Tour.objects.count() == 1


def test_cases_from_a_campaigns_backlog(org, cast, people, plan, make_campaign):
    from campaigns.services import hand_down_matter

    campaign = make_campaign(include_subordinates=True)
    backlog_case = _county_case(org, cast)
    matter = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=backlog_case,
        department=org.dept(org.county_a, DepartmentKind.POLICE),
        leader=people["county_head"],
        handler=cast["county_police"],
        due_on=date(2026, 5, 31),
        target_result="依法化解",
    )
    tour = plan(matters=[matter])
    rows = dict(TourCase.objects.filter(tour=tour).values_list("case_id", "matter_id"))
    assert rows[backlog_case.pk] == matter.pk
    assert len(rows) == 2


def _county_case(org, cast):
    from closure.testing import bring_to_handling

    return bring_to_handling(
        reception=cast["county_reception"],
        triage=cast["county_triage"],
        officer=cast["county_police"],
    )


def test_scoping(org, cast, people, plan):
    tour = plan()
    for who in (cast["supervisor"], cast["leader"], people["county_supervisor"]):
        assert sel.get_tour_for(who, tour.pk) == tour
    assert sel.get_tour_for(cast["province_supervisor"], tour.pk) == tour  # above: read-only
    for who in (people["county_b_supervisor"], cast["outsider"], cast["county_police"]):
        with pytest.raises(Http404):
            sel.get_tour_for(who, tour.pk)
    assert sel.can_manage_tour(cast["supervisor"], tour)
    assert not sel.can_manage_tour(cast["province_supervisor"], tour)
    assert not sel.can_manage_tour(people["county_supervisor"], tour)


def _at(hour: int, day: int = 10) -> datetime:
    return datetime(2026, 2, day, hour, 0, tzinfo=CHINA_TZ)


def test_reception_is_a_visit_received_by_the_leader(org, cast, plan, handling_case):
    tour = plan()
    before = handling_case.version
    reception = svc.record_reception(
        actor=cast["supervisor"],
        tour=tour,
        case=handling_case,
        at=_at(8),
        notes="信访人反映执行款未到位。",
        expected_version=before,
        submission_key="r-1",
    )
    visit = reception.visit
    assert (visit.received_by_leader, visit.received_by, visit.center, visit.is_repeat) == (
        cast["leader"],
        cast["supervisor"],
        org.county_a,
        True,
    )
    handling_case.refresh_from_db()
    assert (handling_case.version, handling_case.visit_count) == (before + 1, 2)
    assert CaseEvent.objects.filter(case=handling_case, kind="tour_reception").count() == 1
    tour.refresh_from_db()
    assert (tour.state, tour.version) == (TourState.ON_SITE, 2)
    # the same form again: nothing twice
    again = svc.record_reception(
        actor=cast["supervisor"],
        tour=tour,
        case=handling_case,
        at=_at(8),
        notes="信访人反映执行款未到位。",
        expected_version=before,
        submission_key="r-1",
    )
    assert again.pk == reception.pk
    assert Visit.objects.filter(case=handling_case, received_by_leader__isnull=False).count() == 1
    # a stale form: 409
    with pytest.raises(StaleState):
        svc.record_reception(
            actor=cast["supervisor"],
            tour=tour,
            case=handling_case,
            at=_at(8),
            notes="又来了",
            expected_version=before,
        )
    assert TourReception.objects.count() == 1


def test_reception_guards(org, cast, people, plan, handling_case, make_handling_case):
    tour = plan()
    other = make_handling_case()
    with pytest.raises(ValidationError) as raised:
        svc.record_reception(actor=cast["supervisor"], tour=tour, case=other, at=_at(8), notes="x")
    assert set(raised.value.message_dict) == {"case"}
    with pytest.raises(ValidationError) as raised:
        svc.record_reception(
            actor=cast["supervisor"], tour=tour, case=handling_case, at=_at(8, day=8), notes="x"
        )
    assert set(raised.value.message_dict) == {"at"}
    with pytest.raises(ValidationError) as raised:
        svc.record_reception(
            actor=cast["supervisor"], tour=tour, case=handling_case, at=_at(8), notes=" "
        )
    assert set(raised.value.message_dict) == {"notes"}
    with pytest.raises(PermissionDenied):
        svc.record_reception(
            actor=people["county_supervisor"], tour=tour, case=handling_case, at=_at(8), notes="x"
        )


def test_meeting_goes_through_supervision(org, cast, plan, handling_case):
    tour = plan()
    police = org.dept(org.county_a, DepartmentKind.POLICE)
    court = org.dept(org.county_a, DepartmentKind.COURT)
    meeting = svc.record_meeting(
        actor=cast["leader"],
        tour=tour,
        case=handling_case,
        held_at=_at(8),
        departments=[police, court],
        participants="市中心、县公安局、县法院",
        decisions="县法院十日内查明财产线索。",
    )
    consultation = meeting.consultation
    assert consultation.case_id == handling_case.pk
    assert set(consultation.departments.all()) == {police, court}
    assert CaseEvent.objects.filter(case=handling_case, kind="consultation").count() == 1
    again = svc.record_meeting(
        actor=cast["leader"],
        tour=tour,
        case=handling_case,
        held_at=_at(8),
        departments=[police, court],
        participants="市中心、县公安局、县法院",
        decisions="县法院十日内查明财产线索。",
    )
    assert again.pk == meeting.pk
    assert (Consultation.objects.count(), TourMeeting.objects.count()) == (1, 1)
    with pytest.raises(ValidationError) as raised:  # supervision's own check
        svc.record_meeting(
            actor=cast["leader"],
            tour=tour,
            case=handling_case,
            held_at=_at(9),
            departments=[org.dept(org.city, DepartmentKind.POLICE)],
            participants="",
            decisions="另议",
        )
    assert set(raised.value.message_dict) == {"departments"}


def test_instruction_is_a_supervision_order_on_the_lead_department(org, cast, plan, handling_case):
    tour = plan()
    tc = TourCase.objects.get(tour=tour)
    tc = svc.record_finding(
        actor=cast["supervisor"],
        tour_case=tc,
        findings="执行款部分到位。",
        decision="由县公安局牵头核查。",
        instruction="三十日内报送核查结果。",
        instruction_due=date(2026, 3, 12),
        expected_version=1,
    )
    order = SupervisionOrder.objects.get(case=handling_case)
    assert tc.order == order
    assert order.department == org.dept(org.county_a, DepartmentKind.POLICE)
    assert order.due_at.astimezone(CHINA_TZ).date() == date(2026, 3, 12)
    assert order.state == OrderState.OPEN
    assert tc.version == 2
    assert CaseEvent.objects.filter(case=handling_case, kind="tour_instruction").count() == 1
    # the same form again: nothing twice; a stale different form: 409
    same = svc.record_finding(
        actor=cast["supervisor"],
        tour_case=tc,
        findings="执行款部分到位。",
        decision="由县公安局牵头核查。",
        instruction="三十日内报送核查结果。",
        instruction_due=date(2026, 3, 12),
        expected_version=1,
    )
    assert same.version == 2
    assert SupervisionOrder.objects.count() == 1
    with pytest.raises(StaleState):
        svc.record_finding(
            actor=cast["supervisor"],
            tour_case=tc,
            findings="改了",
            decision="",
            instruction="",
            instruction_due=None,
            expected_version=1,
        )
    # a new instruction while the order is open: 409
    with pytest.raises(DomainError):
        svc.record_finding(
            actor=cast["supervisor"],
            tour_case=tc,
            findings="执行款部分到位。",
            decision="",
            instruction="十日内报送。",
            instruction_due=date(2026, 2, 24),
            expected_version=2,
        )
    with pytest.raises(ValidationError) as raised:
        svc.record_finding(
            actor=cast["supervisor"],
            tour_case=tc,
            findings="x",
            decision="",
            instruction="限期报送",
            instruction_due=None,
            expected_version=2,
        )
    assert set(raised.value.message_dict) == {"instruction_due"}


def test_live_until_every_instruction_is_met_and_report_figures(
    org, cast, people, plan, handling_case, make_handling_case, _clock
):
    second = make_handling_case()
    third = make_handling_case()
    tour = plan(cases=[handling_case, second, third])
    for case, hour in ((handling_case, 8), (handling_case, 9), (second, 8)):
        case.refresh_from_db()
        svc.record_reception(
            actor=cast["supervisor"], tour=tour, case=case, at=_at(hour), notes="接访"
        )
    rows = {tc.case_id: tc for tc in TourCase.objects.filter(tour=tour)}
    for case, due in ((handling_case, date(2026, 3, 1)), (second, date(2026, 3, 2))):
        svc.record_finding(
            actor=cast["supervisor"],
            tour_case=rows[case.pk],
            findings="查明",
            decision="决定",
            instruction="限期报结",
            instruction_due=due,
            expected_version=1,
        )
    svc.record_finding(
        actor=cast["supervisor"],
        tour_case=rows[third.pk],
        findings="已依法办理",
        decision="不再督办",
        instruction="",
        instruction_due=None,
        expected_version=1,
    )
    tour.refresh_from_db()
    report = sel.tour_report(tour)
    assert (report.carried, report.receptions, report.meetings) == (3, 3, 0)
    assert (report.instructions, report.instructions_met, report.live) == (2, 0, True)
    assert [(r.case.pk, r.receptions, r.order_state) for r in report.rows] == [
        (handling_case.pk, 2, "open"),
        (second.pk, 1, "open"),
        (third.pk, 0, ""),
    ]
    svc.file_report(
        actor=cast["supervisor"], tour=tour, summary="发现问题三件。", expected_version=tour.version
    )
    tour.refresh_from_db()
    assert tour.state == TourState.REPORTED
    assert sel.is_live(tour)
    assert list(Tour.objects.filter(sel.live_q())) == [tour]
    order_1 = SupervisionOrder.objects.get(case=handling_case)
    respond_to_order(actor=cast["county_police"], order=order_1, response="已核查完毕。")
    assert sel.is_live(tour)
    assert sel.tour_report(tour).instructions_met == 1
    close_order(
        actor=cast["supervisor"], order=SupervisionOrder.objects.get(case=second), note="撤回"
    )
    assert not sel.is_live(tour)
    assert list(Tour.objects.filter(sel.live_q())) == []
    report = sel.tour_report(tour)
    assert (report.instructions, report.instructions_met, report.live) == (2, 2, False)
    # counts for the reports: the county visited, February
    feb = (datetime(2026, 2, 1, tzinfo=CHINA_TZ), datetime(2026, 3, 1, tzinfo=CHINA_TZ))
    assert sel.counts([org.county_a.pk], *feb) == {
        "tours": 1,
        "receptions": 3,
        "instructions": 2,
        "instructions_met": 2,
    }
    assert sel.counts([org.city.pk], *feb, side="touring")["tours"] == 1
    assert sel.counts([org.county_b.pk], *feb)["tours"] == 0
    march = (datetime(2026, 3, 1, tzinfo=CHINA_TZ), datetime(2026, 4, 1, tzinfo=CHINA_TZ))
    assert sel.counts([org.county_a.pk], *march) == {
        "tours": 0,
        "receptions": 0,
        "instructions": 0,
        "instructions_met": 0,
    }
    # a reported tour does not change
    with pytest.raises(DomainError):
        svc.record_reception(
            actor=cast["supervisor"], tour=tour, case=third, at=_at(8), notes="接访"
        )


def test_add_and_remove_cases_before_the_tour_ends(
    org, cast, plan, handling_case, make_handling_case, _clock
):
    tour = plan()
    extra = make_handling_case()
    added = svc.add_tour_cases(
        actor=cast["supervisor"], tour=tour, cases=[extra], expected_version=1
    )
    assert [r.case_id for r in added] == [extra.pk]
    assert (
        svc.add_tour_cases(actor=cast["supervisor"], tour=tour, cases=[extra], expected_version=1)
        == []
    )
    tour.refresh_from_db()
    assert tour.version == 2
    with pytest.raises(StaleState):
        svc.remove_tour_case(
            actor=cast["supervisor"], tour_case=TourCase.objects.get(case=extra), expected_version=1
        )
    svc.remove_tour_case(
        actor=cast["supervisor"], tour_case=TourCase.objects.get(case=extra), expected_version=2
    )
    assert list(TourCase.objects.values_list("case_id", flat=True)) == [handling_case.pk]
    svc.record_reception(
        actor=cast["leader"], tour=tour, case=handling_case, at=_at(8), notes="接访"
    )
    tour.refresh_from_db()
    with pytest.raises(DomainError):
        svc.remove_tour_case(
            actor=cast["supervisor"],
            tour_case=TourCase.objects.get(case=handling_case),
            expected_version=tour.version,
        )
    _clock.move_to(datetime(2026, 2, 14, 9, 0, tzinfo=CHINA_TZ))
    another = make_handling_case()
    with pytest.raises(DomainError):
        svc.add_tour_cases(
            actor=cast["supervisor"], tour=tour, cases=[another], expected_version=tour.version
        )
