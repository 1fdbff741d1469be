#!/usr/bin/env python
"""Benchmark of the clock sweep (``cases.ledger.sweep``) against a bare-UPDATE floor, at growing sizes.

Not a test: it prints its figures and rewrites the "## Clock sweep" section of ``docs/performance.md``
(other sections are kept). See ``bench/README.md``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/sweep.py --sizes 10000 100000 1000000

It TRUNCATES the case data of the database it is pointed at, so it refuses to run unless the database name
contains "bench" (``--allow-any-database`` overrides that). The database is created if missing and migrated.

For each size N it generates N open cases with one open clock each (set-based SQL, audit triggers off), then
measures side by side, ``--repeats`` times each from identical data (states reset, clock events and sweep runs
emptied, VACUUM ANALYZE, CHECKPOINT before every measurement), in alternating order:

* the sweep: ``ledger.sweep(today=T)``, wall seconds, everything included (rules sync, SweepRun row, advisory
  lock, the one statement, the commit);
* the floor: ``UPDATE cases_clock SET state = <the sweep's CASE> WHERE stopped_on IS NULL AND state <> <CASE>``,
  the least work that writes the same states (no events, no run record), autocommitted.

Two scenarios, both from the same data:

* ``daily``: the states are those of yesterday (T - 1), so the sweep moves only the clocks crossing a threshold
  on T (the steady state of a sweep that runs every day);
* ``cold``: every open clock is 'running' (the brief's reset-to-running protocol; also the first sweep after a
  long outage or an import), so every due-soon, overdue and time-barred clock moves at once.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DOC_PATH = BASE_DIR / "docs" / "performance.md"
SECTION_HEADING = "## Clock sweep"

sys.path.insert(0, str(BASE_DIR))
os.environ["DJANGO_SETTINGS_MODULE"] = "jjp.settings"

import django  # noqa: E402  (the path and settings module above must come first)

django.setup()

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg2 import sql  # noqa: E402

from cases import ledger  # noqa: E402
from cases.models import SweepRun  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# SQL. Nothing from the command line is ever interpolated into these strings: the only f-string pieces are the
# constant CASE expression below; values (dates, sizes) are always bound parameters.
# ---------------------------------------------------------------------------------------------------------------

# The state of an open clock on %(day)s: the same CASE expression as cases.ledger._SWEEP_SQL (with its
# parameter renamed). The script checks that the sweep and the floor leave identical states, and samples the
# result against cases.ledger.ledger_state().
STATE_CASE = """CASE WHEN %(day)s > due_on
     THEN CASE WHEN kind IN ('stl', 'stl_common_assault') THEN 'time_barred' ELSE 'overdue' END
     WHEN %(day)s >= warn_on THEN 'due_soon'
     ELSE 'running' END"""

CLOCKS_SQL = (
    f"UPDATE cases_clock SET state = {STATE_CASE} "  # noqa: S608  constant expression, values are bound params
    f"WHERE stopped_on IS NULL AND state <> {STATE_CASE}"
)

# The floor writes the same rows as the sweep and nothing more: the clocks' new states, and the moved clocks'
# cases marked changed (Case.changed_at, which the API's updated_since reads; cases/derived.py).
FLOOR_SQL = (
    f"WITH changed AS ({CLOCKS_SQL} RETURNING case_id), "  # noqa: S608  constant expression, values are bound params
    "touched AS (UPDATE cases_case SET changed_at = now() WHERE id IN (SELECT case_id FROM changed) RETURNING 1) "
    "SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM touched)"
)

RESET_TO_DAY_SQL = CLOCKS_SQL  # the clocks' states as of another day, to set up the daily scenario
RESET_TO_RUNNING_SQL = (
    "UPDATE cases_clock SET state = 'running' WHERE stopped_on IS NULL AND state <> 'running'"
)

# Case data only: organisations, offence types, users and the Django/Celery tables are kept. CASCADE reaches the
# other apps' case tables (referrals, victims, orders, panel reviews), which all reference cases_case.
TRUNCATE_SQL = """
TRUNCATE cases_clockevent, cases_sweeprun, cases_clock, cases_caseevent, cases_offence,
         cases_case_restricted_to, cases_case_suspects, cases_case,
         cases_casehistory, cases_clockhistory, cases_offencehistory
