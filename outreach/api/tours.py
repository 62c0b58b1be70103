"""带案巡视 under /api/v1/: tours carrying cases, their receptions, meetings, findings with the
instruction (督办) and the report.

Thin views (STYLE.md): the input serializer checks the shape and resolves ids, an
outreach.services.tours function writes, the output serializer renders. A tour is looked up
through selectors_tours.get_tour_for (not-yours and not-found are the same 404); a case by id
among the cases the caller may see (an unknown or invisible case is a 400 on its field). Service
errors map to status codes in core.api.exception_handler: ValidationError 400, PermissionDenied
403, DomainError and StaleState 409. Personal data: a carried case shows its number and the
petitioner's name, never an ID or phone number.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.serializers import RefSerializer, UserRefSerializer
from campaigns.models import Matter
from core.models import Center, Department, User
from core.pagination import SafeCursorPagination
from petitions.api.serializers import MAX_ID, MAX_VERSION, headcount_field
from petitions.models import Case
from petitions.selectors import cases_visible_to

from .. import selectors_tours as selectors
from ..models import Tour, TourCase, TourState
from ..services import tours as services

TAGS = ["tours"]
ERRORS = {
    400: OpenApiResponse(description="Field errors: {field: [messages]}."),
    403: OpenApiResponse(description="Your role does not allow this action."),
    404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
    409: OpenApiResponse(description="Stale version, or the tour's state does not allow it."),
}


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _valid(serializer_class: type, request: Request, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _visible_cases(actor: User, ids: list[int], field: str = "cases") -> list[Case]:
    found = list(cases_visible_to(actor).filter(pk__in=ids).select_related("center"))
    if len(found) != len(set(ids)):
        raise ValidationError({field: [_("No such case.")]})
    return found


# --- serializers ------------------------------------------------------------------------------------


def _staff(help_text: str, *, many: bool = False, required: bool = True) -> Any:
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        many=many,
        required=required,
        help_text=help_text,
    )


class TourVersionInputSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_VERSION,
        help_text=str(gettext_lazy("The version read; a newer one on the server answers 409.")),
    )


class TourInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    target_center = serializers.PrimaryKeyRelatedField(
        queryset=Center.objects.all(), help_text="The center visited: one below the caller's."
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    leader = _staff("User id of the tour's leader (a leader of the caller's center).")
    members = _staff("User ids of the team.", many=True, required=False)
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        help_text="Ids of open cases of the center visited or of the centers below it.",
    )
    matters = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        help_text="Ids of campaigns' backlog matters (campaigns.Matter) of those centers.",
    )
    submission_key = serializers.CharField(max_length=64, required=False, allow_blank=True)


class TourUpdateSerializer(TourVersionInputSerializer):
    title = serializers.CharField(max_length=120, required=False)
    starts_on = serializers.DateField(required=False)
    ends_on = serializers.DateField(required=False)
    leader = _staff("User id of the tour's leader.", required=False)
    members = _staff("User ids of the team (replaces them).", many=True, required=False)


class TourAddCasesSerializer(TourVersionInputSerializer):
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, default=list
    )
    matters = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, default=list
    )


class TourReceptionInputSerializer(TourVersionInputSerializer):
    case = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of a carried case."
    )
    at = serializers.DateTimeField()
    notes = serializers.CharField()
    headcount = headcount_field()
    submission_key = serializers.CharField(max_length=64, required=False, allow_blank=True)


class TourMeetingInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of a carried case."
    )
    held_at = serializers.DateTimeField()
    departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), many=True
    )
    participants = serializers.CharField(required=False, allow_blank=True, default="")
    decisions = serializers.CharField()


class TourFindingInputSerializer(TourVersionInputSerializer):
    findings = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.CharField(required=False, allow_blank=True, default="")
    instruction = serializers.CharField(required=False, allow_blank=True, default="")
    instruction_due = serializers.DateField(required=False, allow_null=True, default=None)


class TourReportInputSerializer(TourVersionInputSerializer):
    summary = serializers.CharField()


class TourCarriedCaseSerializer(serializers.Serializer):
    case = serializers.SerializerMethodField()
    matter = serializers.IntegerField(source="carried.matter_id", allow_null=True)
    findings = serializers.CharField(source="carried.findings")
    decision = serializers.CharField(source="carried.decision")
    instruction = serializers.CharField(source="carried.instruction")
    instruction_due = serializers.DateField(source="carried.instruction_due", allow_null=True)
    order = serializers.SerializerMethodField()
    receptions = serializers.IntegerField()
    meetings = serializers.IntegerField()
    instruction_met = serializers.BooleanField(source="met")
    version = serializers.IntegerField(source="carried.version")

    def get_case(self, row: selectors.ReportRow) -> dict[str, Any]:
        case = row.case
        return {
            "id": case.pk,
            "number": case.number,
            "center": case.center.name,
            "petitioner": case.main_petitioner.name,
            "state": case.state,
            "state_label": str(case.get_state_display()),
            "version": case.version,
        }

    def get_order(self, row: selectors.ReportRow) -> dict[str, Any] | None:
        order = row.carried.order
        if order is None:
            return None
        return {
            "id": order.pk,
            "number": order.number,
            "state": order.state,
            "due_at": order.due_at.isoformat(),
            "responded_at": order.responded_at.isoformat() if order.responded_at else None,
        }


class TourSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    center = RefSerializer()
    target_center = RefSerializer()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    leader = UserRefSerializer()
    members = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=TourState.choices)
    summary = serializers.CharField()
    reported_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    can_manage = serializers.SerializerMethodField()

    def get_members(self, tour: Tour) -> list[dict[str, Any]]:
        return [
            {"id": u.pk, "name": u.full_name or u.username}
            for u in sorted(tour.members.all(), key=lambda u: u.pk)
        ]

    def get_can_manage(self, tour: Tour) -> bool:
        user = self.context.get("user")
        return bool(user is not None and selectors.can_manage_tour(user, tour))


class TourListSerializer(TourSerializer):
    cases = serializers.IntegerField(source="n_cases")
    receptions = serializers.IntegerField(source="n_receptions")
    instructions = serializers.IntegerField(source="n_instructions")
    instructions_met = serializers.IntegerField(source="n_met")
    live = serializers.SerializerMethodField()

    def get_live(self, tour: Any) -> bool:
        return bool(tour.state != TourState.REPORTED or tour.has_open_order)


class TourDetailSerializer(TourSerializer):
    carried = serializers.SerializerMethodField()
    figures = serializers.SerializerMethodField()

    def _report(self, tour: Tour) -> selectors.TourReport:
        cache: dict[int, selectors.TourReport] = self.__dict__.setdefault("_reports", {})
        if tour.pk not in cache:
            cache[tour.pk] = selectors.tour_report(tour)
        return cache[tour.pk]

    def get_carried(self, tour: Tour) -> list[dict[str, Any]]:
        return list(TourCarriedCaseSerializer(self._report(tour).rows, many=True).data)

    def get_figures(self, tour: Tour) -> dict[str, Any]:
        r = self._report(tour)
        return {
            "carried": r.carried,
            "receptions": r.receptions,
            "meetings": r.meetings,
            "instructions": r.instructions,
            "instructions_met": r.instructions_met,
            "live": r.live,
        }


def _tour_row(pk: int) -> Tour:
    return (
        Tour.objects.select_related("center", "target_center", "leader")
        .prefetch_related("members")
        .get(pk=pk)
    )


def _detail(tour: Tour, actor: User, code: int = status.HTTP_200_OK) -> Response:
    data = TourDetailSerializer(_tour_row(tour.pk), context={"user": actor}).data
    return Response(data, status=code)


class NewestFirst(SafeCursorPagination):
    ordering = ("-starts_on", "-pk")


class TourPageSerializer(serializers.Serializer):
    """A page of tours: CursorPagination's shape."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TourListSerializer(many=True)


