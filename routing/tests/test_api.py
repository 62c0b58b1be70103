"""The routing API under /api/v1/: status codes, the permission boundary and the inbox."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clocks.models import Deadline, DeadlineKind
from conftest import make_user
from core.models import DepartmentKind
from core.roles import Role
from petitions.models import Case
from petitions.states import CaseState
from petitions.testing import register
from routing.models import (
    Assignment,
    AssignmentState,
    NoticeKind,
    ProgressNote,
    Transfer,
    WrittenNotice,
)
from routing.services import (
    DepartmentDue,
    accept_assignment,
    assign_case,
    reassign_case,
    return_assignment,
    sign_for_assignment,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
MISSING = 999_999_999


def client_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def relogin(user):
    """A new token: the old one expired while the test moved days ahead (TOKEN_IDLE_MINUTES)."""
    Token.objects.filter(user=user).delete()
    return client_for(user)


def iso(days=30):
    return (timezone.now() + timedelta(days=days)).isoformat()


def due(days=30):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def case(cast):
    return register(cast["reception"]).case


@pytest.fixture
def triage(cast):
    return client_for(cast["triage"])


@pytest.fixture
def police(cast):
    return client_for(cast["police"])


def assign(org, cast, case, assisting=(DepartmentKind.COURT,), days=30):
    """Set-up through the service (what the API under test acts on next)."""
    c = org.city
    return assign_case(
        actor=cast["triage"],
        case=case,
        lead=DepartmentDue(org.dept(c, DepartmentKind.POLICE), due(days)),
        assisting=[DepartmentDue(org.dept(c, k), due(20)) for k in assisting],
    )


def assign_body(org, lead=DepartmentKind.POLICE, assisting=(DepartmentKind.COURT,), **extra):
    return {
        "lead": {"department": org.dept(org.city, lead).pk, "due_at": iso(30)},
        "assisting": [
            {"department": org.dept(org.city, k).pk, "due_at": iso(20)} for k in assisting
        ],
        **extra,
    }


# --- screening ------------------------------------------------------------------------------------


def test_not_accepting_returns_the_case_state_and_the_notice(triage, case):
    response = triage.post(
        f"{API}/cases/{case.pk}/screen/",
        {"decision": "not_accept", "reason": "不属于信访事项", "expected_version": case.version},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["case"]["state"] == CaseState.NOT_ACCEPTED
    assert body["case"]["version"] == case.version + 1
    notice = WrittenNotice.objects.get(case=case)
    assert body["notice"]["id"] == notice.pk and body["notice"]["number"] == notice.number
    assert (
        body["notice"]["title"] == "不予受理告知书" and "不属于信访事项" in body["notice"]["body"]
    )
    assert body["notice"]["pdf_url"].endswith(f"{API}/notices/{notice.pk}/pdf/")
    assert Case.objects.get(pk=case.pk).state == CaseState.NOT_ACCEPTED


@pytest.mark.parametrize(
    ("payload", "state", "kind"),
    [
        (
            {"decision": "refer_out", "competent_organ": "市人社局", "reason": "劳动争议"},
            CaseState.REFERRED,
            NoticeKind.REFERRAL,
        ),
        (
            {
                "decision": "legal_procedure",
                "organ": "市中级人民法院",
                "procedure": "审判监督程序",
                "legal_case_number": "（2025）冀01民申12号",
            },
            CaseState.LEGAL_PROCEDURE,
            NoticeKind.LEGAL_PROCEDURE,
        ),
    ],
)
def test_referring_out_and_routing_into_legal_procedure_issue_their_notices(
    triage, case, payload, state, kind
):
    response = triage.post(f"{API}/cases/{case.pk}/screen/", payload, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["case"]["state"] == state
    assert response.json()["notice"]["kind"] == kind
    assert WrittenNotice.objects.filter(case=case, kind=kind).count() == 1


def test_screening_without_the_fields_of_its_decision_is_a_field_error(triage, case):
    response = triage.post(
        f"{API}/cases/{case.pk}/screen/", {"decision": "legal_procedure"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"organ", "procedure", "legal_case_number"}
    response = triage.post(f"{API}/cases/{case.pk}/screen/", {"decision": "x"}, format="json")
    assert response.status_code == 400 and "decision" in response.json()
    assert Case.objects.get(pk=case.pk).state == CaseState.REGISTERED


def test_reception_cannot_screen(cast, case):
    response = client_for(cast["reception"]).post(
        f"{API}/cases/{case.pk}/screen/", {"decision": "not_accept", "reason": "x"}, format="json"
    )
    assert response.status_code == 403


# --- assignment -----------------------------------------------------------------------------------


def test_assigning_creates_the_lead_and_assisting_assignments(org, triage, case):
    response = triage.post(
        f"{API}/cases/{case.pk}/assign/",
        assign_body(org, instructions="请依法办理", expected_version=case.version),
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["case"]["state"] == CaseState.ASSIGNED
    assert [(a["role"], a["department"]["kind"], a["state"]) for a in body["assignments"]] == [
        ("lead", DepartmentKind.POLICE, "pending"),
        ("assist", DepartmentKind.COURT, "pending"),
    ]
    assert body["assignments"][0]["instructions"] == "请依法办理"
    assert body["assignments"][0]["assigned_by"] == "triage"
    assert Assignment.objects.filter(case=case).count() == 2


def test_assigning_an_assigned_case_is_a_conflict(org, cast, triage, case):
    assign(org, cast, case)
    response = triage.post(f"{API}/cases/{case.pk}/assign/", assign_body(org), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert Assignment.objects.filter(case=case).count() == 2


def test_assigning_from_a_stale_version_is_a_conflict(org, triage, case):
    stale = case.version
    triage.post(f"{API}/cases/{case.pk}/screen/", {"decision": "not_accept", "reason": "x"})
    response = triage.post(
        f"{API}/cases/{case.pk}/assign/",
        assign_body(org, expected_version=stale),
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "stale"


def test_reception_cannot_assign(org, cast, case):
    response = client_for(cast["reception"]).post(
        f"{API}/cases/{case.pk}/assign/", assign_body(org), format="json"
    )
    assert response.status_code == 403
    assert not Assignment.objects.filter(case=case).exists()


def test_assigning_to_another_centers_department_is_a_field_error(org, triage, case):
    body = assign_body(org, assisting=())
    body["lead"]["department"] = org.dept(org.county_a, DepartmentKind.POLICE).pk
    response = triage.post(f"{API}/cases/{case.pk}/assign/", body, format="json")
    assert response.status_code == 400 and "lead" in response.json()
    assert not Assignment.objects.filter(case=case).exists()


def test_assigning_with_a_past_due_date_is_a_field_error(org, triage, case):
    body = assign_body(org)
    body["assisting"][0]["due_at"] = iso(-1)
    response = triage.post(f"{API}/cases/{case.pk}/assign/", body, format="json")
    assert response.status_code == 400 and "assisting_due" in response.json()
    assert Case.objects.get(pk=case.pk).state == CaseState.REGISTERED


def test_assigning_to_an_unknown_department_is_a_field_error(org, triage, case):
    body = assign_body(org)
    body["lead"]["department"] = MISSING
    body["assisting"].append({"department": MISSING + 1, "due_at": iso(20)})
    response = triage.post(f"{API}/cases/{case.pk}/assign/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"lead", "assisting"}
    assert str(MISSING + 1) in response.json()["assisting"][0]


def test_a_malformed_due_date_is_a_field_error(org, triage, case):
    body = assign_body(org)
    body["lead"]["due_at"] = "next week"
    response = triage.post(f"{API}/cases/{case.pk}/assign/", body, format="json")
    assert response.status_code == 400 and "due_at" in response.json()["lead"]


@pytest.mark.django_db(transaction=True)
def test_two_triage_staff_assigning_at_once_one_wins(org, cast):
    case = register(cast["reception"]).case
    other_triage = make_user("triage2", org.city, [Role.TRIAGE])
    clients = [client_for(cast["triage"]), client_for(other_triage)]
    bodies = [
        assign_body(org, lead=kind, assisting=(), expected_version=case.version)
        for kind in (DepartmentKind.POLICE, DepartmentKind.COURT)
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def work(client, body):
        try:
            barrier.wait()
            response = client.post(f"{API}/cases/{case.pk}/assign/", body, format="json")
            statuses.append(response.status_code)
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=work, args=pair) for pair in zip(clients, bodies, strict=True)
    ]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(statuses) == [200, 409]
    assert Assignment.objects.filter(case=case).count() == 1


def test_a_supervisor_reassigns_with_a_reason(org, cast, case):
    (lead,) = assign(org, cast, case, assisting=())
    body = assign_body(org, lead=DepartmentKind.JUSTICE, assisting=(), reason="职责调整")
    response = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/reassign/", body, format="json"
    )
    assert response.status_code == 200, response.content
    assert [a["department"]["kind"] for a in response.json()["assignments"]] == ["justice"]
    lead.refresh_from_db()
    assert lead.state == AssignmentState.CANCELLED
    no_reason = client_for(cast["supervisor"]).post(
        f"{API}/cases/{case.pk}/reassign/", assign_body(org, assisting=()), format="json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()


# --- transfer ---------------------------------------------------------------------------------------


def test_transferring_to_the_county_sends_the_case_with_a_notice(org, triage, case):
    response = triage.post(
        f"{API}/cases/{case.pk}/transfer/",
        {"to_center": org.county_a.pk, "reason": "越级访，转属地办理"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["transfer"]["to_center"] == org.county_a.name
    assert body["notice"]["kind"] == NoticeKind.TRANSFER
    assert Case.objects.get(pk=case.pk).center_id == org.county_a.pk
    assert Transfer.objects.filter(case=case).count() == 1


def test_transferring_to_an_unknown_or_foreign_center_is_a_field_error(org, triage, case):
    for center in (MISSING, org.other_province.pk):
        response = triage.post(
            f"{API}/cases/{case.pk}/transfer/",
            {"to_center": center, "reason": "x"},
            format="json",
        )
        assert response.status_code == 400 and "to_center" in response.json()
    assert not Transfer.objects.exists()


# --- the receiving department ----------------------------------------------------------------------


def test_the_lead_signs_for_and_accepts_the_case(org, cast, police, case):
    assign(org, cast, case)
    signed = police.post(f"{API}/cases/{case.pk}/sign/")
    assert signed.status_code == 200, signed.content
    assert signed.json()["assignment"]["state"] == "signed"
    assert signed.json()["assignment"]["signed_by"] == "police"
    assert signed.json()["case"]["state"] == CaseState.SIGNED
    assert signed.json()["notice"] is None
    accepted = police.post(f"{API}/cases/{case.pk}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["case"]["state"] == CaseState.HANDLING
    assert accepted.json()["assignment"]["handler"] == "police"
    assert accepted.json()["notice"]["kind"] == NoticeKind.ACCEPTANCE
    again = police.post(f"{API}/cases/{case.pk}/sign/")
    assert again.status_code == 409


def test_accepting_before_signing_is_a_conflict(org, cast, police, case):
    assign(org, cast, case)
    response = police.post(f"{API}/cases/{case.pk}/accept/")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_a_return_goes_back_to_triage_who_confirms_it(org, cast, police, triage, case):
    assign(org, cast, case, assisting=())
    returned = police.post(
        f"{API}/cases/{case.pk}/return/", {"reason": "不属于本单位职责。"}, format="json"
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["case"]["state"] == CaseState.RETURNED
    assert returned.json()["assignment"]["return_reason"] == "不属于本单位职责。"
    confirmed = triage.post(f"{API}/cases/{case.pk}/confirm-return/", {}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["state"] == CaseState.REGISTERED


def test_returning_needs_a_reason(org, cast, police, case):
    assign(org, cast, case, assisting=())
    response = police.post(f"{API}/cases/{case.pk}/return/", {"reason": " "}, format="json")
    assert response.status_code == 400 and "reason" in response.json()


def test_returning_after_the_five_working_days_is_a_conflict(org, cast, police, case):
    (lead,) = assign(org, cast, case, assisting=())
    objection = Deadline.objects.get(case=case, kind=DeadlineKind.OBJECTION, assignment_id=lead.pk)
    with time_machine.travel(objection.due_at + timedelta(minutes=1)):
        police = relogin(cast["police"])
        response = police.post(
            f"{API}/cases/{case.pk}/return/", {"reason": "不属于本单位职责。"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["code"] == "deadline_passed"
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING


def test_the_assisting_department_contributes(org, cast, case):
    assign(org, cast, case)
    court = client_for(cast["court"])
    assert court.post(f"{API}/cases/{case.pk}/sign/").status_code == 200
    response = court.post(
        f"{API}/cases/{case.pk}/contribution/",
        {"text": "法院执行情况：已立案执行。"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["assignment"]["state"] == "done"
    assert response.json()["assignment"]["contribution"] == "法院执行情况：已立案执行。"
    assert response.json()["case"]["state"] == CaseState.ASSIGNED


def test_triage_cannot_sign_for_a_department(org, cast, triage, case):
    assign(org, cast, case)
    assert triage.post(f"{API}/cases/{case.pk}/sign/").status_code == 403


def test_a_department_whose_assignment_was_cancelled_has_nothing_to_sign(org, cast, police, case):
    assign(org, cast, case, assisting=())
    reassign_case(
        actor=cast["triage"],
        case=case,
        reason="职责调整",
        lead=DepartmentDue(org.dept(org.city, DepartmentKind.JUSTICE), due()),
    )
    # police still sees the case it once had, but has no assignment of it to act on
    assert police.get(f"{API}/cases/{case.pk}/assignments/").status_code == 200
    assert police.post(f"{API}/cases/{case.pk}/sign/").status_code == 404


def test_another_departments_officer_gets_the_same_404_as_for_a_missing_case(org, cast, case):
    assign(org, cast, case)  # police leads, court assists: justice has nothing to do with it
    justice = client_for(cast["justice"])
    endpoints = [
        ("post", "screen"),
        ("post", "assign"),
        ("post", "sign"),
        ("post", "return"),
        ("post", "accept"),
        ("post", "contribution"),
        ("get", "notes"),
        ("post", "notes"),
        ("get", "assignments"),
        ("get", "notices"),
    ]
    for method, name in endpoints:
        theirs = getattr(justice, method)(f"{API}/cases/{case.pk}/{name}/", {}, format="json")
        missing = getattr(justice, method)(f"{API}/cases/{MISSING}/{name}/", {}, format="json")
        assert theirs.status_code == missing.status_code == 404, name
        assert theirs.json() == missing.json(), name
    assert Assignment.objects.filter(case=case, state=AssignmentState.PENDING).count() == 2


# --- notes, assignments, notices --------------------------------------------------------------------


def test_internal_notes_stay_in_the_department_and_shared_ones_reach_the_center(
    org, cast, police, triage, case
):
    assign(org, cast, case)
    internal = police.post(f"{API}/cases/{case.pk}/notes/", {"text": "已调取卷宗。"}, format="json")
    assert internal.status_code == 201, internal.content
    assert internal.json()["department"]["kind"] == "police"
    assert internal.json()["shared_with_center"] is False
    shared = police.post(
        f"{API}/cases/{case.pk}/notes/",
        {"text": "已约谈信访人。", "shared_with_center": True},
        format="json",
    )
    assert shared.status_code == 201
    texts = {
        who: [n["text"] for n in client.get(f"{API}/cases/{case.pk}/notes/").json()]
        for who, client in [
            ("police", police),
            ("head", client_for(cast["head"])),
            ("court", client_for(cast["court"])),
            ("triage", triage),
        ]
    }
    assert texts == {
        "police": ["已调取卷宗。", "已约谈信访人。"],
        "head": ["已调取卷宗。", "已约谈信访人。"],
        "court": ["已约谈信访人。"],
        "triage": ["已约谈信访人。"],
    }


def test_a_note_needs_text(org, cast, police, case):
    assign(org, cast, case)
    response = police.post(f"{API}/cases/{case.pk}/notes/", {"text": "  "}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert not ProgressNote.objects.exists()


def test_a_cases_assignments_and_notices_are_listed(org, cast, police, case):
    lead, _assist = assign(org, cast, case)
    sign_for_assignment(actor=cast["police"], assignment=lead)
    police.post(f"{API}/cases/{case.pk}/accept/")
    assignments = police.get(f"{API}/cases/{case.pk}/assignments/")
    assert assignments.status_code == 200
    assert [(a["role"], a["state"]) for a in assignments.json()] == [
        ("lead", "accepted"),
        ("assist", "pending"),
    ]
    notices = police.get(f"{API}/cases/{case.pk}/notices/")
    assert notices.status_code == 200
    assert [n["kind"] for n in notices.json()] == [NoticeKind.ACCEPTANCE]


def test_a_notice_downloads_as_pdf_for_those_who_see_the_case(org, cast, triage, case):
    triage.post(
        f"{API}/cases/{case.pk}/screen/",
        {"decision": "not_accept", "reason": "不属于信访事项"},
        format="json",
    )
    notice = WrittenNotice.objects.get(case=case)
    response = triage.get(f"{API}/notices/{notice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert notice.number in response["Content-Disposition"]
    outsider = client_for(cast["outsider"])
    theirs = outsider.get(f"{API}/notices/{notice.pk}/pdf/")
    missing = outsider.get(f"{API}/notices/{MISSING}/pdf/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


# --- the inbox ------------------------------------------------------------------------------------------


def police_inbox_cast(org, cast):
    """Police's assignments: two new (one due in 2 days), one signed by the officer, one returned."""
    c = org.city
    police_dept = org.dept(c, DepartmentKind.POLICE)

    def to_police(days):
        case = register(cast["reception"]).case
        (lead,) = assign_case(
            actor=cast["triage"], case=case, lead=DepartmentDue(police_dept, due(days))
        )
        return lead

    new = to_police(30)
    soon = to_police(2)
    mine = to_police(30)
    sign_for_assignment(actor=cast["police"], assignment=mine)
    returned = to_police(30)
    return_assignment(actor=cast["police"], assignment=returned, reason="不属于本单位职责。")
    # another department's assignment never shows in police's inbox
    assign_case(
        actor=cast["triage"],
        case=register(cast["reception"]).case,
        lead=DepartmentDue(org.dept(c, DepartmentKind.JUSTICE), due(1)),
    )
    return {"new": new, "soon": soon, "mine": mine, "returned": returned}


