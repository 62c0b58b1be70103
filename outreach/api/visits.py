"""下访 / 约访 and the reception days under /api/v1/.

- ``GET/POST cases/{id}/outreach/``: the case's visits to the petitioner (``kind=home_visit``)
  and appointments (``kind=appointment``); POST takes ``kind``, ``at``, ``place``, ``leader``
  (user id or null), ``participants``, ``notes``, ``outcome`` (+ ``expected_version``: the case's,
  ``place_kind``, ``agreed``, ``next_step``, ``submission_key``).
- ``POST cases/{id}/outreach/{oid}/kept/`` (``notes``), ``.../missed/`` (``reason``),
  ``.../cancel/`` (``reason``), each with ``expected_version`` (the appointment's).
- ``GET/POST reception-days/`` (``center``, ``leader``, ``date``, ``starts_at``, ``ends_at``,
  ``place``, ``subject``); GET filters ``?center=&from=&to=`` among the caller's visible centers.

Thin views: the serializer checks the shape, outreach.services writes, the output serializer
renders. The case through petitions.selectors.get_case_for (not-yours = not-found = 404). Errors
map in core.api.exception_handler: ValidationError 400, PermissionDenied 403, DomainError and
StaleState 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import User
from core.selectors import centers_visible_to
from intake.models import LeaderDuty
from petitions.api.serializers import MAX_ID, MAX_VERSION
from petitions.selectors import get_case_for

from ..models import OutreachKind, PlaceKind
from ..selectors_visits import (
    get_appointment_for,
    outreach_for_case,
    reception_days,
    state_label,
)
from ..services import reception_days as day_services
from ..services import visits as services

TAGS = ["outreach"]
ERRORS = {
    400: OpenApiResponse(description="Field errors: {field: [messages]}."),
    403: OpenApiResponse(description="Your role does not allow this action."),
    404: OpenApiResponse(description="Not found, or not yours to see (the same answer)."),
    409: OpenApiResponse(description="Stale version, duplicate, or the state does not allow it."),
}


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _user_or_none(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("No such user.")]})
    return user


# --- serializers ------------------------------------------------------------------------------------


class OutreachInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OutreachKind.choices)
    at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200)
    place_kind = serializers.ChoiceField(choices=PlaceKind.choices, required=False)
    leader = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID
    )
    participants = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    agreed = serializers.CharField(required=False, allow_blank=True, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.CharField(required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_VERSION
    )
    submission_key = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class KeptInputSerializer(serializers.Serializer):
    notes = serializers.CharField()
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_VERSION
    )


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField()
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_VERSION
    )


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, user: User) -> str:
        return str(user)


class OutreachSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    case = serializers.IntegerField(source="case_id")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.CharField()
    state_label = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    place = serializers.CharField()
    place_kind = serializers.CharField()
    leader = PersonSerializer(allow_null=True)
    participants = serializers.CharField()
    notes = serializers.CharField()
    agreed = serializers.CharField()
    next_step = serializers.CharField()
    outcome = serializers.CharField()
    visit = serializers.IntegerField(source="visit_id", allow_null=True)
    reminded_at = serializers.DateTimeField(allow_null=True)
    recorded_by = PersonSerializer()
    recorded_at = serializers.DateTimeField()
    version = serializers.IntegerField()

    def get_state_label(self, row: Any) -> str:
        return state_label(row.state)


class ReceptionDayInputSerializer(serializers.Serializer):
    center = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    leader = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    date = serializers.DateField()
    starts_at = serializers.TimeField()
    ends_at = serializers.TimeField()
    place = serializers.CharField(max_length=200)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "09:00:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time without an offset (JSON Schema's "time" format demands one)."""


class ReceptionDaySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    center = serializers.IntegerField(source="center_id")
    center_name = serializers.CharField(source="center.name")
    leader = PersonSerializer()
    date = serializers.DateField()
    starts_at = LocalTimeField(allow_null=True)
    ends_at = LocalTimeField(allow_null=True)
    place = serializers.CharField()
    subject = serializers.CharField()


# --- views ------------------------------------------------------------------------------------------


