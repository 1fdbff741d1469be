"""The clock sweep: set-based, idempotent, safe when two run at once, London "today" across midnight and the
clock changes, and in agreement with the Python state rule. Also the bank holiday override recompute."""

from __future__ import annotations

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import ledger
from cases.models import BankHolidayOverride, Clock, ClockEvent, SweepRun
from cases.services import bank_holiday_override_remove, bank_holiday_override_set
from charging.services import case_refer_to_cps
from tests.conftest import TODAY
from tests.factories import CaseFactory

LONDON = ZoneInfo("Europe/London")
D = datetime.date


def investigation(case) -> Clock:
    return case.clocks.get(kind=Clock.Kind.INVESTIGATION)


@pytest.mark.django_db
def test_sweep_moves_states_and_records_each_crossing_once(oic_a):
    # Reported 1 Feb 2026: investigation due 22 Feb; due soon from 19 Feb (3 days).
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 2, 1), today=D(2026, 2, 1), offence="OAPA-47")
    clock = investigation(case)
    assert (clock.due_on, clock.warn_on, clock.state) == (D(2026, 2, 22), D(2026, 2, 19), "running")

    run = ledger.sweep(today=D(2026, 2, 18))
    assert run.status == "done" and run.examined == 0
    ledger.sweep(today=D(2026, 2, 19))
    clock.refresh_from_db()
    assert clock.state == "due_soon"
    ledger.sweep(today=D(2026, 2, 22))
    clock.refresh_from_db()
    assert clock.state == "due_soon", "the due day itself is not overdue"
    run = ledger.sweep(today=D(2026, 2, 23))
    clock.refresh_from_db()
    assert clock.state == "overdue"
    assert run.examined >= 1
    again = ledger.sweep(today=D(2026, 2, 23))
    assert (again.examined, again.events) == (0, 0), "a second run changes nothing"
    crossings = list(ClockEvent.objects.filter(clock=clock).values_list("to_state", "crossed_on"))
    assert sorted(crossings) == [("due_soon", D(2026, 2, 19)), ("overdue", D(2026, 2, 23))]


@pytest.mark.django_db
def test_stl_passes_to_time_barred_and_is_flagged_eight_weeks_before(oic_a):
    # Common assault on 10 Jan 2026: s.127 STL 10 Jul 2026; flagged from 15 May 2026 (56 days before).
    case = CaseFactory(
        actor=oic_a, reported_on=D(2026, 1, 10), committed_on=D(2026, 1, 10), today=D(2026, 1, 12)
    )
    stl = case.clocks.get(kind=Clock.Kind.STL)
    assert (stl.due_on, stl.warn_on) == (D(2026, 7, 10), D(2026, 5, 15))
    ledger.sweep(today=D(2026, 5, 14))
    stl.refresh_from_db()
    assert stl.state == "running"
    ledger.sweep(today=D(2026, 5, 15))
    stl.refresh_from_db()
    assert stl.state == "due_soon"
    ledger.sweep(today=D(2026, 7, 11))
    stl.refresh_from_db()
    assert stl.state == "time_barred"
    from cases.models import Case

    assert Case.objects.time_barred().filter(pk=case.pk).exists()


@pytest.mark.django_db
def test_stopped_clocks_are_left_alone(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 2, 1), today=D(2026, 2, 2), offence="OAPA-47")
    case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 5), today=D(2026, 2, 5))
    ledger.sweep(today=D(2026, 12, 1))
    assert investigation(case).state == "met"


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_do_not_double_anything(oic_a):
    for i in range(5):
        CaseFactory(actor=oic_a, reported_on=D(2026, 1, 1), today=D(2026, 1, 1), urn=f"CONC{i}")
    results: list[SweepRun] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            results.append(ledger.sweep(today=D(2026, 3, 1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status for r in results} <= {"done", "skipped"}
    assert sum(r.events for r in results) == ClockEvent.objects.filter(crossed_on=D(2026, 3, 1)).count()
    assert ClockEvent.objects.filter(crossed_on=D(2026, 3, 1), kind="investigation").count() == 5
    # A sweep that ran after both changes nothing.
    assert ledger.sweep(today=D(2026, 3, 1)).events == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("instant", "london_day"),
    [
        (datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC), D(2026, 7, 1)),  # 00:30 BST
        (datetime.datetime(2026, 1, 31, 23, 59, tzinfo=datetime.UTC), D(2026, 1, 31)),  # GMT: same day
        (
            datetime.datetime(2026, 3, 29, 0, 30, tzinfo=datetime.UTC),
            D(2026, 3, 29),
        ),  # clocks go forward at 01:00
        (
            datetime.datetime(2026, 10, 24, 23, 30, tzinfo=datetime.UTC),
            D(2026, 10, 25),
        ),  # 00:30 BST, last day of BST
        (datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC), D(2026, 10, 25)),  # after going back
    ],
)
def test_sweep_uses_the_london_date(instant, london_day):
    with time_machine.travel(instant, tick=False):
        run = ledger.sweep()
    assert run.today == london_day


