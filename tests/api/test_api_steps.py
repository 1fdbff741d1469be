"""State changes over the API: each endpoint calls the same service as the web form, so the stage and permission
checks, the timeline and the clocks are the same; refusals come back as 403 (role), 404 (not yours), 409 (not
at this stage) and 400 (bad input)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from cases.models import Case, Clock
from charging.models import Action
from charging.services import action_plan_issue, case_refer_to_cps
from tests.api.conftest import Api
from tests.factories import CaseFactory
from victims.models import Breach, ProtectiveOrder, Victim, VictimContact
from victims.services import victim_add

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def cps(prosecutor_a):
    api = Api()
    api.force_login(prosecutor_a)
    return api


@pytest.fixture
def case(oic_a):
    return CaseFactory(actor=oic_a, urn="STEP-1", reported_on=datetime.date(2026, 2, 20))


def post(api, path, data, status):
    response = api.post(f"/api/v1/cases/{path}", data, format="json")
    assert response.status_code == status, response.content
    return response.json()


def test_the_charging_workflow_end_to_end(api_a, cps, case):
    post(api_a, "STEP-1/conversations/", {"held_on": "2026-02-21", "mode": "digital"}, 201)
    referred = post(api_a, "STEP-1/referrals/", {"received_on": "2026-02-23", "custody": True}, 201)
    assert referred["case"]["status"] == "referred" and referred["case"]["cps_area"] == "NW"
    assert any(c["kind"] == "charging_decision" and c["state"] != "met" for c in referred["case"]["clocks"])

    triaged = post(cps, "STEP-1/triage/", {"accept": True, "on": "2026-02-24"}, 200)
    assert triaged["case"]["referrals"][0]["triage"] == "accepted"

    plan = post(
        cps,
        "STEP-1/action-plans/",
        {
            "decided_on": "2026-02-25",
            "respond_by": "2026-03-10",
            "reasons": "Need the 999 call recording.",
            "actions": [{"description": "Obtain the 999 call recording", "due_on": "2026-03-06"}],
        },
        201,
    )
    assert plan["case"]["status"] == "action_plan"
    assert plan["case"]["referrals"][0]["decision"]["outcome"] == "action_plan"
    action_id = plan["case"]["action_plans"][0]["actions"][0]["id"]

    done = post(api_a, f"STEP-1/actions/{action_id}/", {"status": "completed", "on": "2026-02-27"}, 200)
    assert done["id"] == action_id and done["case"]["action_plans"][0]["actions"][0]["status"] == "completed"

    post(api_a, "STEP-1/referrals/", {"received_on": "2026-02-27"}, 201)
    decided = post(
        cps,
        "STEP-1/decisions/",
        {
            "outcome": "charge",
            "test": "full_code",
            "decided_on": "2026-03-02",
            "reasons": "Full Code Test met.",
        },
        201,
    )
    assert decided["case"]["status"] == "decided"
    assert decided["case"]["referrals"][1]["decision"] == {
        "outcome": "charge",
        "test": "full_code",
        "decided_on": "2026-03-02",
        "reasons": "Full Code Test met.",
        "evidence_led_viable": None,
        "offences": [
            {
                "offence": decided["case"]["offences"][0]["id"],
                "suspect": "Test Suspect",
                "outcome": "charge",
                "code_test_failed": "",
                "reasons": "",
            }
        ],
    }
    assert any(c["kind"] == "charge" and c["stopped_on"] is None for c in decided["case"]["clocks"])

    offence_id = decided["case"]["offences"][0]["id"]
    charged = post(api_a, "STEP-1/charges/", {"charged_on": "2026-03-02", "offences": [offence_id]}, 201)
    assert charged["case"]["status"] == "charged"
    assert charged["case"]["charges"][0]["offences"] == [offence_id]
    assert (
        post(api_a, "STEP-1/progress/", {"to": "at_court", "on": "2026-03-02"}, 200)["case"]["status"]
        == "at_court"
    )
    kinds = list(Case.objects.get(urn="STEP-1").events.values_list("kind", flat=True))
    assert kinds[-3:] == ["decision", "charged", "case_at_court"]


def test_steps_are_refused_at_the_wrong_stage_with_409(api_a, cps, case):
    response = api_a.post("/api/v1/cases/STEP-1/charges/", {"charged_on": "2026-03-02"}, format="json")
    assert response.status_code == 409
    assert "Cannot record a charge" in response.json()["errors"][0]["message"]
    no_referral = post(
        api_a, "STEP-1/police-outcome/", {"outcome": "nfa", "on": "2026-03-02", "reason": "Withdrawn."}, 200
    )
    assert no_referral["case"]["status"] == "nfa"
    again = api_a.post("/api/v1/cases/STEP-1/referrals/", {"received_on": "2026-03-02"}, format="json")
    assert again.status_code == 409


def test_a_cps_step_without_a_submission_awaiting_is_409(oic_a, cps, case):
    case_refer_to_cps(actor=oic_a, case=case, received_on=datetime.date(2026, 2, 23))
    response = cps.post(
        "/api/v1/cases/STEP-1/decisions/",
        {"outcome": "nfa", "decided_on": "2026-03-02", "reasons": "r"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["case"]["status"] == "nfa"
    again = cps.post("/api/v1/cases/STEP-1/triage/", {"accept": True, "on": "2026-03-02"}, format="json")
    assert again.status_code == 409
    assert "awaiting a decision" in again.json()["errors"][0]["message"]


def test_a_force_system_cannot_take_a_prosecutors_step(api_a, oic_a, case):
    case_refer_to_cps(actor=oic_a, case=case, received_on=datetime.date(2026, 2, 23))
    response = api_a.post(
        "/api/v1/cases/STEP-1/decisions/",
        {"outcome": "charge", "test": "full_code", "decided_on": "2026-03-02", "reasons": "r"},
        format="json",
    )
    assert response.status_code == 403
    assert Case.objects.get(urn="STEP-1").status == "referred"


def test_service_errors_keep_their_field_names(api_a, case):
    response = api_a.post("/api/v1/cases/STEP-1/referrals/", {"received_on": "2026-02-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "received_on",
            "message": "01 February 2026 is before the report to police (20 February 2026).",
        }
    ]
    unknown = api_a.post(
        "/api/v1/cases/STEP-1/referrals/", {"received_on": "2026-03-02", "cps_area": "ZZ"}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "cps_area"


def test_an_action_of_another_case_is_404(api_a, prosecutor_a, oic_a, case):
    other = CaseFactory(actor=oic_a, urn="STEP-2")
    referral = case_refer_to_cps(actor=oic_a, case=other, received_on=datetime.date(2026, 2, 27))
    action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=datetime.date(2026, 3, 1),
        reasons="More needed.",
        respond_by=datetime.date(2026, 3, 9),
        actions=[{"description": "Statement"}],
    )
    action = Action.objects.get(plan__case=other)
    response = api_a.post(
        f"/api/v1/cases/STEP-1/actions/{action.pk}/",
        {"status": "completed", "on": "2026-03-02"},
        format="json",
    )
    assert response.status_code == 404
    assert (
        api_a.post(
            "/api/v1/cases/STEP-1/actions/-1/", {"status": "completed", "on": "2026-03-02"}, format="json"
        ).status_code
        == 404
    )


def test_offence_and_qualifying_report_steps(api_a, case):
    added = post(api_a, "STEP-1/offences/", {"offence_type": "CA03-127", "committed_on": "2026-02-18"}, 201)
    assert added["id"] in [o["id"] for o in added["case"]["offences"]]
    report = post(api_a, "STEP-1/qualifying-report/", {"on": "2026-02-21", "kind": "witness_statement"}, 200)
    assert report["case"]["first_qualifying_report_on"] == "2026-02-21"
    bad = api_a.post(
        "/api/v1/cases/STEP-1/offences/",
        {"offence_type": "NOPE", "committed_on": "2026-02-18"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "offence_type"


# -- victims, contacts, orders and breaches --------------------------------------------------------------------


def test_victims_and_contacts(api_a, case):
    added = post(
        api_a, "STEP-1/victims/", {"given_name": "Alex", "family_name": "Jones", "vulnerable": True}, 201
    )
    victim = Victim.objects.get(pk=added["id"])
    assert victim.case.urn == "STEP-1" and victim.enhanced_rights
    listed = api_a.get("/api/v1/cases/STEP-1/victims/").json()
    assert [(v["id"], v["family_name"]) for v in listed] == [(victim.pk, "Jones")]
    assert "confidential_address" not in listed[0]
    contact = post(
        api_a,
        f"STEP-1/victims/{victim.pk}/contacts/",
        {
            "contacted_at": "2026-03-02T10:30:00+00:00",
            "method": "phone",
            "purpose": "update",
            "outcome": "Told.",
        },
        201,
    )
    assert VictimContact.objects.get(pk=contact["id"]).victim == victim
    future = api_a.post(
        f"/api/v1/cases/STEP-1/victims/{victim.pk}/contacts/",
        {"contacted_at": "2026-03-03T10:30:00+00:00", "method": "phone", "purpose": "update"},
        format="json",
    )
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "contacted_at"


def test_a_force_system_may_not_record_a_confidential_address(api_a, case):
    response = api_a.post(
        "/api/v1/cases/STEP-1/victims/",
        {"given_name": "Alex", "family_name": "Jones", "confidential_address": "1 Safe Street"},
        format="json",
    )
    assert response.status_code == 403
    assert not Victim.objects.filter(case__urn="STEP-1").exists()


def test_a_victim_of_another_case_is_404(api_a, oic_a, case):
    other = CaseFactory(actor=oic_a, urn="STEP-3")
    victim = victim_add(actor=oic_a, case=other, given_name="Pat", family_name="Lee")
    response = api_a.post(
        f"/api/v1/cases/STEP-1/victims/{victim.pk}/contacts/",
        {"contacted_at": "2026-03-02T10:30:00+00:00", "method": "phone", "purpose": "update"},
        format="json",
    )
    assert response.status_code == 404


def test_a_protective_order_through_to_a_breach(api_a, case):
    victim = post(api_a, "STEP-1/victims/", {"given_name": "Alex", "family_name": "Jones"}, 201)["id"]
    order = post(
        api_a, "STEP-1/orders/", {"kind": "non_molestation", "on": "2026-02-20", "victim": victim}, 201
    )["id"]
    post(api_a, f"STEP-1/orders/{order}/apply/", {"on": "2026-02-21"}, 200)
    post(api_a, f"STEP-1/orders/{order}/grant/", {"on": "2026-02-23", "expires_on": "2027-02-23"}, 200)
    listed = api_a.get("/api/v1/cases/STEP-1/orders/").json()
    assert [(o["id"], o["status"], o["expires_on"]) for o in listed] == [(order, "granted", "2027-02-23")]
    assert any(c["kind"] == "order_expiry" for c in api_a.get("/api/v1/cases/STEP-1/").json()["clocks"])
    breach = post(
        api_a,
        f"STEP-1/orders/{order}/breaches/",
        {"occurred_on": "2026-03-01", "reported_on": "2026-03-01", "urn": "BREACH-1"},
        201,
    )
    assert Breach.objects.get(pk=breach["id"]).new_case.urn == "BREACH-1"
    assert api_a.get("/api/v1/cases/STEP-1/orders/").json()[0]["breaches"][0]["new_case"] == "BREACH-1"
    assert api_a.get("/api/v1/cases/BREACH-1/").json()["offences"][0]["offence_type"] == "FLA96-42A"
    refused = api_a.post(f"/api/v1/cases/STEP-1/orders/{order}/apply/", {"on": "2026-03-02"}, format="json")
    assert refused.status_code == 409
    assert ProtectiveOrder.objects.get(pk=order).status == "granted"


def test_an_order_of_another_case_is_404(api_a, oic_a, case):
    other = CaseFactory(actor=oic_a, urn="STEP-4")
    order = post(api_a, "STEP-4/orders/", {"kind": "restraining", "on": "2026-03-01"}, 201)["id"]
    assert other.orders.count() == 1
    assert (
        api_a.post(
            f"/api/v1/cases/STEP-1/orders/{order}/apply/", {"on": "2026-03-02"}, format="json"
        ).status_code
        == 404
    )


def test_bail_conditions(api_a, case):
    made = post(
        api_a,
        "STEP-1/bail-conditions/",
        {
            "on": "2026-02-21",
            "conditions": "Not to contact the victim.",
            "victim_views": "Wants no contact.",
            "expires_on": "2026-05-21",
        },
        201,
    )
    assert ProtectiveOrder.objects.get(pk=made["id"]).kind == "pre_charge_bail"
    assert Clock.objects.filter(case__urn="STEP-1", kind="bail_expiry").exists()
    missing = api_a.post(
        "/api/v1/cases/STEP-1/bail-conditions/", {"on": "2026-02-21", "conditions": "x"}, format="json"
    )
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "victim_views"


@pytest.mark.parametrize(
    ("kind", "steps", "status"),
    [
        (
            "restraining",
            [("not-pursue", {"on": "2026-02-22", "reason": "The victim does not want it."})],
            "not_pursued",
        ),
        (
            "dvpo",
            [("apply", {"on": "2026-02-21"}), ("refuse", {"on": "2026-02-23", "reason": "Not necessary."})],
            "refused",
        ),
        (
            "non_molestation",
            [
                ("apply", {"on": "2026-02-21"}),
                ("grant", {"on": "2026-02-22", "expires_on": "2026-08-22"}),
                (
                    "vary",
                    {
                        "on": "2026-02-25",
                        "conditions": "No contact.",
                        "expires_on": "2026-09-22",
                        "reason": "Court.",
                    },
                ),
                ("end", {"on": "2026-03-01", "outcome": "discharged", "reason": "Discharged by the court."}),
            ],
            "discharged",
        ),
        (
            "dapn",
            [
                ("serve", {"served_at": "2026-02-21T09:00:00+00:00", "conditions": "Stay away."}),
                ("hearing", {"heard_at": "2026-02-22T10:00:00+00:00"}),
            ],
            "granted",
        ),
    ],
)
def test_order_steps(api_a, case, kind, steps, status):
    order = post(api_a, "STEP-1/orders/", {"kind": kind, "on": "2026-02-20"}, 201)["id"]
    for slug, data in steps:
        answer = post(api_a, f"STEP-1/orders/{order}/{slug}/", data, 200)
        assert answer["id"] == order
    assert ProtectiveOrder.objects.get(pk=order).status == status


def test_triage_can_return_the_file(api_a, cps, case):
    post(api_a, "STEP-1/referrals/", {"received_on": "2026-02-23"}, 201)
    returned = post(
        cps,
        "STEP-1/triage/",
        {"accept": False, "on": "2026-02-24", "reasons": ["no_mg3"], "respond_by": "2026-03-03"},
        200,
    )
    assert returned["case"]["status"] == "investigation"
    assert returned["case"]["referrals"][0]["triage_reasons"] == ["no_mg3"]
    missing = cps.post("/api/v1/cases/STEP-1/triage/", {"accept": False, "on": "2026-02-24"}, format="json")
    assert missing.status_code == 409  # nothing awaits a decision any more
