"""Entering next year's official holiday schedule, and what follows from it (issue 13 #15).

The State Council's notice for next year comes out late in the year. Until it is entered, working
days in that year follow the plain Monday-Friday week (clocks.calendar) and every clock counted
over them is *provisional* (``Deadline.is_provisional``): public holidays were counted as working
days. From 1 November administrators see a banner (clocks.context_processors) until the year is
entered, in the admin (holidays, then the calendar year) or from a file::

    manage.py import_holidays 2027.csv [--year 2027] [--replace]

The file is UTF-8 CSV (a BOM is fine), one day per line, with an optional header line::

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-06,holiday,春节
    2027-02-20,workday,春节

``kind`` is ``holiday`` (or 休) for a day off and ``workday`` (or 班) for a weekend day that is a
working day (调休); ``name`` is optional. Every line must lie in the year being entered, and a
working day only on a Saturday or Sunday.

Entering a year (either way) recomputes the running provisional clocks
(``recompute_provisional_deadlines``): each is counted again from its start with its rule's
length on the official calendar, keeping its extension and paused days; its warning level starts
over when it is no longer overdue, and the cases' next deadlines follow. A supervision order's
date was chosen by the supervisor and is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .calendar import add_working_days
from .deadlines import CHINA_TZ, END_OF_DAY, refresh_case_next_due, rule_for, warning_level_for
from .models import (
    CalendarSource,
    CalendarYear,
    DayType,
    Deadline,
    DeadlineKind,
    Holiday,
    HolidayKind,
    WarningLevel,
)

# From this day of the year (month, day) the next year's schedule is expected.
NOTICE_EXPECTED_FROM = (11, 1)
_KINDS = {
    "holiday": HolidayKind.HOLIDAY,
    "休": HolidayKind.HOLIDAY,
    "workday": HolidayKind.WORKDAY,
    "班": HolidayKind.WORKDAY,
}


def missing_next_year(today: date) -> int | None:
    """Next year, if ``today`` is on or after 1 November and its official schedule has not been
    entered yet (one query then, none before November); else None."""
    if (today.month, today.day) < NOTICE_EXPECTED_FROM:
        return None
    year = today.year + 1
    return None if CalendarYear.objects.filter(year=year).exists() else year


@dataclass(frozen=True)
class ScheduleRow:
    date: date
    kind: str
    name: str = ""


@dataclass(frozen=True)
class ScheduleResult:
    year: int
    holidays: int
    workdays: int
    recomputed: int


def parse_schedule(text: str, *, year: int | None = None) -> tuple[int, list[ScheduleRow]]:
    """The rows of a schedule file and the year they are for. Raises ValidationError listing
    every bad line (line numbers as an editor shows them); nothing is entered then."""
    errors: list[str] = []
    rows: list[ScheduleRow] = []
    seen: set[date] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for number, fields in enumerate(reader, start=1):
        cells = [c.strip() for c in fields]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "date":
            continue
        if len(cells) < 2:
            errors.append(_("Line %(n)d: give a date and a kind.") % {"n": number})
            continue
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            errors.append(
                _("Line %(n)d: “%(value)s” is not a date (YYYY-MM-DD).")
                % {"n": number, "value": cells[0]}
            )
            continue
        kind = _KINDS.get(cells[1].lower())
        if kind is None:
            errors.append(
                _("Line %(n)d: the kind is holiday (休) or workday (班), not “%(value)s”.")
                % {"n": number, "value": cells[1]}
            )
            continue
        if kind == HolidayKind.WORKDAY and day.weekday() < 5:
            errors.append(
                _(
                    "Line %(n)d: %(date)s is a weekday; a make-up working day is a Saturday or Sunday."
                )
                % {"n": number, "date": day.isoformat()}
            )
            continue
        if day in seen:
            errors.append(
                _("Line %(n)d: %(date)s is listed twice.") % {"n": number, "date": day.isoformat()}
            )
            continue
        seen.add(day)
        rows.append(ScheduleRow(day, kind, (cells[2] if len(cells) > 2 else "")[:50]))
    years = {r.date.year for r in rows}
    if year is None and len(years) > 1:
        errors.append(_("The file covers several years; say which one it is for."))
    target = year if year is not None else (years.pop() if len(years) == 1 else None)
    if target is not None:
        stray = sorted(r.date for r in rows if r.date.year != target)
        if stray:
            errors.append(
                _("%(date)s is not in %(year)d.") % {"date": stray[0].isoformat(), "year": target}
            )
    if not rows and not errors:
        errors.append(_("The file lists no days."))
    if errors or target is None:
        raise ValidationError(errors or [_("The file lists no days.")])
    return target, rows


def enter_official_schedule(
    *, year: int, rows: Sequence[ScheduleRow], replace: bool = False
) -> ScheduleResult:
    """Enter ``year``'s official schedule: the listed days (the file wins over rows already
    there; with ``replace`` the year's other rows go), the year marked known, and the running
    provisional clocks recomputed, in one transaction."""
    if not 2000 <= year <= 2200:
        raise ValidationError(_("The year must be between 2000 and 2200."))
    with transaction.atomic():
        if replace:
            Holiday.objects.filter(date__year=year).exclude(
                date__in=[r.date for r in rows]
            ).delete()
        Holiday.objects.bulk_create(
            [Holiday(date=r.date, kind=r.kind, name=r.name) for r in rows],
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=["kind", "name"],
        )
        CalendarYear.objects.update_or_create(year=year, defaults={"source": CalendarSource.MANUAL})
        recomputed = recompute_provisional_deadlines()
    return ScheduleResult(
        year=year,
        holidays=sum(1 for r in rows if r.kind == HolidayKind.HOLIDAY),
        workdays=sum(1 for r in rows if r.kind == HolidayKind.WORKDAY),
        recomputed=recomputed,
    )


def recompute_provisional_deadlines(*, now: datetime | None = None) -> int:
    """Count every running provisional clock again on the calendar as it is now. Returns how
    many changed (due date or provisional flag). Called after a year's schedule is entered."""
    now = now or timezone.now()
    changed = 0
    case_ids: set[int] = set()
    with transaction.atomic():
        clocks = list(
            Deadline.objects.select_for_update(of=("self",))
            .filter(met_at__isnull=True, is_provisional=True)
            .select_related("rule", "case__center")
            .order_by("id")
        )
        for clock in clocks:
            fields = ["is_provisional"]
            if clock.kind == DeadlineKind.SUPERVISION_ORDER or clock.day_type != DayType.WORKING:
                # the supervisor's own date (or calendar days): nothing to count again
                clock.is_provisional = False
            else:
                length = (clock.rule or rule_for(clock.kind, clock.case.center)).length
                start_day = clock.starts_at.astimezone(CHINA_TZ).date()
                last_day, provisional = add_working_days(start_day, length)
                due_at = datetime.combine(last_day, END_OF_DAY, tzinfo=CHINA_TZ) + timedelta(
                    days=clock.extended_days + clock.paused_days
                )
                clock.is_provisional = provisional
                if due_at != clock.due_at:
                    clock.due_at = due_at
                    fields.append("due_at")
                    level = warning_level_for(due_at, now)
                    if level != WarningLevel.OVERDUE:
                        # as after an extension: no longer overdue, the record starts over
                        clock.warning_level = level
                        clock.overdue_since = None
                        clock.escalation_step = 0
                        fields += ["warning_level", "overdue_since", "escalation_step"]
                    case_ids.add(clock.case_id)
            clock._change_reason = "official calendar entered"  # type: ignore[attr-defined]
            clock.save(update_fields=fields)
            changed += 1
        for case_id in sorted(case_ids):
            refresh_case_next_due(case_id)
    return changed
