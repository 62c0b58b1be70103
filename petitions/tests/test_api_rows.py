"""The case list API reads a page as .values() rows (CaseListRowSerializer, core.rows) while its
documented response stays CaseListSerializer: both must write the same JSON, in every language."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from petitions.api.serializers import CaseListRowSerializer, CaseListSerializer
from petitions.api.views import ViewOrderedCursorPagination
from petitions.models import Case
from petitions.selectors import case_list_for
from petitions.states import CaseState
from petitions.testing import make_petitioner, register
from routing.services import DepartmentDue, assign_case

CASES = "/api/v1/cases/"
ORDER = ("-registered_at", "-id")


def _world(cast):
    reception = cast["reception"]
    plain = register(reception).case
    flagged = register(
        reception,
        petitioner=make_petitioner(reception, name="<b>李四</b>", phone="13900000000"),
        is_major_urgent=True,
        is_safety_risk=True,
        is_skip_level=True,
        headcount=3,
        request='请求"依法"处理 & <script>',
    ).case

    handling = register(reception).case
    assign_case(
        actor=cast["triage"],
        case=handling,
        lead=DepartmentDue(cast["police"].department, timezone.now() + timedelta(days=30)),
    )
    handling.refresh_from_db()
    assert handling.state == CaseState.ASSIGNED
    return plain, flagged, handling


def test_the_row_serializer_has_the_documented_fields_in_their_order():
    assert list(CaseListRowSerializer().fields) == list(CaseListSerializer.Meta.fields)


def test_rows_write_what_the_model_serializer_writes_in_each_language(cast):
    from django.utils import translation

    plain, flagged, handling = _world(cast)
    supervisor = cast["supervisor"]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            rows = case_list_for(supervisor).order_by(*ORDER).values(*CaseListRowSerializer.COLUMNS)
            models = case_list_for(supervisor).order_by(*ORDER)
            fast = CaseListRowSerializer(rows, many=True).data
            assert fast == CaseListSerializer(models, many=True).data
            assert [r["id"] for r in fast] == [handling.pk, flagged.pk, plain.pk]
            labels = {r["id"]: r["state_label"] for r in fast}
            assert labels[handling.pk] == str(CaseState.ASSIGNED.label)
            assert labels[plain.pk] == str(CaseState.REGISTERED.label)
            if language == "zh-hans":
                assert labels[plain.pk] != "Registered"
    row = next(r for r in fast if r["id"] == flagged.pk)
    assert row["main_petitioner"]["name"] == "<b>李四</b>"
    assert row["headcount"] == 3 and row["is_major_urgent"] and row["is_skip_level"]
    assert row["next_due_at"] is not None and row["registered_at"].endswith(("Z", "+08:00"))


def test_the_api_page_is_the_model_serializers_json(cast, monkeypatch):
    monkeypatch.setattr(ViewOrderedCursorPagination, "page_size", 2)
    _world(cast)
    reception = cast["reception"]
    client = APIClient()
    client.force_authenticate(reception)
    body = client.get(CASES).json()
    models = list(case_list_for(reception).order_by(*ORDER)[:2])
    assert body["results"] == CaseListSerializer(models, many=True).data
    assert len(body["results"]) == 2 and body["next"]
    rest = client.get(body["next"]).json()["results"]
    assert [r["id"] for r in rest] == [c.pk for c in case_list_for(reception).order_by(*ORDER)[2:4]]
    assert Case.objects.count() == 3
