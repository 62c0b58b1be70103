"""Reports under /api/v1/reports/: the indicators, and ledger export jobs.

Scoped like every other read (reports.filters): the viewer's own center and below; a center
outside that scope, or another user's export, is 404 like one that does not exist. Bad input is
400 with field errors in the user's language (``from``/``to`` keep their query names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.dbrouter import replica_reads
from core.models import User
from reports.filters import may_view_reports, parse_filters
from reports.indicators import compute_cached
from reports.ledger import DEFAULT_COLUMNS, all_columns
from reports.models import ExportFormat, ExportJob, ExportState
from reports.services import InvalidExport, exports_of, open_export, start_export

TAGS = ["reports"]
MAX_EXPORT_COLUMNS = 100
NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see (the same answer).")
BAD_REQUEST = OpenApiResponse(description="Field errors: {field: [messages]}.")
FORBIDDEN = OpenApiResponse(description="Reports are for supervisors, leaders and archivists.")


def actor_of(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    if not may_view_reports(user):
        raise exceptions.PermissionDenied(_("Reports are for supervisors, leaders and archivists."))
    return user


def _form_errors(form: Any) -> dict[str, list[str]]:
    rename = {"date_from": "from", "date_to": "to"}
    return {rename.get(k, k): [str(m) for m in v] for k, v in form.errors.items()}


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    value = serializers.FloatField(
        allow_null=True, help_text="0..1, or null when the denominator is 0"
    )
    definition = serializers.CharField()


class CountsSerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    visits = serializers.IntegerField()
    group_visits = serializers.IntegerField()
    skip_level_visits = serializers.IntegerField()
    transfers = serializers.IntegerField()
    supervision_orders = serializers.IntegerField()
    overdue = serializers.IntegerField()


class IndicatorReportSerializer(serializers.Serializer):
    period = serializers.DictField()
    indicators = IndicatorSerializer(many=True)
    counts = CountsSerializer()


ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
FILTER_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 1 January)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)"),
    OpenApiParameter("center", ID, description="Center id (default: your own)"),
    OpenApiParameter(
        "subtree",
        {"type": "integer", "enum": [0, 1], "minimum": 0, "maximum": 1},
        description="1: with subordinate centers",
    ),
    OpenApiParameter("department", ID),
    OpenApiParameter("channel", ID),
    OpenApiParameter("category", ID, description="With its sub-categories"),
    OpenApiParameter(
        "law_related",
        {"type": "integer", "enum": [0, 1], "minimum": 0, "maximum": 1},
        description="1 or 0",
    ),
    OpenApiParameter(
        "cessation_days",
        {"type": "integer", "minimum": 1, "maximum": 730},
        description="Cessation window in days (default 90)",
    ),
]


class IndicatorsView(APIView):
    @extend_schema(
        tags=TAGS,
        parameters=FILTER_PARAMS,
        responses={
            200: IndicatorReportSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        summary="Indicators and counts for a period and scope",
    )
    @replica_reads
    def get(self, request: Request) -> Response:
        user = actor_of(request)
        filters, form = parse_filters(request.query_params, user=user)
        if filters is None:
            return Response(_form_errors(form), status=status.HTTP_400_BAD_REQUEST)
        return Response(compute_cached(filters).as_dict())


class RefuseUnknownFields(serializers.Serializer):
    """A body key the serializer does not know is a 400 naming it ({key: ["Unknown field."]},
    the message petitions.services gives for an unknown correction field), not silently
    dropped: a misspelt ``colums`` would otherwise export the default columns."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError({k: [_("Unknown field.")] for k in unknown})
        return super().to_internal_value(data)


class ExportInputSerializer(RefuseUnknownFields):
    filters = serializers.DictField(
        required=False,
        default=dict,
        help_text="The indicator filters (from, to, center, subtree, ...) and state: [...]",
    )
    # Plain strings, checked by the service, so an unknown column is named in the message.
    columns = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=40),
        required=False,
        default=list(DEFAULT_COLUMNS),
        # Bounds the payload only: a list longer than the columns there are always repeats or
        # names an unknown one, which the service refuses by name. (The apps above add columns
        # when they are ready, after this class is built: reports.hooks.)
        max_length=MAX_EXPORT_COLUMNS,
        help_text=lazy(lambda: "Column codes: " + ", ".join(c.code for c in all_columns()), str)(),
    )
    format = serializers.CharField(
        required=False,
        default=ExportFormat.XLSX,
        min_length=1,
        max_length=10,
        help_text="xlsx or csv",
    )


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.FloatField()
    rows = serializers.IntegerField()
    total = serializers.IntegerField()
    format = serializers.CharField()
    file_name = serializers.CharField()
    download_url = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_blank=True)


def job_payload(job: ExportJob) -> dict[str, Any]:
    done = job.state == ExportState.DONE
    return {
        "id": job.pk,
        "status": job.state,
        "progress": round(job.progress, 4),
        "rows": job.rows_written,
        "total": job.total_rows,
        "format": job.format,
        "file_name": job.file_name,
        "download_url": reverse("api:reports-export-download", args=[job.pk]) if done else None,
        "error": job.error if job.state == ExportState.FAILED else "",
    }


class ExportsView(APIView):
    @extend_schema(
        tags=TAGS,
        request=ExportInputSerializer,
        responses={202: ExportJobSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        summary="Start a ledger export (xlsx or csv)",
    )
    def post(self, request: Request) -> Response:
        user = actor_of(request)
        serializer = ExportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            job = start_export(
                actor=user, filters=data["filters"], columns=data["columns"], fmt=data["format"]
            )
        except InvalidExport as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(job_payload(job), status=status.HTTP_202_ACCEPTED)


def _own_job(request: Request, pk: int) -> ExportJob:
    user = actor_of(request)
    try:
        return exports_of(user).get(pk=pk)
    except ExportJob.DoesNotExist:
        raise Http404() from None


class ExportDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        responses={200: ExportJobSerializer, 404: NOT_FOUND},
        summary="Status and progress of an export; download_url when done",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(job_payload(_own_job(request, pk)))


class ExportDownloadView(APIView):
    @extend_schema(
        tags=TAGS,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: NOT_FOUND},
        summary="The export file (owner only)",
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = _own_job(request, pk)
        if job.state != ExportState.DONE or not job.file:
            raise Http404()
        return FileResponse(open_export(job), as_attachment=True, filename=job.file_name)
