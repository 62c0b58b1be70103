"""The roles of DOMAIN.md §2. Roles are behaviour (services check them), so they live in code."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("Reception")
    TRIAGE = "triage", _("Triage")
    OFFICER = "officer", _("Department officer")
    HEAD = "head", _("Department head")
    SUPERVISOR = "supervisor", _("Supervisor")
    LEADER = "leader", _("Leader")
    ARCHIVIST = "archivist", _("Archivist")
    ADMIN = "admin", _("Administrator")
    # An outside reviewer of a quality review (人大代表, 政协委员, lawyer): reads the cases sampled
    # for them (campaigns), read-only, and never a full ID or phone number.
    REVIEWER = "reviewer", _("Outside reviewer")


# Roles that work on the center's whole caseload (as opposed to one department's assignments).
CENTER_ROLES = frozenset(
    {Role.RECEPTION, Role.TRIAGE, Role.SUPERVISOR, Role.LEADER, Role.ARCHIVIST, Role.ADMIN}
)
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.HEAD})
# Roles allowed to reveal a full ID or phone number (each reveal is logged).
PII_REVEAL_ROLES = frozenset(
    {Role.RECEPTION, Role.TRIAGE, Role.OFFICER, Role.HEAD, Role.SUPERVISOR}
)
