"""Faults of time (issue 11): the sweep run while the clock crosses midnight (Beijing time) and a
holiday boundary. A duty is due at the end of its last day, 23:59:59.999999 Asia/Shanghai: the sweep
at its due instant (23:59:59) leaves it on time, the sweep just after midnight makes it overdue, and an
immediate rerun changes nothing. A working-day duty started before the National Day holiday does
not fall due during the holiday, whatever the sweep runs on those days."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clocks.calendar import add_working_days
from clocks.deadlines import compute_due
from clocks.models import DayType, Deadline, DeadlineKind, DeadlineRule, WarningLevel
from clocks.sweep import run_deadline_checks
from clocks.tests.test_sweep import handling_case
from petitions.testing import register

CHINA = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def test_a_duty_goes_overdue_exactly_at_beijing_midnight(org, cast):
    case, handling = handling_case(org, cast)
    local_due = handling.due_at.astimezone(CHINA)
    assert (local_due.hour, local_due.minute, local_due.second) == (23, 59, 59)
    next_midnight = datetime.combine(
        local_due.date() + timedelta(days=1), datetime.min.time(), CHINA
    )

    before = run_deadline_checks(now=handling.due_at)  # the last instant of the last day
    handling.refresh_from_db()
    assert handling.warning_level != WarningLevel.OVERDUE
    assert handling.overdue_since is None

    after = run_deadline_checks(now=next_midnight + timedelta(seconds=1))
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.OVERDUE
    assert handling.overdue_since == handling.due_at
    assert after.levels_changed >= 1 and before.levels_changed <= 1

    again = run_deadline_checks(now=next_midnight + timedelta(seconds=2))
    assert (again.levels_changed, again.escalated) == (0, 0)


def test_a_sweep_across_midnight_while_time_moves_is_consistent(org, cast):
    """The beat fires half a second before midnight and time keeps moving while it runs, then again
    after midnight: whichever side the first run saw, the clock went overdue exactly once (one
    history row with the overdue level), and a third run changes nothing."""
    case, handling = handling_case(org, cast)
    local_due = handling.due_at.astimezone(CHINA)
    late = datetime.combine(local_due.date(), datetime.max.time(), CHINA) - timedelta(
        milliseconds=500
    )
    with time_machine.travel(late, tick=True):
        run_deadline_checks()
    with time_machine.travel(late + timedelta(seconds=2)):
        run_deadline_checks()
        third = run_deadline_checks()
    handling.refresh_from_db()
    assert handling.warning_level == WarningLevel.OVERDUE
    assert (third.levels_changed, third.escalated) == (0, 0)
    overdue_rows = Deadline.history.filter(id=handling.pk, warning_level=WarningLevel.OVERDUE)
    assert overdue_rows.count() == 1


def test_a_working_day_duty_does_not_fall_due_during_the_national_day_holiday(org, cast):
    # A province counts screening in working days (DOMAIN.md §5: provinces change these rules).
    DeadlineRule.objects.update_or_create(
        kind=DeadlineKind.SCREENING,
        province_region_code=org.province.region_code,
        defaults={"length": 3, "day_type": DayType.WORKING, "basis": "test province"},
    )
    start = datetime(2026, 9, 29, 10, 0, tzinfo=CHINA)  # Tuesday before the 1-8 October holiday
    with time_machine.travel(start):
        case = register(cast["reception"]).case
    screening = Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING)
    expected_day, provisional = add_working_days(date(2026, 9, 29), 3)
    assert not provisional
    assert screening.due_at.astimezone(CHINA).date() == expected_day
    assert expected_day > date(2026, 10, 8)  # pushed past the holiday
    assert compute_due(kind=DeadlineKind.SCREENING, start=start, center=case.center)[0] == (
        screening.due_at
    )

    # every day of the holiday, just before and just after midnight: not overdue
    for day in range(1, 9):
        midnight = datetime(2026, 10, day, 0, 0, tzinfo=CHINA)
        for now in (midnight - timedelta(seconds=1), midnight + timedelta(seconds=1)):
            run_deadline_checks(now=now)
            screening.refresh_from_db()
            assert screening.warning_level != WarningLevel.OVERDUE, now
    # just past its last working day, it is overdue
    run_deadline_checks(now=screening.due_at + timedelta(seconds=1))
    screening.refresh_from_db()
    assert screening.warning_level == WarningLevel.OVERDUE
