"""The sweep (排查): run the stated criteria over the campaign's scope, keep or drop each candidate.

A re-run never loses a decision: a case found again keeps its row, its decision and its reason
(its ``criteria_met`` follows the new run); a case not found again is removed only while it is
still undecided. Candidate rows are written in bulk, so their history rows are written in bulk
too (simple-history records nothing on bulk operations by itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.models import User
from core.orgcache import center_by_pk, subtree_ids
from petitions.models import Case
from petitions.services import record_event
from petitions.states import CaseState

from ..models import Campaign, CampaignKind, CandidateDecision, Matter, SweepCandidate
from ..sweep import SweepCriteria, SweepFound, find_candidates, parse_criteria
from .common import lock, lock_campaign, require_manager, require_open_campaign, save_versioned
from .matters import hand_down_matter

__all__ = ["HAND_DOWN_FIELDS", "SweepRun", "decide_candidate", "run_sweep", "scope_center_ids"]

# What a kept candidate's hand-down may carry: hand_down_matter's keyword arguments, less the
# ones the candidate itself gives (actor, campaign, case).
HAND_DOWN_FIELDS = frozenset(
    {
        "center",
        "department",
        "leader",
        "handler",
        "due_on",
        "target_result",
        "summary",
        "since",
        "work_done",
        "obstacle",
        "next_step",
    }
)
SWEEPING_KINDS = frozenset({CampaignKind.SWEEP, CampaignKind.BACKLOG})


def scope_center_ids(campaign: Campaign) -> list[int]:
    """The campaign's center, and the centers below it when it reaches them (organisation cache,
    no query)."""
    if not campaign.include_subordinates:
        return [campaign.center_id]
    center = center_by_pk(campaign.center_id) or campaign.center
    return subtree_ids(center)


class SweepRun(list[SweepCandidate]):
    """This run's candidates in the sweep's order (a list, as the contract says), with
    ``total``: how many cases met the criteria, exact unless ``truncated`` (more than
    campaigns.sweep.CANDIDATE_CAP met them: ``total`` is then the cap, and the criteria need
    narrowing), and ``numbers``: each candidate's case number by case id (read by the same
    query, for the answer)."""

    total: int = 0
    truncated: bool = False
    numbers: dict[int, str]


def run_sweep(
    *,
    actor: User,
    campaign: Campaign,
    criteria: Mapping[str, Any],
    now: datetime | None = None,
) -> SweepRun:
    """Run the sweep with ``criteria`` (campaigns.sweep: validated, else ValidationError by
    criterion), save the criteria on the campaign (history) and the candidates found (at most
    campaigns.sweep.CANDIDATE_CAP), keeping earlier decisions. Returns this run's candidates, in
    the sweep's order, with ``total`` and ``truncated`` (more than the cap met the criteria)."""
    require_manager(actor, campaign)
    require_open_campaign(campaign)
    if campaign.kind not in SWEEPING_KINDS:
        raise DomainError(
            _("Only a sweep or backlog campaign sweeps for candidates."), code="not_a_sweep"
        )
    parsed: SweepCriteria = parse_criteria(criteria)
    now = now or timezone.now()
    with transaction.atomic():
        # Two sweeps of one campaign at once are serialised here (lock order: campaign, then
        # its candidate rows), so neither inserts a candidate the other is inserting.
        locked = lock_campaign(campaign)
        require_open_campaign(locked)
        found = find_candidates(center_ids=scope_center_ids(locked), criteria=parsed, now=now)
        locked.sweep_criteria = parsed.as_dict()
        save_versioned(locked, actor, ["sweep_criteria"])
        campaign.sweep_criteria, campaign.version = locked.sweep_criteria, locked.version
        run = SweepRun(_store(locked, found, actor=actor, now=now))
    run.total = found.total
    run.truncated = found.truncated
    run.numbers = {case_id: number for case_id, number, _met in found.rows}
    return run


