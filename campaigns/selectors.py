"""Reads of campaigns, through the viewer (STYLE.md: reads take the viewer)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.models import User
from core.roles import Role

from .models import SampledCase


def reviewer_case_ids(user: User) -> QuerySet[Any] | None:
    """The cases sampled for an outside reviewer (petitions.hooks user visibility provider):
    None, and no query, for everyone else."""
    if not user.has_role(Role.REVIEWER):
        return None
    return SampledCase.objects.filter(reviewers=user).values_list("case_id", flat=True)
