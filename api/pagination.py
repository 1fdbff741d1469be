"""Cursor (keyset) pagination for the case list.

A page is ``{"next": <url or null>, "results": [...]}``. The cursor names the ordering and the last row's sort
value and id, so a page costs the same whatever page it is, and rows changed while a force system pages through
move to the end instead of being skipped: page ``?updated_since=...&ordering=changed_at`` until ``next`` is null,
and keep the last row's ``changed_at`` for the next sync.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections import OrderedDict
from typing import Any

from django.db.models import F, Field, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

ORDERINGS = ("changed_at", "-changed_at", "next_due", "-next_due")
DEFAULT_ORDERING = "changed_at"
# The stored column each ordering sorts by (cases/derived.py keeps them), indexed as (force|cps_area, column, id):
# the access gate's force = X (or cps_area = X) and the cursor make a page one index range read in order.
SORT_FIELDS = {"changed_at": "changed_at", "next_due": "next_due_on"}
# ``next_due_on`` is NULL for a case without an open deadline; such cases sort after every date, as this date
# would, and the cursor carries this date for them (so cursors look as they always have).
NO_DUE_DATE = datetime.date(9999, 12, 31)


def _bad(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


def _row(*expressions: Any) -> Func:
    """``ROW(a, b)``: PostgreSQL reads ``ROW(col, id) > ROW(%s, %s)`` as one range of an index on (col, id)."""
    return Func(*expressions, function="ROW", output_field=Field())


def _after(field: str, value: Any, pk: int, descending: bool) -> Any:
    """Rows strictly after (value, pk) in the order ``field, pk`` (both reversed when descending), among rows
    whose ``field`` is not NULL."""
    lookup = LessThan if descending else GreaterThan
    return lookup(_row(F(field), F("pk")), _row(Value(value), Value(pk)))


class CaseCursorPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"

    def _ordering(self, request: Any) -> str:
        ordering = request.query_params.get(self.ordering_query_param) or DEFAULT_ORDERING
        if ordering not in ORDERINGS:
            raise _bad(self.ordering_query_param, f"Choose one of: {', '.join(ORDERINGS)}.")
        return ordering

    def _page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise _bad(self.page_size_query_param, f"Give a whole number from 1 to {self.max_page_size}.")
        return int(raw)

    def _decode(self, raw: str, ordering: str) -> tuple[Any, int]:
        """The cursor's sort value (None for "no open deadline") and id."""
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
            if data["o"] != ordering:
                raise _bad(self.cursor_query_param, "This cursor belongs to another ordering.")
            pk = int(data["id"])
            if ordering.lstrip("-") == "changed_at":
                value = parse_datetime(data["v"])
                if value is None or value.tzinfo is None:
                    raise ValueError
            else:
                value = datetime.date.fromisoformat(data["v"])
                if value == NO_DUE_DATE:
                    value = None
        except exceptions.ValidationError:
            raise
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, json.JSONDecodeError) as exc:
            raise _bad(self.cursor_query_param, "Invalid cursor: use the 'next' link as given.") from exc
        return value, pk

    @staticmethod
    def _encode(ordering: str, value: Any, pk: int) -> str:
        if value is None:
            value = NO_DUE_DATE
        raw = json.dumps({"o": ordering, "v": value.isoformat(), "id": pk}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _order(field: str, descending: bool) -> list[Any]:
        """``field, id``, NULLs (no open deadline) last ascending and first descending: the index order, read
        forwards or backwards."""
        if descending:
            return [F(field).desc(nulls_first=True), F("pk").desc()]
        return [F(field).asc(nulls_last=True), F("pk").asc()]

    def _page_after_cursor(
        self, qs: QuerySet, field: str, value: Any, pk: int, descending: bool, size: int
    ) -> QuerySet:
        """The rows after the cursor. Within the dates it is one index range (``ROW(field, id) > ROW(v, id)``).
        Across the boundary between the dates and the NULLs (ascending from a date, or descending from a NULL)
        the rows are the rest of one group then the start of the other: each part is read off the index up to
        the page size, and the page is taken from their ids (one statement)."""
        if value is not None and (descending or field != "next_due_on"):
            return qs.filter(_after(field, value, pk, descending))
        if value is None:  # in the NULLs: only the (unique) id orders them
            rest = qs.filter(**{f"{field}__isnull": True, f"pk__{'lt' if descending else 'gt'}": pk})
            if not descending:
                return rest
            start = qs.filter(**{f"{field}__isnull": False})
        else:  # ascending from a date: the later dates, then the NULLs
            rest = qs.filter(_after(field, value, pk, descending))
            start = qs.filter(**{f"{field}__isnull": True})
        order = self._order(field, descending)
        ids = (
            rest.order_by(*order).values("pk")[: size + 1]
            .union(start.order_by(*order).values("pk")[: size + 1], all=True)
        )  # fmt: skip
        return qs.filter(pk__in=ids)

    def paginate_queryset(self, queryset: QuerySet, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        self.ordering = ordering = self._ordering(request)
        size = self._page_size(request)
        field = SORT_FIELDS[ordering.lstrip("-")]
        descending = ordering.startswith("-")
        qs = queryset
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor:
            value, pk = self._decode(raw_cursor, ordering)
            qs = self._page_after_cursor(qs, field, value, pk, descending, size)
        rows = list(qs.order_by(*self._order(field, descending))[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_cursor = (
            self._encode(ordering, getattr(rows[-1], field), rows[-1].pk) if self.has_next else None
        )
        return rows

    def get_next_link(self) -> str | None:
        if not self.next_cursor:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.ordering_query_param, self.ordering)
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(OrderedDict([("next", self.get_next_link()), ("results", data)]))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Cases per page (1 to {self.max_page_size}, default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": "`changed_at` (default: oldest change first, for syncing), `next_due` (earliest "
                "open deadline first; cases without one last), or either reversed with `-`.",
                "schema": {"type": "string", "enum": list(ORDERINGS)},
            },
        ]
