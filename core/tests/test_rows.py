"""core.rows: the fields of list serializers that read .values() rows."""

from __future__ import annotations

from django.utils import translation
from rest_framework import serializers

from core.rows import ChoiceLabelField, RowObjectField
from petitions.states import CaseState


class _Row(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.CharField()
    state_label = ChoiceLabelField(CaseState.choices, source="state")
    center = RowObjectField({"id": "center_id", "name": "center__name"})


ROWS = [
    {"state": "closed", "center_id": 7, "center__name": "市联合接访中心"},
    {"state": "no-such-state", "center_id": 8, "center__name": "<b>"},
]


def test_labels_in_the_active_language_and_unknown_values_as_they_are():
    with translation.override("en"):
        en = _Row(ROWS, many=True).data
    with translation.override("zh-hans"):
        zh = _Row(ROWS, many=True).data
        closed = str(CaseState.CLOSED.label)
    assert en[0]["state_label"] == "Closed"
    assert zh[0]["state_label"] == closed and closed != "Closed"
    assert en[1]["state_label"] == zh[1]["state_label"] == "no-such-state"
    assert en[1]["center"] == {"id": 8, "name": "<b>"}


def test_the_label_map_is_built_once_per_serializer(monkeypatch):
    built = []
    real = ChoiceLabelField.to_representation

    def counting(self, value):
        if self._labels is None:
            built.append(value)
        return real(self, value)

    monkeypatch.setattr(ChoiceLabelField, "to_representation", counting)
    data = _Row(ROWS * 10, many=True).data
    assert len(data) == 20 and len(built) == 1
