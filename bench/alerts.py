#!/usr/bin/env python
"""Benchmark 2: alert detection and the daily digests for every person, at two sizes (10^4 or 10^3, and 10^6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        flock /tmp/bench.lock .venv/bin/python bench/alerts.py --sizes 10000 1000000 --repeats 3

Uses the data sets of ``bench/dataset.py`` (databases ``jjp_bench_scale_10k``, ``_1k``, ``_1m``) without writing to
them: each is first copied to a scratch database ``<data set>_alerts`` (``CREATE DATABASE ... TEMPLATE ...
STRATEGY FILE_COPY``, which needs no other connection on the data set: it waits and retries), and the copies are
dropped at the end (``--keep`` leaves them). For each size, each repeat (sizes alternate): the copy's outbox is
emptied, then fresh child processes run ``alerts.alerts_detect`` (immediate alerts and escalations), the same
again with the outbox full (nothing new to write), once full (the hourly run) and once windowed (``full=False``,
the five-minute run: escalations only for the clocks that became escalable within the lookback), and
``alerts.digests_build`` (the 07:00 digest for every person with something to say), all for the data set's day T
at 07:30 London. Each child reports wall seconds, the SQL statements (an execute wrapper; the digests' COPY is
not an execute and is not counted), the rows written and its peak RSS. One more run per size counts the queries
with ``CaptureQueriesContext``. At the largest size every statement is run under ``EXPLAIN (ANALYZE, BUFFERS)``
(the INSERTs in a transaction rolled back) and the scans of the big tables are listed. Rewrites the "## Alerts at
scale" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import time
from contextlib import closing

from common import (
    admin_connect,
    check_bench_name,
    doc_header,
    log,
    median,
    require_dataset,
    run_child,
    url_for,
    write_section,
)

HEADING = "## Alerts at scale: detection and daily digests"
BIG_TABLES = (
    "cases_clock",
    "cases_case",
    "cases_clockevent",
    "cases_alert",
    "charging_chargingreferral",
    "cases_user",
)
STEPS = ("detect", "redetect", "redetect-window", "digests")
STEP_NAMES = {
    "detect": "detection",
    "redetect": "detection again, full (the hourly run; nothing new)",
    "redetect-window": "detection again, windowed (the five-minute run; nothing new)",
    "digests": "digests",
}


# ----------------------------------------------------------------------------------------------------------------
# Child: one measurement in a fresh process
# ----------------------------------------------------------------------------------------------------------------


class BudgetExceeded(Exception):
    """Raised from the execute wrapper once a measurement has used its time budget."""


def child(what: str, today: datetime.date, capture: bool, budget: float) -> None:
    from common import peak_rss_mib, setup_django

    setup_django()
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from alerts import engine as alerts
    from cases import ledger
    from cases.models import Alert, User

    now = datetime.datetime.combine(today, datetime.time(7, 30), tzinfo=ZoneInfo("Europe/London"))
    # Warm up: imports, rules and calendar, templates (the first render compiles them), the SQL text.
    ledger.sync_rules()
    alerts._render("digest", {"subject": "", "today": today, "count": 0, "sections": []})
    for threshold in alerts.DETECTED:
        alerts.detect_sql(threshold)
    rss_before = peak_rss_mib()
    before = Alert.objects.count()
    count = 0
    t0 = time.perf_counter()

    def counter(execute, sql, params, many, context):  # noqa: ANN001 - Django's execute wrapper signature
        nonlocal count
        if budget and time.perf_counter() - t0 > budget:
            raise BudgetExceeded
        count += 1
        return execute(sql, params, many, context)

    run = alerts.digests_build if what == "digests" else alerts.alerts_detect
    kwargs: dict = {"now": now} if what == "digests" else {"today": today, "now": now}
    if what == "redetect-window":
        kwargs["full"] = False
    result: dict = {}
    finished = True
    captured = None
    with connection.execute_wrapper(counter):
        try:
            if capture:
                with CaptureQueriesContext(connection) as ctx:
                    t0 = time.perf_counter()
                    result = run(**kwargs)
                captured = len(ctx.captured_queries)
            else:
                t0 = time.perf_counter()
                result = run(**kwargs)
        except BudgetExceeded:
            finished = False
        seconds = time.perf_counter() - t0
    written = Alert.objects.count() - before
    by_kind = dict(Alert.objects.order_by().values_list("threshold").annotate(n=Count("id")))
    print(
        json.dumps(
            {
                "finished": finished,
                "seconds": seconds,
                "statements": count,
                "captured": captured,
                "result": result,
                "alerts": written,
                "outbox": by_kind,
                "recipients": Alert.objects.order_by().values("recipient").distinct().count(),
                "rss_before": rss_before,
                "rss_peak": peak_rss_mib(),
                "staff": User.objects.filter(is_active=True, organisation__isnull=False)
                .exclude(email="")
                .count(),
            }
        )
    )


def child_explain(today: datetime.date) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement detection and the digests run (the INSERTs rolled back)."""
    from common import setup_django

    setup_django()
    from zoneinfo import ZoneInfo

    from django.db import connection, transaction

    from alerts import engine as alerts
    from cases import ledger
    from cases.models import Organisation

    ledger.sync_rules()
    now = datetime.datetime.combine(today, datetime.time(7, 30), tzinfo=ZoneInfo("Europe/London"))
    plans = []

    def explain(name: str, sql: str, params: dict) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append({"name": name, "plan": "\n".join(r[0] for r in cur.fetchall())})
            transaction.set_rollback(True)

    for threshold in alerts.DETECTED:
        explain(
            f"detection, {threshold}",
            alerts.detect_sql(threshold),
            alerts.detect_params(threshold, today, now),
        )
    explain(
        "digest readers",
        alerts.digest_readers_sql(),
        alerts.sql_params(alert_roles=list(alerts.ALERT_ROLES), threshold=alerts.DIGEST, today=today),
    )
    forces = list(Organisation.objects.filter(kind="force").values_list("pk", flat=True))
    areas = list(Organisation.objects.filter(kind="cps_area").values_list("pk", flat=True))
    explain(
        "digest items (every organisation, one stream)",
        alerts.digest_items_sql(),
        alerts.sql_params(today=today, forces=forces, areas=areas),
    )
    print(json.dumps(plans))


