"""The reports page and the ledgers count 下访, 约访, leader receptions, tours and judicial aid
(issue 20, "Done when"): checked against a hand count.

The world (rows written directly, so that every time is exactly the one counted below; all
times Beijing). Centers: county A (甲县) and county B (乙县) under the city. March 2026 is the
period, April 2026 the other one; "now" is 15 June 2026.

Cases: a1 (A, lead A's police, registered 2 Mar), a2 (A, lead A's court, 3 Mar), b1 (B, lead B's
police, 4 Mar), a3 (A, registered 5 Apr, nothing on it).

下访:      a1 5 Mar with the county leader, a1 10 Mar, a2 31 Mar 23:30 (still March in Beijing),
           a2 1 Apr 00:10 (April in Beijing, though 31 Mar in UTC), a1 2 Apr with the leader,
           b1 12 Mar with B's leader.
约访:      a1 15 Mar kept (the county leader), a2 16 Mar missed, a2 18 Mar cancelled, a1 25 Mar
           still scheduled, a2 10 Apr kept, b1 17 Mar missed.
Received in person (Visit.received_by_leader): a1 15 Mar by the county leader (the kept
           appointment), a2 21 and 22 Mar by the head of A's police, a1 3 Apr and a2 10 Apr by
           the county leader, b1 19 Mar by B's leader.
Aid (applied): a1 3 Mar applied 10,000 (police); a1 4 Mar granted 15,000 of 20,000 (court,
           complete 5 Mar, decided 10 Mar: 5 days); a2 6 Mar paid 40,000 of 50,000 (court,
           complete 6 Mar, decided 8 Mar, approved 9 Mar: 3 days); a2 7 Mar refused, 8,000
           asked (police, complete 7 Mar, decided 11 Mar: 4 days); a2 8 Mar awaiting the
           leader, 70,000 asked (court); a1 2 Apr granted 5,000 (court); b1 9 Mar granted 30,000
           (police, complete 9 Mar, decided 11 Mar: 2 days).
Tours:     the city to A from 20 Mar carrying a1 (order issued 21 Mar, responded) and a2 (order
           issued 21 Mar, open); the city to B from 25 Mar; the city to A from 5 Apr.

County A, March: 下访 3 (1 by a leader); 约访 3 (1 kept, 1 missed); received by leaders 3 (1 by
the leader, 2 by the head); tours 1, instructions 2, carried out 1; aid applications 5, granted
2, refused 1, paid 1, requested 158,000.00, granted 55,000.00, paid 40,000.00, 4.0 days.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clocks.deadlines import CHINA_TZ
from conftest import Org, make_user
from core.models import Center, Department, DepartmentKind, User
from core.roles import Role
from outreach.models import (
    AidApplication,
    AidCircumstance,
    AidState,
    Outreach,
    OutreachKind,
    OutreachState,
    Tour,
    TourCase,
    TourState,
)
from petitions.models import Case, Channel, ContentCategory, Petitioner, Purpose, Visit
from reports.services import open_export, start_export
from routing.models import Assignment, AssignmentRole, AssignmentState
from supervision.models import OrderState, SupervisionOrder

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=CHINA_TZ)
MARCH = "from=2026-03-01&to=2026-03-31"
APRIL = "from=2026-04-01&to=2026-04-30"
_serial = itertools.count(1)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour, minute), tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_report_cache(settings: Any) -> None:
    settings.REPORTS_CACHE_SECONDS = 0


class World:
    """The records of the module docstring; ``add_more`` adds rows of every kind (query counts)."""

    def __init__(self, org: Org, cast: dict[str, User], people: dict[str, User]) -> None:
        self.org, self.cast = org, cast
        a, b = org.county_a, org.county_b
        self.leader = people["county_leader"]
        self.head = people["county_head"]  # head of A's police
        self.b_leader = make_user("county_b_leader", b, [Role.LEADER])
        self.a_police = org.dept(a, DepartmentKind.POLICE)
        self.a_court = org.dept(a, DepartmentKind.COURT)
        self.b_police = org.dept(b, DepartmentKind.POLICE)
        self.channel, _ = Channel.objects.get_or_create(
            code="t-rs-visit", defaults={"name": "来访"}
        )
        self.purpose, _ = Purpose.objects.get_or_create(code="t-rs-p", defaults={"name": "申诉"})
        self.category, _ = ContentCategory.objects.get_or_create(
            code="t-rs-c", defaults={"name": "公安"}
        )
        self.a1 = self.case(a, at(3, 2), self.a_police)
        self.a2 = self.case(a, at(3, 3), self.a_court)
        self.b1 = self.case(b, at(3, 4), self.b_police)
        self.a3 = self.case(a, at(4, 5), self.a_police)

        self.home_visit(self.a1, at(3, 5), leader=self.leader)
        self.home_visit(self.a1, at(3, 10))
        self.home_visit(self.a2, at(3, 31, 23, 30))
        self.home_visit(self.a2, at(4, 1, 0, 10))
        self.home_visit(self.a1, at(4, 2), leader=self.leader)
        self.home_visit(self.b1, at(3, 12), leader=self.b_leader)

        self.appointment(self.a1, at(3, 15), OutreachState.KEPT, leader=self.leader)
        self.appointment(self.a2, at(3, 16), OutreachState.MISSED)
        self.appointment(self.a2, at(3, 18), OutreachState.CANCELLED)
        self.appointment(self.a1, at(3, 25), OutreachState.SCHEDULED)
        self.appointment(self.a2, at(4, 10), OutreachState.KEPT, leader=self.leader)
        self.appointment(self.b1, at(3, 17), OutreachState.MISSED)

        self.received(self.a1, at(3, 15), self.leader)
        self.received(self.a2, at(3, 21), self.head)
        self.received(self.a2, at(3, 22), self.head)
        self.received(self.a1, at(4, 3), self.leader)
        self.received(self.a2, at(4, 10), self.leader)
        self.received(self.b1, at(3, 19), self.b_leader)

        self.aid(self.a1, at(3, 3), "10000", self.a_police, AidState.APPLIED)
        self.aid(
            self.a1, at(3, 4), "20000", self.a_court, AidState.GRANTED,
            completed=at(3, 5), decided=at(3, 10), amount="15000",
        )  # fmt: skip
        self.aid(
            self.a2, at(3, 6), "50000", self.a_court, AidState.PAID,
            completed=at(3, 6), decided=at(3, 8), approved=at(3, 9), amount="40000",
            paid="40000",
        )  # fmt: skip
        self.aid(
            self.a2, at(3, 7), "8000", self.a_police, AidState.REFUSED,
            completed=at(3, 7), decided=at(3, 11),
        )  # fmt: skip
        self.aid(
            self.a2, at(3, 8), "70000", self.a_court, AidState.AWAITING_LEADER,
            completed=at(3, 8), decided=at(3, 9), amount="60000",
        )  # fmt: skip
        self.aid(
            self.a1, at(4, 2), "5000", self.a_court, AidState.GRANTED,
            completed=at(4, 2), decided=at(4, 3), amount="5000",
        )  # fmt: skip
        self.aid(
            self.b1, at(3, 9), "30000", self.b_police, AidState.GRANTED,
            completed=at(3, 9), decided=at(3, 11), amount="30000",
        )  # fmt: skip

        tour = self.tour(a, date(2026, 3, 20))
        self.carried(tour, self.a1, at(3, 21), OrderState.RESPONDED)
        self.carried(tour, self.a2, at(3, 21), OrderState.OPEN)
        self.tour(b, date(2026, 3, 25))
        self.tour(a, date(2026, 4, 5))

    # --- builders -------------------------------------------------------------------------------

    def case(self, center: Center, registered: datetime, lead: Department) -> Case:
        n = next(_serial)
        petitioner = Petitioner.objects.create(name=f"信访人{n}")
        case = Case.objects.create(
            number=f"RS{center.region_code}{n:06d}",
            query_code_hash=f"rs{n:062d}",
            center=center,
            origin_center=center,
            state_changed_at=registered,
            registered_at=registered,
            registered_by=self.cast["reception"],
            channel=self.channel,
            purpose=self.purpose,
            category=self.category,
            request="请求依法处理",
            main_petitioner=petitioner,
        )
        Assignment.objects.create(
            case=case,
            department=lead,
            role=AssignmentRole.LEAD,
            state=AssignmentState.ACCEPTED,
            due_at=registered + timedelta(days=60),
            assigned_by=self.cast["triage"],
            assigned_at=registered,
            accepted_at=registered,
        )
        # the registration visit: not received by a leader, counted by none of these figures
        self.visit(case, registered)
        return case

    def visit(self, case: Case, when: datetime, leader: User | None = None) -> Visit:
        return Visit.objects.create(
            case=case,
            petitioner=case.main_petitioner,
            center=case.center,
            channel=self.channel,
            at=when,
            received_by=self.cast["reception"],
            received_by_leader=leader,
        )

    def received(self, case: Case, when: datetime, leader: User) -> Visit:
        return self.visit(case, when, leader)

    def home_visit(self, case: Case, when: datetime, leader: User | None = None) -> Outreach:
        return Outreach.objects.create(
            case=case,
            kind=OutreachKind.HOME_VISIT,
            at=when,
            place="信访人家中",
            leader=leader,
            state=OutreachState.DONE,
            recorded_by=self.cast["supervisor"],
        )

    def appointment(
        self, case: Case, when: datetime, state: str, leader: User | None = None
    ) -> Outreach:
        return Outreach.objects.create(
            case=case,
            kind=OutreachKind.APPOINTMENT,
            at=when,
            place="接访中心",
            leader=leader,
            state=state,
            recorded_by=self.cast["supervisor"],
        )

    def aid(
        self,
        case: Case,
        applied: datetime,
        requested: str,
        department: Department,
        state: str,
        *,
        completed: datetime | None = None,
        decided: datetime | None = None,
        approved: datetime | None = None,
        amount: str | None = None,
        paid: str | None = None,
    ) -> AidApplication:
        return AidApplication.objects.create(
            case=case,
            applicant=case.main_petitioner,
            circumstance=AidCircumstance.UNENFORCED_JUDGMENT,
            circumstances="判决无法执行，生活困难",
            department=department,
            requested_amount=Decimal(requested),
            state=state,
            applied_at=applied,
            completed_at=completed,
            decided_at=decided,
            approved_at=approved,
            amount=Decimal(amount) if amount else None,
            paid_amount=Decimal(paid) if paid else None,
            paid_on=approved.date() if paid and approved else None,
            created_by=self.cast["supervisor"],
        )

    def tour(self, target: Center, starts: date) -> Tour:
        return Tour.objects.create(
            title="带案巡视",
            center=self.org.city,
            target_center=target,
            starts_on=starts,
            ends_on=starts + timedelta(days=2),
            leader=self.cast["leader"],
            state=TourState.ON_SITE,
            created_by=self.cast["supervisor"],
        )

    def carried(self, tour: Tour, case: Case, issued: datetime, state: str) -> TourCase:
        order = SupervisionOrder.objects.create(
            case=case,
            number=f"RS-DB-{next(_serial)}",
            department=self.a_police,
            requirement="限期办结",
            due_at=issued + timedelta(days=15),
            state=state,
            issued_by=self.cast["supervisor"],
            issued_at=issued,
        )
        return TourCase.objects.create(
            tour=tour,
            case=case,
            instruction="限期办结",
            instruction_due=date(2026, 4, 5),
            order=order,
        )

    def add_more(self) -> None:
        """More rows of every kind in March at both counties (for the query-count test)."""
        for case in (self.a1, self.a2, self.b1):
            self.home_visit(case, at(3, 6), leader=self.leader)
            self.appointment(case, at(3, 7), OutreachState.MISSED)
            self.received(case, at(3, 8), self.head)
            self.aid(case, at(3, 9), "1000", self.a_police, AidState.REFUSED, decided=at(3, 12))
        self.carried(self.tour(self.org.county_a, date(2026, 3, 3)), self.a3, at(3, 4), "open")


@pytest.fixture
def world(org: Org, cast: dict[str, User], people: dict[str, User]) -> World:
    return World(org, cast, people)


# --- reading the page ------------------------------------------------------------------------------


def section_values(html: str, section: str) -> dict[str, str]:
    """{code: data-value} of a section's figures."""
    start = html.index(f'data-section="{section}"')
    end = html.index("</section>", start)
    return dict(re.findall(r'data-code="([a-z_]+)" data-value="([^"]*)"', html[start:end]))


