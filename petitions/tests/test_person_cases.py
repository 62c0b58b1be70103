"""A person's visible cases, ids first then rows (petitions.selectors.person_cases_for, issue 10):
the same cases in the same order as the case list filtered by the person, under every scope,
in a number of queries that does not grow with the person's cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import DepartmentKind
from petitions.selectors import case_list_for, person_cases_for
from petitions.testing import make_petitioner, register
from routing.services import DepartmentDue, assign_case

pytestmark = pytest.mark.django_db

VIEWERS = (
    "reception",
    "supervisor",
    "province_supervisor",
    "county_reception",
    "police",
    "court",
    "outsider",
)


def reference(user, petitioner, limit=50):
    return list(
        case_list_for(user)
        .filter(case_petitioners__petitioner=petitioner)
        .order_by("-registered_at", "-pk")[:limit]
    )


@pytest.fixture
def person(org, cast):
    """One person with cases at the city (one assigned to the police), at a county, and a
    case of somebody else at the city."""
    petitioner = make_petitioner(cast["reception"])
    city_cases = [register(cast["reception"], petitioner).case for _ in range(2)]
    register(cast["county_reception"], petitioner)
    register(cast["reception"], make_petitioner(cast["reception"], name="李四"))
    assign_case(
        actor=cast["triage"],
        case=city_cases[0],
        lead=DepartmentDue(
            org.dept(org.city, DepartmentKind.POLICE), timezone.now() + timedelta(days=30)
        ),
    )
    return petitioner


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_same_cases_as_the_filtered_case_list(person, cast, viewer):
    user = cast[viewer]
    got = person_cases_for(user, person)
    assert got == reference(user, person)


def test_scoping_is_that_of_the_case_list(person, cast, org):
    centers = {v: {c.center_id for c in person_cases_for(cast[v], person)} for v in VIEWERS}
    assert centers["supervisor"] == {org.city.pk, org.county_a.pk}  # own and subordinates
    assert centers["county_reception"] == {org.county_a.pk}
    assert len(person_cases_for(cast["police"], person)) == 1  # only what is assigned to it
    assert person_cases_for(cast["court"], person) == []
    assert person_cases_for(cast["outsider"], person) == []


def test_newest_first_and_limited(person, cast):
    got = person_cases_for(cast["supervisor"], person, limit=2)
    assert got == reference(cast["supervisor"], person, limit=2)
    assert len(got) == 2


def test_query_count_does_not_grow_with_the_cases(org, cast, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = make_petitioner(cast["reception"], name="王五")
    register(cast["reception"], one)
    many = make_petitioner(cast["reception"], name="赵六")
    for _ in range(4):
        register(cast["reception"], many)
    person_cases_for(cast["supervisor"], one)  # the user's roles are read once, then kept
    with CaptureQueriesContext(connection) as first:
        cases = person_cases_for(cast["supervisor"], one)
        [(c.center.name, c.channel, c.category, c.main_petitioner.name) for c in cases]
    with django_assert_num_queries(len(first.captured_queries)):
        cases = person_cases_for(cast["supervisor"], many)
        [(c.center.name, c.channel, c.category, c.main_petitioner.name) for c in cases]
    assert len(cases) == 4
