"""Backlog matters (积案): handed down (交办) with 包案 — 定人员、定案件、定时间、定结果 — signed for
(签收), followed by progress entries to 化解, with the matter's ledger (个案台账).

包案 runs on supervision's LeaderResponsibility: handing a matter down opens one through
``supervision.services.assign_leader_responsibility`` when the case is open, has none open and the
leader may hold one (a leader, or the head of a department the case was assigned to), or links the
open one; recording the matter resolved resolves it through ``resolve_leader_responsibility`` when
the actor may (the leader or a supervisor of the case). A closed or terminated old case, the usual
积案, gets its matter without a responsibility row: the matter itself names the leader.

Progress (``record_progress``): each entry moves the next report date on by the campaign's
interval and clears the warning. An entry on a resolved matter that says "in hand" or "stalled"
reopens it (resolved_at cleared): the petitioner came back and the 化解 did not hold, and the
figures must say so; the leader responsibility, once resolved, stays resolved in supervision.
"Terminated" is never recorded by hand: the summary reads it from the case (selectors).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.deadlines import CHINA_TZ, END_OF_DAY
from clocks.models import NotificationKind
from core.errors import DomainError, PermissionDenied
from core.models import Center, Department, User
from core.orgcache import center_by_pk, subtree_ids
from core.roles import CENTER_ROLES, DEPARTMENT_ROLES, Role
from petitions.models import Case
from petitions.selectors import cases_visible_to
from petitions.services import record_event
from petitions.states import CaseState
from supervision.models import LeaderResponsibility
from supervision.services import (
    assign_leader_responsibility,
    can_supervise,
    lead_assignment,
    resolve_leader_responsibility,
    visible_center_ids,
)
from supervision.services.leader import may_hold_responsibility

from ..models import Campaign, CampaignKind, Matter, MatterOutcome, MatterProgress
from .common import can_manage as _can_manage
from .common import (
    check_version,
    lock,
    lock_campaign,
    notify,
    require_manager,
    require_open_campaign,
    save_versioned,
    to_users,
)

LEDGER_FIELDS = ("summary", "since", "work_done", "obstacle", "next_step")
PROGRESS_OUTCOMES = (MatterOutcome.IN_HAND, MatterOutcome.RESOLVED, MatterOutcome.STALLED)
MATTER_KINDS = (CampaignKind.BACKLOG, CampaignKind.SWEEP)


def today() -> date:
    return timezone.now().astimezone(CHINA_TZ).date()


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=CHINA_TZ)


def _department_head(department: Department) -> User | None:
    return (
        User.objects.filter(department=department, is_active=True, roles__role=Role.HEAD)
        .order_by("pk")
        .first()
    )


def _receiver_audience(matter: Matter) -> list[dict[str, Any]]:
    """Who signs for the matter: the receiving department's officers and head, or the receiving
    center's triage and supervisors."""
    if matter.department_id is not None:
        assert matter.department is not None
        return [
            {
                "audience_center_id": matter.department.center_id,
                "audience_department_id": matter.department_id,
                "audience_role": role,
            }
            for role in (Role.OFFICER, Role.HEAD)
        ]
    return [
        {"audience_center_id": matter.center_id, "audience_role": role}
        for role in (Role.TRIAGE, Role.SUPERVISOR)
    ]


def is_receiving_side(user: User, matter: Matter) -> bool:
    """Staff of the receiving department, or center staff of the receiving center."""
    if matter.department_id is not None:
        return bool(
            user.role_codes & DEPARTMENT_ROLES and user.department_id == matter.department_id
        )
    return bool(user.role_codes & CENTER_ROLES and user.center_id == matter.center_id)


def may_work_on(user: User, matter: Matter) -> bool:
    """Reports progress and keeps the ledger: the handler, the leader, the receiving side or a
    manager of the campaign."""
    return (
        user.is_superuser
        or user.pk in (matter.handler_id, matter.leader_id)
        or is_receiving_side(user, matter)
        or _can_manage(user, matter.campaign)
    )


# --- hand down (交办) ----------------------------------------------------------------------------


