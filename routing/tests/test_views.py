"""Screening queue, screening page, reassignment, department inbox, assignment page and notices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clocks.deadlines import CHINA_TZ
from clocks.models import Deadline, DeadlineKind
from core.models import DepartmentKind, User
from petitions.models import Case, Channel, ContentCategory
from petitions.states import CaseState
from petitions.testing import register
from routing.forms import beijing_today
from routing.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    NoticeKind,
    ProgressNote,
    RoutingRule,
    WrittenNotice,
)
from routing.services import (
    DepartmentDue,
    accept_assignment,
    add_progress_note,
    assign_case,
    not_accept,
    return_assignment,
    sign_for_assignment,
    submit_contribution,
)

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def due(days: int = 30):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def case(cast) -> Case:
    return register(cast["reception"]).case


def assign(
    org, cast, case, *, lead=DepartmentKind.POLICE, assisting=(DepartmentKind.COURT,), days=30
):
    return assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(org.dept(org.city, lead), due(days)),
        assisting=[DepartmentDue(org.dept(org.city, k), due(days - 10)) for k in assisting],
    )


def screen_url(case: Case) -> str:
    return reverse("routing:screen", args=[case.pk])


def assign_post(case: Case, lead, *, lead_due=None, assisting=(), version=None, **extra) -> dict:
    default_due = (beijing_today() + timedelta(days=30)).isoformat()
    data = {
        "decision": "assign",
        "assign-expected_version": version if version is not None else case.version,
        "assign-lead": lead.pk,
        "assign-lead_due": lead_due or default_due,
        "assign-assisting": [d.pk for d, _due in assisting],
        "assign-instructions": "请依法处理并书面答复。",
    }
    for department, assist_due in assisting:
        data[f"assign-assisting_due_{department.pk}"] = assist_due or default_due
    data.update(extra)
    return data


# --- role guards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reception", "police", "archivist"])
def test_roles_other_than_triage_and_supervisor_cannot_open_the_queue(cast, who):
    assert client_for(cast[who]).get(reverse("routing:triage_queue")).status_code == 403


def test_reception_cannot_screen(cast, case):
    client = client_for(cast["reception"])
    assert client.get(screen_url(case)).status_code == 403
    police = case.center.departments.get(kind=DepartmentKind.POLICE)
    assert client.post(screen_url(case), assign_post(case, police)).status_code == 403
    assert not Assignment.objects.exists()


def test_reception_and_officers_cannot_reassign(org, cast, case):
    assign(org, cast, case)
    url = reverse("routing:reassign", args=[case.pk])
    assert client_for(cast["reception"]).get(url).status_code == 403
    assert client_for(cast["police"]).get(url).status_code == 403


@pytest.mark.parametrize("who", ["triage", "reception", "supervisor"])
def test_center_staff_cannot_open_the_inbox(cast, who):
    assert client_for(cast[who]).get(reverse("routing:inbox")).status_code == 403


def test_anonymous_is_sent_to_login(case):
    for url in (reverse("routing:triage_queue"), screen_url(case), reverse("routing:inbox")):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_triage_cannot_screen_a_case_of_another_center_any_more_than_a_missing_one(cast):
    county_case = register(cast["county_reception"]).case
    city = client_for(cast["triage"])
    # the city sees the county's case (read-only) but does not screen it
    assert city.get(screen_url(county_case)).status_code == 404
    assert client_for(cast["outsider"]).get(screen_url(county_case)).status_code == 404
    assert city.get(reverse("routing:screen", args=[county_case.pk + 1000])).status_code == 404
    assert client_for(cast["county_triage"]).get(screen_url(county_case)).status_code == 200


def test_officer_opening_another_departments_assignment_gets_the_same_404_as_a_missing_one(
    org, cast, case
):
    lead, _assist = assign(org, cast, case)
    justice = client_for(cast["justice"])
    url = reverse("routing:assignment_detail", args=[lead.pk])
    missing = reverse("routing:assignment_detail", args=[lead.pk + 1000])
    other = justice.get(url)
    absent = justice.get(missing)
    assert other.status_code == absent.status_code == 404
    assert other.content == absent.content
    # the actions too, and the case page itself
    assert justice.post(reverse("routing:assignment_sign", args=[lead.pk])).status_code == 404
    assert justice.get(reverse("petitions:case_detail", args=[case.pk])).status_code == 404
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING
    # the county's police officer is another department too
    assert client_for(cast["county_police"]).get(url).status_code == 404


# --- the screening queue ------------------------------------------------------------------------------


def queue_rows(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'data-testid="queue-row" data-case="(\d+)"', response.content.decode()
        )
    ]


def test_queue_lists_the_centers_cases_awaiting_screening_oldest_first(org, cast):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        older = register(cast["reception"]).case
    newer = register(cast["reception"]).case
    assigned = register(cast["reception"]).case
    assign(org, cast, assigned, assisting=())
    register(cast["county_reception"])  # another center's
    response = client_for(cast["triage"]).get(reverse("routing:triage_queue"))
    assert response.status_code == 200
    assert queue_rows(response) == [older.pk, newer.pk]
    body = response.content.decode()
    assert 'data-testid="count-new">2<' in body
    assert 'data-testid="count-returned">0<' in body
    assert 'data-testid="count-open">3<' in body
    # the 15-day screening clock: registered 3 days ago leaves 12 (or 13) days
    match = re.search(
        rf'data-case="{older.pk}".*?data-testid="clock" data-level="(\w+)" data-days="(-?\d+)"',
        body,
        re.S,
    )
    assert match and match.group(1) == "on_time" and int(match.group(2)) in (12, 13)


def test_all_open_tab_includes_assigned_cases_at_my_center(org, cast, case):
    assigned = register(cast["reception"]).case
    assign(org, cast, assigned, assisting=())
    response = client_for(cast["triage"]).get(reverse("routing:triage_queue") + "?tab=open")
    assert set(queue_rows(response)) == {case.pk, assigned.pk}


def test_returned_tab_shows_cases_the_department_sent_back(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    return_assignment(actor=cast["police"], assignment=lead, reason="不属于本单位职责。")
    response = client_for(cast["triage"]).get(reverse("routing:triage_queue") + "?tab=returned")
    assert queue_rows(response) == [case.pk]
    assert 'data-testid="count-returned">1<' in response.content.decode()


def test_overdue_screening_clock_is_shown_in_red(cast, case):
    screening = Deadline.objects.get(case=case, kind=DeadlineKind.SCREENING)
    with time_machine.travel(screening.due_at + timedelta(days=2)):
        response = client_for(cast["triage"]).get(reverse("routing:triage_queue"))
    body = response.content.decode()
    assert 'class="row-overdue"' in body
    assert (
        'data-level="overdue" data-days="-3"' in body
        or 'data-level="overdue" data-days="-2"' in body
    )
    assert "days overdue" in body


def test_queue_filters_by_flag_channel_and_category(cast):
    urgent = register(cast["reception"], is_major_urgent=True).case
    letter = register(cast["reception"], channel=Channel.objects.get(code="letter")).case
    plain = register(cast["reception"]).case
    client = client_for(cast["triage"])
    url = reverse("routing:triage_queue")
    assert queue_rows(client.get(url, {"flags": ["major_urgent"]})) == [urgent.pk]
    assert queue_rows(client.get(url, {"channel": letter.channel_id})) == [letter.pk]
    parent = ContentCategory.objects.get(code="court.execution").parent
    rows = queue_rows(client.get(url, {"category": parent.pk}))
    assert set(rows) == {urgent.pk, letter.pk, plain.pk}
    response = client.get(url, {"flags": ["major_urgent"]})
    assert 'data-testid="count-new">1<' in response.content.decode()


def test_repeat_visits_are_flagged_and_filterable(cast, case):
    from petitions.services import record_repeat_visit

    record_repeat_visit(
        actor=cast["reception"], case=case, petitioner=case.main_petitioner, channel=case.channel
    )
    other = register(cast["reception"]).case
    client = client_for(cast["triage"])
    response = client.get(reverse("routing:triage_queue"), {"flags": ["repeat"]})
    assert queue_rows(response) == [case.pk]
    assert 'data-flag="repeat"' in response.content.decode()
    assert other.pk in queue_rows(client.get(reverse("routing:triage_queue")))


def test_queue_query_count_does_not_grow_with_rows(cast, django_assert_num_queries):
    client = client_for(cast["triage"])
    url = reverse("routing:triage_queue")
    for _ in range(3):
        register(cast["reception"], is_major_urgent=True)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert len(queue_rows(response)) == 3
    for _ in range(17):
        register(cast["reception"], is_major_urgent=True)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(queue_rows(response)) == 20


def test_tab_counts_are_one_aggregate_query(cast, case):
    client = client_for(cast["triage"])
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("routing:triage_queue"))
    # Issue 21: the unfiltered tabs read the kept counts (one indexed query), never a COUNT
    # over the center's cases; a filtered view still counts live in one aggregate.
    counting = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    kept = [q["sql"] for q in ctx.captured_queries if "petitions_casestatecount" in q["sql"]]
    assert not [q for q in counting if 'FROM "petitions_case"' in q] and len(kept) == 1
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("routing:triage_queue"), {"flags": "group"})
    counting = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"] and 'FROM "petitions_case"' in q["sql"]
    ]
    assert len(counting) == 1 and "FILTER" in counting[0]


# --- the screening page -------------------------------------------------------------------------------


def test_screening_page_shows_the_facts_flags_and_the_suggested_lead(org, cast, case):
    RoutingRule.objects.create(category=case.category, department_kind=DepartmentKind.JUSTICE)
    again = register(cast["reception"], case.main_petitioner).case
    assign(org, cast, case, assisting=())
    response = client_for(cast["triage"]).get(screen_url(again))
    assert response.status_code == 200
    body = response.content.decode()
    justice = org.dept(org.city, DepartmentKind.JUSTICE)
    assert f'<option value="{justice.pk}" selected>' in body
    assert 'data-testid="screening-flags"' in body and "Art 19" in body
    assert again.request in body
    assert f'name="assign-expected_version" value="{again.version}"' in body
    # only the case's own center's departments are offered
    county_police = org.dept(org.county_a, DepartmentKind.POLICE)
    assert f'value="{county_police.pk}"' not in body
    assert reverse("petitions:case_detail", args=[again.pk]) in body


def test_assigning_with_a_lead_and_an_assisting_department_each_with_its_own_due_date(
    org, cast, case
):
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    lead_day = beijing_today() + timedelta(days=40)
    assist_day = beijing_today() + timedelta(days=20)
    response = client_for(cast["triage"]).post(
        screen_url(case),
        assign_post(
            case, police, lead_due=lead_day.isoformat(), assisting=[(court, assist_day.isoformat())]
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("petitions:case_detail", args=[case.pk])
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assist = Assignment.objects.get(case=case, role=AssignmentRole.ASSIST)
    assert lead.department == police and assist.department == court
    assert lead.due_at.astimezone(CHINA_TZ).date() == lead_day
    assert assist.due_at.astimezone(CHINA_TZ).date() == assist_day
    assert lead.instructions == "请依法处理并书面答复。"
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED


def test_default_due_date_is_sixty_days_ahead(org, cast, case):
    body = client_for(cast["triage"]).get(screen_url(case)).content.decode()
    expected = (beijing_today() + timedelta(days=60)).isoformat()
    assert f'name="assign-lead_due" value="{expected}"' in body


def test_assign_form_refuses_another_centers_department(org, cast, case):
    county_police = org.dept(org.county_a, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    client = client_for(cast["triage"])
    response = client.post(screen_url(case), assign_post(case, county_police))
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors["lead"]
    response = client.post(
        screen_url(case),
        assign_post(case, court, assisting=[(county_police, None)]),
    )
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors["assisting"]
    assert not Assignment.objects.exists()
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED


def test_assign_form_refuses_a_due_date_in_the_past(org, cast, case):
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    yesterday = (beijing_today() - timedelta(days=1)).isoformat()
    client = client_for(cast["triage"])
    response = client.post(screen_url(case), assign_post(case, police, lead_due=yesterday))
    assert response.status_code == 400
    assert "in the future" in str(response.context["forms"]["assign"].errors["lead_due"])
    response = client.post(
        screen_url(case), assign_post(case, police, assisting=[(court, yesterday)])
    )
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors[f"assisting_due_{court.pk}"]
    assert not Assignment.objects.exists()


def test_lead_cannot_also_assist(org, cast, case):
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client_for(cast["triage"]).post(
        screen_url(case), assign_post(case, police, assisting=[(police, None)])
    )
    assert response.status_code == 400
    assert response.context["forms"]["assign"].errors["assisting"]


def test_second_triage_decision_on_a_changed_case_gets_the_stale_message(org, cast, case):
    rendered_version = case.version
    # someone else assigns the case after our page was rendered
    assign(org, cast, case, assisting=())
    response = client_for(cast["triage"]).post(
        screen_url(case),
        {
            "decision": "not_accept",
            "not_accept-expected_version": rendered_version,
            "not_accept-reason": "不属于信访事项",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by someone else" in body and "reload" in body
    assert "stale" in body  # the message's tag
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED
    assert not WrittenNotice.objects.filter(case=case).exists()


def test_not_accept_needs_a_reason_and_then_offers_the_notice(cast, case):
    client = client_for(cast["triage"])
    data = {"decision": "not_accept", "not_accept-expected_version": case.version}
    response = client.post(screen_url(case), {**data, "not_accept-reason": "  "})
    assert response.status_code == 400
    assert response.context["forms"]["not_accept"].errors["reason"]
    response = client.post(
        screen_url(case), {**data, "not_accept-reason": "不属于信访事项"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("routing:triage_queue")
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.NOT_ACCEPTED)
    body = response.content.decode()
    assert 'data-testid="issued-notice"' in body
    assert reverse("routing:notice", args=[notice.pk]) in body
    assert reverse("routing:notice_pdf", args=[notice.pk]) in body
    case.refresh_from_db()
    assert case.state == CaseState.NOT_ACCEPTED


def test_refer_out_and_route_into_legal_procedure(cast):
    a = register(cast["reception"]).case
    b = register(cast["reception"]).case
    client = client_for(cast["triage"])
    response = client.post(
        screen_url(a),
        {
            "decision": "refer",
            "refer-expected_version": a.version,
            "refer-competent_organ": "市人社局",
            "refer-reason": "劳动争议",
        },
    )
    assert response.status_code == 302
    response = client.post(
        screen_url(b),
        {
            "decision": "legal",
            "legal-expected_version": b.version,
            "legal-organ": "市中级人民法院",
            "legal-procedure": "审判监督程序",
            "legal-legal_case_number": "（2025）冀01民申12号",
        },
    )
    assert response.status_code == 302
    assert WrittenNotice.objects.get(case=a).kind == NoticeKind.REFERRAL
    assert WrittenNotice.objects.get(case=b).kind == NoticeKind.LEGAL_PROCEDURE
    b.refresh_from_db()
    assert b.state == CaseState.LEGAL_PROCEDURE and b.legal_case_number == "（2025）冀01民申12号"


def test_transfer_offers_other_centers_of_the_province_subordinate_first(org, cast, case):
    form = client_for(cast["triage"]).get(screen_url(case)).context["forms"]["transfer"]
    choices = list(form.fields["to_center"].queryset)
    assert choices[:2] == [org.county_a, org.county_b]
    assert org.province in choices
    assert org.city not in choices and org.other_province not in choices


def test_transfer_to_another_province_is_a_form_error(org, cast, case):
    response = client_for(cast["triage"]).post(
        screen_url(case),
        {
            "decision": "transfer",
            "transfer-expected_version": case.version,
            "transfer-to_center": org.other_province.pk,
            "transfer-reason": "x",
        },
    )
    assert response.status_code == 400
    assert response.context["forms"]["transfer"].errors["to_center"]


def test_transfer_moves_the_case_into_the_county_queue(org, cast, case):
    response = client_for(cast["triage"]).post(
        screen_url(case),
        {
            "decision": "transfer",
            "transfer-expected_version": case.version,
            "transfer-to_center": org.county_a.pk,
            "transfer-reason": "越级访，转属地办理",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert WrittenNotice.objects.filter(case=case, kind=NoticeKind.TRANSFER).exists()
    assert case.pk not in queue_rows(response)
    county = client_for(cast["county_triage"]).get(reverse("routing:triage_queue"))
    assert queue_rows(county) == [case.pk]


def test_returned_case_is_confirmed_then_assigned_again(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    return_assignment(actor=cast["police"], assignment=lead, reason="不属于本单位职责。")
    case.refresh_from_db()
    client = client_for(cast["triage"])
    page = client.get(screen_url(case))
    assert "不属于本单位职责。" in page.content.decode()
    assert "assign" not in page.context["forms"] and "confirm" in page.context["forms"]
    response = client.post(
        screen_url(case),
        {"decision": "confirm", "confirm-expected_version": case.version, "confirm-note": ""},
    )
    assert response.status_code == 302 and response["Location"] == screen_url(case)
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED
    justice = org.dept(org.city, DepartmentKind.JUSTICE)
    assert client.post(screen_url(case), assign_post(case, justice)).status_code == 302
    assert Assignment.objects.get(case=case, state=AssignmentState.PENDING).department == justice


def test_supervisor_reads_the_screening_page_without_decision_forms(cast, case):
    response = client_for(cast["supervisor"]).get(screen_url(case))
    assert response.status_code == 200
    assert response.context["forms"] == {}
    assert 'data-testid="read-only"' in response.content.decode()


def test_unknown_decision_is_a_bad_request(cast, case):
    response = client_for(cast["triage"]).post(screen_url(case), {"decision": "bogus"})
    assert response.status_code == 400


# --- reassignment -------------------------------------------------------------------------------------


def test_supervisor_reassigns_with_a_reason(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    justice = org.dept(org.city, DepartmentKind.JUSTICE)
    client = client_for(cast["supervisor"])
    url = reverse("routing:reassign", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    police = org.dept(org.city, DepartmentKind.POLICE)
    assert f'<option value="{police.pk}" selected>' in page.content.decode()
    data = {
        "reassign-expected_version": case.version,
        "reassign-lead": justice.pk,
        "reassign-lead_due": (beijing_today() + timedelta(days=30)).isoformat(),
        "reassign-reason": "",
    }
    assert client.post(url, data).status_code == 400
    response = client.post(url, {**data, "reassign-reason": "职责调整"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.state == AssignmentState.CANCELLED
    assert Assignment.objects.get(case=case, state=AssignmentState.PENDING).department == justice
    assert case.events.filter(kind="reassign", message="职责调整").exists()


def test_reassigning_a_case_not_yet_assigned_is_not_offered(cast, case):
    response = client_for(cast["triage"]).get(reverse("routing:reassign", args=[case.pk]))
    assert response.status_code == 200
    assert 'data-testid="not-reassignable"' in response.content.decode()


# --- the inbox ----------------------------------------------------------------------------------------


def inbox_rows(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'data-testid="inbox-row" data-case="\d+" data-assignment="(\d+)"',
            response.content.decode(),
        )
    ]


def test_inbox_tabs_and_counts(org, cast):
    police = cast["police"]
    new = assign(org, cast, register(cast["reception"]).case, assisting=())[0]
    mine = assign(org, cast, register(cast["reception"]).case, assisting=())[0]
    sign_for_assignment(actor=police, assignment=mine)
    soon = assign(org, cast, register(cast["reception"]).case, assisting=(), days=3)[0]
    returned = assign(org, cast, register(cast["reception"]).case, assisting=())[0]
    return_assignment(actor=police, assignment=returned, reason="不属于本单位职责。")
    assign(org, cast, register(cast["reception"]).case, lead=DepartmentKind.COURT, assisting=())
    client = client_for(police)
    url = reverse("routing:inbox")
    response = client.get(url)
    body = response.content.decode()
    counts = dict(re.findall(r'data-testid="count-(\w+)">(\d+)<', body))
    assert counts == {"new": "2", "mine": "1", "due_soon": "1", "overdue": "0", "returned": "1"}
    assert set(inbox_rows(response)) == {new.pk, soon.pk}
    assert inbox_rows(client.get(url, {"tab": "mine"})) == [mine.pk]
    assert inbox_rows(client.get(url, {"tab": "due_soon"})) == [soon.pk]
    assert inbox_rows(client.get(url, {"tab": "returned"})) == [returned.pk]
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        overdue = client_for(police).get(url, {"tab": "overdue"})
    assert inbox_rows(overdue) == [soon.pk]
    assert "days overdue" in overdue.content.decode() or "day overdue" in overdue.content.decode()


def test_my_cases_excludes_cases_another_officer_of_the_department_accepted(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    sign_for_assignment(actor=cast["head"], assignment=lead)
    accept_assignment(actor=cast["head"], assignment=lead)
    response = client_for(cast["police"]).get(reverse("routing:inbox"), {"tab": "mine"})
    assert inbox_rows(response) == []
    response = client_for(cast["head"]).get(reverse("routing:inbox"), {"tab": "mine"})
    assert inbox_rows(response) == [lead.pk]


def test_inbox_row_shows_what_the_officer_needs(org, cast, case):
    lead, _assist = assign(org, cast, case)
    body = client_for(cast["police"]).get(reverse("routing:inbox")).content.decode()
    assert case.number in body
    assert reverse("petitions:case_detail", args=[case.pk]) in body
    assert case.main_petitioner.name in body
    assert 'data-role="lead"' in body
    assert 'data-testid="clock"' in body


def test_inbox_filters_by_role_and_sorts_by_case_number(org, cast):
    first = register(cast["reception"]).case
    second = register(cast["reception"]).case
    lead = assign(org, cast, first, lead=DepartmentKind.COURT, assisting=(), days=10)[0]
    assist = assign(
        org, cast, second, lead=DepartmentKind.POLICE, assisting=(DepartmentKind.COURT,), days=30
    )[1]
    client = client_for(cast["court"])
    url = reverse("routing:inbox")
    assert inbox_rows(client.get(url, {"role": "assist"})) == [assist.pk]
    assert inbox_rows(client.get(url, {"role": "lead"})) == [lead.pk]
    assert inbox_rows(client.get(url, {"sort": "number"})) == [lead.pk, assist.pk]
    assert inbox_rows(client.get(url, {"sort": "-number"})) == [assist.pk, lead.pk]
    # the default is by due date: the assist is due after 20 days, the lead after 10
    assert inbox_rows(client.get(url)) == [lead.pk, assist.pk]
    assert inbox_rows(client.get(url, {"sort": "-due"})) == [assist.pk, lead.pk]


def test_inbox_of_an_uninvolved_department_is_empty(org, cast, case):
    assign(org, cast, case)
    response = client_for(cast["justice"]).get(reverse("routing:inbox"))
    assert inbox_rows(response) == []
    assert 'data-testid="inbox-empty"' in response.content.decode()


def test_inbox_query_count_does_not_grow_with_rows(org, cast, django_assert_num_queries):
    client = client_for(cast["police"])
    url = reverse("routing:inbox")
    for _ in range(3):
        assign(org, cast, register(cast["reception"]).case, assisting=())
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert len(inbox_rows(response)) == 3
    counting = [
        q["sql"]
        for q in few.captured_queries
        if "COUNT(" in q["sql"] and 'FROM "routing_assignment"' in q["sql"]
    ]
    assert len(counting) == 1
    for _ in range(17):
        assign(org, cast, register(cast["reception"]).case, assisting=())
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(inbox_rows(response)) == 20


# --- receiving-side actions ---------------------------------------------------------------------------


def test_sign_for_from_the_inbox_row_returns_to_the_inbox(org, cast, case):
    lead, _assist = assign(org, cast, case)
    client = client_for(cast["police"])
    response = client.post(
        reverse("routing:assignment_sign", args=[lead.pk]), {"next": "/inbox/?tab=new"}
    )
    assert response.status_code == 302 and response["Location"] == "/inbox/?tab=new"
    lead.refresh_from_db()
    assert lead.state == AssignmentState.SIGNED and lead.signed_by == cast["police"]


def test_external_next_is_ignored(org, cast, case):
    lead, _assist = assign(org, cast, case)
    response = client_for(cast["police"]).post(
        reverse("routing:assignment_sign", args=[lead.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("routing:assignment_detail", args=[lead.pk])


def test_accepting_offers_the_acceptance_notice(org, cast, case):
    lead, _assist = assign(org, cast, case)
    client = client_for(cast["police"])
    client.post(reverse("routing:assignment_sign", args=[lead.pk]))
    response = client.post(reverse("routing:assignment_accept", args=[lead.pk]), follow=True)
    assert response.status_code == 200
    notice = WrittenNotice.objects.get(case=case, kind=NoticeKind.ACCEPTANCE)
    body = response.content.decode()
    assert 'data-testid="issued-notice"' in body
    assert reverse("routing:notice", args=[notice.pk]) in body
    case.refresh_from_db()
    assert case.state == CaseState.HANDLING


def test_accepted_assignment_offers_the_next_steps_of_the_case(org, cast, case):
    """After 签收 and 受理 the officer's page offers the reply and the extension request (the
    case page's own actions), not "no further action"."""
    lead, _assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["police"], assignment=lead)
    accept_assignment(actor=cast["police"], assignment=lead)
    page = client_for(cast["police"]).get(reverse("routing:assignment_detail", args=[lead.pk]))
    body = page.content.decode()
    assert 'data-testid="next-steps"' in body
    assert "No further action on this assignment." not in body
    steps = {a.name: a.url for a in page.context["next_steps"]}
    assert steps["closure.draft"] == reverse("closure:case", args=[case.pk]) + "#reply"
    assert steps["supervision.extension"] == (
        reverse("supervision_case:detail", args=[case.pk]) + "#extensions"
    )
    assert not any(name.startswith("routing.") for name in steps)  # this page's own forms
    for url in steps.values():
        assert f'href="{url}"' in body
    # the links lead to working pages with the forms named
    client = client_for(cast["police"])
    assert 'id="reply"' in client.get(reverse("closure:case", args=[case.pk])).content.decode()
    assert 'id="extensions"' in (
        client.get(reverse("supervision_case:detail", args=[case.pk])).content.decode()
    )


