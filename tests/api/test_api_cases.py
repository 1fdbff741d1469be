"""Reading cases: the list and the detail, their fields, filters, ordering, cursor pagination for syncing, ETags,
and URNs that repeat across forces. Time is frozen at the suite's TODAY (a Monday) in London."""

from __future__ import annotations

import base64
import datetime
import json
import zoneinfo
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from cases.models import Case, Organisation, Role
from cases.services import case_record_police_outcome, case_restrict
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
LIST = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False) as traveller:
        yield traveller


def oic_of(code: str):
    return UserFactory(
        organisation=Organisation.objects.get(code=code), roles=[Role.OIC], username=f"oic-{code}"
    )


def urns(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["urn"] for c in response.json()["results"]]


def test_the_list_shows_each_case_with_offences_flags_and_clocks(api_a, oic_a, case_a):
    body = api_a.get(LIST).json()
    assert body["next"] is None
    (case,) = body["results"]
    assert case["urn"] == case_a.urn and case["force"] == "GMP" and case["status"] == "investigation"
    assert case["cps_area"] is None
    assert [o["offence_type"] for o in case["offences"]] == ["CJA88-39"]
    assert case["offences"][0]["mode_of_trial"] == "summary"
    assert set(case["flags"]) >= {
        "children_in_household",
        "police_perpetrated",
        "stl_within_eight_weeks",
        "time_barred",
    }
    kinds = {c["kind"]: c for c in case["clocks"]}
    # Reported four weeks ago: the 21-day investigation clock is overdue; the six-month STL is running.
    assert kinds["investigation"]["due_on"] == "2026-02-23" and kinds["investigation"]["state"] == "overdue"
    assert kinds["stl"]["state"] == "running"
    assert case["next_due_on"] == "2026-02-23"
    assert case["flags"]["overdue"] is True and case["flags"]["time_barred"] is False
    assert case["suspects"][0]["family_name"] == "Suspect"


def test_the_list_is_read_only(api_a):
    response = api_a.post(LIST, {}, format="json")
    assert response.status_code == 405
    assert response.json()["errors"][0]["message"] == 'Method "POST" not allowed.'


def test_the_list_is_behind_the_access_gate(api_a, api_b, oic_a, oic_b, case_a):
    case_b = CaseFactory(actor=oic_b, urn="CASE-B")
    assert urns(api_a.get(LIST)) == [case_a.urn]
    assert urns(api_b.get(LIST)) == [case_b.urn]


def test_a_restricted_case_is_hidden_from_the_force_system(api_a, oic_a, supervisor_a):
    case = CaseFactory(actor=oic_a, urn="RESTRICTED", police_perpetrated=True)
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Suspect is a serving officer.")
    assert "RESTRICTED" not in urns(api_a.get(LIST))
    assert api_a.get("/api/v1/cases/RESTRICTED/").status_code == 404


def test_filters(api_a, oic_a):
    plain = CaseFactory(actor=oic_a, urn="PLAIN", offence="OAPA-47")  # ABH: either way, no STL of its own
    high = CaseFactory(actor=oic_a, urn="HIGH", risk_level="high", children_in_household=True)
    closed = CaseFactory(actor=oic_a, urn="CLOSED")
    case_record_police_outcome(
        actor=oic_a, case=closed, outcome="nfa", on=TODAY, reason="No evidence of an offence.", today=TODAY
    )
    assert urns(api_a.get(LIST, {"status": "nfa"})) == ["CLOSED"]
    assert set(urns(api_a.get(LIST, {"status": ["nfa", "investigation"]}))) == {"PLAIN", "HIGH", "CLOSED"}
    assert urns(api_a.get(LIST, {"risk_level": "high"})) == ["HIGH"]
    assert urns(api_a.get(LIST, {"children_in_household": "true"})) == ["HIGH"]
    assert urns(api_a.get(LIST, {"mode_of_trial": "either_way"})) == ["PLAIN"]
    assert set(urns(api_a.get(LIST, {"clock_state": "overdue"}))) == {"PLAIN", "HIGH"}
    assert urns(api_a.get(LIST, {"q": "clos"})) == ["CLOSED"]
    assert set(urns(api_a.get(LIST, {"due_before": "2026-02-28"}))) == {"PLAIN", "HIGH"}
    assert set(urns(api_a.get(LIST, {"force": "gmp"}))) == {"PLAIN", "HIGH", "CLOSED"}
    assert urns(api_a.get(LIST, {"force": "WYP"})) == []
    assert plain.pk and high.pk


