from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import LeaderDuty
from intake.selectors import CASES_SHOWN
from petitions.models import (
    Attachment,
    Case,
    CaseEvent,
    CasePetitioner,
    Petitioner,
    PetitionerRole,
    Visit,
)
from petitions.services import check_query_code, transition_case
from petitions.states import CaseState
from petitions.testing import make_petitioner, register
from petitions.validation import MAX_ATTACHMENT_BYTES

from .helpers import kept_code, new_case_data, representatives, valid_id

pytestmark = pytest.mark.django_db

DESK = "/desk/"


@pytest.fixture
def desk_client(client, cast):
    client.force_login(cast["reception"])
    return client


def person_url(petitioner: Petitioner) -> str:
    return f"{DESK}?petitioner={petitioner.pk}"


# --- access ---------------------------------------------------------------------------------------


def test_desk_url_is_named():
    assert reverse("intake:desk") == DESK


@pytest.mark.parametrize("role", ["police", "head", "supervisor", "leader", "archivist"])
def test_other_roles_get_403_on_the_desk(client, cast, role):
    client.force_login(cast[role])
    assert client.get(DESK).status_code == 403
    assert (
        client.post(DESK, {"action": "lookup", "lookup-id_number": valid_id()}).status_code == 403
    )


@pytest.mark.parametrize("role", ["reception", "triage"])
def test_reception_and_triage_may_use_the_desk(client, cast, role):
    client.force_login(cast[role])
    response = client.get(DESK)
    assert response.status_code == 200
    assert b'name="lookup-id_number"' in response.content


def test_anonymous_is_sent_to_login(client, cast):
    response = client.get(DESK)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- step 1: lookup -------------------------------------------------------------------------------


def test_lookup_by_id_number_opens_the_persons_file_with_masked_numbers(desk_client, cast):
    number = valid_id()
    person = make_petitioner(cast["reception"], name="赵六", id_number=number, phone="13700001234")
    register(cast["reception"], person)

    response = desk_client.post(
        DESK, {"action": "lookup", "lookup-id_number": f" {number.lower()} "}
    )
    assert response.status_code == 302 and response["Location"] == person_url(person)

    page = desk_client.get(response["Location"])
    body = page.content.decode()
    assert "赵六" in body and person.id_number_masked in body and "137****1234" in body
    assert number not in body and "13700001234" not in body


def test_lookup_by_name_and_phone_finds_the_person(desk_client, cast):
    person = make_petitioner(
        cast["reception"], name="钱七", id_number=valid_id(), phone="13600005678"
    )
    response = desk_client.post(
        DESK, {"action": "lookup", "lookup-name": "钱七", "lookup-phone": "136 0000 5678"}
    )
    assert response.status_code == 302 and response["Location"] == person_url(person)


def test_lookup_by_name_needs_the_exact_phone(desk_client, cast):
    make_petitioner(cast["reception"], name="钱七", id_number=valid_id(), phone="13600005678")
    response = desk_client.post(
        DESK,
        {"action": "lookup", "lookup-name": "钱七", "lookup-phone": "13600005679"},
        follow=True,
    )
    assert response.status_code == 200 and response.context["not_found"]
    form = response.context["form"]
    assert (form.initial["name"], form.initial["phone"]) == ("钱七", "13600005679")


def test_unknown_id_number_opens_the_form_for_a_new_person_prefilled(desk_client):
    number = valid_id()
    response = desk_client.post(DESK, {"action": "lookup", "lookup-id_number": number})
    # POST / redirect / GET (issue 17 §4 #1): the answer is a page of its own, the number kept
    # server side, never in the address
    assert response.status_code == 302
    assert response["Location"] == "/desk/?lookup=1" and number not in response["Location"]
    response = desk_client.get(response["Location"])
    assert response.status_code == 200 and response.context["not_found"]
    assert response.context["form"].initial["id_number"] == number
    assert response.context["file"] is None
    assert response.context["history_url"] == ""


def test_the_lookup_answer_finds_a_file_opened_since(desk_client, cast):
    number = valid_id()
    desk_client.post(DESK, {"action": "lookup", "lookup-id_number": number})
    person = make_petitioner(cast["reception"], id_number=number)
    response = desk_client.get("/desk/?lookup=1")
    assert response.status_code == 302
    assert response["Location"] == f"/desk/?petitioner={person.pk}"


def test_several_matches_are_listed_on_a_get_page(desk_client, cast):
    for _ in range(2):
        make_petitioner(cast["reception"], name="周九", id_number=valid_id(), phone="13600001111")
    response = desk_client.post(
        DESK,
        {"action": "lookup", "lookup-name": "周九", "lookup-phone": "13600001111"},
        follow=True,
    )
    assert response.redirect_chain == [("/desk/?lookup=1", 302)]
    assert len(response.context["matches"]) == 2


