"""The demo's campaigns (issue 19, demo.campaigns): a new user sees a running backlog campaign
handed down from the city to a county, with the seed's figures, and a quality review with scores."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from campaigns.models import (
    Campaign,
    CampaignKind,
    CaseReview,
    Matter,
    MatterOutcome,
    ObjectionState,
    SampledCase,
)
from campaigns.selectors import campaign_summary
from demo.campaigns import BACKLOG_NAME, REVIEW_NAME, REVIEWER_USERNAME
from demo.organisation import DEMO_PASSWORD
from petitions.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference(reference_data: None) -> None:
    """The code tables the desk registers with (a transactional test may have flushed them)."""


def login(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, username
    return client


def test_the_demo_backlog_campaign_reads_as_the_seed_and_both_levels_see_it():
    call_command("seed_demo", stdout=io.StringIO())
    campaign = Campaign.objects.get(name=BACKLOG_NAME)
    assert campaign.kind == CampaignKind.BACKLOG
    assert campaign.center.name.startswith("石家庄市")
    matters = Matter.objects.filter(campaign=campaign).select_related("center", "case")
    # Handed down from the city to 井陉县, each signed for and with its 包案 leader.
    assert {m.center.name[:3] for m in matters} == {"井陉县"}
    assert all(m.signed_at is not None and m.leader_id for m in matters)
    counted = {o: sum(1 for m in matters if m.outcome == o) for o in MatterOutcome.values}
    assert counted == {"in_hand": 3, "resolved": 8, "stalled": 1, "terminated": 0}
    summary = campaign_summary(campaign)
    # Hand count: the 8 resolved matters' cases have no visit after resolution and their 90 days
    # have passed, so all 8 have ceased: 8 of 12.
    for matter in matters.filter(outcome=MatterOutcome.RESOLVED):
        assert not matter.case.visits.filter(at__gt=matter.resolved_at).exists()
    assert (summary["handed_down"], summary["resolved"], summary["ceased"]) == (12, 8, 8)
    assert round(summary["cessation_rate"] * 100) == 67
    # The city's supervisor opens the campaign page; the county's sees the matters handed down.
    city = login("supervisor")
    page = city.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert "67" in page.content.decode()
    county = login("jx_supervisor")
    listing = county.get("/campaigns/").content.decode()
    assert BACKLOG_NAME in listing
    # Idempotent: a second run makes nothing twice.
    cases = Case.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Case.objects.count() == cases
    assert Campaign.objects.filter(name=BACKLOG_NAME).count() == 1


def test_the_demo_quality_review_has_scores_and_an_outside_reviewer_sees_only_the_sample():
    call_command("seed_demo", stdout=io.StringIO())
    review = Campaign.objects.get(name=REVIEW_NAME)
    assert review.kind == CampaignKind.QUALITY_REVIEW
    samples = SampledCase.objects.filter(campaign=review)
    assert samples.count() >= 4
    reviews = CaseReview.objects.filter(sample__campaign=review)
    assert reviews.count() >= 4
    assert all(0 < r.total <= 100 for r in reviews)
    assert reviews.filter(objection_state=ObjectionState.PENDING).count() == 1
    deputy = login(REVIEWER_USERNAME)
    sampled = samples.filter(reviewers__username=REVIEWER_USERNAME).values_list("case", flat=True)
    assert sampled
    for case_id in sampled:
        assert deputy.get(f"/cases/{case_id}/").status_code == 200
    other = Case.objects.exclude(pk__in=list(samples.values_list("case", flat=True))).first()
    assert other is not None
    assert deputy.get(f"/cases/{other.pk}/").status_code == 404
