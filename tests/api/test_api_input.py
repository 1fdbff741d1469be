"""Bad input (issue 21, second round): deeply nested JSON, bodies over the size limit, empty filters and
implausible dates are refused in the one documented error shape, on every route of the API schema."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from api.parsers import nesting_exceeds
from cases.models import Case, OffenceType, Role
from tests.api.test_api_gate import REQUESTS, world  # noqa: F401  (the fixture: force A's case with every id)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
DEEP = "[" * 10_000 + "]" * 10_000  # the decoder's recursion limit is about 1,000
WRITES = sorted(op for op in REQUESTS if op[0] != "get")


@pytest.fixture(autouse=True)
def production_like(settings):
    """DEBUG off, as in production (an unhandled error is the HTML 500 page, not a traceback)."""
    settings.DEBUG = False


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


def _path(template: str, ids: dict) -> str:
    return template.format(**ids)


def assert_error_shape(response, status: int) -> list[dict]:
    """The documented shape: JSON, {"errors": [{"field": ..., "message": ...}, ...]} and nothing else."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"]), body
    return body["errors"]


# -- nesting ---------------------------------------------------------------------------------------------------


def test_the_depth_scanner_counts_brackets_outside_strings_only():
    assert nesting_exceeds(b"[" * 65 + b"]" * 65, 64) and not nesting_exceeds(b"[" * 64 + b"]" * 64, 64)
    assert not nesting_exceeds(json.dumps({"a": "[[[[[[[[[[" * 50, "b": [[1]]}).encode(), 3)
    assert not nesting_exceeds(
        b'{"a": "\\"[[[[[[", "b": [[1]]}', 3
    )  # an escaped quote does not end the string
    assert nesting_exceeds(b'{"a": "\\"[[[", "b": [[[1]]]}', 3)


@pytest.mark.parametrize(("method", "template"), WRITES, ids=[f"{m} {t}" for m, t in WRITES])
def test_ten_thousand_levels_of_nesting_are_refused_with_400_on_every_write(api_a, world, method, template):  # noqa: F811
    """Before: every write answered 500 (an HTML page; RecursionError in the JSON decoder)."""
    api_a.raise_request_exception = False
    response = api_a.generic(method.upper(), _path(template, world), DEEP, content_type="application/json")
    errors = assert_error_shape(response, 400)
    assert errors == [
        {
            "field": None,
            "message": "The JSON body is nested more than 64 levels deep; no request to this API needs that many.",
        }
    ]
    assert Case.objects.count() == 1, "nothing written"


def test_the_depth_limit_is_a_setting_and_ordinary_bodies_pass(api_a, world, settings):  # noqa: F811
    body = {"offence_type": "CJA88-39", "committed_on": "2026-02-19"}  # one level: an object
    settings.JJP_API_MAX_JSON_DEPTH = 0
    response = api_a.post(f"/api/v1/cases/{world['urn']}/offences/", body, format="json")
    assert "nested more than 0 levels" in assert_error_shape(response, 400)[0]["message"]
    settings.JJP_API_MAX_JSON_DEPTH = 64
    assert api_a.post(f"/api/v1/cases/{world['urn']}/offences/", body, format="json").status_code == 201


# -- size ------------------------------------------------------------------------------------------------------


def test_a_5_mb_body_is_413_in_the_error_shape(api_a, world):  # noqa: F811
    """Before: an HTML 400 page (RequestDataTooBig)."""
    body = json.dumps({"reported_on": "2026-02-20", "summary": "x" * 5_000_000})
    response = api_a.put(f"/api/v1/cases/{world['urn']}/", body, content_type="application/json")
    errors = assert_error_shape(response, 413)
    assert (
        errors[0]["field"] is None
        and "larger than this API accepts (2,621,440 bytes)" in errors[0]["message"]
    )


@pytest.mark.parametrize(
    ("method", "template"), sorted(REQUESTS), ids=[f"{m} {t}" for m, t in sorted(REQUESTS)]
)
def test_every_route_answers_a_body_over_the_limit_with_413(api_a, world, settings, method, template):  # noqa: F811
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"padding": "x" * 20_000})
    response = api_a.generic(method.upper(), _path(template, world), body, content_type="application/json")
    assert_error_shape(response, 413)


@pytest.mark.parametrize(
    ("method", "template"), sorted(REQUESTS), ids=[f"{m} {t}" for m, t in sorted(REQUESTS)]
)
def test_every_route_refuses_a_missing_token_in_the_error_shape(api_anonymous, world, method, template):  # noqa: F811
    response = api_anonymous.generic(
        method.upper(), _path(template, world), "{}", content_type="application/json"
    )
    assert assert_error_shape(response, 401) == [
        {"field": None, "message": "Authentication credentials were not provided."}
    ]


def test_other_refusals_use_the_shape_too(api_a, world):  # noqa: F811
    assert_error_shape(api_a.delete(f"/api/v1/cases/{world['urn']}/"), 405)
    assert_error_shape(api_a.get("/api/v1/no-such-thing/"), 404)
    bad = api_a.generic("PUT", f"/api/v1/cases/{world['urn']}/", "{not json", content_type="application/json")
    assert assert_error_shape(bad, 400)[0]["message"].startswith("JSON parse error")
    assert_error_shape(api_a.post("/api/v1/cases/bulk/", "x=1", content_type="text/plain"), 415)


