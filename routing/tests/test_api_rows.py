"""The inbox API reads a page as .values() rows (InboxRowValuesSerializer, core.rows) while its
documented response stays InboxPageSerializer / InboxRowSerializer: both must write the same
JSON on every tab, in every language."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone, translation

from routing.api.serializers import (
    InboxCaseRowSerializer,
    InboxCaseSerializer,
    InboxPageRowsSerializer,
    InboxPageSerializer,
    InboxRowSerializer,
    InboxRowValuesSerializer,
)
from routing.api.views import InboxPagination
from routing.models import AssignmentState
from routing.selectors import INBOX_TABS, InboxFilters, inbox

from .test_api import API, client_for, police_inbox_cast


def test_the_row_serializers_have_the_documented_fields_in_their_order():
    assert list(InboxRowValuesSerializer().fields) == list(InboxRowSerializer().fields)
    assert list(InboxCaseRowSerializer().fields) == list(InboxCaseSerializer().fields)
    assert list(InboxPageRowsSerializer().fields) == list(InboxPageSerializer().fields)


def test_rows_write_what_the_model_serializer_writes_on_every_tab(org, cast):
    rows = police_inbox_cast(org, cast)
    police = cast["police"]
    now = timezone.now()
    seen = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for tab in INBOX_TABS:
                query = inbox(police, tab, InboxFilters(), "due", now)
                context = {"now": now}
                fast = InboxRowValuesSerializer(
                    query.values(*InboxRowValuesSerializer.COLUMNS), many=True, context=context
                ).data
                assert fast == InboxRowSerializer(query, many=True, context=context).data, tab
                seen |= {r["id"] for r in fast}
            returned = next(r for r in fast if r["id"] == rows["returned"].pk)
            assert returned["state"] == AssignmentState.RETURNED
            assert returned["state_label"] == str(AssignmentState.RETURNED.label)
            if language == "zh-hans":
                assert returned["state_label"] != "Returned"
                assert returned["case"]["state_label"] != returned["case"]["state"]
    # every one of police's four assignments was on some tab (the other department's was not)
    assert seen == {rows[k].pk for k in ("new", "soon", "mine", "returned")}


def test_the_api_page_is_the_model_serializers_json(org, cast, monkeypatch):
    monkeypatch.setattr(InboxPagination, "page_size", 1)
    police_inbox_cast(org, cast)
    later = timezone.now() + timedelta(days=3)  # "soon" is overdue, warning levels differ
    with time_machine.travel(later, tick=False):
        client = client_for(cast["police"])
        body = client.get(f"{API}/inbox/?tab=new").json()
        now = timezone.now()
        query = inbox(cast["police"], "new", InboxFilters(), "due", now)
        expected = InboxPageSerializer(
            {
                "tab": "new",
                "counts": body["counts"],
                "next": body["next"],
                "previous": None,
                "results": list(query[:1]),
            },
            context={"now": now},
        ).data
        assert body == expected
        assert body["results"][0]["warning_level"] == "overdue"
        assert body["results"][0]["days_remaining"] < 0
        second = client.get(body["next"]).json()["results"]
        assert [r["id"] for r in second] == [a.pk for a in query[1:2]]
