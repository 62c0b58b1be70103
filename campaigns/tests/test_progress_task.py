"""The progress clock: due soon, overdue, escalation, idempotence, and what it leaves alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings

from campaigns.models import Matter, WarningLevel
from campaigns.services import close_campaign, record_progress
from campaigns.tasks import run_progress_sweep, sweep_matter_progress
from campaigns.tests.conftest import NOW
from clocks.models import Notification, NotificationKind
from core.roles import Role
from petitions.models import CaseEvent
from petitions.states import CaseState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_now")]
DAY = timedelta(days=1)


def _notes(matter):
    return Notification.objects.filter(case=matter.case)


@pytest.fixture
def matter(campaign, make_matter):
    m = make_matter(campaign)  # next report due 2026-02-17 (NOW + 7 days)
    Notification.objects.all().delete()  # the hand-down's own notifications
    return m


def test_nothing_before_the_warning_window(matter):
    assert run_progress_sweep(NOW + 4 * DAY)["changed"] == 0  # due in 3 days
    matter.refresh_from_db()
    assert matter.warning_level == WarningLevel.NONE
    assert not _notes(matter).exists()


def test_warning_then_overdue_then_escalation(cast, matter):
    result = run_progress_sweep(NOW + 5 * DAY)  # 15 Feb: due in two days
    assert result == {"changed": 1, "overdue": 0, "escalated": 0, "notifications": 2}
    matter.refresh_from_db()
    assert (matter.warning_level, matter.version) == (WarningLevel.WARNING, 2)
    assert {(n.recipient_id, n.kind) for n in _notes(matter)} == {
        (cast["police"].pk, NotificationKind.WARNING),
        (cast["head"].pk, NotificationKind.WARNING),
    }
    last = matter.history.first()
    assert (last.warning_level, last.history_change_reason) == ("warning", "progress sweep")

    result = run_progress_sweep(NOW + 8 * DAY)  # 18 Feb: one day late
    assert result == {"changed": 1, "overdue": 1, "escalated": 0, "notifications": 2}
    matter.refresh_from_db()
    assert (matter.warning_level, matter.escalation_step) == (WarningLevel.OVERDUE, 0)
    assert _notes(matter).filter(kind=NotificationKind.OVERDUE).count() == 2
    assert CaseEvent.objects.filter(case=matter.case, kind="campaign_progress_overdue").count() == 1

    assert run_progress_sweep(NOW + 9 * DAY)["changed"] == 0  # two days late: nothing new
    result = run_progress_sweep(NOW + 10 * DAY)  # 20 Feb: three days late
    assert result == {"changed": 1, "overdue": 1, "escalated": 1, "notifications": 1}
    matter.refresh_from_db()
    assert matter.escalation_step == 1
    escalation = _notes(matter).get(kind=NotificationKind.ESCALATION)
    assert (escalation.audience_center_id, escalation.audience_role) == (
        matter.campaign.center_id,
        Role.SUPERVISOR,
    )
    assert run_progress_sweep(NOW + 20 * DAY)["changed"] == 0
    assert _notes(matter).count() == 5


def test_a_late_first_run_goes_straight_to_the_final_state(matter):
    result = run_progress_sweep(NOW + 30 * DAY)
    assert result == {"changed": 1, "overdue": 1, "escalated": 1, "notifications": 3}
    matter.refresh_from_db()
    assert (matter.warning_level, matter.escalation_step) == (WarningLevel.OVERDUE, 1)


def test_a_second_run_and_a_replayed_key_write_nothing_twice(matter):
    run_progress_sweep(NOW + 30 * DAY)
    # as if a concurrent run had read the rows before this one's update: the guard on the old
    # level is gone, and the outbox's dedupe keys still keep one row per warning and step
    Matter.objects.filter(pk=matter.pk).update(warning_level="none", escalation_step=0)
    before = _notes(matter).count()
    result = run_progress_sweep(NOW + 30 * DAY)
    assert result["changed"] == 1
    assert _notes(matter).count() == before == 3


def test_progress_entry_clears_the_level_and_restarts_the_clock(cast, matter):
    run_progress_sweep(NOW + 30 * DAY)
    record_progress(actor=cast["police"], matter=matter, text="走访", outcome="in_hand")
    matter.refresh_from_db()
    assert (matter.warning_level, matter.escalation_step) == (WarningLevel.NONE, 0)
    assert matter.next_progress_on == (NOW + 7 * DAY).date()
    assert run_progress_sweep(NOW + 1 * DAY)["changed"] == 0


def test_resolved_terminated_and_closed_campaign_matters_are_left_alone(
    cast, campaign, make_matter
):
    resolved = make_matter(campaign)
    record_progress(
        actor=cast["head"], matter=resolved, text="x", outcome="resolved", resolution="和解"
    )
    terminated = make_matter(campaign)
    terminated.case.state = CaseState.TERMINATED
    terminated.case.save(update_fields=["state"])
    assert run_progress_sweep(NOW + 30 * DAY)["changed"] == 0
    open_one = make_matter(campaign)
    close_campaign(actor=cast["supervisor"], campaign=campaign)
    assert run_progress_sweep(NOW + 30 * DAY)["changed"] == 0
    open_one.refresh_from_db()
    assert open_one.warning_level == WarningLevel.NONE


def test_task_is_scheduled_and_runs(matter):
    entry = settings.CELERY_BEAT_SCHEDULE["campaign-progress"]
    assert entry["task"] == "campaigns.tasks.sweep_matter_progress"
    assert sweep_matter_progress.apply().get()["changed"] == 0  # the clock is at NOW


def test_query_count_is_constant(campaign, make_matter, django_assert_max_num_queries):
    for _ in range(6):
        make_matter(campaign)
    with django_assert_max_num_queries(8):
        assert run_progress_sweep(NOW + 30 * DAY)["changed"] == 6