# -- query parameters and the metrics endpoint -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["updated_since", "due_before", "status", "ordering", "page_size", "cursor"])
def test_an_empty_filter_is_refused_not_ignored(api_a, world, name):  # noqa: F811
    """Before: ?updated_since= was accepted and listed every case (a sync that lost its stored value)."""
    errors = assert_error_shape(api_a.get("/api/v1/cases/", {name: ""}), 400)
    assert errors == [{"field": name, "message": "Give a value, or leave the parameter out."}]
    assert assert_error_shape(api_a.get("/api/v1/cases/", {name: "  "}), 400)[0]["field"] == name


def test_a_filter_with_a_value_still_works(api_a, world):  # noqa: F811
    response = api_a.get("/api/v1/cases/", {"updated_since": "2026-01-01T00:00:00Z"})
    assert response.status_code == 200 and [c["urn"] for c in response.json()["results"]] == [world["urn"]]


def test_metrics_refusals_use_the_shape(client, supervisor_a, settings):
    """Before: {"detail": "* start\\n  * Enter a valid date."}."""
    settings.JJP_REQUIRE_2FA = False
    client.force_login(supervisor_a)
    errors = assert_error_shape(client.get("/api/v1/metrics/", {"start": "bad"}), 400)
    assert errors == [{"field": "start", "message": "Enter a month, for example 2026-01."}]
    client.force_login(
        UserFactory(organisation=supervisor_a.organisation, roles=[Role.OIC], username="oic-m")
    )
    assert (
        "Performance figures are for" in assert_error_shape(client.get("/api/v1/metrics/"), 403)[0]["message"]
    )


# -- plausible dates -------------------------------------------------------------------------------------------


def _put(api, urn, **fields):
    body = {
        "reported_on": "2026-02-20",
        "offences": [{"offence_type": "CJA88-39", "committed_on": "2026-02-19"}],
    }
    body.update(fields)
    return api.put(f"/api/v1/cases/{urn}/", body, format="json")


def test_a_report_dated_1900_is_refused_with_a_clear_message(api_a, force_a):
    """Before: a case reported on 1 January 1900 was opened."""
    errors = assert_error_shape(_put(api_a, "OLD-1", reported_on="1900-01-01"), 400)
    assert errors == [
        {
            "field": "reported_on",
            "message": "01 January 1900 is before 01 January 1950, the earliest date accepted; check the year.",
        }
    ]
    assert not Case.objects.filter(urn="OLD-1").exists()


def test_every_event_date_has_the_lower_bound(api_a, world, force_a):  # noqa: F811
    offence = [{"offence_type": "CJA88-39", "committed_on": "1949-12-31"}]
    errors = assert_error_shape(_put(api_a, "OLD-2", reported_on="2026-02-20", offences=offence), 400)
    assert (
        errors[0]["field"] == "offences[0].committed_on" and "before 01 January 1950" in errors[0]["message"]
    )
    step = api_a.post(
        f"/api/v1/cases/{world['urn']}/offences/",
        {"offence_type": "CJA88-39", "committed_on": "1920-05-05"},
        format="json",
    )
    assert assert_error_shape(step, 400)[0]["field"] == "committed_on"
    # The first day allowed is allowed (the offence is before the report, so the report date is refused next).
    ok = _put(
        api_a,
        "OLD-3",
        reported_on="1950-01-01",
        offences=[{"offence_type": "CJA88-39", "committed_on": "1950-01-01"}],
    )
    assert ok.status_code == 201, ok.content


def test_the_bound_is_a_setting(api_a, force_a, settings):
    settings.JJP_EARLIEST_EVENT_DATE = datetime.date(2000, 1, 1)
    errors = assert_error_shape(_put(api_a, "OLD-4", reported_on="1999-12-31"), 400)
    assert (
        errors[0]["message"]
        == "31 December 1999 is before 01 January 2000, the earliest date accepted; check the year."
    )


def test_dates_of_birth_are_bounded_too(api_a, force_a):
    suspect = {"given_name": "A", "family_name": "B", "date_of_birth": "2026-03-03"}
    errors = assert_error_shape(_put(api_a, "DOB-1", suspects=[suspect]), 400)
    assert errors == [
        {
            "field": "suspects[0].date_of_birth",
            "message": "A date of birth of 03 March 2026 is in the future.",
        }
    ]
    suspect["date_of_birth"] = "1900-01-01"
    assert _put(api_a, "DOB-1", suspects=[suspect]).status_code == 201


def test_the_web_form_is_refused_by_the_same_check(client, oic_a, settings):
    settings.JJP_REQUIRE_2FA = False
    client.force_login(oic_a)
    data = {
        "urn": "WEB-OLD",
        "reported_on": "1900-01-01",
        "offence_type": OffenceType.objects.get(code="CJA88-39").pk,
        "committed_on": "1900-01-01",
        "suspect_given_name": "A",
        "suspect_family_name": "B",
        "risk_level": "high",
    }
    response = client.post(reverse("case_create"), data)
    assert response.status_code == 200
    assert "01 January 1900 is before 01 January 1950, the earliest date accepted; check the year." in (
        response.content.decode()
    )
    assert not Case.objects.filter(urn="WEB-OLD").exists()
