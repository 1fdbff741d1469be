#!/usr/bin/env python
"""Benchmark 6: side by side with django-helpdesk's ``escalate_tickets`` (the closest open-source peer).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jjp_bench_helpdesk JJP_LOCAL_RUN=1 \\
        .venv/bin/python bench/helpdesk.py --items 10000 100000 --repeats 3 1

django-helpdesk is installed from PyPI into its own virtualenv (``/tmp/helpdesk-venv``; when it is missing or
broken the script makes it with ``<this Python> -m venv`` and ``pip install django-helpdesk psycopg2-binary``) and
run from a minimal Django project written to ``/tmp/helpdesk_bench_project``, on its own database
``<DATABASE_URL's name>_django_helpdesk`` on the same server. Nothing of it is copied into this repository. This
product runs on the database ``DATABASE_URL`` names (its name must contain ``bench``): dropped and copied afresh
for each size from ``<name>_template``, which the script makes and migrates; no other benchmark's data set is
needed.

For each ``--items`` size (in turn; ``--repeats`` one value, or one per size), the same items, each due 10 working
days after its start, started on the 30 days before today (London) in turn, worked by the same people
(``people_plan``: OICs under police supervisors, prosecutors under legal managers, sized as ``generate_cases``
sizes them; submissions accepted at triage and allocated to a prosecutor, one round of start days in 20 still
awaiting triage):

- django-helpdesk: a queue with ``escalate_days = 10`` and one open ticket per item, ``created`` at 10:00 on its
  start day, submitted by its OIC's address and assigned to its prosecutor's user (no owner when untriaged); its
  holiday table (``EscalationExclusion``) holds the England and Wales bank holidays and, as its documentation has
  it for working days, the Saturdays and Sundays, over the period. ``manage.py escalate_tickets`` is timed; a
  ticket counts as flagged when it was escalated, and as told when its escalation's follow-up records an address
  mailed.
- this product: one case per item with a CPS submission received on the start day and its charging-decision
  clock (10 working days, ``cases.clocks.charging_decision_due``), every clock ``running`` (nothing swept yet).
  ``ledger.sweep()`` then ``alerts.engine.alerts_detect()`` are timed; an item counts as flagged when its clock is
  overdue after the sweep, and as told when detection wrote at least one alert on its clock. The script prints
  the flagged items that told no one (it must be 0) and exits non-zero when there are any.

The reference is the plain working-day calculation ``cases.clocks.add_working_days(start, 10)``: an item should
be flagged when today is after that day. Both sides are reset and run ``--repeats`` times, alternating; the
report gives median seconds, the ratio, SQL statements per item (counted by an execute wrapper:
``CaptureQueriesContext`` keeps only 9,000), how many items each flagged correctly, too early and too late, and
who was told. Rewrites the "## Side by side with django-helpdesk" section of docs/performance.md after each
size (a run stopped during a large size keeps the smaller ones). If django-helpdesk cannot be installed or run,
the section says why.
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
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from common import (
    BASE_DIR,
    admin_connect,
    check_bench_name,
    child_env,
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
#: The databases: this product's is the one DATABASE_URL names (dropped and made again from a migrated template
#: of its own, so the script needs no other benchmark's data set); django-helpdesk's is named after it.
JJP_DB = urlsplit(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "jjp_bench_helpdesk"
TEMPLATE = f"{JJP_DB}_template"
HD_DB = f"{JJP_DB}_django_helpdesk"
LONDON = ZoneInfo("Europe/London")
WORKING_DAYS = 10
#: One item in this many is still awaiting triage: no prosecutor allocated (see ``people_plan``).
UNTRIAGED_EVERY = 20

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
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from helpdesk.models import EscalationExclusion, FollowUp, Queue, Ticket

args = json.loads(sys.stdin.read())
if args["what"] == "load":
    EscalationExclusion.objects.all().delete()
    FollowUp.objects.all().delete()
    Ticket.objects.all().delete()
    get_user_model().objects.filter(username__startswith="owner-").delete()
    # The ticket owners: one per prosecutor of the other side, each ticket assigned as that side allocates.
    owners = [get_user_model().objects.create(username=f"owner-{j}", email=f"prosecutor-{j}@hd.invalid")
              for j in range(args["owners"])]
    # Kept between loads: saving a new queue adds its access permission again (a unique key).
    queue, _ = Queue.objects.update_or_create(slug="charging", defaults={
        "title": "Charging decisions", "escalate_days": args["days"], "email_address": "queue@helpdesk.invalid"})
    EscalationExclusion.objects.bulk_create(
        [EscalationExclusion(name=name, date=datetime.date.fromisoformat(day)) for day, name in args["exclusions"]])
    tickets = Ticket.objects.bulk_create(
        [Ticket(title=f"Item {k}", queue=queue, submitter_email=f"oic-{oic}@hd.invalid",
                assigned_to=None if owner is None else owners[owner],
                status=Ticket.OPEN_STATUS, priority=3, description="Charging decision due after 10 working days")
         for k, (oic, owner) in enumerate(zip(args["submitter"], args["owner"]))], batch_size=2000)
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
    # Who was told: escalate_tickets records the addresses it mailed on each escalation's follow-up.
    told = dict(FollowUp.objects.filter(title="Ticket Escalated").values_list("ticket_id", "email_recipients"))
    escalated = Ticket.objects.filter(priority__lt=3).values_list("id", "assigned_to__email")
    untold = sum(1 for t, _ in escalated if not told.get(t))
    owner_told = sum(1 for t, owner in escalated if owner and owner in (told.get(t) or []))
    people = len({a for r in told.values() for a in (r or [])})
    print(json.dumps({"seconds": seconds, "queries": count, "captured": len(ctx.captured_queries), "flagged": flagged,
                      "untold": untold, "told_named": owner_told, "people": people, "emails": len(mail.outbox),
                      "django": django.get_version(), "today": str(datetime.date.today())}))
'''


def hd_env() -> dict[str, str]:
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


def installed_helpdesk() -> str | None:
    """The django-helpdesk version importable in the benchmark's virtualenv, or None (no virtualenv yet, or a
    broken one: it is then made again)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        return None
    proc = subprocess.run(  # noqa: S603
        [str(python), "-c", "import helpdesk, importlib.metadata as m; print(m.version('django-helpdesk'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def setup_helpdesk() -> str:
    """The virtualenv, the project and its database. Returns the installed django-helpdesk version."""
    version = installed_helpdesk()
    if version is None:
        # The interpreter running this script makes the virtualenv (venv uses its base Python): the one program
        # known to exist on any machine that can run this script.
        log(f"creating {VENV} with {sys.executable} -m venv and installing django-helpdesk from PyPI")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [
                str(VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "django-helpdesk",
                "psycopg2-binary",
            ],
            check=True,
        )
        version = installed_helpdesk()
        if version is None:
            raise RuntimeError(f"django-helpdesk is not importable in {VENV} after pip install")
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
# This product's side (children with Django set up on JJP_DB)
# ----------------------------------------------------------------------------------------------------------------


def people_plan(starts: list[datetime.date], today: datetime.date) -> dict[str, Any]:
    """Who works the items, the same on both sides. Staff are sized as ``generate_cases`` sizes them
    (``demo.generate``: an OIC per 60 cases, a police supervisor per eight OICs; a prosecutor per 400 referred
    cases, a legal manager per eight prosecutors), and everyone below a manager has one (``User.supervisor``).
    Item k's OIC is OIC ``k mod OICs``. As this product's triage does (``charging.services.referral_triage``), a
    submission accepted at triage is allocated to a prosecutor: here on its receipt day or one or two days later
    (never after today), to prosecutor ``k mod prosecutors``. One round of the 30 start days in
    ``UNTRIAGED_EVERY`` is still awaiting triage, with nobody allocated: this product then tells the Area's legal
    managers, and helpdesk's ticket has no owner."""
    from demo import generate

    police = generate.staff_sizes(len(starts), caseload=60)
    cps = generate.area_staff_sizes(len(starts))
    staff = {
        "oic": police["oic"],
        "police_supervisor": police["police_supervisor"],
        "prosecutor": cps["prosecutor"],
        "legal_manager": cps["legal_manager"],
    }
    prosecutor: list[int | None] = []
    triaged: list[str | None] = []
    for k, start in enumerate(starts):
        rnd = k // 30  # which round of the 30 start days: untriaged and triage delays fall on every start day
        if rnd % UNTRIAGED_EVERY == UNTRIAGED_EVERY - 1:
            prosecutor.append(None)
            triaged.append(None)
        else:
            prosecutor.append(k % staff["prosecutor"])
            triaged.append(min(today, start + datetime.timedelta(days=rnd % 3)).isoformat())
    return {
        "staff": staff,
        "oic": [k % staff["oic"] for k in range(len(starts))],
        "prosecutor": prosecutor,
        "triaged": triaged,
    }


def child_load(args: dict[str, Any]) -> None:
    """This product's side: the people of ``people_plan`` (line managers set), then per item a case, its
    submission (triaged and allocated, or awaiting triage) and its running charging-decision clock."""
    from common import setup_django

    setup_django()
    from django.db import transaction

    from cases import clocks, ledger
    from cases.models import Case, Clock, Organisation, Role, User
    from charging.models import ChargingReferral

    starts = [datetime.date.fromisoformat(s) for s in args["starts"]]
    plan = args["plan"]
    ledger.sync_rules()
    gmp = Organisation.objects.get(code="GMP")
    area = gmp.area

    def people(role: str, org: Organisation, managers: list[User] | None = None) -> list[User]:
        count = plan["staff"][role]
        return User.objects.bulk_create(
            [
                User(
                    username=f"hd-{role}-{j}",
                    password="!",  # noqa: S106 - unusable: nobody signs in
                    organisation=org,
                    roles=[role],
                    email=f"{role}-{j}@hd.invalid",
                    supervisor=managers[j * len(managers) // count] if managers else None,
                )
                for j in range(count)
            ]
        )

    with transaction.atomic():
        supervisors = people(Role.POLICE_SUPERVISOR, gmp)
        oics = people(Role.OIC, gmp, supervisors)
        managers = people(Role.LEGAL_MANAGER, area)
        prosecutors = people(Role.PROSECUTOR, area, managers)
        cases = Case.objects.bulk_create(
            [
                Case(
                    force=gmp,
                    urn=f"HD{k:07d}",
                    reported_on=start - datetime.timedelta(days=5),
                    status=Case.Status.REFERRED,
                    cps_area=area,
                    oic=oics[plan["oic"][k]],
                )
                for k, start in enumerate(starts)
            ],
            batch_size=2000,
        )
        referrals = ChargingReferral.objects.bulk_create(
            [
                ChargingReferral(
                    case=c,
                    sequence=1,
                    received_on=start,
                    submitted_by=c.oic,
                    force=gmp,
                    cps_area=area,
                    triage=ChargingReferral.Triage.PENDING if p is None else ChargingReferral.Triage.ACCEPTED,
                    triaged_on=None if t is None else datetime.date.fromisoformat(t),
                    prosecutor=None if p is None else prosecutors[p],
                )
                for c, start, p, t in zip(cases, starts, plan["prosecutor"], plan["triaged"], strict=True)
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
                    cps_area=area,
                )
            )
        Clock.objects.bulk_create(rows, batch_size=2000)
    print(
        json.dumps(
            {
                "cases": len(cases),
                "people": {
                    k: len(v)
                    for k, v in (
                        ("oic", oics),
                        ("police_supervisor", supervisors),
                        ("prosecutor", prosecutors),
                        ("legal_manager", managers),
                    )
                },
            }
        )
    )


def child_run() -> None:
    from common import setup_django

    setup_django()
    from django.db import connection
    from django.db.models import Exists, OuterRef, Q
    from django.test.utils import CaptureQueriesContext

    from alerts import engine as alerts
    from cases import ledger
    from cases.models import Alert, Clock

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
    # Telling someone is the point: every flagged item must have an alert to at least one person.
    told = Alert.objects.filter(clock=OuterRef("pk"))
    untold = Clock.objects.filter(state="overdue").exclude(Exists(told)).count()
    named = Q(recipient=OuterRef("referral__prosecutor")) | Q(
        recipient=OuterRef("referral__prosecutor__supervisor")
    )
    told_named = Clock.objects.filter(Exists(told.filter(named)), state="overdue").count()
    people = Alert.objects.values("recipient").distinct().count()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "sweep_seconds": sweep_s,
                "queries": count,
                "captured": len(ctx.captured_queries),
                "flagged": flagged,
                "alerts": counts,
                "untold": untold,
                "told_named": told_named,
                "people": people,
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
    """``JJP_DB`` afresh, copied from ``TEMPLATE``: made and migrated here (``migrate`` changes nothing when it is
    up to date)."""
    for name in (JJP_DB, TEMPLATE):
        check_bench_name(name)
    with closing(admin_connect()) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{TEMPLATE}"')
    log(f"migrating {TEMPLATE}")
    subprocess.run(  # noqa: S603 - this product's manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), "migrate", "-v0"],
        env=child_env(url_for(TEMPLATE)),
        check=True,
    )
    with closing(admin_connect()) as conn, conn.cursor() as cur:
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


def exclusions_around(today: datetime.date) -> list[tuple[str, str]]:
    """django-helpdesk's holiday table: the England and Wales bank holidays and, as its documentation has it for
    working days, the Saturdays and Sundays, from 90 days before ``today`` to 10 days after."""
    from cases import clocks

    calendar = clocks.active_calendar()
    out = []
    day, last = today - datetime.timedelta(days=90), today + datetime.timedelta(days=10)
    while day <= last:
        if calendar.is_bank_holiday(day):
            out.append((day.isoformat(), "England and Wales bank holiday"))
        elif day.weekday() >= 5:
            out.append((day.isoformat(), "Weekend"))
        day += datetime.timedelta(days=1)
    return out


def measure(n: int, repeats: int, today: datetime.date, hd_ok: bool) -> dict[str, Any]:
    """Both sides at ``n`` items: load, then ``repeats`` alternating runs from the same starting point."""
    from cases import clocks

    starts = [today - datetime.timedelta(days=1 + k % 30) for k in range(n)]
    due = [clocks.add_working_days(s, WORKING_DAYS) for s in starts]
    plan = people_plan(starts, today)
    if hd_ok:
        created = [datetime.datetime.combine(s, datetime.time(10), tzinfo=LONDON).isoformat() for s in starts]
        loaded = hd_run(
            {
                "what": "load",
                "days": WORKING_DAYS,
                "exclusions": exclusions_around(today),
                "created": created,
                "owners": plan["staff"]["prosecutor"],
                "owner": plan["prosecutor"],
                "submitter": plan["oic"],
            }
        )
        log(f"{n:,} items: django-helpdesk {loaded}")
    recreate_jjp_db()
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(BASE_DIR / "bench" / "helpdesk.py"), "--child", "load"],
        input=json.dumps({"starts": [s.isoformat() for s in starts], "plan": plan}),
        env=child_env(url_for(JJP_DB)),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit("loading this product's items failed")
    log(f"{n:,} items: this product {proc.stdout.strip()}")

    hd_runs, jjp_runs = [], []
    for rep in range(repeats):
        for side in ("helpdesk", "jjp") if rep % 2 == 0 else ("jjp", "helpdesk"):
            if side == "helpdesk":
                if not hd_ok:
                    continue
                hd_run({"what": "reset"})
                r = hd_run({"what": "run"})
                hd_runs.append(r)
                log(f"{n:,} rep {rep + 1} django-helpdesk escalate_tickets: {r['seconds']:.2f} s, "
                    f"{r['queries']:,} queries, {len(r['flagged']):,} escalated, {r['emails']:,} emails, "
                    f"{r['untold']:,} escalated told no one")  # fmt: skip
            else:
                reset_jjp()
                r = run_child("helpdesk.py", ["--child", "run"], url_for(JJP_DB))
                jjp_runs.append(r)
                log(f"{n:,} rep {rep + 1} sweep + alert detection: {r['seconds']:.2f} s, {r['queries']:,} queries, "
                    f"{len(r['flagged']):,} overdue, alerts {r['alerts']}, "
                    f"{r['untold']:,} flagged told no one")  # fmt: skip
    expected = {k for k in range(n) if today > due[k]}
    return {
        "n": n,
        "repeats": repeats,
        "staff": plan["staff"],
        "untriaged": sum(1 for p in plan["prosecutor"] if p is None),
        "expected": len(expected),
        "windows": (min(starts), max(due)),
        "hd": hd_runs,
        "hd_s": median([r["seconds"] for r in hd_runs]) if hd_runs else None,
        "hd_score": score(set(hd_runs[-1]["flagged"]), expected, n) if hd_runs else None,
        "jjp": jjp_runs,
        "jjp_s": median([r["seconds"] for r in jjp_runs]),
        "sweep_s": median([r["sweep_seconds"] for r in jjp_runs]),
        "jjp_score": score(set(jjp_runs[-1]["flagged"]), expected, n),
        "untold": max(r["untold"] for r in jjp_runs),
    }


def report(results: list[dict[str, Any]], hd_version: str, problem: str) -> tuple[list[str], list[str]]:
    """The table (a row per system and size) and the summary lines."""
    lines = [
        "| items | system | median s | SQL statements per item | flagged | correct | too early | too late "
        "| flagged, told no one | flagged, owner told | alerts or emails | people told |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for m in results:
        n = m["n"]
        rows = []
        if m["hd"]:
            rows.append((f"django-helpdesk {hd_version}", m["hd_s"], m["hd"][-1], m["hd_score"], "emails"))
        rows.append(("this product", m["jjp_s"], m["jjp"][-1], m["jjp_score"], "alerts"))
        for name, seconds, r, sc, what in rows:
            sent = r["emails"] if what == "emails" else r["alerts"].get("total", 0)
            lines.append(
                f"| {n:,} | {name} | {seconds:.2f} | {r['queries'] / n:.3g} | {sc['flagged']:,} | "
                f"{sc['correct']:,} of {n:,} | {sc['early']:,} | {sc['late']:,} | {r['untold']:,} | "
                f"{r['told_named']:,} | {sent:,} {what} | {r['people']:,} |"
            )
        jr = m["jjp"][-1]
        parts = [f"**{n:,} items** ({m['repeats']} repeat{'s' if m['repeats'] != 1 else ''})."]
        if m["hd"]:
            parts.append(
                f"Time: this product / django-helpdesk = **{m['jjp_s'] / m['hd_s']:.3f}** (helpdesk takes "
                f"{m['hd_s'] / m['jjp_s']:.1f}x as long)."
            )
        parts.append(
            f"Correct flags against `add_working_days(start, 10)`: {m['expected']:,} items are past their 10th "
            f"working day; this product {m['jjp_score']['correct']:,} of {n:,} correct"
            + (
                f", django-helpdesk {m['hd_score']['correct']:,} of {n:,} ({m['hd_score']['early']:,} too early)."
                if m["hd"]
                else "."
            )
        )
        parts.append(
            f"Told: this product's flagged items that told no one: **{m['untold']:,}** (the most of any repeat; it "
            f"must be 0). Detection wrote {jr['alerts'].get('overdue', 0):,} overdue alerts and "
            f"{jr['alerts'].get('escalation', 0):,} escalations to {jr['people']:,} people; {jr['told_named']:,} "
            "flagged items were told to their allocated prosecutor or that prosecutor's legal manager, the "
            "untriaged ones to every legal manager of the Area (the fallback)."
        )
        if m["hd"]:
            hr = m["hd"][-1]
            parts.append(
                f"django-helpdesk mailed {hr['emails']:,} messages to {hr['people']:,} addresses (the submitting "
                f"OIC and the owner); {hr['untold']:,} escalated tickets told no one."
            )
        parts.append(
            f"This product's sweep took {m['sweep_s']:.2f} s of its time (median); the rest is detection."
        )
        summary.append(" ".join(parts))
    if problem:
        summary.append(problem)
    return lines, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[10_000], help="one or more sizes, in turn")
    parser.add_argument(
        "--repeats", type=int, nargs="+", default=[3], help="per size (one value: the same for every size)"
    )
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--child", choices=["load", "run"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "load":
        return child_load(json.loads(sys.stdin.read()))
    if args.child == "run":
        return child_run()
    if len(args.repeats) not in (1, len(args.items)):
        parser.error("give one --repeats, or one per --items size")
    repeats = args.repeats * len(args.items) if len(args.repeats) == 1 else args.repeats

    sys.path.insert(0, str(BASE_DIR))  # cases.clocks and demo.generate are pure: no Django in this process
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    today = datetime.datetime.now(LONDON).date()
    problem = ""
    hd_version = ""
    try:
        hd_version = setup_helpdesk()
    except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
        problem = f"django-helpdesk could not be installed or run here: {str(exc).strip().splitlines()[-1]}"
        log(problem)

    results: list[dict[str, Any]] = []
    for n, rep in zip(args.items, repeats, strict=True):
        try:
            results.append(measure(n, rep, today, hd_ok=not problem))
        except RuntimeError as exc:  # the helpdesk child failed
            problem = f"django-helpdesk failed at {n:,} items: {str(exc).strip().splitlines()[-1]}"
            log(problem)
            results.append(measure(n, rep, today, hd_ok=False))
        lines, summary = report(results, hd_version, problem)
        print("\n".join([*lines, "", *summary]), flush=True)
        if not args.no_doc:  # after each size: a run stopped during a large size keeps the smaller ones
            write_doc(results, lines, summary, hd_version, today, started, args.items)

    if any(m["untold"] for m in results):
        sys.exit("some flagged items told no one")


def write_doc(
    results: list[dict[str, Any]],
    lines: list[str],
    summary: list[str],
    hd_version: str,
    today: datetime.date,
    started: str,
    sizes: list[int],
) -> None:
    from cases import clocks

    exclusions = exclusions_around(today)
    holidays = [datetime.date.fromisoformat(d) for d, name in exclusions if name.startswith("England")]
    first, last = today - datetime.timedelta(days=90), today + datetime.timedelta(days=10)
    window_start = today - datetime.timedelta(days=30)
    window_end = clocks.add_working_days(today - datetime.timedelta(days=1), WORKING_DAYS)
    hd_runs = [r for m in results for r in m["hd"]]
    staff = results[-1]["staff"]
    done = [m["n"] for m in results]
    doc = [doc_header("helpdesk.py", sys.argv, started)]
    if done != sizes:
        missing = ", ".join(f"{n:,}" for n in sizes if n not in done)
        doc[-1] += (
            f"; this section is written after each size: {missing} items not measured (the run was stopped, or "
            "failed, before that size finished)"
        )
    doc.append(
        f"- django-helpdesk {hd_version or '(not installed)'} from PyPI in its own virtualenv `{VENV}` "
        f"(Django {hd_runs[-1]['django'] if hd_runs else '?'}), a minimal project in `{PROJECT}`, database "
        f"`{HD_DB}` on the same PostgreSQL; this product on `{JJP_DB}`. Both run in their own process, one size "
        "after the other; medians of the repeats, alternating, each from the same starting point (helpdesk: "
        "priorities and escalation times reset, follow-ups deleted; this product: clocks back to running, "
        "crossings, sweep runs and alerts emptied)."
    )
    doc.append(
        f"- Items started on each of the 30 days before {today} in turn, due after {WORKING_DAYS} working days. "
        f"django-helpdesk's holiday table holds the England and Wales bank holidays from {first} to {last} "
        f"({', '.join(f'{d.day} {d:%B %Y}' for d in holidays) or 'none'}) and the "
        f"{len(exclusions) - len(holidays)} Saturdays and Sundays (its way of counting working days); this "
        "product uses its own calendar (the `holidays` package, England)."
        + (
            ""
            if any(window_start <= h <= window_end for h in holidays)
            else " No bank holiday falls inside these items' 10-working-day windows, so this run tests the "
            "counting of weekends."
        )
    )
    doc.append(
        f"- People (at {results[-1]['n']:,} items; sized as `generate_cases` sizes them): {staff['oic']:,} OICs "
        f"under {staff['police_supervisor']:,} police supervisors, {staff['prosecutor']:,} prosecutors under "
        f"{staff['legal_manager']:,} legal manager{'s' if staff['legal_manager'] != 1 else ''} of the Area. "
        "Each submission is accepted at triage and "
        f"allocated to a prosecutor, as this product's triage does, except one round of the 30 start days in "
        f"{UNTRIAGED_EVERY} ({results[-1]['untriaged']:,} items), still awaiting triage. django-helpdesk gets the "
        "same people: each ticket is submitted by its OIC's address and assigned to a user for its prosecutor "
        "(untriaged: no owner); `escalate_tickets` mails the submitter and the owner."
    )
    doc += ["", *lines, ""]
    doc += [f"- {s}" for s in summary]
    doc.append(
        "- What is timed: django-helpdesk's `manage.py escalate_tickets`, which also renders its emails and hands "
        "them to Django's in-memory mail backend; this product's `ledger.sweep()` then "
        "`alerts.engine.alerts_detect()`, which write the outbox rows (one per person told). This product's "
        "delivery (`alerts_deliver`: render, send, record the outcome) is a separate task and is not timed here."
    )
    doc.append(
        "- Why helpdesk flags early: `escalate_tickets` counts the days of the last `escalate_days` calendar days "
        "that are not excluded and escalates tickets older than that many *calendar* days, so excluded days "
        "shorten the wait instead of lengthening it; it also queries the exclusion table once per day in a loop, "
        "and saves each escalated ticket, writes a follow-up and a change row and sends its emails one ticket at "
        "a time."
    )
    doc.append(
        "- Told: this product counts a flagged item (its clock overdue after the sweep) as told when detection "
        "wrote at least one alert on its clock; django-helpdesk records on each escalation's follow-up the "
        'addresses it mailed (`email_recipients`). "Owner told": the allocated prosecutor or their legal '
        "manager (this product), the ticket's owner (helpdesk)."
    )
    write_section(HEADING, "\n".join(doc))
    log(f"wrote '{HEADING}' in docs/performance.md")


if __name__ == "__main__":
    main()