def _store(
    campaign: Campaign, found: SweepFound, *, actor: User, now: datetime
) -> list[SweepCandidate]:
    """Insert the new candidates, update the ones found again, drop the undecided ones not found
    again; history rows in bulk for each. Four statements whatever the number of rows."""
    existing = {c.case_id: c for c in SweepCandidate.objects.filter(campaign=campaign)}
    history = SweepCandidate.history.model  # type: ignore[attr-defined]
    manager = SweepCandidate.history  # type: ignore[attr-defined]
    new: list[SweepCandidate] = []
    changed: list[SweepCandidate] = []
    ordered: list[SweepCandidate] = []
    for case_id, _number, met in found.rows:
        row = existing.pop(case_id, None)
        if row is None:
            row = SweepCandidate(campaign=campaign, case_id=case_id, criteria_met=met, found_at=now)
            new.append(row)
        elif row.criteria_met != met:
            row.criteria_met = met
            changed.append(row)
        ordered.append(row)
    if new:
        SweepCandidate.objects.bulk_create(new)  # PostgreSQL returns the ids
        manager.bulk_history_create(new, default_user=actor, default_date=now)
    if changed:
        SweepCandidate.objects.bulk_update(changed, ["criteria_met"])
        manager.bulk_history_create(changed, update=True, default_user=actor, default_date=now)
    gone = [c for c in existing.values() if c.decision == CandidateDecision.PENDING]
    if gone:
        # Undecided and no longer found: removed, their deletion kept in the history.
        history.objects.bulk_create(
            [
                history(
                    history_date=now,
                    history_user=actor,
                    history_type="-",
                    **{f.attname: getattr(c, f.attname) for f in history.tracked_fields},
                )
                for c in gone
            ]
        )
        # A plain DELETE: QuerySet.delete() would send post_delete per row, and simple-history
        # would write a second, unattributed history row per candidate, one INSERT each.
        # Nothing references a candidate row (no cascade to collect).
        gone_rows = SweepCandidate.objects.filter(pk__in=[c.pk for c in gone])
        gone_rows._raw_delete(gone_rows.db)  # type: ignore[attr-defined]
    return ordered


def decide_candidate(
    *,
    actor: User,
    candidate: SweepCandidate,
    keep: bool,
    reason: str,
    hand_down: Mapping[str, Any] | None = None,
) -> SweepCandidate:
    """Keep or drop a candidate, with a reason either way. Keeping hands the matter down (交办,
    campaigns.services.matters.hand_down_matter with ``hand_down``'s arguments) in the same
    transaction, unless the case already is a matter of the campaign. A kept candidate is
    final; a dropped one may still be kept later; deciding the same way twice is refused (409),
    so a double submit does one thing."""
    campaign = candidate.campaign
    require_manager(actor, campaign)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for keeping or dropping it.")]})
    extra = sorted(set(hand_down or {}) - HAND_DOWN_FIELDS)
    if extra:
        raise ValidationError(
            {"hand_down": [_("Unknown hand-down fields: %(names)s.") % {"names": ", ".join(extra)}]}
        )
    now = timezone.now()
    with transaction.atomic():
        # Lock order (campaigns.services.common): the case, the campaign, then the candidate.
        case = lock(Case, candidate.case_id)
        locked_campaign = lock_campaign(campaign)
        require_open_campaign(locked_campaign)
        locked = lock(SweepCandidate, candidate.pk)
        if locked.decision == CandidateDecision.KEPT:
            raise DomainError(
                _("This candidate was kept and handed down already."), code="already_decided"
            )
        if locked.decision == CandidateDecision.DROPPED and not keep:
            raise DomainError(_("This candidate was dropped already."), code="already_decided")
        if keep:
            is_matter = Matter.objects.filter(campaign=locked_campaign, case=case).exists()
            if not is_matter:
                if not hand_down:
                    raise ValidationError(
                        {"hand_down": [_("Say to whom and by when it is handed down.")]}
                    )
                hand_down_matter(
                    actor=actor, campaign=locked_campaign, case=case, **dict(hand_down)
                )
        locked.decision = CandidateDecision.KEPT if keep else CandidateDecision.DROPPED
        locked.reason = reason
        locked.decided_by = actor
        locked.decided_at = now
        locked._history_user = actor  # type: ignore[attr-defined]
        locked.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
        # The case's timeline says what the sweep made of it; an archived file is read-only
        # (petitions.services.record_event refuses it), and the candidate's history keeps the
        # decision either way.
        if case.state != CaseState.ARCHIVED:
            record_event(
                case=case,
                kind="campaign_candidate_kept" if keep else "campaign_candidate_dropped",
                actor=actor,
                message=(
                    _("Kept in the sweep of campaign “%(name)s”: %(reason)s")
                    if keep
                    else _("Dropped from the sweep of campaign “%(name)s”: %(reason)s")
                )
                % {"name": locked_campaign.name, "reason": reason},
                data={"campaign": locked_campaign.pk, "candidate": locked.pk},
                at=now,
            )
    candidate.refresh_from_db()
    return candidate
