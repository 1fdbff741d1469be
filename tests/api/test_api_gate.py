"""Generated over every operation in the API schema, so a new endpoint cannot escape: no token is 401, a
read-only client writing is 403, and a client of another force gets 404 for force A's case (or, on the list,
none of A's cases). The table of example requests must name every operation."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from drf_spectacular.generators import SchemaGenerator

from charging.services import action_plan_issue, case_refer_to_cps
from tests.factories import CaseFactory
from victims.services import order_consider, victim_add

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
DAY = "2026-03-02"

# (method, path template) -> a valid-looking body. Ids in paths are filled in from force A's world.
REQUESTS: dict[tuple[str, str], dict] = {
    ("get", "/api/v1/cases/"): {},
    ("post", "/api/v1/cases/bulk/"): {"cases": [{"urn": "GATE-NEW", "reported_on": DAY, "offences": []}]},
    ("get", "/api/v1/cases/{urn}/"): {},
    ("put", "/api/v1/cases/{urn}/"): {
        "reported_on": DAY,
        "offences": [{"offence_type": "CJA88-39", "committed_on": DAY}],
    },
    ("post", "/api/v1/cases/{urn}/police-outcome/"): {"outcome": "nfa", "on": DAY, "reason": "r"},
    ("post", "/api/v1/cases/{urn}/offences/"): {"offence_type": "CJA88-39", "committed_on": DAY},
    ("post", "/api/v1/cases/{urn}/qualifying-report/"): {"on": DAY, "kind": "vri"},
    ("post", "/api/v1/cases/{urn}/offences/{offence_id}/people/"): {"complainant": None, "suspect": None},
    ("post", "/api/v1/cases/{urn}/progress/"): {"to": "at_court", "on": DAY},
    ("post", "/api/v1/cases/{urn}/referrals/"): {"received_on": DAY},
    ("post", "/api/v1/cases/{urn}/triage/"): {"accept": True, "on": DAY},
    ("post", "/api/v1/cases/{urn}/conversations/"): {"held_on": DAY, "mode": "digital"},
    ("post", "/api/v1/cases/{urn}/decisions/"): {"outcome": "nfa", "decided_on": DAY, "reasons": "r"},
    ("post", "/api/v1/cases/{urn}/action-plans/"): {
        "decided_on": DAY,
        "respond_by": DAY,
        "reasons": "r",
        "actions": [{"description": "d"}],
    },
    ("post", "/api/v1/cases/{urn}/actions/{action_id}/"): {"status": "completed", "on": DAY},
    ("post", "/api/v1/cases/{urn}/charges/"): {"charged_on": DAY},
    ("post", "/api/v1/cases/{urn}/early-advice/"): {"requested_on": DAY, "question": "q"},
    ("post", "/api/v1/cases/{urn}/early-advice/advice/"): {"given_on": DAY, "advice": "a"},
    ("post", "/api/v1/cases/{urn}/action-plans/{plan_pk}/amendments/"): {"on": DAY, "reason": "r"},
    ("get", "/api/v1/cases/{urn}/victims/"): {},
    ("post", "/api/v1/cases/{urn}/victims/"): {"given_name": "A", "family_name": "B"},
    ("post", "/api/v1/cases/{urn}/victims/{victim_id}/date-of-birth/"): {"date_of_birth": "1990-01-01"},
    ("post", "/api/v1/cases/{urn}/victims/{victim_id}/qualifying-report/"): {"on": DAY, "kind": "vri"},
    ("post", "/api/v1/cases/{urn}/victims/{victim_id}/relationships/"): {
        "suspect": 1,
        "relationship": "intimate",
    },
    ("post", "/api/v1/cases/{urn}/victims/{victim_id}/contacts/"): {
        "contacted_at": "2026-03-02T10:00:00Z",
        "method": "phone",
        "purpose": "update",
    },
    ("get", "/api/v1/cases/{urn}/orders/"): {},
    ("post", "/api/v1/cases/{urn}/orders/"): {"kind": "restraining", "on": DAY},
    ("post", "/api/v1/cases/{urn}/bail-conditions/"): {"on": DAY, "conditions": "c", "victim_views": "v"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/not-pursue/"): {"on": DAY, "reason": "r"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/apply/"): {"on": DAY},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/serve/"): {"served_at": "2026-03-02T10:00:00Z"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/hearing/"): {"heard_at": "2026-03-02T10:00:00Z"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/grant/"): {"on": DAY},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/refuse/"): {"on": DAY, "reason": "r"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/vary/"): {
        "on": DAY,
        "conditions": "",
        "expires_on": None,
        "reason": "r",
    },
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/end/"): {"on": DAY, "outcome": "expired"},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/requirements/"): {
        "kind": "prohibition",
        "text": "t",
        "imposed_on": DAY,
    },
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/remove-requirement/"): {
        "requirement": 1,
        "on": DAY,
        "reason": "r",
    },
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/notified/"): {"notified_on": DAY},
    ("post", "/api/v1/cases/{urn}/orders/{order_id}/breaches/"): {
        "occurred_on": DAY,
        "reported_on": DAY,
        "urn": "GATE-BR",
    },
    # Aggregate figures, no case-level data (governance; its access rules are tested in tests/governance).
    ("get", "/api/v1/metrics/"): {},
    # Reference data: the offence table, the same for every force.
    ("get", "/api/v1/offence-types/"): {},
}
NOT_CASE_SCOPED = {
    ("get", "/api/v1/cases/"),
    ("post", "/api/v1/cases/bulk/"),
    ("get", "/api/v1/metrics/"),
    ("get", "/api/v1/offence-types/"),
}
UPSERT = ("put", "/api/v1/cases/{urn}/")  # another force's PUT of the same URN opens that force's own case


def operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method, path) for path, item in schema["paths"].items() for method in item if method != "parameters"
    }


def test_every_operation_in_the_schema_is_in_the_table():
    assert operations() == set(REQUESTS)


@pytest.fixture
def world(oic_a, prosecutor_a):
    """Force A's case with a referral, an action plan, a victim and an order: every id a path can name."""
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        case = CaseFactory(actor=oic_a, urn="GATE-1", reported_on=datetime.date(2026, 2, 20))
        referral = case_refer_to_cps(actor=oic_a, case=case, received_on=datetime.date(2026, 2, 23))
        plan = action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=datetime.date(2026, 2, 25),
            reasons="More needed.",
            respond_by=datetime.date(2026, 3, 9),
            actions=[{"description": "Statement"}],
        )
        victim = victim_add(actor=oic_a, case=case, given_name="Alex", family_name="Jones")
        order = order_consider(actor=oic_a, case=case, kind="restraining", on=datetime.date(2026, 2, 21))
    return {
        "urn": case.urn,
        "action_id": plan.actions.get().pk,
        "plan_pk": plan.pk,
        "victim_id": victim.pk,
        "order_id": order.pk,
        "offence_id": case.offences.get().pk,
    }


