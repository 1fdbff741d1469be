"""Early advice is counted apart from charging referrals in the performance figures (issue 15).

Two cases of Greater Manchester Police, both reported Mon 5 Jan 2026:
  E1  early advice asked for Wed 7 Jan and given Fri 9 Jan (its own record: no clock moves); the full file
      received Mon 12 Jan (7 days after the report: the 21-day investigation met); charge decided Fri 16 Jan.
  E2  recorded the old way: a submission "for early advice" received Thu 8 Jan (which stopped the investigation
      clock and ran a charging clock), answered Fri 9 Jan; the full file received Mon 19 Jan (14 days), not yet
      decided.
January at GMP: 2 referrals (both first), 2 early advice requests and 2 given; 1 investigation met (E2's, stopped
by early advice, is left out); 1 charging decision met (E2's early-advice clock is left out).
"""

from __future__ import annotations

import datetime

import pytest
import time_machine

from cases import ledger
from cases.models import Case
from charging import services as charging
from charging.models import ChargingReferral
from governance import services
from governance.metrics import performance_report, performance_report_direct
from governance.models import PerformanceRefresh
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date
JAN = D(2026, 1, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def dataset(oic_a, prosecutor_a):
    e1 = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5), committed_on=D(2026, 1, 4))
    asked = charging.early_advice_request(
        actor=oic_a, case=e1, requested_on=D(2026, 1, 7), question="Is the 999 call enough?", today=TODAY
    )
    charging.early_advice_give(
        actor=prosecutor_a, request=asked, given_on=D(2026, 1, 9), advice="Get the 999 call.", today=TODAY
    )
    r = charging.case_refer_to_cps(actor=oic_a, case=e1, received_on=D(2026, 1, 12), today=TODAY)
    charging.decision_record(
        actor=prosecutor_a,
        referral=r,
        outcome="charge",
        test="full_code",
        decided_on=D(2026, 1, 16),
        reasons="Met.",
        today=TODAY,
    )

    e2 = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 5), committed_on=D(2026, 1, 4))
    old = charging.case_refer_to_cps(actor=oic_a, case=e2, received_on=D(2026, 1, 8), today=TODAY)
    # As recorded before early advice had its own record.
    ChargingReferral.objects.filter(pk=old.pk).update(
        kind="early_advice", status="decided", closed_on=D(2026, 1, 9)
    )
    ledger.clocks_stop(old.clocks.open(), on=D(2026, 1, 9))
    Case.objects.filter(pk=e2.pk).update(status="investigation")
    charging.case_refer_to_cps(actor=oic_a, case=e2, received_on=D(2026, 1, 19), today=TODAY)
    return e1, e2


def test_early_advice_is_counted_apart_from_referrals(dataset):
    e1, e2 = dataset
    assert e2.clocks.get(kind="investigation").state == "met", "the old way: early advice stopped it"
    run = services.performance_figures_refresh(full=True)
    assert run.status == PerformanceRefresh.Status.DONE, run.error
    report = performance_report(start=JAN, end=JAN)
    [gmp] = [r for r in report.rows if r.scope == "force" and r.month == JAN]
    got = {
        k: gmp.values[k]
        for k in (
            "referrals",
            "first_referrals",
            "median_days_report_to_referral",
            "early_advice_requests",
            "early_advice_given",
            "investigation_met",
            "investigation_missed",
            "decision_met",
            "decision_missed",
            "final_decisions",
        )
    }
    assert got == {
        "referrals": 2,
        "first_referrals": 2,
        "median_days_report_to_referral": 10.5,
        "early_advice_requests": 2,
        "early_advice_given": 2,
        "investigation_met": 1,
        "investigation_missed": 0,
        "decision_met": 1,
        "decision_missed": 0,
        "final_decisions": 1,
    }
    direct = performance_report_direct(start=JAN, end=JAN)
    assert [(r.key, r.month, r.values) for r in report.rows] == [
        (r.key, r.month, r.values) for r in direct.rows
    ]
