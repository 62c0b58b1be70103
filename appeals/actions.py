"""The appeals actions on the case page (petitions.actions): what this user may do now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import User
from petitions.models import Case

from .models import ReviewKind
from .selectors import allowed_for

if TYPE_CHECKING:
    from petitions.actions import Action, CasePage


def case_actions(user: User, case: Case, ctx: CasePage) -> Iterator[Action]:
    from petitions.actions import Action

    allowed = allowed_for(user, case, assignments=ctx.assignments)
    page = reverse("appeals:case", args=[case.pk])
    if allowed.request_kind == ReviewKind.REVIEW:
        yield Action(
            label=_("Record a request for review"),
            url=f"{page}#request-review",
            name="appeals.request_review",
        )
    elif allowed.request_kind == ReviewKind.RE_REVIEW:
        yield Action(
            label=_("Record a request for re-review"),
            url=f"{page}#request-review",
            name="appeals.request_re_review",
        )
    if allowed.decide is not None:
        yield Action(
            label=_("Decide the review"),
            url=f"{page}#decide-review",
            style="primary",
            name="appeals.decide_review",
        )
    if allowed.record_outcome is not None:
        yield Action(
            label=_("Record the outcome of the forwarded re-review"),
            url=f"{page}#record-outcome",
            style="primary",
            name="appeals.record_outcome",
        )
    if allowed.propose:
        yield Action(
            label=_("Propose lawful termination"),
            url=f"{page}#propose-termination",
            name="appeals.propose_termination",
        )
    if allowed.review_termination is not None:
        yield Action(
            label=_("Review the termination proposal"),
            url=f"{page}#review-termination",
            style="primary",
            name="appeals.review_termination",
        )
    if allowed.approve_termination is not None:
        yield Action(
            label=_("Approve or refuse the lawful termination"),
            url=f"{page}#approve-termination",
            style="primary",
            name="appeals.approve_termination",
        )