RESTART IDENTITY CASCADE
"""

# The generation plan: one row per case/clock. Kinds by id modulo 20 (40% investigation, 15% charge, 30% victim
# update, 15% statutory time limit); due dates by a bijective hash of the id modulo 121, i.e. spread evenly over
# T-60 .. T+60 and independent of kind and force (20, 121 and 43 are pairwise coprime). Dates follow the rules'
# shapes: investigation 21 days from report, charge 7 days, enhanced victim update 1 day (warn_on clamps to
# started_on as clock_open() does), STL 6 months from the offence with the 8-week (56-day) flag.
PLAN_SQL = """
CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
WITH g AS (
    SELECT g AS id,
           CASE WHEN mod(g, 20) < 8 THEN 'investigation'
                WHEN mod(g, 20) < 11 THEN 'charge'
                WHEN mod(g, 20) < 17 THEN 'victim_update'
                ELSE 'stl' END AS kind,
           %(today)s::date + (mod(g::bigint * 7919, 121) - 60)::int AS due_on,
           1 + mod(g, %(nforces)s) AS force_ix
    FROM generate_series(1, %(n)s) AS g
), d AS (
    SELECT g.*,
           CASE kind WHEN 'investigation' THEN due_on - 21
                     WHEN 'charge' THEN due_on - 7
                     WHEN 'victim_update' THEN due_on - 1
                     ELSE (due_on - interval '6 months')::date END AS started_on
    FROM g
)
SELECT d.id, d.kind, d.due_on, d.started_on,
       CASE kind WHEN 'stl' THEN due_on - 56
                 WHEN 'victim_update' THEN started_on
                 ELSE due_on - 3 END AS warn_on,
       CASE kind WHEN 'investigation' THEN started_on
                 WHEN 'charge' THEN due_on - 40
                 WHEN 'victim_update' THEN due_on - 10
                 ELSE started_on + 2 END AS reported_on,
       (%(force_ids)s::bigint[])[force_ix] AS force_id,
       CASE WHEN kind = 'charge' THEN (%(area_ids)s::bigint[])[force_ix] END AS cps_area_id,
       CASE WHEN kind = 'stl' THEN (%(stl_type_ids)s::bigint[])[1 + mod(d.id / 20, 2)] END AS offence_type_id
FROM d
"""

INSERT_CASES_SQL = """
INSERT INTO cases_case (id, urn, status, domestic_abuse, summary, reported_on, first_qualifying_report_on,
                        first_qualifying_report_kind, risk_level, risk_tool, children_in_household,
                        police_perpetrated, restricted, high_harm_repeat_offender, created_at, updated_at,
                        oic_id, cps_area_id, force_id)
SELECT id, 'BENCH' || lpad(id::text, 9, '0'),
       CASE WHEN kind = 'charge' THEN 'decided' ELSE 'investigation' END,
       true, '', reported_on, NULL, '', 'unknown', '', false, false, false, false, now(), now(),
       NULL, cps_area_id, force_id
FROM bench_plan
"""

INSERT_OFFENCES_SQL = """
INSERT INTO cases_offence (id, committed_from, committed_on, prosecutor_knowledge_on, particulars, created_at,
                           case_id, offence_type_id, suspect_id)
SELECT id, NULL, started_on, NULL, '', now(), id, offence_type_id, NULL
FROM bench_plan WHERE kind = 'stl'
"""

INSERT_CLOCKS_SQL = """
INSERT INTO cases_clock (id, kind, side, label, started_on, due_on, due_at, warn_on, stopped_on, state,
                         state_changed_at, params, action_id, case_id, order_id, referral_id, victim_id, offence_id,
                         force_id, cps_area_id, restricted)
SELECT p.id, p.kind, 'police', '', p.started_on, p.due_on, NULL, p.warn_on, NULL, 'running', now(),
       CASE WHEN p.kind = 'victim_update' THEN '{"enhanced": true}' ELSE '{}' END::jsonb,
       NULL, p.id, NULL, NULL, NULL, CASE WHEN p.kind = 'stl' THEN p.id END,
       c.force_id, c.cps_area_id, c.restricted
