"""Bulk demo data (demo.cases through ``manage.py seed_demo --cases N``)."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.models import Count, Max
from django.utils import timezone

from appeals.models import Finality, ReviewRequest
from core import pii
from core.models import Center, User
from core.reference_data import ensure_reference_data
from demo.cases import REGIONS, _Table, demo_query_code
from demo.organisation import DEMO_CENTER
from petitions.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePetitioner,
    IdType,
    Petitioner,
    PetitionerRole,
    Visit,
)
from petitions.services import check_query_code
from petitions.states import CaseState
from petitions.testing import register
from petitions.validation import region_is_known, validate_resident_id

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
# A fixed "now" so that the two-year timeline (and so every case number) is the same on every run.
NOW = datetime(2026, 6, 16, 15, 30, tzinfo=BEIJING)
HistoricalCase = Case.history.model


@pytest.fixture(autouse=True)
def reference_data(db: None) -> None:
    # Code tables and deadline rules come from data migrations, which a flushing test removes.
    ensure_reference_data()


def seed(cases: int = 200, seed: int = 7) -> str:
    """The bulk cases only: demo.worklist's cases (tested in test_worklist.py) would add people
    and cases outside the counts and the determinism these tests check."""
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "seed_demo",
            cases=cases,
            seed=seed,
            batch=64,
            no_worklist=True,
            no_campaigns=True,
            stdout=out,
        )
    return out.getvalue()


def snapshot() -> list[tuple[str, str, str, str]]:
    return [
        (c.number, c.state, c.main_petitioner.name, pii.decrypt(c.main_petitioner.id_number_enc))
        for c in Case.objects.select_related("main_petitioner").order_by("number")
    ]


def wipe_generated_cases() -> None:
    """Back to a database with the organisation and users but no cases (as after migrate)."""
    # The appeals records hold their subjects (reply, review, termination) with PROTECT: the
    # final record, then re-reviews, then reviews, before the cases cascade the rest.
    Finality.objects.all().delete()
    ReviewRequest.objects.filter(kind="re_review").delete()
    ReviewRequest.objects.all().delete()
    Case.objects.all().delete()
    HistoricalCase.objects.all().delete()
    Petitioner.objects.all().delete()
    CaseNumberCounter.objects.all().delete()


def test_seed_demo_creates_the_requested_number_of_cases_with_unique_numbers():
    output = seed()
    cases = list(Case.objects.select_related("center"))
    assert len(cases) == 200
    assert "Generated 200 demo cases." in output
    assert len({c.number for c in cases}) == 200
    for case in cases:
        day = timezone.localdate(case.registered_at)
        assert re.fullmatch(rf"{case.center.region_code}{day:%Y%m%d}\d{{5}}", case.number)
        assert case.registered_at <= NOW


def test_generated_cases_span_the_life_cycle_mostly_finished():
    seed()
    states = Counter(Case.objects.values_list("state", flat=True))
    assert len(states) >= 6, states
    finished = sum(states[s] for s in (CaseState.CLOSED, CaseState.ARCHIVED))
    assert finished > 200 / 2, states
    open_cases = Case.objects.filter(state__in=CaseState.open_states())
    assert open_cases.exists()
    # every open case has its next deadline, except where only the petitioner's window to ask
    # for review runs (a right, not the center's deadline); closed ones have none
    assert not open_cases.exclude(state=CaseState.REPLIED).filter(next_due_at=None).exists()
    assert (
        not Case.objects.exclude(state__in=CaseState.open_states())
        .exclude(next_due_at=None)
        .exists()
    )
    assert not Case.objects.filter(
        state__in=[CaseState.CLOSED, CaseState.TERMINATED], closed_at=None
    ).exists()


def test_generated_petitioners_have_valid_protected_resident_id_numbers():
    seed()
    residents = list(Petitioner.objects.filter(id_type=IdType.RESIDENT).order_by("pk")[:60])
    assert len(residents) == 60
    for person in residents:
        number = person.reveal_id_number()
        assert validate_resident_id(number) == number
        assert person.id_number_hash == pii.blind_index(number)
        assert person.id_number_masked == pii.mask_id(number)
        assert number not in person.id_number_enc
        phone = person.reveal_phone()
        assert phone == "" or person.phone_hash == pii.blind_index(phone)


def test_some_people_come_back_with_another_matter_and_each_has_one_file():
    seed()
    assert Petitioner.objects.count() < Case.objects.count() * 1.2
    repeat_people = (
        Case.objects.values("main_petitioner").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    assert repeat_people > 0
    numbered = Petitioner.objects.exclude(id_number_hash="")
    assert numbered.values("id_type", "id_number_hash").distinct().count() == numbered.count()


def test_group_visits_name_representatives_and_repeat_visits_have_visit_rows():
    seed()
    groups = Case.objects.filter(is_group=True)
    assert groups.exists()
    for case in groups:
        assert case.headcount >= 5
        reps = case.case_petitioners.filter(role=PetitionerRole.REPRESENTATIVE).count()
        assert 1 <= reps <= 5
    assert CasePetitioner.objects.filter(role=PetitionerRole.MAIN).count() == 200
    repeated = Case.objects.filter(visit_count__gt=1)
    assert repeated.exists()
    for case in Case.objects.annotate(n=Count("visits")):
        assert case.n == case.visit_count
    assert Visit.objects.filter(is_repeat=True).count() == sum(c.visit_count - 1 for c in repeated)


def test_each_case_has_one_creation_history_row_by_its_registering_user():
    seed()
    rows = HistoricalCase.objects.all()
    assert rows.count() == 200
    assert rows.values("id").distinct().count() == 200
    registered_by = dict(Case.objects.values_list("pk", "registered_by_id"))
    for row in rows:
        assert row.history_type == "+"
        assert row.history_user_id == registered_by[row.id]
        assert row.state == CaseState.REGISTERED


def test_each_case_has_its_registration_event_by_the_registering_user():
    seed()
    events = CaseEvent.objects.filter(kind="registered")
    assert events.count() == 200
    for event in events.select_related("case"):
        assert event.actor_id == event.case.registered_by_id
        assert event.at == event.case.registered_at


def test_demo_query_codes_open_their_cases():
    seed()
    case = Case.objects.order_by("pk").first()
    assert case is not None
    assert check_query_code(case, demo_query_code(7, case.number))
    assert not check_query_code(case, demo_query_code(8, case.number))


def test_counters_end_at_the_highest_serial_used_per_center_and_day():
    seed()
    highest: dict[tuple[int, str], int] = {}
    for center_id, number in Case.objects.values_list("center_id", "number"):
        key = (center_id, number[6:14])
        highest[key] = max(highest.get(key, 0), int(number[14:]))
    counters = {(c.center_id, f"{c.day:%Y%m%d}"): c.last for c in CaseNumberCounter.objects.all()}
    assert counters == highest


def test_same_seed_gives_the_same_cases_on_a_fresh_database():
    seed()
    first = snapshot()
    wipe_generated_cases()
    seed()
    assert snapshot() == first
    wipe_generated_cases()
    seed(seed=8)
    assert [name for _n, _s, name, _i in snapshot()] != [name for _n, _s, name, _i in first]


def test_live_intake_after_bulk_generation_gets_a_number_that_does_not_collide():
    seed()
    city = Center.objects.get(region_code=DEMO_CENTER)
    latest = Case.objects.filter(center=city).aggregate(Max("registered_at"))["registered_at__max"]
    day = timezone.localdate(latest)
    bulk_numbers = set(Case.objects.values_list("number", flat=True))
    highest = max(int(n[14:]) for n in bulk_numbers if n.startswith(f"{DEMO_CENTER}{day:%Y%m%d}"))
    reception = User.objects.get(username="reception")
    with time_machine.travel(datetime.combine(day, time(17, 45), tzinfo=BEIJING), tick=False):
        live = register(reception).case
    assert live.number not in bulk_numbers
    assert live.number == f"{DEMO_CENTER}{day:%Y%m%d}{highest + 1:05d}"


def test_adding_more_cases_to_a_filled_database_continues_the_serials():
    seed(cases=50)
    seed(cases=50, seed=8)
    assert Case.objects.count() == 100
    assert Case.objects.values("number").distinct().count() == 100


def test_a_rerun_with_the_same_seed_links_people_already_on_file_instead_of_duplicating():
    seed(cases=50)
    people = Petitioner.objects.count()
    seed(cases=50)
    assert Case.objects.count() == 100
    assert Petitioner.objects.count() == people
    first, second = (
        [c.main_petitioner_id for c in Case.objects.order_by("registered_at", "pk")[i::2]]
        for i in (0, 1)
    )
    assert set(first) == set(second)


def test_demo_regions_are_known_region_codes():
    unknown = [code for code, _city, _county in REGIONS if not region_is_known(code)]
    assert unknown == []


def test_a_column_without_default_that_the_generator_does_not_fill_is_reported():
    with pytest.raises(ImproperlyConfigured, match="petitions.Case"):
        _Table(Case, ["id", "number"], now=NOW)


def test_seed_demo_builds_the_report_counters_and_they_match_the_live_figures():
    """A demo deployment's reports are read from the counters; on the generated data a year
    over the whole province from the counters equals the live computation."""
    from datetime import timedelta

    from core.models import Center
    from reports.counters import compute_with_counters
    from reports.filters import ReportFilters
    from reports.indicators import compute_live
    from reports.models import ReportCounterRun

    output = seed()
    assert "Report counters" in output
    run = ReportCounterRun.objects.get()
    today = NOW.date()
    assert run.built_through == today - timedelta(days=1)
    f = ReportFilters(
        start=today - timedelta(days=364),
        end=today,
        center=None,
        subtree=True,
        center_ids=tuple(Center.objects.values_list("pk", flat=True)),
    )
    with time_machine.travel(NOW, tick=False):
        counted = compute_with_counters(f, NOW)
        live = compute_live(f, now=NOW)
    assert counted is not None
    assert counted.as_dict() == live.as_dict()
    assert sum(counted.counts.values()) > 0
