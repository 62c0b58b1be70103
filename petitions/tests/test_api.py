"""The REST API of petition records (/api/v1/petitioners/, /api/v1/cases/...)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from stdnum.cn import ric

from conftest import PASSWORD
from core.models import DepartmentKind, PiiAccessLog, User
from petitions.models import Attachment, Case, Channel, ContentCategory, Petitioner, Visit
from petitions.services import check_query_code
from petitions.states import CaseState
from petitions.testing import make_petitioner, register, resident_id
from petitions.validation import MAX_ATTACHMENT_BYTES
from routing.models import Assignment, AssignmentRole

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
PETITIONERS = "/api/v1/petitioners/"
_rng = random.Random(20260301)


def valid_id(region: str = "130102", born: date | None = None) -> str:
    """A resident ID that passes petitions.validation. Born after 1983, because python-stdnum
    checks the region code against the birth year and these county codes date from 1983; the
    check character is recomputed over all 17 digits (calc_check_digit wants the full number)."""
    born = born or date(1985, 1, 1) + timedelta(days=_rng.randrange(0, 365 * 20))
    number = resident_id(_rng, region=region, born=born)
    return number[:-1] + ric.calc_check_digit(number)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def intake_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "petitioner": {
            "name": "王五",
            "sex": "M",
            "id_type": "resident",
            "id_number": valid_id(),
            "phone": "139 0000 1111",
            "address": "石家庄市长安区",
        },
        "channel": "visit",
        "purpose": "appeal",
        "category": "court.execution",
        "organ": "court",
        "request": "请求法院依法执行（2024）冀0102执123号判决。",
        "facts_reasons": "判决生效已一年，至今未执行到位。",
        "legal_case_number": "（2024）冀0102执123号",
        "problem_region_code": "130102",
    }
    body.update(overrides)
    return body


def case_ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- authentication and intake ------------------------------------------------------------------


def test_token_login_then_intake_registers_the_case_with_a_one_time_query_code(cast):
    client = APIClient()
    token = client.post(
        "/api/v1/auth/token/", {"username": "reception", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200, token.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    response = client.post(CASES, intake_body(), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.get(pk=data["id"])
    assert check_query_code(case, data["query_code"])
    assert data["state"] == CaseState.REGISTERED
    assert (data["channel"]["code"], data["category"]["code"], data["organ"]["code"]) == (
        "visit",
        "court.execution",
        "court",
    )
    assert case.registered_by == cast["reception"] and case.center == cast["reception"].center
    assert [p["role"] for p in data["petitioners"]] == ["main"]
    assert "answer_on_spot" in {a["name"] for a in data["allowed_actions"]}


def test_intake_without_credentials_is_refused(cast):
    response = APIClient().post(CASES, intake_body(), format="json")
    assert response.status_code in (401, 403)
    assert Case.objects.count() == 0


def test_intake_for_an_existing_petitioner_by_id_and_with_representatives(cast):
    reception = cast["reception"]
    main = make_petitioner(reception, name="赵六", id_number=valid_id())
    reps = [{"name": f"代表{i}", "id_number": valid_id()} for i in range(2)]

    response = client_for(reception).post(
        CASES,
        intake_body(petitioner=None, petitioner_id=main.pk, representatives=reps, headcount=12),
        format="json",
    )

    assert response.status_code == 201, response.content
    case = Case.objects.get(pk=response.json()["id"])
    assert case.main_petitioner == main and case.is_group
    assert sorted(case.case_petitioners.values_list("role", flat=True)) == [
        "main",
        "representative",
        "representative",
    ]


def test_intake_for_an_unknown_petitioner_id_is_a_field_error(cast):
    response = client_for(cast["reception"]).post(
        CASES, intake_body(petitioner=None, petitioner_id=987654), format="json"
    )
    assert response.status_code == 400
    assert "petitioner_id" in response.json()
    assert Case.objects.count() == 0


def test_department_officer_cannot_register_a_case(cast):
    response = client_for(cast["police"]).post(CASES, intake_body(), format="json")
    assert response.status_code == 403
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


# --- petitioner lookup, upsert and reveal -------------------------------------------------------


def test_lookup_by_exact_id_number_and_by_phone_shows_masked_numbers(cast):
    reception = cast["reception"]
    number = valid_id()
    wanted = make_petitioner(reception, name="李四", id_number=number, phone="13700001234")
    make_petitioner(reception, name="李四", id_number=valid_id(), phone="13700009999")
    register(reception, wanted)
    client = client_for(reception)

    # exact numbers go in a POST body, never in a URL (issue 13 #3)
    by_id = client.post(f"{PETITIONERS}lookup/", {"id_number": number.lower()}, format="json")
    by_phone = client.post(
        f"{PETITIONERS}lookup/", {"name": "李四", "phone": "137-0000-1234"}, format="json"
    )

    for response in (by_id, by_phone):
        assert response.status_code == 200
        rows = response.json()
        assert [r["id"] for r in rows] == [wanted.pk]
        assert rows[0]["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
        assert rows[0]["phone_masked"] == "137****1234"
        assert rows[0]["case_count"] == 1
        assert number not in response.content.decode()
        assert "13700001234" not in response.content.decode()


def test_lookup_needs_a_criterion_so_nobody_can_page_through_petitioners(cast):
    make_petitioner(cast["reception"])
    response = client_for(cast["reception"]).get(PETITIONERS)
    assert response.status_code == 400
    assert {"name"} <= set(response.json())


def test_name_lookup_matches_the_beginning_of_the_name(cast):
    reception = cast["reception"]
    zhang_san = make_petitioner(reception, name="张三", id_number=valid_id())
    zhang_si = make_petitioner(reception, name="张四", id_number=valid_id())
    make_petitioner(reception, name="李张", id_number=valid_id())
    client = client_for(reception)

    assert {r["id"] for r in client.get(PETITIONERS, {"name": "张"}).json()} == {
        zhang_san.pk,
        zhang_si.pk,
    }
    assert client.get(PETITIONERS, {"name": "三"}).json() == []


def test_department_officer_finds_only_people_on_cases_assigned_to_the_department(cast, org):
    reception = cast["reception"]
    assigned = make_petitioner(reception, name="甲", phone="13600000001")
    other = make_petitioner(reception, name="乙", phone="13600000002")
    case = register(reception, assigned).case
    register(reception, other)
    assign(case, org.dept(org.city, DepartmentKind.POLICE), cast["triage"])
    client = client_for(cast["police"])

    lookup = f"{PETITIONERS}lookup/"
    assert [
        r["id"]
        for r in client.post(lookup, {"name": "甲", "phone": "13600000001"}, format="json").json()
    ] == [assigned.pk]
    assert client.post(lookup, {"name": "乙", "phone": "13600000002"}, format="json").json() == []
    assert client.get(f"{PETITIONERS}{other.pk}/").status_code == 404


def test_posting_a_known_id_number_updates_the_same_file_and_keeps_omitted_fields(cast):
    client = client_for(cast["reception"])
    number = valid_id(born=date(1990, 3, 8))
    created = client.post(
        PETITIONERS,
        {"name": "孙七", "id_number": number, "phone": "13500000000", "address": "长安区"},
        format="json",
    )
    assert created.status_code == 201, created.content

    updated = client.post(
        PETITIONERS, {"name": "孙七", "id_number": number, "phone": "13511112222"}, format="json"
    )

    assert updated.status_code == 200, updated.content
    assert updated.json()["id"] == created.json()["id"] and Petitioner.objects.count() == 1
    petitioner = Petitioner.objects.get()
    assert petitioner.address == "长安区"
    assert petitioner.phone_masked == "135****2222"
    assert petitioner.birth_date == date(1990, 3, 8)


def test_reveal_gives_the_full_number_to_reception_and_logs_it(cast):
    number = valid_id()
    petitioner = make_petitioner(cast["reception"], id_number=number)
    case = register(cast["reception"], petitioner).case  # a reveal is made on a case

    response = client_for(cast["reception"]).post(
        f"{PETITIONERS}{petitioner.pk}/reveal/", {"field": "id_number"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": number}
    assert response["Cache-Control"] == "no-store"
    log = PiiAccessLog.objects.get()
    assert (log.user, log.petitioner, log.field, log.case) == (
        cast["reception"],
        petitioner,
        "id_number",
        case,
    )


def test_reveal_is_refused_to_a_role_without_the_right_and_not_logged(cast):
    petitioner = make_petitioner(cast["reception"])
    register(cast["reception"], petitioner)
    response = client_for(cast["archivist"]).post(
        f"{PETITIONERS}{petitioner.pk}/reveal/", {"field": "phone"}, format="json"
    )
    assert response.status_code == 403
    assert PiiAccessLog.objects.count() == 0


# --- listing and visibility ---------------------------------------------------------------------


def assign(case: Case, department: Any, by: User) -> Assignment:
    now = timezone.now()
    return Assignment.objects.create(
        case=case,
        department=department,
        role=AssignmentRole.LEAD,
        due_at=now + timedelta(days=60),
        assigned_by=by,
        assigned_at=now,
    )


def test_listing_is_scoped_by_center_and_department(cast, org):
    city_case = register(cast["reception"]).case
    city_assigned = register(cast["reception"]).case
    county_case = register(cast["county_reception"]).case
    assign(city_assigned, org.dept(org.city, DepartmentKind.POLICE), cast["triage"])

    def visible(user: User) -> set[int]:
        return case_ids(client_for(user).get(CASES))

    assert visible(cast["county_reception"]) == {county_case.pk}
    assert visible(cast["reception"]) == {city_case.pk, city_assigned.pk, county_case.pk}
    assert visible(cast["outsider"]) == set()
    assert visible(cast["police"]) == {city_assigned.pk}
    assert visible(cast["court"]) == set()
    assert visible(cast["county_police"]) == set()


def test_list_is_newest_first_and_filters_by_codes_state_and_flags(cast):
    reception = cast["reception"]
    first = register(reception).case
    second = register(
        reception,
        channel=Channel.objects.get(code="letter"),
        category=ContentCategory.objects.get(code="police.case"),
        is_major_urgent=True,
    ).case
    client = client_for(reception)
    client.post(f"{CASES}{first.pk}/answer/", {"answer": "已当场解答。"}, format="json")

    everything = client.get(CASES).json()
    assert [row["id"] for row in everything["results"]] == [second.pk, first.pk]
    assert everything["next"] is None
    assert case_ids(client.get(CASES, {"channel": "letter"})) == {second.pk}
    assert case_ids(client.get(CASES, {"category": "police"})) == {second.pk}
    assert case_ids(client.get(CASES, {"category": "court.execution"})) == {first.pk}
    assert case_ids(client.get(CASES, {"state": "closed"})) == {first.pk}
    assert case_ids(client.get(CASES, {"is_major_urgent": "true"})) == {second.pk}
    assert case_ids(client.get(CASES, {"number": second.number})) == {second.pk}
    assert (
        case_ids(
            client.get(
                CASES, {"registered_after": (timezone.now() + timedelta(days=1)).isoformat()}
            )
        )
        == set()
    )


def test_list_query_count_does_not_grow_with_rows(cast, django_assert_num_queries):
    reception = cast["reception"]
    client = APIClient()
    client.force_login(reception)  # a fresh user per request, as in production
    for _ in range(3):
        register(reception)
    client.get(CASES)  # the process's caches warm (core.codecache, sessions)
    with CaptureQueriesContext(connection) as three:
        assert len(case_ids(client.get(CASES))) == 3
    for _ in range(17):
        register(reception)

    with django_assert_num_queries(len(three.captured_queries)):
        assert len(case_ids(client.get(CASES))) == 20


# --- detail -------------------------------------------------------------------------------------


def test_detail_of_another_centers_case_is_the_same_404_as_a_missing_one(cast):
    case = register(cast["reception"]).case
    client = client_for(cast["outsider"])

    not_yours = client.get(f"{CASES}{case.pk}/")
    missing = client.get(f"{CASES}{case.pk + 1000}/")

    assert not_yours.status_code == missing.status_code == 404
    assert not_yours.json() == missing.json()
    for suffix in ("history/", "visits/", "attachments/"):
        assert client.get(f"{CASES}{case.pk}/{suffix}").status_code == 404


def test_detail_shows_masked_petitioners_state_label_and_allowed_actions(cast):
    number = valid_id()
    petitioner = make_petitioner(cast["reception"], id_number=number)
    case = register(cast["reception"], petitioner).case

    data = client_for(cast["triage"]).get(f"{CASES}{case.pk}/").json()

    assert data["number"] == case.number and data["state"] == "registered"
    assert data["state_label"]
    assert "next_due_at" in data and data["registered_by"] == "reception"
    assert data["petitioners"][0]["petitioner"]["id_number_masked"].startswith(number[:4] + "*")
    assert number not in str(data)
    assert {a["name"] for a in data["allowed_actions"]} >= {"assign", "not_accept"}


def test_subordinate_centers_case_is_read_only_for_the_city(cast):
    case = register(cast["county_reception"]).case
    data = client_for(cast["triage"]).get(f"{CASES}{case.pk}/").json()
    assert data["allowed_actions"] == []


# --- bad input: 400 with field errors, nothing saved --------------------------------------------


def with_check_character(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def wrong_check_character() -> str:
    number = valid_id()
    return number[:-1] + ("0" if number[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("make_body", "path"),
    [
        (
            lambda: intake_body(petitioner={"name": "王五", "id_number": wrong_check_character()}),
            ("petitioner", "id_number"),
        ),
        (
            # 30 February
            lambda: intake_body(
                petitioner={"name": "王五", "id_number": with_check_character("13010219900230123")}
            ),
            ("petitioner", "id_number"),
        ),
        (
            lambda: intake_body(
                petitioner={"name": "王五", "id_number": with_check_character("99999919900101123")}
            ),
            ("petitioner", "id_number"),
        ),
        (lambda: intake_body(problem_region_code="999999"), ("problem_region_code",)),
        (lambda: intake_body(request=""), ("request",)),
        (lambda: intake_body(request="   "), ("request",)),
        (lambda: {k: v for k, v in intake_body().items() if k != "request"}, ("request",)),
        (
            lambda: intake_body(
                headcount=40,
                representatives=[{"name": f"代表{i}", "id_number": valid_id()} for i in range(6)],
            ),
            ("representatives",),
        ),
        (lambda: intake_body(channel="pigeon"), ("channel",)),
        (
            lambda: intake_body(petitioner={"name": "王五", "phone": "12ab"}),
            ("petitioner", "phone"),
        ),
    ],
    ids=[
        "wrong-check-character",
        "impossible-birth-date",
        "unknown-region-in-id",
        "unknown-problem-region",
        "empty-request",
        "blank-request",
        "missing-request",
        "six-representatives",
        "unknown-channel",
        "bad-phone",
    ],
)
def test_bad_intake_is_a_400_with_a_field_error_and_saves_nothing(cast, make_body, path):
    response = client_for(cast["reception"]).post(CASES, make_body(), format="json")

    assert response.status_code == 400, response.content
    errors: Any = response.json()
    for key in path:
        assert key in errors, errors
        errors = errors[key]
    assert errors and all(isinstance(message, str) for message in errors)
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_each_id_error_names_its_cause(cast):
    client = client_for(cast["reception"])

    def id_error(number: str) -> str:
        body = intake_body(petitioner={"name": "王五", "id_number": number})
        response = client.post(CASES, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        return response.json()["petitioner"]["id_number"][0]

    assert "check character" in id_error(wrong_check_character())
    assert "birth date" in id_error(with_check_character("13010219900230123"))
    assert "region code" in id_error(with_check_character("99999919900101123"))


def test_a_service_error_after_the_petitioner_was_written_rolls_everything_back(cast):
    # A group visit (headcount >= 5) without representatives is refused by register_case, after
    # the petitioner file has been upserted: the whole intake must roll back.
    response = client_for(cast["reception"]).post(CASES, intake_body(headcount=8), format="json")

    assert response.status_code == 400
    assert "representatives" in response.json()
    assert Case.objects.count() == 0 and Petitioner.objects.count() == 0


def test_text_is_stored_and_returned_exactly_as_typed(cast):
    typed = '<script>alert("x")</script> & <b>不服</b>\n  第二行  '
    client = client_for(cast["reception"])

    response = client.post(CASES, intake_body(request=typed, facts_reasons=typed), format="json")

    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.request == typed and case.facts_reasons == typed
    detail = client.get(f"{CASES}{case.pk}/")
    assert detail.json()["request"] == typed
    assert response.json()["facts_reasons"] == typed


# --- idempotency ----------------------------------------------------------------------------------


def test_same_idempotency_key_twice_creates_exactly_one_case(cast):
    client = client_for(cast["reception"])
    body = intake_body(
        headcount=6, representatives=[{"name": "代表甲"}, {"name": "代表乙"}]
    )  # representatives without ID numbers would be new files on every submission

    first = client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY="form-7f3a")
    second = client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY="form-7f3a")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["query_code"] and second.json()["query_code"] is None
    assert Case.objects.count() == 1 and Petitioner.objects.count() == 3


def test_an_idempotency_key_is_scoped_to_the_user(cast):
    body = intake_body()
    mine = client_for(cast["reception"]).post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    theirs = client_for(cast["county_reception"]).post(
        CASES, body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_without_a_key_each_post_is_a_new_case(cast):
    client = client_for(cast["reception"])
    body = intake_body()
    assert client.post(CASES, body, format="json").status_code == 201
    # the same matter again is refused while the first case is open (issue 12 #2) ...
    assert client.post(CASES, body, format="json").status_code == 409
    # ... and registered as a new case when the reason is given
    again = client.post(CASES, {**body, "new_case_reason": "另案"}, format="json")
    assert again.status_code == 201
    assert Case.objects.count() == 2 and Petitioner.objects.count() == 1


# --- visits ---------------------------------------------------------------------------------------


def test_repeat_visit_is_recorded_once_per_idempotency_key_and_listed(cast):
    petitioner = make_petitioner(cast["reception"])
    case = register(cast["reception"], petitioner).case
    client = client_for(cast["reception"])
    body = {
        "petitioner_id": petitioner.pk,
        "channel": "phone",
        "headcount": 1,
        "notes": "<i>再次来电</i>",
    }
    url = f"{CASES}{case.pk}/visits/"

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="visit-1")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Visit.objects.filter(case=case).count() == 2
    case.refresh_from_db()
    assert case.visit_count == 2
    listed = client.get(url).json()
    assert [v["is_repeat"] for v in listed] == [False, True]
    assert listed[1]["notes"] == "<i>再次来电</i>" and listed[1]["channel"]["code"] == "phone"


def test_repeat_visit_by_someone_not_on_the_case_is_a_field_error(cast):
    case = register(cast["reception"]).case
    stranger = make_petitioner(cast["reception"], name="路人", id_number=valid_id())
    response = client_for(cast["reception"]).post(
        f"{CASES}{case.pk}/visits/",
        {"petitioner_id": stranger.pk, "channel": "visit"},
        format="json",
    )
    assert response.status_code == 400
    assert "case" in response.json()
    assert Visit.objects.filter(is_repeat=True).count() == 0


# --- answer on the spot, history ----------------------------------------------------------------


def test_answer_closes_the_case_and_a_second_answer_is_a_409(cast):
    case = register(cast["reception"]).case
    client = client_for(cast["reception"])
    url = f"{CASES}{case.pk}/answer/"

    answered = client.post(url, {"answer": "已当场解答。"}, format="json")
    again = client.post(url, {"answer": "再次解答。"}, format="json")

    assert answered.status_code == 200 and answered.json()["state"] == CaseState.CLOSED
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    case.refresh_from_db()
    assert case.outcome == "已当场解答。"


def test_answer_by_a_role_without_the_right_is_a_403(cast):
    case = register(cast["reception"]).case
    response = client_for(cast["supervisor"]).post(
        f"{CASES}{case.pk}/answer/", {"answer": "x"}, format="json"
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED


def test_history_shows_who_changed_what_and_when(cast):
    when = datetime(2026, 3, 2, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(when - timedelta(hours=2), tick=False):
        case = register(cast["reception"]).case
    with time_machine.travel(when, tick=False):
        client_for(cast["triage"]).post(
            f"{CASES}{case.pk}/answer/", {"answer": "已当场解答。"}, format="json"
        )

    data = client_for(cast["reception"]).get(f"{CASES}{case.pk}/history/").json()

    created, changed = data["records"]
    assert (created["history_type"], created["history_user"]) == ("+", "reception")
    assert (changed["history_type"], changed["history_user"]) == ("~", "triage")
    assert datetime.fromisoformat(changed["history_date"]) == when
    changes = {c["field"]: (c["old"], c["new"]) for c in changed["changes"]}
    assert changes["state"] == ("registered", "closed")
    assert changes["outcome"] == ("", "已当场解答。")
    assert "version" not in changes
    kinds = [(e["kind"], e["actor"]) for e in data["events"]]
    assert kinds == [("registered", "reception"), ("answer_on_spot", "triage")]


# --- attachments ----------------------------------------------------------------------------------


def test_attachment_is_stored_through_the_service(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = register(cast["reception"]).case
    client = client_for(cast["reception"])
    upload = SimpleUploadedFile("判决书.pdf", b"%PDF-1.7 ...", content_type="application/pdf")

    response = client.post(
        f"{CASES}{case.pk}/attachments/", {"file": upload, "kind": "judgment"}, format="multipart"
    )

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.original_name) == ("judgment", "判决书.pdf")
    assert case.events.filter(kind="attachment_added").exists()
    listed = client.get(f"{CASES}{case.pk}/attachments/").json()
    assert [a["id"] for a in listed] == [attachment.pk]


@pytest.mark.parametrize(
    "upload",
    [
        lambda: SimpleUploadedFile(
            "scan.pdf", b"%PDF" + b"0" * MAX_ATTACHMENT_BYTES, content_type="application/pdf"
        ),
        lambda: SimpleUploadedFile(
            "scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, content_type="application/pdf"
        ),
        lambda: SimpleUploadedFile("run.exe", b"hello", content_type="application/octet-stream"),
    ],
    ids=["oversize", "executable-named-pdf", "wrong-type"],
)
def test_refused_attachment_is_a_400_on_the_file_field(cast, settings, tmp_path, upload):
    settings.MEDIA_ROOT = tmp_path
    case = register(cast["reception"]).case

    response = client_for(cast["reception"]).post(
        f"{CASES}{case.pk}/attachments/", {"file": upload(), "kind": "evidence"}, format="multipart"
    )

    assert response.status_code == 400
    assert "file" in response.json()
    assert Attachment.objects.count() == 0 and not any(tmp_path.iterdir())