FROM bench_plan p JOIN cases_case c ON c.id = p.id
"""

SCENARIOS = {
    "daily": "states as of yesterday (T-1); the sweep moves only the clocks that cross a threshold on T",
    "cold": "every open clock 'running' (reset-to-running); the sweep moves every due-soon/overdue/time-barred "
    "clock at once",
}


# The method, for the doc (prose, not SQL that is executed).
METHOD_TEXT = (
    "alternating which goes first, each from identical data (states reset, clock events and sweep runs emptied, "
    "VACUUM ANALYZE, CHECKPOINT); median wall seconds. **sweep** = `ledger.sweep(today=T)` end to end (rules "
    "sync, SweepRun row, advisory lock, the statement, commit). **floor** = `WITH changed AS (UPDATE cases_clock "
    "SET state = <the sweep's CASE> WHERE stopped_on IS NULL AND state <> <CASE> RETURNING case_id) UPDATE "
    "cases_case SET changed_at = now() WHERE id IN (SELECT case_id FROM changed)`: the same rows written (the "
    "clocks' states, and their cases marked changed for the API's `updated_since`), with no events and no run "
    "record. Both leave identical states (checked), and a sample agrees with `ledger_state()`. Growth = time "
    "ratio / size ratio between consecutive sizes (1.0 = linear)."
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def execute(statement: str, params: dict | None = None) -> int:
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.rowcount


def fetchall(statement: str, params: dict | None = None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


# ---------------------------------------------------------------------------------------------------------------
# Database set-up
# ---------------------------------------------------------------------------------------------------------------


def ensure_database(allow_any: bool) -> str:
    db = settings.DATABASES["default"]
    name = db["NAME"]
    if "bench" not in name and not allow_any:
        sys.exit(
            f"refusing to run against database {name!r}: this script truncates the case data. Point DATABASE_URL "
            "at a bench database (a name containing 'bench', e.g. jjp_bench) or pass --allow-any-database."
        )
    conn = psycopg2.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                log(f"creating database {name}")
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    return name


def reference_counts() -> dict[str, int]:
    tables = ("cases_organisation", "cases_offencetype", "cases_user")
    return {t: fetchall(f"SELECT count(*) FROM {t}")[0][0] for t in tables}  # noqa: S608  constant table names


def vacuum(*tables: str) -> None:
    for table in tables:
        execute(f"VACUUM (ANALYZE) {table}")


def generate(n: int, today: datetime.date) -> float:
    """Empty the case data and generate ``n`` open cases with one open clock each. Returns seconds taken."""
    forces = fetchall("SELECT id, area_id FROM cases_organisation WHERE kind = 'force' ORDER BY code")
    if len(forces) != 43:
        sys.exit(
            f"expected the 43 territorial forces (kind='force'), found {len(forces)}: run the migrations"
        )
    stl_types = [
        r[0]
        for r in fetchall(
            "SELECT id FROM cases_offencetype WHERE stl_regime IN ('mca_s127', 'cja_s39a') ORDER BY code"
        )
    ][:2]
    if len(stl_types) < 2:
        sys.exit("expected summary-only offence types with a statutory time limit in cases_offencetype")
    before = reference_counts()
    t0 = time.perf_counter()
    with transaction.atomic():
        execute("SET LOCAL session_replication_role = replica")  # audit (pghistory) and FK triggers off
        execute(TRUNCATE_SQL)
        execute(
            PLAN_SQL,
            {
                "n": n,
                "today": today,
                "nforces": len(forces),
                "force_ids": [f[0] for f in forces],
                "area_ids": [f[1] for f in forces],
                "stl_type_ids": stl_types,
            },
        )
        execute(INSERT_CASES_SQL)
        execute(INSERT_OFFENCES_SQL)
        execute(INSERT_CLOCKS_SQL)
        for table in ("cases_case", "cases_offence", "cases_clock"):
            execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %(n)s)", {"n": n})
    vacuum("cases_case", "cases_offence", "cases_clock", "cases_clockevent", "cases_sweeprun")
    if reference_counts() != before:
        sys.exit(f"reference data changed during generation: {before} -> {reference_counts()}")
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------------------------


def reset(scenario: str, today: datetime.date) -> None:
    """Bring the data back to the scenario's starting point, identical for every measurement."""
    with transaction.atomic():
        execute("SET LOCAL session_replication_role = replica")
        execute("TRUNCATE cases_clockevent, cases_sweeprun RESTART IDENTITY")
        if scenario == "cold":
            execute(RESET_TO_RUNNING_SQL)
        else:
            execute(RESET_TO_DAY_SQL, {"day": today - datetime.timedelta(days=1)})
    vacuum("cases_clock", "cases_clockevent", "cases_sweeprun")
    execute("CHECKPOINT")


def state_counts() -> dict[str, int]:
    return dict(fetchall("SELECT state, count(*) FROM cases_clock WHERE stopped_on IS NULL GROUP BY state"))


