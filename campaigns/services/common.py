"""Guards, locks and outbox helpers shared by every campaigns service module (campaigns, matters,
sweep, review).

Lock order, as in supervision: the case row first (when the write concerns a case), then the
campaign row, then the matter (or candidate, review) row. Two managers at once are serialised
rather than deadlocked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from core.errors import DomainError, PermissionDenied, StaleState
from core.models import User
from core.roles import Role
from petitions.models import Case
from supervision.services.common import _notify as supervision_notify

from ..models import Campaign, CampaignState
from ..selectors import can_manage

__all__ = [
    "MANAGING_ROLES",
    "can_manage",
    "check_version",
    "lock",
    "lock_campaign",
    "notify",
    "require_manager",
    "require_open_campaign",
    "save_versioned",
    "to_users",
]

# Who runs a campaign: the center's supervisors and leaders (DOMAIN.md §2, §8).
MANAGING_ROLES = (Role.SUPERVISOR, Role.LEADER)


def require_manager(actor: User, campaign: Campaign) -> None:
    """403 unless the actor runs this campaign (selectors.can_manage)."""
    if not can_manage(actor, campaign):
        raise PermissionDenied(_("Only the campaign's center supervisors and leaders may do this."))


def require_open_campaign(campaign: Campaign) -> None:
    if campaign.state != CampaignState.OPEN:
        raise DomainError(_("The campaign is closed."), code="campaign_closed")


def lock[M: Model](model: type[M], pk: int) -> M:
    """The row, locked for the rest of the transaction (select_for_update)."""
    return model._default_manager.select_for_update().get(pk=pk)


def lock_campaign(campaign: Campaign) -> Campaign:
    return lock(Campaign, campaign.pk)


def check_version(obj: Any, expected_version: int | None) -> None:
    """Refuse a stale write (409): the form was read at ``expected_version``, the locked row is
    newer. None skips the check (callers that hold no version, e.g. a task)."""
    if expected_version is not None and obj.version != expected_version:
        raise StaleState(
            _("This record was changed by someone else in the meantime; reload it and try again.")
        )


def save_versioned(obj: Any, actor: User | None, fields: Iterable[str]) -> None:
    """Save named fields with the version bumped, and the history row attributed to ``actor``."""
    obj.version += 1
    obj._history_user = actor
    obj.save(update_fields=[*fields, "version"])


def to_users(*users: User | None) -> list[dict[str, Any]]:
    """Outbox audience rows, one per distinct user."""
    seen: set[int] = set()
    rows: list[dict[str, Any]] = []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            rows.append({"recipient_id": user.pk})
    return rows


def notify(
    case: Case | None,
    kind: str,
    body: str,
    audience: Iterable[dict[str, Any]],
    *,
    at: datetime,
    title: str = "",
) -> int:
    """Outbox rows (clocks.Notification) in the caller's transaction, e-mailed after commit:
    supervision's helper, so campaigns notifications reach the same inbox and mailer."""
    return supervision_notify(case, kind, body, audience, at=at, title=title)
