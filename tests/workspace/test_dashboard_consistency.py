"""Issue 19, consistency: the prosecutor's headline counts match the list under them."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse

from cases.models import Clock
from charging import services as charging
from tests.factories import CaseFactory
from victims.services import victim_add

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 3, 2)
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_prosecutors_overdue_count_is_the_list_under_it(client, oic_a, prosecutor_a):
    # An overdue charging decision (on the awaiting list too) ...
    waiting = CaseFactory(actor=oic_a, urn="LATE-DECISION", reported_on=D(2026, 1, 20))
    charging.case_refer_to_cps(actor=oic_a, case=waiting, received_on=D(2026, 2, 2), today=TODAY)
    # ... and an overdue CPS victim update after a decision: on no other list of the prosecutor's.
    decided = CaseFactory(actor=oic_a, urn="LATE-UPDATE", reported_on=D(2026, 1, 20))
    victim_add(actor=oic_a, case=decided, given_name="Jo", family_name="Bloggs")
    referral = charging.case_refer_to_cps(actor=oic_a, case=decided, received_on=D(2026, 2, 2), today=TODAY)
    charging.decision_record(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2026, 2, 9),
        reasons="Not enough evidence.",
        outcome="nfa",
        code_test_failed="evidential",
        today=TODAY,
    )
    overdue_kinds = set(
        Clock.objects.open()
        .filter(case__urn__startswith="LATE-", side=Clock.Side.CPS, due_on__lt=TODAY)
        .values_list("kind", flat=True)
    )
    assert {Clock.Kind.CHARGING_DECISION, Clock.Kind.VICTIM_UPDATE} <= overdue_kinds, "the case builds both"

    client.force_login(prosecutor_a)
    response = client.get(reverse("dashboard", args=["prosecutor"]))
    counts = response.context["counts"]
    listed = client.get(reverse("dashboard_section", args=["prosecutor", "overdue"])).context["page"]
    assert counts["overdue"] >= 2
    assert counts["overdue"] + counts["time_barred"] == len(listed.rows)
    assert {c.kind for c in listed.rows} >= {Clock.Kind.CHARGING_DECISION, Clock.Kind.VICTIM_UPDATE}
    assert "The Area&#x27;s overdue and time-barred deadlines" in response.content.decode()
