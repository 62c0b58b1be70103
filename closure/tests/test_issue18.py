"""Issue 18, closure items: internal contributions kept out of the printed reply (#4), the live
evaluation link shown only at delivery (#8), return-visit verdicts by the center, dated when
recorded (#9), the public page's rate limits (#10), return-visit date bounds (#12a)."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from closure import services
from closure.models import Reply, ReturnVisit
from closure.testing import DEFAULT_REPLY, bring_to_handling, bring_to_replied
from closure.tests.test_views import client_for
from petitions.models import Case

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
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
        assisting_officers=(cast["court"],),
    )


def version(case):
    return Case.objects.get(pk=case.pk).version


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


# --- #4 the assisting departments' contributions are internal ------------------------------------


def test_contributions_are_shown_beside_the_draft_but_not_prefilled_into_its_text(cast):
    case = handling(cast)
    contribution = f"{cast['court'].department}：已核实相关情况。"
    response = client_for(cast["police"]).get(reverse("closure:case", args=[case.pk]))
    html = response.content.decode()
    form = html.split('data-testid="reply-form"', 1)[1].split("</form>", 1)[0]
    assert contribution not in form  # not in the text that is printed
    panel = html.split('data-testid="contributions"', 1)[1].split("</section>", 1)[0]
    assert contribution in panel  # read-only, beside the draft


def test_contributions_never_reach_the_printed_reply(cast):
    case = handling(cast)
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    head = client_for(cast["head"])
    printed = head.get(reverse("closure:reply_print", args=[case.pk])).content.decode()
    pdf = head.get(reverse("closure:reply_pdf", args=[case.pk])).content
    for text in (printed, pdf_text(pdf)):
        assert "已核实相关情况" not in text


# --- #12a return-visit dates within bounds --------------------------------------------------------


def test_return_visit_far_in_the_future_is_refused_over_the_api(cast):
    r = replied(cast)
    api = api_for(cast["supervisor"])
    response = api.post(
        f"/api/v1/cases/{r.case.pk}/return-visits/",
        {"scheduled_for": "9999-12-31"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400, response.content
    assert "一年" in " ".join(response.json()["scheduled_for"])
    past = api.post(
        f"/api/v1/cases/{r.case.pk}/return-visits/",
        {"scheduled_for": str(timezone.localdate() - timedelta(days=1))},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert past.status_code == 400 and "scheduled_for" in past.json()
    assert not ReturnVisit.objects.filter(case=r.case).exists()


def test_return_visit_far_in_the_future_is_refused_on_the_form(cast):
    r = replied(cast)
    response = client_for(cast["supervisor"]).post(
        reverse("closure:visit_schedule", args=[r.case.pk]),
        {"expected_version": version(r.case), "scheduled_for": "9999-12-31"},
    )
    assert response.status_code == 400
    assert "一年" in response.content.decode()
    assert not ReturnVisit.objects.filter(case=r.case).exists()
    ok = client_for(cast["supervisor"]).post(
        reverse("closure:visit_schedule", args=[r.case.pk]),
        {
            "expected_version": version(r.case),
            "scheduled_for": str(timezone.localdate() + timedelta(days=30)),
        },
    )
    assert ok.status_code == 302 and ReturnVisit.objects.filter(case=r.case).count() == 1


_ = Reply


# --- #8 the live evaluation link only on the petitioner's copy at delivery ----------------------

READERS = (
    "court",  # assisting department
    "triage",
    "reception",
    "supervisor",
    "archivist",
    "leader",
    "province_supervisor",  # read-only upper center
    "police",  # the lead department itself, after delivery
    "head",
)


def test_nobody_reads_the_live_link_from_the_print_page_or_pdf_after_delivery(cast):
    r = replied(cast)
    for who in READERS:
        client = client_for(cast[who])
        printed = client.get(reverse("closure:reply_print", args=[r.case.pk]))
        pdf = client.get(reverse("closure:reply_pdf", args=[r.case.pk]))
        assert printed.status_code in (200, 404) and pdf.status_code in (200, 404), who
        html = printed.content.decode()
        assert r.token not in html and "/evaluate/" not in html and "<svg" not in html, who
        if pdf.status_code == 200:
            text = pdf_text(pdf.content).replace("\n", "")
            assert r.token not in text and "/evaluate/" not in text, who
            assert cast["police"].department.name in text and "申请" in text, who
        if printed.status_code == 200:
            # says how to obtain the link, without it
            assert 'data-testid="doc-evaluation-howto"' in html, who


def test_an_anonymous_post_with_a_link_read_off_the_print_page_is_impossible(cast, client):
    r = replied(cast)
    html = client_for(cast["supervisor"]).get(reverse("closure:reply_print", args=[r.case.pk]))
    assert r.token not in html.content.decode()


def test_the_delivery_step_hands_over_the_live_link_once(cast, client):
    case = handling(cast)
    services.save_reply_draft(actor=cast["police"], case=case, text=DEFAULT_REPLY, submit=True)
    services.approve_reply(actor=cast["head"], case=case)
    officer = client_for(cast["police"])
    before = officer.get(reverse("closure:reply_print", args=[case.pk])).content.decode()
    assert "/evaluate/" not in before  # not on the approved reply either
    response = officer.post(
        reverse("closure:reply_deliver", args=[case.pk]),
        {"expected_version": version(case), "method": "in_person", "signed": "yes"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert 'data-testid="handover-copy"' in html and "<svg" in html
    path = html.split('data-testid="doc-evaluation-url">', 1)[1].split("<", 1)[0].strip()
    assert "/evaluate/" in path
    assert client.get(path).status_code == 200  # the petitioner's link works
    again = officer.get(reverse("closure:reply_print", args=[case.pk])).content.decode()
    assert path not in again and "/evaluate/" not in again  # never shown again


def test_the_lead_department_reissues_the_link_and_the_old_one_dies(cast, client):
    r = replied(cast)
    for who in ("supervisor", "court", "triage"):
        with pytest.raises(services.PermissionDenied):
            services.reissue_evaluation_link(actor=cast[who], case=r.case)
    delivery = services.reissue_evaluation_link(actor=cast["police"], case=r.case)
    new_token = delivery.evaluation_path.rstrip("/").rsplit("/", 1)[-1]
    assert new_token != r.token
    assert client.get(r.evaluation_path).status_code == 404  # the old link is dead
    assert client.get(delivery.evaluation_path).status_code == 200
    event = r.case.events.get(kind="evaluation_link_reissued")
    assert event.actor == cast["police"] and new_token not in event.message
    assert new_token not in str(event.data)


def test_reissue_from_the_page_and_the_api_shows_the_new_link_to_the_lead_only(cast, client):
    r = replied(cast)
    url = reverse("closure:reissue_link", args=[r.case.pk])
    assert (
        client_for(cast["supervisor"]).post(url, {"expected_version": version(r.case)}).status_code
        == 403
    )
    page = (
        client_for(cast["police"]).get(reverse("closure:case", args=[r.case.pk])).content.decode()
    )
    assert 'data-testid="reissue-link-form"' in page
    response = client_for(cast["police"]).post(url, {"expected_version": version(r.case)})
    assert (
        response.status_code == 200 and 'data-testid="handover-copy"' in response.content.decode()
    )
    api = api_for(cast["police"]).post(
        f"/api/v1/cases/{r.case.pk}/reply/evaluation-link/", {}, format="json"
    )
    assert api.status_code == 200 and "/evaluate/" in api.json()["evaluation_url"]
    assert api_for(cast["court"]).post(
        f"/api/v1/cases/{r.case.pk}/reply/evaluation-link/", {}, format="json"
    ).status_code in (403, 404)
    assert client.get(api.json()["evaluation_url"]).status_code == 200


def test_a_used_link_is_not_reissued(cast):
    r = replied(cast)
    services.evaluate_by_link(
        case_id=r.case.pk, token=r.token, verdict=services.Verdict("satisfied", "satisfied")
    )
    with pytest.raises(services.DomainError):
        services.reissue_evaluation_link(actor=cast["police"], case=r.case)


# --- #9 a new verdict at a return visit is the center's, dated when recorded ---------------------

DISSATISFIED = services.Verdict("dissatisfied", "dissatisfied", "问题没有解决")
SATISFIED = services.Verdict("satisfied", "satisfied")


def visit(**kw):
    return services.VisitRecord(method="phone", outcome="电话回访，信访人表示理解", **kw)


def test_the_rated_department_cannot_overwrite_a_dissatisfied_verdict(cast):
    from closure.models import Evaluation

    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    with pytest.raises(services.PermissionDenied):
        services.record_return_visit(
            actor=cast["police"], case=r.case, record=visit(new_verdict=SATISFIED)
        )
    assert Evaluation.objects.filter(case=r.case).count() == 1
    # the department still records the visit it made, without a verdict
    row = services.record_return_visit(actor=cast["police"], case=r.case, record=visit())
    assert row.done_at is not None
    services.close_case(actor=cast["supervisor"], case=r.case)
    with pytest.raises(services.DomainError) as exc:
        services.archive_case(actor=cast["archivist"], case=r.case)
    assert exc.value.code == "evaluation_required"


def test_a_verdict_recorded_by_the_rated_department_does_not_count_for_archiving(cast):
    """Rows written before the fix (the police rated themselves 满意 at a 'return visit')."""
    from closure.models import Evaluation
    from closure.selectors import evaluation_for

    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    first = Evaluation.objects.get(case=r.case)
    Evaluation.objects.create(
        case=r.case,
        reply=r.reply,
        department=r.reply.department,
        center_rating="satisfied",
        department_rating="satisfied",
        channel="return_visit",
        recorded_by=cast["police"],
        evaluated_at=timezone.now() + timedelta(seconds=9),
    )
    assert evaluation_for(r.case) == first
    services.close_case(actor=cast["supervisor"], case=r.case)
    with pytest.raises(services.DomainError) as exc:
        services.archive_case(actor=cast["archivist"], case=r.case)
    assert exc.value.code == "evaluation_required"


def test_the_center_records_the_new_verdict_dated_now_and_in_the_history(cast):
    from closure.models import Evaluation

    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    before = timezone.now()
    row = services.record_return_visit(
        actor=cast["supervisor"],
        case=r.case,
        record=visit(new_verdict=services.Verdict("basically_satisfied", "satisfied")),
    )
    assert row.done_at >= before
    latest = Evaluation.objects.filter(case=r.case, channel="return_visit").get()
    assert latest.recorded_by == cast["supervisor"] and latest.evaluated_at == row.done_at
    event = r.case.events.filter(kind="evaluated", data__visit=row.pk).get()
    assert "不满意" in event.message  # the earlier verdict stays in view in the history
    services.close_case(actor=cast["supervisor"], case=r.case)
    assert services.archive_case(actor=cast["archivist"], case=r.case).archive_number


def test_the_visit_date_is_not_chosen_by_the_client(cast):
    r = replied(cast)
    response = api_for(cast["supervisor"]).post(
        f"/api/v1/cases/{r.case.pk}/return-visits/",
        {
            "method": "phone",
            "outcome": "电话回访",
            "done_at": (timezone.now() - timedelta(days=20)).isoformat(),
            "expected_version": version(r.case),
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400 and "done_at" in response.json()
    assert not ReturnVisit.objects.filter(case=r.case, done_at__isnull=False).exists()


def test_the_page_shows_the_link_verdict_beside_the_return_visit_verdict(cast):
    r = replied(cast)
    services.evaluate_by_link(case_id=r.case.pk, token=r.token, verdict=DISSATISFIED)
    services.record_return_visit(
        actor=cast["supervisor"], case=r.case, record=visit(new_verdict=SATISFIED)
    )
    html = client_for(cast["supervisor"]).get(reverse("closure:case", args=[r.case.pk]))
    html = html.content.decode()
    row = html.split('data-testid="visits"', 1)[1].split("</table>", 1)[0]
    earlier = row.split('data-testid="visit-earlier-verdict"', 1)[1].split("</td>", 1)[0]
    new = row.split('data-testid="visit-new-verdict"', 1)[1].split("</td>", 1)[0]
    assert "不满意" in earlier and "评价链接" in earlier
    assert "满意" in new and "不满意" not in new
    # the rated department is not offered a verdict on its own visit form
    police = client_for(cast["police"]).get(reverse("closure:case", args=[r.case.pk]))
    form = police.content.decode().split('data-testid="visit-form"', 1)[1].split("</form>", 1)[0]
    assert "center_rating" not in form


# --- #10 the public page's limits: failed lookups per client, attempts per link -----------------


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_successful_visits_from_one_shared_address_are_not_limited(cast, client, fresh_cache):
    r = replied(cast)
    others = [replied(cast) for _ in range(2)]
    for _ in range(10):
        for x in (r, *others):
            assert client.get(x.evaluation_path).status_code == 200  # 30 from one address


def test_failed_lookups_are_counted_per_client_behind_the_trusted_proxy(
    cast, client, settings, fresh_cache
):
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.NUM_PROXIES = 1
    settings.EVALUATION_RATE_LIMIT = 5
    r = replied(cast)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(5):
        bad = client.get("/evaluate/1/nothing/", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
        assert bad.status_code == 404
    assert (
        client.get("/evaluate/1/nothing/", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).status_code
        == 429
    )
    # another petitioner behind the same proxy is not locked out
    ok = client.get(r.evaluation_path, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert ok.status_code == 200
    # a client cannot choose its address by prepending to the header
    spoofed = client.get(
        "/evaluate/1/nothing/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", **proxy
    )
    assert spoofed.status_code == 429


def test_attempts_on_one_link_are_limited_whatever_the_address(cast, client, settings, fresh_cache):
    settings.EVALUATION_LINK_ATTEMPT_LIMIT = 4
    r = replied(cast)
    for i in range(4):
        assert client.get(r.evaluation_path, REMOTE_ADDR=f"192.0.2.{i}").status_code == 200
    assert client.get(r.evaluation_path, REMOTE_ADDR="192.0.2.200").status_code == 429
