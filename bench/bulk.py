#!/usr/bin/env python
"""Benchmark 5: bulk upsert through the API (``POST /api/v1/cases/bulk/``, 500 records a request) against a bare
ORM ``bulk_create`` of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/bulk.py --requests 10 --repeats 3

A fresh database ``jjp_bench_scale_bulk`` (copied from the migrated template of ``bench/dataset.py``) and one
gunicorn (``--workers 4``, ``bench/settings_bench.py``: the API rate limits lifted) on loopback. A write API
client of Greater Manchester Police sends ``--requests`` requests of 500 new cases each, one after the other
(``--clients 1``) or from several clients at once. Each record is a case with one or two offences and a suspect,
as a force system sends it; the endpoint creates each through ``case_create`` (validation, the suspect, the
offences, the 21-day and time-limit clocks, the timeline entry, the audit history) in its own transaction.

The floor: a child process writes the same records' rows with the ORM and nothing else: ``Person``, ``Case``,
``Offence`` and the case-suspect links with ``bulk_create``, 500 records per transaction (the audit triggers
still fire, as they do for the API). API and floor alternate, ``--repeats`` times, each with new URNs; the
median records per second of each and their ratio are reported. Rewrites the "## Bulk upsert through the API"
section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import threading
import time
from contextlib import closing
from zoneinfo import ZoneInfo

from common import (
    admin_connect,
    check_bench_name,
    doc_header,
    log,
    median,
    run_child,
    url_for,
    write_section,
)

HEADING = "## Bulk upsert through the API"
DB = "jjp_bench_scale_bulk"
TEMPLATE = "jjp_bench_scale_template"
BATCH = 500
OFFENCES = ("CJA88-39", "OAPA-47", "SCA15-76", "PHA97-2", "CDA71-1", "SCA15-75A")
GIVEN = ("Alex", "Sam", "Jordan", "Casey", "Robin", "Morgan")
FAMILY = ("Ashdown", "Brackley", "Corran", "Dunmore", "Elsworth", "Fenwick")


def records(prefix: str, start: int, count: int, today: datetime.date) -> list[dict]:
    """``count`` new cases as a force system sends them (deterministic)."""
    out = []
    for k in range(start, start + count):
        reported = today - datetime.timedelta(days=1 + k % 60)
        offences = [{"offence_type": OFFENCES[k % len(OFFENCES)], "committed_on": reported.isoformat()}]
        if k % 4 == 0:
            offences.append({"offence_type": "CDA71-1", "committed_on": reported.isoformat()})
        out.append(
            {
                "urn": f"{prefix}{k:07d}",
                "reported_on": reported.isoformat(),
                "offences": offences,
                "suspects": [
                    {
                        "given_name": GIVEN[k % len(GIVEN)],
                        "family_name": FAMILY[(k // 7) % len(FAMILY)],
                        "pnc_id": f"{prefix}P{k}" if k % 3 else None,
                    }
                ],
                "risk_level": ("standard", "medium", "high")[k % 3],
                "risk_tool": "dash",
                "summary": "Bulk benchmark case.",
            }
        )
    return out


# ----------------------------------------------------------------------------------------------------------------
# Children
# ----------------------------------------------------------------------------------------------------------------


def child_setup() -> None:
    from common import setup_django

    setup_django()
    from api.clients import api_client_create

    _, token = api_client_create(force_code="GMP", name=f"bench bulk {time.time_ns()}", scope="write")
    print(json.dumps({"token": token}))


def child_orm(prefix: str, n: int, today: datetime.date) -> None:
    """The floor: the records' rows with bulk_create only, 500 records per transaction."""
    from common import setup_django

    setup_django()
    from django.db import transaction

    from cases.models import Case, Offence, OffenceType, Organisation, Person

    force = Organisation.objects.get(code="GMP")
    types = dict(OffenceType.objects.values_list("code", "id"))
    through = Case.suspects.through
    data = records(prefix, 0, n, today)
    t0 = time.perf_counter()
    for lo in range(0, n, BATCH):
        chunk = data[lo : lo + BATCH]
        with transaction.atomic():
            people = Person.objects.bulk_create(
                [
                    Person(
                        given_name=r["suspects"][0]["given_name"],
                        family_name=r["suspects"][0]["family_name"],
                        pnc_id=r["suspects"][0]["pnc_id"],
                    )
                    for r in chunk
                ]
            )
            cases = Case.objects.bulk_create(
                [
                    Case(
                        force=force,
                        urn=r["urn"],
                        reported_on=datetime.date.fromisoformat(r["reported_on"]),
                        status=Case.Status.INVESTIGATION,
                        risk_level=r["risk_level"],
                        risk_tool=r["risk_tool"],
                        summary=r["summary"],
                    )
                    for r in chunk
                ]
            )
            Offence.objects.bulk_create(
                [
                    Offence(
                        case=case,
                        offence_type_id=types[o["offence_type"]],
                        committed_on=datetime.date.fromisoformat(o["committed_on"]),
                        suspect=person,
                    )
                    for r, case, person in zip(chunk, cases, people, strict=True)
                    for o in r["offences"]
                ]
            )
            through.objects.bulk_create(
                [through(case_id=c.pk, person_id=p.pk) for c, p in zip(cases, people, strict=True)]
            )
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "records": n}))


