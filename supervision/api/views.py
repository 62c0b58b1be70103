"""Supervision overlays under /api/v1/: extensions, supervision orders, reminders, leader
responsibility, consultations, accountability findings and bulletins.

Thin views (STYLE.md): the input serializer validates, a supervision.services function writes, an
output serializer renders. A case is looked up with petitions.selectors.get_case_for and an
overlay row through the cases the viewer may see, so not-yours and not-found are the same 404.
Service errors map to status codes in core.api.exception_handler: ValidationError 400,
PermissionDenied 403, DomainError 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import User
from petitions.models import Case
from petitions.selectors import cases_visible_to, get_case_for
from supervision import services
from supervision.models import Bulletin, Consultation, ExtensionRequest, SupervisionOrder

from .serializers import (
    BulletinInputSerializer,
    BulletinIssuedSerializer,
    CaseSupervisionSerializer,
    ConsultationInputSerializer,
    ConsultationSerializer,
    ExtensionDecisionInputSerializer,
    ExtensionDecisionResultSerializer,
    ExtensionRequestInputSerializer,
    ExtensionRequestSerializer,
    FindingInputSerializer,
    FindingSerializer,
    LeaderResponsibilityInputSerializer,
    LeaderResponsibilitySerializer,
    OrderCloseInputSerializer,
    OrderResponseInputSerializer,
    ReminderInputSerializer,
    ReminderResultSerializer,
    ResolveResponsibilityInputSerializer,
    SupervisionOrderInputSerializer,
    SupervisionOrderSerializer,
)

TAGS = ["supervision"]
BAD_REQUEST = OpenApiResponse(description="Field errors: {field: [messages]}.")
FORBIDDEN = OpenApiResponse(description="Your role does not allow this action on this case.")
NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see (the same answer).")
CONFLICT = OpenApiResponse(
    description="The case's or the record's state does not allow this: {detail, code}."
)
ERRORS = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


def actor_of(request: Request) -> User:
    """The authenticated staff member (IsAuthenticated has run; this narrows the type)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _get_or_404(qs: QuerySet[Any], pk: int) -> Any:
    try:
        return qs.get(pk=pk)
    except qs.model.DoesNotExist:
        raise Http404("Not found") from None


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CaseView(APIView):
    """Base of the views under /cases/{id}/: the case, through the viewer's visibility."""

    def get_case(self) -> Case:
        return get_case_for(actor_of(self.request), self.kwargs["pk"])


def _fresh(model: type[Model], pk: int, *related: str) -> Any:
    """A row as saved, with what its output serializer shows."""
    return model._default_manager.select_related(*related).get(pk=pk)


# --- extensions -------------------------------------------------------------------------------------


class ExtensionsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Request an extension of the handling period",
        description=(
            "Art 34: the lead department (officer or head) asks once per handling period for at "
            "most 30 days, with a reason the petitioner is told; the department head decides."
        ),
        request=ExtensionRequestInputSerializer,
        responses={201: ExtensionRequestSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(ExtensionRequestInputSerializer, request)
        made = services.request_extension(
            actor=actor, case=case, days=attrs["days"], reason=attrs["reason"]
        )
        row = _fresh(ExtensionRequest, made.pk, "requested_by", "decided_by")
        return Response(ExtensionRequestSerializer(row).data, status=status.HTTP_201_CREATED)


class ExtensionDecisionView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Approve or reject an extension request",
        description=(
            "The head of the lead department only. Approval moves the handling deadline, resets "
            "its warnings if the new date is clear of the warning window, and issues the written "
            "extension notice to the petitioner. Rejection needs a note."
        ),
        request=ExtensionDecisionInputSerializer,
        responses={200: ExtensionDecisionResultSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        found = _get_or_404(
            services.extension_requests_visible_to(actor).select_related("case"), pk
        )
        attrs = _valid(ExtensionDecisionInputSerializer, request)
        result = services.decide_extension(
            actor=actor, request=found, approve=attrs["approve"], note=attrs["note"]
        )
        data = {
            "request": _fresh(ExtensionRequest, result.request.pk, "requested_by", "decided_by"),
            "deadline": result.deadline,
            "notice": result.notice,
        }
        return Response(ExtensionDecisionResultSerializer(data, context={"request": request}).data)


# --- supervision orders -------------------------------------------------------------------------------

ORDER_RELATED = ("department", "issued_by", "responded_by")


class SupervisionOrdersView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Issue a supervision order (督办单)",
        description=(
            "A supervisor or leader of the case's center or of a center above it. The order has "
            "its own response date, runs as a deadline in the sweep (warning, overdue, "
            "escalation) and needs a written response. One open order per addressee at a time."
        ),
        request=SupervisionOrderInputSerializer,
        responses={201: SupervisionOrderSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(SupervisionOrderInputSerializer, request)
        order = services.issue_supervision_order(
            actor=actor,
            case=case,
            requirement=attrs["requirement"],
            due_at=attrs["due_at"],
            department=attrs["department"],
        )
        row = _fresh(SupervisionOrder, order.pk, *ORDER_RELATED)
        return Response(SupervisionOrderSerializer(row).data, status=status.HTTP_201_CREATED)


class OrderResponseView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Respond to a supervision order in writing",
        description=(
            "Officers and heads of the addressed department (or of the lead department). The "
            "order's deadline is met at that moment."
        ),
        request=OrderResponseInputSerializer,
        responses={200: SupervisionOrderSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        order = _get_or_404(services.orders_visible_to(actor).select_related("case"), pk)
        attrs = _valid(OrderResponseInputSerializer, request)
        services.respond_to_order(actor=actor, order=order, response=attrs["response"])
        row = _fresh(SupervisionOrder, order.pk, *ORDER_RELATED)
        return Response(SupervisionOrderSerializer(row).data)


class OrderCloseView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Close a supervision order",
        description="A supervisor; closing an unanswered order withdraws it and stops its clock.",
        request=OrderCloseInputSerializer,
        responses={200: SupervisionOrderSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        order = _get_or_404(services.orders_visible_to(actor).select_related("case"), pk)
        attrs = _valid(OrderCloseInputSerializer, request)
        services.close_order(actor=actor, order=order, note=attrs["note"])
        row = _fresh(SupervisionOrder, order.pk, *ORDER_RELATED)
        return Response(SupervisionOrderSerializer(row).data)


# --- reminders ------------------------------------------------------------------------------------------


class RemindersView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Send a reminder (催办)",
        description=(
            "A supervisor or leader urges the lead department's officers and head (triage when "
            "the case is not assigned). The same person's reminder within a minute is not sent "
            "again: the earlier one comes back with 200 and `sent: false`."
        ),
        request=ReminderInputSerializer,
        responses={201: ReminderResultSerializer, 200: ReminderResultSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(ReminderInputSerializer, request)
        result = services.send_reminder(actor=actor, case=case, message=attrs["message"])
        data = ReminderResultSerializer({"reminder": result.event, "sent": result.sent}).data
        return Response(data, status=status.HTTP_201_CREATED if result.sent else status.HTTP_200_OK)


# --- leader responsibility ----------------------------------------------------------------------------

RESPONSIBILITY_RELATED = ("leader", "handler", "created_by")


class LeaderResponsibilityView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Name a leader responsible for the case (包案)",
        description=(
            "A supervisor or leader. The leader must hold the leader role at the case's center or "
            "a center above it; one unresolved responsibility per case."
        ),
        request=LeaderResponsibilityInputSerializer,
        responses={201: LeaderResponsibilitySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(LeaderResponsibilityInputSerializer, request)
        made = services.assign_leader_responsibility(
            actor=actor,
            case=case,
            leader=attrs["leader"],
            handler=attrs["handler"],
            due_at=attrs["due_at"],
            target_result=attrs["target_result"],
        )
        row = _fresh(type(made), made.pk, *RESPONSIBILITY_RELATED)
        return Response(LeaderResponsibilitySerializer(row).data, status=status.HTTP_201_CREATED)


class ResolveResponsibilityView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Record the result of a leader responsibility",
        description="The responsible leader, or a supervisor of the case.",
        request=ResolveResponsibilityInputSerializer,
        responses={200: LeaderResponsibilitySerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        found = _get_or_404(services.responsibilities_visible_to(actor).select_related("case"), pk)
        attrs = _valid(ResolveResponsibilityInputSerializer, request)
        done = services.resolve_leader_responsibility(
            actor=actor, responsibility=found, result=attrs["result"]
        )
        row = _fresh(type(done), done.pk, *RESPONSIBILITY_RELATED)
        return Response(LeaderResponsibilitySerializer(row).data)


# --- consultations, findings, bulletins -----------------------------------------------------------------


class ConsultationsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Record a key-case consultation (会诊)",
        description="The organs (departments of the case's center) present and the decisions.",
        request=ConsultationInputSerializer,
        responses={201: ConsultationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(ConsultationInputSerializer, request)
        made = services.record_consultation(
            actor=actor,
            case=case,
            held_at=attrs["held_at"],
            departments=attrs["departments"],
            participants=attrs["participants"],
            decisions=attrs["decisions"],
        )
        row = (
            Consultation.objects.select_related("recorded_by")
            .prefetch_related("departments")
            .get(pk=made.pk)
        )
        return Response(ConsultationSerializer(row).data, status=status.HTTP_201_CREATED)


class FindingsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Record an accountability finding (责任倒查)",
        description=(
            "A supervisor or leader names the department or the officer (or both) found "
            "responsible; open and closed cases alike."
        ),
        request=FindingInputSerializer,
        responses={201: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _valid(FindingInputSerializer, request)
        made = services.record_accountability_finding(
            actor=actor,
            case=case,
            department=attrs["department"],
            officer=attrs["officer"],
            finding=attrs["finding"],
            measures=attrs["measures"],
        )
        row = _fresh(type(made), made.pk, "department", "officer", "recorded_by")
        return Response(FindingSerializer(row).data, status=status.HTTP_201_CREATED)


class BulletinsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Issue a bulletin (通报)",
        description=(
            "From the actor's center, naming departments of the centers they supervise and cases "
            "they can see."
        ),
        request=BulletinInputSerializer,
        responses={201: BulletinIssuedSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        attrs = _valid(BulletinInputSerializer, request)
        wanted = list(dict.fromkeys(attrs["cases"]))
        cases = list(cases_visible_to(actor).filter(pk__in=wanted).order_by("pk"))
        if len(cases) != len(wanted):
            raise exceptions.ValidationError({"cases": [_("Name only cases you can see.")]})
        made = services.issue_bulletin(
            actor=actor,
            title=attrs["title"],
            body=attrs["body"],
            departments=attrs["departments"],
            cases=cases,
        )
        row = (
            Bulletin.objects.select_related("center", "issued_by")
            .prefetch_related("departments", "cases")
            .get(pk=made.pk)
        )
        return Response(BulletinIssuedSerializer(row).data, status=status.HTTP_201_CREATED)


# --- reading -------------------------------------------------------------------------------------------


class CaseSupervisionView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Everything supervision has on a case",
        description=(
            "Running deadlines (with their level and days left now), extension requests, "
            "supervision orders, reminders, leader responsibilities, consultations, "
            "accountability findings and the bulletins naming the case."
        ),
        responses={200: CaseSupervisionSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        overlays = services.case_overlays(case)
        data = {"case": case, **vars(overlays)}
        return Response(CaseSupervisionSerializer(data, context={"now": timezone.now()}).data)
