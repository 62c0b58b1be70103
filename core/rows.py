"""Serializer fields for list endpoints that read ``.values()`` rows (issue 21).

A page of a list endpoint is read with ``QuerySet.values(...)``: a dict per row, no model
instance built, no related objects attached. Its serializer is a plain DRF ``Serializer`` whose
fields name the dict keys as their ``source`` (``source="case__number"`` reads
``row["case__number"]``); DRF's own fields then write each value as they would from a model.
Two things DRF has no field for are here:

- :class:`ChoiceLabelField`, the label of a choice value (what ``get_FOO_display`` gives), from a
  ``{value: label}`` map built once per serializer, that is once per request and language;
- :class:`RowObjectField`, a nested object made of some of the row's keys
  (``{"id": row["center_id"], "name": row["center__name"]}``).

The documented response of such an endpoint stays the model serializer it always was (the
OpenAPI schema does not change); each app's tests check that both write the same JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.encoding import force_str
from rest_framework import serializers


class ChoiceLabelField(serializers.CharField):
    """The label of the choice value under ``source`` (an unknown value is written as it is,
    as ``get_FOO_display`` does)."""

    def __init__(self, choices: Iterable[tuple[Any, Any]], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.choices = list(choices)
        self._labels: dict[Any, str] | None = None

    def to_representation(self, value: Any) -> str:
        labels = self._labels
        if labels is None:
            # once per serializer: labels are lazy translations, each str() a catalogue look-up
            labels = self._labels = {key: force_str(label) for key, label in self.choices}
        return labels.get(value, str(value))


class RowObjectField(serializers.Field):  # type: ignore[type-arg]
    """An object of the row's own keys: ``RowObjectField({"id": "center_id", "name":
    "center__name"})`` writes ``{"id": row["center_id"], "name": row["center__name"]}``. For
    relations that cannot be null (a null one would be written as an object of nulls)."""

    def __init__(self, keys: Mapping[str, str], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)
        self.keys = dict(keys)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {name: value[key] for name, key in self.keys.items()}
