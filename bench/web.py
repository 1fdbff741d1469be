#!/usr/bin/env python
"""Benchmarks 3 and 4: the API (case list pages, case detail) and the dashboards (OIC, prosecutor, police
supervisor, joint performance) at 10^3 and 10^6 cases, under gunicorn on loopback with 20 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/web.py --sizes 1000 1000000 --clients 20 --seconds 15 --repeats 3

Uses the data sets of ``bench/dataset.py``. One gunicorn (``--workers 4``, sync, ``bench/settings_bench.py``:
the product's settings with the API rate limits lifted) is started per data set on a free loopback port. In
each data set: an API client (read scope) of Greater Manchester Police is registered, and sessions are opened
for a GMP officer in charge with the median open caseload, a GMP police supervisor and a prosecutor of CPS North
West (the session cookie of ``Client.force_login``, stored in the sessions table the server reads).

The load generator is a thread pool of ``--clients`` users (``requests``), each sending its next request as
soon as the last one answered, for ``--seconds`` per measurement; the sizes are measured alternately, each
endpoint ``--repeats`` times; p50 and p95 are of the client-side latency of every request in a measurement,
throughput the answers per second, "KiB per answer" the size of the page or JSON (a dashboard shows up to 100
rows per list: a small data set fills fewer, so its pages are smaller); the table shows the medians over the
repeats. Any status other than 200, or a failed connection, is an error. Endpoints:

- ``api-list``: ``GET /api/v1/cases/?page_size=50``, then its ``next`` pages (up to 5 pages, then again);
- ``api-detail``: ``GET /api/v1/cases/<urn>/`` for a random case of the force;
- ``oic``, ``prosecutor``, ``police-supervisor``: ``GET /dashboards/<slug>/``;
- ``performance``: ``GET /governance/performance/`` (the joint performance dashboard, 12 months).

At the largest size every SQL statement the endpoints run (and the list's second page, read with the cursor
of the first) is captured once (test client) and run under ``EXPLAIN (ANALYZE, BUFFERS)``; the report lists,
per endpoint, the statements that read a big table without an index, and those that touch more than
``BUFFERS_BOUNDED`` shared buffers: an index read in order and stopped at the page size touches a few dozen,
so thousands mean rows read and thrown away (not bounded by the page). Rewrites the "## Web and API response
times" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from common import (
    BASE_DIR,
    child_env,
    doc_header,
    log,
    median,
    percentile,
    require_dataset,
    run_child,
    write_section,
)

HEADING = "## Web and API response times"
ENDPOINTS = ("api-list", "api-detail", "oic", "prosecutor", "police-supervisor", "performance")
AIM = 1.5
BIG_TABLES = (
    "cases_case",
    "cases_clock",
    "cases_clockevent",
    "cases_caseevent",
    "cases_offence",
    "cases_person",
    "cases_case_suspects",
    "charging_chargingreferral",
    "charging_chargingdecision",
    "charging_actionplan",
    "charging_action",
    "charging_charge",
    "charging_charge_offences",
    "charging_caseconversation",
    "victims_victim",
    "victims_victimcontact",
    "victims_protectiveorder",
)


# ----------------------------------------------------------------------------------------------------------------
# Children (Django set up against one data set)
# ----------------------------------------------------------------------------------------------------------------


def _setup() -> None:
    from common import setup_django

    setup_django("settings_bench")  # as the servers run (bench/ is on sys.path: this script's folder)


def _people() -> dict:
    from django.db.models import Count, Q

    from cases.models import Organisation, User

    gmp = Organisation.objects.get(code="GMP")
    oics = list(
        User.objects.filter(organisation=gmp, roles__contains=["oic"])
        .annotate(n=Count("oic_cases", filter=~Q(oic_cases__status__in=("nfa", "out_of_court", "concluded"))))
        .order_by("n", "pk")
    )
    return {
        "oic": oics[len(oics) // 2],
        "police-supervisor": User.objects.filter(organisation=gmp, roles__contains=["police_supervisor"])
        .order_by("pk")
        .first(),
        "prosecutor": User.objects.filter(organisation=gmp.area, roles__contains=["prosecutor"])
        .order_by("pk")
        .first(),
    }


def child_setup() -> None:
    _setup()
    from django.test import Client

    from api.clients import api_client_create
    from cases.models import Case

    _, token = api_client_create(force_code="GMP", name=f"bench web {time.time_ns()}", scope="read")
    visible = Case.objects.filter(force__code="GMP", restricted=False)
    urns = list(visible.order_by("?").values_list("urn", flat=True)[:500])
    cookies, users = {}, {}
    for role, user in _people().items():
        client = Client()
        client.force_login(user)
        cookies[role] = client.cookies["sessionid"].value
        users[role] = {"username": user.username, "open_cases": getattr(user, "n", None)}
    cookies["performance"] = cookies["police-supervisor"]
    print(json.dumps({"token": token, "urns": urns, "cookies": cookies, "users": users}))


def child_explain(token: str, urn: str, endpoints: list[str]) -> None:
    """Every SELECT the endpoints run, once, under EXPLAIN (ANALYZE, BUFFERS). A page that fails (e.g. a table
    its code needs is missing from the data set) is reported with its error; the others go on."""
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    people = _people()
    pages = {
        "api-list": (None, "/api/v1/cases/?page_size=50"),
        "api-list-next": (None, ""),
        "api-detail": (None, f"/api/v1/cases/{urn}/"),
        "oic": ("oic", "/dashboards/oic/"),
        "prosecutor": ("prosecutor", "/dashboards/prosecutor/"),
        "police-supervisor": ("police-supervisor", "/dashboards/police-supervisor/"),
        "performance": ("police-supervisor", "/governance/performance/"),
    }
    out = {}
    for name, (role, path) in pages.items():
        if name.removesuffix("-next") not in endpoints:
            continue
        client = Client()
        headers = {}
        if role is None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        else:
            client.force_login(people[role])
        if name == "api-list-next":  # the second page: the keyset cursor of the first page's last row
            path = client.get(pages["api-list"][1], **headers).json()["next"]
        try:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, **headers)
        except Exception as exc:  # noqa: BLE001 - report it, explain the other pages
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            out[name] = {
                "status": "error",
                "error": f"{type(exc).__name__}: {first_line}"[:300],
                "queries": 0,
            }
            out[name]["statements"] = []
            continue
        statements = []
        for q in ctx.captured_queries:
            # pghistory's middleware prefixes each statement with its context (SELECT set_config(...); ...).
            sql = re.sub(r"^\s*SELECT set_config\('pghistory\.context_id'.*?\);\s*", "", q["sql"], flags=re.S)
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            if not any(re.search(rf'"?\b{t}\b"?', sql) for t in BIG_TABLES):
                continue
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                rows = cur.fetchall()
            if not all(isinstance(r[0], str) for r in rows):
                sys.stderr.write(f"not a plan: {sql[:300]!r} -> {rows[:3]!r}\n")
                continue
            plan = "\n".join(r[0] for r in rows)
            statements.append({"sql": sql[:4000], "plan": plan})
        out[name] = {
            "status": response.status_code,
            "queries": len(ctx.captured_queries),
            "statements": statements,
        }
    print(json.dumps(out))


# ----------------------------------------------------------------------------------------------------------------
# Servers and load
# ----------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = child_env(
        db_url,
        DJANGO_SETTINGS_MODULE="settings_bench",
        # The apps first: bench/alerts.py is not the alerts app.
        PYTHONPATH=os.pathsep.join([str(BASE_DIR), str(BASE_DIR / "bench")]),
    )
    gunicorn = str(BASE_DIR / ".venv" / "bin" / "gunicorn")
    proc = subprocess.Popen(  # noqa: S603 - our own server on loopback
        [gunicorn, "jjp.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "600", "--log-level", "warning"],
        cwd=BASE_DIR,
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(200):
        try:
            if requests.get(base + "/login/", timeout=5).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            sys.exit(f"gunicorn for {db_url} exited ({proc.returncode})")
        time.sleep(0.2)
    proc.terminate()
    sys.exit(f"gunicorn for {db_url} did not answer")


#: A request still unanswered after this many seconds counts as an error (the default read timeout of nginx's
#: proxy_pass, the usual reverse proxy in front of gunicorn), and the server is restarted after the measurement
#: so that abandoned requests do not slow the next one.
READ_TIMEOUT = 60.0


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a gunicorn this script started (its master; the workers follow)."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Measurement:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)  # bytes of each 200 answer

    @property
    def kib(self) -> float:
        return median(self.sizes) / 1024 if self.sizes else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95) * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Target:
    """What one virtual user of an endpoint requests next."""

    def __init__(self, endpoint: str, base: str, setup: dict) -> None:
        self.endpoint, self.base, self.setup = endpoint, base, setup

    def session(self):  # noqa: ANN201
        import requests

        s = requests.Session()
        if self.endpoint.startswith("api-"):
            s.headers["Authorization"] = f"Bearer {self.setup['token']}"
            s.headers["Accept"] = "application/json"
        else:
            s.cookies.set("sessionid", self.setup["cookies"][self.endpoint], domain="127.0.0.1", path="/")
        return s

    def urls(self, rng: random.Random, session) -> object:  # noqa: ANN001
        """A generator of URLs; for the list it follows each page's ``next`` link."""
        if self.endpoint == "api-list":
            while True:
                url = self.base + "/api/v1/cases/?page_size=50"
                for _ in range(5):
                    body = yield url
                    url = (body or {}).get("next")
                    if not url:
                        break
        elif self.endpoint == "api-detail":
            while True:
                yield f"{self.base}/api/v1/cases/{rng.choice(self.setup['urns'])}/"
        else:
            path = (
                "/governance/performance/"
                if self.endpoint == "performance"
                else f"/dashboards/{self.endpoint}/"
            )
            while True:
                yield self.base + path


