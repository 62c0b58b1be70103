from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from clocks import deadlines as deadlines_module
from clocks.calendar import add_working_days
from clocks.deadlines import (
    CHINA_TZ,
    compute_due,
    days_remaining,
    meet_deadline,
    open_deadline,
    refresh_case_next_due,
    rule_for,
    warning_level_for,
)
from clocks.models import (
    DayType,
    Deadline,
    DeadlineKind,
    DeadlineRule,
    Holiday,
    HolidayKind,
    WarningLevel,
)
from core.models import Center, CenterLevel

pytestmark = pytest.mark.django_db


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def end_of(d: date) -> datetime:
    return bj(d.year, d.month, d.day, 23, 59, 59)


# --- due dates -------------------------------------------------------------------------------------


def test_objection_deadline_for_case_assigned_friday_before_spring_festival(case):
    # Assigned Fri 13 Feb 2026 16:30: make-up Sat 14 Feb counts, 15-23 Feb are off, so the
    # 5th working day is Fri 27 Feb (Art 23), due at the end of that Beijing day.
    deadline = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 2, 13, 16, 30))
    assert deadline.due_at == bj(2026, 2, 27, 23, 59, 59)
    assert deadline.is_provisional is False
    assert deadline.day_type == DayType.WORKING
    assert deadline.basis == "《信访工作条例》第二十三条"
    assert deadline.rule is not None and deadline.rule.province_region_code == ""


def test_objection_deadline_across_national_day_2025(case):
    deadline = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2025, 9, 26, 10))
    assert deadline.due_at == bj(2025, 10, 10, 23, 59, 59)


def test_calendar_day_deadline_counts_beijing_days_and_ends_at_midnight(org):
    # 00:30 on 1 March in Beijing is still 28 February in UTC: the Beijing day counts.
    start = bj(2026, 3, 1, 0, 30)
    assert start.astimezone(UTC).date() == date(2026, 2, 28)
    due, provisional, rule = compute_due(kind=DeadlineKind.SCREENING, start=start, center=org.city)
    assert due == bj(2026, 3, 16, 23, 59, 59)
    assert (provisional, rule.length, rule.day_type) == (False, 15, DayType.CALENDAR)


def test_calendar_day_deadline_is_not_moved_off_a_holiday(org):
    # 15 days from 16 Sep 2026 ends on Thu 1 Oct (National Day): documented, no roll-over.
    due, _, _ = compute_due(kind=DeadlineKind.SCREENING, start=bj(2026, 9, 16, 9), center=org.city)
    assert due == bj(2026, 10, 1, 23, 59, 59)


def test_unknown_year_deadline_falls_back_to_weekends_and_is_provisional(case):
    deadline = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2099, 1, 2, 9))
    assert deadline.due_at == bj(2099, 1, 9, 23, 59, 59)
    assert deadline.is_provisional is True


def test_length_override_keeps_the_rule_day_type_and_basis(case):
    deadline = open_deadline(
        case=case, kind=DeadlineKind.SUPERVISION_ORDER, start=bj(2026, 3, 2, 9), length_override=7
    )
    assert deadline.due_at == bj(2026, 3, 9, 23, 59, 59)
    assert deadline.day_type == DayType.CALENDAR


def test_naive_start_and_unknown_kind_are_refused(org):
    with pytest.raises(ValueError):
        compute_due(kind=DeadlineKind.SCREENING, start=datetime(2026, 3, 1), center=org.city)
    with pytest.raises(ValueError):
        rule_for("lunch_break", org.city)


def test_kind_without_any_rule_raises_does_not_exist(org):
    with pytest.raises(DeadlineRule.DoesNotExist):
        rule_for(DeadlineKind.EXTENSION, org.city)


# --- provincial rules ------------------------------------------------------------------------------


@pytest.fixture
def province_override(org):
    # A province that decides acceptance within 5 working days (as Zhejiang does).
    return DeadlineRule.objects.create(
        kind=DeadlineKind.ACCEPTANCE_NOTICE,
        province_region_code=org.province.region_code,
        length=5,
        day_type=DayType.WORKING,
        basis="省信访条例",
    )


def test_province_override_wins_over_national_default(org, province_override, make_case):
    for center in (org.province, org.city, org.county_a):
        assert rule_for(DeadlineKind.ACCEPTANCE_NOTICE, center) == province_override
    national = rule_for(DeadlineKind.ACCEPTANCE_NOTICE, org.other_province)
    assert (national.province_region_code, national.length) == ("", 15)

    deadline = open_deadline(
        case=make_case(org.county_a),
        kind=DeadlineKind.ACCEPTANCE_NOTICE,
        start=bj(2026, 2, 13, 9),
    )
    assert deadline.due_at == bj(2026, 2, 27, 23, 59, 59)
    assert deadline.basis == "省信访条例"
    # Other kinds in that province still use the national default.
    assert rule_for(DeadlineKind.SCREENING, org.county_a).province_region_code == ""


