"""Re-examined old cases.

Part of closure.services (see its docstring): each function is the one write path for its action."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import User
from core.roles import Role
from petitions.models import Case
from petitions.services import (
    record_event,
    require_not_archived,
)

from ..models import (
    CaseClosure,
    Correction,
    ReexaminationOutcome,
)
from .closing import _closure_row, archive_case, close_by_agreement, close_case, reopen_case
from .common import (
    REVIEW_WINDOW_KIND,
    _bump_version,
    _lock_case,
    _require_center,
    _require_lead_member,
    _require_roles,
    _sync,
    _text,
)
from .evaluations import LinkError, Verdict, evaluate_by_link, record_evaluation
from .replies import (
    Delivery,
    ReplyText,
    approve_reply,
    deliver_reply,
    reissue_evaluation_link,
    save_reply_draft,
    send_back_reply,
)
from .return_visits import VisitRecord, record_return_visit, schedule_return_visit

# --- re-examined old cases ----------------------------------------------------------------------------


def record_reexamination(
    *,
    actor: User,
    case: Case,
    outcome: str,
    corrections: Sequence[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> CaseClosure:
    """The outcome of re-examining an old case (wholly wrong and corrected, partly wrong and
    partly corrected, right and upheld) and the corrections made."""
    errors: dict[str, list[str]] = {}
    if outcome not in ReexaminationOutcome.values:
        errors["outcome"] = [_("Choose the outcome of the re-examination.")]
    wanted = list(dict.fromkeys(corrections))
    if any(c not in Correction.values for c in wanted):
        errors["corrections"] = [_("Unknown correction.")]
    if outcome == ReexaminationOutcome.RIGHT_UPHELD and wanted:
        errors["corrections"] = [_("A decision upheld as right needs no correction.")]
    if (
        outcome
        in (
            ReexaminationOutcome.WHOLLY_WRONG_CORRECTED,
            ReexaminationOutcome.PARTLY_WRONG_PARTLY_CORRECTED,
        )
        and not wanted
    ):
        errors["corrections"] = [_("Say which correction was made.")]
    if errors:
        raise ValidationError(errors)
    _require_roles(
        actor,
        (Role.SUPERVISOR, Role.HEAD),
        _("The re-examination outcome is recorded by a supervisor or the department head."),
    )
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_case(case, expected_version)
        if actor.has_role(Role.HEAD) and not actor.has_role(Role.SUPERVISOR):
            _require_lead_member(actor, locked)
        else:
            _require_center(actor, locked)
        closure = _closure_row(locked)
        closure.reexamination_outcome = outcome
        closure.corrections = wanted
        closure.correction_note = _text(note)
        closure._history_user = actor  # type: ignore[attr-defined]
        closure.save()
        _bump_version(locked)
        labels = "、".join(str(Correction(c).label) for c in wanted)
        record_event(
            case=locked,
            kind="reexamination",
            actor=actor,
            at=now,
            message=str(ReexaminationOutcome(outcome).label)
            + (f"：{labels}" if labels else "")
            + (f"\n{closure.correction_note}" if closure.correction_note else ""),
            data={"outcome": outcome, "corrections": wanted},
        )
    _sync(case, locked)
    return closure


# Re-exported for callers that only need the open-assisting check (appeals).
__all__ = [
    "REVIEW_WINDOW_KIND",
    "Delivery",
    "LinkError",
    "ReplyText",
    "Verdict",
    "VisitRecord",
    "approve_reply",
    "archive_case",
    "close_by_agreement",
    "close_case",
    "deliver_reply",
    "evaluate_by_link",
    "record_evaluation",
    "record_reexamination",
    "record_return_visit",
    "reissue_evaluation_link",
    "reopen_case",
    "require_not_archived",
    "save_reply_draft",
    "schedule_return_visit",
    "send_back_reply",
]
