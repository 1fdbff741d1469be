"""The audit trail cannot be rewritten (issue 21, DPA 2018 s.62): every audit table (the timeline, the clock
crossings, every row-history table, the read log, the address log, the purge's own runs) refuses UPDATE and DELETE
in the database, through the ORM and through raw SQL; the one way out is the retention purge, run by an operator,
which deletes only rows older than the retention period and records its run."""

from __future__ import annotations

import datetime
import io

import pghistory.models
import pgtrigger
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cases import retention
from cases.models import AuditPurgeRun, CaseEvent, ClockEvent
from cases.services import case_restrict
from tests.conftest import TODAY
from tests.factories import CaseFactory
from victims.models import PersonalDataAccess
from victims.services import victim_add, victim_reveal_address

pytestmark = pytest.mark.django_db

META = {"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "pytest-browser"}
DAY = datetime.timedelta(days=1)


def _audit_rows(oic_a, supervisor_a, urn):
    """One case's worth of audit rows: timeline, clock crossings (its clocks open and record their state), row
    history of the case, its people and clocks, a victim (history and the address log) and a read-log row."""
    case = CaseFactory(actor=oic_a, urn=urn, police_perpetrated=True)
    case_restrict(actor=supervisor_a, case=case, users=[oic_a, supervisor_a], reason="Serving officer.")
    victim = victim_add(
        actor=oic_a,
        case=case,
        given_name="Vic",
        family_name="Tim",
        confidential_address="Flat 1",
        today=TODAY,
    )
    victim_reveal_address(actor=oic_a, victim=victim, request_meta=META, reason="Visit")
    ClockEvent.objects.create(
        clock=case.clocks.first(), case=case, kind="investigation", from_state="running", to_state="due_soon",
        crossed_on=TODAY,
    )  # fmt: skip
    from cases.access_log import AccessLog

    AccessLog.objects.create(
        actor=oic_a, what="case_viewed", object_model="cases.case", description="x", case=case
    )
    return case


def _counts() -> dict[str, int]:
    return {t.table: t.model._base_manager.count() for t in retention.audit_tables()}


def _age(days: int) -> None:
    """Move every audit row recorded so far ``days`` into the past (a test's setup: the triggers lifted here)."""
    old = timezone.now() - datetime.timedelta(days=days)
    tables = retention.audit_tables()
    with pgtrigger.ignore(*(t.trigger_uri for t in tables)):
        for t in tables:
            t.model._base_manager.update(**{t.column: old})


def _triggers(table: str) -> list[tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.tgname, t.tgenabled <> 'D' FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE c.relname = %s AND NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger_append_only_%%'""",
            [table],
        )
        return cursor.fetchall()


# --------------------------------------------------------------------------------------------------------------
# Append-only
# --------------------------------------------------------------------------------------------------------------


def test_every_audit_table_is_found_and_has_the_append_only_trigger():
    """Before: the timeline, the clock crossings and the row history had no trigger."""
    tables = {t.model for t in retention.audit_tables()}
    events = {m for m in apps.get_models() if issubclass(m, pghistory.models.Event) and m._meta.managed}
    assert len(events) >= 30 and events <= tables, "every pghistory event table is an audit table"
    assert {CaseEvent, ClockEvent, PersonalDataAccess, apps.get_model("cases", "AccessLog")} <= tables
    assert AuditPurgeRun not in tables, "the record of purges is never purged"
    for model in [*tables, AuditPurgeRun]:
        assert len(_triggers(model._meta.db_table)) == 1, model._meta.label


def test_update_and_delete_are_refused_on_every_audit_table_with_rows(oic_a, supervisor_a):
    _audit_rows(oic_a, supervisor_a, "AUDIT-1")
    AuditPurgeRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), operator="op", retention_days=1,
        cutoff=timezone.now(),
    )  # fmt: skip
    tried = []
    for t in [*retention.audit_tables(), retention.AuditTable(AuditPurgeRun, "started_at")]:
        rows = t.model._base_manager.all()
        if not rows.exists():
            continue
        tried.append(t.table)
        pk = rows.first().pk
        one = t.model._base_manager.filter(pk=pk)
        with pytest.raises(DatabaseError), transaction.atomic():
            one.update(**{t.column: timezone.now() - 5000 * DAY})
        with pytest.raises(DatabaseError), transaction.atomic():
            one.delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            t.model._base_manager.all().delete()
        key = t.model._meta.pk.column
        for sql in (
            f'UPDATE "{t.table}" SET "{t.column}" = "{t.column}" WHERE "{key}" = %s',  # noqa: S608 (model names)
            f'DELETE FROM "{t.table}" WHERE "{key}" = %s',  # noqa: S608
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])
        assert t.model._base_manager.filter(pk=pk).exists()
    expected = {
        "cases_caseevent",
        "cases_clockevent",
        "cases_casehistory",
        "cases_clockhistory",
        "cases_accesslog",
        "cases_auditpurgerun",
        "victims_personaldataaccess",
        "victims_victimhistory",
    }
    assert expected <= set(tried), expected - set(tried)