def section_table(html: str, section: str, table: str) -> dict[str, list[str]]:
    """{row label: [cells]} of a section's table."""
    start = html.index(f'data-section="{section}"')
    start = html.index(f'data-table="{table}"', start)
    body = html[start : html.index("</table>", start)]
    rows = re.findall(
        r'<tr data-testid="section-table-row"><th scope="row">(.*?)</th>(.*?)</tr>', body
    )
    return {label: re.findall(r'<td class="num">(.*?)</td>', cells) for label, cells in rows}


def report_html(client: Any, user: User, query: str) -> str:
    client.force_login(user)
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 200
    return response.content.decode()


COUNTY_A_MARCH_VISITS = {
    "home_visits": "3",
    "home_visits_by_leaders": "1",
    "appointments": "3",
    "appointments_kept": "1",
    "appointments_missed": "1",
    "leader_receptions": "3",
    "leader_receptions_by_leaders": "1",
    "leader_receptions_by_heads": "2",
    "tours": "1",
    "instructions": "2",
    "instructions_met": "1",
}
COUNTY_A_MARCH_AID = {
    "applications": "5",
    "granted": "2",
    "refused": "1",
    "paid": "1",
    "requested": "158000.00",
    "granted_amount": "55000.00",
    "paid_amount": "40000.00",
    "mean_days_to_decide": "4.0",
}


