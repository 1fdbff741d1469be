"""Case endpoints: list, read, upsert by URN, bulk upsert, and the case steps owned by the cases app (police
outcome, offence, first qualifying report, progress to court). Thin: reads start from
``Case.objects.visible_to``, writes call one service."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from cases import access_log, kernel, ledger, services
from cases.filters import CaseFilterSet
from cases.models import Case, Offence, OffenceType

from . import upsert
from .base import (
    ETAG_HEADER,
    FORCE_PARAMETER,
    IF_MATCH,
    READ_ERRORS,
    URN_PARAMETER,
    ApiMixin,
    ApiView,
    CaseStepView,
    _tags,
    check_if_match,
    error_responses,
    find_case,
    represent,
    snapshot,
    step_schema,
)
from .errors import error_items, flatten, to_api_exception
from .fields import normalise_urn, valid_id
from .pagination import CaseCursorPagination
from .queries import with_representation
from .serializers import (
    BulkRequestSerializer,
    BulkResponseSerializer,
    CaseBulkItemSerializer,
    CaseSerializer,
    CaseWriteSerializer,
    OffenceAddInputSerializer,
    OffencePeopleInputSerializer,
    OffenceTypeSerializer,
    PoliceOutcomeInputSerializer,
    ProgressInputSerializer,
    QualifyingReportInputSerializer,
)
from .throttling import BulkThrottle

TAG = "cases"
RESULT_HEADER = OpenApiParameter(
    "X-JJP-Result",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["created", "updated", "unchanged"],
    description="What the upsert did.",
    response=[200, 201],
)


def refuse_empty_parameters(request: Request, names: Any) -> None:
    """400 for a query parameter sent with nothing in it (``?updated_since=``): a filter left empty would
    silently match everything, so a sync that lost its last value would fetch every case instead of failing."""
    empty = {
        key: ["Give a value, or leave the parameter out."]
        for key in names
        if key in request.query_params and not all(v.strip() for v in request.query_params.getlist(key))
    }
    if empty:
        raise exceptions.ValidationError(empty)


@extend_schema(exclude=True)
class ApiNotFoundView(ApiView):
    """Any path under /api/v1/ that names no endpoint: 404 in the API's error shape, whoever asks."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("No such endpoint: see /api/docs/.")


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_list",
        summary="List the cases you can see",
        description="The cases the caller may see (the same access gate as the web pages), with their offences, "
        "flags, deadlines and CPS decisions. Cursor-paginated: follow `next`. To sync, page through "
        "`?updated_since=<last changed_at>&ordering=changed_at`.",
        tags=[TAG],
        responses={200: CaseSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
)
class CaseListView(ApiMixin, generics.ListAPIView):
    serializer_class = CaseSerializer
    pagination_class = CaseCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilterSet
    _page: list[Case] | None = None

    def get_queryset(self) -> Any:
        return with_representation(Case.objects.visible_to(self.request.user))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_empty_parameters(request, [*CaseFilterSet.base_filters, "ordering", "page_size", "cursor"])
        with snapshot():  # each case on the page and its related rows as of one moment
            response = super().list(request, *args, **kwargs)
        # One read-log row for this page if it shows restricted cases (the cases are loaded: no query otherwise).
        access_log.record_listed(request, self._page or [], access_log.AccessLog.What.CASE_LISTED)
        return response

    def paginate_queryset(self, queryset: Any) -> Any:
        self._page = super().paginate_queryset(queryset)
        return self._page

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": ledger.london_today()}


