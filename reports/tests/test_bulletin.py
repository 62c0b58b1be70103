"""The monthly bulletin (简报) and notice (通报) classify units from the same figures by one
printed rule (issue 18 #3): a unit named in the notice for overdue cases is never among the
better units of the bulletin, and the units to improve are the units the notice names."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports.filters import parse_filters
from reports.selectors import month_bulletin

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _march(cast):
    filters, form = parse_filters({"from": "2026-03-01", "to": "2026-03-31"}, user=cast["leader"])
    assert filters is not None, form.errors
    return month_bulletin(filters, date(2026, 3, 1), NOW)


def test_a_unit_with_overdue_cases_is_never_a_better_unit(scenario, cast):
    b = _march(cast)
    police = next(r for r in b.named if r.department.pk == scenario.police.pk)
    assert police.overdue_now >= 1  # c2's handling clock ran out on 28 March, unmet
    assert all(r.overdue_now == 0 and r.overdue_in_period == 0 for r in b.best)
    assert scenario.police.pk not in {r.department.pk for r in b.best}
    # the bulletin's units to improve are exactly the notice's named units
    assert [r.department.pk for r in b.worst] == [r.department.pk for r in b.named]


def test_a_case_late_in_the_month_and_finished_since_still_names_the_unit(scenario, cast):
    """A December bulletin read in February: the unit finished its late case in January, so
    nothing is overdue now, but the case went overdue in the month."""
    from clocks.models import Deadline, DeadlineKind

    Deadline.objects.filter(case=scenario.cases["c2"], kind=DeadlineKind.HANDLING).update(
        met_at=NOW
    )
    b = _march(cast)
    police = next(r for r in b.named if r.department.pk == scenario.police.pk)
    assert police.overdue_now == 0 and police.overdue_in_period == 1
    assert scenario.police.pk not in {r.department.pk for r in b.best}


def test_bulletin_and_notice_print_the_rule_and_agree(scenario, client, cast):
    client.force_login(cast["supervisor"])
    bulletin = client.get("/reports/bulletin/?month=2026-03").content.decode()
    notice = client.get("/reports/notice/?month=2026-03").content.decode()
    rule = "通报单位与较好单位的确定规则"
    assert rule in bulletin and rule in notice
    better, improve = bulletin.split("二、工作较好的单位")[1].split("三、有待改进的单位")
    improve = improve.split("四、")[0]
    assert scenario.police.name not in better
    assert scenario.police.name in improve and scenario.police.name in notice
    assert '有待改进的单位</h2>\n<p class="indent">无。' not in bulletin