def _check_hand_down(
    *,
    actor: User,
    campaign: Campaign,
    case: Case,
    center: Center | None,
    department: Department | None,
    leader: User | None,
    handler: User | None,
    due_on: date,
    target_result: str,
) -> User:
    """Field errors of a hand-down, and the leader (defaulted)."""
    errors: dict[str, list[str]] = {}
    scope = set(subtree_ids(campaign.center)) if campaign.include_subordinates else set()
    scope.add(campaign.center_id)
    if not cases_visible_to(actor).filter(pk=case.pk).exists() or case.center_id not in scope:
        errors["case"] = [_("This case is outside the campaign's centers.")]
    if (center is None) == (department is None):
        errors["center"] = [_("Hand the matter down to one center or one department.")]
    elif center is not None:
        if center.pk not in scope or case.center_id not in subtree_ids(center):
            errors["center"] = [
                _("Choose the campaign's center or a center below it that holds the case.")
            ]
    elif department is not None and (
        department.center_id != case.center_id or not department.is_active
    ):
        errors["department"] = [_("Choose a department of the case's center.")]
    if leader is None and not errors.get("center") and not errors.get("department"):
        if department is not None:
            leader = _department_head(department)
        else:
            lead = lead_assignment(case)
            leader = _department_head(lead.department) if lead is not None else None
    campaign_centers = set(subtree_ids(campaign.center))
    if leader is None:
        errors.setdefault("leader", []).append(
            _("Name the responsible leader: the receiving side has no department head.")
        )
    elif (
        not leader.is_active
        or not leader.has_role(Role.LEADER, Role.HEAD)
        or leader.center_id not in campaign_centers
    ):
        errors.setdefault("leader", []).append(
            _("Choose a leader or a department head of the campaign's centers.")
        )
    if handler is not None and (not handler.is_active or handler.center_id not in campaign_centers):
        errors["handler"] = [_("Choose a staff member of the campaign's centers.")]
    if not campaign.starts_on <= due_on <= campaign.ends_on:
        errors["due_on"] = [
            _("The due date must fall within the campaign (%(start)s to %(end)s).")
            % {"start": campaign.starts_on, "end": campaign.ends_on}
        ]
    elif due_on <= today():
        errors["due_on"] = [_("The due date must be in the future.")]
    if not (target_result or "").strip():
        errors["target_result"] = [_("State the result to be reached.")]
    if errors:
        raise ValidationError(errors)
    assert leader is not None
    return leader


def _responsibility_for(
    *, actor: User, case: Case, leader: User, handler: User | None, due_on: date, target: str
) -> LeaderResponsibility | None:
    """The case's open 包案 row, or a new one when the case and the leader allow it."""
    existing = LeaderResponsibility.objects.filter(case=case, is_resolved=False).first()
    if existing is not None:
        return existing
    if (
        case.state not in CaseState.open_states()
        or not can_supervise(actor, case)
        or not may_hold_responsibility(leader, case)
        # supervision's own checks: the leader sits in a center the actor supervises, and one
        # that can open the case (the case's center or above it)
        or leader.center_id not in visible_center_ids(actor)
        or case.center_id not in _subtree_of(leader.center_id)
    ):
        return None
    return assign_leader_responsibility(
        actor=actor,
        case=case,
        leader=leader,
        handler=handler,
        due_at=_end_of_day(due_on),
        target_result=target,
    )


def _subtree_of(center_id: int | None) -> list[int]:
    center = center_by_pk(center_id) if center_id is not None else None
    return subtree_ids(center) if center is not None else []