# ----------------------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------------------


def scratch_name(dataset_db: str) -> str:
    return f"{dataset_db}_alerts"


def make_scratch(dataset_db: str, attempts: int = 60) -> str:
    """Copy the data set to a scratch database (dropped first if left over). The data set is never written."""
    name = scratch_name(dataset_db)
    check_bench_name(name)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        for attempt in range(attempts):
            try:
                cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{dataset_db}" STRATEGY FILE_COPY')
                break
            except Exception as exc:  # noqa: BLE001 - someone is reading the data set: wait for them
                if "being accessed by other users" not in str(exc) or attempt == attempts - 1:
                    raise
                log(f"{dataset_db} is in use; waiting to copy it ({attempt + 1}/{attempts})")
                time.sleep(10)
    return name


def drop_scratch(name: str) -> None:
    check_bench_name(name)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')


def reset(db: str) -> None:
    check_bench_name(db)
    with closing(admin_connect(db)) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE cases_alert")
        cur.execute("VACUUM ANALYZE cases_alert")


def analyze(db: str) -> None:
    with closing(admin_connect(db)) as conn, conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE cases_alert")


def scans(plan: str) -> list[str]:
    """The scan nodes on the big tables: 'Seq Scan on cases_clock', 'Index Scan using ... on cases_case', ..."""
    found = []
    for line in plan.splitlines():
        m = re.search(
            r"((?:Parallel )?(?:Seq|Index Only|Index|Bitmap Heap|Bitmap Index) Scan.*?)(?:  \(|$)", line
        )
        if not m:
            continue
        node = m.group(1).strip()
        if any(re.search(rf"\b{t}\b", node) for t in BIG_TABLES) or "Bitmap Index Scan" in node:
            found.append(re.sub(r"\s+", " ", node))
    return found