def test_the_lookup_answer_without_a_lookup_is_the_empty_desk(desk_client):
    response = desk_client.get("/desk/?lookup=1")
    assert response.status_code == 302 and response["Location"] == "/desk/"


def test_a_form_shown_again_after_a_post_names_its_get_address(desk_client):
    """intake.js replaces the POST in the browser's history with this address, so that Back
    after the registration that follows lands on the desk (tests/browser/test_desk_back.py)."""
    response = desk_client.post(DESK, new_case_data(request=""))
    assert response.status_code == 200 and response.context["form"].errors
    assert response.context["history_url"] == "/desk/?new=1"
    assert 'data-history-url="/desk/?new=1"' in response.content.decode()


def test_lookup_without_id_or_name_and_phone_is_an_error(desk_client):
    response = desk_client.post(DESK, {"action": "lookup", "lookup-name": "孙八"})
    assert response.status_code == 200
    assert response.context["lookup"].non_field_errors().as_data()[0].code == "incomplete"
    assert response.context["form"] is None


def test_file_shows_cases_open_highlighted_visits_and_warnings(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    closed = register(reception, person).case
    transition_case(actor=reception, case=closed, name="answer_on_spot", message="已答复")
    open_case = register(reception, person, headcount=6, representatives=[person]).case

    response = desk_client.get(person_url(person))
    file = response.context["file"]
    assert [c.pk for c in file.cases] == [open_case.pk, closed.pk]
    assert [c.pk for c in file.open_cases] == [open_case.pk]
    assert file.total_cases == 2 and file.total_visits == 2
    # warnings are translated (Chinese by default): compare with the message itself
    from django.utils.translation import gettext

    assert gettext("This person is on an open group-visit case.") in file.warnings
    body = response.content.decode()
    assert f'class="is-open" data-testid="case-row" data-case="{open_case.pk}"' in body
    assert f'class="is-done" data-testid="case-row" data-case="{closed.pk}"' in body


def test_file_counts_cases_at_centers_the_user_cannot_see_without_details(desk_client, cast):
    number = valid_id()
    person = make_petitioner(cast["reception"], id_number=number)
    register(cast["reception"], person)
    elsewhere = register(cast["outsider"], person).case

    response = desk_client.get(person_url(person))
    file = response.context["file"]
    assert file.total_cases == 1 and file.hidden_cases == 1
    assert elsewhere.pk not in [c.pk for c in file.cases]
    body = response.content.decode()
    assert 'data-testid="hidden-cases"' in body and elsewhere.number not in body


def test_desk_queries_do_not_depend_on_how_many_cases_a_person_has(
    desk_client, cast, django_assert_num_queries
):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    register(reception, person)
    desk_client.get(person_url(person))  # the process's caches warm (core.codecache, sessions)
    with CaptureQueriesContext(connection) as one_case:
        assert desk_client.get(person_url(person)).status_code == 200

    for _ in range(9):
        register(reception, person)
    with django_assert_num_queries(len(one_case.captured_queries)):
        response = desk_client.get(person_url(person))
    assert len(response.context["file"].cases) == 10


def test_file_lists_the_newest_cases_with_the_total(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    cases = [register(reception, person).case for _ in range(CASES_SHOWN + 1)]

    response = desk_client.get(person_url(person))
    file = response.context["file"]
    assert file.total_cases == CASES_SHOWN + 1 and len(file.cases) == CASES_SHOWN
    assert cases[0].pk not in [c.pk for c in file.cases]
    assert file.cases[0].pk == cases[-1].pk
    assert 'data-testid="more-cases"' in response.content.decode()


def test_unknown_petitioner_id_in_the_url_shows_no_file(desk_client):
    response = desk_client.get(f"{DESK}?petitioner=999999")
    assert response.status_code == 200 and response.context["file"] is None


# --- leader on duty ------------------------------------------------------------------------------


def test_desk_shows_todays_leader_on_duty_for_the_users_center(desk_client, cast, org):
    LeaderDuty.objects.create(
        date=timezone.localdate(), leader=cast["leader"], center=org.city, note="上午"
    )
    response = desk_client.get(DESK)
    assert response.context["duty"].leader == cast["leader"]
    assert "上午" in response.content.decode()


def test_desk_says_none_scheduled_without_a_duty_today(desk_client, cast, org):
    LeaderDuty.objects.create(date=date(2020, 1, 2), leader=cast["leader"], center=org.city)
    response = desk_client.get(DESK)
    assert response.context["duty"] is None


# --- step 2: a new case ---------------------------------------------------------------------------


def test_registering_a_new_person_and_case_writes_every_record(desk_client, cast):
    data = new_case_data()
    response = desk_client.post(DESK, data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:receipt", args=[case.pk])

    person = Petitioner.objects.get()
    assert (person.name, person.sex, person.occupation) == ("王五", "M", "农民")
    assert person.id_number_masked == data["id_number"][:4] + "*" * 10 + data["id_number"][-4:]
    assert person.created_by == cast["reception"]
    assert case.main_petitioner == person and case.registered_by == cast["reception"]
    assert case.center == cast["reception"].center and case.state == CaseState.REGISTERED
    assert (case.channel.code, case.purpose.code, case.category.code, case.organ.code) == (
        "visit",
        "appeal",
        "court.execution",
        "court",
    )
    assert (
        case.problem_region_code == "130102" and case.legal_case_number == "（2024）冀0102执123号"
    )
    assert case.is_law_related and not case.is_major_urgent and case.headcount == 1
    assert case.request == "请求依法执行判决。" and case.facts_reasons == "判决生效一年未执行。"
    assert CasePetitioner.objects.get(case=case).role == PetitionerRole.MAIN
    visit = Visit.objects.get(case=case)
    assert not visit.is_repeat and visit.received_by == cast["reception"]
    assert CaseEvent.objects.get(case=case).kind == "registered"
    assert case.history.get().history_user == cast["reception"]
    assert person.history.get().history_user == cast["reception"]

    code = kept_code(desk_client, cast["reception"], case)
    assert check_query_code(case, code)


def test_new_case_for_a_known_person_keeps_their_file(desk_client, cast):
    person = make_petitioner(cast["reception"], name="周九", id_number=valid_id())
    data = new_case_data(petitioner=person.pk, name=None, id_number=None, phone=None)
    response = desk_client.post(DESK, data)
    assert response.status_code == 302
    assert Petitioner.objects.count() == 1
    assert Case.objects.get().main_petitioner == person


def test_flags_and_headcount_reach_the_case(desk_client):
    data = new_case_data(
        is_law_related=None, is_major_urgent="on", is_safety_risk="on", is_skip_level="on"
    )
    desk_client.post(DESK, data)
    case = Case.objects.get()
    assert not case.is_law_related
    assert case.is_major_urgent and case.is_safety_risk and case.is_skip_level


def test_letters_and_calls_use_the_same_flow(desk_client):
    from petitions.models import Channel

    desk_client.post(DESK, new_case_data(channel=Channel.objects.get(code="letter").pk))
    assert Case.objects.get().channel.code == "letter"
    assert Visit.objects.get().channel.code == "letter"


def test_new_case_requires_purpose_category_and_request(desk_client):
    response = desk_client.post(DESK, new_case_data(purpose="", category="", request="  "))
    errors = response.context["form"].errors.as_data()
    assert {"purpose", "category", "request"} <= set(errors)
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_group_visit_with_representatives_links_them(desk_client):
    reps = [("代表甲", valid_id()), ("代表乙", valid_id())]
    desk_client.post(DESK, {**new_case_data(headcount="12"), **representatives(reps)})
    case = Case.objects.get()
    assert case.is_group and case.headcount == 12
    roles = dict(CasePetitioner.objects.filter(case=case).values_list("petitioner__name", "role"))
    assert roles == {
        "王五": PetitionerRole.MAIN,
        "代表甲": PetitionerRole.REPRESENTATIVE,
        "代表乙": PetitionerRole.REPRESENTATIVE,
    }


def test_six_representatives_are_a_form_error_and_nothing_is_saved(desk_client):
    reps = [(f"代表{i}", valid_id()) for i in range(6)]
    response = desk_client.post(DESK, {**new_case_data(headcount="30"), **representatives(reps)})
    assert response.status_code == 200
    assert [e.code for e in response.context["reps"].non_form_errors().as_data()] == [
        "too_many_forms"
    ]
    assert 'data-testid="reps-errors"' in response.content.decode()
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_group_visit_without_representatives_saves_no_half_person(desk_client):
    # The form is valid; the service refuses the case. The person upserted first must not stay.
    response = desk_client.post(DESK, new_case_data(headcount="8"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def _wrong_check_char(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("id_number", "code"),
    [
        (_wrong_check_char(valid_id()), "checksum"),
        (valid_id(born="19900230"), "birth_date"),
        (valid_id(region="999999"), "region"),
        ("13010219880517", "length"),
    ],
    ids=["check-char", "birth-date", "region", "length"],
)
def test_invalid_id_numbers_are_form_errors(desk_client, id_number, code):
    response = desk_client.post(DESK, new_case_data(id_number=id_number))
    assert response.status_code == 200
    assert [e.code for e in response.context["form"].errors.as_data()["id_number"]] == [code]
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_invalid_representative_id_number_is_a_form_error(desk_client):
    data = {
        **new_case_data(headcount="6"),
        **representatives([("代表", _wrong_check_char(valid_id()))]),
    }
    response = desk_client.post(DESK, data)
    assert response.context["reps"].forms[0].errors.as_data()["id_number"][0].code == "checksum"
    assert Case.objects.count() == 0


def test_unknown_problem_region_code_and_bad_phone_are_form_errors(desk_client):
    response = desk_client.post(DESK, new_case_data(problem_region_code="999999", phone="12ab"))
    errors = response.context["form"].errors.as_data()
    assert errors["problem_region_code"][0].code == "region"
    assert errors["phone"][0].code == "phone"
    assert Case.objects.count() == 0


def test_form_errors_follow_the_users_language(desk_client):
    response = desk_client.post(DESK, new_case_data(request=""), HTTP_ACCEPT_LANGUAGE="en")
    assert "State the request (Art 19)." in response.content.decode()


def test_attachments_are_saved_with_the_case(desk_client):
    files = [
        SimpleUploadedFile("判决书.pdf", b"%PDF-1.4 judgment", content_type="application/pdf"),
        SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", content_type="image/jpeg"),
    ]
    desk_client.post(DESK, {**new_case_data(attachment_kind="judgment"), "attachments": files})
    case = Case.objects.get()
    assert sorted(case.attachments.values_list("original_name", "kind")) == [
        ("photo.jpg", "judgment"),
        ("判决书.pdf", "judgment"),
    ]


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
            "type",
        ),
        (
            SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 disguised", content_type="application/pdf"),
            "executable",
        ),
        (
            SimpleUploadedFile("run.txt", b"#!/bin/sh\nrm -rf /", content_type="text/plain"),
            "executable",
        ),
    ],
    ids=["exe-name", "exe-content", "script"],
)
def test_executable_attachments_are_refused(desk_client, upload, code):
    response = desk_client.post(DESK, {**new_case_data(), "attachments": [upload]})
    assert [e.code for e in response.context["form"].errors.as_data()["attachments"]] == [code]
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0


def test_oversize_attachment_is_refused(desk_client):
    big = SimpleUploadedFile(
        "scan.pdf", b"%PDF" + b"0" * (MAX_ATTACHMENT_BYTES - 3), content_type="application/pdf"
    )
    response = desk_client.post(DESK, {**new_case_data(), "attachments": [big]})
    assert [e.code for e in response.context["form"].errors.as_data()["attachments"]] == ["size"]
    assert Case.objects.count() == 0


def test_script_in_text_is_stored_as_typed_and_escaped_on_output(desk_client):
    script = "<script>alert('x')</script>"
    desk_client.post(DESK, new_case_data(request=f"请求{script}", name=f"王{script}"))
    case = Case.objects.get()
    assert case.request == f"请求{script}" and case.main_petitioner.name == f"王{script}"

    receipt = desk_client.get(reverse("intake:receipt", args=[case.pk])).content.decode()
    assert script not in receipt and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in receipt
    desk = desk_client.get(person_url(case.main_petitioner)).content.decode()
    assert script not in desk and "王&lt;script&gt;" in desk


def test_double_submit_creates_exactly_one_case(desk_client):
    data = new_case_data()
    first = desk_client.post(DESK, data)
    second = desk_client.post(DESK, data)
    case = Case.objects.get()
    assert first["Location"] == second["Location"] == reverse("intake:receipt", args=[case.pk])
    assert Visit.objects.count() == 1 and Petitioner.objects.count() == 1


def test_the_form_carries_a_fresh_submission_key(desk_client):
    keys = {
        desk_client.get(f"{DESK}?new=1").context["form"]["submission_key"].value() for _ in range(2)
    }
    assert len(keys) == 2


def test_answered_on_the_spot_registers_and_closes_in_one_step(desk_client, cast):
    from petitions.models import Purpose

    data = new_case_data(
        purpose=Purpose.objects.get(code="enquiry").pk,
        answered_on_spot="on",
        answer="已告知申请再审的途径和期限。",
    )
    response = desk_client.post(DESK, data)
    case = Case.objects.get()
    assert response["Location"] == reverse("intake:receipt", args=[case.pk])
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    assert case.outcome == "已告知申请再审的途径和期限。"
    assert list(
        CaseEvent.objects.filter(case=case).order_by("at", "pk").values_list("kind", flat=True)
    ) == [
        "registered",
        "answer_on_spot",
    ]


def test_answered_on_the_spot_needs_the_answer(desk_client):
    response = desk_client.post(DESK, new_case_data(answered_on_spot="on", answer=""))
    assert "answer" in response.context["form"].errors
    assert Case.objects.count() == 0


# --- step 2: a repeat visit -----------------------------------------------------------------------


def test_open_cases_are_offered_as_repeat_visits_none_preselected(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    older = register(reception, person).case
    newer = register(reception, person).case
    closed = register(reception, person).case
    transition_case(actor=reception, case=closed, name="answer_on_spot", message="已答复")

    response = desk_client.get(person_url(person))
    form = response.context["form"]
    assert [v for v, _label in form.fields["visit_of"].choices] == [
        str(newer.pk),
        str(older.pk),
        "new",
    ]
    # the clerk chooses explicitly (issue 12 #2: Back and 登记 must not record anything unasked)
    assert form["visit_of"].value() is None
    body = response.content.decode()
    assert f'name="visit_of" value="{newer.pk}"' in body
    assert f'name="visit_of" value="{closed.pk}"' not in body


def test_repeat_visit_is_recorded_on_the_existing_case(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    case = register(reception, person).case
    data = new_case_data(
        petitioner=person.pk,
        visit_of=str(case.pk),
        visit_notes="再次来访询问进展",
        request="",
        name=None,
        id_number=None,
    )
    response = desk_client.post(DESK, data)
    assert response.status_code == 302 and response["Location"] == person_url(person)

    case.refresh_from_db()
    assert case.visit_count == 2 and Case.objects.count() == 1
    visit = Visit.objects.get(case=case, is_repeat=True)
    assert visit.notes == "再次来访询问进展" and visit.received_by == reception
    assert CaseEvent.objects.filter(case=case, kind="repeat_visit").count() == 1

    # a double-clicked repeat visit is still one visit
    desk_client.post(DESK, data)
    case.refresh_from_db()
    assert case.visit_count == 2


def test_repeat_visit_cannot_target_a_case_that_was_not_offered(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    register(reception, person)
    someone_else = register(reception, make_petitioner(reception, id_number=valid_id())).case
    data = new_case_data(petitioner=person.pk, visit_of=str(someone_else.pk), name=None)
    response = desk_client.post(DESK, data)
    assert "visit_of" in response.context["form"].errors
    someone_else.refresh_from_db()
    assert someone_else.visit_count == 1


def test_answered_on_the_spot_is_only_for_a_new_matter(desk_client, cast):
    reception = cast["reception"]
    person = make_petitioner(reception, id_number=valid_id())
    case = register(reception, person).case
    data = new_case_data(
        petitioner=person.pk, visit_of=str(case.pk), answered_on_spot="on", answer="答复"
    )
    response = desk_client.post(DESK, data)
    assert "answered_on_spot" in response.context["form"].errors
    case.refresh_from_db()
    assert case.visit_count == 1 and case.state == CaseState.REGISTERED


def test_new_person_form_with_a_known_id_and_open_cases_shows_the_file_first(desk_client, cast):
    reception = cast["reception"]
    number = valid_id()
    person = make_petitioner(reception, id_number=number)
    case = register(reception, person).case

    response = desk_client.post(DESK, new_case_data(id_number=number, request="又来反映执行问题"))
    assert response.status_code == 200
    assert response.context["file"].petitioner == person
    form = response.context["form"]
    assert str(case.pk) in form.open_cases
    assert form["visit_of"].value() is None  # the clerk chooses explicitly (issue 12 #2)
    assert form["request"].value() == "又来反映执行问题"  # what the clerk typed is kept
    assert Case.objects.count() == 1


def test_leader_duty_is_one_per_center_and_day_with_a_leader_of_that_center(cast, org):
    from django.contrib import admin
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from conftest import make_user
    from core.roles import Role

    assert admin.site.is_registered(LeaderDuty)
    day = date(2026, 12, 1)
    LeaderDuty.objects.create(date=day, leader=cast["leader"], center=org.city)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeaderDuty.objects.create(date=day, leader=cast["leader"], center=org.city)
    county_leader = make_user("county_leader", org.county_a, [Role.LEADER])
    with pytest.raises(ValidationError) as exc:
        LeaderDuty(date=day, leader=county_leader, center=org.city).full_clean()
    assert "leader" in exc.value.message_dict
