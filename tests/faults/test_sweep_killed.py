"""A sweep process killed (SIGKILL) in the middle of its one statement: nothing is half-applied, the next run
completes, every clock ends in the right state and each threshold crossing is recorded exactly once.

The kill lands mid-statement for certain: the test holds a row lock on one clock the sweep must change, so the
sweep's UPDATE stops on that row with part of the table already updated (uncommitted), and the test sees it
waiting in pg_stat_activity before it kills the process. Real processes: ``manage.py sweep_clocks`` against the
test database."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time

import psycopg2
import pytest
from django.db import connection

from cases import ledger
from cases.models import Case, Clock, ClockEvent, SweepRun
from tests.conftest import TODAY
from tests.factories import CaseFactory
from tests.faults.stack import PY, ROOT, base_env, db_url, wait_until

pytestmark = pytest.mark.faults

CLOCKS = 5_000


def make_cases_with_clocks(template: Case, n: int, day: datetime.date) -> None:
    """``n`` copies of ``template`` (set-based SQL), each with one open investigation clock, due from 10 days
    before ``day`` to 19 days after: a third overdue, a few due soon, the rest running."""
    case_cols = [f.column for f in Case._meta.concrete_fields if f.column not in ("id", "urn")]
    clock_cols = [
        f.column
        for f in Clock._meta.concrete_fields
        if f.column not in ("id", "case_id", "started_on", "due_on", "warn_on", "state", "previous_state")
    ]
    source = template.clocks.get(kind=Clock.Kind.INVESTIGATION)
    cc, kc = ", ".join(case_cols), ", ".join(clock_cols)
    sql = f"""
        WITH new_cases AS (
            INSERT INTO cases_case (urn, {cc})
            SELECT 'FLT' || lpad(g::text, 7, '0'), {", ".join("t." + c for c in case_cols)}
            FROM cases_case t CROSS JOIN generate_series(1, %(n)s) g WHERE t.id = %(case)s
            RETURNING id, urn
        ), dated AS (
            SELECT id, %(day)s::date + (substr(urn, 4)::int %% 30 - 10) AS due_on FROM new_cases
        )
        INSERT INTO cases_clock (case_id, started_on, due_on, warn_on, state, previous_state, {kc})
        SELECT d.id, d.due_on - 21, d.due_on, d.due_on - 3, 'running', '', {", ".join("k." + c for c in clock_cols)}
        FROM dated d CROSS JOIN cases_clock k WHERE k.id = %(clock)s
    """  # noqa: S608 - column names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"n": n, "case": template.pk, "clock": source.pk, "day": day})
        cursor.execute("ANALYZE cases_clock")


def expected_changes(day: datetime.date) -> dict[int, str]:
    """What the sweep must do, by the Python rule: clock id -> new state, for the open clocks that change."""
    changes = {}
    for pk, kind, due_on, warn_on, state in Clock.objects.open().values_list(
        "pk", "kind", "due_on", "warn_on", "state"
    ):
        new = ledger.ledger_state(kind=kind, due_on=due_on, warn_on=warn_on, today=day)
        if new != state:
            changes[pk] = new
    return changes


def sql_one(query: str, *params: object) -> object:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    return row[0] if row else None


def sweep_backend_waiting() -> int | None:
    """The pid of the server process running a sweep statement that waits on a row lock."""
    return sql_one(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query LIKE %s",
        "%WITH changed AS%",
    )


def backend_alive(pid: int) -> bool:
    return bool(sql_one("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid))


class KilledSweep:
    """Start ``manage.py sweep_clocks`` with a row lock held on ``clock_id``, wait until the statement waits on
    it, SIGKILL the process. Then ``release()`` lets the orphaned server process run on and roll back."""

    def __init__(self, clock_id: int, day: datetime.date, log) -> None:
        self.locker = psycopg2.connect(db_url().replace("postgres://", "postgresql://", 1))
        with self.locker.cursor() as cursor:
            cursor.execute("SELECT id FROM cases_clock WHERE id = %s FOR UPDATE", [clock_id])
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [PY, "manage.py", "sweep_clocks", "--today", day.isoformat()],
            cwd=ROOT,
            env=base_env(),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.backend = wait_until(sweep_backend_waiting, 30, "the sweep statement to wait on the row lock")
        self.run = SweepRun.objects.get(status="running")
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def release(self) -> float:
        """Release the row lock; return how long the orphaned server process took to go."""
        started = time.monotonic()
        self.locker.rollback()
        self.locker.close()
        wait_until(lambda: not backend_alive(self.backend), 60, "the orphaned sweep backend to end")
        return time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_mid_statement_loses_and_doubles_nothing(oic_a, tmp_path, capsys):
    template = CaseFactory(actor=oic_a, urn="FLT-TEMPLATE", today=TODAY)
    started = time.monotonic()
    make_cases_with_clocks(template, CLOCKS, TODAY)
    generated = time.monotonic() - started
    expected = expected_changes(TODAY)
    assert len(expected) > CLOCKS // 3, "a third of the clocks must cross a threshold"
    crossings = {pk: state for pk, state in expected.items() if state != "running"}
    before = {pk: state for pk, state in Clock.objects.filter(pk__in=expected).values_list("pk", "state")}
    events_before = ClockEvent.objects.count()

    # Lock a clock in the middle of the table: the sweep's UPDATE has changed part of the table when it waits.
    killed = KilledSweep(sorted(expected)[len(expected) // 2], TODAY, tmp_path / "sweep.log")
    assert killed.proc.returncode == -signal.SIGKILL

    # The server has not noticed its client died: the orphaned statement still holds the sweep's advisory lock,
    # so a sweep started now skips (safely: it changes nothing).
    assert backend_alive(killed.backend)
    skipped = ledger.sweep(today=TODAY)
    assert skipped.status == "skipped"

    orphan_seconds = killed.release()
    # The orphan finished its statement, could not answer its dead client, and rolled back: nothing applied.
    assert dict(Clock.objects.filter(pk__in=expected).values_list("pk", "state")) == before
    assert ClockEvent.objects.count() == events_before
    assert not ClockEvent.objects.filter(sweep_run_id=killed.run.pk).exists()

    started = time.monotonic()
    done = ledger.sweep(today=TODAY)
    sweep_seconds = time.monotonic() - started
    assert done.status == "done"
    assert (done.examined, done.events) == (len(expected), len(crossings))
    assert expected_changes(TODAY) == {}, "every open clock is in its state for the day"
    recorded = list(ClockEvent.objects.filter(sweep_run_id=done.pk).values_list("clock_id", "to_state"))
    assert len(recorded) == len(crossings), "one event per crossing, none doubled"
    assert dict(recorded) == crossings, "and none lost"

    again = ledger.sweep(today=TODAY)
    assert (again.status, again.examined, again.events) == ("done", 0, 0)
    killed.run.refresh_from_db()
    with capsys.disabled():
        print(
            f"\n[faults] sweep kill: {CLOCKS} clocks made in {generated:.1f}s; {len(expected)} changes, "
            f"{len(crossings)} crossings; orphaned backend gone {orphan_seconds:.2f}s after the lock was released; "
            f"rerun {sweep_seconds:.2f}s; killed run left '{killed.run.status}'"
        )


@pytest.mark.django_db(transaction=True)
def test_the_next_sweep_marks_a_killed_run_as_failed(oic_a, tmp_path):
    case = CaseFactory(actor=oic_a, urn="FLT-ONE", reported_on=TODAY, today=TODAY)
    clock = case.clocks.get(kind=Clock.Kind.INVESTIGATION)
    day = clock.warn_on  # the clock becomes due soon: the sweep must update its row
    killed = KilledSweep(clock.pk, day, tmp_path / "sweep.log")
    killed.release()
    assert ledger.sweep(today=day).status == "done"
    killed.run.refresh_from_db()
    assert killed.run.status == "failed" and killed.run.finished_at is not None
