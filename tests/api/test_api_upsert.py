"""Writing cases: the idempotent upsert by URN, the bulk upsert (a result per record, a bad record fails alone),
conditional writes with ETag / If-Match (412 with the current version), and the one error shape."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from cases.models import Case, CaseEvent, Clock
from tests.api.conftest import Api
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


def body(**changes):
    return {
        "reported_on": "2026-02-20",
        "offences": [{"offence_type": "CJA88-39", "committed_on": "2026-02-19"}],
        "suspects": [{"given_name": "Sam", "family_name": "Smith", "pnc_id": "12/345678A"}],
        "risk_level": "high",
        "risk_tool": "dash",
        **changes,
    }


def put(api, urn, data, **headers):
    return api.put(f"/api/v1/cases/{urn}/", data, format="json", **headers)


def test_put_opens_a_case_for_the_clients_force(api_a, force_a):
    response = put(api_a, "up-1", body())
    assert response.status_code == 201, response.content
    assert response["X-JJP-Result"] == "created" and response["ETag"]
    data = response.json()
    assert data["urn"] == "UP-1" and data["force"] == "GMP" and data["risk_level"] == "high"
    case = Case.objects.get(urn="UP-1")
    assert case.force == force_a
    assert set(case.clocks.values_list("kind", flat=True)) == {"investigation", "stl"}
    assert CaseEvent.objects.filter(case=case, kind="case_created").exists()


def test_put_twice_changes_nothing_the_second_time(api_a):
    first = put(api_a, "UP-2", body())
    second = put(api_a, "UP-2", body())
    assert second.status_code == 200 and second["X-JJP-Result"] == "unchanged"
    assert second["ETag"] == first["ETag"]
    assert Case.objects.filter(urn="UP-2").count() == 1
    assert CaseEvent.objects.filter(case__urn="UP-2").count() == 1


def test_put_adds_a_new_offence_through_its_service(api_a):
    put(api_a, "UP-3", body())
    offences = [*body()["offences"], {"offence_type": "CA03-127", "committed_on": "2026-02-18"}]
    response = put(api_a, "UP-3", body(offences=offences))
    assert response.status_code == 200 and response["X-JJP-Result"] == "updated"
    assert [o["offence_type"] for o in response.json()["offences"]] == ["CA03-127", "CJA88-39"]
    assert Clock.objects.filter(case__urn="UP-3", kind="stl").count() == 2
    assert CaseEvent.objects.filter(case__urn="UP-3", kind="offence_added").count() == 1
    assert put(api_a, "UP-3", body(offences=offences))["X-JJP-Result"] == "unchanged"


def test_put_records_an_earlier_first_qualifying_report(api_a):
    put(api_a, "UP-4", body(first_qualifying_report_on="2026-02-25", first_qualifying_report_kind="vri"))
    response = put(
        api_a, "UP-4", body(first_qualifying_report_on="2026-02-21", first_qualifying_report_kind="vri")
    )
    assert response.status_code == 200 and response.json()["first_qualifying_report_on"] == "2026-02-21"
    later = put(
        api_a, "UP-4", body(first_qualifying_report_on="2026-02-27", first_qualifying_report_kind="vri")
    )
    assert later.status_code == 400
    assert later.json()["errors"][0]["field"] == "first_qualifying_report_on"


def test_put_refuses_changes_no_service_makes_and_writes_nothing(api_a):
    put(api_a, "UP-5", body())
    before = put(api_a, "UP-5", body())["ETag"]
    response = put(
        api_a,
        "UP-5",
        body(
            risk_level="standard",
            police_perpetrated=True,
            offences=[{"offence_type": "OAPA-47", "committed_on": "2026-02-19"}],
        ),
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"police_perpetrated", "offences"}
    assert all(e["message"] for e in response.json()["errors"])
    after = put(api_a, "UP-5", body())
    assert after["X-JJP-Result"] == "unchanged" and after["ETag"] == before
    assert Case.objects.get(urn="UP-5").offences.count() == 1
    assert Case.objects.get(urn="UP-5").risk_level == "high"


# -- corrections (case_update) ---------------------------------------------------------------------------------


def test_put_corrects_the_details_through_case_update(api_a):
    etag = put(api_a, "FIX-1", body())["ETag"]
    response = put(
        api_a,
        "FIX-1",
        body(risk_level="medium", summary="DASH reviewed.", children_in_household=True),
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert response["X-JJP-Result"] == "updated" and response["ETag"] != etag
    data = response.json()
    assert (data["risk_level"], data["summary"]) == ("medium", "DASH reviewed.")
    assert data["flags"]["children_in_household"] is True
    case = Case.objects.get(urn="FIX-1")
    event = CaseEvent.objects.get(case=case, kind="case_updated")
    assert set(event.data["changed"]) == {"risk_level", "summary", "children_in_household"}
    assert case.clocks.open().filter(kind="operation_encompass").exists()
    again = put(
        api_a, "FIX-1", body(risk_level="medium", summary="DASH reviewed.", children_in_household=True)
    )
    assert again["X-JJP-Result"] == "unchanged"


def test_put_moves_the_investigation_clock_with_the_date_reported(api_a):
    put(api_a, "FIX-2", body())
    due = Clock.objects.get(case__urn="FIX-2", kind="investigation").due_on
    response = put(api_a, "FIX-2", body(reported_on="2026-02-25"))
    assert response.status_code == 200, response.content
    case = Case.objects.get(urn="FIX-2")
    assert case.reported_on == datetime.date(2026, 2, 25)
    moved = case.clocks.open().get(kind="investigation")
    assert moved.due_on == due + datetime.timedelta(days=5)
    assert case.clocks.get(kind="investigation", state="superseded").due_on == due
    shown = {c["kind"]: c["due_on"] for c in response.json()["clocks"] if c["state"] != "superseded"}
    assert shown["investigation"] == moved.due_on.isoformat()


def test_put_moves_the_time_limits_with_the_domestic_abuse_flag(api_a):
    offences = [{"offence_type": "OAPA-47", "committed_on": "2026-02-19"}]
    put(api_a, "FIX-3", body(offences=offences))
    assert Clock.objects.filter(case__urn="FIX-3", kind="stl_common_assault", stopped_on=None).exists()
    response = put(api_a, "FIX-3", body(offences=offences, domestic_abuse=False))
    assert response.status_code == 200, response.content
    assert not Clock.objects.filter(case__urn="FIX-3", kind="stl_common_assault", stopped_on=None).exists()


def test_a_correction_not_allowed_at_this_stage_is_409_and_writes_nothing(api_a):
    put(api_a, "FIX-4", body())
    referred = api_a.post("/api/v1/cases/FIX-4/referrals/", {"received_on": "2026-03-02"}, format="json")
    assert referred.status_code == 201, referred.content
    before = api_a.get("/api/v1/cases/FIX-4/")["ETag"]
    response = put(api_a, "FIX-4", body(reported_on="2026-02-25", risk_level="medium"))
    assert response.status_code == 409, response.content
    assert "date reported" in response.json()["errors"][0]["message"]
    assert api_a.get("/api/v1/cases/FIX-4/")["ETag"] == before
    assert Case.objects.get(urn="FIX-4").risk_level == "high"
    # The risk level alone is still correctable once the case is with CPS.
    assert put(api_a, "FIX-4", body(risk_level="medium"))["X-JJP-Result"] == "updated"


def test_a_put_that_fails_half_way_leaves_nothing_half_saved(api_a):
    put(api_a, "FIX-5", body())
    before = api_a.get("/api/v1/cases/FIX-5/")["ETag"]
    offences = [*body()["offences"], {"offence_type": "CA03-127", "committed_on": "2026-02-23"}]
    # The correction goes first and succeeds; the new offence is after the corrected report date: refused.
    response = put(api_a, "FIX-5", body(risk_level="medium", reported_on="2026-02-21", offences=offences))
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "offences[1].committed_on"
    case = Case.objects.get(urn="FIX-5")
    assert (case.risk_level, case.reported_on) == ("high", datetime.date(2026, 2, 20))
    assert not CaseEvent.objects.filter(case=case, kind="case_updated").exists()
    assert api_a.get("/api/v1/cases/FIX-5/")["ETag"] == before


def test_a_correction_with_a_stale_if_match_is_412(api_a):
    etag = put(api_a, "FIX-6", body())["ETag"]
    assert put(api_a, "FIX-6", body(risk_level="medium"), HTTP_IF_MATCH=etag).status_code == 200
    stale = put(api_a, "FIX-6", body(risk_level="standard"), HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["current"]["risk_level"] == "medium"
    assert Case.objects.get(urn="FIX-6").risk_level == "medium"


def test_a_read_only_client_cannot_correct(api_a, api_a_read):
    put(api_a, "FIX-7", body())
    assert put(api_a_read, "FIX-7", body(risk_level="medium")).status_code == 403
    assert Case.objects.get(urn="FIX-7").risk_level == "high"


def test_fields_left_out_are_left_as_they_are(api_a):
    put(api_a, "UP-6", body())
    minimal = {"reported_on": "2026-02-20", "offences": body()["offences"]}
    response = put(api_a, "UP-6", minimal)
    assert response.status_code == 200 and response["X-JJP-Result"] == "unchanged"
    assert response.json()["risk_level"] == "high"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"offences": []}, "offences", "empty"),
        ({"reported_on": "20/02/2026"}, "reported_on", "format"),
        ({"reported_on": "1066-10-14"}, "reported_on", "1900"),
        ({"risk_level": "extreme"}, "risk_level", "valid choice"),
        ({"offences": [{"offence_type": "CJA88-39"}]}, "offences[0].committed_on", "required"),
        (
            {"offences": [{"offence_type": "CJA88-39", "committed_on": "2027-01-01"}]},
            "offences[0].committed_on",
            "future",
        ),
        (
            {"offences": [{"offence_type": "NOPE", "committed_on": "2026-02-19"}]},
            "offences[0].offence_type",
            "Unknown",
        ),
        ({"suspects": [{"given_name": "Sam"}]}, "suspects[0].family_name", "required"),
        ({"urn": "OTHER"}, "urn", "path"),
        ({"reported_on": "2026-03-05"}, "reported_on", "future"),
    ],
)
def test_bad_input_is_400_with_field_paths(api_a, data, field, words):
    response = put(api_a, "BAD-1", body(**data))
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    assert any(words.lower() in e["message"].lower() for e in errors if e["field"] == field), errors
    assert not Case.objects.filter(urn="BAD-1").exists()


def test_a_body_that_is_not_an_object_is_400(api_a):
    response = api_a.put("/api/v1/cases/BAD-2/", [1, 2], format="json")
    assert response.status_code == 400
    malformed = api_a.generic("PUT", "/api/v1/cases/BAD-2/", "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] is None


def test_an_invalid_urn_is_400(api_a):
    response = put(api_a, "A" * 21, body())
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "urn"


def test_another_force_putting_the_same_urn_opens_its_own_case(api_a, api_b):
    put(api_a, "SAME-1", body())
    response = put(api_b, "SAME-1", body(risk_level="standard"))
    assert response.status_code == 201 and response.json()["force"] == "WYP"
    assert Case.objects.get(urn="SAME-1", force__code="GMP").risk_level == "high"


def test_cps_cannot_upsert_cases(client, prosecutor_a):
    client.force_login(prosecutor_a)
    response = client.put("/api/v1/cases/CPS-1/", body(), content_type="application/json")
    assert response.status_code == 403
    assert not Case.objects.filter(urn="CPS-1").exists()


# -- ETag and If-Match -----------------------------------------------------------------------------------------


def test_a_stale_if_match_is_412_with_the_current_version(api_a):
    etag = put(api_a, "ETAG-1", body())["ETag"]
    offences = [*body()["offences"], {"offence_type": "CA03-127", "committed_on": "2026-02-18"}]
    changed = put(api_a, "ETAG-1", body(offences=offences), HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # A second system still holding the old version is refused, with the current one to merge with.
    stale = put(api_a, "ETAG-1", body(offences=[*offences, body()["offences"][0]]), HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale["ETag"] == changed["ETag"]
    assert stale.json()["current"]["offences"] == changed.json()["offences"]
    assert stale.json()["errors"][0]["field"] is None
    assert Case.objects.get(urn="ETAG-1").offences.count() == 2


def test_if_match_on_a_step_endpoint(api_a, oic_a):
    case = CaseFactory(actor=oic_a, urn="ETAG-2")
    etag = api_a.get("/api/v1/cases/ETAG-2/")["ETag"]
    refer = {"received_on": "2026-03-02"}
    stale = api_a.post("/api/v1/cases/ETAG-2/referrals/", refer, format="json", HTTP_IF_MATCH='"0000"')
    assert stale.status_code == 412 and not case.referrals.exists()
    ok = api_a.post("/api/v1/cases/ETAG-2/referrals/", refer, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 201 and case.referrals.count() == 1


def test_if_none_match_star_creates_only(api_a):
    assert put(api_a, "ONLY-1", body(), HTTP_IF_NONE_MATCH="*").status_code == 201
    again = put(api_a, "ONLY-1", body(), HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 412 and again.json()["current"]["urn"] == "ONLY-1"


def test_if_match_for_a_case_that_does_not_exist_is_412(api_a):
    response = put(api_a, "GHOST-1", body(), HTTP_IF_MATCH='"abc"')
    assert response.status_code == 412 and response.json()["current"] is None
    assert not Case.objects.filter(urn="GHOST-1").exists()


# -- bulk ------------------------------------------------------------------------------------------------------


def test_bulk_upsert_gives_a_result_per_record_and_a_bad_record_fails_alone(api_a):
    put(api_a, "BULK-OLD", body())
    records = [
        {**body(), "urn": "BULK-1"},
        {**body(), "urn": "BULK-OLD"},
        {**body(offences=[{"offence_type": "CJA88-39", "committed_on": "2027-01-01"}]), "urn": "BULK-BAD"},
        {"urn": "BULK-SHAPE", "offences": "none"},
        "not an object",
        {**body(police_perpetrated=True), "urn": "BULK-OLD"},
        {**body(), "urn": "BULK-2"},
    ]
    response = api_a.post("/api/v1/cases/bulk/", {"cases": records}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["created"], data["updated"], data["unchanged"], data["failed"]) == (2, 0, 1, 4)
    results = data["results"]
    assert [(r["index"], r["result"], r["status"]) for r in results] == [
        (0, "created", 201),
        (1, "unchanged", 200),
        (2, "failed", 400),
        (3, "failed", 400),
        (4, "failed", 400),
        (5, "failed", 400),
        (6, "created", 201),
    ]
    assert results[2]["errors"][0]["field"] == "offences[0].committed_on"
    assert {e["field"] for e in results[3]["errors"]} == {"reported_on", "offences"}
    assert results[5]["errors"][0]["field"] == "police_perpetrated"
    assert set(Case.objects.filter(urn__startswith="BULK").values_list("urn", flat=True)) == {
        "BULK-OLD",
        "BULK-1",
        "BULK-2",
    }
    assert Case.objects.get(urn="BULK-OLD").risk_level == "high"


def test_bulk_is_limited_to_500_records(api_a):
    response = api_a.post(
        "/api/v1/cases/bulk/", {"cases": [{**body(), "urn": f"B{n}"} for n in range(501)]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "cases", "message": "At most 500 cases per request; this one has 501."}
    ]
    assert not Case.objects.filter(urn="B0").exists()
    assert api_a.post("/api/v1/cases/bulk/", {"cases": []}, format="json").status_code == 400
    assert api_a.post("/api/v1/cases/bulk/", [], format="json").status_code == 400


def test_bulk_is_refused_to_cps(prosecutor_a):
    api = Api()
    api.force_login(prosecutor_a)
    response = api.post("/api/v1/cases/bulk/", {"cases": [{**body(), "urn": "CPS-2"}]}, format="json")
    assert response.status_code == 403
