"""OpenAPI schema rules that hold project-wide, so clients and fuzzers can rely on the schema.

- Request components are separate from response components (COMPONENT_SPLIT_REQUEST), so a
  required string that refuses blanks states ``minLength: 1`` where it is sent, without claiming
  that a stored blank can never come back.
- Every integer a client sends states its ``minimum`` and ``maximum``: the serializer's bounds,
  or for a field without them, the range of the PostgreSQL integer column it ends up in (the
  serializers enforce the same bounds; tests/test_hardening.py checks the schema for gaps).
- Choices are enums (drf-spectacular's default).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from .filters import BIGINT_MAX


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            isinstance(field, serializers.PrimaryKeyRelatedField)
            and schema.get("type") == "integer"
        ):
            # An id: anything outside the id column is "not found" (400), as is 0.
            schema.setdefault("minimum", 1)
            schema.setdefault("maximum", BIGINT_MAX)
        return schema


def postprocess_input_bounds(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Integer path parameters are row ids (``<int:pk>``): state the id column's range."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", BIGINT_MAX)
    return result
