"""The front desk keeps the data right (issues 12 #1-2, 13 #2, #5, #6, #9): group visits do not
blank a file, the same matter is not registered twice without a reason, another center's file is
not overwritten, a correction has a reason and history, a county case is read-only to the city,
and numbers stay within bounds."""

from __future__ import annotations

import uuid

import pytest

from clocks.models import Notification
from petitions.models import Case, CaseEvent, Petitioner, Visit
from petitions.services import MAX_HEADCOUNT
from petitions.testing import make_petitioner, register, resident_id

from .helpers import new_case_data, representatives, valid_id

pytestmark = pytest.mark.django_db

DESK = "/desk/"


@pytest.fixture
def desk_client(client, cast):
    client.force_login(cast["reception"])
    return client


def person_url(petitioner: Petitioner) -> str:
    return f"{DESK}?petitioner={petitioner.pk}"


def page_text(response) -> str:
    return response.content.decode()


# --- issue 12 #1 ----------------------------------------------------------------------------------


def test_a_group_visit_with_the_main_petitioner_as_representative_keeps_her_sex(desk_client):
    number = valid_id()
    data = new_case_data(
        name="李梅",
        sex="F",
        id_number=number,
        headcount="8",
        **representatives([("李梅", number), ("张强", valid_id())]),
    )
    response = desk_client.post(DESK, data)
    assert response.status_code == 302, page_text(response)
    person = Petitioner.objects.get(name="李梅")
    assert person.sex == "F"
    assert person.address == data["address"] and person.occupation == data["occupation"]
    assert person.phone_masked == "139****2222"
    # no saved version ever had the sex blanked
    assert {h.sex for h in person.history.all()} == {"F"}
    case = Case.objects.get()
    assert case.is_group and case.main_petitioner_id == person.pk


# --- issue 12 #2 ----------------------------------------------------------------------------------


def test_back_and_register_again_warns_of_the_open_case_and_saves_nothing(desk_client, cast):
    person = make_petitioner(cast["reception"])
    data = new_case_data(petitioner=person.pk)
    first = desk_client.post(DESK, data)
    assert first.status_code == 302
    case = Case.objects.get()

    # Back: the page is rendered again with a new key; the browser refills the typed values
    again = desk_client.post(DESK, {**data, "submission_key": str(uuid.uuid4())})

    assert again.status_code == 200
    assert 'data-testid="open-case-warning"' in page_text(again)
    assert case.number in page_text(again)
    assert Case.objects.count() == 1 and Visit.objects.count() == 1
    # the choice: the open case as a repeat visit, or a reason for a new case
    assert f'value="{case.pk}"' in page_text(again)
    assert 'name="new_case_reason"' in page_text(again)


def test_a_person_without_an_id_number_registered_again_is_not_duplicated(desk_client):
    data = new_case_data(id_type="none", id_number="", name="无证人", phone="13612345678")
    assert desk_client.post(DESK, data).status_code == 302
    again = desk_client.post(DESK, {**data, "submission_key": str(uuid.uuid4())})
    assert again.status_code == 200
    assert 'data-testid="open-case-warning"' in page_text(again)
    assert Petitioner.objects.count() == 1 and Case.objects.count() == 1


def test_back_on_a_returning_persons_page_records_nothing_without_a_choice(desk_client, cast):
    person = make_petitioner(cast["reception"])
    data = new_case_data(petitioner=person.pk)
    desk_client.post(DESK, data)
    # the page shown again after Back offers the new open case, and nothing is preselected
    page = desk_client.get(person_url(person))
    assert page.context["form"]["visit_of"].value() is None
    posted = {**data, "submission_key": str(uuid.uuid4())}
    del posted["visit_of"]
    again = desk_client.post(DESK, posted)
    assert again.status_code == 200
    assert "visit_of" in again.context["form"].errors
    assert 'data-testid="open-case-warning"' in page_text(again)
    assert Case.objects.count() == 1 and Visit.objects.count() == 1


def test_after_the_warning_the_clerk_records_a_repeat_visit_or_a_new_case_with_a_reason(
    desk_client, cast
):
    person = make_petitioner(cast["reception"])
    data = new_case_data(petitioner=person.pk)
    desk_client.post(DESK, data)
    case = Case.objects.get()

    repeat = desk_client.post(
        DESK, {**data, "submission_key": str(uuid.uuid4()), "visit_of": str(case.pk)}
    )
    assert repeat.status_code == 302
    assert Case.objects.count() == 1 and Visit.objects.filter(case=case).count() == 2

    new = desk_client.post(
        DESK,
        {**data, "submission_key": str(uuid.uuid4()), "new_case_reason": "同一判决的另一项请求"},
    )
    assert new.status_code == 302, page_text(new)
    assert Case.objects.count() == 2
    created = Case.objects.exclude(pk=case.pk).get()
    event = CaseEvent.objects.get(case=created, kind="registered")
    assert event.data["new_case_reason"] == "同一判决的另一项请求"


