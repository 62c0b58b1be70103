"""Leaders' reception days (领导接访日): the office's schedule (roles, leader of that center,
duplicates 409, past days, history), the API, the schedule page, the public notice on the
status page and the 公告 (no personal data), the desk's banner and its "received in person by
the leader" on the visit created."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from clocks.deadlines import CHINA_TZ
from clocks.models import Notification
from core.errors import DomainError, PermissionDenied
from intake.models import LeaderDuty
from intake.tests.helpers import new_case_data
from outreach.services.reception_days import (
    cancel_reception_day,
    schedule_reception_day,
    update_reception_day,
)
from petitions.models import Case, Visit
from petitions.testing import make_petitioner, register

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)
TODAY = T0.date()


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _day(actor, center, leader, day=TODAY, **kw):
    args: dict[str, Any] = {
        "starts_at": time(9, 0),
        "ends_at": time(11, 30),
        "place": "一楼接待大厅",
        "subject": "涉法涉诉信访",
    }
    args.update(kw)
    return schedule_reception_day(actor=actor, center=center, leader=leader, date=day, **args)


# --- services -----------------------------------------------------------------------------------


def test_the_office_schedules_a_leader_of_its_center(org, cast):
    duty = _day(cast["supervisor"], org.city, cast["leader"], TODAY + timedelta(days=3))
    assert (duty.center, duty.leader, duty.place) == (org.city, cast["leader"], "一楼接待大厅")
    assert duty.history.get().history_user == cast["supervisor"]
    assert Notification.objects.filter(recipient=cast["leader"]).count() == 1


def test_a_department_head_may_receive(org, cast):
    duty = _day(cast["supervisor"], org.city, cast["head"])
    assert duty.leader == cast["head"]


def test_only_the_centers_office_schedules(org, cast, people):
    for actor in (cast["reception"], cast["leader"], people["county_supervisor"], cast["outsider"]):
        with pytest.raises(PermissionDenied):
            _day(actor, org.city, cast["leader"])
    assert not LeaderDuty.objects.exists()


def test_the_leader_must_be_a_leader_or_head_of_that_center(org, cast, people):
    for wrong in (people["county_leader"], cast["police"], cast["supervisor"]):
        with pytest.raises(ValidationError) as exc:
            _day(cast["supervisor"], org.city, wrong)
        assert "leader" in exc.value.message_dict


def test_the_same_leader_twice_on_a_day_is_a_conflict(org, cast):
    _day(cast["supervisor"], org.city, cast["leader"])
    with pytest.raises(DomainError) as exc:
        _day(cast["admin"], org.city, cast["leader"], starts_at=time(14, 0), ends_at=time(16, 0))
    assert exc.value.code == "duplicate"
    _day(cast["supervisor"], org.city, cast["head"])  # another leader the same day is fine
    assert LeaderDuty.objects.count() == 2


def test_times_in_order_and_no_past_day(org, cast):
    with pytest.raises(ValidationError) as exc:
        _day(cast["supervisor"], org.city, cast["leader"], starts_at=time(11), ends_at=time(9))
    assert "ends_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _day(cast["supervisor"], org.city, cast["leader"], TODAY - timedelta(days=1))
    assert "date" in exc.value.message_dict


def test_update_and_cancel_keep_history(org, cast):
    duty = _day(cast["supervisor"], org.city, cast["leader"], TODAY + timedelta(days=1))
    update_reception_day(
        actor=cast["admin"],
        duty=duty,
        leader=cast["head"],
        date=TODAY + timedelta(days=2),
        starts_at=time(14),
        ends_at=time(17),
        place="二楼",
        subject="",
    )
    duty.refresh_from_db()
    assert (duty.leader, duty.date, duty.place) == (cast["head"], TODAY + timedelta(days=2), "二楼")
    cancel_reception_day(actor=cast["supervisor"], duty=duty)
    assert not LeaderDuty.objects.exists()
    kinds = [h.history_type for h in LeaderDuty.history.order_by("history_id")]
    assert kinds == ["+", "~", "-"]
    assert LeaderDuty.history.order_by("history_id").last().history_user == cast["supervisor"]


# --- API ---------------------------------------------------------------------------------------------


def test_api_post_and_list(client, org, cast):
    client.force_login(cast["supervisor"])
    body = {
        "center": org.city.pk,
        "leader": cast["leader"].pk,
        "date": f"{TODAY + timedelta(days=5)}",
        "starts_at": "09:00",
        "ends_at": "11:00",
        "place": "接待大厅",
        "subject": "信访接待",
    }
    created = client.post("/api/v1/reception-days/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["leader"]["id"] == cast["leader"].pk
    again = client.post("/api/v1/reception-days/", body, content_type="application/json")
    assert again.status_code == 409
    bad = client.post(
        "/api/v1/reception-days/", {**body, "ends_at": "08:00"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "ends_at" in bad.json()
    listed = client.get(
        f"/api/v1/reception-days/?center={org.city.pk}&from={TODAY}&to={TODAY + timedelta(days=7)}"
    )
    assert [d["place"] for d in listed.json()] == ["接待大厅"]
    assert client.get(f"/api/v1/reception-days/?to={TODAY}").json() == []


def test_api_refuses_other_roles_and_centers(client, org, cast):
    body = {
        "center": org.city.pk,
        "leader": cast["leader"].pk,
        "date": f"{TODAY}",
        "starts_at": "09:00",
        "ends_at": "11:00",
        "place": "接待大厅",
    }
    client.force_login(cast["reception"])
    assert (
        client.post("/api/v1/reception-days/", body, content_type="application/json").status_code
        == 403
    )
    client.force_login(cast["outsider"])
    response = client.post("/api/v1/reception-days/", body, content_type="application/json")
    assert response.status_code == 400 and "center" in response.json()
    assert client.get(f"/api/v1/reception-days/?center={org.city.pk}").status_code == 400


# --- pages -------------------------------------------------------------------------------------------


def test_schedule_page_lists_and_the_office_adds(client, org, cast):
    _day(cast["supervisor"], org.city, cast["leader"])
    url = reverse("outreach:reception_days", args=[org.city.pk])
    client.force_login(cast["supervisor"])
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="reception-day-form"' in page.content.decode()
    response = client.post(
        url,
        {
            "leader": cast["head"].pk,
            "date": f"{TODAY + timedelta(days=1)}",
            "starts_at": "14:00",
            "ends_at": "16:00",
            "place": "二楼",
            "subject": "",
        },
    )
    assert response.status_code == 302
    assert LeaderDuty.objects.count() == 2
    # the same again: a conflict shown on the form
    again = client.post(
        url,
        {
            "leader": cast["head"].pk,
            "date": f"{TODAY + timedelta(days=1)}",
            "starts_at": "14:00",
            "ends_at": "16:00",
            "place": "二楼",
        },
    )
    assert again.status_code == 409
    client.force_login(cast["leader"])
    read_only = client.get(url)
    assert read_only.status_code == 200
    assert 'data-testid="reception-day-form"' not in read_only.content.decode()
    assert client.post(url, {}).status_code == 403
    client.force_login(cast["outsider"])
    assert client.get(url).status_code == 404


def test_public_notice_shows_the_schedule_without_personal_data(client, org, cast):
    cast["leader"].first_name, cast["leader"].last_name = "", ""
    cast["leader"].email = "leader@example.org"
    cast["leader"].save()
    cast["head"].first_name = "远期处长"
    cast["head"].save()
    _day(cast["supervisor"], org.city, cast["leader"], TODAY + timedelta(days=2))
    _day(cast["supervisor"], org.city, cast["head"], TODAY + timedelta(days=40))  # beyond 30 days
    page = client.get(reverse("intake:status")).content.decode()
    assert 'data-testid="public-reception-days"' in page
    assert "一楼接待大厅" in page and cast["leader"].username in page
    assert "远期处长" not in page
    assert "leader@example.org" not in page
    assert f"/admin/core/user/{cast['leader'].pk}" not in page


def test_notice_print_page_and_pdf(client, org, cast):
    _day(cast["supervisor"], org.city, cast["leader"], TODAY + timedelta(days=2))
    client.force_login(cast["reception"])
    page = client.get(reverse("outreach:reception_notice", args=[org.city.pk, 2026, 3]))
    assert page.status_code == 200 and "一楼接待大厅" in page.content.decode()
    pdf = client.get(reverse("outreach:reception_notice_pdf", args=[org.city.pk, 2026, 3]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert (
        client.get(reverse("outreach:reception_notice", args=[org.city.pk, 2026, 13])).status_code
        == 404
    )


# --- the desk ----------------------------------------------------------------------------------------


def test_desk_banner_lists_todays_leaders_with_time_and_place(client, org, cast):
    _day(cast["supervisor"], org.city, cast["head"], starts_at=time(14), ends_at=time(16))
    _day(cast["supervisor"], org.city, cast["leader"])
    client.force_login(cast["reception"])
    response = client.get("/desk/?new=1")
    banner = response.content.decode().split('data-testid="leader-on-duty"')[1].split("</p>")[0]
    assert banner.index(str(cast["leader"])) < banner.index(str(cast["head"]))
    assert "09:00–11:30" in banner and "14:00–16:00" in banner and "一楼接待大厅" in banner
    form = response.context["form"]
    assert [c[0] for c in form.fields["received_by_leader"].choices] == [
        "",
        str(cast["leader"].pk),
        str(cast["head"].pk),
    ]


def test_desk_marks_a_new_case_visit_received_by_the_leader(client, org, cast):
    _day(cast["supervisor"], org.city, cast["leader"])
    client.force_login(cast["reception"])
    response = client.post("/desk/", new_case_data(received_by_leader=cast["leader"].pk))
    assert response.status_code == 302, response.context["form"].errors
    visit = Visit.objects.get()
    assert visit.received_by_leader == cast["leader"]


def test_desk_marks_a_repeat_visit_and_refuses_a_leader_not_on_duty(client, org, cast):
    _day(cast["supervisor"], org.city, cast["leader"])
    person = make_petitioner(cast["reception"], name="周九")
    case = register(cast["reception"], person).case
    client.force_login(cast["reception"])
    data = new_case_data(
        petitioner=person.pk, visit_of=str(case.pk), request="", name=None, id_number=None
    )
    refused = client.post("/desk/", {**data, "received_by_leader": cast["head"].pk})
    assert refused.status_code == 200
    assert "received_by_leader" in refused.context["form"].errors
    done = client.post("/desk/", {**data, "received_by_leader": cast["leader"].pk})
    assert done.status_code == 302, (
        done.context["form"].errors,
        [str(m) for m in done.context["messages"]],
    )
    repeat = Visit.objects.filter(case=case, is_repeat=True).get()
    assert repeat.received_by_leader == cast["leader"]
    assert Case.objects.get(pk=case.pk).visit_count == 2


def test_no_choice_on_a_day_without_reception(client, cast):
    client.force_login(cast["reception"])
    response = client.get("/desk/?new=1")
    assert "received_by_leader" not in response.context["form"].fields
    assert date(2026, 3, 2) == TODAY
