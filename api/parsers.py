"""The API's JSON parser: refuses a body nested deeper than ``JJP_API_MAX_JSON_DEPTH`` before it is decoded.

Python's JSON decoder recurses once per array or object, so a body such as ``[[[[...]]]]`` a thousand levels deep
raises ``RecursionError`` inside the decoder: a 500 on every write endpoint. The depth is counted first on the raw
bytes (the brackets outside strings), and a body over the limit is refused
with 400 in the API's error shape without ever reaching the decoder.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

DEFAULT_MAX_DEPTH = 64

# A JSON string, with its escapes: removed first, so that brackets inside strings are not counted.
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_OPENING = frozenset(b"[{")


def max_depth() -> int:
    """The deepest nesting the API accepts (read per request, so ``override_settings`` works)."""
    return int(getattr(settings, "JJP_API_MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH))


def nesting_exceeds(raw: bytes, limit: int) -> bool:
    """True when the arrays and objects in ``raw`` nest deeper than ``limit``. Brackets inside strings do not
    count. The strings are cut out and the other bytes dropped in C (``re.sub``, ``bytes.translate``), so only the
    brackets are walked in Python: a 2.9 MB body of 400,000 brackets takes about 0.13 s, as long as decoding it. A
    malformed body is left to the decoder, which reports it."""
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser behind a nesting check."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        limit = max_depth()
        if nesting_exceeds(raw, limit):
            raise exceptions.ParseError(
                f"The JSON body is nested more than {limit} levels deep; no request to this API needs that many."
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
