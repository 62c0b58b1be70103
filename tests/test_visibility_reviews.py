"""The reviewing center reads the cases it reviews (appeals, through petitions.hooks); for everyone
else not-yours stays not-found."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from appeals import services
from appeals.testing import delivered_case, staff_for
from clocks.deadlines import CHINA_TZ
from conftest import make_center
from core.models import CenterLevel
from petitions import hooks
from petitions.selectors import cases_visible_to, get_case_for

pytestmark = pytest.mark.django_db

DELIVERED = datetime(2026, 9, 20, 10, tzinfo=CHINA_TZ)


@pytest.fixture
def reviewed_case(org):
    from clocks.defaults import seed_deadline_rules

    seed_deadline_rules()
    county = staff_for(org.county_a)
    case = delivered_case(county, delivered_at=DELIVERED)
    with time_machine.travel(datetime(2026, 10, 1, 10, tzinfo=CHINA_TZ)):
        services.request_review(actor=county.reception, case=case, kind="review", reason="不服")
    return case


def test_the_reviewing_center_keeps_reading_a_case_no_longer_below_it(org, reviewed_case):
    city = staff_for(org.city)
    # a reorganisation moves the county under another city after the request
    new_city = make_center("新市中心", "130200", CenterLevel.CITY, org.province)
    org.county_a.parent = new_city
    org.county_a.save()
    assert get_case_for(city.supervisor, reviewed_case.pk) == reviewed_case


def test_other_centers_still_get_not_found(org, reviewed_case):
    for center in (org.county_b, org.other_province):
        user = staff_for(center).supervisor
        with pytest.raises(Http404):
            get_case_for(user, reviewed_case.pk)
        assert not cases_visible_to(user).filter(pk=reviewed_case.pk).exists()


def test_the_provider_adds_no_query(org, reviewed_case, monkeypatch):
    user = staff_for(org.city).supervisor

    def count() -> int:
        user.__dict__.pop("role_codes", None)
        with CaptureQueriesContext(connection) as ctx:
            list(cases_visible_to(user).values_list("pk", flat=True))
        return len(ctx.captured_queries)

    count()  # the organisation cache warm (core.orgcache)
    with_provider = count()
    # Without the reviews provider (appeals); the others (routing's transfers out) stay.
    from appeals.selectors import cases_under_review_by

    monkeypatch.setattr(
        hooks,
        "_visibility_providers",
        [p for p in hooks.visibility_providers() if p is not cases_under_review_by],
    )
    assert count() == with_provider
