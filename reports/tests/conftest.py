"""A fixture built for hand-computing the indicators (issue 9, "Done when").

Rows are written directly (not through the services) so that every date is exactly the one the
expected figures below were computed from. The period is March 2026, "now" is 15 June 2026, the
cessation window 30 days, the evaluation window 30 days. All times are 10:00 Beijing time.

Cases (city center unless noted; registered in March unless noted):

c1  group visit (6 people); accepted on time; handled on time (met 25 Mar)
c2  skip-level; acceptance late (due 17, met 20 Mar); handling due 28 Mar unmet (overdue);
    supervision order 18 Mar
c3  handling clock running, due 1 Jul (not yet due: not counted)
c4  handling due 10 Mar extended by 30 days to 9 Apr, met 28 Mar: on time
c5  lawfully terminated 15 Mar (closed then); screening overdue (not counted: terminated);
    reply delivered 8 Mar, evaluated satisfied (not counted); a visit 20 Mar after termination
c6  transferred 3 Mar from the city to county A (held there now)
c7  registered 10 Feb; reply 1 delivered 20 Feb, dissatisfied 25 Feb; review revoked it:
    reply 2 delivered 12 Mar, satisfied 14 Mar; closed 20 Mar (went to review)
c8  reply delivered 5 Mar, evaluated 20 Apr (outside the 30-day window)
c9  reply delivered 8 Mar, basically satisfied 10 Mar
c10 reply delivered 9 Mar, dissatisfied 11 Mar
c11 answered and closed 5 Mar; repeat visit 20 Mar (not ceased)
c12 closed 6 Mar, no further visit (ceased)
c13 registered 20 Jan; leader responsibility 1 Feb, resolved 10 Mar
c14 leader responsibility 5 Mar, unresolved
c15 registered 15 Jan; leader responsibility resolved 20 Feb (before the period)
c16 first assignment (court) returned 4 Mar; reassigned to the police, accepted on time 10 Mar

Expected for the city with subordinates, March 2026:
    timely_acceptance 3/4 (c1, c4, c16 of c1, c2, c4, c16)
    on_time_completion 2/3 (c1, c4 of c1, c2, c4)
    satisfaction 2/3 (c7, c9 of c7, c9, c10)
    participation 3/4 (c7, c9, c10 of c7, c8, c9, c10)
    repeat_petition 1/14 (13 registrations in March + c11's repeat visit)
    first_time_resolution 2/3 (c11, c12 of c7, c11, c12)
    leader_resolution 1/2 (c13 of c13, c14)
    cessation 2/3 (c7, c12 of c7, c11, c12)
    counts: cases 13, visits 14, group 1, skip-level 1, transfers 1, supervision orders 1,
    overdue 1 (c2)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clocks.models import DayType, Deadline, DeadlineKind
from core.models import Center, Department, DepartmentKind, User
from petitions.models import (
    Case,
    CaseEvent,
    CasePetitioner,
    Channel,
    ContentCategory,
    Petitioner,
    Purpose,
    Visit,
)
from petitions.states import CaseState
from petitions.testing import resident_id
from routing.models import Assignment, AssignmentRole, AssignmentState, Transfer
from supervision.models import LeaderResponsibility, SupervisionOrder

CN = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=CN)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31", "cessation_days": "30"}
EXPECTED = {
    "timely_acceptance": (3, 4),
    "on_time_completion": (2, 3),
    "satisfaction": (2, 3),
    "center_satisfaction": (2, 3),  # the builder records the same rating for both
    "participation": (3, 4),
    "repeat_petition": (1, 14),
    "first_time_resolution": (2, 3),
    "leader_resolution": (1, 2),
    "cessation": (2, 3),
}
EXPECTED_COUNTS = {
    "cases": 13,
    "visits": 14,
    "group_visits": 1,
    "skip_level_visits": 1,
    "transfers": 1,
    "supervision_orders": 1,
    "overdue": 1,
}
_serial = itertools.count(1)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime.combine(date(year, month, day), time(10, 0), tzinfo=CN)


@dataclass
class Scenario:
    org: object
    cast: dict[str, User]
    cases: dict[str, Case] = field(default_factory=dict)
    police: Department | None = None
    court: Department | None = None


class Builder:
    def __init__(self, org, cast) -> None:
        self.org, self.cast = org, cast
        self.channel = Channel.objects.get(code="visit")
        self.purpose = Purpose.objects.first()
        self.category = ContentCategory.objects.first()

    def case(self, registered: datetime, center: Center | None = None, **extra) -> Case:
        center = center or self.org.city
        n = next(_serial)
        petitioner = Petitioner(name=f"信访人{n}")
        petitioner.set_id_number(resident_id())
        petitioner.set_phone(f"1381234{n:04d}")
        petitioner.save()
        headcount = extra.pop("headcount", 1)
        case = Case.objects.create(
            number=f"R{center.region_code}{n:06d}",
            query_code_hash=f"{n:064d}",
            center=center,
            origin_center=center,
            state=extra.pop("state", CaseState.HANDLING),
            state_changed_at=registered,
            registered_at=registered,
            registered_by=self.cast["reception"],
            channel=self.channel,
            purpose=self.purpose,
            category=self.category,
            request="请求依法处理",
            main_petitioner=petitioner,
            headcount=headcount,
            **extra,
        )
        CasePetitioner.objects.create(case=case, petitioner=petitioner, role="main")
        self.visit(case, registered, headcount=headcount)
        return case

    def visit(
        self, case: Case, when: datetime, *, repeat: bool = False, headcount: int = 1
    ) -> Visit:
        return Visit.objects.create(
            case=case,
            petitioner=case.main_petitioner,
            center=case.center,
            channel=self.channel,
            at=when,
            is_repeat=repeat,
            headcount=headcount,
            received_by=self.cast["reception"],
        )

    def assignment(
        self,
        case: Case,
        department: Department,
        assigned: datetime,
        *,
        state: str = AssignmentState.ACCEPTED,
        accepted: datetime | None = None,
        handler: User | None = None,
    ) -> Assignment:
        return Assignment.objects.create(
            case=case,
            department=department,
            role=AssignmentRole.LEAD,
            state=state,
            due_at=assigned + timedelta(days=60),
            assigned_by=self.cast["triage"],
            assigned_at=assigned,
            accepted_at=accepted,
            handler=handler,
        )

    def clock(
        self,
        case: Case,
        kind: str,
        starts: datetime,
        due: datetime,
        met: datetime | None = None,
        *,
        assignment: Assignment | None = None,
        extended_days: int = 0,
    ) -> Deadline:
        return Deadline.objects.create(
            case=case,
            kind=kind,
            day_type=DayType.CALENDAR,
            starts_at=starts,
            due_at=due,
            met_at=met,
            extended_days=extended_days,
            assignment_id=assignment.pk if assignment else None,
        )

    def reply(self, case: Case, department: Department, delivered: datetime, **extra):
        from closure.models import Reply

        return Reply.objects.create(
            case=case,
            department=department,
            decision="explain",
            status="delivered",
            document_number=f"复-{next(_serial)}",
            drafted_by=self.cast["police"],
            drafted_at=delivered - timedelta(days=2),
            approved_at=delivered - timedelta(days=1),
            delivered_at=delivered,
            **extra,
        )

    def evaluation(self, case: Case, reply, when: datetime, rating: str, channel: str = "desk"):
        from closure.models import Evaluation

        return Evaluation.objects.create(
            case=case,
            reply=reply,
            department=reply.department,
            center_rating=rating,
            department_rating=rating,
            channel=channel,
            recorded_by=self.cast["reception"],
            evaluated_at=when,
        )

    def event(self, case: Case, kind: str, when: datetime) -> None:
        CaseEvent.objects.create(case=case, kind=kind, at=when)

    def leader(self, case: Case, created: datetime, resolved: datetime | None = None) -> None:
        LeaderResponsibility.objects.create(
            case=case,
            leader=self.cast["leader"],
            due_at=created + timedelta(days=30),
            target_result="息诉罢访",
            is_resolved=resolved is not None,
            resolved_at=resolved,
            created_by=self.cast["supervisor"],
            created_at=created,
        )


def build_scenario(org, cast) -> Scenario:
    b = Builder(org, cast)
    police = org.dept(org.city, DepartmentKind.POLICE)
    court = org.dept(org.city, DepartmentKind.COURT)
    s = Scenario(org=org, cast=cast, police=police, court=court)
    c = s.cases
    H, A = DeadlineKind.HANDLING, DeadlineKind.ACCEPTANCE_NOTICE

    c["c1"] = b.case(at(3, 2), is_group=True, headcount=6)
    a1 = b.assignment(c["c1"], police, at(3, 2), accepted=at(3, 5), handler=cast["police"])
    b.clock(c["c1"], A, at(3, 2), at(3, 17), at(3, 5), assignment=a1)
    b.clock(c["c1"], H, at(3, 5), at(5, 4), at(3, 25))
    SupervisionOrder.objects.create(
        case=c["c1"],
        number=f"督-{next(_serial)}",
        department=police,
        requirement="x",
        due_at=at(4, 10),
        issued_by=cast["supervisor"],
        issued_at=at(4, 2),
    )

    c["c2"] = b.case(at(3, 2), is_skip_level=True)
    a2 = b.assignment(c["c2"], police, at(3, 2), accepted=at(3, 20), handler=cast["police"])
    b.clock(c["c2"], A, at(3, 2), at(3, 17), at(3, 20), assignment=a2)
    b.clock(c["c2"], H, at(3, 20), at(3, 28))
    SupervisionOrder.objects.create(
        case=c["c2"],
        number=f"督-{next(_serial)}",
        department=police,
        requirement="x",
        due_at=at(3, 25),
        issued_by=cast["supervisor"],
        issued_at=at(3, 18),
    )

    c["c3"] = b.case(at(3, 31))
    b.clock(c["c3"], H, at(3, 31), at(7, 1))

    c["c4"] = b.case(at(3, 1))
    a4 = b.assignment(c["c4"], police, at(3, 1), accepted=at(3, 2), handler=cast["police"])
    b.clock(c["c4"], A, at(3, 1), at(3, 16), at(3, 2), assignment=a4)
    b.clock(c["c4"], H, at(3, 2), at(4, 9), at(3, 28), extended_days=30)

    c["c5"] = b.case(at(3, 1), state=CaseState.TERMINATED, closed_at=at(3, 15))
    b.event(c["c5"], "terminate", at(3, 15))
    b.clock(c["c5"], DeadlineKind.SCREENING, at(3, 1), at(3, 10))
    r5 = b.reply(c["c5"], court, at(3, 8))
    b.evaluation(c["c5"], r5, at(3, 9), "satisfied")
    b.visit(c["c5"], at(3, 20), repeat=True)

    c["c6"] = b.case(at(3, 2), center=org.county_a)
    Transfer.objects.create(
        case=c["c6"],
        from_center=org.city,
        to_center=org.county_a,
        reason="属地管辖",
        transferred_by=cast["triage"],
        transferred_at=at(3, 3),
    )

    c["c7"] = b.case(at(2, 10), state=CaseState.CLOSED, closed_at=at(3, 20))
    r7a = b.reply(c["c7"], court, at(2, 20), superseded_at=at(3, 10))
    b.evaluation(c["c7"], r7a, at(2, 25), "dissatisfied")
    b.event(c["c7"], "request_review", at(2, 28))
    r7b = b.reply(c["c7"], court, at(3, 12))
    b.evaluation(c["c7"], r7b, at(3, 14), "satisfied")

    c["c8"] = b.case(at(3, 1), state=CaseState.REPLIED)
    r8 = b.reply(c["c8"], court, at(3, 5))
    b.evaluation(c["c8"], r8, at(4, 20), "satisfied")

    c["c9"] = b.case(at(3, 1), state=CaseState.REPLIED)
    b.evaluation(c["c9"], b.reply(c["c9"], court, at(3, 8)), at(3, 10), "basically_satisfied")

    c["c10"] = b.case(at(3, 1), state=CaseState.REPLIED)
    b.evaluation(c["c10"], b.reply(c["c10"], court, at(3, 9)), at(3, 11), "dissatisfied")

    c["c11"] = b.case(at(3, 5), state=CaseState.CLOSED, closed_at=at(3, 5))
    b.visit(c["c11"], at(3, 20), repeat=True)

    c["c12"] = b.case(at(3, 6), state=CaseState.ARCHIVED, closed_at=at(3, 6))

    c["c13"] = b.case(at(1, 20))
    b.leader(c["c13"], at(2, 1), at(3, 10))
    c["c14"] = b.case(at(3, 4))
    b.leader(c["c14"], at(3, 5))
    c["c15"] = b.case(at(1, 15))
    b.leader(c["c15"], at(1, 20), at(2, 20))

    c["c16"] = b.case(at(3, 2))
    first = b.assignment(c["c16"], court, at(3, 2), state=AssignmentState.RETURNED)
    b.clock(c["c16"], A, at(3, 2), at(3, 17), at(3, 4), assignment=first)
    second = b.assignment(c["c16"], police, at(3, 6), accepted=at(3, 10), handler=cast["police"])
    b.clock(c["c16"], A, at(3, 6), at(3, 25), at(3, 10), assignment=second)
    return s


@pytest.fixture(autouse=True)
def _no_report_cache(settings):
    """Figures are cached in Redis for a few minutes in production; tests compute them fresh."""
    settings.REPORTS_CACHE_SECONDS = 0


@pytest.fixture
def scenario(org, cast) -> Scenario:
    return build_scenario(org, cast)


@pytest.fixture
def county_supervisor(org):
    from conftest import make_user
    from core.roles import Role

    return make_user("county_supervisor", org.county_a, [Role.SUPERVISOR])
