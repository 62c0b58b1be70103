"""带案巡视 (tours carrying cases, DOMAIN.md §8): a higher center's team tours a lower center with a
list of cases, receives petitioners there, meets the organs and leaves instructions, supervised as
督办; the report says per case what was found, decided and instructed.

Who: the supervisors and leaders of the touring center plan, change and report the tour
(selectors_tours.can_manage_tour); the team (those, the tour's leader and its members) records
receptions, meetings and findings. Instructions (督办) and meetings (会诊) go through supervision's
services, which check the supervising role themselves.

Lock order, as in supervision and campaigns: the case row first (when the write concerns a case;
several cases in primary-key order), then the tour row, then the carried-case row.

State: planned → on site (the first reception, meeting or finding) → reported (file_report).
A reported tour stays *live* until every instruction is met (selectors_tours.is_live).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Matter
from campaigns.selectors import matters_visible_to
from clocks.deadlines import CHINA_TZ, END_OF_DAY
from clocks.models import NotificationKind
from core.errors import DomainError, PermissionDenied, StaleState
from core.models import Center, Department, User
from core.orgcache import center_by_pk, subtree_ids
from core.roles import Role
from petitions.models import Case, CasePetitioner, Channel, Petitioner, Visit
from petitions.selectors import cases_visible_to
from petitions.services import headcount_errors, record_event
from petitions.states import CaseState
from supervision.models import OrderState
from supervision.services import issue_supervision_order, record_consultation
from supervision.services.common import _notify

from ..models import Tour, TourCase, TourMeeting, TourReception, TourState
from ..selectors_tours import MANAGING_ROLES, can_manage_tour, is_on_team

__all__ = [
    "add_tour_cases",
    "file_report",
    "plan_tour",
    "record_finding",
    "record_meeting",
    "record_reception",
    "remove_tour_case",
    "touring_center",
    "update_tour",
]

CLOCK_SKEW = timedelta(minutes=5)

# The timeline's words for the events written here (registered in outreach.apps).
EVENT_LABELS = {
    "tour_planned": gettext_lazy("Carried by a tour (带案巡视)"),
    "tour_case_removed": gettext_lazy("No longer carried by a tour"),
    "tour_reception": gettext_lazy("Received by the tour's leader (带案巡视接访)"),
    "tour_finding": gettext_lazy("Findings of a tour"),
    "tour_instruction": gettext_lazy("Instruction of a tour, supervised (督办)"),
}


def today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


# --- guards -----------------------------------------------------------------------------------------


def _stale() -> StaleState:
    return StaleState(
        _("This record was changed by someone else in the meantime; reload it and try again.")
    )


def _check_version(obj: Any, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise _stale()


def _save_versioned(obj: Any, actor: User, fields: Iterable[str]) -> None:
    obj.version += 1
    obj._history_user = actor
    obj.save(update_fields=[*fields, "version"])


def _require_manager(actor: User, tour: Tour) -> None:
    if not can_manage_tour(actor, tour):
        raise PermissionDenied(
            _("Only the supervisors and leaders of the touring center may do this.")
        )


def _require_team(actor: User, tour: Tour) -> None:
    if not is_on_team(actor, tour):
        raise PermissionDenied(_("Only the tour's team may record its work."))


def _require_not_reported(tour: Tour) -> None:
    if tour.state == TourState.REPORTED:
        raise DomainError(
            _("The tour has been reported; it can no longer change."), code="reported"
        )


def _lock_tour(tour: Tour) -> Tour:
    return Tour.objects.select_for_update().get(pk=tour.pk)


def touring_center(actor: User) -> Center:
    """The actor's center, which tours (a supervisor or leader of a center with centers below)."""
    if not actor.is_superuser and not actor.has_role(*MANAGING_ROLES):
        raise PermissionDenied(_("Tours are planned by supervisors and leaders."))
    center = center_by_pk(actor.center_id) if actor.center_id is not None else None
    if center is None:
        raise PermissionDenied(_("You are not attached to a center."))
    return center


def _in_period(tour: Tour, at: datetime, field: str) -> None:
    day = at.astimezone(CHINA_TZ).date()
    if at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: [_("Record it once it has taken place.")]})
    if not tour.starts_on <= day <= tour.ends_on:
        raise ValidationError(
            {
                field: [
                    _("The date must fall within the tour (%(start)s to %(end)s).")
                    % {"start": tour.starts_on, "end": tour.ends_on}
                ]
            }
        )


