"""The one CSV writer of every export (dashboard lists, the case list, the joint performance figures, the read
log): streamed row by row, UTF-8 with a byte-order mark so spreadsheet programs read it, never cached, and every
cell neutralised against spreadsheet formulas (CSV injection, OWASP): a text cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is prefixed with an apostrophe. Dates are ISO days."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value as a CSV cell a spreadsheet will not run: ``'=cmd`` for ``=cmd``; a date as ``2026-03-02``."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download: the header, then each row, every cell through :func:`safe_cell`."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        yield writer.writerow([safe_cell(v) for v in header])
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
