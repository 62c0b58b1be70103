"""Identity, lookup and personal-data scoping (issues 12 #7, #8 and 13 #1, #3): resident ID
numbers (check character at lookup, the 15-digit form, derived sex and birth date), traditional
and simplified names, which petitioner files a user may open, reveals on a case, and no personal
numbers in URLs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient
from stdnum.iso7064 import mod_11_2

from conftest import make_user
from core import pii
from core.errors import PermissionDenied
from core.models import PiiAccessLog, User
from core.roles import Role
from petitions.models import Petitioner, Sex
from petitions.selectors import petitioners_visible_to
from petitions.services import (
    PetitionerData,
    find_petitioner_by_id_number,
    reveal_pii,
    upsert_petitioner,
)
from petitions.testing import make_petitioner, register, resident_id
from petitions.validation import validate_id_number

pytestmark = pytest.mark.django_db

PETITIONERS = "/api/v1/petitioners/"
LOOKUP = "/api/v1/petitioners/lookup/"
DESK = "/desk/"

# 130102 1955-03-08, serial 123 (odd: a man); the 15-digit form and its 18-character form.
OLD_ID = "130102550308123"
NEW_ID = "13010219550308123" + mod_11_2.calc_check_digit("13010219550308123")


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def wrong_check_char(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


# --- resident ID numbers (issue 12 #7) ------------------------------------------------------------


def test_a_15_digit_id_is_upgraded_with_19_and_the_mod_11_2_check_character():
    from stdnum.cn import ric

    assert NEW_ID[:17] == "13010219550308123"
    assert ric.calc_check_digit(NEW_ID) == NEW_ID[-1]
    assert pii.upgrade_resident_id(f" {OLD_ID[:6]}-{OLD_ID[6:]} ") == NEW_ID
    assert pii.canonical_id_number(OLD_ID) == NEW_ID
    # other ID types are indexed as typed
    assert pii.canonical_id_number(OLD_ID, "passport") == OLD_ID


def test_a_15_digit_resident_id_is_accepted_and_kept_as_typed():
    assert validate_id_number("resident", f"{OLD_ID[:6]} {OLD_ID[6:]}") == OLD_ID
    with pytest.raises(ValidationError) as bad_date:
        validate_id_number("resident", "130102551308123")
    assert bad_date.value.code == "birth_date"
    with pytest.raises(ValidationError) as bad_region:
        validate_id_number("resident", "999999550308123")
    assert bad_region.value.code == "region"


def test_lower_case_x_is_read_as_upper_case():
    from petitions.validation import validate_lookup_id_number

    number = next(n for n in (resident_id() for _ in range(200)) if n.endswith("X"))
    assert validate_id_number("resident", number.lower()) == number
    assert validate_lookup_id_number(number.lower()) == number


def test_lookup_checks_a_resident_id_like_registration_does():
    from petitions.validation import validate_lookup_id_number

    number = resident_id()
    with pytest.raises(ValidationError) as exc:
        validate_lookup_id_number(wrong_check_char(number))
    assert exc.value.code == "checksum"
    with pytest.raises(ValidationError) as short:
        validate_lookup_id_number(number[:16])
    assert short.value.code == "length"
    # passports and permits are checked for their form only
    assert validate_lookup_id_number("e1234 5678") == "E12345678"


def test_sex_and_birth_date_come_from_a_resident_id():
    from petitions.validation import identity_hints

    assert identity_hints(NEW_ID) == (Sex.MALE, date(1955, 3, 8))
    assert identity_hints(OLD_ID) == (Sex.MALE, date(1955, 3, 8))
    woman = resident_id(born=date(1990, 12, 31), sex="F")
    assert identity_hints(woman) == (Sex.FEMALE, date(1990, 12, 31))
    assert identity_hints(wrong_check_char(woman)) is None
    assert identity_hints("E12345678") is None


def test_the_same_person_typed_in_either_form_is_one_file(cast):
    reception = cast["reception"]
    first = upsert_petitioner(actor=reception, data=PetitionerData(name="赵老汉", id_number=NEW_ID))
    again = upsert_petitioner(actor=reception, data=PetitionerData(name="赵老汉", id_number=OLD_ID))
    assert again.pk == first.pk and Petitioner.objects.count() == 1
    assert find_petitioner_by_id_number(OLD_ID) == first
    assert find_petitioner_by_id_number(NEW_ID, "resident") == first


def test_a_file_opened_with_a_15_digit_id_keeps_it_and_is_found_by_the_18_digit_form(cast):
    reception = cast["reception"]
    person = upsert_petitioner(
        actor=reception, data=PetitionerData(name="钱老太", id_number=OLD_ID)
    )
    case = register(reception, person).case
    assert person.id_number_masked == pii.mask_id(OLD_ID) and len(person.id_number_masked) == 15
    assert person.id_number_hash == pii.blind_index(NEW_ID)
    assert find_petitioner_by_id_number(NEW_ID) == person
    assert reveal_pii(actor=reception, petitioner=person, field_name="id_number", case=case) == (
        OLD_ID
    )


def test_desk_lookup_reports_a_wrong_check_character_instead_of_finding_nobody(client, cast):
    client.force_login(cast["reception"])
    response = client.post(
        DESK, {"action": "lookup", "lookup-id_number": wrong_check_char(resident_id())}
    )
    assert response.status_code == 200
    errors = response.context["lookup"].errors.as_data()["id_number"]
    assert [e.code for e in errors] == ["checksum"]
    assert "校验" in response.content.decode()  # said in Chinese on the page
    assert not response.context["not_found"] and response.context["form"] is None


def test_desk_lookup_with_the_15_digit_form_finds_the_person_registered_with_18(client, cast):
    person = make_petitioner(cast["reception"], name="孙大爷", id_number=NEW_ID)
    register(cast["reception"], person)
    client.force_login(cast["reception"])
    response = client.post(DESK, {"action": "lookup", "lookup-id_number": OLD_ID})
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}?petitioner={person.pk}"


def test_registration_derives_sex_and_birth_date_from_the_id(client, cast):
    from intake.tests.helpers import new_case_data

    client.force_login(cast["reception"])
    number = resident_id(born=date(1971, 6, 5), sex="F")
    response = client.post(DESK, new_case_data(id_number=number, sex="U", name="周阿姨"))
    assert response.status_code == 302, response.context["form"].errors
    person = Petitioner.objects.get(name="周阿姨")
    assert (person.sex, person.birth_date) == (Sex.FEMALE, date(1971, 6, 5))


def test_registration_form_warns_when_the_typed_sex_contradicts_the_id(cast):
    from intake.forms import RegistrationForm
    from intake.tests.helpers import new_case_data

    number = resident_id(born=date(1980, 1, 2), sex="M")
    form = RegistrationForm(new_case_data(id_number=number, sex="F"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["sex"] == "F"  # kept as typed: the clerk decides
    assert form.identity_warnings and "1980-01-02" in form.identity_warnings[0]
    agreeing = RegistrationForm(new_case_data(id_number=number, sex="M"))
    assert agreeing.is_valid() and agreeing.identity_warnings == []
    # the page's script gets the same warning for both sexes
    attrs = form.fields["sex"].widget.attrs
    assert "{born}" in attrs["data-warn-m"] and "{born}" in attrs["data-warn-f"]


def test_api_takes_birth_date_and_unknown_sex_from_the_id_and_refuses_a_contradiction(cast):
    client = client_for(cast["reception"])
    number = resident_id(born=date(1966, 7, 1), sex="F")
    wrong = client.post(
        PETITIONERS,
        {"name": "吴女士", "id_number": number, "birth_date": "1966-07-02"},
        format="json",
    )
    assert wrong.status_code == 400 and "1966-07-01" in wrong.json()["birth_date"][0]
    created = client.post(PETITIONERS, {"name": "吴女士", "id_number": OLD_ID}, format="json")
    assert created.status_code == 201, created.content
    person = Petitioner.objects.get(pk=created.json()["id"])
    assert (person.sex, person.birth_date) == (Sex.MALE, date(1955, 3, 8))


def test_api_lookup_reports_a_wrong_check_character(cast):
    response = client_for(cast["reception"]).post(
        LOOKUP, {"id_number": wrong_check_char(resident_id())}, format="json"
    )
    assert response.status_code == 400
    assert "校验" in response.json()["id_number"][0]


def test_no_stored_index_comes_from_a_15_digit_form_after_the_migration(cast):
    """The data migration re-indexes any resident ID stored in its 15-digit form."""
    module = __import__(
        "petitions.migrations.0007_filelookup_historicalpetitioner_center_and_more",
        fromlist=["backfill"],
    )
    person = upsert_petitioner(
        actor=cast["reception"], data=PetitionerData(name="郑老伯", id_number=OLD_ID)
    )
    # as the code before this change stored it: the index of the number as typed
    Petitioner.objects.filter(pk=person.pk).update(
        id_number_hash=pii.blind_index(OLD_ID), name_key=""
    )
    module.backfill(django_apps, None)
    person.refresh_from_db()
    assert person.id_number_hash == pii.blind_index(NEW_ID)
    assert person.name_key == "郑老伯"


# --- traditional and simplified names (issue 12 #8) ---------------------------------------------


def test_name_search_matches_traditional_and_simplified_both_ways(cast):
    reception = cast["reception"]
    traditional = make_petitioner(reception, name="陳麗華", id_number=resident_id())
    simplified = make_petitioner(reception, name="陈丽华", id_number=resident_id())
    register(reception, traditional)
    register(reception, simplified)
    client = client_for(reception)

    for typed in ("陈丽华", "陳麗華", "陈麗"):
        rows = client.get(PETITIONERS, {"name": typed}).json()
        assert {r["id"] for r in rows} == {traditional.pk, simplified.pk}, typed
    # what was typed is stored and shown
    assert {r["name"] for r in client.get(PETITIONERS, {"name": "陈"}).json()} == {
        "陳麗華",
        "陈丽华",
    }


def test_desk_name_and_phone_lookup_matches_traditional_and_simplified(client, cast):
    person = make_petitioner(
        cast["reception"], name="陳麗華", id_number=resident_id(), phone="13600007777"
    )
    client.force_login(cast["reception"])
    response = client.post(
        DESK, {"action": "lookup", "lookup-name": "陈丽华", "lookup-phone": "13600007777"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}?petitioner={person.pk}"
    api = client_for(cast["reception"]).post(
        LOOKUP, {"name": "陈 丽华", "phone": "136 0000 7777"}, format="json"
    )
    assert [r["id"] for r in api.json()] == [person.pk]


def test_a_person_registered_in_traditional_characters_and_typed_in_simplified_is_one_file(cast):
    reception = cast["reception"]
    number = resident_id()
    first = upsert_petitioner(actor=reception, data=PetitionerData(name="張偉", id_number=number))
    again = upsert_petitioner(actor=reception, data=PetitionerData(name="张伟", id_number=number))
    assert again.pk == first.pk and Petitioner.objects.count() == 1
    assert Petitioner.objects.get().name_key == "张伟"


# --- which files a user may open (issue 13 #1) ---------------------------------------------------


@pytest.fixture
def province_person(cast, org) -> tuple[Petitioner, Any]:
    """A person who appears only on a case of the province center."""
    province_desk = make_user("province_reception", org.province, [Role.RECEPTION])
    number = resident_id()
    person = make_petitioner(province_desk, name="省里人", id_number=number, phone="13900001111")
    case = register(province_desk, person).case
    return person, case


def test_county_desk_cannot_open_a_file_known_only_to_the_province(cast, province_person):
    person, _case = province_person
    client = client_for(cast["county_reception"])
    assert client.get(f"{PETITIONERS}{person.pk}/").status_code == 404
    reveal = client.post(f"{PETITIONERS}{person.pk}/reveal/", {"field": "id_number"}, format="json")
    assert reveal.status_code == 404
    assert client.get(PETITIONERS, {"name": "省里"}).json() == []
    assert PiiAccessLog.objects.count() == 0


def test_county_desk_page_shows_no_file_for_an_id_walked_to(client, cast, province_person):
    person, _case = province_person
    client.force_login(cast["county_reception"])
    response = client.get(f"{DESK}?petitioner={person.pk}")
    assert response.status_code == 200 and response.context["file"] is None
    assert "省里人" not in response.content.decode()


def test_an_exact_lookup_opens_the_file_to_the_desk_but_not_the_reveal(cast, province_person):
    from petitions.models import FileLookup
    from petitions.selectors import LOOKUP_GRANT

    person, _case = province_person
    county = cast["county_reception"]
    client = client_for(county)
    found = client.post(LOOKUP, {"id_number": person.reveal_id_number()}, format="json")
    assert found.status_code == 200 and [r["id"] for r in found.json()] == [person.pk]
    assert found.json()[0]["case_count"] == 0  # the province's case is not theirs to count
    assert FileLookup.objects.filter(user=county, petitioner=person).count() == 1

    assert client.get(f"{PETITIONERS}{person.pk}/").status_code == 200
    reveal = client.post(f"{PETITIONERS}{person.pk}/reveal/", {"field": "phone"}, format="json")
    assert reveal.status_code == 403 and PiiAccessLog.objects.count() == 0

    # the lookup opens the file for a working day, not for good
    with time_machine.travel(timezone.now() + LOOKUP_GRANT + timedelta(minutes=1)):
        assert client.get(f"{PETITIONERS}{person.pk}/").status_code == 404


def test_a_name_and_phone_lookup_at_the_desk_opens_the_file_too(client, cast, province_person):
    person, _case = province_person
    client.force_login(cast["county_reception"])
    response = client.post(
        DESK, {"action": "lookup", "lookup-name": "省里人", "lookup-phone": "13900001111"}
    )
    assert response["Location"] == f"{DESK}?petitioner={person.pk}"
    page = client.get(response["Location"])
    assert page.context["file"].petitioner == person
    assert page.context["file"].hidden_cases == 1 and page.context["file"].cases == []


def test_other_roles_find_only_people_on_cases_they_may_see(cast, org, province_person):
    from petitions.models import FileLookup

    person, _case = province_person
    county_police = client_for(cast["county_police"])
    found = county_police.post(LOOKUP, {"id_number": person.reveal_id_number()}, format="json")
    assert found.status_code == 200 and found.json() == []
    assert FileLookup.objects.count() == 0
    assert not petitioners_visible_to(cast["county_police"]).filter(pk=person.pk).exists()
    # the province's supervisor sees the case, so the file
    assert (
        petitioners_visible_to(make_user("prov_sup", org.province, [Role.SUPERVISOR]))
        .filter(pk=person.pk)
        .exists()
    )


def test_a_file_is_visible_through_a_case_of_a_center_below(cast, org):
    from petitions.models import FileLookup

    county = cast["county_reception"]
    person = make_petitioner(county, name="县里人", id_number=resident_id())
    register(county, person)
    FileLookup.objects.all().delete()
    city_triage = client_for(cast["triage"])  # the city sees its counties' cases
    assert city_triage.get(f"{PETITIONERS}{person.pk}/").status_code == 200
    assert client_for(cast["outsider"]).get(f"{PETITIONERS}{person.pk}/").status_code == 404


def test_reveal_names_the_case_in_the_access_log(cast):
    reception = cast["reception"]
    number = resident_id()
    person = make_petitioner(reception, id_number=number)
    older = register(reception, person, legal_case_number="（2024）冀0102执1号").case
    newer = register(reception, person, legal_case_number="（2024）冀0102执2号").case
    client = client_for(reception)

    default = client.post(
        f"{PETITIONERS}{person.pk}/reveal/", {"field": "id_number"}, format="json"
    )
    chosen = client.post(
        f"{PETITIONERS}{person.pk}/reveal/",
        {"field": "id_number", "case_id": older.pk},
        format="json",
    )
    assert default.json()["value"] == number and chosen.status_code == 200
    assert list(PiiAccessLog.objects.order_by("id").values_list("case_id", flat=True)) == [
        newer.pk,
        older.pk,
    ]


def test_reveal_on_a_case_the_user_may_not_see_is_not_found(cast, province_person):
    person, province_case = province_person
    reception = cast["county_reception"]
    # the person also came to the county, about another matter
    own = register(reception, person, legal_case_number="（2025）冀0121民初9号").case
    client = client_for(reception)
    hidden = client.post(
        f"{PETITIONERS}{person.pk}/reveal/",
        {"field": "id_number", "case_id": province_case.pk},
        format="json",
    )
    assert hidden.status_code == 404
    with pytest.raises(PermissionDenied):
        reveal_pii(actor=reception, petitioner=person, field_name="phone", case=province_case)
    assert list(PiiAccessLog.objects.values_list("case_id", flat=True)) == []
    ok = client.post(f"{PETITIONERS}{person.pk}/reveal/", {"field": "phone"}, format="json")
    assert ok.status_code == 200
    assert list(PiiAccessLog.objects.values_list("case_id", flat=True)) == [own.pk]


def test_name_search_query_count_does_not_grow_with_rows(cast, django_assert_max_num_queries):
    reception = cast["reception"]
    client = client_for(reception)
    person = make_petitioner(reception, name="冯一", id_number=resident_id())
    register(reception, person)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(PETITIONERS, {"name": "冯"}).json()) == 1
    for i in range(6):
        other = make_petitioner(reception, name=f"冯{i}号", id_number=resident_id())
        register(reception, other, legal_case_number=f"（2024）冀0102执{i}1号")
        register(reception, other, legal_case_number=f"（2024）冀0102执{i}2号")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(PETITIONERS, {"name": "冯"}).json()) == 7
    with CaptureQueriesContext(connection) as lookup:
        client.post(LOOKUP, {"id_number": person.reveal_id_number()}, format="json")
    assert len(lookup.captured_queries) <= len(one.captured_queries) + 2


# --- no personal numbers in URLs (issue 13 #3) ----------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"id_number": "130102199001011237"},
        {"phone": "13812345678"},
        {"name": "13812345678"},
        {"name": "张", "id_type": "resident", "q": "130102199001011237"},
    ],
    ids=["id_number", "phone", "phone-as-name", "id-in-another-parameter"],
)
def test_numbers_in_a_query_string_are_refused_with_a_pointer_to_the_post(cast, params):
    response = client_for(cast["reception"]).get(PETITIONERS, params)
    assert response.status_code == 400
    message = next(iter(response.json().values()))[0]
    assert "/api/v1/petitioners/lookup/" in message and "POST" in message


def test_the_lookup_is_a_post_with_the_numbers_in_the_body(cast):
    reception = cast["reception"]
    number = resident_id()
    person = make_petitioner(reception, name="褚二", id_number=number, phone="13700002222")
    register(reception, person)
    client = client_for(reception)

    by_id = client.post(LOOKUP, {"id_number": number.lower()}, format="json")
    by_name_phone = client.post(LOOKUP, {"name": "褚二", "phone": "137-0000-2222"}, format="json")
    for response in (by_id, by_name_phone):
        assert response.status_code == 200, response.content
        assert [r["id"] for r in response.json()] == [person.pk]
        assert response.json()[0]["case_count"] == 1
        assert number not in response.content.decode()
        assert response["Cache-Control"] == "no-store"
    incomplete = client.post(LOOKUP, {"name": "褚二"}, format="json")
    assert incomplete.status_code == 400 and {"id_number", "phone"} <= set(incomplete.json())


def test_a_registration_with_a_contradicting_sex_goes_through_with_a_warning(client, cast):
    from intake.tests.helpers import new_case_data

    client.force_login(cast["reception"])
    number = resident_id(born=date(1983, 8, 8), sex="M")
    response = client.post(DESK, new_case_data(id_number=number, sex="F", name="吕某"), follow=True)
    assert response.status_code == 200
    person = Petitioner.objects.get(name="吕某")
    assert (person.sex, person.birth_date) == (Sex.FEMALE, date(1983, 8, 8))  # kept as typed
    body = response.content.decode()
    assert "不符" in body and "1983-08-08" in body


def test_admin_search_matches_traditional_names_and_15_digit_ids(client, cast):
    from django.urls import reverse

    superuser = User.objects.create_superuser("root", password="x-Pass-2026-x")
    wanted = make_petitioner(cast["reception"], name="陳麗華", id_number=NEW_ID)
    client.force_login(superuser)
    url = reverse("admin:petitions_petitioner_changelist")
    for term in ("陈丽", OLD_ID):
        assert list(client.get(url, {"q": term}).context["cl"].result_list) == [wanted], term
