"""Routing actions under /api/v1/: screening, assignment, transfer and the receiving department.

Thin views (STYLE.md): the input serializer validates, a routing.services function writes, an
output serializer renders. Every case is looked up with petitions.selectors.get_case_for first, so
a case that is not the user's to see is the same 404 as one that does not exist. Service errors map
to status codes in core.api.exception_handler: ValidationError 400, PermissionDenied 403,
DomainError/IllegalTransition/StaleState 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import PermissionDenied
from core.models import User
from core.pagination import SafeCursorPagination
from core.roles import Role
from petitions.models import Case
from petitions.selectors import get_case_for
from routing import services
from routing.models import Assignment, AssignmentState, NoticeKind, WrittenNotice
from routing.notices import notice_pdf
from routing.selectors import (
    DUE_SOON_DAYS,
    InboxFilters,
    inbox,
    inbox_counts,
    latest_notice,
    notes_visible_to,
)

from .serializers import (
    AssignInputSerializer,
    AssignmentActionResultSerializer,
    AssignmentSerializer,
    AssignResultSerializer,
    CaseStateSerializer,
    ConfirmReturnInputSerializer,
    ContributionInputSerializer,
    InboxCountsSerializer,
    InboxPageRowsSerializer,
    InboxPageSerializer,
    InboxQuerySerializer,
    InboxRowValuesSerializer,
    NoticeSerializer,
    ProgressNoteInputSerializer,
    ProgressNoteSerializer,
    ReassignInputSerializer,
    ReturnInputSerializer,
    ScreeningDecision,
    ScreenInputSerializer,
    ScreenResultSerializer,
    TransferInputSerializer,
    TransferResultSerializer,
)

TAGS = ["routing"]
BAD_REQUEST = OpenApiResponse(description="Field errors: {field: [messages]}.")
FORBIDDEN = OpenApiResponse(description="Your role does not allow this action.")
NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see (the same answer).")
CONFLICT = OpenApiResponse(
    description=(
        "The case's state does not allow this action, a time limit has passed, or someone "
        "changed the case first (stale expected_version): {detail, code}."
    )
)


def actor_of(request: Request) -> User:
    """The authenticated staff member (IsAuthenticated has run; this narrows the type)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def case_state(case: Case) -> Case:
    """The case as it stands after a service call (the service worked on a locked copy)."""
    case.refresh_from_db(fields=["state", "state_changed_at", "version"])
    return case


class CaseView(APIView):
    """Base of the views under /cases/{id}/: the case, through the viewer's visibility."""

    def get_case(self) -> Case:
        return get_case_for(actor_of(self.request), self.kwargs["pk"])


# --- screening, assignment, transfer (triage, supervisors) ---------------------------------------


class ScreenView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Screen a case: not accept, refer out or route into legal procedure",
        description=(
            "Art 22. `not_accept` needs `reason`; `refer_out` needs `competent_organ` and "
            "`reason`; `legal_procedure` needs `organ`, `procedure` and `legal_case_number`. "
            "Each issues a written notice to the petitioner. Assignment and transfer have their "
            "own endpoints."
        ),
        request=ScreenInputSerializer,
        responses={
            200: ScreenResultSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ScreenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        version = attrs.get("expected_version")
        decision = attrs["decision"]
        if decision == ScreeningDecision.NOT_ACCEPT:
            notice = services.not_accept(
                actor=actor, case=case, reason=attrs["reason"], expected_version=version
            )
        elif decision == ScreeningDecision.REFER_OUT:
            notice = services.refer_out(
                actor=actor,
                case=case,
                competent_organ=attrs["competent_organ"],
                reason=attrs["reason"],
                expected_version=version,
            )
        else:
            notice = services.route_to_legal_procedure(
                actor=actor,
                case=case,
                organ=attrs["organ"],
                procedure=attrs["procedure"],
                legal_case_number=attrs["legal_case_number"],
                expected_version=version,
            )
        result = {"case": case_state(case), "notice": notice}
        return Response(ScreenResultSerializer(result, context={"request": request}).data)


def _assignment_rows(case: Case, pks: list[int]) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(case=case, pk__in=pks)
        .select_related("department", "assigned_by", "signed_by", "handler")
        .order_by("id")
    )