def check_against_python(n: int, today: datetime.date) -> int:
    """Sample about 2,000 clocks and check their stored state against ledger.ledger_state()."""
    step = max(1, n // 2000)
    rows = fetchall(
        "SELECT kind, due_on, warn_on, state FROM cases_clock WHERE stopped_on IS NULL AND mod(id, %(step)s) = 0",
        {"step": step},
    )
    for kind, due_on, warn_on, state in rows:
        expected = ledger.ledger_state(kind=kind, due_on=due_on, warn_on=warn_on, today=today)
        if state != expected:
            sys.exit(f"state mismatch: {kind} due {due_on} warn {warn_on}: stored {state}, Python {expected}")
    return len(rows)


def run_sweep(today: datetime.date) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    run = ledger.sweep(today=today)
    seconds = time.perf_counter() - t0
    if run.status != SweepRun.Status.DONE:
        sys.exit(f"sweep did not complete: {run.status} {run.error}")
    return seconds, run.examined, run.events


def run_floor(today: datetime.date) -> tuple[float, int]:
    t0 = time.perf_counter()
    changed = fetchall(FLOOR_SQL, {"day": today})[0][0]
    return time.perf_counter() - t0, changed


@dataclass
class Result:
    scenario: str
    n: int
    sweep: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    changed: int = 0
    events: int = 0

    @property
    def sweep_s(self) -> float:
        return statistics.median(self.sweep)

    @property
    def floor_s(self) -> float:
        return statistics.median(self.floor)

    @property
    def ratio(self) -> float:
        return self.sweep_s / self.floor_s


def measure(scenario: str, n: int, today: datetime.date, repeats: int) -> Result:
    result = Result(scenario, n)
    expected_states: dict[str, int] | None = None
    for rep in range(repeats):
        order = ("sweep", "floor") if rep % 2 == 0 else ("floor", "sweep")
        for what in order:
            reset(scenario, today)
            if what == "sweep":
                seconds, changed, events = run_sweep(today)
                result.sweep.append(seconds)
                result.events = events
            else:
                seconds, changed = run_floor(today)
                result.floor.append(seconds)
            if result.changed and changed != result.changed:
                sys.exit(f"{what} changed {changed} clocks, an earlier run {result.changed}")
            result.changed = changed
            states = state_counts()
            if expected_states is not None and states != expected_states:
                sys.exit(f"{what} left states {states}, an earlier run {expected_states}")
            expected_states = states
            log(f"  {scenario} N={n:,} rep {rep + 1}/{repeats} {what}: {seconds:.3f}s ({changed:,} changed)")
    checked = check_against_python(n, today)
    log(
        f"  {scenario} N={n:,}: states {expected_states}; {checked:,} sampled clocks agree with ledger_state()"
    )
    return result


def explain(scenario: str, today: datetime.date) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the sweep's statement, from the scenario's starting data, rolled back."""
    reset(scenario, today)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + ledger._SWEEP_SQL,
            {"today": today, "now": timezone.now(), "run": None},
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
        transaction.set_rollback(True)
    return plan


def clock_scans(plan: str) -> list[str]:
    """The plan nodes that read cases_clock (scan type and index, if any)."""
    scans = []
    for line in plan.splitlines():
        m = re.search(r"((?:Parallel )?(?:Seq|Index Only|Index|Bitmap Heap|Bitmap Index) Scan[^(]*)", line)
        if m and ("cases_clock " in line or "cases_clock_" in line) and "cases_clockevent" not in line:
            scans.append(m.group(1).strip())
    return scans


# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------

RATIO_AIM = 2.0
LINEAR_TOLERANCE = 1.3  # a growth factor up to this counts as linear (timing noise on a shared machine)


def growth(prev: Result | None, cur: Result, attr: str) -> float | None:
    if prev is None:
        return None
    return (getattr(cur, attr) / getattr(prev, attr)) / (cur.n / prev.n)


def table(results: list[Result]) -> list[str]:
    header = (
        "| N | sweep s | floor s | sweep/floor | clocks changed | events | sweep s per 10^5 clocks "
        "| growth (sweep) | growth (floor) |"
    )
    lines = [header, "|" + "---:|" * 9]
    prev = None
    for r in results:
        g_sweep, g_floor = growth(prev, r, "sweep_s"), growth(prev, r, "floor_s")
        lines.append(
            f"| {r.n:,} | {r.sweep_s:.3f} | {r.floor_s:.3f} | {r.ratio:.2f} | {r.changed:,} "
            f"({100 * r.changed / r.n:.1f}%) | {r.events:,} | {r.sweep_s / (r.n / 1e5):.3f} "
            f"| {'-' if g_sweep is None else f'{g_sweep:.2f}'} | {'-' if g_floor is None else f'{g_floor:.2f}'} |"
        )
        prev = r
    return lines


def verdict(by_scenario: dict[str, list[Result]]) -> tuple[bool, str]:
    parts, all_met = [], True
    for scenario, results in by_scenario.items():
        worst_ratio = max(r.ratio for r in results)
        growths = [growth(p, c, "sweep_s") for p, c in zip(results, results[1:], strict=False)]
        worst_growth = max(growths) if growths else None
        within = worst_ratio <= RATIO_AIM
        linear = worst_growth is not None and worst_growth <= LINEAR_TOLERANCE
        all_met &= within and linear
        growth_text = "n/a (one size)" if worst_growth is None else f"{worst_growth:.2f}"
        parts.append(
            f"{scenario}: worst sweep/floor {worst_ratio:.2f} ({'within' if within else 'NOT within'} 2x), "
            f"worst growth factor {growth_text} ({'linear' if linear else 'NOT linear'})"
        )
    head = "MET" if all_met else "NOT MET"
    rule = (
        f"(Linear: every growth factor between consecutive sizes <= {LINEAR_TOLERANCE}; below 1 means fixed "
        "costs still dominate.)"
    )
    return all_met, f"**Aims (within 2x of the floor, linear): {head}.** {'; '.join(parts)}. {rule}"


def display_command(argv: list[str]) -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = []
    if url:
        u = urlsplit(url)
        if u.password:
            netloc = f"{u.username}:***@{u.hostname}" + (f":{u.port}" if u.port else "")
            url = urlunsplit(u._replace(netloc=netloc))
        parts.append(f"DATABASE_URL={url}")
    if os.environ.get("JJP_LOCAL_RUN"):
        parts.append(f"JJP_LOCAL_RUN={os.environ['JJP_LOCAL_RUN']}")
    exe = Path(sys.executable)
    try:
        exe_text = str(exe.relative_to(BASE_DIR)) if exe.is_absolute() else str(exe)
    except ValueError:
        exe_text = str(exe)
    script = Path(argv[0])
    try:
        script_text = str(script.resolve().relative_to(BASE_DIR))
    except ValueError:
        script_text = str(script)
    return " ".join([*parts, exe_text, script_text, *argv[1:]])


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    settings_rows = fetchall(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
        "'max_parallel_workers_per_gather', 'synchronous_commit') ORDER BY name"
    )
    pg_settings = ", ".join(f"{n}={s}{'' if not u else ' x ' + u}" for n, s, u in settings_rows)
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "mem": mem,
        "postgres": fetchall("SHOW server_version")[0][0],
        "pg_settings": pg_settings,
        "python": platform.python_version(),
        "django": django.get_version(),
    }


def write_doc(section: str) -> None:
    text = (
        DOC_PATH.read_text()
        if DOC_PATH.exists()
        else "# Performance\n\nMeasured figures, each section written by its script.\n"
    )
    pattern = re.compile(rf"^{re.escape(SECTION_HEADING)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="sizes 10^3 and 10^4 (overrides --sizes)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="measurements of each, median taken (default 3)"
    )
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--today", type=datetime.date.fromisoformat, help="T (default: London today)")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/performance.md alone")
    parser.add_argument("--allow-any-database", action="store_true")
    args = parser.parse_args()
    sizes = sorted(set([1_000, 10_000] if args.quick else args.sizes))
    today = args.today or ledger.london_today()

    name = ensure_database(args.allow_any_database)
    log(f"database {name}: migrating")
    call_command("migrate", verbosity=0)
    rss_setup = peak_rss_mib()
    started = timezone.localtime()
    info = machine()
    log(
        f"T = {today}; sizes {sizes}; scenarios {args.scenarios}; {args.repeats} repeats; {info['nproc']} CPUs"
    )

    by_scenario: dict[str, list[Result]] = {s: [] for s in args.scenarios}
    plans: dict[str, str] = {}
    gen_seconds: dict[int, float] = {}
    for n in sizes:
        log(f"N={n:,}: generating")
        gen_seconds[n] = generate(n, today)
        log(f"N={n:,}: generated in {gen_seconds[n]:.1f}s")
        for scenario in args.scenarios:
            by_scenario[scenario].append(measure(scenario, n, today, args.repeats))
            if n == sizes[-1]:
                log(f"N={n:,}: EXPLAIN (ANALYZE, BUFFERS) of the sweep ({scenario}, rolled back)")
                plans[scenario] = explain(scenario, today)
    rss_end = peak_rss_mib()

    # ---- print -------------------------------------------------------------------------------------------
    met, verdict_line = verdict(by_scenario)
    largest = sizes[-1]
    out: list[str] = []
    out.append(f"Clock sweep benchmark, T = {today} (London), median of {args.repeats}")
    out.append(
        f"machine: nproc {info['nproc']}, {info['cpu']}, {info['mem']}; PostgreSQL {info['postgres']} "
        f"({info['pg_settings']}); Python {info['python']}, Django {info['django']}"
    )
    for scenario, results in by_scenario.items():
        out.append("")
        out.append(f"{scenario}: {SCENARIOS[scenario]}")
        out.extend(table(results))
    out.append("")
    for scenario, plan in plans.items():
        out.append(
            f"EXPLAIN (ANALYZE, BUFFERS) of the sweep statement, N={largest:,}, {scenario} (rolled back):"
        )
        out.append(plan)
        scans = clock_scans(plan)
        uses_idx = "cases_clock_open_due_idx" in plan
        out.append(
            f"-> cases_clock read by: {'; '.join(scans) or '?'}; partial index cases_clock_open_due_idx "
            f"{'USED' if uses_idx else 'not used'}"
        )
        out.append("")
    out.append(
        f"peak RSS of this Python process: {rss_end:.0f} MiB at the end ({rss_setup:.0f} MiB after Django set-up "
        f"and migrate, before any data)"
    )
    out.append(verdict_line.replace("**", ""))
    print("\n".join(out), flush=True)

    if args.no_doc:
        return

    # ---- docs/performance.md -----------------------------------------------------------------------------
    doc: list[str] = [SECTION_HEADING, ""]
    doc.append(
        "_Written by `bench/sweep.py`, which replaces only this section; rerun it to refresh. See "
        "`bench/README.md`._"
    )
    doc += ["", "Command:", "", "```sh", display_command(sys.argv), "```", ""]
    doc.append(f"- Date: {started:%Y-%m-%d %H:%M %Z}; T (the sweep's London today) = {today}")
    doc.append(
        f"- Machine: nproc {info['nproc']} ({info['cpu']}, {info['mem']}), shared; PostgreSQL "
        f"{info['postgres']} ({info['pg_settings']}); Python {info['python']}, Django {info['django']}"
    )
    doc.append(
        "- Data: N open cases with one open clock each, over the 43 forces; 40% investigation, 15% charge, "
        "30% victim update, 15% statutory time limit (with its offence); due dates spread evenly over T-60 .. "
        "T+60 days; warn_on 3 days before (56 for an STL, the started day for a 1-day victim update). "
        f"Generated by set-based SQL with the audit triggers off (N={largest:,}: {gen_seconds[largest]:.0f} s)."
    )
    doc.append(f"- Method: for each N, {args.repeats} runs of each, " + METHOD_TEXT)
    doc.append(
        f"- Memory: peak RSS of the Python process {rss_end:.0f} MiB at the end, {rss_setup:.0f} MiB before "
        f"any data: the sweep does not load clocks into Python."
    )
    for scenario, results in by_scenario.items():
        doc += ["", f"### {scenario.capitalize()}: {SCENARIOS[scenario]}", ""]
        doc.extend(table(results))
    for scenario, plan in plans.items():
        scans = clock_scans(plan)
        uses_idx = "cases_clock_open_due_idx" in plan
        doc += [
            "",
            f"Plan of the sweep statement at N={largest:,} ({scenario}, `EXPLAIN (ANALYZE, BUFFERS)`, rolled "
            f"back): cases_clock is read by {'; '.join(f'`{s}`' for s in scans) or '?'}; the partial index "
            f"`cases_clock_open_due_idx` is **{'used' if uses_idx else 'not used'}**"
            + (
                ""
                if uses_idx
                else " (every clock in this data is open, so the planner reads the whole table)"
            )
            + ".",
            "",
            "<details><summary>plan</summary>",
            "",
            "```",
            plan,
            "```",
            "",
            "</details>",
        ]
    doc += ["", verdict_line, ""]
    write_doc("\n".join(doc))
    log(f"wrote '{SECTION_HEADING}' in {DOC_PATH.relative_to(BASE_DIR)} (aims {'met' if met else 'not met'})")


if __name__ == "__main__":
    main()
