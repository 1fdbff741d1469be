"""The joint performance figures as JSON: ``/governance/api/metrics/`` (aliased at ``/api/v1/metrics/``).

The same figures as the page and the CSV, read from the stored figures (refreshed by a beat task), limited to
the rows the caller may see (``metrics.rows_allowed_for``). Query parameters ``start`` and ``end`` are months
(YYYY-MM); the default is the twelve months to this one. ``figures_as_of`` says when they were computed; while
they are being prepared for the first time the answer is a 503 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import ApiView, error_responses
from api.errors import ErrorSerializer, error, to_api_exception

from .. import views


class MetricsView(ApiView):
    """Joint police-CPS performance figures for each force and CPS Area by month, pilot sites against the rest,
    and England and Wales (SQL aggregates; no case-level data). An API endpoint like the others: the same
    authentication, rate limits and error shape."""

    @extend_schema(
        operation_id="metrics_list",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.STR, description="First month, YYYY-MM."),
            OpenApiParameter("end", OpenApiTypes.STR, description="Last month, YYYY-MM (at most 36 months)."),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The figures: period, metrics and rows."),
            **error_responses(400, 401),
            403: OpenApiResponse(ErrorSerializer, description="Not allowed to see performance figures."),
            **error_responses(429),
            503: OpenApiResponse(
                ErrorSerializer, description="The figures are being prepared for the first time; retry later."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        if not request.user.has_perm("governance.view_performance"):
            raise PermissionDenied(
                "Performance figures are for supervisors, legal managers, panel members and administrators."
            )
        try:
            report = views.visible_report(request._request)
        except ValidationError as exc:
            raise to_api_exception(exc) from exc  # 400, each message under its parameter (start, end)
        except views.FiguresNotReady:
            return Response({"errors": [error(views.PREPARING)]}, status=503, headers={"Retry-After": "60"})
        data: dict[str, Any] = views.report_as_json(report)
        return Response(data)
