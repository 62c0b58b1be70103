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
