#!/usr/bin/env python
"""Benchmark 2: alert detection and the daily digests for every user, at 10^4 and 10^6 cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/alerts.py --sizes 10000 1000000 --repeats 3

Uses the data sets of ``bench/dataset.py`` (databases ``jjp_bench_scale_10k`` and ``_1m``). For each size, each
repeat (sizes alternate): the alert outbox is emptied, then in a fresh child process ``alerts.alerts_detect``
(immediate alerts and escalations) and, in another, ``alerts.digests_build`` (the 07:00 digest for every person
with something to say), both for the data set's day T at 07:30 London. Each child reports wall seconds, the
number of queries (counted by an execute wrapper), the rows written, and its peak RSS. One more run per size
counts the queries with ``CaptureQueriesContext`` (the official count; it must equal the wrapper's). At the
largest size the main queries are run under ``EXPLAIN (ANALYZE, BUFFERS)`` and the scans of the big tables
are listed. Rewrites the "## Alerts at scale" section of docs/performance.md.

It empties ``cases_alert`` in the data set databases (nothing else is changed).
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
    doc_header,
    log,
    median,
    require_dataset,
    run_child,
    write_section,
)

HEADING = "## Alerts at scale: detection and daily digests"
BIG_TABLES = ("cases_clock", "cases_case", "cases_clockevent", "cases_alert", "charging_chargingreferral")


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
    from django.test.utils import CaptureQueriesContext

    from cases import alerts, ledger
    from cases.models import Alert, User

    now = datetime.datetime.combine(today, datetime.time(7, 30), tzinfo=ZoneInfo("Europe/London"))
    # Warm up: imports, rules and calendar, templates (the first render compiles them).
    ledger.sync_rules()
    alerts._render("digest", {"subject": "", "today": today, "count": 0, "sections": []})
    # The work to do: one iteration per (source, candidate person); digests: one per candidate person.
    if what == "detect":
        sources = [*alerts._sources(today, now), alerts._escalation_source(today)]
        planned = sum(
            alerts._candidate_users(s.clocks, escalation=s.threshold == "escalation").count() for s in sources
        )
    else:
        planned = alerts._digest_candidates(today).count()
    rss_before = peak_rss_mib()
    before = Alert.objects.count()
    count = 0
    done = 0
    allowed = alerts._allowed

    def counting_allowed(user, threshold):  # noqa: ANN001, ANN202 - instrumentation: one call per iteration
        nonlocal done
        done += 1
        return allowed(user, threshold)

    alerts._allowed = counting_allowed
    t0 = time.perf_counter()

    def counter(execute, sql, params, many, context):  # noqa: ANN001 - Django's execute wrapper signature
        nonlocal count
        if budget and time.perf_counter() - t0 > budget:
            raise BudgetExceeded
        count += 1
        return execute(sql, params, many, context)

    run = alerts.alerts_detect if what == "detect" else alerts.digests_build
    kwargs = {"today": today, "now": now} if what == "detect" else {"now": now}
    result: dict = {}
    finished = True
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
                captured = None
        except BudgetExceeded:
            finished = False
            captured = None
        seconds = time.perf_counter() - t0
    written = Alert.objects.count() - before
    print(
        json.dumps(
            {
                "finished": finished,
                "seconds": seconds,
                "statements": count,
                "captured": captured,
                "result": result,
                "alerts": written,
                "iterations": done,
                "planned": planned,
                "rss_before": rss_before,
                "rss_peak": peak_rss_mib(),
                "staff": User.objects.filter(is_active=True, organisation__isnull=False)
                .exclude(email="")
                .count(),
            }
        )
    )


def child_explain(today: datetime.date) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the main detection and digest queries, for typical recipients."""
    from common import setup_django

    setup_django()
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.db.models import Exists, OuterRef

    from cases import alerts, ledger
    from cases.models import Alert, Case, User

    ledger.sync_rules()
    now = dt.datetime.combine(today, dt.time(7, 30), tzinfo=ZoneInfo("Europe/London"))
    # A busy OIC, a supervisor and a prosecutor of the largest force and its Area.
    oic = (
        User.objects.filter(roles__contains=["oic"], oic_cases__status="investigation")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("oic_cases"))
        .order_by("-n")
        .first()
    )
    supervisor = User.objects.filter(
        roles__contains=["police_supervisor"], organisation=oic.organisation
    ).first()
    prosecutor = User.objects.filter(
        roles__contains=["prosecutor"], organisation=oic.organisation.area
    ).first()
    plans = []

    def explain(name: str, qs) -> None:  # noqa: ANN001
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append({"name": name, "plan": "\n".join(r[0] for r in cur.fetchall())})

    for label, user in (("OIC", oic), ("police supervisor", supervisor), ("prosecutor", prosecutor)):
        explain(
            f"digest rows of one {label} ({user.username})",
            alerts.clocks_for(user)
            .filter(warn_on__lte=today)
            .order_by("due_on", "case__urn", "pk")
            .values("pk", "case_id", "case__urn", "kind", "due_on"),
        )
    explain("digest candidates (every person with something to say today)", alerts._digest_candidates(today))
    sources = {s.threshold: s for s in alerts._sources(today, now)}
    sources["escalation"] = alerts._escalation_source(today)
    for threshold, source in sources.items():
        # _candidate_users first reads the (force, Area, OIC) of the source's clocks: the query that scales.
        refs = (
            source.clocks.order_by()
            .values_list("case__force_id", "case__cps_area_id", "case__oic_id")
            .distinct()
        )
        explain(f"detection candidates, {threshold} (force, Area and OIC of the clocks)", refs)
    for threshold, user in (("stl_14_days", prosecutor), ("overdue", prosecutor), ("escalation", supervisor)):
        source = sources[threshold]
        escalation = threshold == "escalation"
        already = Alert.objects.filter(
            recipient=user, clock=OuterRef("pk"), threshold=threshold, day=OuterRef("alert_day")
        )
        explain(
            f"detection rows, {threshold}, one {user.roles[0].replace('_', ' ')}",
            source.clocks.filter(alerts.clock_scope_q(user, escalation=escalation))
            .filter(case__in=Case.objects.visible_to(user).values("pk"))
            .exclude(Exists(already))
            .values(*alerts._ROW_FIELDS),
        )
    print(json.dumps(plans))


