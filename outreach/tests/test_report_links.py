"""The reports page leads to the outreach pages its sections count (the aid ledger, the tours)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_reports_page_links_to_the_aid_ledger_and_the_tours(cast):
    client = Client()
    client.force_login(cast["supervisor"])
    page = client.get("/reports/")
    assert page.status_code == 200
    links = page.content.decode()
    assert f'href="{reverse("outreach:aid_ledger")}"' in links
    assert f'href="{reverse("outreach:tours")}"' in links
    assert client.get(reverse("outreach:aid_ledger")).status_code == 200
