"""Campaigns (专项活动, DOMAIN.md §8): the write path for each operation.

Every function is typed and keyword-only, takes the acting user, checks role, state and guards on
locked rows, keeps history (simple-history, ``_history_user``), bumps ``version`` (stale writes:
409), writes a CaseEvent when it concerns a case and leaves Notification rows for whoever must act.

One module per family: ``campaigns`` (open, change, close), ``matters`` (积案 交办 with 包案, 签收,
进展, 个案台账), ``sweep`` (排查), ``review`` (案件评查); shared guards in ``common``. This package
re-exports the public names.
"""

from .campaigns import close_campaign, create_campaign, update_campaign
from .common import can_manage
from .matters import hand_down_matter, record_progress, sign_for_matter, update_ledger

# --- review (helper C) ---
from .review import (
    add_outside_reviewer,
    assign_reviewers,
    copy_score_sheet,
    decide_objection,
    issue_review_bulletin,
    object_to_review,
    open_finding_from_review,
    replace_score_items,
    sample_cases,
    submit_review,
)

# --- sweep (helper B) ---
from .sweep import SweepRun, decide_candidate, run_sweep

__all__ = [
    "add_outside_reviewer",
    "assign_reviewers",
    "copy_score_sheet",
    "decide_objection",
    "issue_review_bulletin",
    "object_to_review",
    "open_finding_from_review",
    "replace_score_items",
    "sample_cases",
    "submit_review",
    "SweepRun",
    "decide_candidate",
    "run_sweep",
    "can_manage",
    "close_campaign",
    "create_campaign",
    "hand_down_matter",
    "record_progress",
    "sign_for_matter",
    "update_campaign",
    "update_ledger",
]