def test_the_inbox_tabs_show_the_departments_assignments_with_counts(org, cast, police):
    rows = police_inbox_cast(org, cast)
    ids = {
        tab: [r["id"] for r in police.get(f"{API}/inbox/?tab={tab}").json()["results"]]
        for tab in ("new", "mine", "due_soon", "overdue", "returned")
    }
    assert ids == {
        "new": [rows["soon"].pk, rows["new"].pk],  # soonest due first
        "mine": [rows["mine"].pk],
        "due_soon": [rows["soon"].pk],
        "overdue": [],
        "returned": [rows["returned"].pk],
    }
    page = police.get(f"{API}/inbox/").json()
    assert page["tab"] == "new" and page["next"] is None
    assert page["counts"] == {"new": 2, "mine": 1, "due_soon": 1, "overdue": 0, "returned": 1}
    assert page["results"][0]["warning_level"] in ("approaching", "severe")
    assert page["results"][0]["case"]["number"] == rows["soon"].case.number
    assert police.get(f"{API}/inbox/counts/").json() == page["counts"]
    assert police.get(f"{API}/inbox/?tab=new&role=assist").json()["results"] == []
    # "mine" is what the officer handles, or what nobody of the department handles yet
    head = client_for(cast["head"])
    assert head.get(f"{API}/inbox/counts/").json() == page["counts"]
    accept_assignment(actor=cast["police"], assignment=rows["mine"])
    assert head.get(f"{API}/inbox/counts/").json()["mine"] == 0
    assert police.get(f"{API}/inbox/counts/").json()["mine"] == 1