# --- views ------------------------------------------------------------------------------------------


class ToursView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="tours_list",
        summary="Tours the caller may read",
        description=(
            "Tours of the caller's center and of the centers below it (read-only), tours to "
            "them, and tours the caller leads or is a member of. Newest first, cursor-paginated; "
            "?live=1 for the tours still live (not reported, or an instruction not yet met)."
        ),
        responses={200: TourPageSerializer},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        qs = selectors.with_figures(
            selectors.tours_visible_to(actor)
            .select_related("center", "target_center", "leader")
            .prefetch_related("members")
        )
        if request.query_params.get("live") in ("1", "true"):
            qs = qs.filter(selectors.live_q())
        paginator = NewestFirst()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = TourListSerializer(page, many=True, context={"user": actor}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        summary="Plan a tour carrying cases (带案巡视)",
        description=(
            "A supervisor or leader plans a tour of a center below theirs, led by a leader of "
            "their center, carrying open cases of the center visited (or of the centers below "
            "it) and campaigns' backlog matters there. A resubmitted form (same submission_key) "
            "answers the tour already planned."
        ),
        request=TourInputSerializer,
        responses={201: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        services.touring_center(actor)  # the role first: 403 before any field's 400
        attrs = _valid(TourInputSerializer, request)
        cases = _visible_cases(actor, attrs.pop("cases"))
        matter_ids = attrs.pop("matters")
        matters = list(Matter.objects.filter(pk__in=matter_ids).select_related("case"))
        if len(matters) != len(set(matter_ids)):
            raise ValidationError({"matters": [_("No such backlog matter.")]})
        tour = services.plan_tour(
            actor=actor,
            cases=cases,
            matters=matters,
            members=attrs.pop("members", []),
            submission_key=attrs.pop("submission_key", "") or "",
            **attrs,
        )
        return _detail(tour, actor, status.HTTP_201_CREATED)


class TourView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A tour, with its carried cases and their state now",
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        return _detail(selectors.get_tour_for(actor, pk), actor)

    @extend_schema(
        tags=TAGS,
        summary="Change a tour",
        description="Its managers, until it is reported; expected_version is the tour's (409).",
        request=TourUpdateSerializer,
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourUpdateSerializer, request, partial=True)
        expected = attrs.pop("expected_version", None)
        services.update_tour(actor=actor, tour=tour, expected_version=expected, **attrs)
        return _detail(tour, actor)


class TourCasesView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Carry more cases",
        description="Until the tour's last day; expected_version is the tour's.",
        request=TourAddCasesSerializer,
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourAddCasesSerializer, request)
        matter_ids = attrs["matters"]
        matters = list(Matter.objects.filter(pk__in=matter_ids).select_related("case"))
        if len(matters) != len(set(matter_ids)):
            raise ValidationError({"matters": [_("No such backlog matter.")]})
        services.add_tour_cases(
            actor=actor,
            tour=tour,
            cases=_visible_cases(actor, attrs["cases"]),
            matters=matters,
            expected_version=attrs.get("expected_version"),
        )
        return _detail(tour, actor)


def _carried_row(tour: Tour, case_id: int) -> TourCase:
    row = TourCase.objects.select_related("tour").filter(tour=tour, case_id=case_id).first()
    if row is None:
        raise exceptions.NotFound()
    return row


class TourCaseView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Stop carrying a case",
        description=(
            "Before the tour ends and while nothing was recorded on the case; "
            "expected_version (the tour's) in the body."
        ),
        request=TourVersionInputSerializer,
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def delete(self, request: Request, pk: int, case_id: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourVersionInputSerializer, request)
        services.remove_tour_case(
            actor=actor,
            tour_case=_carried_row(tour, case_id),
            expected_version=attrs.get("expected_version"),
        )
        return _detail(tour, actor)


class TourFindingView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Findings, decision and instruction on a carried case",
        description=(
            "An instruction with its due date is issued as a supervision order (督办) to the "
            "case's lead department. expected_version is the carried case's (its `version`)."
        ),
        request=TourFindingInputSerializer,
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, case_id: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourFindingInputSerializer, request)
        services.record_finding(
            actor=actor,
            tour_case=_carried_row(tour, case_id),
            findings=attrs["findings"],
            decision=attrs["decision"],
            instruction=attrs["instruction"],
            instruction_due=attrs["instruction_due"],
            expected_version=attrs.get("expected_version"),
        )
        return _detail(tour, actor)


class TourReceptionsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A reception on the tour (接访)",
        description=(
            "The tour's leader received the petitioner of a carried case: a visit on the case, "
            "received by the leader in person. expected_version is the case's. A resubmitted "
            "form (same submission_key) is one visit."
        ),
        request=TourReceptionInputSerializer,
        responses={201: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourReceptionInputSerializer, request)
        case = _visible_cases(actor, [attrs["case"]], "case")[0]
        services.record_reception(
            actor=actor,
            tour=tour,
            case=case,
            at=attrs["at"],
            notes=attrs["notes"],
            headcount=attrs["headcount"],
            expected_version=attrs.get("expected_version"),
            submission_key=attrs.get("submission_key") or "",
        )
        return _detail(tour, actor, status.HTTP_201_CREATED)


class TourMeetingsView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="A meeting on the tour (会诊 / 协调会)",
        description="Recorded as supervision's consultation on the carried case.",
        request=TourMeetingInputSerializer,
        responses={201: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourMeetingInputSerializer, request)
        case = _visible_cases(actor, [attrs["case"]], "case")[0]
        services.record_meeting(
            actor=actor,
            tour=tour,
            case=case,
            held_at=attrs["held_at"],
            departments=attrs["departments"],
            participants=attrs["participants"],
            decisions=attrs["decisions"],
        )
        return _detail(tour, actor, status.HTTP_201_CREATED)


class TourReportView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="File the tour's report",
        description=(
            "Its managers; state reported. The tour stays live until every instruction is met."
        ),
        request=TourReportInputSerializer,
        responses={200: TourDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        tour = selectors.get_tour_for(actor, pk)
        attrs = _valid(TourReportInputSerializer, request)
        services.file_report(
            actor=actor,
            tour=tour,
            summary=attrs["summary"],
            expected_version=attrs.get("expected_version"),
        )
        return _detail(tour, actor)


urlpatterns = [
    path("tours/", ToursView.as_view(), name="tour-list"),
    path("tours/<int:pk>/", TourView.as_view(), name="tour-detail"),
    path("tours/<int:pk>/cases/", TourCasesView.as_view(), name="tour-cases"),
    path("tours/<int:pk>/cases/<int:case_id>/", TourCaseView.as_view(), name="tour-case"),
    path(
        "tours/<int:pk>/cases/<int:case_id>/finding/",
        TourFindingView.as_view(),
        name="tour-finding",
    ),
    path("tours/<int:pk>/receptions/", TourReceptionsView.as_view(), name="tour-receptions"),
    path("tours/<int:pk>/meetings/", TourMeetingsView.as_view(), name="tour-meetings"),
    path("tours/<int:pk>/report/", TourReportView.as_view(), name="tour-report"),
]
