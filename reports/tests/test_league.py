"""The department league table (排名): its score, its printed rule, and a ranking that never puts
a unit above one that is better on every figure (issue 17 §4)."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import Center, Department
from reports.selectors import LeagueRow, rank_league

from .conftest import NOW

QUERY = "from=2026-03-01&to=2026-03-31&cessation_days=30"


def unit(pk: int, acceptance, completion, satisfaction, overdue: int = 0) -> LeagueRow:
    center = Center(pk=1, name="石家庄市涉法涉诉联合接访服务中心", path="0001")
    department = Department(pk=pk, center=center, name=f"部门{pk}")
    return LeagueRow(
        department=department,
        acceptance=acceptance,
        completion=completion,
        satisfaction=satisfaction,
        overdue_now=overdue,
    )


def test_a_lead_in_completion_no_longer_outweighs_zero_satisfaction():
    """The case of the issue: the court finished 2 of 2 on time but satisfied no one (0 %), the
    police finished 1 of 2 on time and satisfied everyone (100 %). Ranked by completion first,
    the court came first; by the mean of the rates the police do (83.3 against 66.7)."""
    court = unit(1, (1, 1), (2, 2), (0, 2))
    police = unit(2, (1, 1), (1, 2), (2, 2))
    ranked = rank_league([court, police])
    assert ranked == [police, court]
    assert (police.rank, police.score) == (1, 83.3)
    assert (court.rank, court.score) == (2, 66.7)


def test_a_rate_with_nothing_to_count_is_left_out_of_the_score():
    assert unit(1, (3, 4), (0, 0), (1, 1)).score == 87.5
    assert unit(1, (0, 0), (0, 0), (0, 0)).score is None


def test_equal_score_and_overdue_share_a_rank_and_unrated_units_are_not_ranked():
    a = unit(1, (1, 1), (1, 1), (1, 1))
    b = unit(2, (2, 2), (3, 3), (0, 0))
    c = unit(3, (1, 1), (1, 1), (1, 1), overdue=1)
    d = unit(4, (0, 0), (0, 0), (0, 0))
    assert [r.rank for r in rank_league([d, c, b, a])] == [1, 1, 3, 0]


FIGURE = st.tuples(st.integers(0, 20), st.integers(1, 20)).map(lambda p: (min(p), p[1]))


@settings(max_examples=300, deadline=None, database=None)  # no .hypothesis folder
@given(st.lists(st.tuples(FIGURE, FIGURE, FIGURE, st.integers(0, 5)), min_size=2, max_size=8))
def test_a_unit_better_on_every_figure_is_never_ranked_below(figures):
    rows = [unit(i, *f) for i, f in enumerate(figures, start=1)]
    ranked = rank_league(rows)
    position = {r.department.pk: i for i, r in enumerate(ranked)}
    for a in rows:
        for b in rows:
            rates_a, rates_b = a.rates, b.rates
            at_least = all(y >= x for x, y in zip(rates_a, rates_b, strict=True))
            at_least = at_least and b.overdue_now <= a.overdue_now
            strictly = any(y > x for x, y in zip(rates_a, rates_b, strict=True))
            if at_least and strictly:
                assert position[b.department.pk] < position[a.department.pk], (a, b)
                assert 0 < b.rank < a.rank
            elif at_least:  # as good on every figure: never below
                assert b.rank <= a.rank


@pytest.mark.django_db
def test_league_page_and_its_spreadsheet_print_the_score_and_the_rule(scenario, client, cast):
    client.force_login(cast["leader"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/reports/league/?{QUERY}").content.decode()
        download = client.get(f"/reports/league/?{QUERY}&format=csv")
    assert 'data-testid="league-rule"' in html
    assert "排名规则" in html and "平均值" in html
    assert f'data-department="{scenario.police.pk}" data-rank="1"' in html
    assert 'data-testid="league-score" data-score="' in html

    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "部门", "得分"]
    police = next(r for r in rows[1:] if r and r[1].endswith(scenario.police.name))
    assert police[0] == "1" and float(police[2]) > 0
    assert any(r and r[0].startswith("排名规则：得分＝") for r in rows)
