"""The reply and closure steps on the case page's actions (petitions.actions provider). Each is a
link to the section of the case's reply and closure page where the step's form is; the same
``Permissions`` decide what the page offers, so an action is offered only where its form is."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import User
from petitions.actions import Action, CasePage
from petitions.models import Case

from .models import Reply
from .selectors import (
    EvaluationStatus,
    evaluation_status,
    first_evaluation,
    lead_among,
)


def page_reply(case: Case, ctx: CasePage) -> Reply | None:
    """The current reply (not superseded), read once per case page for the actions and the
    closure summary; without current_reply's joined people, which neither shows."""
    return ctx.memo(
        "closure.reply",
        lambda: Reply.objects.filter(case_id=case.pk, superseded_at__isnull=True).first(),
    )


def case_actions(user: User, case: Case, ctx: CasePage) -> Iterator[Action]:
    from .views import Permissions  # the page's own rules (views import forms; keep ready() light)

    reply = page_reply(case, ctx)
    can = Permissions(user, case, reply, lead=lead_among(ctx.assignments))
    page = reverse("closure:case", args=[case.pk])
    status = reply.status if reply else None
    if can.can_draft and status != "submitted":
        yield Action(_("Write the reply"), f"{page}#reply", style="primary", name="closure.draft")
    if can.can_approve:
        yield Action(
            _("Approve the reply"), f"{page}#reply", style="primary", name="closure.approve"
        )
    if can.can_print:
        yield Action(
            _("Print the reply"),
            reverse("closure:reply_print", args=[case.pk]),
            name="closure.print",
        )
    if can.can_deliver:
        yield Action(
            _("Record the delivery"), f"{page}#reply", style="primary", name="closure.deliver"
        )
    if can.can_agree:
        yield Action(
            _("Close by a mediation or settlement agreement"),
            f"{page}#reply",
            name="closure.agreement",
        )
    if (
        can.can_evaluate
        and reply is not None
        and first_evaluation(reply) is None
        and evaluation_status(case, timezone.now()) == EvaluationStatus.OPEN
    ):
        yield Action(_("Record evaluation"), f"{page}#evaluation", name="closure.evaluate")
    if can.can_visit:
        yield Action(_("Record a return visit"), f"{page}#visits", name="closure.return_visit")
    if can.can_close:
        yield Action(_("Close the case"), f"{page}#closure", name="closure.close")
    if can.can_archive:
        yield Action(_("Archive the file"), f"{page}#closure", name="closure.archive")
    if can.can_reopen:
        yield Action(_("Reopen the case"), f"{page}#closure", name="closure.reopen")
    if can.can_reexamine:
        yield Action(
            _("Record the outcome of the re-examination"),
            f"{page}#reexamination",
            name="closure.reexamination",
        )
