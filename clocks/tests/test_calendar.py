"""Working-day arithmetic on the seeded 2025/2026 notices (chinese_calendar data, loaded by the
0003 data migration) and its fallback for years without a notice."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from clocks.calendar import add_calendar_days, add_working_days, is_working_day
from clocks.models import CalendarSource, CalendarYear, Holiday, HolidayKind

pytestmark = pytest.mark.django_db


def test_five_working_days_from_friday_before_spring_festival_2026_counts_make_up_saturday():
    # Received Fri 13 Feb 2026. Sat 14 Feb is a make-up working day (1); 15-23 Feb are the
    # Spring Festival days off; Tue 24 (2), Wed 25 (3), Thu 26 (4), Fri 27 Feb (5).
    assert add_working_days(date(2026, 2, 13), 5) == (date(2026, 2, 27), False)


def test_five_working_days_from_friday_before_national_day_2025_counts_make_up_sunday():
    # Received Fri 26 Sep 2025. Sun 28 Sep is a make-up working day (1); Mon 29 (2), Tue 30 (3);
    # 1-8 Oct are off (National Day and Mid-autumn); Thu 9 (4), Fri 10 Oct (5).
    assert add_working_days(date(2025, 9, 26), 5) == (date(2025, 10, 10), False)


def test_counting_from_inside_the_holiday_reaches_the_make_up_saturday():
    # Received Fri 3 Oct 2025 (a day off): Thu 9 (1), Fri 10 (2), Sat 11 Oct make-up (3),
    # Mon 13 (4), Tue 14 Oct (5).
    assert add_working_days(date(2025, 10, 3), 5) == (date(2025, 10, 14), False)


def test_every_friday_of_2025_and_2026_agrees_with_chinese_calendar():
    def reference(start: date, n: int) -> date:
        day = start
        while n:
            day += timedelta(days=1)
            n -= chinese_calendar.is_workday(day)
        return day

    friday = date(2025, 1, 3)
    while friday < date(2026, 12, 18):  # the last Friday whose 5 days stay inside 2026
        assert add_working_days(friday, 5) == (reference(friday, 5), False), friday
        friday += timedelta(days=7)


def test_unknown_year_falls_back_to_weekends_and_is_provisional():
    assert not CalendarYear.objects.filter(year=2099).exists()
    # Fri 2 Jan 2099: Mon 5 .. Fri 9 Jan, New Year's holidays unknown.
    assert date(2099, 1, 2).weekday() == 4
    assert add_working_days(date(2099, 1, 2), 5) == (date(2099, 1, 9), True)
    assert is_working_day(date(2099, 1, 1)) is True  # a Thursday; no notice, no crash
    assert is_working_day(date(2099, 1, 3)) is False


def test_counting_into_an_unknown_year_is_provisional():
    CalendarYear.objects.filter(year=2027).delete()
    due, provisional = add_working_days(date(2026, 12, 30), 5)
    assert provisional is True
    assert due.year == 2027


def test_a_manually_entered_year_is_no_longer_provisional():
    CalendarYear.objects.create(year=2099, source=CalendarSource.MANUAL)
    Holiday.objects.create(date=date(2099, 1, 5), kind=HolidayKind.HOLIDAY, name="元旦")
    assert add_working_days(date(2099, 1, 2), 5) == (date(2099, 1, 12), False)


def test_is_working_day_honours_holidays_and_make_up_days():
    assert is_working_day(date(2026, 2, 14)) is True  # Saturday, make-up
    assert is_working_day(date(2026, 2, 17)) is False  # Tuesday, Spring Festival
    assert is_working_day(date(2026, 3, 2)) is True  # ordinary Monday
    assert is_working_day(date(2026, 3, 7)) is False  # ordinary Saturday


def test_working_days_read_the_calendar_once_per_call(django_assert_num_queries):
    # One query for the Holiday rows of the range, one for the known years; never one per day.
    with django_assert_num_queries(2):
        add_working_days(date(2026, 2, 13), 5)
    with django_assert_num_queries(2):
        add_working_days(date(2026, 1, 5), 20)


def test_zero_days_is_the_start_and_negative_is_refused():
    assert add_working_days(date(2026, 2, 13), 0) == (date(2026, 2, 13), False)
    assert add_calendar_days(date(2026, 2, 13), 15) == date(2026, 2, 28)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 2, 13), -1)
    with pytest.raises(ValueError):
        add_calendar_days(date(2026, 2, 13), -1)


def test_a_calendar_of_only_days_off_is_an_error_not_a_hang():
    Holiday.objects.bulk_create(
        Holiday(date=date(2098, 1, 1) + timedelta(days=i), kind=HolidayKind.HOLIDAY)
        for i in range(366 * 5 + 2)
    )
    with pytest.raises(ValueError):
        add_working_days(date(2097, 12, 31), 1)