class AssignView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Assign a case (交办)",
        description=(
            "One lead department and optional assisting departments of the case's center, each "
            "with its own due date in the future. Each receiver may object within 5 working days "
            "(Art 23). Error keys: `lead`, `assisting`, `lead_due`, `assisting_due`."
        ),
        request=AssignInputSerializer,
        responses={
            200: AssignResultSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = AssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        made = services.assign_case(
            actor=actor,
            case=case,
            lead=attrs["lead"],
            assisting=attrs["assisting"],
            instructions=attrs["instructions"],
            expected_version=attrs.get("expected_version"),
        )
        result = {
            "case": case_state(case),
            "assignments": _assignment_rows(case, [a.pk for a in made]),
        }
        return Response(AssignResultSerializer(result).data)


class ReassignView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Reassign a case",
        description=(
            "Cancels the case's active assignments and assigns anew, with a reason shown in the "
            "timeline (triage or a supervisor)."
        ),
        request=ReassignInputSerializer,
        responses={
            200: AssignResultSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ReassignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        made = services.reassign_case(
            actor=actor,
            case=case,
            lead=attrs["lead"],
            assisting=attrs["assisting"],
            reason=attrs["reason"],
            expected_version=attrs.get("expected_version"),
        )
        result = {
            "case": case_state(case),
            "assignments": _assignment_rows(case, [a.pk for a in made]),
        }
        return Response(AssignResultSerializer(result).data)


class TransferView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Transfer a case to another center (转办)",
        description=(
            "To another active center of the same province, typically down to the county with "
            "jurisdiction. The sending center keeps read access; the receiver screens it anew."
        ),
        request=TransferInputSerializer,
        responses={
            200: TransferResultSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = TransferInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        transfer = services.transfer_case(
            actor=actor,
            case=case,
            to_center=attrs["to_center"],
            reason=attrs["reason"],
            expected_version=attrs.get("expected_version"),
        )
        notice = latest_notice(case, NoticeKind.TRANSFER)
        result = {"case": case_state(case), "transfer": transfer, "notice": notice}
        return Response(TransferResultSerializer(result, context={"request": request}).data)


class ConfirmReturnView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="Confirm a returned case",
        description=(
            "Triage accepts the department's objection: remaining assignments are cancelled and "
            "the case is screened again (a new 15-day screening clock)."
        ),
        request=ConfirmReturnInputSerializer,
        responses={
            200: CaseStateSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ConfirmReturnInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        services.confirm_return(
            actor=actor,
            case=case,
            note=attrs["note"],
            expected_version=attrs.get("expected_version"),
        )
        return Response(CaseStateSerializer(case_state(case)).data)


# --- the receiving department (Art 23) ------------------------------------------------------------


class DepartmentAssignmentView(CaseView):
    """Actions of the requesting user's department on its own assignment of the case."""

    def get_assignment(self, case: Case) -> Assignment:
        actor = actor_of(self.request)
        department_id = actor.department_id
        if department_id is None or not has_inbox(actor):
            raise PermissionDenied(
                _("Only officers and heads of an assigned department act on assignments.")
            )
        # The department's latest assignment that was not cancelled: after a reassignment back
        # to the same department the new one is the one to act on; a returned or finished one
        # is still found, so acting on it again is a 409 from the service rather than a 404.
        assignment = (
            Assignment.objects.filter(case=case, department_id=department_id)
            .exclude(state=AssignmentState.CANCELLED)
            .select_related("case", "department")
            .order_by("-assigned_at", "-id")
            .first()
        )
        if assignment is None:
            raise Http404("No assignment of your department")
        return assignment

    def result(
        self, case: Case, assignment: Assignment, notice: WrittenNotice | None = None
    ) -> Response:
        row = _assignment_rows(case, [assignment.pk]).get()
        data = {"case": case_state(case), "assignment": row, "notice": notice}
        return Response(
            AssignmentActionResultSerializer(data, context={"request": self.request}).data
        )


ASSIGNMENT_RESPONSES: dict[int, Any] = {
    200: AssignmentActionResultSerializer,
    400: BAD_REQUEST,
    403: FORBIDDEN,
    404: OpenApiResponse(
        description="No such case, not yours, or no assignment of your department."
    ),
    409: CONFLICT,
}


class SignView(DepartmentAssignmentView):
    @extend_schema(
        tags=TAGS,
        summary="Sign for your department's assignment (签收)",
        request=None,
        responses=ASSIGNMENT_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        assignment = self.get_assignment(case)
        services.sign_for_assignment(actor=actor_of(request), assignment=assignment)
        return self.result(case, assignment)


class ReturnView(DepartmentAssignmentView):
    @extend_schema(
        tags=TAGS,
        summary="Return your department's assignment with an objection",
        description=(
            "Within 5 working days of receipt (Art 23); afterwards 409 with code "
            "`deadline_passed`. Only before acceptance."
        ),
        request=ReturnInputSerializer,
        responses=ASSIGNMENT_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        assignment = self.get_assignment(case)
        serializer = ReturnInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.return_assignment(
            actor=actor_of(request),
            assignment=assignment,
            reason=serializer.validated_data["reason"],
        )
        return self.result(case, assignment)


class AcceptView(DepartmentAssignmentView):
    @extend_schema(
        tags=TAGS,
        summary="Accept the case (lead department)",
        description=(
            "Starts the 60-day handling clock and issues the written acceptance notice "
            "(Arts 23, 34). Sign for the assignment first."
        ),
        request=None,
        responses=ASSIGNMENT_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        assignment = self.get_assignment(case)
        notice = services.accept_assignment(actor=actor_of(request), assignment=assignment)
        return self.result(case, assignment, notice)


class ContributionView(DepartmentAssignmentView):
    @extend_schema(
        tags=TAGS,
        summary="Submit an assisting department's contribution",
        description="The lead department sees it when composing the written reply.",
        request=ContributionInputSerializer,
        responses=ASSIGNMENT_RESPONSES,
    )
    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        assignment = self.get_assignment(case)
        serializer = ContributionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.submit_contribution(
            actor=actor_of(request), assignment=assignment, text=serializer.validated_data["text"]
        )
        return self.result(case, assignment)


# --- what a case carries ---------------------------------------------------------------------------


class NotesView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="A case's progress notes you may read",
        description="Shared notes, and internal notes of your own department.",
        responses={200: ProgressNoteSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        notes = notes_visible_to(actor_of(request), case)
        return Response(ProgressNoteSerializer(notes, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Add a progress note",
        description=(
            "Internal by default (your department only); `shared_with_center` makes it visible "
            "to the center."
        ),
        request=ProgressNoteInputSerializer,
        responses={201: ProgressNoteSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_case()
        serializer = ProgressNoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.add_progress_note(
            actor=actor,
            case=case,
            text=serializer.validated_data["text"],
            shared_with_center=serializer.validated_data["shared_with_center"],
        )
        saved = notes_visible_to(actor, case).get(pk=note.pk)
        return Response(ProgressNoteSerializer(saved).data, status=status.HTTP_201_CREATED)


class AssignmentsView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="A case's assignments",
        description="Every assignment of the case, cancelled ones included, oldest first.",
        responses={200: AssignmentSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        rows = (
            Assignment.objects.filter(case=case)
            .select_related("department", "assigned_by", "signed_by", "handler")
            .order_by("assigned_at", "id")
        )
        return Response(AssignmentSerializer(rows, many=True).data)


class NoticesView(CaseView):
    @extend_schema(
        tags=TAGS,
        summary="A case's written notices",
        responses={200: NoticeSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = self.get_case()
        rows = WrittenNotice.objects.filter(case=case).order_by("issued_at", "id")
        return Response(NoticeSerializer(rows, many=True, context={"request": request}).data)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the view returns the bytes itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else b""


NO_SUCH_NOTICE = "No such notice"


class NoticePdfView(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        tags=TAGS,
        summary="A written notice as PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        notice = WrittenNotice.objects.filter(pk=pk).first()
        if notice is None:
            raise Http404(NO_SUCH_NOTICE)
        try:
            get_case_for(actor_of(request), notice.case_id)
        except Http404:
            # the same answer as for a notice that does not exist: ids cannot be probed
            raise Http404(NO_SUCH_NOTICE) from None
        response = HttpResponse(notice_pdf(notice), content_type="application/pdf")
        response["Content-Disposition"] = (
            content_disposition_header(as_attachment=False, filename=f"{notice.number}.pdf")
            or "inline"
        )
        return response

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON even for a client that asked for the PDF.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


# --- the department inbox -------------------------------------------------------------------------
# The tabs, their counts and "due soon" are routing.selectors' definitions, shared with the web
# inbox, so the API and the pages always count the same rows.


class InboxPagination(SafeCursorPagination):
    # soonest due first; the id breaks ties between assignments due at the same moment
    ordering = ("due_at", "id")


def has_inbox(user: User) -> bool:
    """The inbox, and acting on an assignment, belong to a department's officers and heads."""
    return user.has_role(Role.OFFICER, Role.HEAD) and user.department_id is not None


def require_inbox(user: User) -> None:
    if not has_inbox(user):
        raise PermissionDenied(_("The inbox is for department officers and heads."))


INBOX_ROLES_NOTE = "For officers and heads of a department; other roles get 403."


class InboxView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Your department's inbox",
        description=(
            "Your department's assignments on one tab, soonest due first, with the count of "
            "every tab. `new`: awaiting sign-for; `mine`: signed or accepted and handled by you "
            "or not yet by anyone; `due_soon`: active and due within "
            f"{DUE_SOON_DAYS} days; `overdue`: active and past the due date; `returned`: "
            "returned with an objection. " + INBOX_ROLES_NOTE
        ),
        parameters=[InboxQuerySerializer],
        responses={200: InboxPageSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        require_inbox(actor)
        query = InboxQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tab = query.validated_data["tab"]
        filters = InboxFilters(role=query.validated_data.get("role", ""))
        now = timezone.now()
        paginator = InboxPagination()
        # the page as .values() rows, written by a plain serializer of those keys (core.rows)
        rows = inbox(actor, tab, filters, "due", now).values(*InboxRowValuesSerializer.COLUMNS)
        page = paginator.paginate_queryset(rows, request, view=self)  # type: ignore[arg-type]
        data = {
            "tab": tab,
            "counts": inbox_counts(actor, filters, now),
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page or [],
        }
        return Response(InboxPageRowsSerializer(data, context={"now": now}).data)


class InboxCountsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The number of assignments on each inbox tab",
        description="For menu badges. " + INBOX_ROLES_NOTE,
        responses={200: InboxCountsSerializer, 403: FORBIDDEN},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        require_inbox(actor)
        counts = inbox_counts(actor, InboxFilters(), timezone.now())
        return Response(InboxCountsSerializer(counts).data)
