#!/usr/bin/env python
"""Benchmark 6: side by side with django-helpdesk's ``escalate_tickets`` (the closest open-source peer).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_scale JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/helpdesk.py --items 10000 --repeats 3

django-helpdesk is installed from PyPI into its own virtualenv (``/tmp/helpdesk-venv``, made here with ``pip
install django-helpdesk psycopg2-binary`` if missing) and run from a minimal Django project written to
``/tmp/helpdesk_bench_project``, on its own PostgreSQL database ``helpdesk_bench`` on the same server. Nothing of
it is copied into this repository.

The same ``--items`` items, each due 10 working days after its start, started on the 30 days before today
(London) in turn:

- django-helpdesk: a queue with ``escalate_days = 10`` and one open ticket per item, ``created`` at 10:00 on its
  start day; its holiday table (``EscalationExclusion``) holds the England and Wales bank holidays and, as its
  documentation has it for working days, the Saturdays and Sundays, over the period. ``manage.py
  escalate_tickets`` is timed; a ticket counts as flagged when it was escalated.
- this product (database ``jjp_bench_scale_hd``): one case per item with a CPS submission received on the start
  day and its charging-decision clock (10 working days, ``cases.clocks.charging_decision_due``), every clock
  ``running`` (nothing swept yet), two prosecutors of the Area to tell. ``ledger.sweep()`` then
  ``alerts.alerts_detect()`` are timed; an item counts as flagged when its clock is overdue after the sweep.

The reference is the plain working-day calculation ``cases.clocks.add_working_days(start, 10)``: an item should
be flagged when today is after that day. Both sides are reset and run ``--repeats`` times, alternating; the
report gives median seconds, the ratio, SQL statements per item (counted by an execute wrapper:
``CaptureQueriesContext`` keeps only 9,000), and how many
items each flagged correctly, too early and too late. Rewrites the "## Side by side with django-helpdesk"
section of docs/performance.md. If django-helpdesk cannot be installed or run, the section says why.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

from common import (
    BASE_DIR,
    admin_connect,
    check_bench_name,
    doc_header,
    log,
    median,
    run_child,
    url_for,
    write_section,
)

HEADING = "## Side by side with django-helpdesk"
VENV = Path("/tmp/helpdesk-venv")  # noqa: S108 - the brief: its own virtualenv under /tmp, never in the repo
PROJECT = Path("/tmp/helpdesk_bench_project")  # noqa: S108 - likewise
HD_DB = "helpdesk_bench"
JJP_DB = "jjp_bench_scale_hd"
TEMPLATE = "jjp_bench_scale_template"
LONDON = ZoneInfo("Europe/London")
WORKING_DAYS = 10

HD_SETTINGS = """
import os
SECRET_KEY = "helpdesk-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hdproj.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {
    "context_processors": ["django.template.context_processors.request",
                           "django.contrib.auth.context_processors.auth",
                           "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["HELPDESK_DB"],
                         "USER": os.environ.get("HELPDESK_DB_USER", "postgres"),
                         "PASSWORD": os.environ.get("HELPDESK_DB_PASSWORD", ""),
                         "HOST": os.environ.get("HELPDESK_DB_HOST", "127.0.0.1"),
                         "PORT": os.environ.get("HELPDESK_DB_PORT", "5432")}}
USE_TZ = True
TIME_ZONE = "Europe/London"
STATIC_URL = "/static/"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
HELPDESK_TEAMS_MODE_ENABLED = False  # otherwise it needs pinax-teams
"""

HD_CHILD = '''
"""Runs inside django-helpdesk's own virtualenv: load the tickets, run escalate_tickets, report."""
import datetime, json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproj.settings")
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from helpdesk.models import EscalationExclusion, FollowUp, Queue, Ticket