def _notify_target(tour: Tour, case: Case | None, body: str, *, at: datetime) -> None:
    """The center visited: its supervisors and leaders (they host the tour and follow its
    instructions), one outbox row per role."""
    _notify(
        case,
        NotificationKind.EVENT,
        body,
        [
            {"audience_center_id": tour.target_center_id, "audience_role": role}
            for role in (Role.SUPERVISOR, Role.LEADER)
        ],
        at=at,
        title=tour.title,
    )


def _to_on_site(tour: Tour, actor: User) -> None:
    """The first record made on site moves a planned tour on site (the tour row is locked)."""
    if tour.state == TourState.PLANNED:
        tour.state = TourState.ON_SITE
        _save_versioned(tour, actor, ["state"])


# --- picking the cases ------------------------------------------------------------------------------


def _check_people(
    errors: dict[str, list[str]], center: Center, leader: User, members: Sequence[User]
) -> None:
    if not leader.is_active or leader.center_id != center.pk or not leader.has_role(Role.LEADER):
        errors["leader"] = [
            _("Choose a leader of %(center)s to lead the tour.") % {"center": center.name}
        ]
    if any(not m.is_active or m.center_id != center.pk for m in members):
        errors["members"] = [_("Members are staff of %(center)s.") % {"center": center.name}]


