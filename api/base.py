"""What every endpoint shares: authentication, scope, throttling, the error shape, finding a case through the
access gate, its representation and version (ETag / If-Match), and the shape of a step endpoint (one per
state change, calling the same service as the web form)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.db import models, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import ledger
from cases.models import Case

from .authentication import BearerTokenAuthentication
from .errors import ErrorSerializer, PayloadTooLarge, PreconditionFailed, api_exception_handler
from .fields import URN_RE, normalise_urn
from .parsers import DepthLimitedJSONParser
from .permissions import ClientScopePermission
from .queries import case_for_representation
from .serializers import CaseSerializer, StepResultSerializer, etag_for
from .throttling import ReadThrottle, WriteThrottle


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """Read in one consistent snapshot: a read-only REPEATABLE READ transaction, so every statement (the case,
    then its offences, suspects, clocks, ... by prefetch) sees the database as of the first one, and a write
    committing in between is either wholly in the representation or wholly out of it. Inside a transaction
    already (a test's, or a caller's), it reads in that one."""
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with conn.cursor() as cursor:  # must be the transaction's first statement
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def refuse_oversized(request: Request) -> None:
    """413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, from its Content-Length, before anything else (even
    authentication) happens. Django's own check, when the body is read, raises ``RequestDataTooBig``, which the
    error handler turns into the same 413."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise PayloadTooLarge()


class ApiMixin:
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, ClientScopePermission]
    throttle_classes = [ReadThrottle, WriteThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [DepthLimitedJSONParser]  # refuses deeply nested bodies before decoding them

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        refuse_oversized(request)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class ApiView(ApiMixin, APIView):
    pass


# -- finding a case ------------------------------------------------------------------------------------------


def find_case(request: Request, urn: str, *, lock: bool = False) -> Case:
    """The case with this URN among those the caller may see (404 otherwise, whoever owns it). A URN is
    unique within a force only: when the caller sees cases of several forces with this URN, ``?force=CODE``
    picks one (400 until it does)."""
    key = normalise_urn(urn)
    if key is None:
        raise exceptions.NotFound("No case with this URN among the cases you can see.")
    qs = Case.objects.visible_to(request.user).filter(urn=key)
    force = (request.query_params.get("force") or "").strip().upper()
    if force:
        if not (force.isalnum() and len(force) <= 10):
            raise exceptions.ValidationError({"force": ["Give a force code such as GMP."]})
        qs = qs.filter(force__code=force)
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = list(qs.select_related("force").order_by("force__code")[:10])
    if not found:
        raise exceptions.NotFound(f"No case {key} among the cases you can see.")
    if len(found) > 1:
        codes = ", ".join(c.force.code for c in found)
        raise exceptions.ValidationError(
            {
                "force": [
                    f"URN {key} matches cases of several forces ({codes}); add ?force=CODE to choose one."
                ]
            }
        )
    return found[0]


def represent(request: Request, case_pk: int) -> tuple[dict[str, Any], str]:
    """The case as the API shows it, and its version (ETag)."""
    case = case_for_representation(request.user, case_pk)
    data = CaseSerializer(case, context={"request": request, "today": ledger.london_today()}).data
    return data, etag_for(data)


def _tags(header: str) -> set[str]:
    tags = set()
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        tags.add(part.strip('"'))
    return tags - {""}


def check_if_match(request: Request, case: Case | None) -> None:
    """Refuse with 412 (and the current representation) when ``If-Match`` names another version, or
    ``If-None-Match: *`` is sent for a case that exists. Without these headers, writes are not conditional."""
    if_match = request.headers.get("If-Match", "")
    if_none_match = request.headers.get("If-None-Match", "")
    if case is None:
        if if_match:
            raise PreconditionFailed(current=None, etag=None, detail="There is no such case to match.")
        return
    if not if_match and "*" not in _tags(if_none_match):
        return
    data, etag = represent(request, case.pk)
    if "*" in _tags(if_none_match):
        raise PreconditionFailed(
            current=data, etag=etag, detail="The case already exists (If-None-Match: *)."
        )
    tags = _tags(if_match)
    if "*" not in tags and etag.strip('"') not in tags:
        raise PreconditionFailed(
            current=data, etag=etag, detail="The case has changed since the version named in If-Match."
        )


# -- schema helpers ------------------------------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    400: "Bad input: field paths and messages.",
    401: "No token, or an unknown, expired or revoked one.",
    403: "A read-only client writing, or a step the caller's role may not take.",
    404: "No such case among those the caller may see.",
    409: "Not allowed at the case's current stage.",
    412: "If-Match names a version that is no longer current; `current` is the case as it now is.",
    413: "The body is larger than the API accepts.",
    429: "Too many requests; see Retry-After.",
}


class PreconditionFailedSerializer(ErrorSerializer):
    current = CaseSerializer(allow_null=True, help_text="The case as it now is (null if there is none).")


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(
            PreconditionFailedSerializer if code == 412 else ErrorSerializer,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }


READ_ERRORS = (400, 401, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 412, 413, 429)

ETAG_HEADER = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Version of the case.", response=[200, 201]
)
FORCE_PARAMETER = OpenApiParameter(
    "force",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Force code, needed only when the URN matches cases of several forces you can see.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you last saw: the write is refused with 412 if the case has changed since.",
)
URN_PARAMETER = OpenApiParameter(
    "urn",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The case's URN (unique within its force): 1 to 20 letters, digits, dots, hyphens or underscores.",
    pattern=URN_RE.pattern,
)


# -- step endpoints ------------------------------------------------------------------------------------------


class CaseStepView(ApiView):
    """``POST /api/v1/cases/{urn}/<step>/``: one state change through its service. The case is found through
    the access gate and locked, ``If-Match`` is honoured, and the answer is the id of the row concerned and the
    case as it now is (with its new ETag)."""

    input_serializer: ClassVar[type[serializers.Serializer]]
    success_status: ClassVar[int] = 201

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> models.Model:
        raise NotImplementedError

    def post(self, request: Request, urn: str, **kwargs: Any) -> Response:
        with transaction.atomic():
            case = find_case(request, urn, lock=True)
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            check_if_match(request, case)
            obj = self.perform(request, case, dict(serializer.validated_data), **kwargs)
        with snapshot():
            data, etag = represent(request, case.pk)
        return Response({"id": obj.pk, "case": data}, status=self.success_status, headers={"ETag": etag})


def step_schema(
    *,
    operation_id: str,
    summary: str,
    description: str,
    request: type[serializers.Serializer],
    tag: str,
    status: int = 201,
    parameters: list[OpenApiParameter] | None = None,
) -> Any:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=[tag],
        request=request,
        parameters=[URN_PARAMETER, FORCE_PARAMETER, IF_MATCH, ETAG_HEADER, *(parameters or [])],
        responses={
            status: OpenApiResponse(StepResultSerializer, description="Done: the row's id and the case now."),
            **error_responses(*WRITE_ERRORS),
        },
    )
