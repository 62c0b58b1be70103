"""Closure actions under /api/v1/: the written reply, delivery, evaluations, return visits, close,
archive and reopen. Thin views (STYLE.md): the input serializer validates, a closure.services
function writes, an output serializer renders. Cases are found through the viewer's visibility
(petitions.selectors.get_case_for: not yours = 404). Errors map in core.api.exception_handler:
ValidationError 400, PermissionDenied 403, DomainError/StaleState 409."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from routing.api.views import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    CaseView,
    actor_of,
    case_state,
)

from .. import services
from ..models import ReturnVisit
from ..selectors import (
    closure_of,
    current_reply,
    evaluation_due_at,
    evaluation_status,
    evaluations_of,
    merged_contributions,
    return_visits_of,
)
from .serializers import (
    AgreementInputSerializer,
    ArchiveInputSerializer,
    CaseClosureSerializer,
    CloseInputSerializer,
    ClosureResultSerializer,
    DeliveryInputSerializer,
    DeliveryResultSerializer,
    EvaluationInputSerializer,
    EvaluationLinkResultSerializer,
    EvaluationListSerializer,
    EvaluationSerializer,
    ReexaminationInputSerializer,
    ReopenInputSerializer,
    ReplyInputSerializer,
    ReplyResultSerializer,
    ReturnVisitInputSerializer,
    ReturnVisitSerializer,
    SendBackInputSerializer,
    VersionOnlySerializer,
)

TAGS = ["closure"]
RESPONSES: dict[int, Any] = {400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


def _validated(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ReplyView(CaseView):
    def _result(self, pk: int) -> Response:
        case = self.get_case()
        data = {
            "case": case,
            "reply": current_reply(case),
            "contributions": merged_contributions(case),
        }
        return Response(ReplyResultSerializer(data).data)

    @extend_schema(
        tags=TAGS,
        summary="The case's current written reply (draft or issued)",
        description="`reply` is null before the first draft; `contributions` are the assisting "
        "departments' contributions: internal advice for the drafter, never printed.",
        responses={200: ReplyResultSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self._result(pk)

    @extend_schema(
        tags=TAGS,
        summary="Save the written reply draft (信访处理意见书)",
        description="The lead department's officer or head, while the case is being handled. "
        "Needs `decision`, `facts_reasons` and `legal_basis` (Art 32); `submit` sends it to "
        "the head for approval. An approved reply can no longer be changed (409).",
        request=ReplyInputSerializer,
        responses={200: ReplyResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(ReplyInputSerializer, request)
        services.save_reply_draft(
            actor=actor_of(request),
            case=case,
            text=services.ReplyText(
                decision=attrs["decision"],
                facts_reasons=attrs["facts_reasons"],
                legal_basis=attrs["legal_basis"],
                review_route=attrs["review_route"],
                request_summary=attrs["request_summary"],
            ),
            submit=attrs["submit"],
            expected_version=attrs.get("expected_version"),
        )
        return self._result(pk)


class ApproveView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Approve the written reply (department head)",
        description="Gives the reply its document number and the one-time evaluation link. "
        "Nobody approves a draft they wrote themselves (403).",
        request=VersionOnlySerializer,
        responses={200: ReplyResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(VersionOnlySerializer, request)
        reply = services.approve_reply(
            actor=actor_of(request), case=case, expected_version=attrs.get("expected_version")
        )
        data = {"case": case_state(case), "reply": reply, "contributions": reply.contributions}
        return Response(ReplyResultSerializer(data).data)


class SendBackView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Send the draft back to the officer with a reason (department head)",
        request=SendBackInputSerializer,
        responses={200: ReplyResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(SendBackInputSerializer, request)
        reply = services.send_back_reply(
            actor=actor_of(request),
            case=case,
            reason=attrs["reason"],
            expected_version=attrs.get("expected_version"),
        )
        data = {"case": case_state(case), "reply": reply, "contributions": reply.contributions}
        return Response(ReplyResultSerializer(data).data)


class DeliverView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Record the delivery of the approved reply",
        description="The case becomes `replied`; the handling clock stops; the petitioner's "
        "30-day review window and the evaluation window open. The response carries "
        "`evaluation_url`, the one-time link (no login) for the copy handed to the petitioner: "
        "shown in this response only (a new one: POST reply/evaluation-link/).",
        request=DeliveryInputSerializer,
        responses={200: DeliveryResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(DeliveryInputSerializer, request)
        delivery = services.deliver_reply(
            actor=actor_of(request),
            case=case,
            method=attrs["method"],
            signed=attrs["signed"],
            delivered_at=attrs.get("delivered_at"),
            note=attrs["note"],
            expected_version=attrs.get("expected_version"),
        )
        data = {
            "case": case_state(case),
            "reply": delivery.reply,
            "evaluation_url": request.build_absolute_uri(delivery.evaluation_path),
            "evaluation_due_at": evaluation_due_at(delivery.reply),
        }
        response = Response(DeliveryResultSerializer(data).data)
        response["Cache-Control"] = "private, no-store"
        return response


class EvaluationLinkView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Issue a new evaluation link at the petitioner's request (lead department)",
        description="The earlier link stops working (logged as a case event). The new "
        "`evaluation_url` is in this response only: it is never shown again, and the printed "
        "reply carries no link. 409 once the reply is evaluated or the window has ended.",
        request=VersionOnlySerializer,
        responses={200: EvaluationLinkResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(VersionOnlySerializer, request)
        delivery = services.reissue_evaluation_link(
            actor=actor_of(request), case=case, expected_version=attrs.get("expected_version")
        )
        data = {
            "case": case_state(case),
            "evaluation_url": request.build_absolute_uri(delivery.evaluation_path),
            "evaluation_due_at": evaluation_due_at(delivery.reply),
        }
        response = Response(EvaluationLinkResultSerializer(data).data)
        response["Cache-Control"] = "private, no-store"
        return response


class EvaluationsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="The case's evaluations",
        description="`status`: not_due (no delivered reply), open (window running), evaluated, "
        "not_evaluated (the window ended without one).",
        responses={200: EvaluationListSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        reply = current_reply(case)
        data = {
            "status": evaluation_status(case, timezone.now()),
            "due_at": evaluation_due_at(reply) if reply else None,
            "results": evaluations_of(case),
        }
        return Response(EvaluationListSerializer(data).data)

    @extend_schema(
        tags=TAGS,
        summary="Record an evaluation on the petitioner's behalf (desk or phone)",
        description="Center reception, triage or supervisors; within the evaluation window; "
        "once per reply (409 after the first, whatever its channel). A dissatisfied verdict "
        "needs `reasons` and creates a return-visit task for the lead department.",
        request=EvaluationInputSerializer,
        responses={201: EvaluationSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(EvaluationInputSerializer, request)
        evaluation = services.record_evaluation(
            actor=actor_of(request),
            case=case,
            verdict=services.Verdict(
                attrs["center_rating"], attrs["department_rating"], attrs["reasons"]
            ),
            channel=attrs["channel"],
            given_by=attrs["given_by"],
            expected_version=attrs.get("expected_version"),
        )
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


class ReturnVisitsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="The case's return visits (回访)",
        responses={200: ReturnVisitSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        return Response(ReturnVisitSerializer(return_visits_of(case), many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Schedule or record a return visit",
        description="Without `method`/`outcome`: schedule a visit on `scheduled_for`. With "
        "`method` and `outcome`: record a visit made (the `visit` given, else the earliest "
        "open one, else a new one), dated now; `center_rating` and `department_rating` record "
        "the petitioner's new verdict, which then counts for archiving: the center's reception, "
        "triage or supervisors only, never the department being rated (403).",
        request=ReturnVisitInputSerializer,
        responses={201: ReturnVisitSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        attrs = _validated(ReturnVisitInputSerializer, request)
        version = attrs.get("expected_version")
        if not attrs["recording"]:
            visit = services.schedule_return_visit(
                actor=actor,
                case=case,
                scheduled_for=attrs["scheduled_for"],
                expected_version=version,
            )
        else:
            target = None
            if attrs.get("visit"):
                target = ReturnVisit.objects.filter(pk=attrs["visit"], case=case).first()
                if target is None:
                    raise ValidationError({"visit": [_("No such return visit on this case.")]})
            verdict = (
                services.Verdict(
                    attrs["center_rating"], attrs["department_rating"], attrs["outcome"]
                )
                if attrs.get("center_rating")
                else None
            )
            visit = services.record_return_visit(
                actor=actor,
                case=case,
                visit=target,
                record=services.VisitRecord(
                    method=attrs["method"],
                    outcome=attrs["outcome"],
                    visitors=attrs["visitors"],
                    new_verdict=verdict,
                ),
                expected_version=version,
            )
        row = return_visits_of(case).get(pk=visit.pk)
        return Response(ReturnVisitSerializer(row).data, status=status.HTTP_201_CREATED)


def _closure_result(case: Any) -> Response:
    data = {"case": case_state(case), "closure": closure_of(case)}
    return Response(ClosureResultSerializer(data).data)


class CloseView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Close a replied case (supervisor or archivist)",
        description="Refused (409, code `assisting_open`) while an assisting department's "
        "part is still open.",
        request=CloseInputSerializer,
        responses={200: ClosureResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(CloseInputSerializer, request)
        services.close_case(
            actor=actor_of(request),
            case=case,
            note=attrs["note"],
            expected_version=attrs.get("expected_version"),
        )
        return _closure_result(case)


class AgreementView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Close a handled case by a mediation or settlement agreement (Art 33)",
        description="The lead department's head attaches the signed agreement "
        "(multipart/form-data); the case is closed. Refused (409) unless the case is being "
        "handled.",
        request={"multipart/form-data": AgreementInputSerializer},
        responses={200: ClosureResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(AgreementInputSerializer, request)
        services.close_by_agreement(
            actor=actor_of(request),
            case=case,
            kind=attrs["kind"],
            agreement=attrs["agreement"],
            note=attrs["note"],
            expected_version=attrs.get("expected_version"),
        )
        return _closure_result(case)


class ArchiveView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Archive a closed case (archivist; supervisor with an override)",
        description="Needs a satisfied or basically satisfied evaluation of the delivered "
        "reply, or a supervisor's `override_reason` (409, code `evaluation_required`). "
        "Gives the archive number; the file is read-only from then on.",
        request=ArchiveInputSerializer,
        responses={200: ClosureResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(ArchiveInputSerializer, request)
        services.archive_case(
            actor=actor_of(request),
            case=case,
            override_reason=attrs["override_reason"],
            expected_version=attrs.get("expected_version"),
        )
        return _closure_result(case)


class ReopenView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Reopen an archived or closed case with a reason (supervisor)",
        description="The case is handled again by its lead department (new handling clock).",
        request=ReopenInputSerializer,
        responses={200: ClosureResultSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(ReopenInputSerializer, request)
        services.reopen_case(
            actor=actor_of(request),
            case=case,
            reason=attrs["reason"],
            expected_version=attrs.get("expected_version"),
        )
        return _closure_result(case)


class ReexaminationView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Record the outcome of re-examining an old case",
        description="`outcome`: wholly_wrong_corrected, partly_wrong_partly_corrected or "
        "right_upheld; `corrections` (for the first two): decision_revoked, "
        "compensation_paid, disciplinary_step.",
        request=ReexaminationInputSerializer,
        responses={200: CaseClosureSerializer, **RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        attrs = _validated(ReexaminationInputSerializer, request)
        closure = services.record_reexamination(
            actor=actor_of(request),
            case=case,
            outcome=attrs["outcome"],
            corrections=attrs["corrections"],
            note=attrs["note"],
            expected_version=attrs.get("expected_version"),
        )
        return Response(CaseClosureSerializer(closure).data)


__all__ = [
    "AgreementView",
    "ApproveView",
    "ArchiveView",
    "CloseView",
    "DeliverView",
    "EvaluationLinkView",
    "EvaluationsView",
    "ReexaminationView",
    "ReopenView",
    "ReplyView",
    "ReturnVisitsView",
    "SendBackView",
]
