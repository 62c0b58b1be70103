"""Holidays and make-up working days for every year the installed chinese_calendar knows (from
2020). Self-contained rather than calling supervision.calendar, so that this migration keeps doing
what it did when later code changes. Idempotent; rows that already exist are left alone, so an
administrator's corrections survive. Without the package it does nothing (years stay unknown and
deadlines there are provisional until the notice is entered in the admin)."""

from datetime import date

from django.db import migrations

FIRST_YEAR = 2020


def seed(apps, schema_editor):
    try:
        import chinese_calendar
    except ImportError:
        return
    Holiday = apps.get_model("supervision", "Holiday")
    CalendarYear = apps.get_model("supervision", "CalendarYear")

    def chinese(name):
        try:
            return str(chinese_calendar.Holiday(name).chinese)
        except ValueError:
            return str(name or "")

    years = sorted(
        {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    )
    for year in years:
        if year < FIRST_YEAR:
            continue
        try:
            chinese_calendar.is_holiday(date(year, 1, 1))
            chinese_calendar.is_holiday(date(year, 12, 31))
        except NotImplementedError:
            continue
        rows = [
            Holiday(date=d, kind="holiday", name=chinese(n))
            for d, n in chinese_calendar.holidays.items()
            if d.year == year
        ] + [
            Holiday(date=d, kind="workday", name=chinese(n))
            for d, n in chinese_calendar.workdays.items()
            if d.year == year and d.weekday() >= 5
        ]
        Holiday.objects.bulk_create(rows, ignore_conflicts=True)
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinese_calendar"})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0002_seed_deadline_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
