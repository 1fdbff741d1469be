"""The OpenAPI schema: the committed copy (docs/openapi.yaml) is the one the code generates, and the live API
keeps to it under schemathesis (no server errors; status codes, content types, headers and bodies as documented)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jjp.wsgi import application
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# About 35 operations, 3 examples each: ~100 requests in well under a minute. Set JJP_API_FUZZ_EXAMPLES to dig deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("JJP_API_FUZZ_EXAMPLES", "3"))
NEGATIVE = bool(os.environ.get("JJP_API_FUZZ_NEGATIVE"))  # also send input the schema forbids


def test_committed_schema_is_the_generated_one():
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    assert COMMITTED.read_text() == out.getvalue(), (
        "docs/openapi.yaml is stale: run `python manage.py spectacular --file docs/openapi.yaml` and commit it"
    )


def test_schema_and_documentation_pages_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/cases/{urn}/" in schema.content
    for page in ("/api/docs/", "/api/redoc/"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html, page
        assert "cdn." not in html and "unpkg" not in html, page


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Calling the WSGI app directly (not through Django's test client) would close the database connection at
    the end of each request, and with it the test's transaction: keep it open, as the test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _fuzz(operation, path_parameters, headers, failures, mode=GenerationMode.POSITIVE):
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    def run(case):
        # A NUL in Django's session cookie fails in pghistory's middleware before any API code runs (reported;
        # the fix is a session engine that refuses malformed keys): keep fuzzing the cookie, without NULs.
        cookies = {k: v for k, v in case.cookies.items() if "\x00" not in str(v)}
        response = case.call(headers=headers, cookies=cookies)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:  # collect every failure, then report them together
            failures.append(f"{operation.label}: {str(exc)[:3000]}")

    run()


def test_live_api_conforms_to_its_schema(api_a, client_a, oic_a, wsgi_keeps_the_test_connection, settings):
    """Fuzz every operation with a write client of force A, half the time on a real case of its force."""
    if EXAMPLES_PER_OPERATION > 3:  # a deep run: do not let the rate limits hide the answers
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                "jjp_read": "100000/min",
                "jjp_write": "100000/min",
                "jjp_bulk": "100000/min",
            },
        }
    case = CaseFactory(actor=oic_a, urn="FUZZ-1")
    headers = {"Authorization": api_a._credentials["HTTP_AUTHORIZATION"]}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for (
        operation
    ) in operations:  # a real case where the path names one: the other URNs are 404s, tested elsewhere
        _fuzz(operation, {"urn": case.urn} if "{urn}" in operation.path else None, headers, failures)
    if NEGATIVE:
        for operation in operations:
            _fuzz(
                operation,
                {"urn": case.urn} if "{urn}" in operation.path else None,
                headers,
                failures,
                GenerationMode.NEGATIVE,
            )
    assert not failures, "\n\n".join(failures[:10])
    assert EXAMPLES_PER_OPERATION > 3 or time.monotonic() - started < 60
