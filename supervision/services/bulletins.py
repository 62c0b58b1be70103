"""Bulletins (通报) naming units that handled cases badly."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clocks.models import (
    NotificationKind,
)
from core.errors import PermissionDenied
from core.models import Center, Department, User
from core.roles import Role
from petitions.models import Case
from petitions.selectors import cases_visible_to
from petitions.services import record_event
from supervision.models import (
    Bulletin,
)

from .common import (
    SUPERVISING_ROLES,
    _notify,
    _require_roles,
    visible_center_ids,
)

# --- bulletins (通报) -------------------------------------------------------------------------------


def issue_bulletin(
    *,
    actor: User,
    title: str,
    body: str,
    departments: Sequence[Department],
    cases: Sequence[Case] = (),
) -> Bulletin:
    """通报 from the actor's center naming units that handled cases badly, and the cases. Units
    are departments of the centers the actor supervises; cases are cases the actor may see."""
    _require_roles(actor, SUPERVISING_ROLES, _("issue bulletins"))
    center: Center | None = actor.center
    if center is None:
        raise PermissionDenied(_("You are not attached to a center."))
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the bulletin a title.")]
    if not body.strip():
        errors["body"] = [_("Write the text of the bulletin.")]
    units = list(dict.fromkeys(departments))
    visible = visible_center_ids(actor)
    if not units:
        errors["departments"] = [_("Name at least one unit.")]
    elif any(d.center_id not in visible for d in units):
        errors["departments"] = [_("Name only departments of centers you supervise.")]
    named = list(dict.fromkeys(cases))
    if named:
        seen = set(
            cases_visible_to(actor)
            .filter(pk__in=[c.pk for c in named])
            .values_list("pk", flat=True)
        )
        if len(seen) != len(named):
            errors["cases"] = [_("Name only cases you can see.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        # Lock the cases named (in id order, the one lock order) so their timelines get the event
        # atomically with the bulletin.
        locked_cases = list(
            Case.objects.select_for_update().filter(pk__in=[c.pk for c in named]).order_by("pk")
        )
        bulletin = Bulletin.objects.create(
            center=center, title=title.strip(), body=body.strip(), issued_by=actor, issued_at=now
        )
        bulletin.departments.set(units)
        bulletin.cases.set(locked_cases)
        for case in locked_cases:
            record_event(
                case=case,
                kind="bulletin",
                actor=actor,
                at=now,
                message=_("Named in bulletin “%(title)s”") % {"title": bulletin.title},
                data={"bulletin": bulletin.pk},
            )
        _notify(
            None,
            NotificationKind.EVENT,
            bulletin.body,
            [
                {
                    "audience_center_id": d.center_id,
                    "audience_department_id": d.pk,
                    "audience_role": Role.HEAD,
                }
                for d in units
            ],
            at=now,
            title=bulletin.title,
        )
    return bulletin
