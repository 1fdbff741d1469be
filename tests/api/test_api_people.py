"""People and offences over the API: a force system names each offence's complainant and suspect, records a
victim's date of birth, own first qualifying report and relationship to each suspect, and reads each offence's
statutory time limit with the rule that gave it. An old client's case-level report is applied to the only victim,
refused where there are several, and kept unassigned (extending nothing) where there is none."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from cases.models import Case

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2025, 6, 10, 12, 0, tzinfo=LONDON), tick=False):
        yield


def _open(api, urn="PP-1", offences=2, suspects=None):
    body = {
        "reported_on": "2025-01-02",
        "offences": [{"offence_type": "CJA88-39", "committed_on": "2025-01-01"}] * offences,
        "suspects": suspects
        or [{"given_name": "Sam", "family_name": "Smith", "date_of_birth": "1990-05-01"}],
    }
    response = api.put(f"/api/v1/cases/{urn}/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _post(api, path, data, status=200):
    response = api.post(f"/api/v1/cases/{path}", data, format="json")
    assert response.status_code == status, response.content
    return response.json()


def _victim(api, urn, name, born="1990-05-01"):
    return _post(
        api,
        f"{urn}/victims/",
        {"given_name": name, "family_name": "Victim", "date_of_birth": born},
        status=201,
    )["id"]


def test_another_complainants_statement_does_not_extend_a_limit(api_a):
    case = _open(api_a)
    suspect = case["suspects"][0]["id"]
    first, second = (o["id"] for o in case["offences"])
    x, y = _victim(api_a, "PP-1", "Xena"), _victim(api_a, "PP-1", "Yusuf")
    for offence, victim in ((first, x), (second, y)):
        _post(api_a, f"PP-1/offences/{offence}/people/", {"complainant": victim, "suspect": suspect})
        _post(api_a, f"PP-1/victims/{victim}/relationships/", {"suspect": suspect, "relationship": "married"})
    result = _post(
        api_a,
        f"PP-1/victims/{x}/qualifying-report/",
        {"on": "2025-06-01", "kind": "witness_statement", "received_by": "PC 123"},
    )
    offences = {o["id"]: o for o in result["case"]["offences"]}
    assert offences[first]["complainant"] == x and offences[first]["suspect"] == suspect
    assert (offences[first]["stl_due_on"], offences[first]["stl_basis"]) == ("2025-12-01", "s39a")
    assert (offences[second]["stl_due_on"], offences[second]["stl_basis"]) == ("2025-07-01", "s127")
    victims = {v["id"]: v for v in api_a.get("/api/v1/cases/PP-1/victims/").json()}
    assert victims[x]["first_qualifying_report_on"] == "2025-06-01"
    assert victims[x]["first_qualifying_report_received_by"] == "PC 123"
    assert victims[y]["first_qualifying_report_on"] is None
    assert victims[x]["relationships"] == [
        {"suspect": suspect, "relationship": "married", "personally_connected": True}
    ]


def test_an_under_16_complainant_and_a_not_connected_one_keep_the_s127_date(api_a):
    case = _open(api_a, offences=1)
    suspect = case["suspects"][0]["id"]
    offence = case["offences"][0]["id"]
    victim = _victim(api_a, "PP-1", "Young", born="2009-06-01")
    _post(api_a, f"PP-1/victims/{victim}/relationships/", {"suspect": suspect, "relationship": "relatives"})
    result = _post(api_a, f"PP-1/victims/{victim}/qualifying-report/", {"on": "2025-06-01", "kind": "vri"})
    assert result["case"]["offences"][0]["complainant"] == victim  # the only victim
    assert (result["case"]["offences"][0]["stl_due_on"], result["case"]["offences"][0]["stl_basis"]) == (
        "2025-07-01",
        "s127",
    )
    result = _post(api_a, f"PP-1/victims/{victim}/date-of-birth/", {"date_of_birth": "2008-06-01"})
    assert result["case"]["offences"][0]["stl_due_on"] == "2025-12-01"
    result = _post(
        api_a, f"PP-1/victims/{victim}/relationships/", {"suspect": suspect, "relationship": "not_connected"}
    )
    assert (result["case"]["offences"][0]["stl_due_on"], result["case"]["offences"][0]["stl_basis"]) == (
        "2025-07-01",
        "s127",
    )
    assert offence == result["case"]["offences"][0]["id"]


def test_two_suspects_two_complainants_end_to_end(api_a):
    case = _open(
        api_a,
        offences=2,
        suspects=[
            {"given_name": "Alex", "family_name": "Partner", "date_of_birth": "1990-01-01"},
            {"given_name": "Chris", "family_name": "Friend", "date_of_birth": "1991-01-01"},
        ],
    )
    assert all(o["suspect"] is None for o in case["offences"])  # never guessed between two suspects
    partner, friend = (s["id"] for s in case["suspects"])
    first, second = (o["id"] for o in case["offences"])
    x, y = _victim(api_a, "PP-1", "Xena"), _victim(api_a, "PP-1", "Yusuf")
    _post(api_a, f"PP-1/offences/{first}/people/", {"complainant": x, "suspect": partner})
    _post(api_a, f"PP-1/offences/{second}/people/", {"complainant": y, "suspect": friend})
    _post(api_a, f"PP-1/victims/{x}/relationships/", {"suspect": partner, "relationship": "intimate"})
    _post(api_a, f"PP-1/victims/{y}/relationships/", {"suspect": friend, "relationship": "not_connected"})
    _post(api_a, f"PP-1/victims/{x}/qualifying-report/", {"on": "2025-06-01", "kind": "witness_statement"})
    result = _post(api_a, f"PP-1/victims/{y}/qualifying-report/", {"on": "2025-06-02", "kind": "vri"})
    got = {
        o["id"]: (o["complainant"], o["suspect"], o["stl_due_on"], o["stl_basis"])
        for o in result["case"]["offences"]
    }
    assert got == {first: (x, partner, "2025-12-01", "s39a"), second: (y, friend, "2025-07-01", "s127")}


def test_people_must_belong_to_the_case(api_a):
    case = _open(api_a, offences=1)
    _open(api_a, urn="PP-2", offences=1)
    stranger = _victim(api_a, "PP-2", "Stranger")
    offence = case["offences"][0]["id"]
    response = api_a.post(
        f"/api/v1/cases/PP-1/offences/{offence}/people/",
        {"complainant": stranger, "suspect": None},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "complainant"
    response = api_a.post(
        "/api/v1/cases/PP-1/offences/999999/people/", {"complainant": None, "suspect": None}, format="json"
    )
    assert response.status_code == 404
    victim = _victim(api_a, "PP-1", "Xena")
    response = api_a.post(
        f"/api/v1/cases/PP-1/victims/{victim}/date-of-birth/", {"date_of_birth": "2025-03-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "date_of_birth"


class TestAnOldClientsCaseLevelReport:
    def test_it_is_the_only_victims(self, api_a):
        _open(api_a, offences=1)
        victim = _victim(api_a, "PP-1", "Xena")
        response = _post(api_a, "PP-1/qualifying-report/", {"on": "2025-06-01", "kind": "witness_statement"})
        assert response["case"]["first_qualifying_report_on"] is None
        victims = api_a.get("/api/v1/cases/PP-1/victims/").json()
        assert [(v["id"], v["first_qualifying_report_on"]) for v in victims] == [(victim, "2025-06-01")]

    def test_it_is_refused_where_there_are_several_victims(self, api_a):
        _open(api_a, offences=1)
        _victim(api_a, "PP-1", "Xena")
        _victim(api_a, "PP-1", "Yusuf")
        response = api_a.post(
            "/api/v1/cases/PP-1/qualifying-report/", {"on": "2025-06-01", "kind": "vri"}, format="json"
        )
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["field"] == "on" and "several victims" in error["message"]
        body = {
            "reported_on": "2025-01-02",
            "offences": [{"offence_type": "CJA88-39", "committed_on": "2025-01-01"}],
            "suspects": [{"given_name": "Sam", "family_name": "Smith", "date_of_birth": "1990-05-01"}],
            "first_qualifying_report_on": "2025-06-01",
            "first_qualifying_report_kind": "vri",
        }
        response = api_a.put("/api/v1/cases/PP-1/", body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "first_qualifying_report_on"

    def test_with_no_victim_it_is_kept_unassigned_and_extends_nothing(self, api_a):
        _open(api_a, offences=1)
        result = _post(api_a, "PP-1/qualifying-report/", {"on": "2025-06-01", "kind": "vri"})
        assert result["case"]["first_qualifying_report_on"] == "2025-06-01"
        assert (result["case"]["offences"][0]["stl_due_on"], result["case"]["offences"][0]["stl_basis"]) == (
            "2025-07-01",
            "s127",
        )
        assert Case.objects.get(urn="PP-1").first_qualifying_report_on == datetime.date(2025, 6, 1)


def test_an_old_client_sending_the_same_case_level_report_again_changes_nothing(api_a):
    body = {
        "reported_on": "2025-01-02",
        "offences": [{"offence_type": "CJA88-39", "committed_on": "2025-01-01"}],
        "suspects": [{"given_name": "Sam", "family_name": "Smith", "date_of_birth": "1990-05-01"}],
    }
    assert api_a.put("/api/v1/cases/PP-9/", body, format="json").status_code == 201
    victim = _victim(api_a, "PP-9", "Xena")
    with_report = {**body, "first_qualifying_report_on": "2025-06-01", "first_qualifying_report_kind": "vri"}
    first = api_a.put("/api/v1/cases/PP-9/", with_report, format="json")
    assert first.status_code == 200, first.content
    victims = api_a.get("/api/v1/cases/PP-9/victims/").json()
    assert [(v["id"], v["first_qualifying_report_on"]) for v in victims] == [(victim, "2025-06-01")]
    again = api_a.put("/api/v1/cases/PP-9/", with_report, format="json")
    assert again.status_code == 200 and again["X-JJP-Result"] == "unchanged"
