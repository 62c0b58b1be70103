"""Issue 13 #6 (routing part): assignment due dates within the rules, transfers not upwards."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from clocks.deadlines import CHINA_TZ
from core.models import DepartmentKind
from petitions.models import Case
from petitions.testing import register
from routing.models import Assignment, Transfer
from routing.services import DepartmentDue, assign_case, latest_assignment_due, transfer_case

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA_TZ)


def test_the_latest_due_date_is_acceptance_plus_handling_plus_its_extension(org, cast):
    with time_machine.travel(NOW):
        case = register(cast["reception"]).case
        # 15 days to accept (to 17 Mar), 60 + 30 days to handle: 15 Jun, end of the day
        assert latest_assignment_due(case, NOW) == datetime(
            2026, 6, 15, 23, 59, 59, tzinfo=CHINA_TZ
        )


def test_assignment_due_beyond_the_statutory_limit_is_refused_with_the_date(org, cast):
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    with time_machine.travel(NOW):
        case = register(cast["reception"]).case
        limit = latest_assignment_due(case, NOW)
        with pytest.raises(ValidationError) as err:
            assign_case(
                actor=cast["triage"],
                case=case,
                lead=DepartmentDue(police, limit + timedelta(seconds=1)),
                assisting=[DepartmentDue(court, NOW + timedelta(days=400))],
            )
        errors = err.value.message_dict
        assert "2026-06-15" in errors["lead_due"][0]
        assert "assisting_due" in errors
        assert not Assignment.objects.filter(case=case).exists()
        made = assign_case(actor=cast["triage"], case=case, lead=DepartmentDue(police, limit))
    assert made[0].due_at == limit


def test_transfer_goes_to_the_same_level_or_below_never_up(org, cast):
    county_case = register(cast["county_reception"]).case
    with pytest.raises(ValidationError) as err:
        transfer_case(
            actor=cast["county_triage"], case=county_case, to_center=org.city, reason="上交"
        )
    assert "to_center" in err.value.message_dict
    with pytest.raises(ValidationError):
        transfer_case(
            actor=cast["county_triage"], case=county_case, to_center=org.province, reason="上交"
        )
    assert not Transfer.objects.filter(case=county_case).exists()
    assert Case.objects.get(pk=county_case.pk).center == org.county_a
    # sideways to the neighbouring county, and down from the city, are transfers
    transfer_case(
        actor=cast["county_triage"], case=county_case, to_center=org.county_b, reason="属地"
    )
    city_case = register(cast["reception"]).case
    transfer_case(actor=cast["triage"], case=city_case, to_center=org.county_a, reason="属地")
    assert Transfer.objects.count() == 2