def test_pending_assignment_offers_no_next_steps_before_it_is_accepted(org, cast, case):
    lead, _assist = assign(org, cast, case)
    page = client_for(cast["police"]).get(reverse("routing:assignment_detail", args=[lead.pk]))
    assert [a.name for a in page.context["next_steps"]] == []


def test_signing_twice_shows_the_services_message(org, cast, case):
    lead, _assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["police"], assignment=lead)
    response = client_for(cast["police"]).post(reverse("routing:assignment_sign", args=[lead.pk]))
    assert response.status_code == 409
    assert "not waiting to be signed for" in response.content.decode()


def test_an_assisting_department_cannot_accept_the_case(org, cast, case):
    _lead, assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["court"], assignment=assist)
    response = client_for(cast["court"]).post(
        reverse("routing:assignment_accept", args=[assist.pk])
    )
    assert response.status_code == 409
    assert "Only the lead department" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.ASSIGNED


def test_return_needs_a_reason_and_shows_the_objection_deadline(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    client = client_for(cast["police"])
    page = client.get(reverse("routing:assignment_detail", args=[lead.pk]))
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    assert timezone.localtime(objection.due_at).strftime("%Y-%m-%d") in page.content.decode()
    url = reverse("routing:assignment_return", args=[lead.pk])
    response = client.post(url, {"return-reason": " "})
    assert response.status_code == 400
    assert response.context["return_form"].errors["reason"]
    response = client.post(url, {"return-reason": "不属于本单位职责。"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.RETURNED


def test_return_after_the_objection_period_is_refused_with_the_services_message(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    with time_machine.travel(objection.due_at + timedelta(minutes=1)):
        client = client_for(cast["police"])  # a fresh session: sessions last a working day
        page = client.get(reverse("routing:assignment_detail", args=[lead.pk]))
        response = client.post(
            reverse("routing:assignment_return", args=[lead.pk]),
            {"return-reason": "不属于本单位职责。"},
        )
    assert 'data-testid="objection-passed"' in page.content.decode()
    assert response.status_code == 409
    assert "5 working days to object ended" in response.content.decode()
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING


def test_internal_notes_stay_in_the_department_and_shared_ones_reach_the_others(org, cast, case):
    lead, assist = assign(org, cast, case)
    police = client_for(cast["police"])
    police.post(
        reverse("routing:assignment_note", args=[lead.pk]), {"note-text": "内部：已调取卷宗。"}
    )
    police.post(
        reverse("routing:assignment_note", args=[lead.pk]),
        {"note-text": "共享：已约谈信访人。", "note-shared_with_center": "on"},
    )
    assert ProgressNote.objects.filter(case=case).count() == 2
    own = police.get(reverse("routing:assignment_detail", args=[lead.pk])).content.decode()
    assert "内部：已调取卷宗。" in own and "共享：已约谈信访人。" in own
    court = client_for(cast["court"]).get(reverse("routing:assignment_detail", args=[assist.pk]))
    body = court.content.decode()
    assert "共享：已约谈信访人。" in body and "内部：已调取卷宗。" not in body


def test_empty_note_is_a_form_error(org, cast, case):
    lead, _assist = assign(org, cast, case)
    response = client_for(cast["police"]).post(
        reverse("routing:assignment_note", args=[lead.pk]), {"note-text": ""}
    )
    assert response.status_code == 400
    assert response.context["note_form"].errors["text"]


def test_the_lead_sees_the_assisting_departments_contribution(org, cast, case):
    lead, assist = assign(org, cast, case)
    court = client_for(cast["court"])
    court.post(reverse("routing:assignment_sign", args=[assist.pk]))
    response = court.post(
        reverse("routing:assignment_contribute", args=[assist.pk]),
        {"contribution-text": "法院执行情况：已立案执行。"},
    )
    assert response.status_code == 302
    assist.refresh_from_db()
    assert assist.state == AssignmentState.DONE
    lead_page = client_for(cast["police"]).get(reverse("routing:assignment_detail", args=[lead.pk]))
    assert "法院执行情况：已立案执行。" in lead_page.content.decode()


def test_contribution_before_signing_is_refused(org, cast, case):
    _lead, assist = assign(org, cast, case)
    response = client_for(cast["court"]).post(
        reverse("routing:assignment_contribute", args=[assist.pk]),
        {"contribution-text": "x"},
    )
    assert response.status_code == 409


def test_officer_uploads_an_attachment_to_the_assigned_case(org, cast, case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    lead, _assist = assign(org, cast, case)
    client = client_for(cast["police"])
    upload = SimpleUploadedFile("调查笔录.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        reverse("routing:assignment_attachment", args=[lead.pk]),
        {"attachment-kind": "evidence", "attachment-file": upload},
    )
    assert response.status_code == 302
    assert case.attachments.get().original_name == "调查笔录.pdf"
    bad = SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        reverse("routing:assignment_attachment", args=[lead.pk]),
        {"attachment-kind": "evidence", "attachment-file": bad},
    )
    assert response.status_code == 400
    assert response.context["attachment_form"].errors["file"]


def test_archived_case_offers_no_note_or_attachment_form_on_the_assignment(org, cast, case):
    """An archived file is read-only (the services refuse notes and uploads), so the assignment
    page offers neither form (issue 17 §4); before archiving both are there."""
    lead, _assist = assign(org, cast, case)
    client = client_for(cast["police"])
    url = reverse("routing:assignment_detail", args=[lead.pk])
    html = client.get(url).content.decode()
    assert 'data-testid="form-note"' in html and 'data-testid="form-attachment"' in html
    Case.objects.filter(pk=case.pk).update(state=CaseState.ARCHIVED)
    html = client.get(url).content.decode()
    assert 'data-testid="form-note"' not in html and 'data-testid="form-attachment"' not in html


# --- notices ------------------------------------------------------------------------------------------


@pytest.fixture
def notice(cast, case) -> WrittenNotice:
    return not_accept(actor=cast["triage"], case=case, reason="不属于信访事项")


def test_notice_page_prints_the_chinese_text(cast, notice):
    response = client_for(cast["triage"]).get(reverse("routing:notice", args=[notice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert notice.title in body and notice.number in body and "不属于信访事项" in body
    assert "css/print.css" in body
    assert notice.issuer in body


def test_notice_pdf_downloads(cast, notice):
    response = client_for(cast["triage"]).get(reverse("routing:notice_pdf", args=[notice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{notice.number}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_notices_are_visible_only_with_their_case(org, cast, case):
    lead, _assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["police"], assignment=lead)
    notice = accept_assignment(actor=cast["police"], assignment=lead)
    for who in ("police", "court", "triage", "supervisor"):
        assert (
            client_for(cast[who]).get(reverse("routing:notice", args=[notice.pk])).status_code
            == 200
        )
    for who in ("justice", "outsider", "county_triage"):
        client = client_for(cast[who])
        assert client.get(reverse("routing:notice", args=[notice.pk])).status_code == 404
        assert client.get(reverse("routing:notice_pdf", args=[notice.pk])).status_code == 404
    missing = reverse("routing:notice", args=[notice.pk + 1000])
    assert client_for(cast["triage"]).get(missing).status_code == 404


# --- admin --------------------------------------------------------------------------------------------


def test_admin_edits_routing_rules_and_reads_assignments(org, cast, case):
    superuser = User.objects.create_superuser("root", password="Root-pass-2026")
    assign(org, cast, case)
    client = Client()
    client.force_login(superuser)
    assert client.get(reverse("admin:routing_routingrule_changelist")).status_code == 200
    assert client.get(reverse("admin:routing_routingrule_add")).status_code == 200
    assert client.get(reverse("admin:routing_assignment_add")).status_code == 403
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    assert (
        client.get(reverse("admin:routing_assignment_history", args=[lead.pk])).status_code == 200
    )
    assert client.get(reverse("admin:routing_assignment_changelist")).status_code == 200
    assert client.get(reverse("admin:routing_writtennotice_changelist")).status_code == 200
    assert client.get(reverse("admin:routing_transfer_changelist")).status_code == 200


def test_assisting_department_sees_its_own_submitted_contribution(org, cast, case):
    _lead, assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["court"], assignment=assist)
    submit_contribution(actor=cast["court"], assignment=assist, text="已核实。")
    add_progress_note(actor=cast["court"], case=case, text="记录", shared_with_center=True)
    page = client_for(cast["court"]).get(reverse("routing:assignment_detail", args=[assist.pk]))
    assert 'data-testid="own-contribution"' in page.content.decode()


def test_a_form_returned_with_errors_puts_the_focus_on_the_field_to_correct(cast, case):
    response = client_for(cast["triage"]).post(
        screen_url(case),
        {"decision": "not_accept", "not_accept-expected_version": case.version},
    )
    body = response.content.decode()
    assert re.search(r'<textarea name="not_accept-reason"[^>]*autofocus', body)
    assert not re.search(r'<select name="assign-lead"[^>]*autofocus', body)
    assert "<details" in body and 'id="decision-not_accept" open' in body


def test_without_a_suggestion_no_lead_is_preselected(org, cast):
    unrouted = register(cast["reception"], organ=None).case
    response = client_for(cast["triage"]).get(screen_url(unrouted))
    assert response.context["suggested"] is None
    assert re.search(
        r'<select name="assign-lead"[^>]*>\s*<option value="" selected>', response.content.decode()
    )
