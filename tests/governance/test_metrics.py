"""The joint performance figures against a small data set computed by hand.

Six cases built through the services with explicit dates (London "today" Mon 2 Mar 2026, time frozen):

Greater Manchester Police (GMP, a pilot site; CPS North West):
  C1  common assault, reported Mon 5 Jan. Referred Mon 12 Jan (7 days; 21-day investigation met). Victim V1.
      Charge decided Fri 16 Jan (4 working days: met). Charged Tue 20 Jan (4 days: met). V1's update after the
      decision was due Mon 19 Jan and superseded unmet by the charge on 20 Jan (late); the update after the
      charge was given on Wed 21 Jan (on time). Non-molestation order considered 5, applied 6, granted 7 Jan;
      breached Tue 10 Feb. V1 supported a prosecution on 6 Jan and withdrew on 3 Feb.
  C2  common assault, reported Fri 2 Jan. Referred Fri 30 Jan (28 days; investigation missed: due 23 Jan).
      Returned at triage Mon 2 Feb (no MG3, no exhibits). Resubmitted Thu 5 Feb; action plan Fri 6 Feb (rated
      disproportionate and escalated Mon 9 Feb). Resubmitted Tue 10 Feb; action plan Thu 12 Feb (rated
      proportionate 13 Feb). Police NFA Mon 16 Feb.
  C3  harassment on 1 Sep 2025 (STL 1 Mar 2026), reported 1 Dec 2025. Referred Mon 2 Feb (63 days; STL 27
      days away: found on receipt; investigation missed). Accepted at triage 3 Feb. NFA decided Fri 13 Feb
      (9 working days: met).
  C4  harassment on 10 Jul 2025 (STL 10 Jan 2026), reported 15 Dec 2025, never charged: an STL failure (Jan).
West Yorkshire Police (WYP, not a pilot; CPS Yorkshire and Humberside):
  C5  common assault, reported Tue 6 Jan. Referred Thu 8 Jan (2 days; investigation met). Charge decided Mon
      26 Jan (12 working days: missed, due 22 Jan). Charged Thu 5 Feb (10 days: missed, due 2 Feb). Restraining
      order considered 6 Jan.
  C6  common assault, reported Mon 26 Jan. Referred Mon 2 Feb (7 days; investigation met). Action plan Tue 3
      Feb. Resubmitted Mon 9 Feb; NFA decided Mon 16 Feb (5 working days: met): CPS NFA after an action plan.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Organisation
from cases.services import case_record_police_outcome
from charging import services as charging
from governance import plan_services as gov_charging
from governance import services
from governance.metrics import METRIC_KEYS, performance_report, performance_report_direct, rows_allowed_for
from governance.models import PerformanceRefresh
from tests.conftest import TODAY
from tests.factories import CaseFactory
from victims import services as victims

pytestmark = pytest.mark.django_db

D = datetime.date
JAN, FEB = D(2026, 1, 1), D(2026, 2, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


def refer(actor, case, on):
    return charging.case_refer_to_cps(actor=actor, case=case, received_on=on, today=TODAY)


def plan(actor, referral, on):
    return charging.action_plan_issue(
        actor=actor,
        referral=referral,
        decided_on=on,
        reasons="Further lines of inquiry needed.",
        respond_by=on + datetime.timedelta(days=14),
        actions=[{"description": "Obtain the 999 call recording", "due_on": on + datetime.timedelta(days=7)}],
        today=TODAY,
    )


def decide(actor, referral, outcome, on):
    return charging.decision_record(
        actor=actor,
        referral=referral,
        outcome=outcome,
        decided_on=on,
        reasons="Reasons given.",
        test="full_code" if outcome == "charge" else "",
        today=TODAY,
    )


@pytest.fixture
def dataset(oic_a, supervisor_a, prosecutor_a, oic_b, prosecutor_b):
    Organisation.objects.filter(code="GMP").update(is_pilot=True)
    # C1
    c1 = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5), committed_on=D(2026, 1, 2))
    v1 = victims.victim_add(actor=oic_a, case=c1, given_name="Ann", family_name="Victim", today=TODAY)
    victims.victim_position_record(actor=oic_a, victim=v1, position="supports", on=D(2026, 1, 6), today=TODAY)
    order = victims.order_consider(
        actor=oic_a, case=c1, kind="non_molestation", on=D(2026, 1, 5), today=TODAY
    )
    victims.order_apply(actor=oic_a, order=order, on=D(2026, 1, 6), today=TODAY)
    victims.order_grant(
        actor=oic_a,
        order=order,
        on=D(2026, 1, 7),
        expires_on=D(2026, 7, 7),
        conditions="No contact.",
        today=TODAY,
    )
    r = refer(oic_a, c1, D(2026, 1, 12))
    decide(prosecutor_a, r, "charge", D(2026, 1, 16))
    charging.charge_record(actor=oic_a, case=c1, charged_on=D(2026, 1, 20), today=TODAY)
    victims.victim_contact_record(
        actor=oic_a,
        victim=v1,
        contacted_at=datetime.datetime(2026, 1, 21, 10, 0, tzinfo=datetime.UTC),
        method="phone",
        purpose="update",
    )
    victims.victim_position_record(
        actor=oic_a, victim=v1, position="withdrew", on=D(2026, 2, 3), reasons="Afraid.", today=TODAY
    )
    victims.breach_record(
        actor=oic_a,
        order=order,
        occurred_on=D(2026, 2, 10),
        reported_on=D(2026, 2, 11),
        urn="BREACH1",
        today=TODAY,
    )
    # C2
    c2 = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 2), committed_on=D(2026, 1, 1))
    r = refer(oic_a, c2, D(2026, 1, 30))
    charging.referral_triage(
        actor=prosecutor_a,
        referral=r,
        accept=False,
        on=D(2026, 2, 2),
        reasons=["no_mg3", "no_exhibits"],
        respond_by=D(2026, 2, 9),
        today=TODAY,
    )
    r = refer(oic_a, c2, D(2026, 2, 5))
    p1 = plan(prosecutor_a, r, D(2026, 2, 6))
    gov_charging.action_plan_rate(
        actor=supervisor_a,
        plan=p1,
        rating="disproportionate",
        on=D(2026, 2, 9),
        notes="Overbuild.",
        today=TODAY,
    )
    gov_charging.action_plan_escalation_raise(
        actor=supervisor_a, plan=p1, on=D(2026, 2, 9), grounds="Not needed for charge.", today=TODAY
    )
    r = refer(oic_a, c2, D(2026, 2, 10))
    p2 = plan(prosecutor_a, r, D(2026, 2, 12))
    gov_charging.action_plan_rate(
        actor=supervisor_a, plan=p2, rating="proportionate", on=D(2026, 2, 13), today=TODAY
    )
    case_record_police_outcome(
        actor=oic_a, case=c2, outcome="nfa", on=D(2026, 2, 16), reason="Evidence not obtainable.", today=TODAY
    )
    # C3
    c3 = CaseFactory(actor=oic_a, offence="PHA97-2", reported_on=D(2025, 12, 1), committed_on=D(2025, 9, 1))
    r = refer(oic_a, c3, D(2026, 2, 2))
    charging.referral_triage(actor=prosecutor_a, referral=r, accept=True, on=D(2026, 2, 3), today=TODAY)
    decide(prosecutor_a, r, "nfa", D(2026, 2, 13))
    # C4
    CaseFactory(actor=oic_a, offence="PHA97-2", reported_on=D(2025, 12, 15), committed_on=D(2025, 7, 10))
    # C5
    c5 = CaseFactory(actor=oic_b, reported_on=D(2026, 1, 6), committed_on=D(2026, 1, 5))
    victims.order_consider(actor=oic_b, case=c5, kind="restraining", on=D(2026, 1, 6), today=TODAY)
    r = refer(oic_b, c5, D(2026, 1, 8))
    decide(prosecutor_b, r, "charge", D(2026, 1, 26))
    charging.charge_record(actor=oic_b, case=c5, charged_on=D(2026, 2, 5), today=TODAY)
    # C6
    c6 = CaseFactory(actor=oic_b, reported_on=D(2026, 1, 26), committed_on=D(2026, 1, 25))
    r = refer(oic_b, c6, D(2026, 2, 2))
    plan(prosecutor_b, r, D(2026, 2, 3))
    r = refer(oic_b, c6, D(2026, 2, 9))
    decide(prosecutor_b, r, "nfa", D(2026, 2, 16))


def refresh(**kwargs):
    run = services.performance_figures_refresh(**kwargs)
    assert run.status == PerformanceRefresh.Status.DONE, run.error
    return run


@pytest.fixture
def report(dataset):
    """The figures as the dashboard reads them: stored by a refresh, then read back."""
    refresh()
    return performance_report(start=JAN, end=FEB)


def cell(report, scope, month, code=None):
    rows = [
        r
        for r in report.rows
        if r.scope == scope and r.month == month and (code is None or r.organisation.code == code)
    ]
    assert len(rows) == 1, (scope, month, code, rows)
    return rows[0]


def check(row, **expected):
    got = {k: row.values[k] for k in expected}
    assert got == expected


def test_gmp_january(report):
    row = cell(report, "force", JAN, "GMP")
    check(
        row,
        referrals=2,
        first_referrals=2,
        median_days_report_to_referral=17.5,
        referrals_triaged=0,
        triage_rejections=0,
        final_decisions=1,
        charge_decisions=1,
        charge_rate=1.0,
        investigation_met=1,
        investigation_missed=1,
        share_investigation_21_days=0.5,
        decision_met=1,
        decision_missed=0,
        share_decision_10_working_days=1.0,
        median_working_days_referral_to_decision=4.0,
        charge_met=1,
        charge_missed=0,
        share_charge_7_days=1.0,
        median_days_decision_to_charge=4.0,
        victim_updates_met=1,
        victim_updates_missed=1,
        victims_code_compliance=0.5,
        stl_found_on_receipt=0,
        stl_failures=1,
        action_plans=0,
        action_plans_per_referral=0.0,
        action_plans_rated=0,
        share_rated_proportionate=None,
        orders_considered=1,
        orders_applied=1,
        orders_granted=1,
        orders_breached=0,
        nfa_after_action_plan=0,
        victim_withdrawals=0,
    )
    assert row.triage_failures == {}


def test_gmp_february(report):
    row = cell(report, "force", FEB, "GMP")
    check(
        row,
        referrals=3,
        first_referrals=1,
        median_days_report_to_referral=63.0,
        referrals_triaged=2,
        triage_rejections=1,
        final_decisions=1,
        charge_decisions=0,
        charge_rate=0.0,
        investigation_met=0,
        investigation_missed=1,
        share_investigation_21_days=0.0,
        decision_met=1,
        median_working_days_referral_to_decision=9.0,
        share_decision_10_working_days=1.0,
        charge_met=0,
        share_charge_7_days=None,
        median_days_decision_to_charge=None,
        victims_code_compliance=None,
        stl_found_on_receipt=1,
        stl_failures=0,
        action_plans=2,
        action_plans_per_referral=0.6667,
        action_plans_rated=2,
        share_rated_proportionate=0.5,
        action_plans_escalated=1,
        nfa_after_action_plan_police=1,
        nfa_after_action_plan_cps=0,
        nfa_after_action_plan=1,
        orders_considered=0,
        orders_breached=1,
        victim_withdrawals=1,
    )
    assert row.triage_failures == {"no_mg3": 1, "no_exhibits": 1}


def test_wyp_january_and_february(report):
    check(
        cell(report, "force", JAN, "WYP"),
        referrals=1,
        median_days_report_to_referral=2.0,
        final_decisions=1,
        charge_rate=1.0,
        share_investigation_21_days=1.0,
        decision_missed=1,
        share_decision_10_working_days=0.0,
        median_working_days_referral_to_decision=12.0,
        share_charge_7_days=None,
        orders_considered=1,
        orders_applied=0,
    )
    check(
        cell(report, "force", FEB, "WYP"),
        referrals=2,
        first_referrals=1,
        median_days_report_to_referral=7.0,
        final_decisions=1,
        charge_rate=0.0,
        investigation_met=1,
        decision_met=1,
        median_working_days_referral_to_decision=5.0,
        charge_missed=1,
        share_charge_7_days=0.0,
        median_days_decision_to_charge=10.0,
        action_plans=1,
        action_plans_per_referral=0.5,
        action_plans_rated=0,
        share_rated_proportionate=None,
        nfa_after_action_plan_cps=1,
        nfa_after_action_plan_police=0,
        nfa_after_action_plan=1,
        victim_withdrawals=0,
    )


def test_national_rows_by_month_and_for_the_period(report):
    check(
        cell(report, "national", JAN),
        referrals=3,
        median_days_report_to_referral=7.0,
        final_decisions=2,
        charge_rate=1.0,
        share_investigation_21_days=0.6667,
        share_decision_10_working_days=0.5,
        median_working_days_referral_to_decision=8.0,
        share_charge_7_days=1.0,
        victims_code_compliance=0.5,
        stl_failures=1,
        orders_considered=2,
    )
    check(
        cell(report, "national", FEB),
        referrals=5,
        first_referrals=2,
        median_days_report_to_referral=35.0,
        final_decisions=2,
        charge_rate=0.0,
        nfa_after_action_plan=2,
        median_working_days_referral_to_decision=7.0,
        action_plans=3,
        action_plans_per_referral=0.6,
        share_rated_proportionate=0.5,
        stl_found_on_receipt=1,
        orders_breached=1,
        victim_withdrawals=1,
    )
    check(
        cell(report, "national", None),
        referrals=8,
        first_referrals=5,
        median_days_report_to_referral=7.0,
        median_working_days_referral_to_decision=7.0,
        final_decisions=4,
        charge_rate=0.5,
        action_plans=3,
        investigation_met=3,
        investigation_missed=2,
    )
    check(
        cell(report, "force", None, "GMP"),
        referrals=5,
        median_days_report_to_referral=28.0,
        median_working_days_referral_to_decision=6.5,
        share_investigation_21_days=0.3333,
    )


def test_pilot_sites_against_the_rest_and_areas(report):
    for month in (JAN, FEB, None):
        assert cell(report, "pilot", month).values == cell(report, "force", month, "GMP").values
        assert cell(report, "rest", month).values == cell(report, "force", month, "WYP").values
        assert cell(report, "area", month, "NW").values == cell(report, "force", month, "GMP").values
        assert cell(report, "area", month, "YH").values == cell(report, "force", month, "WYP").values
    assert not [r for r in report.rows if r.scope == "force" and r.organisation.code not in ("GMP", "WYP")]
    assert set(cell(report, "national", JAN).values) == set(METRIC_KEYS)


def test_the_stored_figures_are_the_direct_computation(report):
    direct = performance_report_direct(start=JAN, end=FEB)
    assert [(r.key, r.month, r.values, r.triage_failures) for r in report.rows] == [
        (r.key, r.month, r.values, r.triage_failures) for r in direct.rows
    ]
    # England and Wales, pilot, rest, NW, YH, GMP, WYP: each for January, February and the period.
    assert len(report.rows) == 7 * 3


def test_the_figures_cost_a_fixed_number_of_queries(dataset, oic_a):
    def count(fn):
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx)

    first_refresh = count(lambda: refresh(full=True))
    first_read = count(lambda: performance_report(start=JAN, end=FEB))
    for _ in range(3):  # more cases must not mean more queries
        CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
    assert count(lambda: refresh(full=True)) == first_refresh
    assert count(lambda: performance_report(start=JAN, end=FEB)) == first_read
    assert first_refresh <= 21  # one statement more since early advice is its own family
    assert first_read <= 3
    assert count(lambda: performance_report(start=JAN, end=FEB)) == 1  # the same report again: cached


def test_rows_a_force_user_and_an_area_user_may_see(report, oic_a, prosecutor_b, supervisor_a):
    force_rows = report.restricted_to(rows_allowed_for(supervisor_a)).rows
    assert {(r.scope, r.organisation.code if r.organisation else None) for r in force_rows} == {
        ("national", None),
        ("pilot", None),
        ("rest", None),
        ("force", "GMP"),
        ("area", "NW"),
    }
    area_rows = report.restricted_to(rows_allowed_for(prosecutor_b)).rows
    assert {(r.scope, r.organisation.code) for r in area_rows if r.organisation} == {
        ("force", "WYP"),
        ("area", "YH"),
    }


def test_without_the_victims_position_record_withdrawals_are_not_available(monkeypatch, oic_a):
    """The guard: while victims.ProsecutionPosition does not exist, the figure is empty (not a wrong zero) and
    the sampling rule is skipped."""
    from governance import selectors

    def missing(app_label, model_name):
        raise LookupError(model_name)

    monkeypatch.setattr(selectors.apps, "get_model", missing)
    assert selectors.withdrawal_source() is None
    assert selectors.cases_victim_withdrew(selectors.Case.objects.all()) is None
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5))
    refer(oic_a, case, D(2026, 1, 12))
    refresh()
    report = performance_report(start=JAN, end=FEB)
    assert report.withdrawals_available is False
    assert cell(report, "national", JAN).values["victim_withdrawals"] is None
    assert cell(report, "national", JAN).values["referrals"] == 1
