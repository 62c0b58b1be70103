"""The appeals pages, as each role, in Chinese: forms only for who may act, errors as messages."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.test import Client

from appeals.models import ReviewRequest, Termination
from clocks.deadlines import CHINA_TZ
from petitions.states import CaseState

pytestmark = pytest.mark.django_db


def day(d: str) -> datetime:
    y, m, dd = (int(x) for x in d.split("-"))
    return datetime(y, m, dd, 10, tzinfo=CHINA_TZ)


def login(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def page(case) -> str:
    return f"/cases/{case.pk}/appeals/"


def test_the_desk_records_a_review_and_the_city_sees_it_waiting(county_case, county, city):
    with time_machine.travel(day("2026-10-09")):
        response = login(county.reception).get(page(county_case))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="request-form"' in html and "复查" in html
        response = login(county.reception).post(
            f"{page(county_case)}review/",
            {
                "kind": "review",
                "channel": "in_person",
                "reason": "对处理意见不服",
                "expected_version": county_case.version,
                "submission_key": "form-1",
            },
        )
        assert response.status_code == 302
        # the double-clicked submit
        login(county.reception).post(
            f"{page(county_case)}review/",
            {
                "kind": "review",
                "channel": "in_person",
                "reason": "对处理意见不服",
                "expected_version": county_case.version,
                "submission_key": "form-1",
            },
        )
        assert ReviewRequest.objects.count() == 1
        queue = login(city.supervisor).get("/appeals/")
        assert queue.status_code == 200
        html = queue.content.decode()
        assert county_case.number in html and "2026-11-08" in html
        detail = login(city.supervisor).get(page(county_case))
        assert 'data-testid="decide-form"' in detail.content.decode()
        case_page = login(city.supervisor).get(f"/cases/{county_case.pk}/")
        assert f"/cases/{county_case.pk}/appeals/#decide-review" in case_page.content.decode()


def test_day_31_shows_the_reason_and_changes_nothing(county_case, county):
    with time_machine.travel(day("2026-10-21")):
        client = login(county.reception)
        html = client.get(page(county_case)).content.decode()
        assert 'data-testid="request-form"' not in html
        assert 'data-testid="window-closed"' in html
        response = client.post(
            f"{page(county_case)}review/",
            {
                "kind": "review",
                "channel": "in_person",
                "reason": "不服",
                "expected_version": county_case.version,
            },
        )
        assert response.status_code == 409
        assert "30" in response.content.decode()
    assert not ReviewRequest.objects.exists()


def test_a_missing_reason_is_a_field_error(county_case, county):
    with time_machine.travel(day("2026-10-09")):
        response = login(county.reception).post(
            f"{page(county_case)}review/",
            {
                "kind": "review",
                "channel": "in_person",
                "reason": "",
                "expected_version": county_case.version,
            },
        )
    assert response.status_code == 400
    assert not ReviewRequest.objects.exists()


def test_decision_and_printable_answer(county_case, county, city):
    from appeals import services

    with time_machine.travel(day("2026-10-09")):
        services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="不服"
        )
        county_case.refresh_from_db()
        response = login(city.supervisor).post(
            f"{page(county_case)}decide/",
            {
                "decision": "uphold",
                "answer": "维持原处理意见。",
                "expected_version": county_case.version,
            },
        )
        assert response.status_code == 302
        review = ReviewRequest.objects.get()
        answer = login(county.reception).get(f"/appeals/answers/{review.pk}/")
        assert answer.status_code == 200
        html = answer.content.decode()
        assert "信访事项复查意见书" in html and review.document_number in html and "复核" in html


def test_another_center_gets_404_everywhere(county_case, org, county, city):
    from appeals import services
    from appeals.testing import staff_for

    with time_machine.travel(day("2026-10-09")):
        review = services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="不服"
        )
        other = login(staff_for(org.county_b).supervisor)
        assert other.get(page(county_case)).status_code == 404
        assert other.get(f"/appeals/answers/{review.pk}/").status_code == 404
        assert other.post(f"{page(county_case)}decide/", {}).status_code == 404


def test_the_queue_is_for_supervisors_and_leaders(county):
    assert login(county.reception).get("/appeals/").status_code == 403


def test_termination_pages(county_case, county, province):
    # after the petitioner's review window (until 20 Oct) has passed unused (Art 37)
    with time_machine.travel(day("2026-10-22")):
        client = login(county.officer)
        assert 'data-testid="propose-form"' in client.get(page(county_case)).content.decode()
        response = client.post(
            f"{page(county_case)}termination/",
            {"grounds": "程序穷尽", "expected_version": county_case.version, "submission_key": "t"},
        )
        assert response.status_code == 302
        county_case.refresh_from_db()
        response = login(county.supervisor).post(
            f"{page(county_case)}termination/decide/",
            {"decision": "approve", "opinion": "同意", "expected_version": county_case.version},
        )
        assert response.status_code == 302
        county_case.refresh_from_db()
        queue = login(province.leader).get("/appeals/").content.decode()
        assert county_case.number in queue
        response = login(province.leader).post(
            f"{page(county_case)}termination/decide/",
            {
                "decision": "approve",
                "expected_version": county_case.version,
                "approving_body": "",
                "approval_date": "",
            },
        )
        assert response.status_code == 400
        response = login(province.leader).post(
            f"{page(county_case)}termination/decide/",
            {
                "decision": "approve",
                "expected_version": county_case.version,
                "approving_body": "省委政法委",
                "approval_date": "2026-10-08",
            },
        )
        assert response.status_code == 302
    county_case.refresh_from_db()
    assert county_case.state == CaseState.TERMINATED
    assert Termination.objects.get().state == "approved"


def test_the_queue_costs_the_same_for_one_or_three_requests(
    county, city, django_assert_max_num_queries
):
    from appeals import services
    from appeals.testing import delivered_case

    from .conftest import DELIVERED

    def add_one() -> None:
        case = delivered_case(county, delivered_at=DELIVERED)
        with time_machine.travel(day("2026-10-09")):
            services.request_review(actor=county.reception, case=case, kind="review", reason="不服")

    client = login(city.supervisor)
    add_one()
    with time_machine.travel(day("2026-10-10")), django_assert_max_num_queries(12) as one:
        assert client.get("/appeals/").status_code == 200
    add_one()
    add_one()
    limit = len(one.captured_queries)
    with time_machine.travel(day("2026-10-10")), django_assert_max_num_queries(limit):
        response = client.get("/appeals/")
    assert response.content.decode().count('data-testid="waiting-review"') == 3


def _form_values(html: str, form_id: str) -> dict[str, str]:
    """What a browser submits from the form as rendered (inputs' values, checked radios)."""
    import re

    form = re.search(rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>', html, re.S)
    assert form, form_id
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form[1]):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or ('type="radio"' in tag and " checked" not in tag):
            continue
        values[name[1]] = value[1] if value else ""
    return values


def test_the_provincial_approval_form_is_prefilled_and_marks_its_required_fields(
    county_case, county, province
):
    """Issue 17 §4 #2: the approving body and the date of approval are required for approving,
    marked so, and prefilled (the approver's center, today as an <input type=date> reads it), so
    that agreeing submits at the first attempt."""
    from appeals import services

    with time_machine.travel(day("2026-10-22")):
        services.propose_termination(actor=county.officer, case=county_case, grounds="程序穷尽")
        services.decide_termination(actor=county.supervisor, case=county_case, approve=True)
        client = login(province.leader)
        html = client.get(page(county_case)).content.decode()
        values = _form_values(html, "approve-termination")
        assert values["approving_body"] == province.center.name
        assert values["approval_date"] == "2026-10-22"  # ISO: what a date input accepts
        form = client.get(page(county_case)).context["termination_approve_form"]
        assert form.fields["approving_body"].required and form.fields["approval_date"].required
        response = client.post(
            f"{page(county_case)}termination/decide/", {**values, "decision": "approve"}
        )
        assert response.status_code == 302, response.content.decode()[:3000]
    county_case.refresh_from_db()
    assert county_case.state == CaseState.TERMINATED
    termination = Termination.objects.get()
    assert termination.approving_body == province.center.name
    assert str(termination.approval_date) == "2026-10-22"


def test_refusing_the_termination_needs_no_approving_body_nor_date(county_case, county, province):
    from appeals import services

    with time_machine.travel(day("2026-10-22")):
        services.propose_termination(actor=county.officer, case=county_case, grounds="程序穷尽")
        services.decide_termination(actor=county.supervisor, case=county_case, approve=True)
        county_case.refresh_from_db()
        response = login(province.leader).post(
            f"{page(county_case)}termination/decide/",
            {
                "decision": "reject",
                "opinion": "程序尚未穷尽",
                "expected_version": county_case.version,
                "approving_body": "",
                "approval_date": "",
            },
        )
        assert response.status_code == 302
    assert Termination.objects.get().state == "rejected"


def test_a_re_review_of_the_provinces_review_is_forwarded_and_its_outcome_recorded(province):
    """Issue 18 #2 (was issue 17 §4 #3): the province center has nobody above it in this
    deployment, so a re-review of its review is not decided there (Art 36: one level above the
    reviewing organ) but forwarded upward. No province user gets a decision form; every
    supervisor and leader, including whoever decided the review, finds it among the forwarded
    re-reviews and records the outcome received from above."""
    from appeals import services
    from appeals.testing import delivered_case

    from .conftest import DELIVERED

    case = delivered_case(province, delivered_at=DELIVERED)
    with time_machine.travel(day("2026-10-09")):
        services.request_review(actor=province.reception, case=case, kind="review", reason="不服")
        case.refresh_from_db()
        services.decide_review(
            actor=province.supervisor, case=case, decision="uphold", answer="维持原处理意见。"
        )
    with time_machine.travel(day("2026-10-25")):
        case.refresh_from_db()
        re_review = services.request_review(
            actor=province.reception, case=case, kind="re_review", reason="仍然不服"
        )
        assert re_review.forwarded_to
        for user in (province.supervisor, province.leader):
            client = login(user)
            queue = client.get("/appeals/")
            assert re_review not in [row["review"] for row in queue.context["rows"]]
            assert re_review in queue.context["forwarded"]
            assert 'data-testid="waiting-forwarded"' in queue.content.decode()
            html = client.get(page(case)).content.decode()
            assert 'data-testid="decide-form"' not in html
            assert 'data-testid="forwarded-note"' in html and re_review.forwarded_to in html
            assert 'data-testid="outcome-form"' in html
        case.refresh_from_db()
        response = login(province.supervisor).post(
            f"{page(case)}decide/",
            {
                "decision": "uphold",
                "answer": "维持复查意见。",
                "outcome_date": "2026-10-24",  # before the request: refused, nothing written
                "document_number": "中政复〔2026〕7号",
                "expected_version": case.version,
            },
        )
        assert response.status_code == 400
        assert "不能早于复核请求日期" in response.content.decode()
    with time_machine.travel(day("2026-11-10")):
        case.refresh_from_db()
        response = login(province.supervisor).post(
            f"{page(case)}decide/",
            {
                "decision": "uphold",
                "answer": "维持复查意见。",
                "outcome_date": "2026-11-05",
                "document_number": "中政复〔2026〕7号",
                "expected_version": case.version,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        html = login(province.leader).get(page(case)).content.decode()
    re_review.refresh_from_db()
    assert re_review.decision == "uphold" and str(re_review.outcome_date) == "2026-11-05"
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert 'data-testid="outcome-form"' not in html and "中政复〔2026〕7号" in html
    answer = login(province.leader).get(f"/appeals/answers/{re_review.pk}/").content.decode()
    assert "转报" in answer and "中政复〔2026〕7号" in answer


def _handling_case(staff):
    """A law-related case of ``staff.center`` accepted by its police department, no reply yet."""
    from datetime import timedelta

    from petitions.testing import make_petitioner, register
    from routing.services import (
        DepartmentDue,
        accept_assignment,
        assign_case,
        sign_for_assignment,
    )

    start = day("2026-09-10")
    with time_machine.travel(start, tick=True):
        case = register(staff.reception, make_petitioner(staff.reception)).case
        (lead,) = assign_case(
            actor=staff.triage,
            case=case,
            lead=DepartmentDue(staff.department, start + timedelta(days=30)),
        )
        sign_for_assignment(actor=staff.officer, assignment=lead)
        accept_assignment(actor=staff.officer, assignment=lead)
    case.refresh_from_db()
    return case


def test_while_the_case_is_handled_the_termination_section_says_when_it_becomes_possible(
    county,
):
    """Issue 17 §4 #4: not a bare "none proposed" but when termination can be proposed."""
    case = _handling_case(county)
    assert case.state == CaseState.HANDLING and case.is_law_related
    with time_machine.travel(day("2026-09-15")):
        response = login(county.officer).get(page(case))
    hint = response.context["termination_hint"]
    assert "书面答复送达" in hint and "复查" in hint and "复核" in hint
    assert 'data-testid="termination-hint"' in response.content.decode()
    assert 'data-testid="propose-form"' not in response.content.decode()


def test_with_the_review_window_open_the_hint_names_the_day_after_which(county_case, county, city):
    from appeals import services

    with time_machine.travel(day("2026-10-09")):
        html = login(county.officer).get(page(county_case)).content.decode()
    assert "可在2026-10-20之后提请" in html
    with time_machine.travel(day("2026-10-09")):
        services.request_review(actor=county.reception, case=county_case, kind="review", reason="x")
        html = login(county.officer).get(page(county_case)).content.decode()
    assert 'data-testid="termination-hint"' in html and "复核" in html
    # once the windows have passed, nothing to wait for: no hint
    with time_machine.travel(day("2026-10-12")):
        county_case.refresh_from_db()
        services.decide_review(
            actor=city.supervisor, case=county_case, decision="uphold", answer="维持"
        )
    with time_machine.travel(day("2026-11-20")):
        response = login(county.officer).get(page(county_case))
    assert response.context["termination_hint"] == ""


def _pdf_text(response) -> str:
    import io

    from pypdf import PdfReader

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def test_the_written_answer_of_a_review_has_a_pdf_like_the_page(county_case, county, city):
    """Issue 17 §4 #7: the review's written answer as a PDF, the same text as its print page."""
    from appeals import services

    with time_machine.travel(day("2026-10-09")):
        services.request_review(actor=county.reception, case=county_case, kind="review", reason="x")
        county_case.refresh_from_db()
        review = services.decide_review(
            actor=city.supervisor, case=county_case, decision="uphold", answer="维持原处理意见。"
        )
        client = login(county.reception)
        html = client.get(f"/appeals/answers/{review.pk}/").content.decode()
        assert f'href="/appeals/answers/{review.pk}/pdf/"' in html
        text = _pdf_text(client.get(f"/appeals/answers/{review.pk}/pdf/")).replace("\n", "")
    assert "信访事项复查意见书" in text and review.document_number in text
    assert "维持原处理意见。" in text and "请求复核" in text and city.center.name in text
    assert county_case.main_petitioner.name in text


def test_the_answer_pdf_is_404_before_the_decision_and_for_another_center(county_case, county, org):
    from appeals import services
    from appeals.testing import staff_for

    with time_machine.travel(day("2026-10-09")):
        review = services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="x"
        )
        assert login(county.reception).get(f"/appeals/answers/{review.pk}/pdf/").status_code == 404
        other = login(staff_for(org.county_b).supervisor)
        assert other.get(f"/appeals/answers/{review.pk}/pdf/").status_code == 404
        assert other.get(f"{page(county_case)}record/pdf/").status_code == 404


def test_the_staff_record_of_review_and_termination_prints_and_exports(county_case, county, city):
    """Issue 17 §4 #7: the staff's own record of the review (who recorded the request, its reason,
    who decided, the answer) can be printed and exported as a PDF."""
    from appeals import services

    with time_machine.travel(day("2026-10-09")):
        services.request_review(
            actor=county.reception, case=county_case, kind="review", reason="对处理意见不服"
        )
        county_case.refresh_from_db()
        review = services.decide_review(
            actor=city.supervisor, case=county_case, decision="uphold", answer="维持原处理意见。"
        )
        client = login(county.supervisor)
        assert (
            f'href="{page(county_case)}record/"' in client.get(page(county_case)).content.decode()
        )
        html = client.get(f"{page(county_case)}record/").content.decode()
        for expected in ("对处理意见不服", review.document_number, str(county.reception)):
            assert expected in html
        assert f'href="{page(county_case)}record/pdf/"' in html
        text = _pdf_text(client.get(f"{page(county_case)}record/pdf/")).replace("\n", "")
    assert "复查、复核及依法终结工作记录" in text and county_case.number in text
    assert "对处理意见不服" in text and review.document_number in text


def test_while_the_review_window_is_open_the_propose_form_is_not_offered_and_a_post_is_refused(
    county_case, county
):
    """Issue 18 #1: termination only after the procedures are exhausted (Art 37, DOMAIN.md §8)."""
    with time_machine.travel(day("2026-10-09")):
        client = login(county.officer)
        response = client.get(page(county_case))
        html = response.content.decode()
        assert 'data-testid="propose-form"' not in html
        assert "2026-10-20" in response.context["termination_hint"]
        response = client.post(
            f"{page(county_case)}termination/",
            {"grounds": "程序穷尽", "expected_version": county_case.version, "submission_key": "t"},
        )
    assert response.status_code == 409
    assert "2026-10-21" in response.content.decode()  # the message: from when it is possible
    assert not Termination.objects.exists()


def test_a_closed_case_with_its_review_window_open_says_until_when(county_case, county):
    """A reply accepted by the petitioner and the case closed still leaves the 30 days theirs."""
    from closure.services import close_case

    with time_machine.travel(day("2026-10-09")):
        close_case(actor=county.supervisor, case=county_case, note="已答复，结案。")
        response = login(county.officer).get(page(county_case))
    assert 'data-testid="propose-form"' not in response.content.decode()
    assert "2026-10-20" in response.context["termination_hint"]
    with time_machine.travel(day("2026-10-21")):
        response = login(county.officer).get(page(county_case))
    assert 'data-testid="propose-form"' in response.content.decode()
