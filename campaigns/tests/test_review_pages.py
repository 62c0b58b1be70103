# ruff: noqa: F811 (pytest fixtures imported from review_fixtures are redefined as arguments)
"""Quality review pages, and what an outside reviewer can and cannot reach."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns import services
from campaigns.models import CaseReview, ObjectionState, SampledCase
from core.models import User
from core.roles import Role
from petitions.models import Attachment, CaseEvent, CasePetitioner
from petitions.testing import make_petitioner, resident_id

from .review_fixtures import (  # noqa: F401 (fixtures)
    STRONG_PASSWORD,
    handled,
    lawyer,
    review,
    scores_for,
    scores_totalling,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = resident_id(region="130102")
PHONE = "13912345678"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(review: Any, handled: Any, cast: dict, lawyer: User) -> dict[str, Any]:
    """A sampled case of the city police (its petitioner with a real ID and phone) assigned to
    the lawyer, and a handled case of the same center that was not sampled."""
    person = make_petitioner(cast["reception"], name="赵六", id_number=ID_NUMBER, phone=PHONE)
    sampled_case = handled(rating="dissatisfied")
    sampled_case.main_petitioner = person
    sampled_case.save(update_fields=["main_petitioner"])
    CasePetitioner.objects.create(case=sampled_case, petitioner=person, role="main")
    other = handled()
    services.sample_cases(actor=cast["supervisor"], campaign=review, rules={"dissatisfied": True})
    sample = SampledCase.objects.get(campaign=review, case=sampled_case)
    services.assign_reviewers(actor=cast["supervisor"], sample=sample, reviewers=[lawyer])
    return {"case": sampled_case, "other": other, "sample": sample, "person": person}


# --- the outside reviewer ---------------------------------------------------------------------


def test_outside_reviewer_reads_the_sampled_case_and_nothing_else(
    world: dict, lawyer: User
) -> None:
    client = login(lawyer)
    page = client.get(reverse("petitions:case_detail", args=[world["case"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert world["case"].number in html
    assert world["person"].id_number_masked in html
    assert world["person"].phone_masked in html
    assert ID_NUMBER not in html and PHONE not in html
    assert client.get(reverse("petitions:case_detail", args=[world["other"].pk])).status_code == 404
    listing = client.get(reverse("petitions:case_list")).content.decode()
    assert world["case"].number in listing and world["other"].number not in listing
    api = client.get(f"/api/v1/cases/{world['other'].pk}/")
    assert api.status_code == 404


def test_outside_reviewer_cannot_reveal_personal_numbers(world: dict, lawyer: User) -> None:
    client = login(lawyer)
    url = reverse("petitions:reveal_pii", args=[world["case"].pk, world["person"].pk, "id_number"])
    answer = client.post(url, HTTP_ACCEPT="application/json")
    assert answer.status_code == 403
    assert ID_NUMBER not in answer.content.decode()


def test_outside_reviewer_cannot_act_on_the_case(world: dict, lawyer: User) -> None:
    client = login(lawyer)
    pk = world["case"].pk
    events_before = CaseEvent.objects.filter(case_id=pk).count()
    version = world["case"].version
    # valid forms: a refusal is the permission check, not a form error
    posts = [
        (reverse("supervision_case:send_reminder", args=[pk]), {"reminder-message": "请加快办理"}),
        (
            reverse("supervision_case:record_finding", args=[pk]),
            {
                "finding-finding": "答复未告知复查途径",
                "finding-department": world["sample"].department_id,
            },
        ),
        (reverse("closure:reopen", args=[pk]), {"reason": "重新办理", "expected_version": version}),
    ]
    for url, data in posts:
        answer = client.post(url, data)
        assert answer.status_code in (403, 404), url
    upload = client.post(
        reverse("petitions:attachment_add", args=[pk]),
        {
            "attachment-kind": "other",
            "attachment-file": SimpleUploadedFile("note.pdf", b"%PDF-1.4\n%%EOF\n"),
        },
        follow=True,
    )
    # refused by the service (a message on the case page), not by the form
    assert "您的角色无权添加附件。" in upload.content.decode()
    assert not Attachment.objects.filter(case_id=pk).exists()
    assert CaseEvent.objects.filter(case_id=pk).count() == events_before
    api = client.post(
        f"/api/v1/cases/{pk}/reminders/", {"message": "催办"}, content_type="application/json"
    )
    assert api.status_code in (403, 404)


def test_outside_reviewer_lands_on_their_tasks_and_home_works(world: dict, lawyer: User) -> None:
    client = login(lawyer)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert f'href="{reverse("campaigns:reviewer_home")}"' in home.content.decode()
    tasks = client.get(reverse("campaigns:reviewer_home"))
    assert tasks.status_code == 200
    assert world["case"].number in tasks.content.decode()
    assert world["other"].number not in tasks.content.decode()
    # the whole review's results are not theirs: sent to their tasks
    results = client.get(reverse("campaigns:review_results", args=[world["sample"].campaign_id]))
    assert results.status_code == 302
    assert results["Location"] == reverse("campaigns:reviewer_home")


# --- scoring, objection, decision through the pages ----------------------------------------------


def test_the_score_form_refuses_points_above_the_item_and_saves_a_full_sheet(
    world: dict, lawyer: User
) -> None:
    campaign, case = world["sample"].campaign, world["case"]
    client = login(lawyer)
    url = reverse("campaigns:review_score", args=[campaign.pk, case.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'max="8"' in form.content.decode()
    data: dict[str, Any] = {}
    for row in scores_for(campaign):
        data[f"points_{row['item']}"] = row["points"]
        data[f"note_{row['item']}"] = "良好"
    first_item = scores_for(campaign)[0]["item"]
    data[f"points_{first_item}"] = 9
    bad = client.post(url, data)
    assert bad.status_code == 400
    assert not CaseReview.objects.exists()
    data[f"points_{first_item}"] = 4
    good = client.post(url, data)
    assert good.status_code == 302
    made = CaseReview.objects.get()
    assert (made.reviewer, made.total) == (lawyer, 96)
    page = client.get(reverse("campaigns:review_case", args=[campaign.pk, case.pk]))
    assert page.status_code == 200 and 'data-total="96"' in page.content.decode()


def test_objection_once_then_the_office_decides_through_the_pages(
    world: dict, lawyer: User, cast: dict
) -> None:
    campaign, case = world["sample"].campaign, world["case"]
    made = services.submit_review(
        actor=lawyer, campaign=campaign, case=case, scores=scores_totalling(campaign, 58)
    )
    head = login(cast["head"])
    page = head.get(reverse("campaigns:review_case", args=[campaign.pk, case.pk]))
    assert page.status_code == 200 and 'data-testid="objection-form"' in page.content.decode()
    url = reverse("campaigns:review_object", args=[made.pk])
    assert head.post(url, {"reasons": "", "expected_version": made.version}).status_code == 400
    assert (
        head.post(url, {"reasons": "回访已做", "expected_version": made.version}).status_code == 302
    )
    again = head.post(url, {"reasons": "再议", "expected_version": made.version + 1})
    assert again.status_code == 409
    made.refresh_from_db()
    assert made.objection_state == ObjectionState.PENDING
    # the court (not under review) cannot even see it
    assert login(cast["court"]).post(url, {"reasons": "x"}).status_code == 404

    office = login(cast["supervisor"])
    decide = reverse("campaigns:review_decide", args=[made.pk])
    answer = office.post(
        decide,
        {"upheld": "1", "adjusted_total": 66, "note": "属实", "expected_version": made.version},
    )
    assert answer.status_code == 302
    made.refresh_from_db()
    assert (made.objection_state, made.final_total) == (ObjectionState.UPHELD, 66)
    results = office.get(reverse("campaigns:review_results", args=[campaign.pk]))
    assert results.status_code == 200
    assert f'data-case="{case.pk}" data-score="66.0"' in results.content.decode()


def test_the_office_samples_assigns_and_adds_an_outside_reviewer(
    review: Any, handled: Any, cast: dict
) -> None:
    cases = [handled() for _ in range(3)]
    office = login(cast["supervisor"])
    url = reverse("campaigns:review_sample", args=[review.pk])
    assert office.get(url).status_code == 200
    assert office.post(url, {}).status_code == 400  # no rule chosen
    assert office.post(url, {"random": 2}).status_code == 302
    assert SampledCase.objects.filter(campaign=review).count() == 2
    add = reverse("campaigns:review_outside_reviewer", args=[review.pk])
    created = office.post(
        add,
        {
            "full_name": "钱七",
            "kind": "cppcc",
            "username": "cppcc_qian",
            "password": STRONG_PASSWORD,
        },
    )
    assert created.status_code == 302
    member = User.objects.get(username="cppcc_qian")
    assert member.role_codes == frozenset({Role.REVIEWER})
    sample = SampledCase.objects.filter(campaign=review).first()
    assign = reverse("campaigns:review_assign", args=[review.pk, sample.case_id])
    answer = office.post(assign, {f"s{sample.pk}-reviewers": [member.pk, cast["court"].pk]})
    assert answer.status_code == 302
    assert set(sample.reviewers.all()) == {member, cast["court"]}
    # department staff do not run the review
    assert login(cast["police"]).get(url).status_code == 404
    assert len(cases) == 3


def test_the_review_page_reads_a_constant_number_of_queries(
    review: Any, handled: Any, cast: dict, lawyer: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    office = login(cast["supervisor"])
    url = reverse("campaigns:review_results", args=[review.pk])

    def grow(n: int) -> int:
        for _ in range(n):
            handled(rating="dissatisfied")
        services.sample_cases(
            actor=cast["supervisor"], campaign=review, rules={"dissatisfied": True}
        )
        for sample in SampledCase.objects.filter(campaign=review, reviews__isnull=True):
            services.assign_reviewers(actor=cast["supervisor"], sample=sample, reviewers=[lawyer])
            services.submit_review(
                actor=lawyer,
                campaign=review,
                case=sample.case,
                scores=scores_totalling(review, 75),
            )
        with CaptureQueriesContext(connection) as queries:
            page = office.get(url)
        assert page.status_code == 200
        return len(queries)

    two = grow(2)
    six = grow(4)
    assert six == two
