"""Indicators against the hand-computed fixture (reports/tests/conftest.py), and their scoping."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.filters import parse_filters
from reports.indicators import INDICATOR_CODES, compute

from .conftest import EXPECTED, EXPECTED_COUNTS, NOW, PERIOD, build_scenario

pytestmark = pytest.mark.django_db


def report_for(user, **params):
    filters, form = parse_filters({**PERIOD, **params}, user=user)
    assert filters is not None, form.errors
    return compute(filters, now=NOW)


def pairs(report):
    return {i.code: (i.numerator, i.denominator) for i in report.indicators}


def test_indicators_match_the_hand_computed_values(scenario, cast):
    report = report_for(cast["supervisor"])
    assert pairs(report) == EXPECTED
    assert report.counts == EXPECTED_COUNTS
    values = report.by_code()
    assert values["timely_acceptance"].value == 0.75
    assert values["timely_acceptance"].display == "75.0%"
    assert tuple(i.code for i in report.indicators) == INDICATOR_CODES


def test_every_indicator_states_its_definition(scenario, cast):
    for item in report_for(cast["supervisor"]).as_dict()["indicators"]:
        assert item["label"] and item["definition"]
        assert set(item) == {"code", "label", "numerator", "denominator", "value", "definition"}


def test_a_transferred_case_counts_once_where_it_is_held(scenario, cast, org):
    whole = report_for(cast["supervisor"])
    own_level = report_for(cast["supervisor"], center=str(org.city.pk), subtree="0")
    county = report_for(cast["supervisor"], center=str(org.county_a.pk))
    assert whole.counts["cases"] == 13
    assert own_level.counts["cases"] == 12  # c6 is held by county A now
    assert county.counts["cases"] == 1
    assert own_level.counts["transfers"] == 1  # the city made the transfer
    assert county.counts["transfers"] == 0
    assert whole.counts["visits"] == own_level.counts["visits"] + county.counts["visits"]


def test_department_filter_and_zero_denominator(scenario, cast):
    police = report_for(cast["supervisor"], department=str(scenario.police.pk))
    assert pairs(police)["timely_acceptance"] == (3, 4)
    assert pairs(police)["on_time_completion"] == (2, 3)
    court = report_for(cast["supervisor"], department=str(scenario.court.pk))
    # c16's returned court assignment does not make it the court's case
    assert pairs(court)["timely_acceptance"] == (0, 0)
    value = court.by_code()["timely_acceptance"]
    assert value.value is None and value.display == "—"
    assert court.as_dict()["indicators"][0]["value"] is None


def test_an_extended_deadline_met_before_the_new_date_is_on_time(scenario, cast):
    from clocks.models import Deadline

    from .conftest import at

    # the same case without its extension: due 10 March, met 28 March, late
    c4 = scenario.cases["c4"]
    Deadline.objects.filter(case=c4, kind="handling").update(extended_days=0, due_at=at(3, 10))
    assert pairs(report_for(cast["supervisor"]))["on_time_completion"] == (1, 3)


def test_a_review_that_reversed_the_decision_counts_the_new_reply_only(scenario, cast):
    # without the superseding reply, c7's dissatisfied first evaluation would count in February
    feb = report_for(cast["supervisor"], **{"from": "2026-02-01", "to": "2026-02-28"})
    assert pairs(feb)["satisfaction"] == (0, 0)


def test_terminated_cases_are_left_out(scenario, cast):
    from petitions.models import Case

    before = report_for(cast["supervisor"])
    Case.objects.filter(pk=scenario.cases["c12"].pk).update(state="terminated")
    after = report_for(cast["supervisor"])
    assert pairs(after)["first_time_resolution"] == (1, 2)
    assert pairs(after)["cessation"] == (1, 2)
    assert after.counts["overdue"] == before.counts["overdue"]


def test_law_related_cases_counted_apart(scenario, cast):
    from petitions.models import Case

    Case.objects.filter(pk__in=[scenario.cases["c1"].pk, scenario.cases["c2"].pk]).update(
        is_law_related=False
    )
    law = report_for(cast["supervisor"], law_related="1")
    other = report_for(cast["supervisor"], law_related="0")
    assert law.counts["cases"] + other.counts["cases"] == 13
    assert other.counts["cases"] == 2
    assert pairs(other)["timely_acceptance"] == (1, 2)


def test_a_county_supervisor_sees_only_its_subtree(scenario, county_supervisor, org):
    report = report_for(county_supervisor)
    assert report.filters.center_ids == (org.county_a.pk,)
    assert report.counts["cases"] == 1


def test_query_count_does_not_grow_with_the_data(org, cast):
    filters, _ = parse_filters(PERIOD, user=cast["supervisor"])
    with CaptureQueriesContext(connection) as empty:
        compute(filters, now=NOW)
    build_scenario(org, cast)
    build_scenario(org, cast)
    with CaptureQueriesContext(connection) as full:
        report = compute(filters, now=NOW)
    assert report.counts["cases"] == 26
    assert len(full) == len(empty) <= 10  # nine aggregates and the counters check
