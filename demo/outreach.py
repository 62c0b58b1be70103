"""The demo's outreach (issue 20), made through the outreach services by the users whose work
each step is:

- a **tour carrying cases** (带案巡视) of the city to 井陉县, led by the city's leader, carrying
  three backlog matters of the city's campaign still in hand: a reception held on site (a visit
  received by the leader), a meeting (会诊), an instruction issued as a 督办, the report filed (the
  tour stays live until the instruction is met);
- **下访** at 井陉县: the county's leader and officers at petitioners' homes and villages;
- **约访**: one kept (a visit received by the leader), one missed, one still to come;
- the **reception-day schedule** (领导接访日) of the city and of 井陉县 for the next four weeks;
- **judicial aid** (司法救助) at 井陉县 in every state: applied, complete, awaiting the leader's
  approval, granted (to pay), refused (with its notice) and paid.

Idempotent: nothing is made when the demo tour exists (by title).
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Matter, MatterOutcome
from core.models import Center, DepartmentKind
from core.roles import Role
from demo.campaigns import BACKLOG_COUNTY, BACKLOG_NAME, CITY
from demo.worklist import HANDLING, KEY_PREFIX, _centers, _Work
from outreach.models import AidApplication, Outreach, Tour
from outreach.services import aid, reception_days, tours, visits

TOUR_TITLE = "市联合接访中心赴井陉县带案巡视"
CHINA = timezone.get_fixed_timezone(8 * 60)


def seed_outreach(centers: dict[str, Center]) -> int:
    """Make the demo outreach when it does not exist yet; returns 1 when made, else 0."""
    if Tour.objects.filter(title=TOUR_TITLE).exists():
        return 0
    if not Campaign.objects.filter(name=BACKLOG_NAME).exists():
        return 0  # the tour carries the campaign's matters (demo.campaigns runs first)
    staffed = _centers(centers)
    with transaction.atomic():
        _tour(staffed)
        _visits(staffed)
        _reception_days(staffed)
        _aid(staffed)
    return 1


def _at(day_offset: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, 0), tzinfo=CHINA)


def _tour(staffed: dict) -> Tour:  # type: ignore[type-arg]
    city, county = staffed[CITY], staffed[BACKLOG_COUNTY]
    today = timezone.localdate()
    carried = list(
        Matter.objects.filter(
            campaign__name=BACKLOG_NAME,
            outcome__in=[MatterOutcome.IN_HAND, MatterOutcome.STALLED],
        ).order_by("pk")[:3]
    )
    tour = tours.plan_tour(
        actor=city.user(Role.SUPERVISOR),
        title=TOUR_TITLE,
        target_center=county.center,
        starts_on=today - timedelta(days=2),
        ends_on=today + timedelta(days=3),
        leader=city.user(Role.LEADER),
        members=[city.user(Role.SUPERVISOR)],
        cases=[],
        matters=carried,
    )
    first, second, third = (Matter.objects.get(pk=m.pk).case for m in carried)
    tours.record_reception(
        actor=city.user(Role.SUPERVISOR),
        tour=tour,
        case=first,
        at=timezone.now() - timedelta(days=1, hours=2),
        notes="巡视组长当面听取信访人诉求，承诺十日内答复。",
    )
    tours.record_meeting(
        actor=city.user(Role.SUPERVISOR),
        tour=Tour.objects.get(pk=tour.pk),
        case=second,
        held_at=timezone.now() - timedelta(days=1),
        departments=[county.departments[DepartmentKind.COURT]],
        participants="市中心巡视组、县法院、县公安局",
        decisions="由县法院牵头，县公安局配合，十五日内拿出执行方案。",
    )
    carried_rows = {tc.case_id: tc for tc in tour.carried.all()}
    tours.record_finding(
        expected_version=None,
        actor=city.user(Role.LEADER),
        tour_case=carried_rows[third.pk],
        findings="该案执行款未到位，信访人生活困难。",
        decision="责成县法院依法加大执行力度，符合条件的启动司法救助。",
        instruction="县法院于期限内报告执行进展及司法救助情况。",
        instruction_due=today + timedelta(days=15),
    )
    tours.file_report(
        actor=city.user(Role.LEADER),
        tour=Tour.objects.get(pk=tour.pk),
        summary="巡视组接待信访群众 1 批次，召开协调会 1 次，交办督办事项 1 件。",
    )
    return tour


def _visits(staffed: dict) -> None:  # type: ignore[type-arg]
    county = staffed[BACKLOG_COUNTY]
    province = next(c for c in staffed.values() if c.reviewing is None)
    rng = random.Random("demo-outreach")
    cases = []
    for i, kind in enumerate([DepartmentKind.POLICE, DepartmentKind.JUSTICE, DepartmentKind.COURT]):
        work = _Work(county, province, f"{KEY_PREFIX}{BACKLOG_COUNTY}:outreach-{i + 1}", kind)
        for step in HANDLING:
            getattr(work, step)()
        cases.append((work._case(), kind))
    places = [("home", "井陉县城关镇信访人家中"), ("village", "井陉县天长镇村委会")]
    for n, (case, kind) in enumerate(cases):
        for k, (place_kind, place) in enumerate(places[: 1 + n % 2]):
            leader = county.user(Role.LEADER) if (n + k) % 2 == 0 else None
            visits.record_home_visit(
                expected_version=None,
                actor=county.user(Role.OFFICER, kind),
                case=case,
                at=timezone.now() - timedelta(days=rng.randint(2, 20), hours=k),
                place=place,
                place_kind=place_kind,
                leader=leader,
                participants="承办人、村（社区）干部",
                notes="信访人反映的问题仍未解决，希望尽快答复。",
                agreed="十日内书面答复，期间保持联系。",
                next_step="协调相关部门研究解决方案。",
                outcome="信访人表示理解，同意等待答复。",
            )
            case.refresh_from_db()
    kept_case, missed_case, future_case = (c for c, _k in cases)
    for case, day in ((kept_case, 1), (missed_case, 1), (future_case, 5)):
        case.refresh_from_db()
        visits.schedule_appointment(
            expected_version=None,
            actor=county.user(Role.TRIAGE),
            case=case,
            at=timezone.now() + timedelta(days=day),
            place="井陉县涉法涉诉联合接访服务中心接待室",
            place_kind="center",
            leader=county.user(Role.LEADER),
            notes="约请信访人当面沟通处理意见。",
        )
    kept = kept_case.outreach.filter(state="scheduled").first()
    missed = missed_case.outreach.filter(state="scheduled").first()
    assert kept is not None and missed is not None
    # Demo history: these two were set for two days ago (an appointment is set for a time to
    # come, and only a past one can be missed), as demo.campaigns moves its matters back.
    Outreach.objects.filter(pk__in=[kept.pk, missed.pk]).update(
        at=timezone.now() - timedelta(days=2), recorded_at=timezone.now() - timedelta(days=4)
    )
    kept.refresh_from_db()
    missed.refresh_from_db()
    visits.record_appointment_kept(
        expected_version=None,
        actor=county.user(Role.RECEPTION),
        appointment=kept,
        notes="信访人按约到访，领导当面答复。",
    )
    visits.mark_appointment_missed(
        expected_version=None,
        actor=county.user(Role.RECEPTION),
        appointment=missed,
        reason="信访人未按约到访，电话未接。",
    )


def _reception_days(staffed: dict) -> None:  # type: ignore[type-arg]
    today = timezone.localdate()
    for code, subjects in (
        (CITY, ["涉法涉诉信访事项", "执行难问题"]),
        (BACKLOG_COUNTY, ["涉法涉诉信访事项", "土地征收补偿纠纷"]),
    ):
        at = staffed[code]
        office = at.user(Role.SUPERVISOR)
        leaders = [at.user(Role.LEADER), at.user(Role.HEAD, DepartmentKind.COURT)]
        for week in range(4):
            day = today + timedelta(days=week * 7 + (2 - today.weekday()) % 7)  # Wednesdays
            leader = leaders[week % 2]
            reception_days.schedule_reception_day(
                actor=office,
                center=at.center,
                leader=leader,
                date=day,
                starts_at=time(9, 0),
                ends_at=time(11, 30),
                place=f"{at.center.name}一楼接待大厅",
                subject=subjects[week % 2],
            )


def _aid(staffed: dict) -> None:  # type: ignore[type-arg]
    county = staffed[BACKLOG_COUNTY]
    province = next(c for c in staffed.values() if c.reviewing is None)
    court = DepartmentKind.COURT
    head = county.user(Role.HEAD, court)
    officer = county.user(Role.OFFICER, court)
    states = ["applied", "complete", "awaiting_leader", "granted", "refused", "paid"]
    amounts = {
        "applied": "30000",
        "complete": "40000",
        "awaiting_leader": "80000",
        "granted": "30000",
        "refused": "20000",
        "paid": "45000",
    }
    for n, target in enumerate(states):
        work = _Work(county, province, f"{KEY_PREFIX}{BACKLOG_COUNTY}:aid-{n + 1}", court)
        for step in HANDLING:
            getattr(work, step)()
        case = work._case()
        application = aid.apply_for_aid(
            actor=officer,
            case=case,
            applicant=case.main_petitioner,
            circumstance="unenforced" if n % 2 == 0 else "crime_victim",
            circumstances="胜诉判决因被执行人无财产可供执行而未能兑现，申请人因病致贫，生活困难。",
            requested_amount=Decimal(amounts[target]),
            department=county.departments[court],
        )
        if target == "applied":
            continue
        application = aid.mark_complete(actor=officer, application=application)
        if target == "complete":
            continue
        answers = [
            {"question": q.pk, "answer": "yes", "reason": "经核查，有判决书及困难证明。"}
            for q in aid.unanswered_questions(AidApplication.objects.get(pk=application.pk))
        ]
        aid.answer_eligibility(actor=officer, application=application, answers=answers)
        application = AidApplication.objects.get(pk=application.pk)
        if target == "refused":
            aid.decide_aid(
                actor=head,
                application=application,
                decision="refuse",
                amount=None,
                reasons="申请人已通过其他途径获得足额赔偿，不符合司法救助条件。",
            )
            continue
        application = aid.decide_aid(
            actor=head,
            application=application,
            decision="grant",
            amount=Decimal(amounts[target]),
            reasons="符合司法救助条件，生活确有困难。",
        )
        if target == "awaiting_leader":
            continue
        if target == "paid":
            aid.pay_aid(
                actor=officer,
                application=application,
                paid_on=timezone.localdate(),
                method="银行转账",
                amount=Decimal(amounts[target]),
                voucher=SimpleUploadedFile(
                    "voucher.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
                ),
            )