def _check_dates(errors: dict[str, list[str]], starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        errors["ends_on"] = [_("The tour cannot end before it starts.")]
    elif ends_on < today():
        errors["ends_on"] = [_("The tour has already ended: plan it with dates to come.")]


def _pick_cases(
    *,
    actor: User,
    target: Center,
    cases: Sequence[Case],
    matters: Sequence[Matter],
    errors: dict[str, list[str]],
) -> dict[int, Matter | None]:
    """The carried cases (id → the backlog matter it came from, if any), or field errors: open
    cases of the target's subtree the actor sees; matters of a campaign the actor reads, whose
    case is in the target's subtree (a backlog matter's case may be closed: that is 积案)."""
    scope = set(subtree_ids(target))
    picked: dict[int, Matter | None] = {}
    ids = {c.pk for c in cases}
    visible = set(cases_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    bad = [
        c.number
        for c in cases
        if c.pk not in visible or c.center_id not in scope or c.state not in CaseState.open_states()
    ]
    if bad:
        errors["cases"] = [
            _("Not an open case of %(center)s or the centers below it: %(numbers)s")
            % {"center": target.name, "numbers": ", ".join(bad)}
        ]
    for c in cases:
        picked[c.pk] = None
    if matters:
        readable = set(
            matters_visible_to(actor)
            .filter(pk__in=[m.pk for m in matters])
            .values_list("pk", flat=True)
        )
        bad_matters = [m for m in matters if m.pk not in readable or m.case.center_id not in scope]
        if bad_matters:
            errors["matters"] = [
                _("Not a backlog matter of %(center)s or the centers below it: %(numbers)s")
                % {"center": target.name, "numbers": ", ".join(m.case.number for m in bad_matters)}
            ]
        for m in matters:
            picked[m.case_id] = m
    return picked


def _carry(
    *, actor: User, tour: Tour, picked: dict[int, Matter | None], at: datetime
) -> list[TourCase]:
    """TourCase rows and each case's event (cases locked in id order by the caller)."""
    rows = []
    for case in Case.objects.filter(pk__in=picked).order_by("pk"):
        tc = TourCase(tour=tour, case=case, matter=picked[case.pk])
        tc._history_user = actor  # type: ignore[attr-defined]
        tc.save()
        rows.append(tc)
        record_event(
            case=case,
            kind="tour_planned",
            actor=actor,
            at=at,
            message=_("Carried by the tour “%(title)s” of %(center)s (%(start)s to %(end)s)")
            % {
                "title": tour.title,
                "center": tour.center.name,
                "start": tour.starts_on,
                "end": tour.ends_on,
            },
            data={"tour": tour.pk, "matter": picked[case.pk].pk if picked[case.pk] else None},
        )
    return rows


def _lock_cases(ids: Iterable[int]) -> None:
    list(Case.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk").values("pk"))


# --- plan and change --------------------------------------------------------------------------------


def _claim_key(actor: User, key: str) -> str:
    return f"outreach:tour-plan:{actor.pk}:{key}"


def plan_tour(
    *,
    actor: User,
    target_center: Center,
    starts_on: date,
    ends_on: date,
    leader: User,
    members: Sequence[User] = (),
    cases: Sequence[Case] = (),
    matters: Sequence[Matter] = (),
    title: str = "",
    submission_key: str = "",
) -> Tour:
    """Plan a tour of ``target_center`` (a center below the actor's) carrying ``cases`` (open
    cases of its subtree) and the cases of ``matters`` (a campaign's backlog). A resubmitted form
    (same ``submission_key``) returns the tour the first one planned."""
    center = touring_center(actor)
    if not actor.is_superuser and (
        target_center.pk == center.pk or target_center.pk not in subtree_ids(center)
    ):
        raise PermissionDenied(_("A tour goes to a center below yours."))
    claim = _claim_key(actor, submission_key) if submission_key else ""
    if claim and not cache.add(claim, 0, timeout=3600):
        done = cache.get(claim)
        found = Tour.objects.filter(pk=done).first() if done else None
        if found is not None:
            return found
        raise DomainError(_("This form is already being sent."), code="duplicate")
    try:
        tour = _plan(
            actor=actor,
            center=center,
            target_center=target_center,
            starts_on=starts_on,
            ends_on=ends_on,
            leader=leader,
            members=members,
            cases=cases,
            matters=matters,
            title=title,
        )
    except BaseException:
        if claim:
            cache.delete(claim)
        raise
    if claim:
        cache.set(claim, tour.pk, timeout=3600)
    return tour


def _plan(
    *,
    actor: User,
    center: Center,
    target_center: Center,
    starts_on: date,
    ends_on: date,
    leader: User,
    members: Sequence[User],
    cases: Sequence[Case],
    matters: Sequence[Matter],
    title: str,
) -> Tour:
    errors: dict[str, list[str]] = {}
    _check_dates(errors, starts_on, ends_on)
    _check_people(errors, center, leader, members)
    if not cases and not matters:
        errors["cases"] = [_("Carry at least one case.")]
    picked = _pick_cases(
        actor=actor, target=target_center, cases=cases, matters=matters, errors=errors
    )
    title = (title or "").strip() or _("Tour of %(center)s carrying cases") % {
        "center": target_center.name
    }
    if len(title) > 120:
        errors["title"] = [_("At most 120 characters.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        _lock_cases(picked)
        tour = Tour(
            title=title,
            center=center,
            target_center=target_center,
            starts_on=starts_on,
            ends_on=ends_on,
            leader=leader,
            created_by=actor,
            created_at=now,
        )
        tour._history_user = actor  # type: ignore[attr-defined]
        tour.save()
        tour.members.set(list(dict.fromkeys(members)))
        _carry(actor=actor, tour=tour, picked=picked, at=now)
        _notify_target(
            tour,
            None,
            _(
                "%(center)s will tour your center from %(start)s to %(end)s carrying %(n)d "
                "cases (“%(title)s”)."
            )
            % {
                "center": center.name,
                "start": starts_on,
                "end": ends_on,
                "n": len(picked),
                "title": tour.title,
            },
            at=now,
        )
        _notify(
            None,
            NotificationKind.EVENT,
            _("You are on the tour “%(title)s” (%(start)s to %(end)s).")
            % {"title": tour.title, "start": starts_on, "end": ends_on},
            [{"recipient_id": u.pk} for u in dict.fromkeys([leader, *members])],
            at=now,
            title=tour.title,
        )
    return tour


def update_tour(
    *,
    actor: User,
    tour: Tour,
    expected_version: int | None,
    title: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    leader: User | None = None,
    members: Sequence[User] | None = None,
) -> Tour:
    """Change the tour's title, dates, leader or members (None: unchanged) until it is reported."""
    _require_manager(actor, tour)
    with transaction.atomic():
        locked = _lock_tour(tour)
        _check_version(locked, expected_version)
        _require_not_reported(locked)
        center = locked.center
        errors: dict[str, list[str]] = {}
        new_start = starts_on or locked.starts_on
        new_end = ends_on or locked.ends_on
        if new_end < new_start:
            errors["ends_on"] = [_("The tour cannot end before it starts.")]
        new_leader = leader or locked.leader
        _check_people(errors, center, new_leader, list(members or ()))
        if title is not None:
            title = title.strip()
            if not title:
                errors["title"] = [_("Give the tour a title.")]
            elif len(title) > 120:
                errors["title"] = [_("At most 120 characters.")]
        if errors:
            raise ValidationError(errors)
        fields = []
        for name, value in (
            ("title", title),
            ("starts_on", starts_on),
            ("ends_on", ends_on),
            ("leader", leader),
        ):
            if value is not None and getattr(locked, name) != value:
                setattr(locked, name, value)
                fields.append(name)
        if members is not None:
            locked.members.set(list(dict.fromkeys(members)))
        _save_versioned(locked, actor, fields)
    return locked


def add_tour_cases(
    *,
    actor: User,
    tour: Tour,
    expected_version: int | None,
    cases: Sequence[Case] = (),
    matters: Sequence[Matter] = (),
) -> list[TourCase]:
    """Carry more cases, until the tour ends (its last day) and while it is not reported. A case
    already carried is left as it is (a double submit adds nothing)."""
    _require_manager(actor, tour)
    errors: dict[str, list[str]] = {}
    if not cases and not matters:
        errors["cases"] = [_("Choose the cases to carry.")]
    picked = _pick_cases(
        actor=actor, target=tour.target_center, cases=cases, matters=matters, errors=errors
    )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        _lock_cases(picked)
        locked = _lock_tour(tour)
        carried = set(TourCase.objects.filter(tour=locked).values_list("case_id", flat=True))
        fresh = {pk: m for pk, m in picked.items() if pk not in carried}
        if not fresh:
            return []  # all carried already: the same form again
        _check_version(locked, expected_version)
        _require_not_reported(locked)
        if today() > locked.ends_on:
            raise DomainError(_("The tour has ended: no more cases can be added."), code="ended")
        rows = _carry(actor=actor, tour=locked, picked=fresh, at=now)
        _save_versioned(locked, actor, [])
        _notify_target(
            locked,
            None,
            _("The tour “%(title)s” now also carries %(numbers)s.")
            % {"title": locked.title, "numbers": ", ".join(r.case.number for r in rows)},
            at=now,
        )
    return rows


def remove_tour_case(*, actor: User, tour_case: TourCase, expected_version: int | None) -> None:
    """Drop a carried case before the tour ends, while nothing has been recorded on it (no
    reception, meeting, finding or instruction). ``expected_version`` is the tour's."""
    tour = tour_case.tour
    _require_manager(actor, tour)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=tour_case.case_id)
        locked = _lock_tour(tour)
        _check_version(locked, expected_version)
        _require_not_reported(locked)
        if today() > locked.ends_on:
            raise DomainError(_("The tour has ended: its cases stay."), code="ended")
        tc = TourCase.objects.select_for_update().filter(pk=tour_case.pk).first()
        if tc is None:
            return  # removed already (a double submit)
        worked = (
            tc.findings
            or tc.decision
            or tc.instruction
            or tc.order_id
            or locked.receptions.filter(visit__case_id=case.pk).exists()
            or locked.meetings.filter(consultation__case_id=case.pk).exists()
        )
        if worked:
            raise DomainError(
                _("Work was recorded on this case during the tour: it stays in the report."),
                code="worked",
            )
        tc.delete()
        _save_versioned(locked, actor, [])
        record_event(
            case=case,
            kind="tour_case_removed",
            actor=actor,
            at=now,
            message=_("No longer carried by the tour “%(title)s”") % {"title": locked.title},
            data={"tour": locked.pk},
        )


# --- on site ----------------------------------------------------------------------------------------


def _carried(tour: Tour, case: Case) -> TourCase:
    tc = TourCase.objects.filter(tour=tour, case_id=case.pk).first()
    if tc is None:
        raise ValidationError({"case": [_("The tour does not carry this case.")]})
    return tc


def record_reception(
    *,
    actor: User,
    tour: Tour,
    case: Case,
    at: datetime,
    notes: str,
    expected_version: int | None = None,
    petitioner: Petitioner | None = None,
    headcount: int = 1,
    submission_key: str = "",
) -> TourReception:
    """The tour's leader receives the petitioner of a carried case on site (接访): a visit on the
    case, received by the leader in person (counted as a visit received by a leader), and the
    tour's reception row. ``expected_version`` is the case's version (the form's).

    petitions.services.record_repeat_visit is the desk's write path: it requires the reception
    or triage role of the case's own center, and a touring team is neither. The visit is written
    here with the same steps (the visit row, the case's visit count and version, the event, in
    one transaction with the case locked first), and ``received_by_leader`` set on it."""
    _require_team(actor, tour)
    _carried(tour, case)
    notes = (notes or "").strip()
    errors = headcount_errors(headcount)
    if not notes:
        errors["notes"] = [_("Write what the petitioner said and what was answered.")]
    if errors:
        raise ValidationError(errors)
    _in_period(tour, at, "at")
    if submission_key:
        existing = TourReception.objects.filter(
            tour=tour, visit__submission_key=submission_key
        ).first()
        if existing is not None:
            return existing
    channel = Channel.objects.get(code="visit")
    with transaction.atomic():
        locked_case = Case.objects.select_for_update().get(pk=case.pk)
        locked = _lock_tour(tour)
        _require_not_reported(locked)
        _check_version(locked_case, expected_version)
        person = petitioner or locked_case.main_petitioner
        if not CasePetitioner.objects.filter(case=locked_case, petitioner=person).exists():
            raise ValidationError(
                {"petitioner": [_("This person is not a petitioner on that case.")]}
            )
        visit = Visit(
            case=locked_case,
            petitioner=person,
            # Received where the tour was held: the center visited.
            center=locked.target_center,
            channel=channel,
            at=at,
            # A visit on a case already registered is the same matter raised again (重复访), as
            # the desk records it.
            is_repeat=True,
            headcount=headcount,
            notes=notes,
            received_by=actor,
            received_by_leader=locked.leader,
            submission_key=submission_key or None,
        )
        visit._history_user = actor  # type: ignore[attr-defined]
        visit.save()
        locked_case.visit_count = F("visit_count") + 1
        locked_case.version = F("version") + 1
        locked_case._history_user = actor  # type: ignore[attr-defined]
        locked_case.save(update_fields=["visit_count", "version"])
        reception = TourReception.objects.create(tour=locked, visit=visit)
        _to_on_site(locked, actor)
        record_event(
            case=locked_case,
            kind="tour_reception",
            actor=actor,
            at=timezone.now(),
            message=_("Received by %(leader)s on the tour “%(title)s”: %(notes)s")
            % {"leader": locked.leader, "title": locked.title, "notes": notes},
            data={"tour": locked.pk, "visit": visit.pk, "leader": locked.leader_id},
        )
        _notify_target(
            locked,
            locked_case,
            _("%(leader)s received the petitioner of %(number)s on the tour.")
            % {"leader": locked.leader, "number": locked_case.number},
            at=timezone.now(),
        )
    return reception


def record_meeting(
    *,
    actor: User,
    tour: Tour,
    case: Case,
    held_at: datetime,
    departments: Sequence[Department],
    participants: str,
    decisions: str,
) -> TourMeeting:
    """A meeting on a carried case (会诊 / 协调会) held on the tour: supervision's consultation
    (its checks: a supervisor or leader above the case, an open case, the organs of the case's
    center), linked to the tour. The same meeting sent twice is recorded once."""
    _require_team(actor, tour)
    _carried(tour, case)
    _in_period(tour, held_at, "held_at")
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)
        locked = _lock_tour(tour)
        _require_not_reported(locked)
        same = TourMeeting.objects.filter(
            tour=locked,
            consultation__case_id=case.pk,
            consultation__held_at=held_at,
            consultation__decisions=(decisions or "").strip(),
        ).first()
        if same is not None:
            return same
        consultation = record_consultation(
            actor=actor,
            case=case,
            held_at=held_at,
            departments=departments,
            participants=participants,
            decisions=decisions,
        )
        meeting = TourMeeting.objects.create(tour=locked, consultation=consultation)
        _to_on_site(locked, actor)
    return meeting


def _due_at(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=CHINA_TZ)


def record_finding(
    *,
    actor: User,
    tour_case: TourCase,
    findings: str,
    decision: str,
    instruction: str,
    instruction_due: date | None,
    expected_version: int | None,
) -> TourCase:
    """What the tour found on a carried case, what it decided, and the instruction it left. An
    instruction with its due date is issued as a 督办 (supervision.services.issue_supervision_order,
    to the case's lead department) and linked; changing the findings later keeps the order. A
    second instruction waits until the first order is answered or closed (409).
    ``expected_version`` is the carried case's (TourCase.version)."""
    tour = tour_case.tour
    _require_team(actor, tour)
    findings, decision, instruction = (
        (findings or "").strip(),
        (decision or "").strip(),
        (instruction or "").strip(),
    )
    errors: dict[str, list[str]] = {}
    if not (findings or decision or instruction):
        errors["findings"] = [_("Write what was found, decided or instructed.")]
    if instruction and instruction_due is None:
        errors["instruction_due"] = [_("Give the instruction a due date.")]
    if instruction_due is not None and not instruction:
        errors["instruction"] = [_("Write the instruction that is due.")]
    if instruction_due is not None and instruction_due <= today():
        errors["instruction_due"] = [_("The due date must be in the future.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=tour_case.case_id)
        locked_tour = _lock_tour(tour)
        tc = (
            TourCase.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=tour_case.pk)
        )
        unchanged = (tc.findings, tc.decision, tc.instruction, tc.instruction_due) == (
            findings,
            decision,
            instruction,
            instruction_due,
        )
        if unchanged and tc.version != expected_version:
            return tc  # the same form sent twice: saved already
        _check_version(tc, expected_version)
        _require_not_reported(locked_tour)
        new_instruction = bool(instruction) and (
            tc.order is None
            or instruction != tc.instruction
            or instruction_due != tc.instruction_due
        )
        if new_instruction and tc.order is not None and tc.order.state == OrderState.OPEN:
            raise DomainError(
                _(
                    "The tour's instruction on this case still awaits its response; it is "
                    "answered or closed before another is left."
                ),
                code="order_open",
            )
        if not instruction and tc.order is not None:
            raise ValidationError(
                {"instruction": [_("An instruction issued as a supervision order stays.")]}
            )
        tc.findings, tc.decision = findings, decision
        tc.instruction, tc.instruction_due = instruction, instruction_due
        fields = ["findings", "decision", "instruction", "instruction_due"]
        if new_instruction:
            assert instruction_due is not None
            tc.order = issue_supervision_order(
                actor=actor,
                case=case,
                requirement=_("Tour “%(title)s”: %(instruction)s")
                % {"title": locked_tour.title, "instruction": instruction},
                due_at=_due_at(instruction_due),
            )
            fields.append("order")
        _save_versioned(tc, actor, fields)
        _to_on_site(locked_tour, actor)
        if new_instruction:
            assert tc.order is not None
            record_event(
                case=case,
                kind="tour_instruction",
                actor=actor,
                at=now,
                message=_("Instruction of the tour “%(title)s”, due %(due)s: %(instruction)s")
                % {"title": locked_tour.title, "due": instruction_due, "instruction": instruction},
                data={"tour": locked_tour.pk, "order": tc.order.pk},
            )
            _notify_target(
                locked_tour,
                case,
                _("The tour left an instruction on %(number)s, due %(due)s (order %(order)s).")
                % {"number": case.number, "due": instruction_due, "order": tc.order.number},
                at=now,
            )
        else:
            record_event(
                case=case,
                kind="tour_finding",
                actor=actor,
                at=now,
                message=_("Findings of the tour “%(title)s”: %(findings)s %(decision)s")
                % {"title": locked_tour.title, "findings": findings, "decision": decision},
                data={"tour": locked_tour.pk},
            )
    return tc


def file_report(
    *, actor: User, tour: Tour, summary: str, expected_version: int | None = None
) -> Tour:
    """The tour's report: its overall findings; state reported. The tour stays live until every
    instruction it left is met (selectors_tours.is_live)."""
    _require_manager(actor, tour)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": [_("Write the tour's overall findings.")]})
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_tour(tour)
        if locked.state == TourState.REPORTED and locked.summary == summary:
            return locked  # the same report sent twice
        _check_version(locked, expected_version)
        _require_not_reported(locked)
        if today() < locked.starts_on:
            raise DomainError(_("The tour has not started yet."), code="not_started")
        locked.summary = summary
        locked.state = TourState.REPORTED
        locked.reported_at = now
        _save_versioned(locked, actor, ["summary", "state", "reported_at"])
        _notify_target(
            locked,
            None,
            _("The report of the tour “%(title)s” was filed.") % {"title": locked.title},
            at=now,
        )
    return locked