def test_no_service_updates_a_timeline_entry_or_a_crossing():
    """The triggers refuse UPDATE on the timeline and the crossings outright: nothing in the code updates them
    (the sweep inserts with ON CONFLICT DO NOTHING, which updates nothing)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(
        r"(CaseEvent|ClockEvent)\.objects\.[^\n]*\.(update|delete)\(|UPDATE cases_(case|clock)event"
    )
    hits = [
        str(path.relative_to(root))
        for app in ("cases", "charging", "victims", "governance", "api", "alerts", "workspace", "demo", "jjp")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and pattern.search(path.read_text())
    ]
    assert hits == []


# --------------------------------------------------------------------------------------------------------------
# The retention purge
# --------------------------------------------------------------------------------------------------------------


def _pks() -> dict[str, set[int]]:
    return {
        t.table: set(t.model._base_manager.values_list("pk", flat=True)) for t in retention.audit_tables()
    }


def test_the_purge_deletes_only_rows_older_than_the_retention_and_records_its_run(
    oic_a, supervisor_a, settings
):
    settings.JJP_AUDIT_RETENTION_DAYS = 2555
    _audit_rows(oic_a, supervisor_a, "AUDIT-OLD")
    _age(2556)  # a day past the retention: purged
    old = _pks()
    _audit_rows(oic_a, supervisor_a, "AUDIT-KEPT-1")
    tables = retention.audit_tables()
    with pgtrigger.ignore(*(t.trigger_uri for t in tables)):
        for t in tables:  # a day inside the retention: kept
            t.model._base_manager.exclude(pk__in=old[t.table]).update(
                **{t.column: timezone.now() - 2554 * DAY}
            )
    _audit_rows(oic_a, supervisor_a, "AUDIT-KEPT-2")  # recorded now: kept
    before = _pks()
    purged = {table: len(pks) for table, pks in old.items() if pks}
    assert purged["cases_caseevent"] and purged["cases_casehistory"] and purged["victims_personaldataaccess"]
    assert purged["cases_clockevent"] and purged["cases_accesslog"] and purged["victims_victimhistory"]

    result = retention.purge(operator="jsmith", reason="Annual review")

    assert {k: v for k, v in result.counts.items() if v} == purged
    assert _pks() == {table: pks - old[table] for table, pks in before.items()}
    run = AuditPurgeRun.objects.get()
    assert (run.operator, run.reason, run.retention_days, run.deleted, run.total) == (
        "jsmith",
        "Annual review",
        2555,
        purged,
        sum(purged.values()),
    )
    assert abs((run.cutoff - (timezone.now() - 2555 * DAY)).total_seconds()) < 60
    # The triggers are back at once: the purge lifted them for its own statements only.
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditPurgeRun.objects.all().delete()
    # A second run finds nothing more, and is recorded too.
    assert retention.purge(operator="jsmith").total == 0
    assert AuditPurgeRun.objects.count() == 2


def test_a_dry_run_counts_only(oic_a, supervisor_a):
    _audit_rows(oic_a, supervisor_a, "AUDIT-DRY")
    _age(3000)
    before = _counts()
    out = io.StringIO()
    call_command("purge_audit_history", "--dry-run", stdout=out)
    assert _counts() == before and not AuditPurgeRun.objects.exists()
    text = out.getvalue()
    assert f"cases_caseevent: would delete {before['cases_caseevent']}" in text
    assert f"Dry run: would delete {sum(before.values())} audit rows" in text and "nothing recorded" in text


def test_the_command_purges_prints_counts_and_refuses_a_shorter_period(oic_a, supervisor_a, settings):
    settings.JJP_AUDIT_RETENTION_DAYS = 100
    _audit_rows(oic_a, supervisor_a, "AUDIT-CMD")
    _age(101)
    before = _counts()
    with pytest.raises(CommandError, match="shorter than JJP_AUDIT_RETENTION_DAYS"):
        call_command("purge_audit_history", "--retention-days", "30")
    out = io.StringIO()
    call_command("purge_audit_history", "--operator", "ops-1", "--retention-days", "200", stdout=out)
    assert _counts() == before and AuditPurgeRun.objects.get().total == 0, "200 days: nothing is that old"
    call_command("purge_audit_history", "--operator", "ops-2", "--reason", "Schedule", stdout=out)
    assert not any(_counts().values())
    run = AuditPurgeRun.objects.order_by("-pk").first()
    assert (run.operator, run.reason, run.total) == ("ops-2", "Schedule", sum(before.values()))
    assert (
        f"deleted {sum(before.values())} audit rows" in out.getvalue()
        and f"run #{run.pk} recorded" in out.getvalue()
    )


@pytest.mark.django_db(transaction=True)
def test_the_purge_commits_and_the_test_flush_still_empties_the_audit_tables(oic_a, supervisor_a):
    """Transactional: the purge commits for real, and the flush after this test (TRUNCATE, which row triggers do
    not see) still empties the append-only tables."""
    _audit_rows(oic_a, supervisor_a, "AUDIT-TX")
    _age(3000)
    total = sum(_counts().values())
    assert retention.purge(operator="tx").total == total
    assert not any(_counts().values()) and AuditPurgeRun.objects.count() == 1