def child_counts() -> None:
    from common import setup_django

    setup_django()
    from django.db import connection

    tables = (
        "cases_case",
        "cases_person",
        "cases_offence",
        "cases_clock",
        "cases_clockevent",
        "cases_caseevent",
        "cases_casehistory",
        "cases_offencehistory",
        "cases_clockhistory",
        "cases_personhistory",
    )
    counts = {}
    with connection.cursor() as cur:
        for t in tables:
            cur.execute(f"SELECT count(*) FROM {t}")  # noqa: S608 - constant table names
            counts[t] = cur.fetchone()[0]
    print(json.dumps(counts))


# ----------------------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------------------


def recreate_db() -> None:
    check_bench_name(DB)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE])
        if cur.fetchone() is None:
            sys.exit(f"no template database {TEMPLATE}: run bench/dataset.py first")
        cur.execute(f'DROP DATABASE IF EXISTS "{DB}"')
        cur.execute(f'CREATE DATABASE "{DB}" TEMPLATE "{TEMPLATE}"')


def api_run(base: str, token: str, prefix: str, n_requests: int, clients: int, today: datetime.date) -> dict:
    import requests

    bodies = [records(prefix, k * BATCH, BATCH, today) for k in range(n_requests)]
    results: list[dict] = []
    lock = threading.Lock()
    queue = list(range(n_requests))

    def client() -> None:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        while True:
            with lock:
                if not queue:
                    return
                k = queue.pop(0)
            t0 = time.perf_counter()
            r = s.post(f"{base}/api/v1/cases/bulk/", json={"cases": bodies[k]}, timeout=900)
            elapsed = time.perf_counter() - t0
            body = r.json() if r.status_code == 200 else {}
            with lock:
                results.append({"status": r.status_code, "seconds": elapsed, **{k2: body.get(k2, 0) for k2 in
                                ("created", "updated", "unchanged", "failed")}})  # fmt: skip

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    created = sum(r["created"] for r in results)
    errors = sum(1 for r in results if r["status"] != 200) + sum(r["failed"] for r in results)
    return {
        "seconds": seconds,
        "created": created,
        "errors": errors,
        "request_p50": median([r["seconds"] for r in results]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10, help="requests of 500 records per API run")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=["setup", "orm", "counts"], help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--today", type=datetime.date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        return child_setup()
    if args.child == "orm":
        return child_orm(args.prefix, args.n, args.today)
    if args.child == "counts":
        return child_counts()

    from web import start_server

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    today = datetime.datetime.now(ZoneInfo("Europe/London")).date()
    url = url_for(DB)
    recreate_db()
    token = run_child("bulk.py", ["--child", "setup"], url)["token"]
    proc, base = start_server(url, args.workers)
    n = args.requests * BATCH
    api, orm = [], []
    written: dict[str, int] = {}
    try:
        # Warm-up: one small request (workers, imports), not counted.
        api_run(base, token, "WARM", 1, 1, today)
        for rep in range(args.repeats):
            order = ("api", "orm") if rep % 2 == 0 else ("orm", "api")
            for what in order:
                prefix = f"{'A' if what == 'api' else 'O'}{rep}X"
                if what == "api":
                    before = run_child("bulk.py", ["--child", "counts"], url) if rep == 0 else None
                    r = api_run(base, token, prefix, args.requests, args.clients, today)
                    if before is not None:
                        after = run_child("bulk.py", ["--child", "counts"], url)
                        written = {t: after[t] - before[t] for t in after}
                    api.append(r)
                    log(
                        f"rep {rep + 1} API: {r['created']:,} created in {r['seconds']:.1f} s "
                        f"({r['created'] / r['seconds']:,.0f} records/s), errors {r['errors']}"
                    )
                else:
                    r = run_child(
                        "bulk.py",
                        ["--child", "orm", "--prefix", prefix, "--n", str(n), "--today", str(today)],
                        url,
                    )
                    orm.append(r)
                    log(f"rep {rep + 1} ORM: {r['records']:,} in {r['seconds']:.2f} s")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    api_rate = median([r["created"] / r["seconds"] for r in api])
    orm_rate = median([r["records"] / r["seconds"] for r in orm])
    errors = sum(r["errors"] for r in api)
    ratio = api_rate / orm_rate
    per_record = ", ".join(f"{t} {v / n:.2f}" for t, v in written.items() if v)
    lines = [
        "| path | records per run | median records/s | median s per run | errors | rows per record |",
        "|---|---:|---:|---:|---:|---|",
        f"| API `POST /api/v1/cases/bulk/` ({args.clients} client{'s' if args.clients > 1 else ''}, 500 per request) "
        f"| {n:,} | {api_rate:,.0f} | {median([r['seconds'] for r in api]):.1f} | {errors} | {per_record} |",
        f"| ORM `bulk_create` (Person, Case, Offence, suspects; 500 per transaction) | {n:,} | {orm_rate:,.0f} | "
        f"{median([r['seconds'] for r in orm]):.2f} | 0 | cases_case 1, cases_person 1, cases_offence "
        f"{sum(len(r['offences']) for r in records('X', 0, n, today)) / n:.2f} |",
    ]
    verdict = (
        f"API / ORM floor = {ratio:.3f} (the API is {1 / ratio:.0f}x slower than the bare insert; median of "
        f"{args.repeats}); one request of 500 records took {median([r['request_p50'] for r in api]):.1f} s (median)."
    )
    print("\n".join([*lines, "", verdict]))
    if args.no_doc:
        return
    doc = [doc_header("bulk.py", sys.argv, started)]
    doc.append(
        f"- Setup: fresh database `{DB}` (migrated template, no cases), gunicorn `--workers {args.workers}` on "
        "loopback with `bench/settings_bench.py` (rate limits lifted), a write API client of GMP. Each API run "
        f"sends {args.requests} requests of 500 new cases; the floor writes the same records' rows with "
        "`bulk_create` in a child process. They alternate; medians of "
        f"{args.repeats}. Rows per record: what one API run added to each table (history = the audit rows)."
    )
    doc += ["", *lines, "", f"**{verdict}**", ""]
    doc.append(
        "What the API does per record that the floor does not: validation of every field, its own transaction, "
        "the suspect's identity by PNC ID, the investigation clock and a time-limit clock per summary-only "
        "offence (with their due dates and any crossing on opening), the timeline entry and its webhook hook, "
        "and the language check of the summary. Read once per request, not per record: which URNs exist, the "
        "deadline rules and bank holidays, the offence table and the lexicon (`cases.kernel.request_cache`); "
        "`tests/api/test_api_bulk_budget.py` pins the SQL statements per record."
    )
    write_section(HEADING, "\n".join(doc))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