def test_rule_for_is_one_query(org, province_override, django_assert_num_queries):
    rule_for(DeadlineKind.SCREENING, org.county_a)  # the rules' cache is loaded (one query)
    with django_assert_num_queries(1):
        rule_for(DeadlineKind.ACCEPTANCE_NOTICE, org.county_a)


def test_a_kind_no_province_overrides_needs_no_query(org, django_assert_num_queries):
    rule_for(DeadlineKind.SCREENING, org.county_a)
    with django_assert_num_queries(0):
        assert rule_for(DeadlineKind.SCREENING, org.county_a).province_region_code == ""


def test_a_rule_saved_is_used_at_once_by_the_cache(org):
    assert rule_for(DeadlineKind.SCREENING, org.county_a).province_region_code == ""
    DeadlineRule.objects.create(
        kind=DeadlineKind.SCREENING,
        province_region_code=org.province.region_code,
        length=7,
        day_type=DayType.CALENDAR,
    )
    assert rule_for(DeadlineKind.SCREENING, org.county_a).length == 7


def test_rule_for_walks_up_the_parents_of_an_unsaved_center(org, province_override):
    center = Center(name="新县", region_code="130199", level=CenterLevel.COUNTY, parent=org.city)
    assert center.path == ""
    assert rule_for(DeadlineKind.ACCEPTANCE_NOTICE, center) == province_override


def test_province_code_must_be_a_province(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeadlineRule.objects.create(
            kind=DeadlineKind.SCREENING,
            province_region_code="130100",
            length=1,
            day_type="calendar",
        )


# --- opening and meeting ---------------------------------------------------------------------------


def test_open_deadline_is_idempotent(case):
    first = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 1, 9))
    again = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 5, 9))
    assert again.pk == first.pk
    assert again.due_at == first.due_at
    assert case.deadlines.count() == 1


def test_each_assignment_has_its_own_clock(case):
    a = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2), assignment_id=1)
    b = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2), assignment_id=2)
    c = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2))
    assert len({a.pk, b.pk, c.pk}) == 3
    assert open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 3)).pk == c.pk


def test_open_deadline_returns_the_winner_of_a_concurrent_insert(case, monkeypatch):
    winner = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 1, 9))
    real = deadlines_module._open_deadlines
    calls = iter([True])

    def blind_first_read(*args):
        # The first look sees nothing, as if the winner committed just after it.
        return real(*args).none() if next(calls, False) else real(*args)

    monkeypatch.setattr(deadlines_module, "_open_deadlines", blind_first_read)
    again = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 2, 9))
    assert again.pk == winner.pk
    assert case.deadlines.count() == 1


def test_database_allows_one_open_clock_per_key_even_without_assignment(case):
    common = {
        "case": case,
        "kind": DeadlineKind.SCREENING,
        "day_type": DayType.CALENDAR,
        "starts_at": bj(2026, 3, 1),
        "due_at": bj(2026, 3, 16, 23, 59, 59),
    }
    Deadline.objects.create(**common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deadline.objects.create(**common)
    # A met clock does not block a new one.
    Deadline.objects.create(**common, met_at=bj(2026, 3, 3))


def test_meet_deadline_stops_the_clock_once_and_records_history(case):
    deadline = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 1, 9))
    assert meet_deadline(case=case, kind=DeadlineKind.SCREENING, at=bj(2026, 3, 4, 11)) == 1
    assert meet_deadline(case=case, kind=DeadlineKind.SCREENING, at=bj(2026, 3, 5, 11)) == 0
    deadline.refresh_from_db()
    assert deadline.met_at == bj(2026, 3, 4, 11)
    assert [h.history_type for h in deadline.history.order_by("history_id")] == ["+", "~"]
    # Once met, the same kind can run again (e.g. after a return and a new assignment).
    again = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 6, 9))
    assert again.pk != deadline.pk


def test_meet_deadline_only_touches_its_own_key(case):
    open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2), assignment_id=1)
    open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2), assignment_id=2)
    assert (
        meet_deadline(case=case, kind=DeadlineKind.OBJECTION, at=bj(2026, 3, 3), assignment_id=1)
        == 1
    )
    assert case.deadlines.filter(met_at__isnull=True).get().assignment_id == 2


# --- the case's next deadline ----------------------------------------------------------------------


