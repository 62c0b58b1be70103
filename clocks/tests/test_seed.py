from __future__ import annotations

from datetime import date
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command

from clocks.calendar import package_years, seed_holidays
from clocks.models import CalendarSource, CalendarYear, DeadlineRule, Holiday, HolidayKind

pytestmark = pytest.mark.django_db


def _package_rows(year: int) -> int:
    return sum(d.year == year for d in chinese_calendar.holidays) + sum(
        d.year == year and d.weekday() >= 5 for d in chinese_calendar.workdays
    )


def test_migration_seeded_the_years_the_package_knows():
    years = package_years()
    assert {2025, 2026} <= set(years)
    assert min(years) == 2020
    assert set(CalendarYear.objects.values_list("year", flat=True)) >= set(years)
    assert Holiday.objects.filter(date__year=2025).count() == _package_rows(2025)
    assert Holiday.objects.get(date=date(2025, 10, 11)).kind == HolidayKind.WORKDAY
    assert Holiday.objects.get(date=date(2025, 10, 1)).name == "国庆节"


def test_migration_seeded_the_national_default_rules():
    rules = {
        r.kind: (r.length, r.day_type, r.max_extension_days)
        for r in DeadlineRule.objects.filter(province_region_code="")
    }
    assert rules == {
        "screening": (15, "calendar", 0),
        "objection": (5, "working", 0),
        "acceptance_notice": (15, "calendar", 0),
        "handling": (60, "calendar", 30),
        "review_request": (30, "calendar", 0),
        "review_window": (30, "calendar", 0),
        "review_decision": (30, "calendar", 0),
        "re_review_decision": (30, "calendar", 0),
        "aid_decision": (10, "working", 0),
        "aid_payment": (10, "working", 0),
        "supervision_order": (15, "calendar", 0),
    }


def test_seeding_skips_unknown_years_and_is_idempotent():
    Holiday.objects.filter(date__year=2025).delete()
    CalendarYear.objects.filter(year=2025).delete()
    assert seed_holidays([2025, 2099]) == [2025]
    assert seed_holidays([2025, 2099]) == [2025]
    assert Holiday.objects.filter(date__year=2025).count() == _package_rows(2025)
    assert CalendarYear.objects.get(year=2025).source == CalendarSource.CHINESE_CALENDAR
    assert not CalendarYear.objects.filter(year=2099).exists()


def test_reseeding_keeps_an_administrators_correction():
    Holiday.objects.filter(date=date(2026, 10, 10)).update(kind=HolidayKind.HOLIDAY, name="改")
    seed_holidays([2026])
    assert Holiday.objects.get(date=date(2026, 10, 10)).kind == HolidayKind.HOLIDAY


def test_command_reports_seeded_and_skipped_years():
    out = StringIO()
    call_command("seed_holidays", "--years", "2026", "2099", stdout=out)
    assert "Seeded: 2026" in out.getvalue()
    assert "2099" in out.getvalue()


def test_command_defaults_to_the_package_years():
    out = StringIO()
    call_command("seed_holidays", stdout=out)
    assert "2020" in out.getvalue() and "2026" in out.getvalue()
