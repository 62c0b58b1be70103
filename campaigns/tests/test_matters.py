"""Backlog matters: hand-down with 包案, sign-for, progress and ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns.models import CampaignKind, Matter, MatterOutcome, MatterProgress
from campaigns.selectors import campaigns_visible_to, matters_visible_to
from campaigns.services import (
    hand_down_matter,
    record_progress,
    sign_for_matter,
    update_ledger,
)
from campaigns.tests.conftest import NOW
from clocks.deadlines import CHINA_TZ
from clocks.models import Notification
from conftest import make_user
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import CaseEvent
from petitions.states import CaseState
from routing.models import Assignment, AssignmentRole, AssignmentState
from supervision.models import LeaderResponsibility

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_now")]


def _assign(case, department, by):
    return Assignment.objects.create(
        case=case,
        department=department,
        role=AssignmentRole.LEAD,
        state=AssignmentState.ACCEPTED,
        due_at=NOW + timedelta(days=30),
        assigned_by=by,
        assigned_at=NOW,
    )


def test_hand_down_writes_matter_event_history_and_notifications(org, cast, campaign, make_case):
    case = make_case(state=CaseState.CLOSED)
    police = org.dept(org.city, DepartmentKind.POLICE)
    matter = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=case,
        department=police,
        handler=cast["police"],
        due_on=date(2026, 4, 30),
        target_result="化解矛盾，息诉罢访",
        summary="多年信访",
        since=date(2019, 3, 1),
    )
    # the leader defaulted to the receiving department's head
    assert matter.leader == cast["head"]
    assert matter.outcome == MatterOutcome.IN_HAND
    assert matter.next_progress_on == date(2026, 2, 17)  # campaign interval: 7 days
    # a closed old case: no leader responsibility row, the matter names the leader
    assert matter.responsibility is None
    assert matter.history.first().history_user == cast["supervisor"]
    event = CaseEvent.objects.get(case=case, kind="campaign_matter")
    assert event.actor == cast["supervisor"]
    assert event.data["matter"] == matter.pk
    assert campaign.name in event.message
    rows = Notification.objects.filter(case=case)
    assert {(r.audience_department_id, r.audience_role) for r in rows if r.audience_role} == {
        (police.pk, Role.OFFICER),
        (police.pk, Role.HEAD),
    }
    assert {r.recipient_id for r in rows if r.recipient_id} == {cast["head"].pk, cast["police"].pk}


def test_hand_down_opens_supervision_responsibility_for_an_open_case(
    org, cast, campaign, make_case
):
    case = make_case(state=CaseState.HANDLING)
    police = org.dept(org.city, DepartmentKind.POLICE)
    _assign(case, police, cast["triage"])
    matter = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=case,
        department=police,
        due_on=date(2026, 4, 30),
        target_result="依法化解",
    )
    responsibility = LeaderResponsibility.objects.get(case=case)
    assert matter.responsibility == responsibility
    assert responsibility.leader == cast["head"]  # a department head may now hold 包案
    assert responsibility.due_at == datetime(2026, 4, 30, 23, 59, 59, tzinfo=CHINA_TZ)
    # resolving the matter resolves the responsibility
    record_progress(
        actor=cast["head"],
        matter=matter,
        text="当面沟通，达成和解",
        outcome=MatterOutcome.RESOLVED,
        resolution="和解协议，履行完毕",
    )
    responsibility.refresh_from_db()
    assert responsibility.is_resolved
    assert responsibility.result == "和解协议，履行完毕"


def test_hand_down_links_an_open_responsibility(org, cast, campaign, make_case):
    case = make_case(state=CaseState.HANDLING)
    existing = LeaderResponsibility.objects.create(
        case=case,
        leader=cast["leader"],
        due_at=NOW + timedelta(days=20),
        target_result="x",
        created_by=cast["supervisor"],
        created_at=NOW,
    )
    matter = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=case,
        department=org.dept(org.city, DepartmentKind.POLICE),
        due_on=date(2026, 4, 30),
        target_result="依法化解",
    )
    assert matter.responsibility == existing
    assert LeaderResponsibility.objects.filter(case=case).count() == 1


def test_double_hand_down_is_a_conflict(cast, campaign, make_matter, make_case):
    case = make_case()
    make_matter(campaign, case)
    with pytest.raises(DomainError) as caught:
        make_matter(campaign, case)
    assert caught.value.code == "matter_exists"
    assert Matter.objects.filter(case=case).count() == 1


def test_hand_down_field_errors(org, cast, campaign, make_case):
    county_case = make_case(center=org.county_a)
    with pytest.raises(ValidationError) as caught:
        hand_down_matter(
            actor=cast["supervisor"],
            campaign=campaign,
            case=county_case,  # the campaign does not reach subordinate centers
            department=org.dept(org.city, DepartmentKind.COURT),  # and not the case's center
            handler=cast["outsider"],
            due_on=date(2026, 7, 15),  # after the campaign
            target_result=" ",
        )
    errors = caught.value.message_dict
    assert set(errors) == {"case", "department", "leader", "handler", "due_on", "target_result"}
    with pytest.raises(ValidationError) as caught:
        hand_down_matter(
            actor=cast["supervisor"],
            campaign=campaign,
            case=make_case(),
            due_on=date(2026, 2, 10),  # today: not in the future
            target_result="x",
        )
    assert set(caught.value.message_dict) == {"center", "leader", "due_on"}


def test_subordinate_center_receives_and_reads_only_its_matters(
    org, cast, make_campaign, make_case
):
    campaign = make_campaign(include_subordinates=True)
    county_supervisor = make_user("county_sup", org.county_a, [Role.SUPERVISOR])
    county_head = make_user(
        "county_head", org.county_a, [Role.HEAD], org.dept(org.county_a, DepartmentKind.POLICE)
    )
    county_case = make_case(center=org.county_a)
    to_county = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=county_case,
        center=org.county_a,
        leader=county_head,
        due_on=date(2026, 4, 30),
        target_result="化解",
    )
    city_matter = hand_down_matter(
        actor=cast["supervisor"],
        campaign=campaign,
        case=make_case(),
        department=org.dept(org.city, DepartmentKind.POLICE),
        due_on=date(2026, 4, 30),
        target_result="化解",
    )
    assert list(campaigns_visible_to(county_supervisor)) == [campaign]
    assert list(matters_visible_to(county_supervisor, campaign)) == [to_county]
    assert set(matters_visible_to(cast["supervisor"], campaign)) == {to_county, city_matter}
    assert list(matters_visible_to(cast["county_police"], campaign)) == []
    assert list(matters_visible_to(cast["outsider"])) == []
    # the county cannot write on the city's campaign...
    with pytest.raises(PermissionDenied):
        hand_down_matter(
            actor=county_supervisor,
            campaign=campaign,
            case=make_case(center=org.county_a),
            center=org.county_a,
            leader=county_head,
            due_on=date(2026, 4, 30),
            target_result="化解",
        )
    # ...but signs for and works on what was handed to it
    signed = sign_for_matter(actor=cast["county_triage"], matter=to_county, expected_version=1)
    assert signed.signed_by == cast["county_triage"]
    record_progress(
        actor=county_supervisor, matter=to_county, text="约谈", outcome=MatterOutcome.IN_HAND
    )
    with pytest.raises(PermissionDenied):
        sign_for_matter(actor=county_supervisor, matter=city_matter)


def test_sign_for_once_by_the_receiving_department(cast, campaign, make_matter):
    matter = make_matter(campaign)
    with pytest.raises(PermissionDenied):
        sign_for_matter(actor=cast["court"], matter=matter)
    with pytest.raises(PermissionDenied):
        sign_for_matter(actor=cast["triage"], matter=matter)  # handed to a department
    with pytest.raises(StaleState):
        sign_for_matter(actor=cast["police"], matter=matter, expected_version=7)
    signed = sign_for_matter(actor=cast["police"], matter=matter, expected_version=1)
    assert (signed.signed_by, signed.signed_at, signed.version) == (cast["police"], NOW, 2)
    assert CaseEvent.objects.filter(case=matter.case, kind="campaign_matter_signed").count() == 1
    with pytest.raises(DomainError) as caught:
        sign_for_matter(actor=cast["head"], matter=matter)
    assert caught.value.code == "already_signed"


def test_progress_rules_and_next_report(cast, campaign, make_matter):
    matter = make_matter(campaign)
    with pytest.raises(ValidationError) as caught:
        record_progress(actor=cast["police"], matter=matter, text="x", outcome="resolved")
    assert set(caught.value.message_dict) == {"resolution"}
    with pytest.raises(ValidationError) as caught:
        record_progress(actor=cast["police"], matter=matter, text="x", outcome="stalled")
    assert set(caught.value.message_dict) == {"obstacle"}
    with pytest.raises(ValidationError) as caught:
        record_progress(actor=cast["police"], matter=matter, text="", outcome="terminated")
    assert set(caught.value.message_dict) == {"text", "outcome"}
    with pytest.raises(PermissionDenied):
        record_progress(actor=cast["court"], matter=matter, text="x", outcome="in_hand")

    Matter.objects.filter(pk=matter.pk).update(warning_level="overdue", escalation_step=2)
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        entry = record_progress(
            actor=cast["police"],
            matter=matter,
            text="走访当事人",
            outcome="stalled",
            obstacle="诉求过高",
            expected_version=1,
        )
    matter.refresh_from_db()
    assert entry.recorded_by == cast["police"]
    assert matter.outcome == MatterOutcome.STALLED
    assert matter.obstacle == "诉求过高"
    assert matter.next_progress_on == date(2026, 2, 20)  # 13 Feb + 7 days
    assert (matter.warning_level, matter.escalation_step, matter.version) == ("none", 0, 2)
    with pytest.raises(StaleState):
        record_progress(
            actor=cast["police"], matter=matter, text="x", outcome="in_hand", expected_version=1
        )


def test_resolve_then_reopen(cast, campaign, make_matter):
    matter = make_matter(campaign)
    record_progress(
        actor=cast["head"], matter=matter, text="听证", outcome="resolved", resolution="司法救助"
    )
    matter.refresh_from_db()
    assert (matter.outcome, matter.resolved_at, matter.next_progress_on) == ("resolved", NOW, None)
    assert matter.resolution == "司法救助"
    record_progress(actor=cast["head"], matter=matter, text="又来访", outcome="in_hand")
    matter.refresh_from_db()
    assert (matter.outcome, matter.resolved_at, matter.resolution) == ("in_hand", None, "")
    assert matter.next_progress_on == date(2026, 2, 17)
    events = CaseEvent.objects.filter(case=matter.case, kind="campaign_progress")
    assert [e.data["outcome"] for e in events.order_by("pk")] == ["resolved", "in_hand"]


def test_double_submit_is_one_entry(cast, campaign, make_matter):
    matter = make_matter(campaign)
    first = record_progress(
        actor=cast["police"],
        matter=matter,
        text="x",
        outcome="in_hand",
        expected_version=1,
        submission_key="k1",
    )
    again = record_progress(
        actor=cast["police"],
        matter=matter,
        text="x",
        outcome="in_hand",
        expected_version=1,  # the same form: stale now, but it is the same entry
        submission_key="k1",
    )
    assert again.pk == first.pk
    assert MatterProgress.objects.filter(matter=matter).count() == 1
    matter.refresh_from_db()
    assert matter.version == 2


def test_ledger_update(cast, campaign, make_matter):
    matter = make_matter(campaign)
    updated = update_ledger(
        actor=cast["police"],
        matter=matter,
        expected_version=1,
        work_done="三次走访",
        next_step="组织听证",
    )
    assert (updated.work_done, updated.next_step, updated.version) == ("三次走访", "组织听证", 2)
    assert updated.history.filter(history_user=cast["police"]).exists()
    with pytest.raises(StaleState):
        update_ledger(actor=cast["police"], matter=matter, expected_version=1, obstacle="x")
    with pytest.raises(ValidationError):
        update_ledger(actor=cast["police"], matter=matter, outcome="resolved")
    with pytest.raises(PermissionDenied):
        update_ledger(actor=cast["court"], matter=matter, obstacle="x")


def test_quality_review_campaign_takes_no_matters(cast, make_campaign, make_matter):
    review = make_campaign(kind=CampaignKind.QUALITY_REVIEW)
    with pytest.raises(DomainError):
        make_matter(review)
