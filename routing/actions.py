"""Routing's actions on the case page (petitions.actions): screening decisions, reassignment,
and the department's sign-for / accept / return / contribution on its assignment."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.roles import Role
from petitions.actions import Action, CasePage
from petitions.models import Case
from petitions.selectors import can_act_on
from petitions.states import TRANSITIONS, CaseState

from .models import ACTIVE_ASSIGNMENT_STATES, Assignment, AssignmentRole, AssignmentState

# decision name on the screening page → (label, style); the page's sections are #decision-<name>
SCREENING_DECISIONS = {
    "assign": (_("Accept and assign"), "primary"),
    "confirm": (_("Confirm the return"), "primary"),
    "not_accept": (_("Not accept"), ""),
    "refer": (_("Refer out to the competent organ"), ""),
    "legal": (_("Route into legal procedure"), ""),
    "transfer": (_("Transfer to another center"), ""),
}


def _screening(user: User, case: Case) -> Iterator[Action]:
    if not (user.is_superuser or user.has_role(Role.TRIAGE)):
        return
    if case.state == CaseState.REGISTERED:
        names = ["assign", "not_accept", "refer", "legal", "transfer"]
    elif case.state == CaseState.RETURNED:
        names = ["confirm", "not_accept", "refer", "legal", "transfer"]
    else:
        return
    url = reverse("routing:screen", args=[case.pk])
    for name in names:
        label, style = SCREENING_DECISIONS[name]
        yield Action(label, f"{url}#decision-{name}", style=style, name=f"routing.{name}")


def _department(user: User, case: Case, ctx: CasePage) -> Iterator[Action]:
    if not user.department_id or not (user.is_superuser or user.has_role(Role.OFFICER, Role.HEAD)):
        return
    # The department's latest active assignment, from the page's assignments (no query).
    mine: list[Assignment] = [
        a
        for a in ctx.assignments
        if a.department_id == user.department_id and a.state in ACTIVE_ASSIGNMENT_STATES
    ]
    if not mine:
        return
    assignment = max(mine, key=lambda a: (a.assigned_at, a.pk))
    page = reverse("routing:assignment_detail", args=[assignment.pk])
    is_lead = assignment.role == AssignmentRole.LEAD
    if assignment.state == AssignmentState.PENDING:
        yield Action(
            _("Sign for"),
            reverse("routing:assignment_sign", args=[assignment.pk]),
            method="post",
            style="primary",
            name="routing.sign_for",
        )
    if is_lead and assignment.state == AssignmentState.SIGNED:
        yield Action(
            _("Accept the case"),
            reverse("routing:assignment_accept", args=[assignment.pk]),
            method="post",
            style="primary",
            name="routing.accept",
        )
    if not is_lead and assignment.state in (AssignmentState.SIGNED, AssignmentState.ACCEPTED):
        yield Action(_("Submit the contribution"), f"{page}#actions", name="routing.contribution")
    if assignment.state in (AssignmentState.PENDING, AssignmentState.SIGNED):
        yield Action(
            _("Return with an objection"),
            f"{page}#return-panel",
            style="danger",
            name="routing.return",
        )
    yield Action(_("Open the assignment"), page, name="routing.assignment")


def case_actions(user: User, case: Case, ctx: CasePage) -> Iterator[Action]:
    yield from _department(user, case, ctx)
    if not can_act_on(user, case):
        return  # a higher or sending center reads the case; it does not act on it
    yield from _screening(user, case)
    if case.state in TRANSITIONS["reassign"].sources and (
        user.is_superuser or user.has_role(Role.TRIAGE, Role.SUPERVISOR)
    ):
        yield Action(
            _("Reassign"), reverse("routing:reassign", args=[case.pk]), name="routing.reassign"
        )
