"""API views of petition records. Thin: the input serializer validates, a petitions.services
function writes, an output serializer renders. Reads go through petitions.selectors, so a case
that is not yours is the same 404 as one that does not exist."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import pii
from core.logging import contains_personal_number
from core.models import User
from core.pagination import SafeCursorPagination
from core.parsers import SafeJSONParser
from core.text import name_key
from petitions.models import Attachment, Case, CasePetitioner, FileLookup, Petitioner, Visit
from petitions.selectors import (
    case_list_for,
    cases_linking,
    cases_visible_to,
    get_case_for,
    may_look_up_anyone,
    petitioners_visible_to,
)
from petitions.services import (
    FieldDifference,
    OpenCaseExists,
    Registration,
    add_attachment,
    answer_on_spot,
    correct_petitioner,
    find_petitioner_by_id_number,
    intake_petitioner,
    record_file_lookups,
    record_repeat_visit,
    register_case,
    report_visit_to_case_center,
    reveal_pii,
    submitted_case,
    upsert_petitioner,
)

from .filters import CaseFilter
from .serializers import (
    AnswerInputSerializer,
    AttachmentInputSerializer,
    AttachmentSerializer,
    CaseDetailSerializer,
    CaseHistorySerializer,
    CaseIntakeSerializer,
    CaseListRowSerializer,
    CaseListSerializer,
    CaseRegisteredSerializer,
    CorrectionInputSerializer,
    OpenCaseConflictSerializer,
    PetitionerExactLookupSerializer,
    PetitionerInputSerializer,
    PetitionerLookupSerializer,
    PetitionerSerializer,
    RevealInputSerializer,
    RevealOutputSerializer,
    VisitInputSerializer,
    VisitReportOutputSerializer,
    VisitSerializer,
    petitioner_data,
    registered_case_body,
)

# A name prefix matches many people; the lookup shows the first few, never a browsable list.
MAX_LOOKUP_RESULTS = 20
MAX_IDEMPOTENCY_KEY_LENGTH = 200
# Fields whose change is bookkeeping, not something a reader of the history needs to see.
HISTORY_NOISE_FIELDS = ("version",)

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A client-chosen token for this submission. Repeating the request with the same key "
        "returns what the first one created (200) instead of creating it again (201)."
    ),
)
NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see (the same answer).")
FORBIDDEN = OpenApiResponse(description="Your role does not allow this action.")
BAD_REQUEST = OpenApiResponse(description="Field errors: {field: [messages]}.")
CONFLICT = OpenApiResponse(description="The case's state does not allow this action.")


def actor_of(request: Request) -> User:
    """The authenticated staff member (IsAuthenticated has run; this narrows the type)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def submission_key(request: Request, *scope: object) -> str | None:
    """The service's submission key for the Idempotency-Key header, or None without one.

    Hashed with the user (and what it applies to) so one client's key can never return another
    user's record, and so any client token fits the 64-character column."""
    raw = request.headers.get("Idempotency-Key", "").strip()
    if not raw:
        return None
    if len(raw) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise exceptions.ValidationError(
            {
                "Idempotency-Key": [
                    _("An idempotency key has at most %(n)d characters.")
                    % {"n": MAX_IDEMPOTENCY_KEY_LENGTH}
                ]
            }
        )
    material = ":".join([*(str(part) for part in scope), raw])
    return hashlib.sha256(material.encode()).hexdigest()


class ViewOrderedCursorPagination(SafeCursorPagination):
    """Cursor pages in the view's ``ordering``: stable while new cases keep arriving, and the
    cursor cannot be turned into an offset to walk the table."""

    def get_ordering(
        self, request: Request, queryset: QuerySet[Any], view: APIView
    ) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None)
        if ordering:
            return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return tuple(super().get_ordering(request, queryset, view))


# --- petitioners ----------------------------------------------------------------------------------


def petitioners_with_case_count(
    user: User, base: QuerySet[Petitioner] | None = None
) -> QuerySet[Petitioner]:
    """Petitioner files (the visible ones, or ``base``) with the number of their cases the user
    can see, in one query (counting cases the user cannot open would tell them about other
    centers' work)."""
    qs = petitioners_visible_to(user) if base is None else base
    if user.is_superuser:
        count = Count("case_links", distinct=True)
    else:
        count = Count(
            "case_links",
            filter=Q(case_links__case__in=cases_visible_to(user).values("pk")),
            distinct=True,
        )
    return qs.annotate(case_count=count)


