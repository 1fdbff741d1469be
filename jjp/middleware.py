"""Project middleware."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` and ``Pragma: no-cache`` on every answer to a signed-in user and on every API
    answer, so that no browser, proxy or shared computer keeps a copy of a page with case data (a victim's
    details, an export). A view that sets its own ``Cache-Control`` keeps it (the calendar feed, ``never_cache``
    pages), and so do static files (WhiteNoise sets theirs; no user is attached to those requests)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is down or restarting, answer 503 with a Retry-After (JSON for the API) instead of a 500,
    and drop the broken connection so the next request reconnects by itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response(request, exception)


def unavailable_response(request: HttpRequest, exception: BaseException | None) -> HttpResponse | None:
    """A 503 for a database outage, or None for any other error."""
    if not isinstance(exception, (OperationalError, InterfaceError)) or _is_query_error(exception):
        return None
    log.warning("database unavailable: %s", exception)
    for conn in connections.all():
        conn.close_if_unusable_or_obsolete()
    message = "The service is briefly unavailable. Try again in a moment; nothing you sent was saved."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"errors": [{"field": None, "message": message}]}, status=503)
    else:
        response = HttpResponse(
            f"<!DOCTYPE html><html lang=en-GB><title>Service unavailable</title><h1>Service unavailable</h1>"
            f"<p>{message}</p></html>",
            status=503,
        )
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage anywhere in the request (a middleware's session or user load included)
    becomes the 503 above; anything else is the ordinary 500 page."""
    response = unavailable_response(request, sys.exc_info()[1])
    if response is not None:
        return response
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)


def _is_query_error(exc: DatabaseError) -> bool:
    """An OperationalError raised by a bad query (e.g. a lock timeout) is not an outage."""
    cause = getattr(exc, "__cause__", None)
    pgcode = getattr(cause, "pgcode", None)
    return bool(pgcode) and not str(pgcode).startswith(("08", "57P"))