@extend_schema_view(
    get=extend_schema(
        operation_id="offence_types_list",
        summary="List the offence codes",
        description="The offence table: every code a client may send as `offence_type`, with its title, statute, "
        "mode of trial and statutory time-limit regime. Reference data, the same for every force; not paginated.",
        tags=["reference"],
        responses={200: OffenceTypeSerializer(many=True), **error_responses(401, 429)},
    )
)
class OffenceTypeListView(ApiMixin, generics.ListAPIView):
    serializer_class = OffenceTypeSerializer
    pagination_class = None
    queryset = OffenceType.objects.order_by("code")


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_read",
        summary="Read a case",
        description="One case by URN, with its ETag. Send `If-None-Match` with the ETag to get 304 when unchanged.",
        tags=[TAG],
        parameters=[URN_PARAMETER, FORCE_PARAMETER, ETAG_HEADER],
        responses={
            200: CaseSerializer,
            304: OpenApiResponse(description="Not modified since the ETag in If-None-Match."),
            **error_responses(*READ_ERRORS),
        },
    ),
    put=extend_schema(
        operation_id="cases_upsert",
        summary="Create or update a case of your force by URN",
        description="Idempotent. A new URN opens a case (201) with its 21-day investigation clock and time "
        "limits. On an existing case, in one transaction: the case's details are corrected through `case_update` "
        "(summary, risk level and tool, children in the household, the domestic abuse flag before charge, the "
        "date reported while under investigation; the deadlines they drive are recomputed), new offences are "
        "added and an earlier first qualifying report is recorded (200, `X-JJP-Result: updated`); a body that "
        "matches changes nothing (200, `unchanged`); any other difference is refused field by field (400), a "
        "correction the case's stage does not allow with 409, and then nothing is written. Fields left out are "
        "left as they are. `If-Match` makes the write conditional; `If-None-Match: *` makes it create-only.",
        tags=[TAG],
        request=CaseWriteSerializer,
        parameters=[URN_PARAMETER, IF_MATCH, ETAG_HEADER, RESULT_HEADER],
        responses={
            200: CaseSerializer,
            201: CaseSerializer,
            **error_responses(400, 401, 403, 409, 412, 413, 429),
        },
    ),
)
class CaseDetailView(ApiView):
    def get(self, request: Request, urn: str) -> Response:
        with snapshot():  # the case and its related rows as of one moment: the ETag names the body sent
            case = find_case(request, urn)
            data, etag = represent(request, case.pk)
        if etag.strip('"') in _tags(request.headers.get("If-None-Match", "")):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        access_log.record_case_read(request, case, access_log.AccessLog.What.CASE_API_READ)
        return Response(data, headers={"ETag": etag})

    def put(self, request: Request, urn: str) -> Response:
        key = normalise_urn(urn, new=True)
        if key is None:
            raise exceptions.ValidationError(
                {"urn": ["A URN is 1 to 20 letters, digits, dots, hyphens or underscores."]}
            )
        serializer = CaseWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        body_urn = data.pop("urn", None)
        if body_urn is not None and body_urn.strip().upper() != key:
            raise exceptions.ValidationError(
                {"urn": [f"The body names URN {body_urn!r} but the path {key!r}."]}
            )
        with kernel.request_cache():
            case, outcome = upsert.case_upsert(
                actor=request.user, urn=key, data=data, precondition=lambda c: check_if_match(request, c)
            )
        with snapshot():
            body, etag = represent(request, case.pk)
        return Response(
            body,
            status=status.HTTP_201_CREATED if outcome == upsert.CREATED else status.HTTP_200_OK,
            headers={"ETag": etag, "X-JJP-Result": outcome},
        )


MAX_BULK = 500


