"""Reads for the case page and the API, kept beside the writes they show; every read starts from
a case the viewer was already allowed to see (petitions.selectors.get_case_for)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from clocks.models import (
    Deadline,
)
from core.models import Department, User
from petitions.models import Case, CaseEvent
from petitions.selectors import cases_visible_to
from supervision.models import (
    AccountabilityFinding,
    Bulletin,
    Consultation,
    ExtensionRequest,
    LeaderResponsibility,
    SupervisionOrder,
)

# --- reads for the case page and the API ------------------------------------------------------------
# Kept beside the writes they show (this module's owner has no selectors module of its own); every
# read starts from a case the viewer was already allowed to see (petitions.selectors.get_case_for).


@dataclass
class CaseOverlays:
    deadlines: list[Deadline]
    extension_requests: list[ExtensionRequest]
    orders: list[SupervisionOrder]
    reminders: list[CaseEvent]
    responsibilities: list[LeaderResponsibility]
    consultations: list[Consultation]
    findings: list[AccountabilityFinding]
    bulletins: list[Bulletin]


def case_overlays(case: Case) -> CaseOverlays:
    """Everything supervision has on one case, in a fixed number of queries whatever the rows."""
    return CaseOverlays(
        deadlines=list(
            Deadline.objects.filter(case_id=case.pk, met_at__isnull=True).order_by("due_at")
        ),
        extension_requests=list(
            ExtensionRequest.objects.filter(case_id=case.pk)
            .select_related("requested_by", "decided_by", "deadline")
            .order_by("-requested_at", "-id")
        ),
        orders=list(
            SupervisionOrder.objects.filter(case_id=case.pk)
            .select_related("department", "issued_by", "responded_by")
            .order_by("-issued_at", "-id")
        ),
        reminders=list(
            CaseEvent.objects.filter(case_id=case.pk, kind="reminder")
            .select_related("actor")
            .order_by("-at", "-id")
        ),
        responsibilities=list(
            LeaderResponsibility.objects.filter(case_id=case.pk)
            .select_related("leader", "handler", "created_by")
            .order_by("-created_at", "-id")
        ),
        consultations=list(
            Consultation.objects.filter(case_id=case.pk)
            .select_related("recorded_by")
            .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("id")))
            .order_by("-held_at", "-id")
        ),
        findings=list(
            AccountabilityFinding.objects.filter(case_id=case.pk)
            .select_related("department", "officer", "recorded_by")
            .order_by("-recorded_at", "-id")
        ),
        bulletins=list(
            Bulletin.objects.filter(cases__id=case.pk)
            .select_related("center", "issued_by")
            .prefetch_related(Prefetch("departments", queryset=Department.objects.order_by("id")))
            .order_by("-issued_at", "-id")
        ),
    )


def extension_requests_visible_to(user: User) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(case__in=cases_visible_to(user))


def orders_visible_to(user: User) -> QuerySet[SupervisionOrder]:
    return SupervisionOrder.objects.filter(case__in=cases_visible_to(user))


def responsibilities_visible_to(user: User) -> QuerySet[LeaderResponsibility]:
    return LeaderResponsibility.objects.filter(case__in=cases_visible_to(user))