def test_county_report_counts_its_own_outreach_and_aid_as_hand_counted(
    world: World, client: Any, people: dict[str, User]
) -> None:
    html = report_html(client, people["county_supervisor"], MARCH)
    assert section_values(html, "outreach_visits") == COUNTY_A_MARCH_VISITS
    assert section_values(html, "judicial_aid") == COUNTY_A_MARCH_AID
    # the Chinese labels and a definition beside each figure
    for text in ("走访与接待", "司法救助", "下访次数", "其中领导下访", "约访次数", "按约到访"):
        assert text in html, text
    assert "甲县中心" in html and "乙县中心" not in html  # county B is not in A's scope

    by_center = section_table(html, "outreach_visits", "by_center")
    assert by_center == {"甲县中心": ["3", "1", "3", "1", "1", "3"]}
    by_department = section_table(html, "outreach_visits", "by_department")
    assert by_department == {
        f"甲县中心 · {world.a_police.name}": ["2", "1", "2", "1", "0", "2"],
        f"甲县中心 · {world.a_court.name}": ["1", "0", "1", "0", "1", "0"],
    }
    by_organ = section_table(html, "judicial_aid", "by_organ")
    assert by_organ == {
        "公安机关": ["2", "0", "1", "0", "18,000.00", "0.00", "0.00"],
        "法院": ["3", "2", "0", "1", "140,000.00", "55,000.00", "40,000.00"],
    }
    aid_by_center = section_table(html, "judicial_aid", "by_center")
    assert aid_by_center == {
        "甲县中心": ["5", "2", "1", "1", "158,000.00", "55,000.00", "40,000.00"]
    }


