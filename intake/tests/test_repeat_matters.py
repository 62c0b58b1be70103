"""Repeat petitions after closure, and matters already final (issue 18 #5).

The same person raising the same matter again (DOMAIN.md §3: the same content category and organ,
or the same related legal case number) is a repeat visit (重复访) whether the earlier case is open,
closed or final, and is counted in 重复信访率. A final matter (不再受理: re-review decided or a
review window lapsed, Arts 35-36; lawful termination, Art 37) is registered again only by an
explicit choice with a reason, at the desk and over the API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.models import Finality, FinalityReason
from petitions.models import Case, CaseEvent, Petitioner, Visit
from petitions.services import record_repeat_visit
from petitions.states import CaseState
from petitions.testing import make_petitioner, register
from reports.filters import parse_filters
from reports.indicators import compute

from .helpers import new_case_data

pytestmark = pytest.mark.django_db

DESK = "/desk/"
CASES = "/api/v1/cases/"
LEGAL_NUMBER = "（2024）冀0102执123号"


@pytest.fixture
def desk_client(client, cast):
    client.force_login(cast["reception"])
    return client


def closed_case(cast, person: Petitioner, **overrides) -> Case:
    """A case of ``person`` answered on the spot and closed (the desk's one-stop answer)."""
    data = new_case_data(
        petitioner=person.pk,
        answered_on_spot="on",
        answer="已当场解答。",
        **overrides,
    )
    client = _client_for(cast["reception"])
    response = client.post(DESK, data)
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.filter(main_petitioner=person).latest("pk")
    assert case.state == CaseState.CLOSED
    return case


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def make_final(case: Case, reason: str = FinalityReason.RE_REVIEW_DECIDED) -> Finality:
    # Written directly (appeals.services writes it at the end of a re-review): the desk only
    # reads it.
    return Finality.objects.create(case=case, reason=reason, final_at=timezone.now())


def first_visit(case: Case) -> Visit:
    return Visit.objects.get(case=case)


# --- a repeat of a closed case -------------------------------------------------------------------


def test_the_same_matter_after_closure_is_a_repeat_visit(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person, legal_case_number="")

    response = desk_client.post(DESK, new_case_data(petitioner=person.pk, legal_case_number=""))

    assert response.status_code == 302, response.content.decode()
    new = Case.objects.exclude(pk=earlier.pk).get(main_petitioner=person)
    assert first_visit(new).is_repeat
    event = CaseEvent.objects.get(case=new, kind="registered")
    assert event.data["repeat_of"] == earlier.number
    assert earlier.number in event.message


def test_the_same_legal_case_number_after_closure_is_a_repeat_whatever_the_category(
    desk_client, cast
):
    from petitions.models import ContentCategory

    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person, legal_case_number=LEGAL_NUMBER)
    other_category = ContentCategory.objects.exclude(pk=earlier.category_id).filter(
        children__isnull=True
    )[0]
    response = desk_client.post(
        DESK,
        new_case_data(
            petitioner=person.pk,
            category=other_category.pk,
            legal_case_number="(2024)冀0102执123号",  # ASCII brackets: the same number
        ),
    )
    assert response.status_code == 302, response.content.decode()
    new = Case.objects.exclude(pk=earlier.pk).get(main_petitioner=person)
    assert first_visit(new).is_repeat


def test_another_matter_after_closure_is_not_a_repeat(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person, legal_case_number=LEGAL_NUMBER)
    response = desk_client.post(
        DESK, new_case_data(petitioner=person.pk, legal_case_number="（2025）冀01民终9号")
    )
    assert response.status_code == 302
    new = Case.objects.exclude(pk=earlier.pk).get(main_petitioner=person)
    assert not first_visit(new).is_repeat


