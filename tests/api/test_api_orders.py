"""Protective orders over the API (issue 15): a DVPO outside 14-28 days is refused in the documented error shape on
``expires_on``; a DAPO's own requirements and its s.41 notification are recorded and listed."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from tests.factories import CaseFactory
from victims.models import DapoRequirement, ProtectiveOrder

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def case(oic_a):
    return CaseFactory(actor=oic_a, urn="ORD-1", reported_on=datetime.date(2026, 2, 2))


def post(api, path, data, status):
    response = api.post(f"/api/v1/cases/ORD-1/{path}", data, format="json")
    assert response.status_code == status, response.content
    return response.json()


def applied(api, kind):
    order = post(api, "orders/", {"kind": kind, "on": "2026-02-02"}, 201)["id"]
    post(api, f"orders/{order}/apply/", {"on": "2026-02-02"}, 200)
    return order


def test_a_60_day_dvpo_is_refused_on_expires_on(api_a, case):
    order = applied(api_a, "dvpo")
    refused = post(api_a, f"orders/{order}/grant/", {"on": "2026-02-03", "expires_on": "2026-04-03"}, 400)
    assert refused == {
        "errors": [
            {
                "field": "expires_on",
                "message": "A DVPO made on 3 February 2026 must end between 16 February 2026 and 2 March 2026 "
                "(Crime and Security Act 2010 s.28(10)).",
            }
        ]
    }
    assert ProtectiveOrder.objects.get(pk=order).status == "applied"
    missing = post(api_a, f"orders/{order}/grant/", {"on": "2026-02-03"}, 400)
    assert [e["field"] for e in missing["errors"]] == ["expires_on"]
    post(api_a, f"orders/{order}/grant/", {"on": "2026-02-03", "expires_on": "2026-02-16"}, 200)
    listed = api_a.get("/api/v1/cases/ORD-1/orders/").json()
    assert [(o["kind"], o["status"], o["expires_on"]) for o in listed] == [("dvpo", "granted", "2026-02-16")]
    too_long = post(
        api_a,
        f"orders/{order}/vary/",
        {"on": "2026-02-10", "conditions": "", "expires_on": "2026-03-03", "reason": "Extended."},
        400,
    )
    assert [e["field"] for e in too_long["errors"]] == ["expires_on"]
    assert ProtectiveOrder.objects.get(pk=order).expires_on == datetime.date(2026, 2, 16)


def test_a_dapo_with_its_requirements_and_notification(api_a, case):
    order = applied(api_a, "dapo")
    post(
        api_a,
        f"orders/{order}/grant/",
        {"on": "2026-02-03", "expires_on": "2027-02-02", "notification_further": "Vehicle registration."},
        200,
    )
    bad = post(
        api_a,
        f"orders/{order}/requirements/",
        {"kind": "requirement", "text": "Attend a programme.", "imposed_on": "2026-02-03"},
        400,
    )
    assert [e["field"] for e in bad["errors"]] == ["supervisor"]
    first = post(
        api_a,
        f"orders/{order}/requirements/",
        {"kind": "prohibition", "text": "Not to contact Alex Jones.", "imposed_on": "2026-02-03"},
        201,
    )["id"]
    post(
        api_a,
        f"orders/{order}/requirements/",
        {
            "kind": "electronic_monitoring",
            "text": "Monitoring of the exclusion zone.",
            "imposed_on": "2026-02-03",
            "ends_on": "2026-05-03",
        },
        201,
    )
    removed = post(
        api_a,
        f"orders/{order}/remove-requirement/",
        {"requirement": first, "on": "2026-02-20", "reason": "Varied."},
        200,
    )
    assert removed["id"] == first
    unknown = post(
        api_a,
        f"orders/{order}/remove-requirement/",
        {"requirement": 999999, "on": "2026-02-20", "reason": "Varied."},
        400,
    )
    assert unknown["errors"][0]["field"] == "requirement"
    post(api_a, f"orders/{order}/notified/", {"notified_on": "2026-02-05"}, 200)

    (listed,) = api_a.get("/api/v1/cases/ORD-1/orders/").json()
    assert (
        listed["notification_applies"],
        listed["notification_due_on"],
        listed["notified_on"],
        listed["notification_further"],
    ) == (True, "2026-02-05", "2026-02-05", "Vehicle registration.")
    assert [(r["kind"], r["ends_on"], r["removed_on"]) for r in listed["requirements"]] == [
        ("prohibition", None, "2026-02-20"),
        ("electronic_monitoring", "2026-05-03", None),
    ]
    assert DapoRequirement.objects.filter(order_id=order).count() == 2


def test_requirements_of_another_order_or_kind(api_a, case):
    other = applied(api_a, "restraining")
    post(api_a, f"orders/{other}/grant/", {"on": "2026-02-03"}, 200)
    refused = api_a.post(
        f"/api/v1/cases/ORD-1/orders/{other}/requirements/",
        {"kind": "prohibition", "text": "x", "imposed_on": "2026-02-03"},
        format="json",
    )
    assert refused.status_code == 409
    assert "Only a DAPO" in refused.json()["errors"][0]["message"]
    notified = api_a.post(
        f"/api/v1/cases/ORD-1/orders/{other}/notified/", {"notified_on": "2026-02-05"}, format="json"
    )
    assert notified.status_code == 409