def seq_tables(nodes: list[str]) -> set[str]:
    return {node.split(" on ")[-1].split()[0] for node in nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--budget", type=float, default=240, help="seconds a measurement may take before it is stopped"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies of the data sets")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=[*STEPS, "explain"], help=argparse.SUPPRESS)
    parser.add_argument("--today", type=datetime.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--capture", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "explain":
        return child_explain(args.today)
    if args.child:
        return child(
            "detect" if args.child == "redetect" else args.child, args.today, args.capture, args.budget
        )

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = sorted(set(args.sizes))
    sets = {n: require_dataset(n) for n in sizes}
    scratch: dict[int, str] = {}
    try:
        for n in sizes:
            t0 = time.perf_counter()
            scratch[n] = make_scratch(sets[n]["db"])
            log(f"N={n:,}: copied {sets[n]['db']} to {scratch[n]} in {time.perf_counter() - t0:.0f} s")
        runs, captured, plans = measure(args, sizes, sets, scratch)
    finally:
        if not args.keep:
            for name in scratch.values():
                drop_scratch(name)
    report(args, started, sizes, sets, runs, captured, plans)


def measure(args, sizes, sets, scratch):  # noqa: ANN001, ANN201
    runs: dict[tuple[int, str], list[dict]] = {(n, w): [] for n in sizes for w in STEPS}
    for rep in range(args.repeats):
        for n in sizes if rep % 2 == 0 else list(reversed(sizes)):
            db, today = scratch[n], sets[n]["today"]
            reset(db)
            for what in STEPS:
                if what == "redetect":
                    analyze(db)
                r = run_child(
                    "alerts.py",
                    ["--child", what, "--today", today, "--budget", str(args.budget)],
                    url_for(db),
                )
                runs[(n, what)].append(r)
                log(
                    f"N={n:,} rep {rep + 1}/{args.repeats} {what}: {'' if r['finished'] else 'STOPPED after '}"
                    f"{r['seconds']:.1f} s, {r['statements']:,} statements, {r['alerts']:,} rows, "
                    f"peak RSS {r['rss_peak']:.0f} MiB"
                )
    # The official query count: CaptureQueriesContext, in one more run per size and step.
    captured: dict[tuple[int, str], int | None] = {}
    for n in sizes:
        db, today = scratch[n], sets[n]["today"]
        reset(db)
        for what in STEPS:
            r = run_child(
                "alerts.py",
                ["--child", what, "--today", today, "--capture", "--budget", str(args.budget * 3)],
                url_for(db),
            )
            captured[(n, what)] = r["captured"]
            log(f"N={n:,} {what} with CaptureQueriesContext: {r['captured']} queries")
    largest = sizes[-1]
    reset(scratch[largest])
    log(f"N={largest:,}: EXPLAIN (ANALYZE, BUFFERS) of every statement")
    plans = run_child(
        "alerts.py", ["--child", "explain", "--today", sets[largest]["today"]], url_for(scratch[largest])
    )
    return runs, captured, plans


def report(args, started, sizes, sets, runs, captured, plans) -> None:  # noqa: ANN001
    header = (
        "| N | step | seconds (median) | finished | queries (CaptureQueriesContext) | SQL statements | rows written "
        "| recipients | peak RSS MiB (after set-up) | staff |"
    )
    lines = [header, "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    summary: dict[tuple[int, str], dict] = {}
    for n in sizes:
        for what in STEPS:
            rs = runs[(n, what)]
            last = rs[-1]
            row = {
                "finished": all(r["finished"] for r in rs),
                "seconds": median([r["seconds"] for r in rs]),
                "captured": captured.get((n, what)),
                "statements": last["statements"],
                "written": last["alerts"],
                "recipients": last["recipients"],
                "outbox": last["outbox"],
                "rss": max(r["rss_peak"] for r in rs),
                "rss_before": min(r["rss_before"] for r in rs),
                "staff": last["staff"],
            }
            summary[(n, what)] = row
            cap = "-" if row["captured"] is None else f"{row['captured']:,}"
            lines.append(
                f"| {n:,} | {STEP_NAMES[what]} | {row['seconds']:.1f} | "
                f"{'yes' if row['finished'] else f'**no: stopped at the {args.budget:.0f} s budget**'} | "
                f"{cap} | {row['statements']:,} | {row['written']:,} | {row['recipients']:,} | "
                f"{row['rss']:.0f} ({row['rss_before']:.0f}) | {row['staff']:,} |"
            )
    small, largest = sizes[0], sizes[-1]
    verdicts = []
    for what in STEPS:
        a, b = summary[(small, what)], summary[(largest, what)]
        verdicts.append(
            f"**{STEP_NAMES[what]}**: {a['statements']:,} -> {b['statements']:,} SQL statements from N={small:,} to "
            f"N={largest:,}; {a['seconds']:.1f} s -> {b['seconds']:.1f} s"
            f"{'' if b['finished'] else ' (stopped)'}; peak RSS {a['rss']:.0f} -> {b['rss']:.0f} MiB "
            f"({b['rss'] - b['rss_before']:+.0f} MiB over set-up at N={largest:,})"
        )
    outbox = [
        f"N={n:,}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary[(n, "digests")]["outbox"].items()))
        for n in sizes
    ]
    plan_lines = []
    for p in plans:
        found = scans(p["plan"])
        seq = [s for s in found if s.startswith(("Seq Scan", "Parallel Seq Scan"))]
        m = re.search(r"Execution Time: ([\d.]+) ms", p["plan"])
        plan_lines.append(
            f"- {p['name']} ({float(m.group(1)) if m else 0:,.0f} ms): "
            + ("; ".join(f"`{s}`" for s in found) or "no scan of a big table")
            + (f" (**sequential scan** of {', '.join(sorted(seq_tables(seq)))})" if seq else "")
        )
    out = [
        f"Alerts benchmark, sizes {', '.join(f'{n:,}' for n in sizes)}, median of {args.repeats}",
        *lines,
        "",
    ]
    out += verdicts + [""] + outbox + [""] + plan_lines + [""]
    for p in plans:
        out += [f"EXPLAIN (ANALYZE, BUFFERS): {p['name']}", p["plan"], ""]
    print("\n".join(out))
    if args.no_doc:
        return
    doc = [doc_header("alerts.py", sys.argv, started)]
    doc.append(
        "- Data: the data sets of `bench/dataset.py` ("
        + ", ".join(f"{n:,} cases, T = {sets[n]['today']}" for n in sizes)
        + "), each copied to a scratch database first (the data sets are never written); staff scale with the "
        "cases (one OIC per 60 cases, a supervisor per 8 OICs, a prosecutor per 400 referred cases), with line "
        "managers set and the submissions accepted at triage allocated, so the people to tell grow with the cases."
    )
    doc.append(
        "- Method: per size and repeat (sizes alternate), the outbox `cases_alert` is emptied (the first run of a "
        "day with nothing sent yet: the most work detection can have), then fresh child processes run "
        "`alerts_detect(today=T, now=T 07:30 London)`, the same again with the outbox full, once full (what the "
        "hourly run costs) and once with `full=False` (what the five-minute run costs: escalations only for the "
        "clocks that became escalable within the lookback), and `digests_build(now=T 07:30 London)`. "
        "Median wall seconds; SQL statements counted "
        "by an execute wrapper (the digests' one COPY is not an execute: add 1); queries with "
        "`CaptureQueriesContext` in an extra run (it also lists what Django logs around the digests' "
        "transaction); peak RSS of the child (`ru_maxrss`), with its value after set-up and warm-up in brackets. "
        "Recipients: the distinct people in the outbox after the step."
    )
    doc += ["", *lines, ""]
    doc += [f"- {v}" for v in verdicts]
    doc += [f"- Outbox after detection and digests, {o}" for o in outbox]
    doc += ["", f"Query plans at N={largest:,} (`EXPLAIN (ANALYZE, BUFFERS)`, scans of the big tables):", ""]
    doc += plan_lines
    doc += ["", "<details><summary>plans</summary>", ""]
    for p in plans:
        doc += [f"{p['name']}:", "", "```", p["plan"], "```", ""]
    doc += ["</details>", ""]
    write_section(HEADING, "\n".join(doc))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
