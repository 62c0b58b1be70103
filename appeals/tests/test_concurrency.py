"""Two desks recording a review of the same reply at the same moment: one request, one refusal."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import time_machine
from django.db import connection

from appeals import services
from appeals.models import ReviewRequest
from appeals.testing import delivered_case, staff_for
from clocks.deadlines import CHINA_TZ
from core.errors import DomainError

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_desks_at_once_record_one_request(org):
    from clocks.defaults import seed_deadline_rules

    seed_deadline_rules()
    county, city = staff_for(org.county_a), staff_for(org.city)
    case = delivered_case(county, delivered_at=datetime(2026, 9, 20, 10, tzinfo=CHINA_TZ))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def desk(actor) -> None:
        try:
            barrier.wait()
            services.request_review(actor=actor, case=case, kind="review", reason="不服")
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    with time_machine.travel(datetime(2026, 10, 9, 10, tzinfo=CHINA_TZ)):
        threads = [
            threading.Thread(target=desk, args=(u,)) for u in (county.reception, city.reception)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(outcomes) == 2 and outcomes.count("ok") == 1, outcomes
    assert ReviewRequest.objects.filter(case=case).count() == 1