args = json.loads(sys.stdin.read())
if args["what"] == "load":
    EscalationExclusion.objects.all().delete()
    FollowUp.objects.all().delete()
    Ticket.objects.all().delete()
    Queue.objects.all().delete()
    queue = Queue.objects.create(title="Charging decisions", slug="charging", escalate_days=args["days"],
                                 email_address="queue@helpdesk.invalid")
    EscalationExclusion.objects.bulk_create(
        [EscalationExclusion(name=name, date=datetime.date.fromisoformat(day)) for day, name in args["exclusions"]])
    tickets = Ticket.objects.bulk_create(
        [Ticket(title=f"Item {k}", queue=queue, submitter_email=f"officer{k % 50}@force.invalid",
                status=Ticket.OPEN_STATUS, priority=3, description="Charging decision due after 10 working days")
         for k in range(len(args["created"]))], batch_size=2000)
    # created is auto_now_add (bulk_create sets it to now): put each ticket's start in with bulk_update.
    for ticket, created in zip(tickets, args["created"]):
        ticket.created = ticket.modified = datetime.datetime.fromisoformat(created)
    Ticket.objects.bulk_update(tickets, ["created", "modified"], batch_size=2000)
    print(json.dumps({"tickets": Ticket.objects.count(), "exclusions": EscalationExclusion.objects.count()}))
elif args["what"] == "reset":
    FollowUp.objects.all().delete()
    Ticket.objects.update(priority=3, last_escalation=None)
    print(json.dumps({}))
else:
    # CaptureQueriesContext keeps at most 9,000 queries (Django's queries_log), so count with a wrapper too.
    count = 0

    def counter(execute, sql, params, many, context):
        global count
        count += 1
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(counter):
        t0 = time.perf_counter()
        call_command("escalate_tickets")
        seconds = time.perf_counter() - t0
    flagged = sorted(int(t.split()[1]) for t in Ticket.objects.filter(priority__lt=3).values_list("title", flat=True))
    print(json.dumps({"seconds": seconds, "queries": count, "captured": len(ctx.captured_queries), "flagged": flagged,
                      "django": django.get_version(), "today": str(datetime.date.today())}))
