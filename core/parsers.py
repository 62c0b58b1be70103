"""A JSON parser that refuses hostile bodies (too deep or too large) with a 400 before the
standard library sees them. Its own module: DRF imports the default parser classes while
rest_framework.views loads, so nothing here may import views."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.utils import json

# Nesting deeper than this is refused. Our deepest request (intake: case → representatives →
# a petitioner's fields) is four levels; 32 leaves room while staying far below the recursion
# limit of json.loads and of the serializers that walk the result.
DEFAULT_JSON_MAX_DEPTH = 32

# A JSON string (with escapes), or any one bracket. Strings are matched first so that brackets
# inside them are skipped.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether ``text`` nests arrays/objects deeper than ``limit``: one linear scan, no recursion
    (so it cannot itself overflow the stack on '[' × 100,000)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


class SafeJSONParser(parsers.JSONParser):
    """JSONParser with a body-size cap (DATA_UPLOAD_MAX_MEMORY_SIZE, which DRF's streaming read
    would otherwise bypass) and a nesting-depth cap (API_JSON_MAX_DEPTH). Both answer 400."""

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)  # type: ignore[attr-defined]
        if stream is None:
            raise exceptions.ParseError(_("The request body is empty."))
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise exceptions.ParseError(
                _("The request body is too large (at most %(n)d bytes).") % {"n": limit}
            )
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeError, LookupError) as exc:
            raise exceptions.ParseError(
                _("The request body is not valid %(encoding)s text.") % {"encoding": encoding}
            ) from exc
        max_depth = getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_JSON_MAX_DEPTH)
        if json_depth_exceeds(text, max_depth):
            raise exceptions.ParseError(
                _("The JSON body nests too deeply (at most %(n)d levels).") % {"n": max_depth}
            )
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(
                _("The body is not valid JSON: %(error)s") % {"error": exc}
            ) from exc
