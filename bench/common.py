"""Helpers shared by the national-scale benchmarks (``bench/dataset.py``, ``alerts.py``, ``web.py``, ``bulk.py``,
``helpdesk.py``). Not imported by ``bench/sweep.py``, which keeps its own.

The data sets live in their own databases, one per size, named ``jjp_bench_scale_<label>`` (``1k``, ``10k``,
``1m``: see :func:`db_name`), made by ``bench/dataset.py`` and reused by the other scripts. Each records how it
was made (seed, count, the London "today" T it was built for) in its database comment. A script that measures
two sizes side by side runs each measurement in a child process pointed at that size's database (``run_child``)
or starts a server per database, so the two sizes are measured alternately in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DOC_PATH = BASE_DIR / "docs" / "performance.md"
PYTHON = sys.executable
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jjp_bench_scale"


def setup_django(settings_module: str = "jjp.settings") -> None:
    """Make the repository importable and set Django up (call before importing the product's modules)."""
    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def label(size: int) -> str:
    for unit, name in ((1_000_000, "m"), (1_000, "k")):
        if size >= unit and size % unit == 0:
            return f"{size // unit}{name}"
    return str(size)


def db_name(size: int) -> str:
    return f"jjp_bench_scale_{label(size)}"


def base_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def url_for(name: str) -> str:
    """``DATABASE_URL`` with another database name."""
    parts = urlsplit(base_url())
    return urlunsplit(parts._replace(path="/" + name))


def check_bench_name(name: str) -> None:
    if "bench" not in name:
        sys.exit(f"refusing to use database {name!r}: benchmark databases have 'bench' in their name")


def admin_connect(dbname: str = "postgres") -> Any:
    """A psycopg2 connection (autocommit) with the credentials of ``DATABASE_URL``."""
    import psycopg2

    parts = urlsplit(base_url())
    conn = psycopg2.connect(
        dbname=dbname,
        host=parts.hostname or None,
        port=parts.port or None,
        user=parts.username or None,
        password=parts.password or None,
    )
    conn.autocommit = True
    return conn


def database_exists(name: str) -> bool:
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def dataset_info(name: str) -> dict[str, Any] | None:
    """How a data set database was made (its comment), or None when it is missing or was never completed."""
    if not database_exists(name):
        return None
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        )
        raw = cur.fetchone()[0]
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def require_dataset(size: int) -> dict[str, Any]:
    name = db_name(size)
    info = dataset_info(name)
    if info is None or info.get("count") != size:
        sys.exit(f"no data set of {size:,} cases in {name}: run bench/dataset.py --sizes {size} first")
    return {**info, "db": name, "url": url_for(name)}


def child_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": db_url, "JJP_LOCAL_RUN": os.environ.get("JJP_LOCAL_RUN", "1")}
    env.update(extra)
    return env


def run_child(script: str, args: Sequence[str], db_url: str, **env: str) -> dict[str, Any]:
    """Run ``python bench/<script> <args>`` against ``db_url``; its last stdout line is a JSON result."""
    proc = subprocess.run(  # noqa: S603 - our own script, arguments built here
        [PYTHON, str(BASE_DIR / "bench" / script), *args],
        env=child_env(db_url, **env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"{script} {' '.join(args)} failed ({proc.returncode})")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest-rank on the sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def display_command(argv: Sequence[str]) -> str:
    """The command line as run, with any database password masked."""
    parts = []
    url = os.environ.get("DATABASE_URL", "")
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
        exe_text = str(exe.relative_to(BASE_DIR))
    except ValueError:
        exe_text = ".venv/bin/python" if ".venv" in str(exe) else str(exe)
    script = Path(argv[0])
    try:
        script_text = str(script.resolve().relative_to(BASE_DIR))
    except ValueError:
        script_text = str(script)
    return " ".join([*parts, exe_text, script_text, *argv[1:]])


def machine() -> str:
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
    try:
        with closing(admin_connect()) as conn, conn.cursor() as cur:
            cur.execute("SHOW server_version")
            pg = cur.fetchone()[0].split()[0]
    except Exception:  # noqa: BLE001 - only for the report line
        pg = "?"
    load = os.getloadavg()[0]
    return (
        f"nproc {len(os.sched_getaffinity(0))} ({cpu}, {mem}), shared (load average {load:.1f} at the start); "
        f"PostgreSQL {pg}; Python {platform.python_version()}"
    )


def write_section(heading: str, body: str) -> None:
    """Replace (or append) the ``heading`` section of docs/performance.md; other sections are kept."""
    text = (
        DOC_PATH.read_text()
        if DOC_PATH.exists()
        else "# Performance\n\nMeasured figures, each section written by its script.\n"
    )
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC_PATH.write_text(text)


def doc_header(script: str, argv: Sequence[str], started: str) -> str:
    return (
        f"_Written by `bench/{script}`, which replaces only this section; see `bench/README.md`._\n\n"
        f"Command:\n\n```sh\n{display_command(argv)}\n```\n\n"
        f"- Date: {started}; machine: {machine()}"
    )
