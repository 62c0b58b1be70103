"""Issue 13 #15: next year's official holiday schedule. Until it is entered, working days in that
year are provisional; from 1 November administrators see a banner; entering the schedule (from a
file or in the admin) recomputes the provisional clocks."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from clocks.deadlines import CHINA_TZ, open_deadline
from clocks.models import CalendarYear, Deadline, DeadlineKind, Holiday, HolidayKind
from clocks.schedule import missing_next_year, parse_schedule
from conftest import make_user
from core.roles import Role
from petitions.models import Case

# The Spring Festival of 2027 as a notice might set it: 6-12 Feb off, Sat 20 Feb a working day.
SCHEDULE_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-02-06,休,春节
2027-02-07,休,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-12,holiday,春节
2027-02-20,班,春节
"""


@pytest.fixture
def no_2027(reference_data):
    Holiday.objects.filter(date__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()


@pytest.fixture
def schedule_file(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text("\ufeff" + SCHEDULE_2027, encoding="utf-8")
    return path


def bj(*args):
    return datetime(*args, tzinfo=CHINA_TZ)


def test_an_unknown_year_is_provisional_and_counts_holidays_as_working_days(no_2027, case):
    # Fri 5 Feb 2027 + 5 working days on the plain week: Fri 12 Feb (the holiday week)
    objection = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2027, 2, 5, 10))
    assert objection.is_provisional
    assert objection.due_at == bj(2027, 2, 12, 23, 59, 59)


def test_importing_the_schedule_recomputes_the_provisional_clocks(no_2027, case, schedule_file):
    objection = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2027, 2, 5, 10))
    Deadline.objects.filter(pk=objection.pk).update(
        warning_level="overdue", overdue_since=bj(2027, 2, 13)
    )
    screening = open_deadline(case=case, kind=DeadlineKind.SCREENING, start=bj(2027, 2, 1, 10))
    call_command("import_holidays", str(schedule_file))
    assert CalendarYear.objects.filter(year=2027).exists()
    assert Holiday.objects.get(date=date(2027, 2, 20)).kind == HolidayKind.WORKDAY
    objection.refresh_from_db()
    # 15, 16, 17, 18, 19 Feb are the five working days after the holiday
    assert objection.due_at == bj(2027, 2, 19, 23, 59, 59)
    assert not objection.is_provisional
    assert objection.history.first().history_change_reason == "official calendar entered"
    screening.refresh_from_db()
    assert screening.due_at == bj(2027, 2, 16, 23, 59, 59)  # calendar days: unchanged
    assert Case.objects.get(pk=case.pk).next_due_at == screening.due_at


def test_the_admin_entering_the_year_recomputes_too(no_2027, case, superuser_client):
    objection = open_deadline(case=case, kind=DeadlineKind.OBJECTION, start=bj(2027, 2, 5, 10))
    year, rows = parse_schedule(SCHEDULE_2027)
    Holiday.objects.bulk_create([Holiday(date=r.date, kind=r.kind, name=r.name) for r in rows])
    objection.refresh_from_db()
    assert objection.is_provisional  # the days alone do not make the year official
    response = superuser_client.post(
        reverse("admin:clocks_calendaryear_add"), {"year": 2027, "source": "manual"}
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert not objection.is_provisional
    assert objection.due_at == bj(2027, 2, 19, 23, 59, 59)


def test_a_bad_file_enters_nothing_and_says_which_lines(no_2027, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,kind,name\n2027-02-06,holiday,春节\n2027-02-31,holiday,x\n2027-02-09,workday,x\n"
        "2028-01-01,holiday,元旦\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as err:
        call_command("import_holidays", str(path), "--year", "2027")
    message = str(err.value)
    assert "3" in message and "4" in message and "2028-01-01" in message
    assert not Holiday.objects.filter(date__year=2027).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()
    with pytest.raises(ValidationError):
        parse_schedule("date,kind\n")


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 10, 31), None), (date(2026, 11, 1), 2027), (date(2026, 12, 31), 2027)],
)
def test_the_next_year_is_missing_from_november(no_2027, today, expected):
    assert missing_next_year(today) == expected


def test_administrators_see_the_banner_from_november_until_the_year_is_entered(
    no_2027, client, org, schedule_file
):
    admin = make_user("calendar_admin", org.city, [Role.ADMIN])
    clerk = make_user("calendar_clerk", org.city, [Role.RECEPTION])
    url = reverse("supervision:notifications")

    def banner(user, when):
        client.force_login(user)
        with time_machine.travel(when):
            return 'id="calendar-notice"' in client.get(url).content.decode()

    assert not banner(admin, bj(2026, 10, 31, 12))
    assert banner(admin, bj(2026, 11, 1, 9))
    assert not banner(clerk, bj(2026, 11, 1, 9))
    call_command("import_holidays", str(schedule_file))
    assert not banner(admin, bj(2026, 11, 2, 9))
