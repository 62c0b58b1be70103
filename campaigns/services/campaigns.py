"""Opening, changing and closing a campaign (专项活动)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import PermissionDenied
from core.models import Center, User
from core.selectors import centers_visible_to

from ..models import Campaign, CampaignKind, CampaignState, ScoreSheet
from .common import (
    MANAGING_ROLES,
    check_version,
    lock_campaign,
    require_manager,
    require_open_campaign,
    save_versioned,
)

# What update_campaign may change (the center and kind are what the campaign is: not editable).
EDITABLE_FIELDS = (
    "name",
    "starts_on",
    "ends_on",
    "include_subordinates",
    "targets",
    "group_leader",
    "office",
    "members",
    "progress_interval_days",
    "observation_days",
    "description",
    "score_sheet",
)
TARGET_KEYS = ("resolution_rate", "cessation_rate")


def _validate(
    *,
    actor: User,
    center: Center,
    name: str,
    starts_on: date,
    ends_on: date,
    targets: dict[str, Any] | None,
    group_leader: User | None,
    members: Iterable[User],
    progress_interval_days: int,
    observation_days: int,
    score_sheet: ScoreSheet | None,
) -> dict[str, Any]:
    """Field errors as {field: [messages]}, and the cleaned targets."""
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Name the campaign.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    cleaned: dict[str, float] = {}
    for key, value in (targets or {}).items():
        if key not in TARGET_KEYS:
            errors.setdefault("targets", []).append(_("Unknown target “%(key)s”.") % {"key": key})
            continue
        if value is None or value == "":
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if isinstance(value, bool) or not 0 <= number <= 1:
            errors.setdefault("targets", []).append(_("A target rate is a number between 0 and 1."))
            continue
        cleaned[key] = number
    visible = set(centers_visible_to(actor).values_list("pk", flat=True))
    people = [("group_leader", group_leader)] + [("members", m) for m in members]
    for field, person in people:
        if person is not None and (not person.is_active or person.center_id not in visible):
            errors.setdefault(field, []).append(_("Choose staff of the centers you supervise."))
    if progress_interval_days < 1:
        errors["progress_interval_days"] = [_("Progress is reported at least every day.")]
    if observation_days < 1:
        errors["observation_days"] = [_("The observation window is at least one day.")]
    if score_sheet is not None and score_sheet.center_id not in (None, center.pk):
        errors["score_sheet"] = [_("Choose the default score sheet or one of this center.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_campaign(
    *,
    actor: User,
    name: str,
    kind: str,
    center: Center,
    starts_on: date,
    ends_on: date,
    include_subordinates: bool = False,
    targets: dict[str, Any] | None = None,
    group_leader: User | None = None,
    office: str = "",
    members: Iterable[User] = (),
    progress_interval_days: int = 7,
    observation_days: int = 90,
    description: str = "",
    score_sheet: ScoreSheet | None = None,
) -> Campaign:
    """Open a campaign at ``center``: a supervisor or leader of that center or of one above it."""
    if not actor.is_superuser:
        if not actor.has_role(*MANAGING_ROLES):
            raise PermissionDenied(_("Only supervisors and leaders may open a campaign."))
        if not centers_visible_to(actor).filter(pk=center.pk).exists():
            raise PermissionDenied(_("You can open campaigns only for the centers you supervise."))
    if kind not in CampaignKind.values:
        raise ValidationError({"kind": [_("Choose a kind of campaign.")]})
    members = list(members)
    cleaned_targets = _validate(
        actor=actor,
        center=center,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        targets=targets,
        group_leader=group_leader,
        members=members,
        progress_interval_days=progress_interval_days,
        observation_days=observation_days,
        score_sheet=score_sheet,
    )
    with transaction.atomic():
        campaign = Campaign(
            name=name.strip(),
            kind=kind,
            center=center,
            include_subordinates=include_subordinates,
            starts_on=starts_on,
            ends_on=ends_on,
            targets=cleaned_targets,
            group_leader=group_leader,
            office=office.strip(),
            progress_interval_days=progress_interval_days,
            observation_days=observation_days,
            description=description.strip(),
            score_sheet=score_sheet,
            created_by=actor,
            created_at=timezone.now(),
        )
        campaign._history_user = actor  # type: ignore[attr-defined]
        campaign.save()
        if members:
            campaign.members.set(members)
    return campaign


def update_campaign(
    *, actor: User, campaign: Campaign, expected_version: int | None = None, **fields: Any
) -> Campaign:
    """Change a running campaign's period, leading group, targets or windows (its managers)."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    require_manager(actor, campaign)
    with transaction.atomic():
        locked = lock_campaign(campaign)
        check_version(locked, expected_version)
        require_open_campaign(locked)
        members = fields.pop("members", None)
        merged = {name: getattr(locked, name) for name in EDITABLE_FIELDS if name != "members"}
        merged.update(fields)
        merged["targets"] = _validate(
            actor=actor,
            center=locked.center,
            name=merged["name"],
            starts_on=merged["starts_on"],
            ends_on=merged["ends_on"],
            targets=merged["targets"],
            group_leader=merged["group_leader"],
            members=members or (),
            progress_interval_days=merged["progress_interval_days"],
            observation_days=merged["observation_days"],
            score_sheet=merged["score_sheet"],
        )
        if "targets" in fields:
            fields["targets"] = merged["targets"]
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        save_versioned(locked, actor, fields)
        if members is not None:
            locked._history_user = actor  # type: ignore[attr-defined]
            locked.members.set(members)
    return locked


def close_campaign(
    *, actor: User, campaign: Campaign, expected_version: int | None = None
) -> Campaign:
    """Close a campaign: no more hand-downs, sweeps or samples; its figures stay readable."""
    require_manager(actor, campaign)
    with transaction.atomic():
        locked = lock_campaign(campaign)
        check_version(locked, expected_version)
        require_open_campaign(locked)
        locked.state = CampaignState.CLOSED
        save_versioned(locked, actor, ["state"])
    return locked