def hand_down_matter(
    *,
    actor: User,
    campaign: Campaign,
    case: Case,
    center: Center | None = None,
    department: Department | None = None,
    leader: User | None = None,
    handler: User | None = None,
    due_on: date,
    target_result: str,
    summary: str = "",
    since: date | None = None,
    work_done: str = "",
    obstacle: str = "",
    next_step: str = "",
) -> Matter:
    """交办 with 包案: a case of the campaign's centers goes to a receiving center or department
    with a responsible leader (by default the receiving department's head), a handler, a due
    date within the campaign and a target result. One matter per case per campaign."""
    require_manager(actor, campaign)
    if campaign.kind not in MATTER_KINDS:
        raise DomainError(
            _("Matters are handed down in backlog and sweep campaigns only."),
            code="wrong_campaign_kind",
        )
    leader = _check_hand_down(
        actor=actor,
        campaign=campaign,
        case=case,
        center=center,
        department=department,
        leader=leader,
        handler=handler,
        due_on=due_on,
        target_result=target_result,
    )
    target = target_result.strip()
    now = timezone.now()
    with transaction.atomic():
        locked_case = lock(Case, case.pk)
        locked_campaign = lock_campaign(campaign)
        require_open_campaign(locked_campaign)
        if Matter.objects.filter(campaign=locked_campaign, case=locked_case).exists():
            raise DomainError(
                _("This case was already handed down in this campaign."), code="matter_exists"
            )
        responsibility = _responsibility_for(
            actor=actor,
            case=locked_case,
            leader=leader,
            handler=handler,
            due_on=due_on,
            target=target,
        )
        matter = Matter(
            campaign=locked_campaign,
            case=locked_case,
            center=center,
            department=department,
            leader=leader,
            handler=handler,
            due_on=due_on,
            target_result=target,
            responsibility=responsibility,
            summary=summary.strip(),
            since=since,
            work_done=work_done.strip(),
            obstacle=obstacle.strip(),
            next_step=next_step.strip(),
            handed_down_by=actor,
            handed_down_at=now,
            next_progress_on=today() + timedelta(days=locked_campaign.progress_interval_days),
        )
        matter._history_user = actor  # type: ignore[attr-defined]
        matter.save()
        receiver = department.name if department is not None else center.name  # type: ignore[union-attr]
        record_event(
            case=locked_case,
            kind="campaign_matter",
            actor=actor,
            at=now,
            message=_(
                "Handed down in the campaign “%(campaign)s” to %(receiver)s: leader %(leader)s, "
                "due %(due)s. Target: %(target)s"
            )
            % {
                "campaign": locked_campaign.name,
                "receiver": receiver,
                "leader": leader,
                "due": due_on.isoformat(),
                "target": target,
            },
            data={
                "campaign": locked_campaign.pk,
                "matter": matter.pk,
                "center": center.pk if center is not None else None,
                "department": department.pk if department is not None else None,
                "leader": leader.pk,
                "handler": handler.pk if handler is not None else None,
                "responsibility": responsibility.pk if responsibility is not None else None,
            },
        )
        notify(
            locked_case,
            NotificationKind.EVENT,
            _(
                "A backlog matter of the campaign “%(campaign)s” was handed down to you, due "
                "%(due)s: sign for it and report progress."
            )
            % {"campaign": locked_campaign.name, "due": due_on.isoformat()},
            [*_receiver_audience(matter), *to_users(leader, handler)],
            at=now,
        )
    return matter


# --- sign for (签收) -----------------------------------------------------------------------------


def _lock_matter(matter: Matter, expected_version: int | None) -> Matter:
    locked = (
        Matter.objects.select_for_update(of=("self",))
        .select_related("campaign", "case", "department", "center")
        .get(pk=matter.pk)
    )
    check_version(locked, expected_version)
    return locked


def sign_for_matter(*, actor: User, matter: Matter, expected_version: int | None = None) -> Matter:
    """签收: the receiving department or center acknowledges the matter, once."""
    if not (actor.is_superuser or is_receiving_side(actor, matter)):
        raise PermissionDenied(_("Only the receiving side signs for a matter."))
    now = timezone.now()
    with transaction.atomic():
        lock(Case, matter.case_id)
        locked = _lock_matter(matter, expected_version)
        if locked.signed_at is not None:
            raise DomainError(_("This matter was already signed for."), code="already_signed")
        locked.signed_by = actor
        locked.signed_at = now
        save_versioned(locked, actor, ["signed_by", "signed_at"])
        record_event(
            case=locked.case,
            kind="campaign_matter_signed",
            actor=actor,
            at=now,
            message=_("Backlog matter of “%(campaign)s” signed for.")
            % {"campaign": locked.campaign.name},
            data={"campaign": locked.campaign_id, "matter": locked.pk},
        )
    return locked


# --- progress (进展) -----------------------------------------------------------------------------