def test_stl_and_time_barred_filters(api_a, oic_a):
    # Common assault on 2025-10-20, reported then: the six-month limit (2026-04-20) is within eight weeks.
    CaseFactory(actor=oic_a, urn="NEAR", reported_on=datetime.date(2025, 10, 20))
    # Common assault in 2025-06: the limit passed in December.
    CaseFactory(actor=oic_a, urn="BARRED", reported_on=datetime.date(2025, 6, 2))
    CaseFactory(actor=oic_a, urn="FRESH")
    assert urns(api_a.get(LIST, {"stl_within_eight_weeks": "true"})) == ["NEAR"]
    assert urns(api_a.get(LIST, {"time_barred": "true"})) == ["BARRED"]
    assert set(urns(api_a.get(LIST, {"time_barred": "false"}))) == {"NEAR", "FRESH"}
    near = api_a.get("/api/v1/cases/NEAR/").json()
    assert near["flags"]["stl_within_eight_weeks"] is True
    assert api_a.get("/api/v1/cases/BARRED/").json()["flags"]["time_barred"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"due_before": "yesterday"}, "due_before"),
        ({"updated_since": "2026-13-01"}, "updated_since"),
        ({"ordering": "urn"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(api_a, params, field):
    response = api_a.get(LIST, params)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


def test_ordering_by_the_earliest_open_deadline(api_a, oic_a):
    CaseFactory(actor=oic_a, urn="LATER", reported_on=TODAY - datetime.timedelta(days=2))
    CaseFactory(actor=oic_a, urn="SOONER", reported_on=TODAY - datetime.timedelta(days=10))
    done = CaseFactory(actor=oic_a, urn="NONE", offence="OAPA-47")
    case_record_police_outcome(
        actor=oic_a, case=done, outcome="nfa", on=TODAY, reason="Withdrawn.", today=TODAY
    )
    assert urns(api_a.get(LIST, {"ordering": "next_due"})) == ["SOONER", "LATER", "NONE"]
    assert urns(api_a.get(LIST, {"ordering": "-next_due"})) == ["NONE", "LATER", "SOONER"]
    # The cursor carries the ordering: page by page gives the same order.
    first = api_a.get(LIST, {"ordering": "next_due", "page_size": 2}).json()
    assert [c["urn"] for c in first["results"]] == ["SOONER", "LATER"]
    assert urns(api_a.get(first["next"])) == ["NONE"]


def _cursor(next_url: str) -> dict:
    raw = parse_qs(urlsplit(next_url).query)["cursor"][0]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


@pytest.mark.parametrize("ordering", ["next_due", "-next_due", "changed_at", "-changed_at"])
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_paging_gives_the_one_page_order_across_cases_without_a_deadline(
    api_a, oic_a, frozen, ordering, page_size
):
    """Cases without an open deadline (next_due_on NULL) sort after every date: paging across the boundary
    between dates and NULLs, in either direction, gives the order of one big page, with no row twice."""
    for n, days in enumerate((10, 2, 10, 5)):  # two cases share a due date: the id breaks the tie
        CaseFactory(actor=oic_a, urn=f"DUE-{n}", reported_on=TODAY - datetime.timedelta(days=days))
        frozen.shift(datetime.timedelta(minutes=1))
    for n in range(3):
        done = CaseFactory(actor=oic_a, urn=f"NONE-{n}", offence="OAPA-47")
        case_record_police_outcome(actor=oic_a, case=done, outcome="nfa", on=TODAY, reason="No.", today=TODAY)
        frozen.shift(datetime.timedelta(minutes=1))
    assert Case.objects.filter(next_due_on__isnull=True).count() == 3
    whole = urns(api_a.get(LIST, {"ordering": ordering, "page_size": 200}))
    assert len(whole) == 7
    seen, url, pages = [], f"{LIST}?ordering={ordering}&page_size={page_size}", 0
    while url:
        body = api_a.get(url).json()
        seen += [c["urn"] for c in body["results"]]
        url = body["next"]
        pages += 1
        if url and ordering.endswith("next_due") and body["results"][-1]["next_due_on"] is None:
            assert _cursor(url)["v"] == "9999-12-31", "the cursor of a case without a deadline is as it was"
    assert seen == whole and pages == -(-7 // page_size)
    if ordering == "next_due":
        assert whole[:4] == ["DUE-0", "DUE-2", "DUE-3", "DUE-1"] and set(whole[4:]) == {
            "NONE-0",
            "NONE-1",
            "NONE-2",
        }
    elif ordering == "-next_due":
        assert set(whole[:3]) == {"NONE-0", "NONE-1", "NONE-2"} and whole[3:] == [
            "DUE-1",
            "DUE-3",
            "DUE-2",
            "DUE-0",
        ]


def test_changed_at_is_the_stored_column(api_a, oic_a, case_a):
    """The representation's changed_at and the default order are Case.changed_at, which the services keep."""
    Case.objects.filter(pk=case_a.pk).update(changed_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    other = CaseFactory(actor=oic_a, urn="OTHER")
    body = api_a.get(LIST).json()
    assert [c["urn"] for c in body["results"]] == [other.urn, case_a.urn]
    assert body["results"][1]["changed_at"] == "2030-01-01T00:00:00Z"
    assert api_a.get(f"/api/v1/cases/{case_a.urn}/").json()["changed_at"] == "2030-01-01T00:00:00Z"


def test_a_force_system_syncs_with_updated_since_and_the_cursor(api_a, oic_a, frozen):
    for n in range(5):
        CaseFactory(actor=oic_a, urn=f"SYNC-{n}")
        frozen.shift(datetime.timedelta(minutes=1))
    seen, pages, url = [], [], LIST + "?ordering=changed_at&page_size=2"
    while url:
        body = api_a.get(url).json()
        pages.append(body["results"])
        seen += [c["urn"] for c in body["results"]]
        url = body["next"]
    last = pages[-1][-1]["changed_at"]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert seen == [f"SYNC-{n}" for n in range(5)]
    # Later, a case changes (a service writes its timeline event): the next sync returns only it.
    frozen.shift(datetime.timedelta(minutes=5))
    case_refer_to_cps(actor=oic_a, case=Case.objects.get(urn="SYNC-1"), received_on=TODAY, today=TODAY)
    body = api_a.get(LIST, {"updated_since": last, "ordering": "changed_at"}).json()
    assert [c["urn"] for c in body["results"]] == ["SYNC-4", "SYNC-1"]  # SYNC-4 was the last one seen (>=)
    assert body["results"][-1]["status"] == "referred"


def test_updated_since_at_the_ends_of_time(api_a, case_a):
    assert urns(api_a.get(LIST, {"updated_since": "0001-01-01T00:00:00+05:00"})) == [case_a.urn]
    assert urns(api_a.get(LIST, {"updated_since": "9999-12-31T23:59:59-05:00"})) == []
    assert urns(api_a.get(LIST, {"updated_since": "2026-03-01T00:00:00-16:42"})) == [case_a.urn]


def test_a_cursor_from_one_ordering_is_refused_for_another(api_a, oic_a):
    CaseFactory(actor=oic_a, urn="ONE")
    CaseFactory(actor=oic_a, urn="TWO")
    next_url = api_a.get(LIST, {"page_size": 1, "ordering": "next_due"}).json()["next"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    response = api_a.get(LIST, {"cursor": cursor, "ordering": "changed_at"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "cursor", "message": "This cursor belongs to another ordering."}
    ]


def test_detail_has_an_etag_and_answers_304_when_unchanged(api_a, case_a):
    response = api_a.get(f"/api/v1/cases/{case_a.urn.lower()}/")
    assert response.status_code == 200
    etag = response["ETag"]
    assert etag.startswith('"') and response.json()["urn"] == case_a.urn
    again = api_a.get(f"/api/v1/cases/{case_a.urn}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag


def test_the_etag_changes_when_the_case_changes(api_a, oic_a, case_a):
    before = api_a.get(f"/api/v1/cases/{case_a.urn}/")["ETag"]
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    after = api_a.get(f"/api/v1/cases/{case_a.urn}/")
    assert after["ETag"] != before
    assert after.json()["referrals"][0]["sequence"] == 1


def test_another_forces_case_is_404(api_b, case_a):
    response = api_b.get(f"/api/v1/cases/{case_a.urn}/")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"field": None, "message": f"No case {case_a.urn} among the cases you can see."}]
    }


def test_cps_sees_a_case_once_referred(client, oic_a, prosecutor_a, case_a):
    client.force_login(prosecutor_a)
    assert client.get(f"/api/v1/cases/{case_a.urn}/").status_code == 404
    case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
    body = client.get(f"/api/v1/cases/{case_a.urn}/").json()
    assert body["cps_area"] == "NW" and body["status"] == "referred"


def test_a_urn_shared_by_two_forces_needs_the_force_for_cps(client, prosecutor_a, oic_a):
    oic_lan = oic_of("LAN")
    for oic in (oic_a, oic_lan):
        case = CaseFactory(actor=oic, urn="DUP-1")
        case_refer_to_cps(actor=oic, case=case, received_on=TODAY, today=TODAY)
    client.force_login(prosecutor_a)
    ambiguous = client.get("/api/v1/cases/DUP-1/")
    assert ambiguous.status_code == 400
    assert ambiguous.json()["errors"][0]["field"] == "force"
    assert "GMP, LAN" in ambiguous.json()["errors"][0]["message"]
    assert client.get("/api/v1/cases/DUP-1/", {"force": "LAN"}).json()["force"] == "LAN"
    assert client.get("/api/v1/cases/DUP-1/", {"force": "WYP"}).status_code == 404
    assert client.get("/api/v1/cases/DUP-1/", {"force": "G M P"}).status_code == 400
