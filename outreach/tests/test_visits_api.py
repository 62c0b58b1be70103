"""下访 / 约访 over the API and through the case page's forms: 201/400/403/404/409, double submit,
kept/missed/cancel, the case card."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from clocks.deadlines import CHINA_TZ
from outreach.models import Outreach, OutreachState
from petitions.models import Case, Visit

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def case(handling_case: Case) -> Case:
    return Case.objects.get(pk=handling_case.pk)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/outreach/"


def test_post_a_home_visit_and_list_it(client, case, cast, people):
    client.force_login(cast["county_police"])
    body = {
        "kind": "home_visit",
        "at": (T0 - timedelta(hours=3)).isoformat(),
        "place": "王家村",
        "place_kind": "village",
        "leader": people["county_leader"].pk,
        "participants": "村干部",
        "notes": "反映执行难",
        "outcome": "已释法",
        "expected_version": case.version,
        "submission_key": "api-1",
    }
    created = client.post(url(case), body, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["kind"], data["state"], data["leader"]["id"], data["outcome"]) == (
        "home_visit",
        "done",
        people["county_leader"].pk,
        "已释法",
    )
    again = client.post(url(case), body, content_type="application/json")
    assert again.json()["id"] == data["id"] and Outreach.objects.count() == 1
    listed = client.get(url(case)).json()
    assert [r["id"] for r in listed] == [data["id"]]


def test_bad_input_stale_and_roles(client, case, cast, people):
    client.force_login(cast["county_police"])
    future = {
        "kind": "home_visit",
        "at": (T0 + timedelta(days=1)).isoformat(),
        "place": "王家村",
        "notes": "x",
        "expected_version": case.version,
    }
    response = client.post(url(case), future, content_type="application/json")
    assert response.status_code == 400 and "at" in response.json()
    stale = {**future, "at": (T0 - timedelta(hours=1)).isoformat(), "expected_version": 1}
    assert client.post(url(case), stale, content_type="application/json").status_code == 409
    ok = {**stale, "expected_version": case.version}
    client.force_login(cast["supervisor"])  # reads the county's case from above, cannot record
    assert client.post(url(case), ok, content_type="application/json").status_code == 403
    client.force_login(people["county_officer_court"])  # no assignment: not theirs to see
    assert client.post(url(case), ok, content_type="application/json").status_code == 404
    client.force_login(people["county_b_supervisor"])
    assert client.get(url(case)).status_code == 404
    assert not Outreach.objects.exists()


def test_appointment_kept_and_missed_over_the_api(client, case, cast, people, clock):
    client.force_login(cast["county_police"])
    body = {
        "kind": "appointment",
        "at": (T0 + timedelta(hours=2)).isoformat(),
        "place": "县中心",
        "leader": people["county_head"].pk,
        "expected_version": case.version,
    }
    first = client.post(url(case), body, content_type="application/json").json()
    second = client.post(
        url(case),
        {**body, "at": (T0 + timedelta(hours=3)).isoformat(), "leader": None},
        content_type="application/json",
    ).json()
    assert (first["state"], second["state"]) == ("scheduled", "scheduled")
    clock.move_to(T0 + timedelta(hours=4))
    kept = client.post(
        f"{url(case)}{first['id']}/kept/",
        {"notes": "当面答复", "expected_version": first["version"]},
        content_type="application/json",
    )
    assert kept.status_code == 200 and kept.json()["state"] == "kept"
    visit = Visit.objects.get(pk=kept.json()["visit"])
    assert visit.received_by_leader == people["county_head"]
    again = client.post(
        f"{url(case)}{first['id']}/kept/",
        {"notes": "x", "expected_version": kept.json()["version"]},
        content_type="application/json",
    )
    assert again.status_code == 409
    missed = client.post(
        f"{url(case)}{second['id']}/missed/", {"reason": "未到"}, content_type="application/json"
    )
    assert missed.status_code == 200 and missed.json()["state"] == "missed"
    empty = client.post(
        f"{url(case)}{second['id']}/cancel/", {"reason": ""}, content_type="application/json"
    )
    assert empty.status_code == 400
    assert (
        client.post(
            f"{url(case)}999999/kept/", {"notes": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_case_page_card_and_its_forms(client, case, cast, people):
    client.force_login(cast["county_police"])
    page = client.get(reverse("petitions:case_detail", args=[case.pk]))
    html = page.content.decode()
    assert (
        'data-testid="outreach-section"' in html
        and 'data-testid="outreach-form-home_visit"' in html
    )
    form = page.context["case_sections"][0].context["parts"]["visits"]["home_form"]
    key = form["submission_key"].value()
    post = {
        "hv-at": (T0 - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "hv-place": "王家村",
        "hv-place_kind": "home",
        "hv-leader": str(people["county_leader"].pk),
        "hv-notes": "反映诉求",
        "hv-expected_version": case.version,
        "hv-submission_key": key,
    }
    target = reverse("outreach:record_outreach", args=[case.pk, "home_visit"])
    first = client.post(target, post)
    assert first.status_code == 302 and first["Location"].endswith("#outreach")
    client.post(target, post)  # a double submit
    assert Outreach.objects.filter(case=case).count() == 1
    shown = client.get(reverse("petitions:case_detail", args=[case.pk])).content.decode()
    assert "王家村" in shown and "住所" in shown
    # the city's supervisor reads the county's case (a center above) without the forms
    client.force_login(cast["supervisor"])
    other = client.get(reverse("petitions:case_detail", args=[case.pk]))
    assert other.status_code == 200
    assert 'data-testid="outreach-section"' in other.content.decode()
    assert 'data-testid="outreach-form-home_visit"' not in other.content.decode()
    refused = client.post(target, {**post, "hv-submission_key": "other"})
    assert refused.status_code == 302
    assert Outreach.objects.filter(case=case).count() == 1


def test_appointment_steps_on_the_page(client, case, cast):
    client.force_login(cast["county_police"])
    target = reverse("outreach:record_outreach", args=[case.pk, "appointment"])
    client.post(
        target,
        {
            "ap-at": (T0 + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "ap-place": "县中心",
            "ap-place_kind": "center",
            "ap-leader": "",
            "ap-notes": "",
            "ap-expected_version": case.version,
            "ap-submission_key": "k",
        },
    )
    row = Outreach.objects.get(case=case)
    cancel = reverse("outreach:appointment_step", args=[case.pk, row.pk, "cancel"])
    stale = client.post(cancel, {"text": "改期", "expected_version": row.version + 5})
    assert stale.status_code == 302
    row.refresh_from_db()
    assert row.state == OutreachState.SCHEDULED
    client.post(cancel, {"text": "改期", "expected_version": row.version})
    row.refresh_from_db()
    assert row.state == OutreachState.CANCELLED