def test_another_matter_of_a_person_with_an_open_case_is_registered_without_a_reason(
    desk_client, cast
):
    person = make_petitioner(cast["reception"])
    register(cast["reception"], person, legal_case_number="（2024）冀0102执123号")
    response = desk_client.post(
        DESK, new_case_data(petitioner=person.pk, legal_case_number="（2025）冀01民终9号")
    )
    assert response.status_code == 302, page_text(response)
    assert Case.objects.count() == 2


# --- issue 13 #2 ----------------------------------------------------------------------------------


def test_a_known_id_number_typed_at_another_centers_desk_does_not_overwrite_the_file(client, cast):
    number = resident_id()
    person = make_petitioner(cast["reception"], name="周敏", id_number=number, address="长安区")
    client.force_login(cast["county_reception"])
    response = client.post(
        DESK,
        new_case_data(name="周明", id_number=number, sex="M", address="外县某村"),
        follow=True,
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert (person.name, person.address) == ("周敏", "长安区")
    text = page_text(response)
    assert "周明" in text and "外县某村" in text  # shown as differences on the receipt page
    # what the file lacked may be filled in; what it knew was never replaced
    assert {(h.name, h.address) for h in person.history.all()} == {("周敏", "长安区")}


def test_the_desk_links_to_the_correction_page_which_keeps_the_reason(desk_client, cast):
    person = make_petitioner(cast["reception"], name="吴刚")
    register(cast["reception"], person)
    file_page = desk_client.get(person_url(person))
    url = f"/desk/person/{person.pk}/correct/"
    assert url in page_text(file_page)
    form = desk_client.get(url)
    assert form.status_code == 200 and 'name="reason"' in page_text(form)

    refused = desk_client.post(url, {"name": "吴钢", "sex": "U", "id_type": "resident"})
    assert refused.status_code == 200
    person.refresh_from_db()
    assert person.name == "吴刚"

    saved = desk_client.post(
        url, {"name": "吴钢", "sex": "M", "id_type": "resident", "reason": "姓名录入错误"}
    )
    assert saved.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.sex) == ("吴钢", "M")
    latest = person.history.first()
    assert latest.history_change_reason == "姓名录入错误"
    assert latest.history_user == cast["reception"]
    history = page_text(desk_client.get(url))
    assert "姓名录入错误" in history and "吴刚" in history


def test_another_centers_desk_cannot_correct_the_file(client, cast):
    person = make_petitioner(cast["reception"])
    register(cast["reception"], person)  # visible to the county only through a lookup
    client.force_login(cast["county_reception"])
    client.post(DESK, {"action": "lookup", "lookup-id_number": person.reveal_id_number()})
    url = f"/desk/person/{person.pk}/correct/"
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="not-holder"' in page_text(page)
    response = client.post(url, {"name": "X", "sex": "U", "id_type": "resident", "reason": "r"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.name != "X"


# --- issue 13 #5 ----------------------------------------------------------------------------------


def test_the_city_desk_reports_a_visit_on_a_county_case_to_the_county(desk_client, cast, org):
    county_case = register(cast["county_reception"]).case
    person = county_case.main_petitioner
    page = desk_client.get(person_url(person))
    assert org.county_a.name in page_text(page)  # the choice says where the visit goes

    response = desk_client.post(
        DESK,
        {
            **new_case_data(petitioner=person.pk, visit_notes="催问进展"),
            "visit_of": str(county_case.pk),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Visit.objects.filter(case=county_case).count() == 1
    county_case.refresh_from_db()
    assert county_case.visit_count == 1 and county_case.version == 1
    rows = Notification.objects.filter(case=county_case, audience_center=org.county_a)
    assert {n.audience_role for n in rows} == {"reception", "triage"}
    assert org.county_a.name in page_text(response)


# --- issue 13 #6, #9 ------------------------------------------------------------------------------


@pytest.mark.parametrize("headcount", ["2147483648", str(MAX_HEADCOUNT + 1), "0"])
def test_headcount_out_of_bounds_is_a_form_error(desk_client, headcount):
    response = desk_client.post(DESK, new_case_data(headcount=headcount))
    assert response.status_code == 200
    assert "headcount" in response.context["form"].errors
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_headcount_out_of_bounds_at_a_repeat_visit_is_a_form_error(desk_client, cast):
    case = register(cast["reception"]).case
    response = desk_client.post(
        DESK,
        {
            **new_case_data(petitioner=case.main_petitioner_id, headcount="2147483648"),
            "visit_of": str(case.pk),
        },
    )
    assert response.status_code == 200
    assert "headcount" in response.context["form"].errors
    assert Visit.objects.count() == 1


def test_representatives_may_not_outnumber_the_headcount(desk_client):
    data = new_case_data(
        headcount="2",
        **representatives([("甲", valid_id()), ("乙", valid_id()), ("丙", valid_id())]),
    )
    response = desk_client.post(DESK, data)
    assert response.status_code == 200
    assert "headcount" in response.context["form"].errors
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0