def test_assignments_past_their_due_date_move_to_overdue(org, cast, police):
    rows = police_inbox_cast(org, cast)
    with time_machine.travel(rows["soon"].due_at + timedelta(hours=1)):
        police = relogin(cast["police"])
        page = police.get(f"{API}/inbox/?tab=overdue").json()
    assert [r["id"] for r in page["results"]] == [rows["soon"].pk]
    assert page["results"][0]["warning_level"] == "overdue"
    assert page["results"][0]["days_remaining"] < 0
    assert page["counts"]["overdue"] == 1 and page["counts"]["due_soon"] == 0


def test_the_inbox_is_for_department_staff(cast):
    for who in ("reception", "triage", "supervisor"):
        client = client_for(cast[who])
        assert client.get(f"{API}/inbox/").status_code == 403, who
        assert client.get(f"{API}/inbox/counts/").status_code == 403, who


def test_an_unknown_inbox_tab_is_a_field_error(police):
    response = police.get(f"{API}/inbox/?tab=everything")
    assert response.status_code == 400 and "tab" in response.json()


def test_the_inbox_works_with_a_session_login(cast):
    client = APIClient()
    client.force_login(cast["police"])
    assert client.get(f"{API}/inbox/").status_code == 200


def test_the_inbox_query_count_does_not_grow_with_rows(
    org, cast, police, django_assert_num_queries
):
    police_inbox_cast(org, cast)
    police.get(f"{API}/inbox/counts/")  # the token's last use is written at most once a minute
    with CaptureQueriesContext(db_connection) as few:
        assert len(police.get(f"{API}/inbox/").json()["results"]) == 2
    for _ in range(5):
        police_inbox_cast(org, cast)
    with django_assert_num_queries(len(few)):
        assert len(police.get(f"{API}/inbox/").json()["results"]) == 12


def test_unauthenticated_requests_are_refused(case):
    assert APIClient().get(f"{API}/inbox/").status_code in (401, 403)
    assert APIClient().post(f"{API}/cases/{case.pk}/assign/", {}).status_code in (401, 403)
