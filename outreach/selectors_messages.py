"""Reads of the messages to the petitioner. The case is reached first through
petitions.selectors.get_case_for (scoping); these take the case."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet

from outreach.models import Message, MessageState

if TYPE_CHECKING:
    from collections.abc import Iterable

    from petitions.models import Case


def messages_of_case(case: Case) -> QuerySet[Message]:
    """The case's messages, newest first (masked fields only are shown)."""
    return Message.objects.filter(case=case).order_by("-created_at", "-pk")


def counts(center_ids: Iterable[int], since: datetime, until: datetime) -> dict[str, int]:
    """Messages to petitioners of cases of ``center_ids`` created in [since, until): ``queued``,
    ``sent``, ``failed``, ``opted_out`` and ``total``. One query."""
    qs = Message.objects.filter(
        case__center_id__in=list(center_ids), created_at__gte=since, created_at__lt=until
    )
    row = qs.aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=Q(state=state)) for state in MessageState.values},
    )
    return {key: int(value or 0) for key, value in row.items()}


def case_panel_context(user: Any, case: Case, page: Any = None) -> dict[str, Any]:
    """The messages part of the case page (templates/outreach/messages/_case_panel.html, as
    ``outreach.messages``): the case's messages, masked, with their people's names. One query.
    Whoever reads the case reads its messages (the texts are masked)."""
    return {
        "messages": list(
            messages_of_case(case)
            .select_related("petitioner")
            .only(
                "pk",
                "kind",
                "body_masked",
                "phone_masked",
                "state",
                "attempts",
                "created_at",
                "sent_at",
                "case_id",
                "petitioner__id",
                "petitioner__name",
            )
        )
    }
