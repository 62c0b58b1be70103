"""The demo's outreach (issue 20, demo.outreach): one tour with carried cases, several 下访, a
reception-day schedule and aid applications in every state, all made through the services."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from demo.organisation import DEMO_PASSWORD
from demo.outreach import TOUR_TITLE
from intake.models import LeaderDuty
from outreach.models import AidApplication, AidState, Outreach, Tour, TourCase
from petitions.models import Visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reference(reference_data: None) -> None:
    """Code tables, score sheet, aid checklist and cap, message templates (after a flush)."""


def test_the_demo_has_a_tour_visits_reception_days_and_aid_in_every_state():
    call_command("seed_demo", stdout=io.StringIO())
    tour = Tour.objects.get(title=TOUR_TITLE)
    carried = TourCase.objects.filter(tour=tour)
    assert carried.count() == 3
    assert all(tc.matter_id for tc in carried)  # carried from the campaign's backlog
    assert carried.exclude(order=None).count() == 1  # the instruction, supervised as a 督办
    assert tour.receptions.count() == 1
    assert Visit.objects.filter(tour_reception__tour=tour, received_by_leader=tour.leader).exists()
    assert tour.meetings.count() == 1
    home_visits = Outreach.objects.filter(kind="home_visit")
    assert home_visits.count() >= 3
    assert home_visits.exclude(leader=None).exists() and home_visits.filter(leader=None).exists()
    appointments = dict(
        Outreach.objects.filter(kind="appointment").values_list("state", "kind").distinct()
    )
    assert set(appointments) == {"scheduled", "kept", "missed"}
    assert LeaderDuty.objects.count() == 8
    assert set(AidApplication.objects.values_list("state", flat=True)) == set(AidState.values)
    paid = AidApplication.objects.get(state=AidState.PAID)
    assert paid.paid_amount == paid.amount and paid.voucher_id is not None
    # The county's court head sees the applications of his organ on the aid ledger.
    client = Client()
    client.post("/accounts/login/", {"username": "jx_court_head", "password": DEMO_PASSWORD})
    case_page = client.get(f"/cases/{paid.case_id}/")
    assert case_page.status_code == 200
    # Idempotent.
    call_command("seed_demo", stdout=io.StringIO())
    assert Tour.objects.filter(title=TOUR_TITLE).count() == 1
    assert AidApplication.objects.count() == len(AidState.values)