def test_the_other_county_and_the_city_count_their_scope(
    world: World, client: Any, people: dict[str, User], cast: dict[str, User]
) -> None:
    b = report_html(client, people["county_b_supervisor"], MARCH)
    assert section_values(b, "outreach_visits") == {
        "home_visits": "1",
        "home_visits_by_leaders": "1",
        "appointments": "1",
        "appointments_kept": "0",
        "appointments_missed": "1",
        "leader_receptions": "1",
        "leader_receptions_by_leaders": "1",
        "leader_receptions_by_heads": "0",
        "tours": "1",
        "instructions": "0",
        "instructions_met": "0",
    }
    assert section_values(b, "judicial_aid")["granted_amount"] == "30000.00"

    city = report_html(client, cast["supervisor"], MARCH)  # the city with its subordinates
    assert section_values(city, "outreach_visits") == {
        "home_visits": "4",
        "home_visits_by_leaders": "2",
        "appointments": "4",
        "appointments_kept": "1",
        "appointments_missed": "2",
        "leader_receptions": "4",
        "leader_receptions_by_leaders": "2",
        "leader_receptions_by_heads": "2",
        "tours": "2",
        "instructions": "2",
        "instructions_met": "1",
    }
    assert section_values(city, "judicial_aid") == {
        "applications": "6",
        "granted": "3",
        "refused": "1",
        "paid": "1",
        "requested": "188000.00",
        "granted_amount": "85000.00",
        "paid_amount": "40000.00",
        "mean_days_to_decide": "3.5",
    }
    assert set(section_table(city, "outreach_visits", "by_center")) == {"甲县中心", "乙县中心"}

    # the city alone (without subordinates) holds none of these cases
    alone = report_html(client, cast["supervisor"], f"{MARCH}&center={world.org.city.pk}&subtree=0")
    assert set(section_values(alone, "outreach_visits").values()) == {"0"}
    assert section_values(alone, "judicial_aid")["applications"] == "0"
    assert section_values(alone, "judicial_aid")["mean_days_to_decide"] == ""


