"""Backlog matters (积案): handed down with 包案, signed for, followed to 化解."""

from __future__ import annotations

from datetime import date

from core.models import Center, Department, User
from petitions.models import Case

from ..models import Campaign, Matter, MatterProgress


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
    raise NotImplementedError


def sign_for_matter(*, actor: User, matter: Matter, expected_version: int | None = None) -> Matter:
    raise NotImplementedError


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
    raise NotImplementedError


def update_ledger(
    *, actor: User, matter: Matter, expected_version: int | None = None, **fields: object
) -> Matter:
    raise NotImplementedError
