"""The closure pages: who sees which form, errors as 400/403/409 pages with nothing changed, the
print page and PDF, the public evaluation page, and constant query counts on the lists."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from closure import services
from closure.models import Evaluation, Reply, ReturnVisit
from closure.testing import DEFAULT_REPLY, bring_to_handling, bring_to_replied
from core.models import User
from petitions.models import Case

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def handling(cast):
    return bring_to_handling(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        assisting_officers=(cast["court"],),
    )


def replied(cast):
    return bring_to_replied(
        reception=cast["reception"],
        triage=cast["triage"],
        officer=cast["police"],
        head=cast["head"],
    )


def page(case):
    return reverse("closure:case", args=[case.pk])


def test_officer_sees_the_draft_form_with_contributions_beside_it(cast):
    case = handling(cast)
    response = client_for(cast["police"]).get(page(case))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="reply-form"' in html and "起草信访处理意见书" in html
    assert cast["court"].department.name in html  # contribution shown beside the draft (internal)
    assert 'data-testid="approve-form"' not in html


def test_case_page_links_to_the_closure_page(cast):
    case = handling(cast)
    html = client_for(cast["police"]).get(reverse("petitions:case_detail", args=[case.pk]))
    assert 'data-testid="closure-link"' in html.content.decode()


def test_reply_without_legal_basis_shows_the_error_and_saves_nothing(cast):
    case = handling(cast)
    response = client_for(cast["police"]).post(
        reverse("closure:reply_save", args=[case.pk]),
        {
            "expected_version": case.version,
            "decision": "support",
            "facts_reasons": "事实",
            "legal_basis": "",
            "submit": "1",
        },
    )
    assert response.status_code == 400
    assert "法律法规依据" in response.content.decode()
    assert not Reply.objects.filter(case=case).exists()


def test_officer_approving_own_draft_gets_403_with_a_message(cast):
    case = handling(cast)
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    case.refresh_from_db()
    response = client_for(cast["police"]).post(
        reverse("closure:reply_approve", args=[case.pk]), {"expected_version": case.version}
    )
    assert response.status_code == 403
    assert "不能审批自己起草的答复" in response.content.decode()
    assert Reply.objects.get(case=case).status == "submitted"


def test_head_approves_then_the_print_page_and_pdf_render(cast):
    case = handling(cast)
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    case.refresh_from_db()
    head = client_for(cast["head"])
    assert 'data-testid="approve-form"' in head.get(page(case)).content.decode()
    response = head.post(
        reverse("closure:reply_approve", args=[case.pk]), {"expected_version": case.version}
    )
    assert response.status_code == 302
    printed = head.get(reverse("closure:reply_print", args=[case.pk])).content.decode()
    reply = Reply.objects.get(case=case)
    assert "信访处理意见书" in printed and reply.document_number in printed
    # no live evaluation link on a print anyone can open (issue 18 #8): how to ask for one
    assert case.center.name in printed and "/evaluate/" not in printed
    assert 'data-testid="doc-evaluation-howto"' in printed
    pdf = head.get(reverse("closure:reply_pdf", args=[case.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "信访处理意见书" in text and reply.document_number in text


def test_an_explanation_reply_prints_a_complete_handling_opinion(cast):
    """Issue 17 §4 #6: a 解释说明 reply printed "…现作如下解释说明。" with nothing after it. The
    opinion now says what the decision is and where the explanation stands, and nothing in it
    announces a text that does not follow."""
    import re

    from closure.document import compose

    case = handling(cast)
    assert DEFAULT_REPLY.decision == "explain"
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    reply = Reply.objects.get(case=case)
    doc = compose(reply, "http://testserver/e/")
    (opinion,) = [s for s in doc.sections if s.heading == "三、处理意见"]
    assert opinion.paragraphs, "the handling opinion is empty"
    for paragraph in opinion.paragraphs:
        assert not re.search(r"如下[。：:]?$", paragraph), paragraph
    text = "".join(opinion.paragraphs)
    assert "解释说明" in text and "不予支持" not in text
    printed = client_for(cast["head"]).get(reverse("closure:reply_print", args=[case.pk]))
    html = printed.content.decode()
    assert "现作如下解释说明。" not in html
    assert opinion.paragraphs[-1] in html
    pdf = client_for(cast["head"]).get(reverse("closure:reply_pdf", args=[case.pk]))
    from pypdf import PdfReader

    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "现作如下解释说明" not in pdf_text.replace("\n", "")


def test_print_page_is_404_before_approval(cast):
    case = handling(cast)
    assert (
        client_for(cast["police"]).get(reverse("closure:reply_print", args=[case.pk])).status_code
        == 404
    )


def test_delivery_form_records_delivery(cast):
    case = handling(cast)
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    case.refresh_from_db()
    response = client_for(cast["police"]).post(
        reverse("closure:reply_deliver", args=[case.pk]),
        {"expected_version": case.version, "method": "post", "signed": "no"},
    )
    assert response.status_code == 200  # the handover copy, with the link (issue 18 #8)
    case.refresh_from_db()
    assert case.state == "replied"
    reply = Reply.objects.get(case=case)
    assert reply.delivery_method == "post" and reply.signed is False


def test_public_evaluation_page_needs_no_login_and_shows_no_personal_data(cast, client):
    r = replied(cast)
    response = client.get(r.evaluation_path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert response.status_code == 200 and "评价" in html
    assert r.case.main_petitioner.name not in html and r.case.number not in html
    assert r.case.request not in html
    posted = client.post(
        r.evaluation_path,
        {"center_rating": "dissatisfied", "department_rating": "satisfied", "reasons": ""},
    )
    assert posted.status_code == 400 and not Evaluation.objects.exists()
    posted = client.post(
        r.evaluation_path,
        {"center_rating": "dissatisfied", "department_rating": "satisfied", "reasons": "太慢"},
    )
    assert posted.status_code == 200 and "谢谢" in posted.content.decode()
    again = client.get(r.evaluation_path)
    assert again.status_code == 410 and "只能使用一次" in again.content.decode()
    assert ReturnVisit.objects.filter(case=r.case, reason="dissatisfied").exists()


def test_after_a_dissatisfied_rating_the_public_page_tells_the_review_route(cast, client):
    """Issue 17 §4 #8: the petitioner is told which organ to ask for review (复查) and by what
    date: 30 days from the delivery of the written reply (Art 35)."""
    delivered = datetime(2026, 9, 20, 10, 0, tzinfo=BEIJING)
    with time_machine.travel(delivered, tick=False):
        r = replied(cast)
    answering = r.reply.department.center
    organ = answering.parent or answering
    with time_machine.travel(delivered + timedelta(days=2)):
        posted = client.post(
            r.evaluation_path,
            {
                "center_rating": "satisfied",
                "department_rating": "dissatisfied",
                "reasons": "未解决",
            },
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    html = posted.content.decode()
    assert posted.status_code == 200 and 'data-testid="review-route"' in html
    assert organ.name in html and "2026-10-20" in html and "复查" in html
    assert r.case.main_petitioner.name not in html


def test_a_satisfied_rating_shows_no_review_route(cast, client):
    r = replied(cast)
    posted = client.post(
        r.evaluation_path,
        {"center_rating": "satisfied", "department_rating": "basically_satisfied"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert posted.status_code == 200
    assert 'data-testid="review-route"' not in posted.content.decode()


def test_public_page_refuses_another_cases_link_and_an_expired_one(cast, client):
    first, second = replied(cast), replied(cast)
    other = f"/evaluate/{second.case.pk}/{first.token}/"
    assert client.get(other).status_code == 404
    with time_machine.travel(datetime.now(tz=BEIJING) + timedelta(days=31)):
        response = client.get(first.evaluation_path)
        assert response.status_code == 410 and "失效" in response.content.decode()


def test_public_page_is_rate_limited(cast, client, settings):
    settings.EVALUATION_RATE_LIMIT = 3
    cache.clear()
    for _ in range(3):
        assert client.get("/evaluate/1/nothing/").status_code == 404
    assert client.get("/evaluate/1/nothing/").status_code == 429
    cache.clear()


def test_archiving_a_dissatisfied_case_shows_the_rule(cast):
    r = replied(cast)
    services.evaluate_by_link(
        case_id=r.case.pk,
        token=r.token,
        verdict=services.Verdict("dissatisfied", "dissatisfied", "未解决"),
    )
    services.close_case(actor=cast["supervisor"], case=r.case)
    archivist = client_for(cast["archivist"])
    html = archivist.get(page(r.case)).content.decode()
    assert 'data-testid="archive-needs-override"' in html
    response = archivist.post(
        reverse("closure:archive", args=[r.case.pk]),
        {"expected_version": Case.objects.get(pk=r.case.pk).version, "override_reason": ""},
    )
    assert response.status_code == 409 and "不满意" in response.content.decode()
    assert Case.objects.get(pk=r.case.pk).state == "closed"


def test_the_archive_form_offers_the_override_only_when_the_rule_applies(cast):
    """Issue 17 §4 #5: a case rated satisfied is archived without an override; the form does not
    offer one (a dissatisfied case's form does: the test above)."""
    r = replied(cast)
    services.evaluate_by_link(
        case_id=r.case.pk, token=r.token, verdict=services.Verdict("satisfied", "satisfied")
    )
    services.close_case(actor=cast["supervisor"], case=r.case)
    archivist = client_for(cast["archivist"])
    response = archivist.get(page(r.case))
    html = response.content.decode()
    assert 'data-testid="archive-form"' in html
    assert 'name="override_reason"' not in html
    assert 'data-testid="archive-needs-override"' not in html
    response = archivist.post(
        reverse("closure:archive", args=[r.case.pk]),
        {"expected_version": Case.objects.get(pk=r.case.pk).version},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=r.case.pk).state == "archived"


def test_a_dissatisfied_case_offers_the_override_to_the_archivist(cast):
    r = replied(cast)
    services.evaluate_by_link(
        case_id=r.case.pk,
        token=r.token,
        verdict=services.Verdict("dissatisfied", "dissatisfied", "未解决"),
    )
    services.close_case(actor=cast["supervisor"], case=r.case)
    html = client_for(cast["supervisor"]).get(page(r.case)).content.decode()
    assert 'name="override_reason"' in html


def test_stale_form_is_refused_with_409(cast):
    case = handling(cast)
    old = case.version
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY)
    response = client_for(cast["police"]).post(
        reverse("closure:reply_save", args=[case.pk]),
        {
            "expected_version": old,
            "decision": "support",
            "facts_reasons": "a",
            "legal_basis": "b",
        },
    )
    assert response.status_code == 409