def refuse_personal_numbers_in_url(request: Request) -> None:
    """400 for an ID or phone number in the query string: URLs end up in access logs, proxies
    and browser histories. Exact lookups are POSTed to /api/v1/petitioners/lookup/."""
    for key, values in request.query_params.lists():
        if key in {"id_number", "phone"} or any(
            contains_personal_number(value) for value in values
        ):
            raise exceptions.ValidationError(
                {
                    key: [
                        _(
                            "ID and phone numbers are not accepted in a URL (access logs record "
                            "URLs). Send them in the body of POST /api/v1/petitioners/lookup/."
                        )
                    ]
                }
            )


class PetitionerViewSet(viewsets.GenericViewSet[Petitioner]):
    """Petitioner files (一人一档): find a person by an exact ID number or name + phone number
    (POST lookup/) or a name prefix among the people you may see, register or update a file,
    and reveal a full number on one of their cases (logged).

    A file is visible through a case you may see (petitions.selectors.cases_visible_to), or,
    for front-desk staff, for a working day after they found the person by an exact lookup.
    Any other file is the same 404 as a file that does not exist."""

    serializer_class = PetitionerSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    lookup_value_converter = "int"
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> QuerySet[Petitioner]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Petitioner.objects.none()
        return petitioners_with_case_count(actor_of(self.request))

    def get_object(self) -> Petitioner:
        """A visible file, or 404 whether it does not exist or is not the user's to open."""
        found = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise exceptions.NotFound(_("No such petitioner."))
        return found

    @extend_schema(
        summary="Find petitioners by name",
        description=(
            "A name prefix search among the files you may see (traditional and simplified "
            "characters match). ID and phone numbers are refused here with 400: they would be "
            "recorded in access logs. Use POST /api/v1/petitioners/lookup/ for them."
        ),
        parameters=[PetitionerLookupSerializer],
        responses={200: PetitionerSerializer(many=True), 400: BAD_REQUEST},
    )
    def list(self, request: Request) -> Response:
        refuse_personal_numbers_in_url(request)
        query = PetitionerLookupSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        key = name_key(query.validated_data["name"])
        if not key:
            raise exceptions.ValidationError({"name": [_("Give the beginning of a name.")]})
        rows = (
            self.get_queryset()
            .filter(name_key__startswith=key)
            .order_by("name_key", "id")[:MAX_LOOKUP_RESULTS]
        )
        return Response(PetitionerSerializer(rows, many=True).data)

    @extend_schema(
        summary="Find a petitioner by an exact number",
        description=(
            "Exact lookup, with the numbers in the body so that they never appear in a URL: "
            "`id_number` (a resident ID is checked, and its old 15-digit form finds the same "
            "person as the 18-character form), or `name` with `phone` (traditional and "
            "simplified characters match). Front-desk staff find anyone; the lookup is recorded "
            "and opens the file to them for a working day. Others find only people on cases "
            "they may see."
        ),
        request=PetitionerExactLookupSerializer,
        responses={200: PetitionerSerializer(many=True), 400: BAD_REQUEST},
    )
    @action(detail=False, methods=["post"])
    def lookup(self, request: Request) -> Response:
        actor = actor_of(request)
        serializer = PetitionerExactLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        base = (
            Petitioner.objects.all() if may_look_up_anyone(actor) else petitioners_visible_to(actor)
        )
        if attrs["id_number"]:
            how = FileLookup.How.ID_NUMBER
            found = base.filter(
                id_number_hash__in=pii.id_number_lookup_keys(attrs["id_number"], attrs["id_type"])
            )
            if attrs["id_type"]:
                found = found.filter(id_type=attrs["id_type"])
        else:
            how = FileLookup.How.NAME_PHONE
            found = base.filter(
                name_key=name_key(attrs["name"]), phone_hash=pii.blind_index(attrs["phone"])
            )
        rows = list(
            petitioners_with_case_count(actor, found).order_by("name_key", "id")[
                :MAX_LOOKUP_RESULTS
            ]
        )
        record_file_lookups(actor=actor, petitioners=rows, how=how)
        response = Response(PetitionerSerializer(rows, many=True).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="A petitioner file", responses={200: PetitionerSerializer, 404: NOT_FOUND}
    )
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(PetitionerSerializer(self.get_object()).data)

    @extend_schema(
        summary="Register or update a petitioner file",
        description=(
            "One file per person: a known ID number (of the same ID type) updates that file "
            "(200); otherwise a new file is created (201). Fields left out of an update keep "
            "their values."
        ),
        request=PetitionerInputSerializer,
        responses={
            200: PetitionerSerializer,
            201: PetitionerSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
        },
    )
    def create(self, request: Request) -> Response:
        actor = actor_of(request)
        serializer = PetitionerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        existing = (
            find_petitioner_by_id_number(attrs["id_number"], attrs["id_type"])
            if attrs["id_number"]
            else None
        )
        petitioner = upsert_petitioner(actor=actor, data=petitioner_data(attrs, existing))
        # Registering a person identifies them exactly: the file opens to the registering user
        # like an exact lookup does, until a case of theirs makes it visible for good.
        record_file_lookups(actor=actor, petitioners=[petitioner], how=FileLookup.How.REGISTERED)
        saved = self.get_queryset().get(pk=petitioner.pk)
        return Response(
            PetitionerSerializer(saved).data,
            status=status.HTTP_200_OK if existing is not None else status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Reveal a full ID or phone number",
        description=(
            "Only on a case of this person that you may see (`case_id`, default their newest "
            "such case; 403 when there is none). Every reveal is logged with the user, the case, "
            "the time and the address (PIPL Art 28)."
        ),
        request=RevealInputSerializer,
        responses={200: RevealOutputSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        petitioner = self.get_object()
        serializer = RevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = serializer.validated_data["field"]
        cases = cases_linking(actor, petitioner)
        case_id = serializer.validated_data.get("case_id")
        if case_id is not None:
            case = cases.filter(pk=case_id).first()
            if case is None:
                raise exceptions.NotFound(_("No such case of this person."))
        else:
            case = cases.first()
            if case is None:
                raise exceptions.PermissionDenied(
                    _("A full number is shown only on a case of this person that you may see.")
                )
        value = reveal_pii(
            actor=actor,
            petitioner=petitioner,
            field_name=field,
            case=case,
            ip=request.META.get("REMOTE_ADDR") or None,
        )
        response = Response(RevealOutputSerializer({"field": field, "value": value}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Correct a petitioner file",
        description=(
            "Corrects what was typed wrongly (name, sex, birth date, ID type and number, phone, "
            "address, ...): only the fields given change, and `reason` is kept in the file's "
            "history with your name. For front-desk staff of the center that holds the file or "
            "of a center above it (403 otherwise); the file must be visible to you (404)."
        ),
        request=CorrectionInputSerializer,
        responses={200: PetitionerSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: int) -> Response:
        # h1 (front-desk data integrity): the write is petitions.services.correct_petitioner.
        actor = actor_of(request)
        petitioner = self.get_object()
        serializer = CorrectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        correct_petitioner(
            actor=actor,
            petitioner=petitioner,
            changes=serializer.changes(),
            reason=serializer.validated_data["reason"],
        )
        response = Response(PetitionerSerializer(self.get_object()).data)
        response["Cache-Control"] = "no-store"
        return response


# --- cases ----------------------------------------------------------------------------------------


class CaseViewSet(viewsets.GenericViewSet[Case]):
    """Cases: the list and intake, a case's detail, history, visits, attachments and the one-stop
    answer. No generic update: every change is a service call with its own endpoint."""

    serializer_class = CaseListSerializer
    filterset_class = CaseFilter
    pagination_class = ViewOrderedCursorPagination
    # newest first; the id breaks ties between cases registered in the same instant
    ordering = ("-registered_at", "-id")
    lookup_value_converter = "int"
    parser_classes = [SafeJSONParser]

    def get_queryset(self) -> QuerySet[Case]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Case.objects.none()
        return case_list_for(actor_of(self.request))

    def get_object(self) -> Case:
        return get_case_for(actor_of(self.request), self.kwargs["pk"])

    def _detail(self, pk: int) -> Case:
        case = get_case_for(actor_of(self.request), pk)
        prefetch_related_objects(
            [case],
            Prefetch(
                "case_petitioners",
                queryset=CasePetitioner.objects.select_related("petitioner").order_by("id"),
            ),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.select_related("uploaded_by").order_by(
                    "uploaded_at", "id"
                ),
            ),
        )
        return case

    @extend_schema(summary="Cases you can see", responses=CaseListSerializer(many=True))
    def list(self, request: Request) -> Response:
        # the page as .values() rows, written by a plain serializer of those keys (core.rows)
        queryset = self.filter_queryset(self.get_queryset())
        rows = queryset.values(*CaseListRowSerializer.COLUMNS)
        page = self.paginate_queryset(rows)  # type: ignore[arg-type]
        if page is None:  # pragma: no cover - the view always paginates
            return Response(CaseListRowSerializer(rows, many=True).data)
        return self.get_paginated_response(CaseListRowSerializer(page, many=True).data)

    @extend_schema(
        summary="Register a case (intake)",
        description=(
            "Registers the petitioner (an existing file by `petitioner_id`, or a new file from "
            "`petitioner`), the representatives and the case, all or nothing. The response "
            "carries the one-time query code for the petitioner's receipt.\n\n"
            "A known ID number finds the person's file: blank or omitted fields never replace "
            "what is on file, identity fields (name, sex, birth date) are never changed here, and "
            "contact fields are updated only when your center holds the file (or is above it). "
            "Whatever was not applied is listed in `differences`.\n\n"
            "A person with an open case on the same matter (the same related legal case number; "
            "without numbers, the same content category and organ) is refused with 409 "
            "`open_case_exists` and `open_case_id`: record a visit on that case, or repeat the "
            "registration with `new_case_reason`. The same person on the same matter again "
            "(open, closed or final case) is stored as a repeat visit. A final matter (不再受理, "
            "Arts 35-37) is refused with 400 and errors on `final_matter_confirmed` and "
            "`final_matter_reason` unless both are given."
        ),
        request=CaseIntakeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: CaseRegisteredSerializer,
            200: OpenApiResponse(
                CaseRegisteredSerializer,
                description="A repeated submission (same Idempotency-Key): the first case.",
            ),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            409: OpenApiResponse(
                OpenCaseConflictSerializer,
                description="An open case on the same matter exists (code open_case_exists).",
            ),
        },
    )
    def create(self, request: Request) -> Response:
        actor = actor_of(request)
        serializer = CaseIntakeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        key = submission_key(request, "case", actor.pk)
        attrs = serializer.validated_data
        differences: list[FieldDifference] = []
        created: list[Petitioner] = []

        def person(data: dict[str, Any]) -> Petitioner:
            # A known person's file is merged, never blanked; identity differences come back.
            found = intake_petitioner(actor=actor, data=petitioner_data(data, None))
            differences.extend(found.differences)
            if found.created:
                created.append(found.petitioner)
            return found.petitioner

        try:
            with transaction.atomic():
                if key:
                    # A repeated submission returns the first case before anything is written
                    # again (new representative files in particular); under the key's lock, so
                    # two submissions racing each other as well.
                    first = submitted_case(key)
                    if first is not None:
                        return self._registered(
                            Registration(case=first, query_code=None, created=False)
                        )
                main = attrs.get("existing_petitioner") or person(attrs["petitioner"])
                main_is_new = main in created
                representatives = [person(r) for r in attrs.get("representatives", [])]
                registration = register_case(
                    actor=actor,
                    petitioner=main,
                    data=serializer.to_case_data(),
                    representatives=representatives,
                    submission_key=key,
                    new_case_reason=attrs["new_case_reason"],
                    final_matter_confirmed=attrs["final_matter_confirmed"],
                    final_matter_reason=attrs["final_matter_reason"],
                    petitioner_is_new=main_is_new,
                )
        except OpenCaseExists as exc:
            return Response(
                {
                    "detail": str(exc),
                    "code": exc.code,
                    "open_case_id": exc.case.pk,
                    "open_case_number": exc.case.number,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return self._registered(registration, differences)

    def _registered(
        self, registration: Registration, differences: Sequence[FieldDifference] = ()
    ) -> Response:
        # A case registered just now is rendered from the objects register_case built (with its
        # links, people and attachments): no re-read. A repeated submission's case is read like
        # any case, through the visibility selector.
        # Written directly from those objects (registered_case_body: CaseRegisteredSerializer's
        # JSON, which stays the documented schema, without building its fields per request).
        case = registration.case if registration.created else self._detail(registration.case.pk)
        body = registered_case_body(
            case,
            user=self.request.user,
            registration=registration,
            differences=list(differences),
        )
        return Response(
            body, status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK
        )

    @extend_schema(summary="A case", responses={200: CaseDetailSerializer, 404: NOT_FOUND})
    def retrieve(self, request: Request, pk: int) -> Response:
        case = self._detail(pk)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="A case's history",
        description=(
            "`records`: every saved version of the case, oldest first, with who saved it, when, "
            "and the fields that changed (old and new value). `events`: the readable timeline."
        ),
        responses={200: CaseHistorySerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: int) -> Response:
        case = self.get_object()
        records = list(
            case.history.select_related("history_user").order_by("history_date", "history_id")
        )
        labels = {f.name: str(f.verbose_name) for f in Case._meta.get_fields() if f.concrete}
        rows: list[dict[str, Any]] = []
        previous = None
        for record in records:
            changes: list[dict[str, Any]] = []
            if previous is not None:
                delta = record.diff_against(previous, excluded_fields=HISTORY_NOISE_FIELDS)
                changes = [
                    {
                        "field": c.field,
                        "label": labels.get(c.field, c.field),
                        "old": c.old,
                        "new": c.new,
                    }
                    for c in delta.changes
                ]
            rows.append(
                {
                    "history_id": record.history_id,
                    "history_date": record.history_date,
                    "history_type": record.history_type,
                    "history_user": record.history_user.username if record.history_user else None,
                    "change_reason": record.history_change_reason,
                    "changes": changes,
                }
            )
            previous = record
        events = case.events.select_related("actor").order_by("at", "id")
        return Response(CaseHistorySerializer({"records": rows, "events": events}).data)

    @extend_schema(
        methods=["GET"],
        summary="A case's visits",
        responses={200: VisitSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a repeat visit",
        description="The same person raising the same matter again (重复访) is linked to the case.",
        request=VisitInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: VisitSerializer,
            200: OpenApiResponse(
                VisitSerializer,
                description="A repeated submission (same Idempotency-Key): the first visit.",
            ),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def visits(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_object()
        visits = case.visits.select_related("petitioner", "center", "channel", "received_by")
        if request.method == "GET":
            return Response(VisitSerializer(visits.order_by("at", "id"), many=True).data)

        serializer = VisitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        petitioner = petitioners_visible_to(actor).filter(pk=attrs["petitioner_id"]).first()
        if petitioner is None:
            raise exceptions.ValidationError({"petitioner_id": [_("No such petitioner.")]})
        key = submission_key(request, "visit", actor.pk, case.pk)
        if key:
            first = visits.filter(submission_key=key).first()
            if first is not None:
                return Response(VisitSerializer(first).data, status=status.HTTP_200_OK)
        visit = record_repeat_visit(
            actor=actor,
            case=case,
            petitioner=petitioner,
            channel=attrs["channel"],
            headcount=attrs["headcount"],
            notes=attrs["notes"],
            submission_key=key,
        )
        saved: Visit = visits.get(pk=visit.pk)
        return Response(VisitSerializer(saved).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Report a visit to the center that holds the case",
        description=(
            "A person comes to your desk about an open case of a center below yours, whose cases "
            "are read-only to you (a visit posted to /visits/ is refused with 403). Nothing is "
            "written to the case: the reception and triage staff of the center that holds it "
            "are notified. Or register a case of your own."
        ),
        request=VisitInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: VisitReportOutputSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"], url_path="report-visit")
    def report_visit(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_object()
        serializer = VisitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attrs = serializer.validated_data
        petitioner = petitioners_visible_to(actor).filter(pk=attrs["petitioner_id"]).first()
        if petitioner is None:
            raise exceptions.ValidationError({"petitioner_id": [_("No such petitioner.")]})
        notified = report_visit_to_case_center(
            actor=actor,
            case=case,
            petitioner=petitioner,
            channel=attrs["channel"],
            headcount=attrs["headcount"],
            notes=attrs["notes"],
            submission_key=submission_key(request, "visit-report", actor.pk, case.pk),
        )
        data = VisitReportOutputSerializer({"notified": notified, "center": case.center}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Answer on the spot and close",
        description="One-stop answer: a simple enquiry answered and closed at the desk.",
        request=AnswerInputSerializer,
        responses={
            200: CaseDetailSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_object()
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer_on_spot(
            actor=actor,
            case=case,
            answer=serializer.validated_data["answer"],
            expected_version=serializer.validated_data.get("expected_version"),
        )
        updated = self._detail(case.pk)
        return Response(CaseDetailSerializer(updated, context=self.get_serializer_context()).data)

    @extend_schema(
        methods=["GET"],
        summary="A case's attachments",
        responses={200: AttachmentSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an attachment",
        description="Multipart upload. Executables and unlisted file types are refused.",
        request={"multipart/form-data": AttachmentInputSerializer},
        responses={201: AttachmentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request: Request, pk: int) -> Response:
        actor = actor_of(request)
        case = self.get_object()
        if request.method == "GET":
            rows = case.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
            return Response(AttachmentSerializer(rows, many=True).data)
        serializer = AttachmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = add_attachment(
            actor=actor,
            case=case,
            kind=serializer.validated_data["kind"],
            upload=serializer.validated_data["file"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)
