"""Data integrity at the front desk (issues 12 #1-2, 13 #2, #5, #6): what intake may change on a
person's file, corrections with history, the same matter registered twice, visits on another
center's case, and the bounds of a visit's headcount."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.errors import DomainError, PermissionDenied
from core.roles import Role
from petitions.models import Case, CaseEvent, Channel, ContentCategory, Petitioner, Visit
from petitions.services import (
    MAX_HEADCOUNT,
    OpenCaseExists,
    PetitionerData,
    correct_petitioner,
    intake_petitioner,
    record_repeat_visit,
    register_case,
    report_visit_to_case_center,
    transition_case,
)
from petitions.states import CaseState
from petitions.testing import case_data, make_petitioner, register, resident_id

pytestmark = pytest.mark.django_db


def full_data(number: str, **overrides: object) -> PetitionerData:
    values: dict[str, object] = {
        "name": "李梅",
        "id_number": number,
        "sex": "F",
        "birth_date": date(1980, 2, 3),
        "phone": "13812340000",
        "address": "长安区建设大街1号",
        "household_registration": "河北省石家庄市",
        "occupation": "教师",
        "notes": "听力不好，请大声说话",
    }
    values.update(overrides)
    return PetitionerData(**values)  # type: ignore[arg-type]


FILE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "address",
    "household_registration",
    "occupation",
    "notes",
    "phone_hash",
    "phone_masked",
    "id_number_hash",
)


def snapshot(petitioner: Petitioner) -> dict[str, object]:
    petitioner.refresh_from_db()
    return {f: getattr(petitioner, f) for f in FILE_FIELDS}


# --- issue 12 #1: a representative never blanks the file ------------------------------------------


def test_a_representative_entry_never_overwrites_known_fields_with_blanks_or_defaults(cast):
    reception = cast["reception"]
    number = resident_id(sex="F")
    main = intake_petitioner(actor=reception, data=full_data(number)).petitioner
    before = snapshot(main)

    # the group-visit form knows only name, ID type and number of a representative
    rep = intake_petitioner(
        actor=reception, data=PetitionerData(name="李梅", id_type="resident", id_number=number)
    )

    assert rep.petitioner.pk == main.pk and not rep.created
    assert rep.updated_fields == [] and rep.differences == []
    assert snapshot(main) == before
    assert {h.sex for h in main.history.all()} == {"F"}
    assert main.history.count() == 1


def test_a_known_persons_blank_fields_are_filled_in(cast):
    reception = cast["reception"]
    number = resident_id()
    person = intake_petitioner(
        actor=reception, data=PetitionerData(name="赵六", id_number=number)
    ).petitioner
    result = intake_petitioner(
        actor=reception,
        data=PetitionerData(name="赵六", id_number=number, sex="M", address="新华区"),
    )
    person.refresh_from_db()
    assert (person.sex, person.address) == ("M", "新华区")
    assert set(result.updated_fields) == {"sex", "address"} and result.differences == []
    assert person.history.first().history_user == reception


# --- issue 13 #2: identity is not changed at intake; other centers see differences ---------------


def test_a_differing_identity_is_reported_not_applied_even_at_the_holding_center(cast):
    reception = cast["reception"]
    number = resident_id()
    person = intake_petitioner(actor=reception, data=full_data(number)).petitioner
    result = intake_petitioner(
        actor=reception,
        data=full_data(number, name="李玫", sex="M", birth_date=date(1981, 1, 1)),
    )
    person.refresh_from_db()
    assert (person.name, person.sex, person.birth_date) == ("李梅", "F", date(1980, 2, 3))
    assert {d.field for d in result.differences} == {"name", "sex", "birth_date"}
    name = next(d for d in result.differences if d.field == "name")
    assert (name.on_file, name.typed) == ("李梅", "李玫")
    assert "李玫" in name.message() and "李梅" in name.message()


def test_the_holding_center_updates_contact_fields_with_history(cast):
    reception = cast["reception"]
    number = resident_id()
    person = intake_petitioner(actor=reception, data=full_data(number)).petitioner
    result = intake_petitioner(
        actor=reception, data=full_data(number, address="桥西区", phone="13900001111")
    )
    person.refresh_from_db()
    assert person.address == "桥西区" and person.phone_masked == "139****1111"
    assert result.differences == []
    latest = person.history.first()
    assert latest.history_user == reception and latest.history_change_reason == "intake"


def test_a_center_above_the_holder_may_update_contact_fields(cast):
    number = resident_id()
    person = intake_petitioner(actor=cast["county_reception"], data=full_data(number)).petitioner
    assert person.center == cast["county_reception"].center
    intake_petitioner(actor=cast["reception"], data=full_data(number, address="桥西区"))
    person.refresh_from_db()
    assert person.address == "桥西区"


def test_another_centers_desk_cannot_overwrite_a_shared_file(cast):
    number = resident_id()
    person = intake_petitioner(actor=cast["reception"], data=full_data(number)).petitioner
    before = snapshot(person)
    county = cast["county_reception"]  # below the city: the city's file is not theirs
    result = intake_petitioner(
        actor=county,
        data=full_data(number, name="王五", address="外县某村", phone="13700000000"),
    )
    assert result.petitioner.pk == person.pk
    assert snapshot(person) == before
    assert {d.field for d in result.differences} == {"name", "address", "phone"}
    phone = next(d for d in result.differences if d.field == "phone")
    assert (phone.on_file, phone.typed) == ("138****0000", "137****0000")
    assert person.history.count() == 1


@pytest.mark.django_db(transaction=True)
def test_six_concurrent_intakes_of_one_new_id_number_keep_the_first_name(cast):
    """Six desks type one new ID number with six different names: three at the same instant (they
    race to open the file), three more while the file exists (each one merges into it, under the
    row lock). One file, opened once, and no later writer ever replaced its name."""
    reception = cast["reception"]
    number = resident_id()
    results: dict[str, object] = {}

    def intake(name: str, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=10)
            results[name] = intake_petitioner(actor=reception, data=full_data(number, name=name))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[name] = exc
        finally:
            connection.close()

    def wave(names: list[str]) -> None:
        barrier = threading.Barrier(len(names))
        threads = [threading.Thread(target=intake, args=(n, barrier)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

    wave(["并发甲", "并发乙", "并发丙"])
    wave(["并发丁", "并发戊", "并发己"])

    assert not [r for r in results.values() if isinstance(r, Exception)], results
    person = Petitioner.objects.get()
    created = [n for n, r in results.items() if r.created]  # type: ignore[attr-defined]
    assert created == [person.name]
    # nobody's later write replaced the name: every saved version has the first writer's
    assert {h.name for h in person.history.all()} == {person.name}
    for name, result in results.items():
        if name != person.name:
            assert {d.field for d in result.differences} == {"name"}  # type: ignore[attr-defined]
            assert result.petitioner.pk == person.pk  # type: ignore[attr-defined]


# --- corrections ----------------------------------------------------------------------------------


def test_the_holding_center_corrects_a_file_with_a_reason_in_its_history(cast):
    reception = cast["reception"]
    number = resident_id(sex="F")
    person = intake_petitioner(actor=reception, data=full_data(number)).petitioner
    new_number = resident_id(sex="F")
    correct_petitioner(
        actor=reception,
        petitioner=person,
        changes={"name": "李玫", "id_number": new_number, "phone": "13900002222"},
        reason="身份证号录入错误",
    )
    person.refresh_from_db()
    assert person.name == "李玫" and person.reveal_id_number() == new_number
    assert person.phone_masked == "139****2222"
    latest = person.history.first()
    assert latest.history_user == reception
    assert latest.history_change_reason == "身份证号录入错误"
    assert latest.prev_record.name == "李梅"


def test_a_correction_needs_a_reason_and_a_change(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    with pytest.raises(ValidationError) as err:
        correct_petitioner(actor=reception, petitioner=person, changes={"name": "新"}, reason=" ")
    assert "reason" in err.value.message_dict
    with pytest.raises(ValidationError):
        correct_petitioner(
            actor=reception, petitioner=person, changes={"name": person.name}, reason="核对"
        )
    with pytest.raises(ValidationError) as err:
        correct_petitioner(actor=reception, petitioner=person, changes={"name": ""}, reason="核对")
    assert "name" in err.value.message_dict


def test_a_correction_is_refused_to_another_centers_desk_and_to_other_roles(cast):
    person = make_petitioner(cast["reception"])
    with pytest.raises(PermissionDenied):
        correct_petitioner(
            actor=cast["county_reception"], petitioner=person, changes={"name": "X"}, reason="r"
        )
    with pytest.raises(PermissionDenied):
        correct_petitioner(
            actor=cast["supervisor"], petitioner=person, changes={"name": "X"}, reason="r"
        )
    # a center above the holder may correct
    county_file = make_petitioner(cast["county_reception"])
    correct_petitioner(
        actor=cast["triage"], petitioner=county_file, changes={"address": "新址"}, reason="搬家"
    )
    county_file.refresh_from_db()
    assert county_file.address == "新址"


def test_a_correction_to_another_files_id_number_is_refused(cast):
    reception = cast["reception"]
    taken = resident_id()
    make_petitioner(reception, id_number=taken)
    person = make_petitioner(reception)
    with pytest.raises(ValidationError) as err:
        correct_petitioner(
            actor=reception, petitioner=person, changes={"id_number": taken}, reason="核对"
        )
    assert "id_number" in err.value.message_dict


# --- issue 12 #2: the same matter twice -----------------------------------------------------------


def test_the_same_matter_again_while_a_case_is_open_is_refused_with_the_open_case(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    first = register(reception, person, legal_case_number="").case
    with pytest.raises(OpenCaseExists) as err:
        register(reception, person, legal_case_number="")
    assert err.value.case.pk == first.pk and err.value.code == "open_case_exists"
    assert first.number in str(err.value)
    assert Case.objects.count() == 1


def test_a_new_case_on_the_same_matter_with_a_reason_is_registered_and_the_reason_kept(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    first = register(reception, person, legal_case_number="").case
    second = register_case(
        actor=reception,
        petitioner=person,
        data=case_data(),
        new_case_reason="原件已转出，本次为新的执行请求",
    ).case
    event = CaseEvent.objects.get(case=second, kind="registered")
    assert event.data == {
        "new_case_reason": "原件已转出，本次为新的执行请求",
        "open_case": first.number,
        "repeat_of": first.number,  # the same person on the same matter again (issue 18 #5)
    }
    assert first.number in event.message


def test_a_genuinely_new_matter_is_not_blocked(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    register(reception, person, legal_case_number="（2024）冀0102执123号")
    # another legal case number is another matter, even in the same category
    register(reception, person, legal_case_number="（2023）冀0102民初45号")
    # without case numbers, another content category is another matter
    other = ContentCategory.objects.exclude(code="court.execution").exclude(parent=None).first()
    register(reception, person, category=other, legal_case_number="")
    assert Case.objects.count() == 3


def test_the_same_legal_case_number_written_differently_is_the_same_matter(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    register(reception, person, legal_case_number="（2024）冀0102执123号")
    other = ContentCategory.objects.exclude(code="court.execution").exclude(parent=None).first()
    with pytest.raises(OpenCaseExists):
        register(reception, person, category=other, legal_case_number="(2024)冀0102执 123号")


def test_a_closed_case_does_not_block_a_new_one(cast):
    reception = cast["reception"]
    person = make_petitioner(reception)
    first = register(reception, person, legal_case_number="").case
    transition_case(actor=cast["triage"], case=first, name="not_accept", message="不予受理")
    first.refresh_from_db()
    assert first.state not in CaseState.open_states()
    register(reception, person, legal_case_number="")
    assert Case.objects.count() == 2


# --- issue 13 #5: a visit to a subordinate center's case ------------------------------------------


def test_the_city_cannot_record_a_visit_on_a_county_case_but_reports_it_to_the_county(cast, org):
    from clocks.models import Notification

    county_case = register(cast["county_reception"]).case
    person = county_case.main_petitioner
    channel = Channel.objects.get(code="visit")
    with pytest.raises(PermissionDenied) as err:
        record_repeat_visit(
            actor=cast["reception"], case=county_case, petitioner=person, channel=channel
        )
    assert org.county_a.name in str(err.value)
    assert Visit.objects.filter(case=county_case).count() == 1
    county_case.refresh_from_db()
    assert county_case.visit_count == 1

    sent = report_visit_to_case_center(
        actor=cast["reception"],
        case=county_case,
        petitioner=person,
        channel=channel,
        headcount=2,
        notes="要求尽快答复",
        submission_key="form-1",
    )
    assert sent == 2
    rows = Notification.objects.filter(case=county_case, dedupe_key__startswith="visit-report:")
    assert {(n.audience_center_id, n.audience_role) for n in rows} == {
        (org.county_a.pk, Role.RECEPTION),
        (org.county_a.pk, Role.TRIAGE),
    }
    assert all(org.city.name in n.body and "要求尽快答复" in n.body for n in rows)
    # the same form again reports nothing twice; the county case itself is untouched
    assert (
        report_visit_to_case_center(
            actor=cast["reception"],
            case=county_case,
            petitioner=person,
            channel=channel,
            submission_key="form-1",
        )
        == 0
    )
    assert Visit.objects.filter(case=county_case).count() == 1


def test_a_visit_is_reported_only_for_another_centers_case(cast):
    case = register(cast["reception"]).case
    with pytest.raises(DomainError):
        report_visit_to_case_center(
            actor=cast["reception"],
            case=case,
            petitioner=case.main_petitioner,
            channel=Channel.objects.get(code="visit"),
        )


# --- issue 13 #6, #9: headcount bounds ------------------------------------------------------------


@pytest.mark.parametrize("headcount", [0, MAX_HEADCOUNT + 1, 2**31])
def test_headcount_out_of_bounds_is_a_field_error(cast, headcount):
    with pytest.raises(ValidationError) as err:
        register(cast["reception"], headcount=headcount)
    assert "headcount" in err.value.message_dict
    assert Case.objects.count() == 0


def test_representatives_cannot_outnumber_the_people_who_came(cast):
    reception = cast["reception"]
    reps = [make_petitioner(reception) for _ in range(3)]
    with pytest.raises(ValidationError) as err:
        register(reception, headcount=2, representatives=reps)
    assert "representatives" in err.value.message_dict
    register(reception, headcount=3, representatives=reps)


def test_a_repeat_visit_headcount_is_bounded(cast):
    case = register(cast["reception"]).case
    with pytest.raises(ValidationError) as err:
        record_repeat_visit(
            actor=cast["reception"],
            case=case,
            petitioner=case.main_petitioner,
            channel=Channel.objects.get(code="visit"),
            headcount=MAX_HEADCOUNT + 1,
        )
    assert "headcount" in err.value.message_dict