def load(target: Target, clients: int, seconds: float) -> Measurement:
    m = Measurement()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def user(k: int) -> None:
        import requests

        rng = random.Random(k)  # noqa: S311 - load pattern, not security
        session = target.session()
        gen = target.urls(rng, session)
        url = next(gen)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            body = None
            try:
                r = session.get(url, timeout=(10, READ_TIMEOUT), allow_redirects=False)
                ok = r.status_code == 200
                status = r.status_code
                size = len(r.content) if ok else None
                if ok and target.endpoint == "api-list":
                    body = r.json()
            except requests.Timeout:
                ok, status, size = False, -1, None
            except requests.RequestException:
                ok, status, size = False, 0, None
            elapsed = time.perf_counter() - t0
            with lock:
                m.latencies.append(elapsed)
                m.statuses[status] = m.statuses.get(status, 0) + 1
                if size is not None:
                    m.sizes.append(size)
                if not ok:
                    m.errors += 1
                if status == -1:
                    m.timeouts += 1
            url = gen.send(body) if target.endpoint == "api-list" else next(gen)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=user, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    m.seconds = time.perf_counter() - t0
    return m


def seq_scans(plan: str) -> list[str]:
    return sorted(
        {
            m.group(1)
            for m in re.finditer(r"(?:Parallel )?Seq Scan on (\w+)", plan)
            if m.group(1) in BIG_TABLES
        }
    )


