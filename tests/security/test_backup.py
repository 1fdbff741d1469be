"""Backup and restore, for real: dump the test database, restore into a fresh database, and compare the case
data and its history table by table."""

from __future__ import annotations

import datetime
import importlib.util
import os
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from charging.services import case_refer_to_cps, decision_record
from tests.factories import CaseFactory
from victims.services import victim_add

TODAY = datetime.date(2026, 3, 2)
_spec = importlib.util.spec_from_file_location(
    "backup", Path(__file__).resolve().parents[2] / "scripts" / "backup.py"
)
backup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(backup)


def _url(dbname: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{dbname}"


@pytest.mark.django_db(transaction=True)
def test_dump_and_restore_keep_case_data_and_history_equal(tmp_path, oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, urn="BACKUP1", reported_on=datetime.date(2026, 2, 2), today=TODAY)
    victim_add(actor=oic_a, case=case, given_name="Backup", family_name="Victim")
    referral = case_refer_to_cps(actor=oic_a, case=case, received_on=datetime.date(2026, 2, 10), today=TODAY)
    decision_record(
        actor=prosecutor_a,
        referral=referral,
        outcome="charge",
        test="full_code",
        decided_on=datetime.date(2026, 2, 20),
        reasons="Full Code Test met.",
        today=TODAY,
    )
    source = _url(connection.settings_dict["NAME"])
    target = _url(f"restore_check_{os.getpid()}")
    dump_file = tmp_path / "jjp.dump"
    try:
        backup.dump(source, str(dump_file))
        assert dump_file.stat().st_size > 0
        backup.restore(target, str(dump_file))
        assert backup.compare(source, target) == []
        digests = backup.table_digests(target)
        assert digests["cases_case"][0] == 1
        assert digests["cases_casehistory"][0] >= 2, "the audit history came back too"
        assert digests["cases_clock"][0] >= 3
        # The comparison can fail: change one row in the copy and it names the table, and the audit trigger
        # recorded the change in the history too.
        with psycopg2.connect(target) as conn, conn.cursor() as cur:
            cur.execute("UPDATE cases_case SET summary = 'tampered'")
        assert [p.split(":")[0] for p in backup.compare(source, target)] == [
            "cases_case",
            "cases_casehistory",
        ]
        with pytest.raises(SystemExit, match="exists"):
            backup.restore(target, str(dump_file))
    finally:
        conn = psycopg2.connect(_url("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "restore_check_{os.getpid()}"')
        conn.close()