def record_progress(
    *,
    actor: User,
    matter: Matter,
    text: str,
    outcome: str,
    obstacle: str = "",
    resolution: str = "",
    expected_version: int | None = None,
    submission_key: str = "",
) -> MatterProgress:
    """A progress entry: what was done and where the matter stands (in hand, resolved — with
    how: 化解 — or stalled — with the obstacle). A double submit (same ``submission_key``) is
    one entry: the second returns the first."""
    if not may_work_on(actor, matter):
        raise PermissionDenied(_("You do not work on this matter."))
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    obstacle = (obstacle or "").strip()
    resolution = (resolution or "").strip()
    if not text:
        errors["text"] = [_("Say what was done.")]
    if outcome not in PROGRESS_OUTCOMES:
        errors["outcome"] = [_("Choose in hand, resolved or stalled.")]
    elif outcome == MatterOutcome.RESOLVED and not resolution:
        errors["resolution"] = [_("Say how the matter was resolved.")]
    elif outcome == MatterOutcome.STALLED and not obstacle:
        errors["obstacle"] = [_("Say what stands in the way.")]
    if len(submission_key) > 64:
        errors["submission_key"] = [_("The submission key is too long.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        lock(Case, matter.case_id)
        locked = _lock_matter(matter, None)
        if submission_key:
            earlier = MatterProgress.objects.filter(
                matter=locked, submission_key=submission_key
            ).first()
            if earlier is not None:
                return earlier  # the same form sent twice (checked before the version)
        check_version(locked, expected_version)
        require_open_campaign(locked.campaign)
        entry = MatterProgress.objects.create(
            matter=locked,
            text=text,
            outcome=outcome,
            obstacle=obstacle,
            recorded_by=actor,
            recorded_at=now,
            submission_key=submission_key,
        )
        was = locked.outcome
        fields = ["outcome", "last_progress_at", "next_progress_on", "warning_level"]
        fields += ["escalation_step", "resolved_at", "resolution"]
        locked.outcome = outcome
        locked.last_progress_at = now
        locked.warning_level = "none"
        locked.escalation_step = 0
        if outcome == MatterOutcome.RESOLVED:
            locked.next_progress_on = None  # no more reports due
            if was != MatterOutcome.RESOLVED:
                locked.resolved_at = now  # the observation window counts from here
            locked.resolution = resolution
        else:
            locked.next_progress_on = today() + timedelta(
                days=locked.campaign.progress_interval_days
            )
            locked.resolved_at = None  # reopened, if it was resolved: the 化解 did not hold
            locked.resolution = ""
        if outcome == MatterOutcome.STALLED:
            locked.obstacle = obstacle
            fields.append("obstacle")
        save_versioned(locked, actor, fields)
        record_event(
            case=locked.case,
            kind="campaign_progress",
            actor=actor,
            at=now,
            message=_("Backlog matter progress (%(outcome)s): %(text)s")
            % {"outcome": MatterOutcome(outcome).label, "text": text},
            data={
                "campaign": locked.campaign_id,
                "matter": locked.pk,
                "progress": entry.pk,
                "outcome": outcome,
                "from": was,
            },
        )
        if outcome == MatterOutcome.RESOLVED and was != MatterOutcome.RESOLVED:
            _resolve_responsibility(actor, locked, resolution)
        if outcome != was:
            notify(
                locked.case,
                NotificationKind.EVENT,
                _("Backlog matter of “%(campaign)s” is now: %(outcome)s.")
                % {"campaign": locked.campaign.name, "outcome": MatterOutcome(outcome).label},
                [
                    row
                    for row in to_users(locked.leader, locked.handed_down_by, locked.handler)
                    if row["recipient_id"] != actor.pk
                ],
                at=now,
            )
    return entry


def _resolve_responsibility(actor: User, matter: Matter, resolution: str) -> None:
    """Resolve the linked 包案 row when the actor may (its leader or a supervisor of the case);
    otherwise it stays open for the leader to close in supervision."""
    if matter.responsibility_id is None:
        return
    responsibility = LeaderResponsibility.objects.filter(
        pk=matter.responsibility_id, is_resolved=False
    ).first()
    if responsibility is None:
        return
    if (
        actor.is_superuser
        or actor.pk == responsibility.leader_id
        or can_supervise(actor, matter.case)
    ):
        resolve_leader_responsibility(actor=actor, responsibility=responsibility, result=resolution)


# --- ledger (个案台账) ----------------------------------------------------------------------------


def update_ledger(
    *, actor: User, matter: Matter, expected_version: int | None = None, **fields: Any
) -> Matter:
    """Keep the matter's ledger: what it is, since when, what has been done, the obstacle and the
    next step."""
    unknown = sorted(set(fields) - set(LEDGER_FIELDS))
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if not may_work_on(actor, matter):
        raise PermissionDenied(_("You do not work on this matter."))
    since = fields.get("since")
    if since is not None and since > today():
        raise ValidationError({"since": [_("This date cannot be in the future.")]})
    now = timezone.now()
    with transaction.atomic():
        lock(Case, matter.case_id)
        locked = _lock_matter(matter, expected_version)
        require_open_campaign(locked.campaign)
        changed = []
        for name, value in fields.items():
            value = value.strip() if isinstance(value, str) else value
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if not changed:
            return locked
        save_versioned(locked, actor, changed)
        record_event(
            case=locked.case,
            kind="campaign_ledger",
            actor=actor,
            at=now,
            message=_("Backlog matter ledger updated."),
            data={"campaign": locked.campaign_id, "matter": locked.pk, "fields": changed},
        )
    return locked