def test_refresh_case_next_due_picks_the_earliest_open_duty(case):
    start = bj(2026, 3, 2, 9)
    screening = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=start)  # 17 Mar
    objection = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=start)  # 9 Mar
    handling = open_deadline(case=case, kind=DeadlineKind.HANDLING, start=start)  # 1 May
    case.refresh_from_db()
    # the objection window (the receiver's right) is earlier, but it is not the center's work
    assert objection.due_at == bj(2026, 3, 9, 23, 59, 59)
    assert case.next_due_at == screening.due_at

    meet_deadline(case=case, kind=DeadlineKind.OBJECTION, at=bj(2026, 3, 3))
    case.refresh_from_db()
    assert case.next_due_at == screening.due_at

    meet_deadline(case=case, kind=DeadlineKind.SCREENING, at=bj(2026, 3, 4))
    case.refresh_from_db()
    assert case.next_due_at == handling.due_at

    meet_deadline(case=case, kind=DeadlineKind.HANDLING, at=bj(2026, 3, 5))
    case.refresh_from_db()
    assert case.next_due_at is None


def test_refresh_case_next_due_is_one_update(case, make_case, django_assert_num_queries):
    other = make_case()
    open_deadline(case=other, kind=DeadlineKind.OBJECTION, start=bj(2026, 3, 2))
    open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 2))
    with django_assert_num_queries(1):
        refresh_case_next_due(case.pk)
    case.refresh_from_db()
    assert case.next_due_at == bj(2026, 3, 17, 23, 59, 59)


# --- the administrator's calendar ------------------------------------------------------------------


def test_admin_edited_holiday_changes_the_result(superuser_client, case):
    assert add_working_days(date(2026, 2, 13), 5) == (date(2026, 2, 27), False)
    response = superuser_client.post(
        reverse("admin:clocks_holiday_add"),
        {"date": "2026-02-26", "kind": HolidayKind.HOLIDAY, "name": "临时调整"},
    )
    assert response.status_code == 302, response.content
    assert Holiday.objects.get(date=date(2026, 2, 26)).kind == HolidayKind.HOLIDAY
    # Thu 26 Feb is now off: the 5th working day becomes the make-up Saturday 28 Feb.
    deadline = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2026, 2, 13, 9))
    assert deadline.due_at == bj(2026, 2, 28, 23, 59, 59)


def test_admin_refuses_a_make_up_working_day_on_a_weekday(superuser_client):
    response = superuser_client.post(
        reverse("admin:clocks_holiday_add"),
        {"date": "2026-03-04", "kind": HolidayKind.WORKDAY, "name": "错误"},
    )
    assert response.status_code == 200
    assert not Holiday.objects.filter(date=date(2026, 3, 4)).exists()


@pytest.mark.parametrize("model", ["holiday", "calendaryear", "deadlinerule", "deadline"])
def test_admin_lists_load(superuser_client, case, model):
    open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2026, 3, 2))
    assert superuser_client.get(reverse(f"admin:clocks_{model}_changelist")).status_code == 200


# --- warning levels --------------------------------------------------------------------------------

DUE = bj(2026, 3, 9, 23, 59, 59)
THRESHOLDS = {"approaching": 3, "severe": 1}


@pytest.mark.parametrize(
    ("now", "days", "level"),
    [
        (bj(2026, 3, 1, 9), 8, WarningLevel.ON_TIME),
        (bj(2026, 3, 5, 23, 59, 59), 4, WarningLevel.ON_TIME),
        (bj(2026, 3, 6, 0, 0, 0), 3, WarningLevel.APPROACHING),
        (bj(2026, 3, 7, 12), 2, WarningLevel.APPROACHING),
        (bj(2026, 3, 8, 9), 1, WarningLevel.SEVERE),
        (bj(2026, 3, 9, 9), 0, WarningLevel.SEVERE),
        (DUE, 0, WarningLevel.SEVERE),
        (DUE + timedelta(seconds=1), -1, WarningLevel.OVERDUE),
        (bj(2026, 3, 12, 9), -3, WarningLevel.OVERDUE),
    ],
)
def test_warning_level_and_days_remaining(now, days, level):
    assert days_remaining(DUE, now) == days
    assert warning_level_for(DUE, now, THRESHOLDS) == level


def test_warning_thresholds_come_from_settings(settings):
    now = bj(2026, 3, 2, 9)  # 7 days left
    assert warning_level_for(DUE, now) == WarningLevel.ON_TIME
    settings.DEADLINE_WARNING_DAYS = {"approaching": 7, "severe": 2}
    assert warning_level_for(DUE, now) == WarningLevel.APPROACHING
    assert warning_level_for(DUE, bj(2026, 3, 7, 9)) == WarningLevel.SEVERE


def test_warning_level_uses_time_machine_now(time_machine):
    time_machine.move_to(bj(2026, 3, 10, 8))
    from django.utils import timezone

    assert warning_level_for(DUE, timezone.now(), THRESHOLDS) == WarningLevel.OVERDUE
    assert days_remaining(DUE, timezone.now()) == -1