class CaseOutreachView(APIView):
    @extend_schema(tags=TAGS, responses={200: OutreachSerializer(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = get_case_for(actor, pk)
        rows = outreach_for_case(actor, case)
        return Response(OutreachSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=OutreachInputSerializer,
        responses={201: OutreachSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = get_case_for(actor, pk)
        data = _valid(OutreachInputSerializer, request)
        leader = _user_or_none(data["leader"], "leader")
        common: dict[str, Any] = {
            "actor": actor,
            "case": case,
            "at": data["at"],
            "place": data["place"],
            "leader": leader,
            "expected_version": data.get("expected_version"),
            "submission_key": data["submission_key"] or request.headers.get("Idempotency-Key", ""),
        }
        if data["kind"] == OutreachKind.HOME_VISIT:
            row = services.record_home_visit(
                **common,
                place_kind=data.get("place_kind") or PlaceKind.HOME,
                participants=data["participants"],
                notes=data["notes"],
                agreed=data["agreed"],
                next_step=data["next_step"],
                outcome=data["outcome"],
            )
        else:
            row = services.schedule_appointment(
                **common,
                place_kind=data.get("place_kind") or PlaceKind.CENTER,
                notes=data["notes"],
            )
        return Response(OutreachSerializer(row).data, status=status.HTTP_201_CREATED)


def _appointment(actor: User, pk: int, oid: int) -> Any:
    case = get_case_for(actor, pk)
    row = get_appointment_for(actor, case, oid)
    if row is None:
        raise Http404
    return row


class AppointmentKeptView(APIView):
    @extend_schema(
        tags=TAGS, request=KeptInputSerializer, responses={200: OutreachSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int, oid: int) -> Response:
        actor = actor_of(request)
        row = _appointment(actor, pk, oid)
        data = _valid(KeptInputSerializer, request)
        row = services.record_appointment_kept(
            actor=actor,
            appointment=row,
            notes=data["notes"],
            expected_version=data.get("expected_version"),
        )
        return Response(OutreachSerializer(row).data)


class AppointmentMissedView(APIView):
    @extend_schema(
        tags=TAGS, request=ReasonInputSerializer, responses={200: OutreachSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int, oid: int) -> Response:
        actor = actor_of(request)
        row = _appointment(actor, pk, oid)
        data = _valid(ReasonInputSerializer, request)
        row = services.mark_appointment_missed(
            actor=actor,
            appointment=row,
            reason=data["reason"],
            expected_version=data.get("expected_version"),
        )
        return Response(OutreachSerializer(row).data)


class AppointmentCancelView(APIView):
    @extend_schema(
        tags=TAGS, request=ReasonInputSerializer, responses={200: OutreachSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int, oid: int) -> Response:
        actor = actor_of(request)
        row = _appointment(actor, pk, oid)
        data = _valid(ReasonInputSerializer, request)
        row = services.cancel_appointment(
            actor=actor,
            appointment=row,
            reason=data["reason"],
            expected_version=data.get("expected_version"),
        )
        return Response(OutreachSerializer(row).data)


class ReceptionDaysView(APIView):
    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "center",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="A center the caller sees.",
            ),
            OpenApiParameter("from", str, description="First day (YYYY-MM-DD)."),
            OpenApiParameter("to", str, description="Last day (YYYY-MM-DD), inclusive."),
        ],
        responses={200: ReceptionDaySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        visible = list(centers_visible_to(actor).values_list("pk", flat=True))
        query = request.query_params
        errors: dict[str, list[str]] = {}
        center_ids = visible
        if query.get("center"):
            try:
                wanted = int(query["center"])
            except ValueError:
                wanted = -1
            if wanted not in visible:
                errors["center"] = [_("No such center.")]
            center_ids = [wanted]
        bounds = {}
        for name in ("from", "to"):
            if query.get(name):
                field = serializers.DateField()
                try:
                    bounds[name] = field.to_internal_value(query[name])
                except serializers.ValidationError:
                    errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        if errors:
            raise ValidationError(errors)
        rows = reception_days(center_ids, bounds.get("from"), bounds.get("to"))[:500]
        return Response(ReceptionDaySerializer(rows, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=ReceptionDayInputSerializer,
        responses={201: ReceptionDaySerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        data = _valid(ReceptionDayInputSerializer, request)
        center = centers_visible_to(actor).filter(pk=data["center"]).first()
        if center is None:
            raise ValidationError({"center": [_("No such center.")]})
        duty = day_services.schedule_reception_day(
            actor=actor,
            center=center,
            leader=_user_or_none(data["leader"], "leader"),
            date=data["date"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            place=data["place"],
            subject=data["subject"],
        )
        duty = LeaderDuty.objects.select_related("leader", "center").get(pk=duty.pk)
        return Response(ReceptionDaySerializer(duty).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("cases/<int:pk>/outreach/", CaseOutreachView.as_view(), name="case-outreach"),
    path(
        "cases/<int:pk>/outreach/<int:oid>/kept/",
        AppointmentKeptView.as_view(),
        name="case-outreach-kept",
    ),
    path(
        "cases/<int:pk>/outreach/<int:oid>/missed/",
        AppointmentMissedView.as_view(),
        name="case-outreach-missed",
    ),
    path(
        "cases/<int:pk>/outreach/<int:oid>/cancel/",
        AppointmentCancelView.as_view(),
        name="case-outreach-cancel",
    ),
    path("reception-days/", ReceptionDaysView.as_view(), name="reception-days"),
]