def test_a_county_may_not_ask_for_the_other_countys_report(
    world: World, client: Any, people: dict[str, User]
) -> None:
    client.force_login(people["county_supervisor"])
    response = client.get(f"/reports/?{MARCH}&center={world.org.county_b.pk}")
    assert response.status_code == 404


def test_april_counts_by_beijing_days(world: World, client: Any, people: dict[str, User]) -> None:
    html = report_html(client, people["county_supervisor"], APRIL)
    visits = section_values(html, "outreach_visits")
    # a2's visit at 00:10 on 1 April (Beijing) is April's, not March's
    assert visits["home_visits"] == "2" and visits["home_visits_by_leaders"] == "1"
    assert (visits["appointments"], visits["appointments_kept"]) == ("1", "1")
    assert (visits["leader_receptions"], visits["leader_receptions_by_leaders"]) == ("2", "2")
    assert (visits["tours"], visits["instructions"]) == ("1", "0")
    aid = section_values(html, "judicial_aid")
    assert (aid["applications"], aid["granted_amount"]) == ("1", "5000.00")


def test_filters_the_sections_do_not_follow_are_said(
    world: World, client: Any, people: dict[str, User]
) -> None:
    html = report_html(client, people["county_supervisor"], f"{MARCH}&law_related=1")
    assert html.count('data-testid="section-note"') == 2
    plain = report_html(client, people["county_supervisor"], MARCH)
    assert 'data-testid="section-note"' not in plain


def test_reports_page_query_count_stays_constant_as_records_grow(
    world: World, client: Any, people: dict[str, User]
) -> None:
    client.force_login(people["county_supervisor"])
    client.get(f"/reports/?{MARCH}")  # warm the session and content types
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/reports/?{MARCH}").status_code == 200
    world.add_more()
    world.add_more()
    with CaptureQueriesContext(connection) as big:
        response = client.get(f"/reports/?{MARCH}")
    assert len(big) == len(small)
    assert section_values(response.content.decode(), "outreach_visits")["home_visits"] == "7"


