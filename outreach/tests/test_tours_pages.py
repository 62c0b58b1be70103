"""带案巡视 pages: list, plan form, the tour page's forms, the report page and PDF, scoping."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from outreach.models import Tour, TourCase, TourState
from outreach.services import tours as svc
from outreach.tests.conftest import NOW
from petitions.models import Visit
from supervision.models import SupervisionOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(settings) -> Any:
    settings.LANGUAGE_CODE = "zh-hans"
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def login(client, user):
    client.logout()
    client.force_login(user)
    return client


@pytest.fixture
def tour(org, cast, handling_case) -> Tour:
    return svc.plan_tour(
        actor=cast["supervisor"],
        title="甲县带案巡视",
        target_center=org.county_a,
        starts_on=date(2026, 2, 9),
        ends_on=date(2026, 2, 13),
        leader=cast["leader"],
        members=[cast["supervisor"]],
        cases=[handling_case],
    )


def test_plan_form_creates_a_tour(client, org, cast, handling_case):
    login(client, cast["supervisor"])
    page = client.get(reverse("outreach:tour_plan"))
    assert page.status_code == 200
    key = page.context["form"].initial["submission_key"]
    data = {
        "title": "",
        "target_center": org.county_a.pk,
        "starts_on": "2026-02-09",
        "ends_on": "2026-02-13",
        "leader": cast["leader"].pk,
        "members": [cast["supervisor"].pk],
        "case_numbers": f"{handling_case.number}\n",
        "submission_key": key,
    }
    response = client.post(reverse("outreach:tour_plan"), data)
    assert response.status_code == 302
    tour = Tour.objects.get()
    assert tour.title == "甲县中心带案巡视"
    assert response["Location"] == reverse("outreach:tour", args=[tour.pk])
    again = client.post(reverse("outreach:tour_plan"), data)  # a double submit
    assert again.status_code == 302
    assert Tour.objects.count() == 1


def test_plan_form_errors_in_chinese(client, org, cast, handling_case):
    login(client, cast["supervisor"])
    response = client.post(
        reverse("outreach:tour_plan"),
        {
            "target_center": org.county_a.pk,
            "starts_on": "2026-02-13",
            "ends_on": "2026-02-09",
            "leader": cast["leader"].pk,
            "case_numbers": "C999",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["case_numbers"] == ["没有该案件：C999"]
    response = client.post(
        reverse("outreach:tour_plan"),
        {
            "target_center": org.county_a.pk,
            "starts_on": "2026-02-13",
            "ends_on": "2026-02-09",
            "leader": cast["leader"].pk,
            "case_numbers": handling_case.number,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == ["巡视结束日期不能早于开始日期。"]
    assert Tour.objects.count() == 0


def test_who_sees_the_plan_form(client, cast, people):
    assert login(client, cast["police"]).get(reverse("outreach:tour_plan")).status_code == 403
    # a county has no center below: nothing to tour
    assert (
        login(client, people["county_supervisor"]).get(reverse("outreach:tour_plan")).status_code
        == 403
    )


def test_list_and_scoping(client, cast, people, tour):
    page = login(client, people["county_supervisor"]).get(reverse("outreach:tours"))
    assert page.status_code == 200
    assert [r["tour"].pk for r in page.context["rows"]] == [tour.pk]
    assert (
        login(client, people["county_b_supervisor"]).get(reverse("outreach:tours")).context["rows"]
        == []
    )
    assert client.get(reverse("outreach:tour", args=[tour.pk])).status_code == 404
    assert client.get(reverse("outreach:tour_report_pdf", args=[tour.pk])).status_code == 404
    # the county reads the tour, without the forms
    page = login(client, people["county_supervisor"]).get(reverse("outreach:tour", args=[tour.pk]))
    assert page.status_code == 200
    assert page.context["reception_form"] is None and page.context["report_form"] is None


def test_tour_page_forms(client, org, cast, tour, handling_case):
    login(client, cast["supervisor"])
    page = client.get(reverse("outreach:tour", args=[tour.pk]))
    assert page.status_code == 200
    assert "甲县带案巡视" in page.content.decode()
    response = client.post(
        reverse("outreach:tour_reception", args=[tour.pk]),
        {
            "case": handling_case.pk,
            "at": "2026-02-10T08:30",
            "headcount": 1,
            "notes": "反映执行款未到位",
            "expected_version": handling_case.version,
            "submission_key": "abc",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = Visit.objects.get(case=handling_case, received_by_leader__isnull=False)
    assert visit.received_by_leader == cast["leader"]
    bad = client.post(
        reverse("outreach:tour_reception", args=[tour.pk]),
        {"case": handling_case.pk, "at": "2026-02-10T08:30", "headcount": 1, "notes": ""},
    )
    assert bad.status_code == 400
    assert bad.context["reception_form"].errors["notes"] == ["请填写信访人反映的问题及答复情况。"]
    prefix = f"f{handling_case.pk}"
    response = client.post(
        reverse("outreach:tour_finding", args=[tour.pk, handling_case.pk]),
        {
            f"{prefix}-findings": "执行款部分到位",
            f"{prefix}-instruction": "限期报结",
            f"{prefix}-instruction_due": "2026-03-12",
            f"{prefix}-expected_version": 1,
        },
    )
    assert response.status_code == 302
    assert TourCase.objects.get(tour=tour).order == SupervisionOrder.objects.get()
    stale = client.post(
        reverse("outreach:tour_finding", args=[tour.pk, handling_case.pk]),
        {f"{prefix}-findings": "改", f"{prefix}-expected_version": 1},
    )
    assert stale.status_code == 409
    tour.refresh_from_db()
    response = client.post(
        reverse("outreach:tour_report", args=[tour.pk]),
        {"summary": "发现问题一件。", "expected_version": tour.version},
    )
    assert response.status_code == 302
    tour.refresh_from_db()
    assert tour.state == TourState.REPORTED
    report = client.get(reverse("outreach:tour_report", args=[tour.pk]))
    assert report.status_code == 200
    assert report.context["report"].live is True
    assert "限期报结" in report.content.decode()
    pdf = client.get(reverse("outreach:tour_report_pdf", args=[tour.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_case_panel_lists_the_tour(cast, people, tour, handling_case):
    """The tours part of the case page's outreach card (outreach.case_panel includes it)."""
    from django.template.loader import render_to_string

    from outreach.selectors_tours import case_panel_context

    context = case_panel_context(cast["supervisor"], handling_case, None)
    assert context == {"tours": [tour]}
    html = render_to_string("outreach/tours/_case_panel.html", {"outreach": {"tours": context}})
    assert reverse("outreach:tour", args=[tour.pk]) in html
    assert case_panel_context(people["county_b_supervisor"], handling_case, None) == {"tours": []}
