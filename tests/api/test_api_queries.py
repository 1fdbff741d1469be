"""List endpoints run a fixed number of queries whatever the page size or the number of rows."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from charging.services import action_plan_issue, case_refer_to_cps, decision_record
from tests.factories import CaseFactory
from victims.services import order_consider, victim_add

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
D = datetime.date


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


def queries(api, url, **params) -> tuple[int, dict]:
    api.get(url, params)  # warm up: last-used stamp, rule sync
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


@pytest.fixture
def many_cases(oic_a, prosecutor_a):
    """50 cases of force A with every related table the representation shows filled on some of them."""
    for n in range(50):
        case = CaseFactory(
            actor=oic_a,
            urn=f"Q{n:03d}",
            reported_on=D(2026, 2, 20),
            offence="OAPA-47" if n % 3 else "CJA88-39",
        )
        if n % 2:
            referral = case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 23))
            if n % 4 == 1:
                action_plan_issue(
                    actor=prosecutor_a,
                    referral=referral,
                    decided_on=D(2026, 2, 25),
                    reasons="More.",
                    respond_by=D(2026, 3, 9),
                    actions=[{"description": "One", "due_on": D(2026, 3, 5)}, {"description": "Two"}],
                )
            else:
                decision_record(
                    actor=prosecutor_a,
                    referral=referral,
                    outcome="charge",
                    test="full_code",
                    decided_on=D(2026, 2, 26),
                    reasons="Met.",
                )


@pytest.mark.parametrize("ordering", ["changed_at", "next_due"])
def test_the_case_list_costs_the_same_for_5_or_50_cases(api_a, many_cases, ordering):
    small, page_small = queries(api_a, "/api/v1/cases/", page_size=5, ordering=ordering)
    large, page_large = queries(api_a, "/api/v1/cases/", page_size=50, ordering=ordering)
    assert len(page_small["results"]) == 5 and len(page_large["results"]) == 50
    assert small == large
    assert large <= 12


def test_filters_do_not_add_queries_per_row(api_a, many_cases):
    small, _ = queries(api_a, "/api/v1/cases/", page_size=5, status="referred", clock_state="running")
    large, _ = queries(api_a, "/api/v1/cases/", page_size=50, status="referred", clock_state="running")
    assert small == large


def test_the_victim_and_order_lists_cost_the_same_for_1_or_10_rows(api_a, oic_a):
    one = CaseFactory(actor=oic_a, urn="ONE", reported_on=D(2026, 2, 20))
    ten = CaseFactory(actor=oic_a, urn="TEN", reported_on=D(2026, 2, 20))
    victim_add(actor=oic_a, case=one, given_name="A", family_name="B")
    order_consider(actor=oic_a, case=one, kind="restraining", on=D(2026, 2, 21))
    for n in range(10):
        victim_add(actor=oic_a, case=ten, given_name="A", family_name=f"B{n}")
        order_consider(actor=oic_a, case=ten, kind="restraining", on=D(2026, 2, 21))
    for path in ("victims", "orders"):
        few, rows_few = queries(api_a, f"/api/v1/cases/ONE/{path}/")
        lots, rows_lots = queries(api_a, f"/api/v1/cases/TEN/{path}/")
        assert (len(rows_few), len(rows_lots)) == (1, 10)
        assert few == lots, path