def test_sections_are_cached_by_the_filters(
    world: World, client: Any, people: dict[str, User], settings: Any
) -> None:
    settings.REPORTS_CACHE_SECONDS = 300
    first = report_html(client, people["county_supervisor"], MARCH)
    assert section_values(first, "outreach_visits")["home_visits"] == "3"
    world.home_visit(world.a1, at(3, 20))
    again = report_html(client, people["county_supervisor"], MARCH)
    assert section_values(again, "outreach_visits")["home_visits"] == "3"  # five minutes old
    other = report_html(client, people["county_supervisor"], "from=2026-03-01&to=2026-03-30")
    assert section_values(other, "outreach_visits")["home_visits"] == "3"  # 31 Mar left out: 3


# --- the ledgers -----------------------------------------------------------------------------------

LEDGER_CODES = [
    "number",
    "outreach_home_visits",
    "outreach_appointments",
    "outreach_leader_receptions",
    "aid_granted_amount",
]


def test_ledger_page_shows_the_outreach_columns_as_hand_counted(
    world: World, client: Any, people: dict[str, User]
) -> None:
    client.force_login(people["county_supervisor"])
    response = client.get(f"/reports/ledger/?{MARCH}")
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('data-testid="ledger-table"') :]
    head = re.findall(r'<th scope="col">(.*?)</th>', table[: table.index("</thead>")])
    assert head[-4:] == ["下访次数", "约访次数", "领导接待次数", "司法救助金额（已批准）"]
    rows = dict(re.findall(r'<tr data-testid="ledger-row" data-case="(\d+)">(.*?)</tr>', table))
    cells = {int(pk): re.findall(r"<td>(.*?)</td>", body)[-4:] for pk, body in rows.items()}
    # the case's whole life: a1's April visit and grant count too; a2's cancelled 约访 does not
    assert cells == {
        world.a1.pk: ["3", "2", "2", "20000.00"],
        world.a2.pk: ["2", "2", "3", "40000.00"],
    }


def test_ledger_page_query_count_stays_constant_with_the_columns(
    world: World, client: Any, people: dict[str, User]
) -> None:
    client.force_login(people["county_supervisor"])
    client.get(f"/reports/ledger/?{MARCH}")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/reports/ledger/?{MARCH}")
    world.add_more()
    with CaptureQueriesContext(connection) as big:
        client.get(f"/reports/ledger/?{MARCH}")
    assert len(big) == len(small)


def test_ledger_export_holds_the_outreach_columns(
    world: World, people: dict[str, User], cast: dict[str, User]
) -> None:
    job = start_export(
        actor=cast["supervisor"], filters={"from": "2026-03-01", "to": "2026-03-31"},
        columns=LEDGER_CODES, fmt="csv",
    )  # fmt: skip
    assert job.state == "done", job.error
    with open_export(job) as handle:
        lines = handle.read().decode("utf-8-sig").splitlines()
    assert lines[0] == "信访件编号,下访次数,约访次数,领导接待次数,司法救助金额（已批准）"
    assert lines[1:] == [
        f"{world.a1.number},3,2,2,20000.00",
        f"{world.a2.number},2,2,3,40000.00",
        f"{world.b1.number},1,1,1,30000.00",
    ]


def test_ledger_export_as_xlsx_has_numbers(world: World, cast: dict[str, User]) -> None:
    import io

    from openpyxl import load_workbook

    job = start_export(
        actor=cast["supervisor"], filters={"from": "2026-04-01", "to": "2026-04-30"},
        columns=LEDGER_CODES, fmt="xlsx",
    )  # fmt: skip
    with open_export(job) as handle:
        rows = list(load_workbook(io.BytesIO(handle.read())).active.values)
    assert rows[1:] == [(world.a3.number, 0, 0, 0, 0)]