def _call(api, method, template, world):
    path = template.format(**world)
    return getattr(api, method)(path, REQUESTS[(method, template)], format="json")


@pytest.mark.parametrize(("method", "template"), sorted(REQUESTS))
def test_no_token_is_401(api_anonymous, world, method, template):
    response = _call(api_anonymous, method, template, world)
    assert response.status_code == 401
    assert list(response.json()) == ["errors"]


@pytest.mark.parametrize(("method", "template"), sorted(k for k in REQUESTS if k[0] != "get"))
def test_a_read_only_client_writing_is_403(api_a_read, world, method, template):
    response = _call(api_a_read, method, template, world)
    assert response.status_code == 403
    assert "read-only" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(("method", "template"), sorted(set(REQUESTS) - NOT_CASE_SCOPED - {UPSERT}))
def test_another_forces_client_gets_404(api_b, world, method, template):
    response = _call(api_b, method, template, world)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] is None


def test_another_forces_client_sees_none_of_the_list(api_b, world):
    assert api_b.get("/api/v1/cases/").json()["results"] == []


def test_another_forces_put_of_the_same_urn_leaves_the_case_alone(api_b, api_a, world):
    before = api_a.get("/api/v1/cases/GATE-1/")["ETag"]
    response = _call(api_b, *UPSERT, world)
    assert response.status_code in (201, 400)
    assert api_a.get("/api/v1/cases/GATE-1/")["ETag"] == before


def test_an_unknown_path_under_the_api_is_a_json_404(api_a):
    response = api_a.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"field": None, "message": "No such endpoint: see /api/docs/."}]}
