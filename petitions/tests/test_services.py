import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.errors import IllegalTransition, PermissionDenied, StaleState
from core.models import PiiAccessLog
from petitions.models import Case, CaseEvent, Petitioner
from petitions.selectors import cases_visible_to, get_case_for
from petitions.services import (
    answer_on_spot,
    check_query_code,
    record_repeat_visit,
    reveal_pii,
    transition_case,
)
from petitions.states import CaseState
from petitions.testing import make_petitioner, register, resident_id

pytestmark = pytest.mark.django_db


def test_register_creates_case_visit_event_and_history(cast):
    reception = cast["reception"]
    reg = register(reception)
    case = reg.case
    assert case.state == CaseState.REGISTERED
    assert case.number.startswith("130100") and len(case.number) == 19
    assert check_query_code(case, reg.query_code) and not check_query_code(case, "WRONG123")
    assert case.visits.count() == 1
    event = CaseEvent.objects.get(case=case)
    assert (event.kind, event.actor) == ("registered", reception)
    history = case.history.get()
    assert history.history_user == reception and history.history_type == "+"


def test_personal_numbers_are_not_stored_in_clear(cast):
    number = resident_id(region="130102")
    petitioner = make_petitioner(cast["reception"], id_number=number, phone="13900001111")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM petitions_petitioner WHERE id = %s", [petitioner.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert number not in row and "13900001111" not in row
    assert petitioner.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert petitioner.phone_masked == "139****1111"


def test_reveal_is_logged_and_limited_to_roles_that_need_it(cast):
    number = resident_id()
    petitioner = make_petitioner(cast["reception"], id_number=number)
    case = register(cast["reception"], petitioner).case
    assert (
        reveal_pii(
            actor=cast["reception"], petitioner=petitioner, field_name="id_number", case=case
        )
        == number
    )
    assert (
        PiiAccessLog.objects.filter(
            user=cast["reception"], petitioner=petitioner, field="id_number", case=case
        ).count()
        == 1
    )
    with pytest.raises(PermissionDenied):
        reveal_pii(
            actor=cast["archivist"], petitioner=petitioner, field_name="id_number", case=case
        )
    assert PiiAccessLog.objects.count() == 1


def test_same_id_number_is_one_file(cast):
    number = resident_id()
    a = make_petitioner(cast["reception"], name="李四", id_number=number)
    b = make_petitioner(
        cast["reception"], name="李四", id_number=number.lower(), phone="13700000000"
    )
    assert a.pk == b.pk and Petitioner.objects.count() == 1


def test_six_representatives_are_refused_and_nothing_is_saved(cast):
    reception = cast["reception"]
    reps = [make_petitioner(reception, name=f"代表{i}") for i in range(6)]
    with pytest.raises(ValidationError) as exc:
        register(reception, representatives=reps, headcount=30)
    assert "representatives" in exc.value.message_dict
    assert Case.objects.count() == 0


def test_missing_request_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        register(cast["reception"], request="   ")
    assert "request" in exc.value.message_dict


def test_double_submit_creates_one_case(cast):
    reception = cast["reception"]
    petitioner = make_petitioner(reception)
    first = register(reception, petitioner, submission_key="form-123")
    second = register(reception, petitioner, submission_key="form-123")
    assert first.case.pk == second.case.pk and not second.created
    assert Case.objects.count() == 1


def test_repeat_visit_links_to_the_existing_case(cast):
    reception = cast["reception"]
    reg = register(reception)
    visit = record_repeat_visit(
        actor=reception,
        case=reg.case,
        petitioner=reg.case.main_petitioner,
        channel=reg.case.channel,
    )
    reg.case.refresh_from_db()
    assert visit.is_repeat and reg.case.visit_count == 2 and Case.objects.count() == 1
    assert reg.case.events.filter(kind="repeat_visit").exists()


def test_answer_on_spot_closes_in_one_step(cast):
    reg = register(cast["reception"])
    case = answer_on_spot(actor=cast["reception"], case=reg.case, answer="已当场解释法律规定。")
    assert case.state == CaseState.CLOSED and case.closed_at is not None
    assert case.history.count() == 2


def test_illegal_transition_is_refused(cast):
    reg = register(cast["reception"])
    with pytest.raises(IllegalTransition):
        transition_case(actor=cast["head"], case=reg.case, name="reply")
    with pytest.raises(PermissionDenied):
        transition_case(actor=cast["reception"], case=reg.case, name="assign")


def test_stale_version_is_refused(cast):
    reg = register(cast["reception"])
    with pytest.raises(StaleState):
        answer_on_spot(
            actor=cast["reception"],
            case=reg.case,
            answer="x",
            expected_version=reg.case.version + 1,
        )


def test_visibility_of_cases_across_centers(cast):
    city_case = register(cast["reception"]).case
    county_case = register(cast["county_reception"]).case
    assert set(cases_visible_to(cast["supervisor"])) == {city_case, county_case}
    assert set(cases_visible_to(cast["county_reception"])) == {county_case}
    assert set(cases_visible_to(cast["province_supervisor"])) == {city_case, county_case}
    assert not cases_visible_to(cast["outsider"]).exists()
    assert not cases_visible_to(cast["police"]).exists()  # nothing assigned yet
    from django.http import Http404

    with pytest.raises(Http404):
        get_case_for(cast["county_reception"], city_case.pk)
    with pytest.raises(Http404):
        get_case_for(cast["county_reception"], 10**9)