def index_scans(plan: str) -> list[str]:
    return sorted(set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)))


def buffers(plan: str) -> int:
    """Shared buffers (8 KiB pages) the statement touched: the top node's ``Buffers: shared hit=.. read=..``. A
    page read off an index in order touches a few dozen whatever the table's size; thousands mean the statement
    reads rows it then throws away (a walk of a national index filtered by organisation, or every row of one)."""
    m = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)
    if not m:
        return 0
    counts = dict(kv.split("=") for kv in m.group(1).split())
    return int(counts.get("hit", 0)) + int(counts.get("read", 0))


#: A statement touching more shared buffers than this (8 MiB) at the largest size is listed as not bounded by the
#: page it shows.
BUFFERS_BOUNDED = 1000


def exec_ms(plan: str) -> float:
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else 0.0


# ----------------------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(ENDPOINTS))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=["setup", "explain"], help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--urn", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        return child_setup()
    if args.child == "explain":
        return child_explain(args.token, args.urn, args.endpoints)

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = sorted(set(args.sizes))
    sets = {n: require_dataset(n) for n in sizes}
    setups = {}
    for n in sizes:
        log(f"N={n:,}: API client, sessions")
        setups[n] = run_child("web.py", ["--child", "setup"], sets[n]["url"])
    servers = {}
    try:
        for n in sizes:
            servers[n] = start_server(sets[n]["url"], args.workers)
            log(f"N={n:,}: gunicorn pid {servers[n][0].pid} at {servers[n][1]}")
        results: dict[tuple[str, int], list[Measurement]] = {}
        for endpoint in args.endpoints:
            for n in sizes:  # warm-up: workers, caches
                load(Target(endpoint, servers[n][1], setups[n]), min(4, args.clients), 2)
            for rep in range(args.repeats):
                for n in sizes if rep % 2 == 0 else list(reversed(sizes)):
                    m = load(Target(endpoint, servers[n][1], setups[n]), args.clients, args.seconds)
                    results.setdefault((endpoint, n), []).append(m)
                    if m.timeouts:  # workers still busy with abandoned requests: start afresh
                        stop_server(servers[n][0])
                        servers[n] = start_server(sets[n]["url"], args.workers)
                    log(
                        f"{endpoint} N={n:,} rep {rep + 1}: {len(m.latencies)} requests, p50 {m.p50:.0f} ms, "
                        f"p95 {m.p95:.0f} ms, {m.throughput:.1f}/s, errors {m.errors} {m.statuses}"
                    )
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    explained = {}
    largest = sizes[-1]
    if not args.no_explain:
        log(f"N={largest:,}: EXPLAIN (ANALYZE, BUFFERS) of every statement of the endpoints")
        explained = run_child(
            "web.py",
            [
                "--child",
                "explain",
                "--token",
                setups[largest]["token"],
                "--urn",
                setups[largest]["urns"][0],
                "--endpoints",
                *args.endpoints,
            ],
            sets[largest]["url"],
        )

    # ---- report --------------------------------------------------------------------------------------------
    small = sizes[0]
    table = [
        "| endpoint | N | p50 ms | p95 ms | requests/s | requests | errors | KiB per answer | p95 / p95 at "
        f"{small:,} | aim (<= {AIM}x) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    all_met = True
    for endpoint in args.endpoints:
        base_p95 = median([m.p95 for m in results[(endpoint, small)]])
        for n in sizes:
            ms = results[(endpoint, n)]
            p50, p95 = median([m.p50 for m in ms]), median([m.p95 for m in ms])
            thr = median([m.throughput for m in ms])
            errors = sum(m.errors for m in ms)
            timeouts = sum(m.timeouts for m in ms)
            count = sum(len(m.latencies) for m in ms)
            kib = median([m.kib for m in ms])
            ratio = p95 / base_p95 if base_p95 else float("nan")
            met = n == small or (ratio <= AIM and errors == 0)
            if n != small:
                all_met &= met
                verdicts.append(
                    f"{endpoint}: p95 {base_p95:.0f} -> {p95:.0f} ms ({ratio:.2f}x), errors {errors}"
                )
            shown_ratio = "-" if n == small else f"{ratio:.2f}"
            shown_aim = "-" if n == small else ("met" if met else "**NOT met**")
            table.append(
                f"| {endpoint} | {n:,} | {p50:.0f} | {p95:.0f} | {thr:.1f} | {count:,} | "
                f"{errors}{f' ({timeouts} timed out)' if timeouts else ''} | {kib:.0f} | "
                f"{shown_ratio} | {shown_aim} |"
            )
    plan_lines = []
    for endpoint, info in explained.items():
        stmts = info["statements"]
        slow = sorted(stmts, key=lambda s: -exec_ms(s["plan"]))
        seq = [(s, seq_scans(s["plan"])) for s in stmts if seq_scans(s["plan"])]
        used = sorted({i for s in stmts for i in index_scans(s["plan"])})
        wide = sorted(
            (buffers(s["plan"]) for s in stmts if buffers(s["plan"]) > BUFFERS_BOUNDED), reverse=True
        )
        if info["status"] == "error":
            plan_lines.append(f"- `{endpoint}`: **failed**: {info['error']}")
            continue
        plan_lines.append(
            f"- `{endpoint}` (status {info['status']}, {info['queries']} queries, {len(stmts)} read big tables; "
            f"slowest {exec_ms(slow[0]['plan']) if slow else 0:.0f} ms): "
            + (
                f"**{len(seq)} with a sequential scan** of {', '.join(sorted({t for _, ts in seq for t in ts}))}"
                if seq
                else "every read of a big table uses an index"
            )
            + (
                f"; **{len(wide)} touch more than {BUFFERS_BOUNDED:,} buffers** "
                f"({', '.join(f'{b:,}' for b in wide)})"
                if wide
                else f"; each touches at most {BUFFERS_BOUNDED:,} buffers"
            )
            + (f"; indexes used: {', '.join(f'`{i}`' for i in used)}" if used else "")
        )
    out = [
        f"Web benchmark: {args.clients} clients, {args.seconds:.0f} s per measurement, median of {args.repeats}",
        *table,
        "",
        *verdicts,
        "",
        *plan_lines,
    ]
    print("\n".join(out))
    for endpoint, info in explained.items():
        for s in info["statements"]:
            if seq_scans(s["plan"]) or exec_ms(s["plan"]) > 50 or buffers(s["plan"]) > BUFFERS_BOUNDED:
                print(
                    f"\n-- {endpoint}: {exec_ms(s['plan']):.0f} ms, {buffers(s['plan']):,} buffers\n"
                    f"{s['sql'][:1500]}\n{s['plan']}"
                )
    if args.no_doc:
        return
    people = setups[largest]["users"]
    doc = [doc_header("web.py", sys.argv, started)]
    doc.append(
        f"- Setup: gunicorn `--workers {args.workers}` (sync) per data set on loopback, settings "
        "`bench/settings_bench.py` (the product's, with the API rate limits lifted); a thread-pool load generator "
        f"(`requests`) with {args.clients} concurrent clients, {args.seconds:.0f} s per measurement, sizes "
        f"alternating, {args.repeats} repeats; the table shows the medians of the repeats' p50, p95 and "
        f"throughput. Errors: any answer other than 200, or none within {READ_TIMEOUT:.0f} s (nginx's default "
        "proxy read timeout; the server is then restarted before the next measurement)."
    )
    doc.append(
        "- Who: an API client (read) of Greater Manchester Police for the API; for the dashboards a GMP officer "
        f"in charge with the median open caseload (at N={largest:,}: {people['oic']['open_cases']} open cases), a "
        "GMP police supervisor (also for the joint performance dashboard) and a CPS North West prosecutor."
    )
    doc += ["", *table, ""]
    doc.append(
        f"**Aim (p95 at N={largest:,} within {AIM}x of N={small:,}, no errors): {'MET' if all_met else 'NOT MET'}.** "
        + "; ".join(verdicts)
        + "."
    )
    if plan_lines:
        doc += [
            "",
            f"Indexes (`EXPLAIN (ANALYZE, BUFFERS)` of every statement each endpoint runs, N={largest:,}):",
            "",
        ]
        doc += plan_lines
        doc += [
            "",
            "<details><summary>per endpoint, the statements with a sequential scan or touching more than "
            f"{BUFFERS_BOUNDED:,} buffers (the four slowest), else its slowest</summary>",
            "",
        ]
        for endpoint, info in explained.items():
            stmts = sorted(info["statements"], key=lambda s: -exec_ms(s["plan"]))
            shown = [
                s for s in stmts if seq_scans(s["plan"]) or buffers(s["plan"]) > BUFFERS_BOUNDED
            ] or stmts[:1]
            for s in shown[:4]:
                doc += [
                    f"`{endpoint}` ({exec_ms(s['plan']):.0f} ms, {buffers(s['plan']):,} buffers):",
                    "",
                    "```sql",
                    s["sql"][:2000],
                    "```",
                    "",
                    "```",
                ]
                doc += [s["plan"], "```", ""]
        doc += ["</details>", ""]
    write_section(HEADING, "\n".join(doc))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
