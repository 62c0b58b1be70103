"""The case supervision page: who sees it, which forms each role gets, and each action's outcome."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from conftest import make_user
from core.models import DepartmentKind, User
from core.roles import Role
from petitions.models import CaseEvent
from petitions.testing import register
from routing.forms import beijing_today
from routing.models import NoticeKind, WrittenNotice
from supervision.models import (
    AccountabilityFinding,
    Bulletin,
    Consultation,
    ExtensionRequest,
    ExtensionState,
    LeaderResponsibility,
    OrderState,
    SupervisionOrder,
)
from supervision.services import (
    close_order,
    issue_supervision_order,
    record_accountability_finding,
    record_consultation,
    request_extension,
    send_reminder,
)

from .test_services import handling_case

# The page's URLs, whether or not config.urls includes supervision.case_urls yet: the project's
# URLconf first, then this app's (resolving takes the first match; reversing finds either).
urlpatterns = [path("", include("config.urls")), path("", include("supervision.case_urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def page(case) -> str:
    return reverse("supervision_case:detail", args=[case.pk])


def url(name: str, pk: int) -> str:
    return reverse(f"supervision_case:{name}", args=[pk])


def due_in(days: int) -> str:
    return (beijing_today() + timedelta(days=days)).isoformat()


def ids_in(response) -> set[str]:
    return set(re.findall(r'data-testid="([^"]+)"', response.content.decode()))


@pytest.fixture
def handling(org, cast):
    case, _ = handling_case(org, cast, assisting=[DepartmentKind.COURT])
    return case


@pytest.fixture
def court_head(org):
    return make_user("court_head", org.city, [Role.HEAD], org.dept(org.city, DepartmentKind.COURT))


# --- who sees the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "justice", "county_police"])
def test_a_case_that_is_not_yours_is_a_404(cast, handling, who):
    assert client_for(cast[who]).get(page(handling)).status_code == 404


def test_a_missing_case_is_the_same_404(cast):
    assert client_for(cast["supervisor"]).get("/supervision/cases/999999999/").status_code == 404


def test_login_is_required(client, handling):
    response = client.get(page(handling))
    assert response.status_code == 302 and "login" in response["Location"]


def test_page_shows_the_open_deadlines_with_level_and_days(cast, handling):
    response = client_for(cast["supervisor"]).get(page(handling))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kind="handling"' in html
    assert re.search(r'data-testid="clock" data-level="on_time" data-days="(59|60)"', html)


def test_officer_sees_request_extension_and_no_supervisor_forms(cast, handling):
    ids = ids_in(client_for(cast["police"]).get(page(handling)))
    assert "form-request-extension" in ids
    assert not ids & {"form-issue-order", "form-reminder", "form-finding", "form-bulletin"}


def test_supervisor_sees_the_supervision_forms_but_not_the_extension_request(cast, handling):
    ids = ids_in(client_for(cast["supervisor"]).get(page(handling)))
    assert {
        "form-issue-order",
        "form-reminder",
        "form-responsibility",
        "form-consultation",
        "form-finding",
        "form-bulletin",
    } <= ids
    assert "form-request-extension" not in ids


def test_province_supervisor_supervises_a_city_case_from_above(cast, handling):
    response = client_for(cast["province_supervisor"]).get(page(handling))
    assert response.status_code == 200 and "form-issue-order" in ids_in(response)


def test_assisting_department_reads_the_page_without_extension_forms(cast, handling):
    ids = ids_in(client_for(cast["court"]).get(page(handling)))
    assert "form-request-extension" not in ids and "form-issue-order" not in ids


def test_first_form_field_has_the_focus(cast, handling):
    html = client_for(cast["police"]).get(page(handling)).content.decode()
    assert re.search(r'<input[^>]*name="extension-days"[^>]*autofocus', html)
    assert html.count("autofocus") == 1


# --- extensions ---------------------------------------------------------------------------------------


def test_officer_requests_an_extension_and_the_head_sees_it_to_approve(cast, handling):
    response = client_for(cast["police"]).post(
        url("request_extension", handling.pk),
        {"extension-days": "20", "extension-reason": "需鉴定"},
    )
    assert response.status_code == 302
    assert response["Location"] == page(handling) + "#extensions"
    request = ExtensionRequest.objects.get(case=handling)
    assert (request.days, request.requested_by) == (20, cast["police"])
    head_page = client_for(cast["head"]).get(page(handling))
    assert "form-decide-extension" in ids_in(head_page)
    assert "form-request-extension" not in ids_in(head_page)  # once per period


def test_bad_extension_input_comes_back_as_form_errors(cast, handling):
    response = client_for(cast["police"]).post(
        url("request_extension", handling.pk), {"extension-days": "45", "extension-reason": ""}
    )
    assert response.status_code == 400
    form = response.context["extension_form"]
    assert set(form.errors) == {"days", "reason"}
    assert re.search(r'<input[^>]*name="extension-days"[^>]*autofocus', response.content.decode())
    assert not ExtensionRequest.objects.exists()


def test_a_second_extension_request_is_refused_with_a_message(cast, handling):
    request_extension(actor=cast["police"], case=handling, days=10, reason="复杂")
    response = client_for(cast["police"]).post(
        url("request_extension", handling.pk), {"extension-days": "5", "extension-reason": "再"}
    )
    assert response.status_code == 409
    assert "only once" in response.content.decode()
    assert ExtensionRequest.objects.count() == 1


def test_head_approves_and_the_notice_is_issued(cast, handling):
    request = request_extension(actor=cast["police"], case=handling, days=30, reason="需鉴定")
    response = client_for(cast["head"]).post(
        url("decide_extension", request.pk),
        {f"decide-{request.pk}-decision": "approve", f"decide-{request.pk}-note": "同意"},
        follow=True,
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.state == ExtensionState.APPROVED
    notice = WrittenNotice.objects.get(case=handling, kind=NoticeKind.EXTENSION)
    assert notice.number in response.content.decode()
    assert 'data-kind="extension"' in response.content.decode()


def test_rejection_without_a_note_is_a_form_error(cast, handling):
    request = request_extension(actor=cast["police"], case=handling, days=30, reason="需鉴定")
    response = client_for(cast["head"]).post(
        url("decide_extension", request.pk), {f"decide-{request.pk}-decision": "reject"}
    )
    assert response.status_code == 400
    assert "note" in response.context["extension_rows"][0].decide_form.errors
    request.refresh_from_db()
    assert request.state == ExtensionState.PENDING


def test_head_of_another_department_is_refused_with_403(cast, handling, court_head):
    request = request_extension(actor=cast["police"], case=handling, days=30, reason="需鉴定")
    response = client_for(court_head).post(
        url("decide_extension", request.pk), {f"decide-{request.pk}-decision": "approve"}
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.state == ExtensionState.PENDING


def test_decision_on_an_extension_of_a_case_you_cannot_see_is_404(cast, handling):
    request = request_extension(actor=cast["police"], case=handling, days=30, reason="需鉴定")
    response = client_for(cast["outsider"]).post(
        url("decide_extension", request.pk), {f"decide-{request.pk}-decision": "approve"}
    )
    assert response.status_code == 404


# --- orders and reminders -----------------------------------------------------------------------------


def test_supervisor_issues_an_order_and_the_department_answers_it(org, cast, handling):
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client_for(cast["supervisor"]).post(
        url("issue_order", handling.pk),
        {"order-requirement": "报告进展", "order-due": due_in(5), "order-department": police.pk},
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get(case=handling)
    assert order.department == police
    officer_page = client_for(cast["police"]).get(page(handling))
    assert "form-respond-order" in ids_in(officer_page)
    response = client_for(cast["police"]).post(
        url("respond_order", order.pk), {f"respond-{order.pk}-response": "已约谈信访人"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.RESPONDED
    response = client_for(cast["supervisor"]).post(url("close_order", order.pk), {})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.CLOSED


def test_order_with_a_past_date_is_a_form_error(cast, handling):
    response = client_for(cast["supervisor"]).post(
        url("issue_order", handling.pk), {"order-requirement": "督办", "order-due": due_in(-2)}
    )
    assert response.status_code == 400
    assert "due" in response.context["order_form"].errors
    assert not SupervisionOrder.objects.exists()


def test_an_order_without_a_chosen_department_names_the_lead_department(org, cast, handling):
    """督办单 致 公安局: the order names the department holding the case when it was issued, not
    "whoever holds the case"; in Chinese as in English."""
    police = org.dept(org.city, DepartmentKind.POLICE)
    response = client_for(cast["supervisor"]).post(
        url("issue_order", handling.pk),
        {"order-requirement": "三日内报告进展", "order-due": due_in(5), "order-department": ""},
    )
    assert response.status_code == 302
    order = SupervisionOrder.objects.get(case=handling)
    assert order.department == police
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast["supervisor"])
    body = client.get(page(handling)).content.decode()
    addressee = re.search(r'data-testid="order-addressee">([^<]*)<', body)
    assert addressee is not None and addressee.group(1) == police.name
    assert "当前持有该信访件者" not in body


def test_another_department_cannot_answer_the_order(org, cast, handling):
    order = issue_supervision_order(
        actor=cast["supervisor"],
        case=handling,
        requirement="报告",
        due_at=timezone.now() + timedelta(days=5),
        department=org.dept(org.city, DepartmentKind.POLICE),
    )
    response = client_for(cast["court"]).post(
        url("respond_order", order.pk), {f"respond-{order.pk}-response": "答复"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.OPEN


def test_reminder_double_click_sends_once(cast, handling):
    client = client_for(cast["supervisor"])
    data = {"reminder-message": "请加快办理"}
    first = client.post(url("send_reminder", handling.pk), data, follow=True)
    second = client.post(url("send_reminder", handling.pk), data, follow=True)
    assert first.status_code == second.status_code == 200
    assert "not sent twice" in second.content.decode()
    assert CaseEvent.objects.filter(case=handling, kind="reminder").count() == 1


def test_officer_posting_a_reminder_gets_403(cast, handling):
    response = client_for(cast["police"]).post(
        url("send_reminder", handling.pk), {"reminder-message": "催"}
    )
    assert response.status_code == 403
    assert not CaseEvent.objects.filter(case=handling, kind="reminder").exists()


def test_actions_on_a_closed_case_are_refused_with_a_message(cast):
    from petitions.services import answer_on_spot

    case = register(cast["reception"]).case
    answer_on_spot(actor=cast["reception"], case=case, answer="已解答")
    response = client_for(cast["supervisor"]).post(
        url("send_reminder", case.pk), {"reminder-message": "催"}
    )
    assert response.status_code == 409
    assert "no longer open" in response.content.decode()
    # Findings stay possible on a closed case; orders and reminders are not offered.
    ids = ids_in(client_for(cast["supervisor"]).get(page(case)))
    assert "form-finding" in ids and "form-reminder" not in ids


# --- 包案, consultations, findings, bulletins ---------------------------------------------------------


def test_leader_responsibility_is_assigned_and_the_leader_resolves_it(cast, handling):
    response = client_for(cast["supervisor"]).post(
        url("assign_responsibility", handling.pk),
        {
            "responsibility-leader": cast["leader"].pk,
            "responsibility-handler": cast["police"].pk,
            "responsibility-due": due_in(30),
            "responsibility-target_result": "息诉罢访",
        },
    )
    assert response.status_code == 302
    responsibility = LeaderResponsibility.objects.get(case=handling)
    leader_page = client_for(cast["leader"]).get(page(handling))
    assert "form-resolve-responsibility" in ids_in(leader_page)
    assert "form-responsibility" not in ids_in(leader_page)  # one at a time
    response = client_for(cast["leader"]).post(
        url("resolve_responsibility", responsibility.pk),
        {f"resolve-{responsibility.pk}-result": "已化解"},
    )
    assert response.status_code == 302
    responsibility.refresh_from_db()
    assert responsibility.is_resolved


def test_only_leaders_are_offered_as_responsible_leader(cast, handling):
    response = client_for(cast["supervisor"]).get(page(handling))
    leaders = response.context["responsibility_form"].fields["leader"].queryset
    assert list(leaders) == [cast["leader"]]
    response = client_for(cast["supervisor"]).post(
        url("assign_responsibility", handling.pk),
        {
            "responsibility-leader": cast["supervisor"].pk,
            "responsibility-due": due_in(30),
            "responsibility-target_result": "化解",
        },
    )
    assert response.status_code == 400
    assert "leader" in response.context["responsibility_form"].errors


def test_consultation_finding_and_bulletin_are_recorded_from_the_page(org, cast, handling):
    client = client_for(cast["leader"])
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    held = timezone.localtime() - timedelta(hours=1)
    response = client.post(
        url("record_consultation", handling.pk),
        {
            "consultation-held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "consultation-departments": [police.pk, court.pk],
            "consultation-participants": "承办人",
            "consultation-decisions": "法院牵头",
        },
    )
    assert response.status_code == 302
    assert set(Consultation.objects.get(case=handling).departments.all()) == {police, court}
    response = client.post(
        url("record_finding", handling.pk),
        {"finding-officer": cast["police"].pk, "finding-finding": "超期未办"},
    )
    assert response.status_code == 302
    assert AccountabilityFinding.objects.get(case=handling).officer == cast["police"]
    response = client.post(
        url("issue_bulletin", handling.pk),
        {
            "bulletin-title": "通报",
            "bulletin-body": "超期办理",
            "bulletin-departments": [police.pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    bulletin = Bulletin.objects.get()
    assert list(bulletin.cases.all()) == [handling]
    assert f'data-bulletin="{bulletin.pk}"' in response.content.decode()


def test_finding_without_a_department_or_officer_is_a_form_error(cast, handling):
    response = client_for(cast["supervisor"]).post(
        url("record_finding", handling.pk), {"finding-finding": "超期未办"}
    )
    assert response.status_code == 400
    assert response.context["finding_form"].non_field_errors()
    assert not AccountabilityFinding.objects.exists()


def test_text_is_escaped_on_output(cast, handling):
    send_reminder(actor=cast["supervisor"], case=handling, message="<script>alert(1)</script>")
    html = client_for(cast["supervisor"]).get(page(handling)).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_page_query_count_does_not_grow_with_rows(
    org, cast, handling, django_assert_max_num_queries
):
    client = client_for(cast["supervisor"])
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)

    def add_rows() -> None:
        for department in (police, court):
            issue_supervision_order(
                actor=cast["supervisor"],
                case=handling,
                requirement="督办",
                due_at=timezone.now() + timedelta(days=5),
                department=department,
            )
        record_consultation(
            actor=cast["supervisor"],
            case=handling,
            held_at=timezone.now(),
            departments=[police, court],
            participants="",
            decisions="决定",
        )
        record_accountability_finding(
            actor=cast["supervisor"], case=handling, department=police, finding="超期"
        )
        send_reminder(actor=cast["leader"], case=handling, message="催")

    add_rows()
    client.get(page(handling))  # warm up (session, content types)
    with django_assert_max_num_queries(40) as captured:
        client.get(page(handling))
    few = len(captured.captured_queries)
    for order in SupervisionOrder.objects.all():  # one open order per department at a time
        close_order(actor=cast["supervisor"], order=order)
    add_rows()
    with django_assert_max_num_queries(few) as captured:
        response = client.get(page(handling))
    assert len(response.context["order_rows"]) == 4
    assert len(response.context["consultations"]) == 2
