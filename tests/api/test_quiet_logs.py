"""Quiet logs (issue 19): a 4xx is logged once and without a traceback; a 5xx keeps its traceback."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.test import RequestFactory
from django.utils.log import log_response


def _console():
    """The console handler LOGGING configures (the one that writes the service's log)."""
    handlers = [h for h in logging.getLogger().handlers if h.filters and isinstance(h, logging.StreamHandler)]
    assert handlers, "LOGGING's console handler carries the refusals filter"
    return handlers[0]


def _written(record: logging.LogRecord) -> str:
    console = _console()
    assert console.filter(record)
    return console.format(record)


def test_an_api_refusal_is_one_line_without_a_traceback(api_anonymous, caplog):
    with caplog.at_level(logging.INFO):
        response = api_anonymous.get("/api/v1/cases/")
    assert response.status_code == 401
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].getMessage() == "Unauthorized: /api/v1/cases/"
    assert "Traceback" not in _written(lines[0])


def test_a_permission_refusal_on_a_page_is_one_line_without_a_traceback(caplog):
    request = RequestFactory().get("/cases/1/")
    with caplog.at_level(logging.INFO):
        try:
            raise PermissionDenied("not yours")
        except PermissionDenied as exc:
            response = response_for_exception(request, exc)
        log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
    assert response.status_code == 403
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1  # Django's own second call is skipped: the response is already logged
    written = _written(lines[0])  # Django attaches the exception; the console's filter drops it
    assert written == "Forbidden (Permission denied): /cases/1/"
    assert lines[0].exc_info is None


def test_a_server_error_keeps_its_traceback(caplog):
    request = RequestFactory().get("/cases/1/")
    with caplog.at_level(logging.INFO):
        try:
            raise RuntimeError("a fault")
        except RuntimeError as exc:
            response = response_for_exception(request, exc)
    assert response.status_code == 500
    lines = [r for r in caplog.records if r.name == "django.request"]
    assert len(lines) == 1
    written = _written(lines[0])
    assert "Traceback" in written and "RuntimeError: a fault" in written