@pytest.mark.django_db
def test_sweep_across_midnight_bst(oic_a):
    """A clock due 30 Jun becomes overdue at 00:00 London time on 1 Jul, i.e. 23:00 UTC on 30 Jun."""
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 6, 9), today=D(2026, 6, 9), offence="OAPA-47")
    clock = investigation(case)
    assert clock.due_on == D(2026, 6, 30)
    with time_machine.travel(datetime.datetime(2026, 6, 30, 22, 59, tzinfo=datetime.UTC), tick=False):
        ledger.sweep()
    clock.refresh_from_db()
    assert clock.state == "due_soon"
    with time_machine.travel(datetime.datetime(2026, 6, 30, 23, 1, tzinfo=datetime.UTC), tick=False):
        ledger.sweep()
    clock.refresh_from_db()
    assert clock.state == "overdue"


@pytest.mark.django_db
def test_sweep_command_and_task(oic_a, capsys):
    CaseFactory(actor=oic_a, reported_on=D(2026, 1, 1), today=D(2026, 1, 1))
    call_command("sweep_clocks", "--today", "2026-03-01")
    out = capsys.readouterr().out
    assert "Sweep for 2026-03-01: Done" in out
    from cases.tasks import sweep_clocks

    result = sweep_clocks.apply().get()
    assert result["status"] == "done"
    assert SweepRun.objects.count() == 2


def test_sweep_command_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be a date like"):
        call_command("sweep_clocks", "--today", "1 March")


@pytest.mark.django_db
def test_failed_sweep_is_recorded(monkeypatch):
    monkeypatch.setattr(ledger, "_SWEEP_SQL", "SELECT no_such_function()")
    with pytest.raises(Exception, match="no_such_function"):
        ledger.sweep(today=TODAY)
    run = SweepRun.objects.get()
    assert run.status == "failed" and "no_such_function" in run.error and run.finished_at


# The SQL and the Python rule must agree for every kind, date and threshold.
@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["investigation", "stl", "charge"]),
    offset=st.integers(min_value=-70, max_value=70),
)
def test_sweep_sql_agrees_with_ledger_state(oic_a, kind, offset):
    case = CaseFactory(
        actor=oic_a, reported_on=D(2026, 1, 10), committed_on=D(2026, 1, 10), today=D(2026, 1, 10)
    )
    clock = case.clocks.get(kind="stl" if kind == "stl" else "investigation")
    day = clock.due_on + datetime.timedelta(days=offset)
    ledger.sweep(today=day)
    clock.refresh_from_db()
    assert clock.state == ledger.ledger_state(
        kind=clock.kind, due_on=clock.due_on, warn_on=clock.warn_on, today=day
    )


@pytest.mark.django_db
def test_bank_holiday_override_recomputes_open_charging_clocks(oic_a):
    # Received Mon 15 Dec 2025: 10 working days, skipping 25 and 26 Dec -> Wed 31 Dec 2025.
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 15), offence="OAPA-47")
    case_refer_to_cps(actor=oic_a, case=case, received_on=D(2025, 12, 15), today=D(2025, 12, 15))
    clock = case.clocks.get(kind=Clock.Kind.CHARGING_DECISION)
    assert clock.due_on == D(2025, 12, 31)
    with time_machine.travel(datetime.datetime(2025, 12, 16, 9, tzinfo=LONDON), tick=False):
        bank_holiday_override_set(
            actor=oic_a, day=D(2025, 12, 29), action="add", reason="A proclaimed holiday"
        )
        clock.refresh_from_db()
        assert clock.due_on == D(2026, 1, 2), (
            "one more holiday in the window moves the deadline one working day"
        )
        bank_holiday_override_remove(actor=oic_a, day=D(2025, 12, 29))
        clock.refresh_from_db()
        assert clock.due_on == D(2025, 12, 31)
    assert not BankHolidayOverride.objects.exists()
