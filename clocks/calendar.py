"""Working-day arithmetic on the official holiday calendar (DOMAIN.md §5).

A day is a working day if a ``Holiday`` row says so (a 调休 make-up Saturday) or, without a row, if
it is Monday to Friday. Years without a ``CalendarYear`` row have no official notice yet (the
notice for next year comes out late in the year): the weekday rule still applies, and the result is
flagged provisional so that the UI can say so; nothing here raises for an unknown year.

Each call reads the calendar once for the whole range it needs (one query for ``Holiday`` and one
for ``CalendarYear``), never per day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from .models import CalendarSource, CalendarYear, Holiday, HolidayKind

# The first year `seed_holidays` loads by default; older notices matter to no open case.
DEFAULT_FIRST_SEED_YEAR = 2020
# Working days are rarely more than 5 in 7, and the longest run of days off (Spring Festival) is
# 9 days: this window covers n working days in one read; a longer run simply reads the next window.
_WINDOW_SLACK_DAYS = 30
# A calendar that an administrator has filled with nothing but days off must not loop forever.
_MAX_SCAN_DAYS = 366 * 5


@dataclass(frozen=True)
class _CalendarWindow:
    first: date
    last: date
    overrides: dict[date, bool]  # date -> is a working day, from Holiday rows
    known_years: frozenset[int]

    def is_working_day(self, d: date) -> bool:
        return self.overrides.get(d, d.weekday() < 5)

    def is_known(self, d: date) -> bool:
        return d.year in self.known_years


def _load_window(first: date, last: date) -> _CalendarWindow:
    overrides = {
        day: kind == HolidayKind.WORKDAY
        for day, kind in Holiday.objects.filter(date__range=(first, last)).values_list(
            "date", "kind"
        )
    }
    known = frozenset(
        CalendarYear.objects.filter(year__range=(first.year, last.year)).values_list(
            "year", flat=True
        )
    )
    return _CalendarWindow(first, last, overrides, known)


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day (one query). Unknown years follow the weekday."""
    row = Holiday.objects.filter(date=d).values_list("kind", flat=True).first()
    if row is None:
        return d.weekday() < 5
    return row == HolidayKind.WORKDAY


def add_calendar_days(start: date, n: int) -> date:
    """``start`` plus ``n`` days. Holidays do not move a calendar-day deadline (see deadlines)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return start + timedelta(days=n)


def add_working_days(start: date, n: int) -> tuple[date, bool]:
    """The ``n``-th working day after ``start`` and whether it is provisional.

    Counting starts the day after ``start`` (the day of receipt does not count, as in Chinese
    administrative practice): 5 working days from a Friday receipt skip the weekend and public
    holidays and count make-up Saturdays. The result is provisional if any day counted over lies in
    a year without official data. ``n == 0`` returns ``start``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    counted = 0
    provisional = False
    window: _CalendarWindow | None = None
    while counted < n:
        day += timedelta(days=1)
        if (day - start).days > _MAX_SCAN_DAYS:
            raise ValueError(f"no {n} working days within {_MAX_SCAN_DAYS} days of {start}")
        if window is None or day > window.last:
            window = _load_window(day, day + timedelta(days=n * 2 + _WINDOW_SLACK_DAYS))
        if not window.is_known(day):
            provisional = True
        if window.is_working_day(day):
            counted += 1
    return day, provisional


# --- seeding from the chinese_calendar package ---------------------------------------------------


def package_years(first: int = DEFAULT_FIRST_SEED_YEAR) -> list[int]:
    """The years from ``first`` for which the installed chinese_calendar has data."""
    try:
        import chinese_calendar
    except ImportError:
        return []
    years = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    return sorted(y for y in years if y >= first and _package_knows(y))


def _package_knows(year: int) -> bool:
    import chinese_calendar

    try:
        # Raises NotImplementedError for a year the package has no notice for.
        chinese_calendar.is_holiday(date(year, 1, 1))
        chinese_calendar.is_holiday(date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


def _chinese_name(english: object) -> str:
    """The package stores English names; staff read the notice's Chinese ones (春节, 国庆节)."""
    import chinese_calendar

    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return str(english or "")


def seed_holidays(years: Iterable[int] | None = None) -> list[int]:
    """Load the package's holidays and make-up working days for ``years`` (default: every year it
    knows from 2020) and mark those years known. Returns the years seeded; unknown years are
    skipped. Idempotent, and an administrator's edits win: existing rows are left as they are."""
    import chinese_calendar

    wanted = package_years() if years is None else sorted(set(years))
    seeded: list[int] = []
    for year in wanted:
        if not _package_knows(year):
            continue
        rows = [
            Holiday(date=d, kind=HolidayKind.HOLIDAY, name=_chinese_name(name))
            for d, name in chinese_calendar.holidays.items()
            if d.year == year
        ] + [
            # The package lists only weekend make-up days here; the filter keeps it that way.
            Holiday(date=d, kind=HolidayKind.WORKDAY, name=_chinese_name(name))
            for d, name in chinese_calendar.workdays.items()
            if d.year == year and d.weekday() >= 5
        ]
        with transaction.atomic():
            Holiday.objects.bulk_create(rows, ignore_conflicts=True)
            CalendarYear.objects.get_or_create(
                year=year, defaults={"source": CalendarSource.CHINESE_CALENDAR}
            )
        seeded.append(year)
    return seeded
