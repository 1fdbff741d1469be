"""Issue 15, charging, over the API: a case with two suspects charged for one and NFA'd for the other, early
advice apart from charging referrals, and amending an issued action plan (the services' own tests are in
tests/charging/test_suspects_and_advice.py)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from charging import services as charging
from tests.api.conftest import Api
from tests.charging.test_suspects_and_advice import _two_suspect_case
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db

D = datetime.date
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def case(oic_a):
    return _two_suspect_case(oic_a)


@pytest.fixture
def offences(case):
    return list(case.offences.order_by("pk"))


@pytest.fixture
def referral(oic_a, case):
    return charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 20), today=TODAY)


def _post(api, path, data, status):
    response = api.post(f"/api/v1/cases/{path}", data, format="json")
    assert response.status_code == status, response.content
    return response.json()


def test_two_suspects_through_the_api(oic_a, prosecutor_a, client_a, case, offences):
    ann, ben_assault, ben_damage = offences
    police = Api(client_a[1])
    cps = Api()
    cps.force_login(prosecutor_a)

    asked = _post(police, "TWO-1/early-advice/", {"requested_on": "2026-02-18", "question": "Enough?"}, 201)
    assert asked["case"]["status"] == "investigation" and asked["case"]["cps_area"] == "NW"
    assert asked["case"]["early_advice"] == [
        {
            "id": asked["id"],
            "requested_on": "2026-02-18",
            "question": "Enough?",
            "given_on": None,
            "advice": "",
        }
    ]
    assert not any(c["kind"] == "charging_decision" for c in asked["case"]["clocks"])
    given = _post(cps, "TWO-1/early-advice/advice/", {"given_on": "2026-02-19", "advice": "Yes."}, 200)
    assert given["case"]["early_advice"][0]["given_on"] == "2026-02-19"
    _post(cps, "TWO-1/early-advice/advice/", {"given_on": "2026-02-19", "advice": "Again."}, 409)

    _post(police, "TWO-1/referrals/", {"received_on": "2026-02-20"}, 201)
    bad = _post(
        cps,
        "TWO-1/decisions/",
        {
            "decided_on": "2026-02-27",
            "reasons": "R.",
            "test": "full_code",
            "outcomes": [{"offence": ann.pk, "outcome": "charge"}],
        },
        400,
    )
    assert "outcomes" in str(bad)
    decided = _post(
        cps,
        "TWO-1/decisions/",
        {
            "decided_on": "2026-02-27",
            "reasons": "Ann charged; Ben not.",
            "test": "full_code",
            "outcomes": [
                {"offence": ann.pk, "outcome": "charge"},
                {"offence": ben_assault.pk, "outcome": "nfa", "code_test_failed": "evidential"},
                {
                    "offence": ben_damage.pk,
                    "outcome": "nfa",
                    "code_test_failed": "public_interest",
                    "reasons": "Minor.",
                },
            ],
        },
        201,
    )
    decision = decided["case"]["referrals"][0]["decision"]
    assert decided["case"]["status"] == "decided" and decision["outcome"] == "charge"
    assert decision["offences"] == [
        {
            "offence": ann.pk,
            "suspect": "Ann Able",
            "outcome": "charge",
            "code_test_failed": "",
            "reasons": "",
        },
        {
            "offence": ben_assault.pk,
            "suspect": "Ben Baker",
            "outcome": "nfa",
            "code_test_failed": "evidential",
            "reasons": "",
        },
        {
            "offence": ben_damage.pk,
            "suspect": "Ben Baker",
            "outcome": "nfa",
            "code_test_failed": "public_interest",
            "reasons": "Minor.",
        },
    ]
    _post(police, "TWO-1/charges/", {"charged_on": "2026-03-02", "offences": [ben_assault.pk]}, 400)
    charged = _post(
        police,
        "TWO-1/charges/",
        {
            "charged_on": "2026-03-02",
            "offences": [ann.pk],
            "bail": "remand",
            "first_hearing_on": "2026-03-03",
            "court": "Manchester Magistrates' Court",
        },
        201,
    )
    assert charged["case"]["status"] == "charged"
    [charge] = charged["case"]["charges"]
    assert {k: charge[k] for k in ("offences", "suspect", "bail", "first_hearing_on", "court")} == {
        "offences": [ann.pk],
        "suspect": "Ann Able",
        "bail": "remand",
        "first_hearing_on": "2026-03-03",
        "court": "Manchester Magistrates' Court",
    }


def test_amending_the_plan_through_the_api(oic_a, prosecutor_a, client_a, case, referral):
    plan = charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2026, 2, 24),
        reasons="More.",
        respond_by=D(2026, 3, 6),
        actions=[{"description": "Obtain the 999 call", "due_on": D(2026, 3, 4)}],
        today=TODAY,
    )
    action = plan.actions.get()
    police = Api(client_a[1])
    cps = Api()
    cps.force_login(prosecutor_a)
    path = f"TWO-1/action-plans/{plan.pk}/amendments/"
    _post(police, path, {"on": "2026-03-02", "reason": "R.", "respond_by": "2026-03-20"}, 403)
    _post(
        police, f"TWO-1/action-plans/{plan.pk + 1000}/amendments/", {"on": "2026-03-02", "reason": "R."}, 404
    )
    moved = _post(
        police,
        path,
        {
            "on": "2026-03-02",
            "reason": "Provider slow.",
            "moves": [{"action": action.pk, "due_on": "2026-03-05"}],
        },
        200,
    )
    assert moved["case"]["action_plans"][0]["actions"][0]["due_on"] == "2026-03-05"
    added = _post(
        cps,
        path,
        {
            "on": "2026-03-02",
            "reason": "One more.",
            "respond_by": "2026-03-13",
            "add": [{"description": "Neighbour", "due_on": "2026-03-12"}],
        },
        200,
    )
    assert added["case"]["action_plans"][0]["respond_by"] == "2026-03-13"
    assert [a["description"] for a in added["case"]["action_plans"][0]["actions"]] == [
        "Obtain the 999 call",
        "Neighbour",
    ]