def test_a_new_case_with_a_reason_while_the_same_matter_is_open_is_a_repeat(desk_client, cast):
    person = make_petitioner(cast["reception"])
    open_case = register(cast["reception"], person, legal_case_number=LEGAL_NUMBER).case
    response = desk_client.post(
        DESK, new_case_data(petitioner=person.pk, new_case_reason="同一判决的另一项请求")
    )
    assert response.status_code == 302, response.content.decode()
    new = Case.objects.exclude(pk=open_case.pk).get(main_petitioner=person)
    assert first_visit(new).is_repeat


# --- 重复信访率 --------------------------------------------------------------------------------------


def test_repeat_petition_rate_counts_the_return_after_closure(desk_client, cast):
    """The issue's example: 15 visits in the period, one repeat visit on an open case and one
    return on the matter of a closed case: 2/15 (it was 1/15)."""
    reception = cast["reception"]
    people = [make_petitioner(reception, name=f"甲{i}") for i in range(12)]
    cases = [register(reception, p).case for p in people]
    # one repeat visit on an open case
    record_repeat_visit(
        actor=reception, case=cases[0], petitioner=people[0], channel=cases[0].channel
    )
    # one person's matter answered and closed at the desk, then the person comes back on it
    returning = make_petitioner(reception, name="乙")
    closed = closed_case(cast, returning)
    response = desk_client.post(DESK, new_case_data(petitioner=returning.pk))
    assert response.status_code == 302, response.content.decode()
    assert Visit.objects.count() == 15
    assert Case.objects.exclude(pk=closed.pk).filter(main_petitioner=returning).exists()

    today = timezone.localdate().isoformat()
    filters, form = parse_filters(
        {"from": today, "to": today, "center": str(reception.center_id)},
        user=cast["supervisor"],
    )
    assert filters is not None, form.errors
    values = {i.code: (i.numerator, i.denominator) for i in compute(filters).indicators}
    assert values["repeat_petition"] == (2, 15)


# --- a final matter (不再受理) ----------------------------------------------------------------------


def test_a_final_matter_is_not_registered_without_a_choice_and_a_reason(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person)
    make_final(earlier)
    data = new_case_data(petitioner=person.pk)

    response = desk_client.post(DESK, data)

    assert response.status_code == 200
    form = response.context["form"]
    assert "final_matter_reason" in form.errors
    page = response.content.decode()
    assert 'data-testid="final-matter-warning"' in page
    assert earlier.number in page
    assert "不再受理" in page
    assert 'name="final_matter_confirmed"' in page
    assert "请说明将已终结事项再次登记的理由" in page  # the field error, in Chinese
    assert Case.objects.filter(main_petitioner=person).count() == 1
    assert Visit.objects.filter(petitioner=person).count() == 1

    # the choice without a reason is refused too
    response = desk_client.post(DESK, {**data, "final_matter_confirmed": "on"})
    assert response.status_code == 200
    assert "final_matter_reason" in response.context["form"].errors
    assert Case.objects.filter(main_petitioner=person).count() == 1


def test_a_final_matter_registered_with_a_reason_keeps_it_in_the_history(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person)
    make_final(earlier, FinalityReason.REVIEW_WINDOW_LAPSED)
    reason = "信访人提出新的事实和证据（新的执行财产线索）"

    response = desk_client.post(
        DESK,
        new_case_data(
            petitioner=person.pk, final_matter_confirmed="on", final_matter_reason=reason
        ),
    )

    assert response.status_code == 302, response.content.decode()
    new = Case.objects.exclude(pk=earlier.pk).get(main_petitioner=person)
    visit = first_visit(new)
    assert visit.is_repeat
    assert reason in visit.notes
    event = CaseEvent.objects.get(case=new, kind="registered")
    assert event.data["final_case"] == earlier.number
    assert event.data["final_matter_reason"] == reason
    detail = desk_client.get(f"/cases/{new.pk}/")
    assert detail.status_code == 200
    assert reason in detail.content.decode()


