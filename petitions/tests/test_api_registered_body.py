"""POST /api/v1/cases/ writes its 201 body with petitions.api.serializers.registered_case_body
(a dict from the objects in memory) while the documented response stays CaseRegisteredSerializer:
both must write the same JSON, in every language, for a new case, a repeated submission, and a
viewer who may or may not act on the case."""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.utils import translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from petitions.api.serializers import CaseRegisteredSerializer, registered_case_body
from petitions.models import Case
from petitions.services import FieldDifference, Registration
from petitions.testing import make_petitioner, register
from petitions.tests.test_api import intake_body

CASES = "/api/v1/cases/"


def _json(data: object) -> object:
    return json.loads(JSONRenderer().render(data))


def _both(case: Case, user, registration: Registration, differences: list[FieldDifference]):
    context = {
        "request": SimpleNamespace(user=user),
        "registration": registration,
        "differences": differences,
    }
    documented = _json(CaseRegisteredSerializer(case, context=context).data)
    plain = _json(
        registered_case_body(case, user=user, registration=registration, differences=differences)
    )
    return documented, plain


def test_the_plain_body_has_the_documented_fields_in_their_order(cast):
    registration = register(cast["reception"])
    body = registered_case_body(
        registration.case, user=cast["reception"], registration=registration, differences=[]
    )
    assert list(body) == list(CaseRegisteredSerializer.Meta.fields)


def test_the_plain_body_writes_what_the_serializer_writes_in_each_language(cast, reference_data):
    reception = cast["reception"]
    main = make_petitioner(reception, name="<b>李四</b>", phone="13900000000")
    rep = make_petitioner(reception, name="王五", phone="")
    registration = register(
        reception,
        petitioner=main,
        representatives=[rep],
        headcount=3,
        is_major_urgent=True,
        request='请求"依法"处理 & <script>',
        facts_reasons="事实\n理由",
    )
    registration.warnings.append("a warning")
    differences = [
        FieldDifference(
            petitioner_id=main.pk,
            name=main.name,
            field="phone",
            label="phone",
            on_file="139****0000",
            typed="138****5678",
        )
    ]
    case = registration.case
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for viewer in (reception, cast["supervisor"], cast["triage"]):
                documented, plain = _both(case, viewer, registration, differences)
                assert plain == documented
            documented, plain = _both(case, reception, registration, [])
            assert plain == documented
    # Hand-checked values, so that both writing the same wrong thing fails too.
    assert plain["state"] == "registered" and plain["headcount"] == 3
    assert [p["petitioner"]["name"] for p in plain["petitioners"]] == ["<b>李四</b>", "王五"]
    assert plain["warnings"] == ["a warning"] and plain["differences"] == []
    assert plain["registered_by"] == reception.username and plain["attachments"] == []
    assert plain["registered_at"].endswith("+08:00") or plain["registered_at"].endswith("Z")


def test_the_api_201_and_the_repeat_200_are_the_documented_json(cast):
    reception = cast["reception"]
    client = APIClient()
    client.force_authenticate(reception)
    payload = intake_body()
    first = client.post(CASES, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-registered-body")
    assert first.status_code == 201, first.content
    body = first.json()
    case = Case.objects.get(pk=body["id"])
    registration = Registration(case=case, query_code=body["query_code"], created=True)
    documented, _plain = _both(case, reception, registration, [])
    assert body == documented
    again = client.post(CASES, payload, format="json", HTTP_IDEMPOTENCY_KEY="k-registered-body")
    assert again.status_code == 200
    repeated = again.json()
    assert repeated["id"] == body["id"] and repeated["query_code"] is None
    assert {k: v for k, v in repeated.items() if k != "query_code"} == {
        k: v for k, v in body.items() if k != "query_code"
    }