# ----------------------------------------------------------------------------------------------------------------
# Parent
# ----------------------------------------------------------------------------------------------------------------


def reset(db: str) -> None:
    with closing(admin_connect(db)) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE cases_alert")
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


ESCALATION_FANOUT_SQL = """
WITH esc AS (
    SELECT c.force_id, c.cps_area_id, k.side, count(*) AS n
    FROM cases_clock k JOIN cases_case c ON c.id = k.case_id
    WHERE k.stopped_on IS NULL AND k.kind NOT IN ('stl', 'stl_common_assault') AND k.due_on < %(cutoff)s
      AND c.status NOT IN ('nfa', 'out_of_court', 'concluded')
    GROUP BY 1, 2, 3
), staff AS (
    SELECT organisation_id, count(*) FILTER (WHERE 'police_supervisor' = ANY(roles)) AS supervisors,
           count(*) FILTER (WHERE 'legal_manager' = ANY(roles)) AS legal_managers
    FROM cases_user WHERE is_active AND email <> '' GROUP BY 1
)
SELECT coalesce(sum(esc.n), 0),
       coalesce(sum(esc.n * CASE WHEN esc.side = 'police' THEN coalesce(f.supervisors, 0)
                                 ELSE coalesce(a.legal_managers, 0) END), 0)
FROM esc LEFT JOIN staff f ON f.organisation_id = esc.force_id LEFT JOIN staff a ON a.organisation_id = esc.cps_area_id
"""