@extend_schema_view(
    post=extend_schema(
        operation_id="cases_bulk_upsert",
        summary="Create or update up to 500 cases",
        description="Each record is upserted as `PUT /api/v1/cases/{urn}/` would, in its own transaction: a "
        "bad record fails alone and the others go ahead. The answer has one result per record, in order.",
        tags=[TAG],
        request=BulkRequestSerializer,
        responses={200: BulkResponseSerializer, **error_responses(400, 401, 403, 413, 429)},
    )
)
class CaseBulkView(ApiView):
    throttle_classes = [BulkThrottle]

    def post(self, request: Request) -> Response:
        body = request.data
        records = body.get("cases") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            raise exceptions.ValidationError({"cases": ['Send {"cases": [...]} with 1 to 500 cases.']})
        if len(records) > MAX_BULK:
            raise exceptions.ValidationError(
                {"cases": [f"At most {MAX_BULK} cases per request; this one has {len(records)}."]}
            )
        if not request.user.has_perm("cases.create_case"):
            raise exceptions.PermissionDenied("Only a police force's users and systems create cases.")
        urns = [r["urn"] for r in records if isinstance(r, dict) and isinstance(r.get("urn"), str)]
        seen = upsert.urns_seen(request.user, filter(None, (normalise_urn(u, new=True) for u in urns)))
        # The rules, the offence table and the lexicon read once for the request, not once per record.
        with kernel.request_cache():
            results = [self._one(request, i, record, seen) for i, record in enumerate(records)]
        counts = {
            k: sum(1 for r in results if r["result"] == k)
            for k in ("created", "updated", "unchanged", "failed")
        }
        return Response({**counts, "results": results})

    def _one(self, request: Request, index: int, record: Any, seen: set[str]) -> dict[str, Any]:
        urn = record.get("urn") if isinstance(record, dict) and isinstance(record.get("urn"), str) else None

        def failed(code: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
            return {"index": index, "urn": urn, "result": "failed", "status": code, "errors": errors}

        serializer = CaseBulkItemSerializer(data=record)
        if not serializer.is_valid():
            return failed(400, list(flatten(serializer.errors)))
        data = dict(serializer.validated_data)
        key = normalise_urn(data.pop("urn"), new=True)
        if key is None:
            return failed(
                400,
                [
                    {
                        "field": "urn",
                        "message": "A URN is 1 to 20 letters, digits, dots, hyphens or underscores.",
                    }
                ],
            )
        urn = key
        try:  # each record is its own transaction (see case_upsert): a failure undoes only this record
            _, outcome = upsert.case_upsert(
                actor=request.user, urn=key, data=data, known_absent=key not in seen
            )
        except Exception as exc:
            api_exc = exc if isinstance(exc, exceptions.APIException) else to_api_exception(exc)
            if api_exc is None:
                raise
            return failed(api_exc.status_code, error_items(api_exc))
        code = 201 if outcome == upsert.CREATED else 200
        return {"index": index, "urn": key, "result": outcome, "status": code, "errors": []}


# -- case steps ----------------------------------------------------------------------------------------------


@extend_schema_view(
    post=step_schema(
        operation_id="cases_police_outcome",
        summary="Record no further action or an out-of-court resolution by police",
        description="Calls `case_record_police_outcome`: before a referral or while an action plan is with "
        "police. Stops the investigation clock, cancels the others and opens the Victims' Code update clocks.",
        request=PoliceOutcomeInputSerializer,
        tag=TAG,
        status=200,
    )
)
class PoliceOutcomeView(CaseStepView):
    input_serializer = PoliceOutcomeInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Case:
        return services.case_record_police_outcome(actor=request.user, case=case, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="cases_offence_add",
        summary="Add an offence",
        description="Calls `offence_add`: opens the offence's statutory time limit clock where one applies.",
        request=OffenceAddInputSerializer,
        tag=TAG,
    )
)
class OffenceAddView(CaseStepView):
    input_serializer = OffenceAddInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Offence:
        data["offence_type"] = data["offence_type"].strip().upper()
        data.update(_case_people(case, data))
        return services.offence_add(actor=request.user, case=case, **data)


def _case_people(case: Case, data: dict[str, Any]) -> dict[str, Any]:
    """The victim and suspect an offence names by id, found among this case's (400 naming the field if not)."""
    people: dict[str, Any] = {}
    for field, related in (("complainant", case.victims), ("suspect", case.suspects)):
        if field not in data:
            continue
        pk = data[field]
        people[field] = None if pk is None else (related.filter(pk=pk).first() if valid_id(pk) else None)
        if pk is not None and people[field] is None:
            raise exceptions.ValidationError({field: [f"This case has no {field} with that id."]})
    return people


@extend_schema_view(
    post=step_schema(
        operation_id="cases_qualifying_report",
        summary="Record the first witness statement or video-recorded interview",
        description="Calls `case_record_qualifying_report` (CJA 1988 s.39A): the time limits are recomputed. Only "
        "an earlier report can replace one already recorded.",
        request=QualifyingReportInputSerializer,
        tag=TAG,
        status=200,
    )
)
class QualifyingReportView(CaseStepView):
    input_serializer = QualifyingReportInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        return upsert.legacy_report_record(actor=request.user, case=case, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="cases_offence_people",
        summary="Name an offence's complainant and suspect",
        description="Calls `offence_people_set`: the complainant is a victim of the case, the suspect a suspect of "
        "the case (null clears either). A common assault's time limit depends on them (CJA 1988 s.39A applies "
        "only with the complainant's own statement or VRI, both 16 or over and personally connected), so the "
        "case's limits are recomputed; `offences[].stl_due_on` and `stl_basis` show the result.",
        request=OffencePeopleInputSerializer,
        tag=TAG,
        status=200,
        parameters=[OpenApiParameter("offence_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
)
class OffencePeopleView(CaseStepView):
    input_serializer = OffencePeopleInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Offence:
        offence_id = kwargs["offence_id"]
        offence = case.offences.filter(pk=offence_id).first() if valid_id(offence_id) else None
        if offence is None:
            raise exceptions.NotFound("This case has no offence with that id.")
        return services.offence_people_set(actor=request.user, offence=offence, **_case_people(case, data))


@extend_schema_view(
    post=step_schema(
        operation_id="cases_progress",
        summary="Move a charged case to court, or conclude it",
        description="Calls `case_progress`.",
        request=ProgressInputSerializer,
        tag=TAG,
        status=200,
    )
)
class ProgressView(CaseStepView):
    input_serializer = ProgressInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Case:
        return services.case_progress(actor=request.user, case=case, **data)
