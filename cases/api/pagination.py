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

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .queries import changed_at_expr, next_due_expr

ORDERINGS = ("changed_at", "-changed_at", "next_due", "-next_due")
DEFAULT_ORDERING = "changed_at"
SORT_EXPRESSIONS = {"changed_at": changed_at_expr, "next_due": next_due_expr}


def _bad(field: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


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
        except exceptions.ValidationError:
            raise
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, json.JSONDecodeError) as exc:
            raise _bad(self.cursor_query_param, "Invalid cursor: use the 'next' link as given.") from exc
        return value, pk

    @staticmethod
    def _encode(ordering: str, value: Any, pk: int) -> str:
        raw = json.dumps({"o": ordering, "v": value.isoformat(), "id": pk}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def paginate_queryset(self, queryset: QuerySet, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        self.ordering = ordering = self._ordering(request)
        size = self._page_size(request)
        field = ordering.lstrip("-")
        descending = ordering.startswith("-")
        if field in queryset.query.annotations:  # the representation's queryset already computes changed_at
            key, qs = field, queryset
        else:
            key = f"sort_{field}"
            qs = queryset.annotate(**{key: SORT_EXPRESSIONS[field]()})
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor:
            value, pk = self._decode(raw_cursor, ordering)
            op = "lt" if descending else "gt"
            qs = qs.filter(Q(**{f"{key}__{op}": value}) | Q(**{key: value, f"pk__{op}": pk}))
        sign = "-" if descending else ""
        rows = list(qs.order_by(f"{sign}{key}", f"{sign}pk")[: size + 1])
        self.has_next = len(rows) > size
        rows = rows[:size]
        self.next_cursor = (
            self._encode(ordering, getattr(rows[-1], key), rows[-1].pk) if self.has_next else None
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