def test_other_departments_and_centers_get_404(cast):
    r = replied(cast)
    for who in ("justice", "outsider"):
        assert client_for(cast[who]).get(page(r.case)).status_code == 404


def test_pages_show_no_english_to_each_role(cast):
    r = replied(cast)
    for who in ("police", "head", "supervisor", "archivist", "reception"):
        html = client_for(cast[who]).get(page(r.case)).content.decode()
        for english in ("Written reply", "Evaluation", "Return visit", "Archive", "Submit"):
            assert f">{english}" not in html, (who, english)


def test_closure_inbox_lists_what_waits_with_a_constant_number_of_queries(
    cast, django_assert_max_num_queries
):
    def add_rows():
        case = handling(cast)
        services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
        r = replied(cast)
        services.evaluate_by_link(
            case_id=r.case.pk,
            token=r.token,
            verdict=services.Verdict("dissatisfied", "dissatisfied", "x"),
        )

    add_rows()
    head = client_for(cast["head"])
    url = reverse("closure:inbox")
    head.get(url)
    with django_assert_max_num_queries(20) as one:
        response = head.get(url)
    assert response.status_code == 200
    for _ in range(3):
        add_rows()
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = head.get(url)
    html = response.content.decode()
    assert html.count('data-case="') >= 8
    assert "待回访" in html and "待负责人审批的答复" in html


def test_case_closure_page_query_count_does_not_grow_with_visits_and_evaluations(
    cast, django_assert_max_num_queries
):
    r = replied(cast)
    supervisor = client_for(cast["supervisor"])
    supervisor.get(page(r.case))
    with django_assert_max_num_queries(60) as first:
        supervisor.get(page(r.case))
    services.evaluate_by_link(
        case_id=r.case.pk,
        token=r.token,
        verdict=services.Verdict("dissatisfied", "dissatisfied", "x"),
    )
    for _ in range(3):
        services.record_return_visit(
            actor=cast["police"],
            case=r.case,
            record=services.VisitRecord(method="phone", outcome="已回访"),
        )
    with django_assert_max_num_queries(len(first.captured_queries) + 2):
        supervisor.get(page(r.case))


def test_department_inbox_links_to_the_closure_inbox(cast):
    html = client_for(cast["police"]).get(reverse("routing:inbox")).content.decode()
    assert 'data-testid="closure-inbox-link"' in html