def test_a_lawfully_terminated_matter_is_final_at_the_desk(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = register(cast["reception"], person, legal_case_number=LEGAL_NUMBER).case
    # lawful termination, as appeals leaves it: the state and the Finality row
    Case.objects.filter(pk=earlier.pk).update(state=CaseState.TERMINATED)
    make_final(earlier, FinalityReason.TERMINATED)

    response = desk_client.post(DESK, new_case_data(petitioner=person.pk))

    assert response.status_code == 200
    assert "final_matter_reason" in response.context["form"].errors
    assert Case.objects.filter(main_petitioner=person).count() == 1


def test_a_final_matter_typed_as_a_new_person_is_caught_by_the_id_number(desk_client, cast):
    from .helpers import valid_id

    number = valid_id()
    person = make_petitioner(cast["reception"], name="王五", id_number=number)
    earlier = closed_case(cast, person)
    make_final(earlier)

    response = desk_client.post(DESK, new_case_data(id_number=number))

    assert response.status_code == 200
    assert "final_matter_reason" in response.context["form"].errors
    assert Case.objects.filter(main_petitioner=person).count() == 1


def test_another_matter_of_a_person_with_a_final_matter_needs_no_reason(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person, legal_case_number=LEGAL_NUMBER)
    make_final(earlier)
    response = desk_client.post(
        DESK, new_case_data(petitioner=person.pk, legal_case_number="（2025）冀01民终9号")
    )
    assert response.status_code == 302, response.content.decode()


# --- the API -------------------------------------------------------------------------------------


def api_body(person: Petitioner, **overrides):
    body = {
        "petitioner_id": person.pk,
        "channel": "visit",
        "purpose": "appeal",
        "category": "court.execution",
        "organ": "court",
        "request": "请求法院依法执行判决。",
        "legal_case_number": LEGAL_NUMBER,
    }
    body.update(overrides)
    return body


def test_api_refuses_a_final_matter_without_confirmation_and_reason(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person)
    make_final(earlier)

    response = desk_client.post(CASES, api_body(person), content_type="application/json")

    assert response.status_code == 400, response.content
    errors = response.json()
    assert "final_matter_confirmed" in errors and "final_matter_reason" in errors
    assert Case.objects.filter(main_petitioner=person).count() == 1

    response = desk_client.post(
        CASES,
        api_body(person, final_matter_confirmed=True, final_matter_reason="新的事实和证据"),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.content
    new = Case.objects.get(pk=response.json()["id"])
    assert first_visit(new).is_repeat
    event = CaseEvent.objects.get(case=new, kind="registered")
    assert event.data["final_matter_reason"] == "新的事实和证据"


def test_api_counts_a_return_after_closure_as_a_repeat(desk_client, cast):
    person = make_petitioner(cast["reception"])
    earlier = closed_case(cast, person)
    response = desk_client.post(CASES, api_body(person), content_type="application/json")
    assert response.status_code == 201, response.content
    new = Case.objects.get(pk=response.json()["id"])
    assert new.pk != earlier.pk
    assert first_visit(new).is_repeat


def test_a_closed_case_of_another_center_still_makes_a_repeat(desk_client, cast, org):
    """Repeat counting is about the person and the matter (一人一档, province-wide), not about
    which center held the earlier case."""
    person = make_petitioner(cast["reception"])
    earlier = register(cast["reception"], person, legal_case_number=LEGAL_NUMBER).case
    # closed long ago at another center (moved there by a transfer, say)
    Case.objects.filter(pk=earlier.pk).update(
        state=CaseState.CLOSED,
        center=org.county_a,
        closed_at=timezone.now() - timedelta(days=400),
    )
    response = desk_client.post(DESK, new_case_data(petitioner=person.pk))
    assert response.status_code == 302, response.content.decode()
    new = Case.objects.exclude(pk=earlier.pk).get(main_petitioner=person)
    assert first_visit(new).is_repeat