def child_fanout(today: datetime.date) -> None:
    """Open clocks due for escalation on T, and (clock, supervisor or legal manager) pairs: the escalation
    alerts a first detection run writes (every supervisor of the force, every legal manager of the Area)."""
    from common import setup_django

    setup_django()
    from django.db import connection

    from cases import alerts, ledger

    ledger.sync_rules()
    cutoff = alerts.nth_working_day_back(
        today, int(__import__("django.conf").conf.settings.JJP_ALERTS["escalate_after_working_days"])
    )
    with connection.cursor() as cur:
        cur.execute(ESCALATION_FANOUT_SQL, {"cutoff": cutoff})
        clocks, pairs = cur.fetchone()
    print(json.dumps([int(clocks), int(pairs)]))


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--budget", type=float, default=240, help="seconds a measurement may take before it is stopped"
    )
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=["detect", "digests", "explain", "fanout"], help=argparse.SUPPRESS)
    parser.add_argument("--today", type=datetime.date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--capture", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "explain":
        return child_explain(args.today)
    if args.child == "fanout":
        return child_fanout(args.today)
    if args.child:
        return child(args.child, args.today, args.capture, args.budget)

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = sorted(set(args.sizes))
    sets = {n: require_dataset(n) for n in sizes}
    steps = ("detect", "digests")
    runs: dict[tuple[int, str], list[dict]] = {(n, w): [] for n in sizes for w in steps}
    for rep in range(args.repeats):
        for n in sizes if rep % 2 == 0 else list(reversed(sizes)):
            ds = sets[n]
            reset(ds["db"])
            for what in steps:
                if runs[(n, what)] and not runs[(n, what)][0]["finished"]:
                    continue  # it ran out of its budget once: its figures are the partial run's
                budget = ["--budget", str(args.budget)]
                r = run_child("alerts.py", ["--child", what, "--today", ds["today"], *budget], ds["url"])
                runs[(n, what)].append(r)
                log(
                    f"N={n:,} rep {rep + 1}/{args.repeats} {what}: {'' if r['finished'] else 'STOPPED after '}"
                    f"{r['seconds']:.1f} s, {r['statements']:,} statements, {r['alerts']:,} rows, "
                    f"{r['iterations']:,}/{r['planned']:,} people, peak RSS {r['rss_peak']:.0f} MiB"
                )
    # The official query count: CaptureQueriesContext (it also lists BEGIN and COMMIT), for the runs that finish.
    for n in sizes:
        ds = sets[n]
        reset(ds["db"])
        for what in steps:
            if not runs[(n, what)][0]["finished"]:
                continue
            r = run_child(
                "alerts.py",
                ["--child", what, "--today", ds["today"], "--capture", "--budget", str(args.budget * 3)],
                ds["url"],
            )
            for m in runs[(n, what)]:
                m["captured"] = r["captured"]
            log(f"N={n:,} {what} with CaptureQueriesContext: {r['captured']:,} queries")
    largest = sizes[-1]
    fanout = {
        n: run_child("alerts.py", ["--child", "fanout", "--today", sets[n]["today"]], sets[n]["url"])
        for n in sizes
    }
    log(f"N={largest:,}: EXPLAIN (ANALYZE, BUFFERS) of the main queries")
    plans = run_child(
        "alerts.py", ["--child", "explain", "--today", sets[largest]["today"]], sets[largest]["url"]
    )
    reset(sets[largest]["db"])

    # ---- report --------------------------------------------------------------------------------------------
    header = (
        "| N | step | seconds (median) | finished | queries (CaptureQueriesContext) | SQL statements | rows written "
        "| people processed / to process | statements per person | peak RSS MiB (after set-up) | staff |"
    )
    lines = [header, "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    summary: dict[tuple[int, str], dict] = {}
    for n in sizes:
        for what in steps:
            rs = runs[(n, what)]
            last = rs[-1]
            row = {
                "finished": last["finished"],
                "seconds": median([r["seconds"] for r in rs]),
                "captured": last.get("captured"),
                "statements": last["statements"],
                "written": last["alerts"],
                "done": last["iterations"],
                "planned": last["planned"],
                "rss": max(r["rss_peak"] for r in rs),
                "rss_before": min(r["rss_before"] for r in rs),
                "staff": last["staff"],
            }
            row["per_person"] = row["statements"] / max(row["done"], 1)
            row["projected_s"] = row["seconds"] * row["planned"] / max(row["done"], 1)
            row["projected_rows"] = row["written"] * row["planned"] / max(row["done"], 1)
            summary[(n, what)] = row
            captured = "-" if row["captured"] is None else f"{row['captured']:,}"
            lines.append(
                f"| {n:,} | {'detection' if what == 'detect' else 'digests'} | {row['seconds']:.1f} | "
                f"{'yes' if row['finished'] else f'**no: stopped at the {args.budget:.0f} s budget**'} | "
                f"{captured} | {row['statements']:,} | "
                f"{row['written']:,} | {row['done']:,} / {row['planned']:,} | {row['per_person']:.2f} | "
                f"{row['rss']:.0f} ({row['rss_before']:.0f}) | {row['staff']:,} |"
            )
    small = sizes[0]
    verdicts = []
    for what, name in (("detect", "detection"), ("digests", "digests")):
        a, b = summary[(small, what)], summary[(largest, what)]
        growth = (
            f"{b['seconds']:.1f} s"
            if b["finished"]
            else f"stopped after {b['seconds']:.0f} s with {b['done']:,} of {b['planned']:,} people done: at that "
            f"rate the whole run would take ~{duration(b['projected_s'])} (a lower bound when the rest fans out more, "
            "as the escalations below do)"
        )
        stopped = "" if b["finished"] else " before it was stopped"
        verdicts.append(
            f"**{name}**: {a['statements']:,} SQL statements at N={small:,} ({a['per_person']:.2f} per person "
            f"processed, {a['planned']:,} people) -> {b['statements']:,}{stopped} "
            f"at N={largest:,} ({b['per_person']:.2f} per person, {b['planned']:,} people to process); "
            f"{a['seconds']:.1f} s -> {growth}; peak RSS {a['rss']:.0f} -> {b['rss']:.0f} MiB"
        )
    fan = [
        f"N={n:,}: {fanout[n][0]:,} open clocks overdue by 2+ working days -> {fanout[n][1]:,} escalation rows "
        "(each goes to every police supervisor of the force, or every legal manager of the CPS Area)"
        for n in sizes
    ]
    plan_lines = []
    for p in plans:
        found = scans(p["plan"])
        seq = [s for s in found if s.startswith(("Seq Scan", "Parallel Seq Scan"))]
        m = re.search(r"Execution Time: ([\d.]+) ms", p["plan"])
        plan_lines.append(
            f"- {p['name']} ({float(m.group(1)) if m else 0:.0f} ms): "
            + ("; ".join(f"`{s}`" for s in found) or "no scan of a big table")
            + (f" (**sequential scan** of {', '.join(sorted(seq_tables(seq)))})" if seq else "")
        )
    out = [
        f"Alerts benchmark, sizes {', '.join(f'{n:,}' for n in sizes)}, median of {args.repeats}",
        *lines,
        "",
    ]
    out += verdicts + [""] + fan + [""] + plan_lines + [""]
    for p in plans:
        out += [f"EXPLAIN (ANALYZE, BUFFERS): {p['name']}", p["plan"], ""]
    print("\n".join(out))
    if args.no_doc:
        return
    doc = [doc_header("alerts.py", sys.argv, started)]
    doc.append(
        "- Data: the data sets of `bench/dataset.py` ("
        + ", ".join(f"{n:,} cases, T = {sets[n]['today']}" for n in sizes)
        + "); staff scale with the cases (one OIC per 60 cases, a supervisor per 8 OICs, a prosecutor per 400 "
        "referred cases), so the number of people to tell grows with the cases, as it would nationally."
    )
    doc.append(
        "- Method: per size and repeat (sizes alternate), the outbox `cases_alert` is emptied (the first run of a "
        "day with nothing sent yet: the most work detection can have), then a fresh child process runs "
        "`alerts_detect(today=T, now=T 07:30 London)` and another `digests_build(now=T 07:30 London)`. Median wall "
        "seconds; SQL statements counted by an execute wrapper; queries with `CaptureQueriesContext` in an extra "
        "run (its count includes the BEGIN/COMMIT pairs Django logs around each bulk insert); peak RSS of the "
        f"child (`ru_maxrss`), with its value after set-up and warm-up in brackets. A run is stopped at "
        f"{args.budget:.0f} s (an execute wrapper raises): its figures are then those of the part done, and the "
        "time to finish is extrapolated from the rate of the part done (a rough guide, not a measurement)."
    )
    doc += ["", *lines, ""]
    doc += [f"- {v}" for v in verdicts]
    doc += [f"- Escalation fan-out, {f}" for f in fan]
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
