#!/usr/bin/env python
"""Make the national-scale data sets with ``manage.py generate_cases`` and report the generation rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/dataset.py --sizes 1000 10000 1000000

For each size N: a database ``jjp_bench_scale_<1k|10k|1m>`` is (re)created from a migrated template
(``jjp_bench_scale_template``), filled with ``generate_cases --count N --seed S --today T`` (timed, in a child
process, so the figure is the command's own), then VACUUM ANALYZE and the stored performance figures computed
(``refresh_performance_figures --all``, as the daily beat run would). How it was made (seed, count, T, seconds) is
written in the database's comment, which the other benchmarks read. T defaults to the latest working day up to
the London today (the daily digest only goes out on working days). Rewrites the "## Synthetic national data
set" section of docs/performance.md.

Needs a PostgreSQL superuser (CREATE DATABASE, session_replication_role). Only databases whose name contains
"bench" are ever dropped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from contextlib import closing

from common import (
    BASE_DIR,
    PYTHON,
    admin_connect,
    check_bench_name,
    child_env,
    database_exists,
    dataset_info,
    db_name,
    doc_header,
    label,
    log,
    url_for,
    write_section,
)

HEADING = "## Synthetic national data set"
TEMPLATE = "jjp_bench_scale_template"


def latest_working_day() -> datetime.date:
    sys.path.insert(0, str(BASE_DIR))
    from zoneinfo import ZoneInfo

    from cases import clocks

    day = datetime.datetime.now(ZoneInfo("Europe/London")).date()
    while not clocks.is_working_day(day):
        day -= datetime.timedelta(days=1)
    return day


def make_template() -> None:
    """A migrated empty database to copy each data set's database from (CREATE DATABASE ... TEMPLATE)."""
    check_bench_name(TEMPLATE)
    if not database_exists(TEMPLATE):
        with closing(admin_connect()) as conn, conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{TEMPLATE}"')
    log(f"migrating {TEMPLATE}")
    subprocess.run(  # noqa: S603
        [PYTHON, str(BASE_DIR / "manage.py"), "migrate", "-v0"], env=child_env(url_for(TEMPLATE)), check=True
    )


def recreate(name: str) -> None:
    check_bench_name(name)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [TEMPLATE],
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')


def generate(size: int, seed: int, today: datetime.date, batch: int) -> dict:
    name = db_name(size)
    recreate(name)
    log(f"{name}: generate_cases --count {size} --seed {seed} --today {today}")
    t0 = time.perf_counter()
    proc = subprocess.run(  # noqa: S603
        [
            PYTHON,
            str(BASE_DIR / "manage.py"),
            "generate_cases",
            f"--count={size}",
            f"--seed={seed}",
            f"--today={today}",
            f"--batch={batch}",
        ],
        env=child_env(url_for(name)),
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - t0
    out = proc.stdout
    sys.stdout.write(out)
    counts = {
        m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"^\s+(\w+)\s+([\d,]+)$", out, re.M)
    }
    staff = int(re.search(r"([\d,]+) staff", out).group(1).replace(",", ""))
    log(f"{name}: VACUUM ANALYZE")
    t1 = time.perf_counter()
    with closing(admin_connect(name)) as conn, conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT pg_database_size(current_database())")
        db_bytes = cur.fetchone()[0]
    vacuum = time.perf_counter() - t1
    # The joint performance dashboard reads stored figures, which the beat keeps: compute them once, as the
    # daily full refresh would.
    log(f"{name}: refresh_performance_figures --all")
    subprocess.run(  # noqa: S603
        [PYTHON, str(BASE_DIR / "manage.py"), "refresh_performance_figures", "--all"],
        env=child_env(url_for(name)),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    info = {
        "count": size,
        "seed": seed,
        "today": today.isoformat(),
        "seconds": round(seconds, 1),
        "vacuum_seconds": round(vacuum, 1),
        "rows": sum(counts.values()),
        "counts": counts,
        "staff": staff,
        "bytes": db_bytes,
        "made": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(f'COMMENT ON DATABASE "{name}" IS %s', [json.dumps(info)])
    log(f"{name}: {size:,} cases, {info['rows']:,} rows in {seconds:.0f} s ({size / seconds:,.0f} cases/s)")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jjp.settings")
    today = args.today or latest_working_day()
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    make_template()
    results = {size: generate(size, args.seed, today, args.batch) for size in sorted(set(args.sizes))}
    if args.no_doc:
        return
    # Keep the figures of sizes not remade this time (their databases still hold them).
    for size in (1_000, 10_000, 1_000_000):
        if size not in results:
            info = dataset_info(db_name(size))
            if info:
                results[size] = info
    body = [doc_header("dataset.py", sys.argv, started)]
    body.append(
        "- What: `manage.py generate_cases --count N --seed S --today T --batch 10000` into a fresh database "
        "per size (copied from a migrated template). Rows go in with COPY, 10,000 cases per transaction, "
        "audit and foreign-key triggers off for the load (`SET LOCAL session_replication_role = replica`); a "
        "forked process plans the next batch while the current one is written. Seconds are the command's wall "
        "time (staff, planning, COPY, ANALYZE); VACUUM ANALYZE after it is shown apart."
    )
    body.append("")
    body.append(
        "| N | T | seconds | cases/s | rows | rows/s | staff | clocks | clock crossings | timeline | "
        "database size | VACUUM ANALYZE s |"
    )
    body.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, info in sorted(results.items()):
        c = info.get("counts", {})
        body.append(
            f"| {size:,} | {info['today']} | {info['seconds']:.1f} | {size / info['seconds']:,.0f} | "
            f"{info['rows']:,} | {info['rows'] / info['seconds']:,.0f} | {info.get('staff', 0):,} | "
            f"{c.get('cases_clock', 0):,} | {c.get('cases_clockevent', 0):,} | {c.get('cases_caseevent', 0):,} | "
            f"{info['bytes'] / 2**30:.2f} GiB | {info.get('vacuum_seconds', 0):.0f} |"
        )
    largest = max(results)
    c = results[largest].get("counts", {})
    if c:
        body.append("")
        body.append(
            f"Rows per table at N={largest:,} (database `{db_name(largest)}`, label {label(largest)}):"
        )
        body.append("")
        body.append("| table | rows | per case |")
        body.append("|---|---:|---:|")
        for table, n in c.items():
            body.append(f"| `{table}` | {n:,} | {n / largest:.2f} |")
    write_section(HEADING, "\n".join(body))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
