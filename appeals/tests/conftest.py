"""A county case with its written reply delivered on 2026-09-20 (Beijing): the 30-day review window
runs over the National Day holiday to the end of 2026-10-20."""

from __future__ import annotations

from datetime import datetime

import pytest

from appeals.testing import Staff, delivered_case, staff_for
from clocks.deadlines import CHINA_TZ
from petitions.models import Case

DELIVERED = datetime(2026, 9, 20, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def county(org) -> Staff:
    return staff_for(org.county_a)


@pytest.fixture
def city(org) -> Staff:
    return staff_for(org.city)


@pytest.fixture
def province(org) -> Staff:
    return staff_for(org.province)


@pytest.fixture
def county_case(county: Staff) -> Case:
    return delivered_case(county, delivered_at=DELIVERED)


@pytest.fixture(autouse=True)
def _evaluation_url_until_closure_pages_exist(monkeypatch):
    """closure's public evaluation page may not be routed yet in a shared working tree; the link
    is not what these tests are about."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("closure_public:evaluate", args=[1, "x"])
    except NoReverseMatch:
        import closure.services

        monkeypatch.setattr(
            closure.services.replies, "evaluation_path", lambda case_id, token: "/e/"
        )


@pytest.fixture(autouse=True)
def _deadline_rules(reference_data):
    """The window and re-review kinds are newer than some seeded databases: add missing rules
    (seeding only adds rows that are missing)."""
    from clocks.defaults import seed_deadline_rules

    seed_deadline_rules()
