"""One error shape for the whole API, and the exception handler that produces it.

Every refusal is ``{"errors": [{"field": "offences[0].committed_on", "message": "..."}]}`` (``field`` is null
when the error is about the request as a whole). Services raise Django's ``ValidationError`` with keys that are
already field paths (``offences[0].committed_on``); serializer errors are flattened to the same paths.

| status | when |
| --- | --- |
| 400 | bad input (shape, types, or a service's ``ValidationError``) |
| 401 | no token, an unknown, expired or revoked token |
| 403 | a read-only client writing, or a step the caller's role may not take |
| 404 | no such case among those the caller may see (another force's case is a 404, never a 403) |
| 409 | the step is not allowed at the case's current stage (``TransitionError``) or conflicts with stored data |
| 412 | ``If-Match`` names a version that is no longer current (the body carries the current one) |
| 413 | the body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` |
| 429 | too many requests (``Retry-After`` says when to try again) |
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from cases.kernel import TransitionError

log = logging.getLogger(__name__)


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="Path of the input field at fault, e.g. offences[0].committed_on; null if none.",
    )
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape of this API."""

    errors = ErrorItemSerializer(many=True)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the case."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    """``If-Match`` did not match the current version: the response carries the current representation."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The case has changed since the version named in If-Match."
    default_code = "precondition_failed"

    def __init__(self, *, current: Any, etag: str | None, detail: str | None = None) -> None:
        super().__init__(detail)
        self.current = current
        self.etag = etag


class PayloadTooLarge(exceptions.APIException):
    """The body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: refused before it is read."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f" ({limit:,} bytes)" if limit else ""
        super().__init__(
            f"The request body is larger than this API accepts{size}; for many cases, send several bulk requests."
        )


def error(message: str, field: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": str(message)}


def _join(prefix: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    if key in ("non_field_errors", "__all__"):
        return prefix
    return f"{prefix}.{key}" if prefix else str(key)


def flatten(detail: Any, prefix: str = "") -> Iterator[dict[str, Any]]:
    """DRF error detail (nested dicts and lists) -> [{field, message}] with paths like ``offences[0].on``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, str) and key.isdigit():
                key = int(key)
            yield from flatten(value, _join(prefix, key))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield error(item, prefix or None)
        else:  # a list serializer: one entry per item, empty for the valid ones
            for i, item in enumerate(detail):
                if item:
                    yield from flatten(item, _join(prefix, i))
    else:
        yield error(str(detail), prefix or None)


def service_errors(
    exc: DjangoValidationError, *, rename: dict[str, str] | None = None, prefix: str = ""
) -> list:
    """A service's ValidationError -> [{field, message}]. Its keys are already field paths; ``rename`` maps a
    service's argument name to the API field it came from, ``prefix`` puts it under a nested path."""
    rename = rename or {}
    items = []
    if hasattr(exc, "error_dict"):
        for key, messages in exc.message_dict.items():
            field = None if key == "__all__" else rename.get(key, key)
            if prefix:
                field = f"{prefix}.{field}" if field else prefix
            items.extend(error(m, field) for m in messages)
    else:
        items.extend(error(m, prefix or None) for m in exc.messages)
    return items


def to_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Translate the exceptions services and the database raise into API exceptions (None: not ours)."""
    if isinstance(exc, RequestDataTooBig):  # Django's check, when the body is read
        return PayloadTooLarge()
    if isinstance(exc, TransitionError):
        return Conflict(detail=" ".join(exc.messages))
    if isinstance(exc, DjangoValidationError):
        api_exc = exceptions.ValidationError()
        api_exc.detail = service_errors(exc)  # type: ignore[assignment]
        return api_exc
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, IntegrityError | DataError):  # input the validation let through: worth fixing there
        # One line, without a traceback: a refusal is not a fault (the exception handler skips Django's own line).
        log.warning("API request refused by the database: %s", str(exc).strip())
    if isinstance(exc, IntegrityError):
        return Conflict("The request conflicts with data already stored (a database constraint refused it).")
    if isinstance(exc, DataError):
        return exceptions.ValidationError({"non_field_errors": ["A value is too long or out of range."]})
    return None


def error_items(exc: exceptions.APIException) -> list[dict[str, Any]]:
    detail = exc.detail
    if isinstance(detail, list) and detail and all(isinstance(d, dict) and "message" in d for d in detail):
        return detail  # already in our shape (from service_errors)
    if isinstance(exc, exceptions.ValidationError):
        return list(flatten(detail)) or [error("Invalid input.")]
    if isinstance(detail, dict):
        return [error(m["message"], m.get("field")) for m in flatten(detail)]
    if isinstance(detail, list):
        return [error(str(d)) for d in detail]
    return [error(str(detail))]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every refusal in the one documented shape. Unexpected exceptions are left to
    Django (they are bugs to fix, and are logged there)."""
    refused_by_database = isinstance(exc, IntegrityError | DataError)
    if not isinstance(exc, exceptions.APIException):
        translated = to_api_exception(exc)
        if translated is None:
            return None
        exc = translated
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    body: dict[str, Any] = {"errors": error_items(exc)}
    if isinstance(exc, PreconditionFailed):
        body["current"] = exc.current
        if exc.etag:
            headers["ETag"] = exc.etag
    set_rollback()
    response = Response(body, status=exc.status_code, headers=headers)
    if refused_by_database:
        response._has_been_logged = True  # logged once above; Django's log_response leaves it alone
    return response