'''


def hd_env() -> dict[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    return {
        **os.environ,
        "HELPDESK_DB": HD_DB,
        "HELPDESK_DB_USER": parts.username or "postgres",
        "HELPDESK_DB_PASSWORD": parts.password or "",
        "HELPDESK_DB_HOST": parts.hostname or "127.0.0.1",
        "HELPDESK_DB_PORT": str(parts.port or 5432),
        "DJANGO_SETTINGS_MODULE": "hdproj.settings",
        "PYTHONPATH": str(PROJECT),
    }


def hd_run(args: dict) -> dict:
    proc = subprocess.run(  # noqa: S603 - the helpdesk virtualenv's python and our child script
        [str(VENV / "bin" / "python"), str(PROJECT / "child.py")],
        input=json.dumps(args),
        env=hd_env(),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"django-helpdesk child failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def setup_helpdesk() -> str:
    """The virtualenv, the project and its database. Returns the installed django-helpdesk version."""
    if not (VENV / "bin" / "python").exists():
        log(f"creating {VENV} and installing django-helpdesk from PyPI")
        subprocess.run([sys.executable.replace(".venv/bin/python", "") or "python3", "-V"], check=False)  # noqa: S603
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)  # noqa: S607
        subprocess.run(  # noqa: S603
            [str(VENV / "bin" / "pip"), "install", "-q", "django-helpdesk", "psycopg2-binary"], check=True
        )
    version = subprocess.run(  # noqa: S603
        [
            str(VENV / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('django-helpdesk'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (PROJECT / "hdproj").mkdir(parents=True, exist_ok=True)
    (PROJECT / "hdproj" / "__init__.py").write_text("")
    (PROJECT / "hdproj" / "settings.py").write_text(HD_SETTINGS)
    (PROJECT / "hdproj" / "urls.py").write_text(
        'from django.urls import include, path\n\nurlpatterns = [path("helpdesk/", include("helpdesk.urls"))]\n'
    )
    (PROJECT / "manage.py").write_text(
        "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hdproj.settings')\n"
        "from django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n"
    )
    (PROJECT / "child.py").write_text(HD_CHILD)
    check_bench_name(HD_DB)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{HD_DB}"')
        cur.execute(f'CREATE DATABASE "{HD_DB}"')
    subprocess.run(  # noqa: S603
        [str(VENV / "bin" / "python"), "manage.py", "migrate", "-v0"], cwd=PROJECT, env=hd_env(), check=True
    )
    return version


# ----------------------------------------------------------------------------------------------------------------
# This product's side (children with Django set up on jjp_bench_scale_hd)
# ----------------------------------------------------------------------------------------------------------------


def child_load(starts: list[str]) -> None:
    from common import setup_django

    setup_django()
    from django.db import transaction

    from cases import clocks, ledger
    from cases.models import Case, Clock, Organisation, Role, User
    from charging.models import ChargingReferral

    ledger.sync_rules()
    gmp = Organisation.objects.get(code="GMP")
    oic = User.objects.create(username="hd-oic", organisation=gmp, roles=[Role.OIC], email="oic@hd.invalid")
    for k in range(2):
        User.objects.create(
            username=f"hd-prosecutor-{k}",
            organisation=gmp.area,
            roles=[Role.PROSECUTOR],
            email=f"p{k}@hd.invalid",
        )
    with transaction.atomic():
        cases = Case.objects.bulk_create(
            [
                Case(
                    force=gmp,
                    urn=f"HD{k:07d}",
                    reported_on=datetime.date.fromisoformat(s) - datetime.timedelta(days=5),
                    status=Case.Status.REFERRED,
                    cps_area=gmp.area,
                    oic=oic,
                )
                for k, s in enumerate(starts)
            ],
            batch_size=2000,
        )
        referrals = ChargingReferral.objects.bulk_create(
            [
                ChargingReferral(
                    case=c,
                    sequence=1,
                    received_on=datetime.date.fromisoformat(s),
                    submitted_by=oic,
                    force=gmp,
                    cps_area=gmp.area,
                )
                for c, s in zip(cases, starts, strict=True)
            ],
            batch_size=2000,
        )
        rows = []
        for c, r in zip(cases, referrals, strict=True):
            due = clocks.charging_decision_due(r.received_on)
            warn = min(
                due, max(r.received_on, due - datetime.timedelta(days=clocks.active_rules().due_soon_days))
            )
            rows.append(
                Clock(
                    case=c,
                    kind=Clock.Kind.CHARGING_DECISION,
                    side=Clock.Side.CPS,
                    label="Charging decision on submission 1",
                    referral=r,
                    started_on=r.received_on,
                    due_on=due,
                    warn_on=warn,
                    state=Clock.State.RUNNING,
                    force=gmp,
                    cps_area=gmp.area,
                )
            )
        Clock.objects.bulk_create(rows, batch_size=2000)
    print(json.dumps({"cases": len(cases)}))


def child_run() -> None:
    from common import setup_django

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases import alerts, ledger
    from cases.models import Clock

    count = 0

    def counter(execute, sql, params, many, context):  # noqa: ANN001 - Django's execute wrapper signature
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(counter):
        t0 = time.perf_counter()
        run = ledger.sweep()
        sweep_s = time.perf_counter() - t0
        counts = alerts.alerts_detect()
        seconds = time.perf_counter() - t0
    flagged = sorted(
        int(urn[2:]) for urn in Clock.objects.filter(state="overdue").values_list("case__urn", flat=True)
    )
    print(
        json.dumps(
            {
                "seconds": seconds,
                "sweep_seconds": sweep_s,
                "queries": count,
                "captured": len(ctx.captured_queries),
                "flagged": flagged,
                "alerts": counts,
                "changed": run.examined,
                "today": str(ledger.london_today()),
            }
        )
    )


def reset_jjp() -> None:
    with closing(admin_connect(JJP_DB)) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE cases_alert, cases_clockevent, cases_sweeprun")
        cur.execute("UPDATE cases_clock SET state = 'running', previous_state = ''")
        cur.execute("VACUUM ANALYZE cases_clock")


def recreate_jjp_db() -> None:
    check_bench_name(JJP_DB)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE])
        if cur.fetchone() is None:
            sys.exit(f"no template database {TEMPLATE}: run bench/dataset.py first")
        cur.execute(f'DROP DATABASE IF EXISTS "{JJP_DB}"')
        cur.execute(f'CREATE DATABASE "{JJP_DB}" TEMPLATE "{TEMPLATE}"')


# ----------------------------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------------------------


def score(flagged: set[int], expected: set[int], n: int) -> dict[str, int]:
    return {
        "flagged": len(flagged),
        "correct": n - len(flagged ^ expected),
        "early": len(flagged - expected),  # flagged although not yet past 10 working days
        "late": len(expected - flagged),  # past 10 working days and not flagged
    }


def main() -> None:  # noqa: PLR0915 - a report
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=["load", "run"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "load":
        return child_load(json.loads(sys.stdin.read()))
    if args.child == "run":
        return child_run()

    sys.path.insert(0, str(BASE_DIR))
    from cases import clocks  # pure: no Django

    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    today = datetime.datetime.now(LONDON).date()
    n = args.items
    starts = [today - datetime.timedelta(days=1 + k % 30) for k in range(n)]
    due = [clocks.add_working_days(s, WORKING_DAYS) for s in starts]
    expected = {k for k in range(n) if today > due[k]}
    calendar = clocks.active_calendar()
    first, last = today - datetime.timedelta(days=90), today + datetime.timedelta(days=10)
    exclusions = []
    day = first
    while day <= last:
        if calendar.is_bank_holiday(day):
            exclusions.append((day.isoformat(), "England and Wales bank holiday"))
        elif day.weekday() >= 5:
            exclusions.append((day.isoformat(), "Weekend"))
        day += datetime.timedelta(days=1)
    bank_holidays = sum(1 for _, name in exclusions if name.startswith("England"))
    holiday_days = [datetime.date.fromisoformat(d) for d, name in exclusions if name.startswith("England")]
    held = [f"{d.day} {d:%B %Y}" for d in holiday_days]

    problem = ""
    hd_version = ""
    try:
        hd_version = setup_helpdesk()
        created = [datetime.datetime.combine(s, datetime.time(10), tzinfo=LONDON).isoformat() for s in starts]
        loaded = hd_run({"what": "load", "days": WORKING_DAYS, "exclusions": exclusions, "created": created})
        log(f"django-helpdesk {hd_version}: {loaded}")
    except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
        problem = f"django-helpdesk could not be installed or run here: {exc}"
        log(problem)

    recreate_jjp_db()
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(BASE_DIR / "bench" / "helpdesk.py"), "--child", "load"],
        input=json.dumps([s.isoformat() for s in starts]),
        env={
            **os.environ,
            "DATABASE_URL": url_for(JJP_DB),
            "JJP_LOCAL_RUN": os.environ.get("JJP_LOCAL_RUN", "1"),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    log(f"this product: {proc.stdout.strip()}")

    hd_runs, jjp_runs = [], []
    for rep in range(args.repeats):
        for side in ("helpdesk", "jjp") if rep % 2 == 0 else ("jjp", "helpdesk"):
            if side == "helpdesk":
                if problem:
                    continue
                hd_run({"what": "reset"})
                r = hd_run({"what": "run"})
                hd_runs.append(r)
                log(f"rep {rep + 1} django-helpdesk escalate_tickets: {r['seconds']:.2f} s, {r['queries']:,} queries, "
                    f"{len(r['flagged']):,} escalated")  # fmt: skip
            else:
                reset_jjp()
                r = run_child("helpdesk.py", ["--child", "run"], url_for(JJP_DB))
                jjp_runs.append(r)
                log(f"rep {rep + 1} sweep + alert detection: {r['seconds']:.2f} s, {r['queries']:,} queries, "
                    f"{len(r['flagged']):,} overdue, alerts {r['alerts']}")  # fmt: skip
    jjp_s = median([r["seconds"] for r in jjp_runs])
    jjp_score = score(set(jjp_runs[-1]["flagged"]), expected, n)
    lines = [
        "| system | what runs | median s | SQL statements | statements per item | flagged | correct | too early "
        "| too late |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    if hd_runs:
        hd_s = median([r["seconds"] for r in hd_runs])
        hd_score = score(set(hd_runs[-1]["flagged"]), expected, n)
        q = hd_runs[-1]["queries"]
        lines.append(
            f"| django-helpdesk {hd_version} | `manage.py escalate_tickets` | {hd_s:.2f} | {q:,} | {q / n:.3g} | "
            f"{hd_score['flagged']:,} | {hd_score['correct']:,} of {n:,} | {hd_score['early']:,} | "
            f"{hd_score['late']:,} |"
        )
    q = jjp_runs[-1]["queries"]
    lines.append(
        f"| this product | `ledger.sweep()` + `alerts.alerts_detect()` | {jjp_s:.2f} | {q:,} | {q / n:.3g} | "
        f"{jjp_score['flagged']:,} | {jjp_score['correct']:,} of {n:,} | {jjp_score['early']:,} | "
        f"{jjp_score['late']:,} |"
    )
    summary = []
    if hd_runs:
        summary.append(
            f"Time: this product / django-helpdesk = {jjp_s / hd_s:.3f} (helpdesk takes {hd_s / jjp_s:.1f}x as "
            f"long); SQL statements per item {hd_runs[-1]['queries'] / n:.2f} (helpdesk) vs {q / n:.4f} (this product)."
        )
        summary.append(
            f"Flags against `add_working_days(start, 10)` on {today}: {len(expected):,} of {n:,} items are past "
            f"their 10th working day. django-helpdesk flagged {hd_score['flagged']:,} ({hd_score['early']:,} too "
            f"early, {hd_score['late']:,} too late); this product {jjp_score['flagged']:,} ({jjp_score['early']:,} "
            f"too early, {jjp_score['late']:,} too late)."
        )
    else:
        summary.append(problem)
    sweep_s = median([r["sweep_seconds"] for r in jjp_runs])
    summary.append(
        f"This product's sweep moved {jjp_runs[-1]['changed']:,} clocks in {sweep_s:.2f} s "
        f"(median); detection wrote {jjp_runs[-1]['alerts'].get('total', 0):,} alerts (overdue and escalations, to "
        "two prosecutors)."
    )
    out = [*lines, "", *summary]
    print("\n".join(out))
    if args.no_doc:
        return
    doc = [doc_header("helpdesk.py", sys.argv, started)]
    doc.append(
        f"- django-helpdesk {hd_version or '(not installed)'} from PyPI in its own virtualenv `{VENV}` "
        f"(Django {hd_runs[-1]['django'] if hd_runs else '?'}), a minimal project in `{PROJECT}`, database "
        f"`{HD_DB}` on the same PostgreSQL; this product on `{JJP_DB}`. Both run in their own process; medians of "
        f"{args.repeats}, alternating, each from the same starting point (helpdesk: priorities and escalation "
        "times reset, follow-ups deleted; this product: clocks back to running, crossings, sweep runs and "
        "alerts emptied)."
    )
    doc.append(
        f"- {n:,} items, started on each of the 30 days before {today} in turn, due after {WORKING_DAYS} working "
        f"days. django-helpdesk's holiday table holds the England and Wales bank holidays from {first} to {last} "
        f"({', '.join(held) or 'none'}) and the {len(exclusions) - bank_holidays} Saturdays and Sundays (its way "
        "of counting working days); this product uses its own calendar (the `holidays` package, England)."
        + (
            ""
            if any(s <= h <= d for s, d in zip(starts, due, strict=True) for h in holiday_days)
            else " No bank holiday falls inside these items' 10-working-day windows, so this run tests the "
            "counting of weekends; the bank holiday list is loaded all the same."
        )
    )
    doc += ["", *lines, ""]
    doc += [f"- {s}" for s in summary]
    doc.append(
        "- Why helpdesk flags early: `escalate_tickets` counts the days of the last `escalate_days` calendar days "
        "that are not excluded and escalates tickets older than that many *calendar* days, so excluded days "
        "shorten the wait instead of lengthening it (the trap `docs/style.md` names); it also queries the "
        "exclusion table once per day in a loop, and saves each escalated ticket, writes a follow-up and a change "
        "row and sends its emails one ticket at a time."
    )
    write_section(HEADING, "\n".join(doc))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
