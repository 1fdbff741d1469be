"""The derived columns (cases/derived.py): kept right by the ledger, the services and the sweep, never clobbered
by a stale ``save()``, never in the audit history, and equal to a full recomputation after any workflow."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from cases import derived, ledger
from cases.models import BankHolidayOverride, Case, Clock
from cases.services import bank_holiday_override_set, case_restrict
from charging import services as charging
from charging.models import ChargingReferral
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date
REPORTED = D(2025, 12, 1)
RECEIVED = D(2025, 12, 15)  # charging decision due Wed 31 Dec 2025


def derived_values(case: Case) -> tuple:
    row = Case.objects.values_list("next_due_on", "action_plans_count", "changed_at").get(pk=case.pk)
    return row


def expected_next_due(case: Case) -> datetime.date | None:
    dues = list(case.clocks.filter(stopped_on__isnull=True).values_list("due_on", flat=True))
    return min(dues) if dues else None


def test_next_due_follows_the_open_clocks(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    assert expected_next_due(case) is not None
    assert derived_values(case)[0] == expected_next_due(case)
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
    # The investigation clock stopped and a charging clock opened: the earliest open due date moved.
    assert derived_values(case)[0] == expected_next_due(case)


def test_decision_due_on_is_the_charging_clock_and_moves_with_a_bank_holiday(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
    referral.refresh_from_db()
    assert referral.decision_due_on == D(2025, 12, 31)
    admin = prosecutor_a.__class__.objects.create_superuser("root", "root@example.org", "x")
    bank_holiday_override_set(
        actor=admin, day=D(2025, 12, 29), action=BankHolidayOverride.Action.ADD, reason="Proclamation"
    )
    referral.refresh_from_db()
    assert referral.decision_due_on == D(2026, 1, 2)  # one more holiday: Thu 1 Jan is one too
    assert Case.objects.get(pk=case.pk).next_due_on == expected_next_due(case)


def test_action_plans_are_counted(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    for n in (1, 2):
        referral = charging.case_refer_to_cps(
            actor=oic_a, case=case, received_on=RECEIVED + datetime.timedelta(days=7 * (n - 1)), today=TODAY
        )
        charging.action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=RECEIVED + datetime.timedelta(days=7 * (n - 1) + 2),
            reasons="Need the 999 call.",
            respond_by=RECEIVED + datetime.timedelta(days=7 * n),
            actions=[{"description": "Obtain the 999 recording"}],
            today=TODAY,
        )
        assert derived_values(case)[1] == n


def test_a_stale_instance_cannot_overwrite_them(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    stale = Case.objects.get(pk=case.pk)
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
    fresh = derived_values(case)
    stale.summary = "Edited from an old copy"
    stale.save()
    assert derived_values(case) == fresh
    assert Case.objects.get(pk=case.pk).summary == "Edited from an old copy"


def test_a_stale_clock_or_submission_cannot_undo_a_restriction(oic_a, supervisor_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED, police_perpetrated=True)
    referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
    stale_clock, stale_referral = (
        Clock.objects.filter(case=case).first(),
        ChargingReferral.objects.get(pk=referral.pk),
    )
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Serving officer.")
    stale_clock.label, stale_referral.notes = "Edited from an old copy", "Edited from an old copy"
    stale_clock.save()
    stale_referral.save()
    assert Clock.objects.get(pk=stale_clock.pk).restricted and Clock.objects.get(pk=stale_clock.pk).label == (
        "Edited from an old copy"
    )
    assert ChargingReferral.objects.get(pk=referral.pk).restricted


def test_every_service_marks_the_case_changed(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    before = derived_values(case)[2]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
        assert derived_values(case)[2] == timezone.now()
    assert derived_values(case)[2] > before


def test_the_sweep_marks_only_the_cases_whose_clocks_moved(oic_a):
    moving = CaseFactory(actor=oic_a, reported_on=TODAY)  # investigation due in 21 days: running today
    still = CaseFactory(actor=oic_a, reported_on=TODAY)
    ledger.sweep(today=TODAY)
    marks = {c.pk: derived_values(c)[2] for c in (moving, still)}
    # Bring one case's investigation clock into its warning days tomorrow (by hand, as if it had been so).
    Clock.objects.filter(case=moving, kind="investigation").update(warn_on=TODAY + datetime.timedelta(days=1))
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1), tick=False):
        run = ledger.sweep(today=TODAY + datetime.timedelta(days=1))
        assert run.examined >= 1
        assert derived_values(moving)[2] == timezone.now()
    assert derived_values(still)[2] == marks[still.pk]


def test_derived_columns_are_not_audited(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    n = case.history.count()
    derived.case_refresh(case.pk, now=timezone.now())
    derived.next_due_refresh([case.pk])
    assert case.history.count() == n


def test_incremental_values_equal_a_full_recomputation(oic_a, prosecutor_a, supervisor_a):
    cases = [CaseFactory(actor=oic_a, reported_on=REPORTED) for _ in range(2)]
    cases.append(CaseFactory(actor=oic_a, reported_on=REPORTED, police_perpetrated=True))
    referral = charging.case_refer_to_cps(actor=oic_a, case=cases[0], received_on=RECEIVED, today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=RECEIVED + datetime.timedelta(days=2),
        reasons="Need the 999 call.",
        respond_by=RECEIVED + datetime.timedelta(days=14),
        actions=[
            {"description": "Obtain the 999 recording", "due_on": RECEIVED + datetime.timedelta(days=10)}
        ],
        today=TODAY,
    )
    charging.case_refer_to_cps(actor=oic_a, case=cases[1], received_on=RECEIVED, today=TODAY)
    ledger.sweep(today=TODAY)
    # Referred, then restricted: the submission's and the clocks' copies follow the case.
    charging.case_refer_to_cps(actor=oic_a, case=cases[2], received_on=RECEIVED, today=TODAY)
    case_restrict(actor=supervisor_a, case=cases[2], users=[oic_a], reason="Serving officer.")
    ledger.sweep(today=TODAY)
    ref_rows = "SELECT id, decision_due_on, force_id, cps_area_id, restricted FROM charging_chargingreferral"
    ref_rows += " ORDER BY id"
    case_rows = (
        "SELECT id, next_due_on, stl_due_on, action_plans_count, last_plan_on FROM cases_case ORDER BY id"
    )
    clock_rows = "SELECT id, force_id, cps_area_id, restricted FROM cases_clock ORDER BY id"
    with connection.cursor() as cur:
        cur.execute(case_rows)
        incremental_cases = cur.fetchall()
        cur.execute(ref_rows)
        incremental_refs = cur.fetchall()
        cur.execute(clock_rows)
        incremental_clocks = cur.fetchall()
        cur.execute(
            "UPDATE cases_case SET next_due_on = NULL, stl_due_on = NULL, action_plans_count = 0, last_plan_on = NULL"
        )
        cur.execute(
            "UPDATE charging_chargingreferral"
            " SET decision_due_on = NULL, cps_area_id = NULL, restricted = NOT restricted"
        )
        cur.execute("UPDATE cases_clock SET cps_area_id = NULL, restricted = NOT restricted")
    derived.refresh_all()
    with connection.cursor() as cur:
        cur.execute(case_rows)
        assert cur.fetchall() == incremental_cases
        cur.execute(ref_rows)
        assert cur.fetchall() == incremental_refs
        cur.execute(clock_rows)
        assert cur.fetchall() == incremental_clocks
    assert any(row[3] == 1 and row[4] is not None for row in incremental_cases)
    assert any(row[2] is not None for row in incremental_cases)  # an open STL
    assert all(row[1] is not None and row[3] is not None for row in incremental_refs)
    # The copies are the case's: referred cases' clocks carry the Area, the restricted case's the flag.
    by_case = dict(Case.objects.values_list("pk", "cps_area_id"))
    for case in cases:
        for model in (Clock, ChargingReferral):
            copies = set(model.objects.filter(case=case).values_list("force_id", "cps_area_id", "restricted"))
            assert copies == {(case.force_id, by_case[case.pk], case is cases[2])}, model


def test_stl_due_on_is_the_earliest_open_statutory_time_limit(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=REPORTED)
    stl = case.clocks.filter(stopped_on__isnull=True, kind__in=Clock.STL_KINDS)
    assert stl.exists()
    assert Case.objects.get(pk=case.pk).stl_due_on == min(stl.values_list("due_on", flat=True))
    ledger.clocks_stop(list(stl), on=TODAY, outcome=Clock.State.CANCELLED)
    assert Case.objects.get(pk=case.pk).stl_due_on is None
    assert Case.objects.get(pk=case.pk).next_due_on == expected_next_due(case)
