"""``python manage.py generate_cases --count N [--seed S] [--batch 10000]``: a synthetic national data set.

All 43 forces (sized roughly by population), every case status, offences of each mode of trial, suspects (some
repeat across cases), victims, CPS submissions with triage, decisions, action plans and actions, charges, case
conversations, protective orders, Operation Encompass notifications, victim contacts, the timeline, and every
clock the services would have opened and stopped, with the crossings a daily sweep would have recorded. What
each case goes through is planned by ``demo/generate.py`` from ``(seed, case number, today)``; deadlines come
from ``cases/clocks.py`` and open clocks' states from ``ledger.ledger_state`` for today.

Fast: rows go in with ``COPY`` in batches, one transaction per batch with ``SET LOCAL session_replication_role =
replica`` (the audit-history and foreign-key triggers are off for the load; check and unique constraints still
apply, and the planner writes every reference right by construction). The planning of the next batch overlaps
the writing of the previous one (a forked planning process), unless ``--no-pipeline``. Progress goes to stderr.

Staff are generated too, per force and CPS Area, sized from the count (``--caseload`` cases per OIC), with
usernames ``gen<seed>-<org>-<role>-<n>``, an email address and an unusable password.

Reproducible: the same ``--seed``, ``--count`` and ``--today`` give the same data (ids aside); URNs are
``G<seed>X<8 digits>``. It refuses to add a seed's cases twice. Needs a PostgreSQL superuser (for
``session_replication_role``). Ids come from the tables' sequences, read at the start and moved past the rows
after each batch: do not run it while something else writes case data to the same database.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import multiprocessing
import sys
import time
import traceback
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from cases import clocks, derived, ledger
from cases.models import Case, OffenceType, Organisation, User
from demo import generate

ANALYZE_TABLES = (
    "cases_case",
    "cases_person",
    "cases_case_suspects",
    "cases_offence",
    "cases_clock",
    "cases_clockevent",
    "cases_caseevent",
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
    "victims_operationencompassnotification",
)

FORCE_ROLES = (
    ("oic", "Officer in charge"),
    ("police_supervisor", "Police supervisor"),
    ("victim_liaison", "Victim liaison officer"),
    ("triage_officer", "Triage officer"),
)
AREA_ROLES = (("prosecutor", "Prosecutor"), ("legal_manager", "Legal manager"))
FORCE_ROLES_MANAGED = ("oic", "victim_liaison", "triage_officer")


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}") from exc


class Progress:
    """One line on stderr, redrawn in place: bar, cases done, rate, time left."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream or sys.stderr
        self._last = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last < 0.25 and self.done < self.total:
            return
        self._last = now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * self.done / max(self.total, 1):5.1f}% "
            f"{self.done:,}/{self.total:,} cases  {rate:,.0f} cases/s  {elapsed:5.0f}s elapsed, ~{left:4.0f}s left "
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _sequence(table: str) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cur.fetchone()[0]


def write_batch(
    texts: dict[str, str], sequences: dict[str, tuple[str, int]], case_ids: tuple[int, int] | None = None
) -> None:
    """COPY one batch (COPY text per table) in one transaction with the audit and foreign-key triggers off,
    compute the derived columns of its cases (``case_ids``, inclusive), then move each sequence past the ids
    used."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT current_setting('session_replication_role')")
        role = cur.fetchone()[0]
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL synchronous_commit = off")  # generated data: no need to wait for each flush
        for table, columns in generate.TABLES.items():
            if texts.get(table):
                cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(texts[table]))
        if case_ids is not None:
            derived.refresh_all(case_ids=case_ids)
        for sequence, last in sequences.values():
            cur.execute(
                "SELECT setval(%s, greatest(%s, (SELECT coalesce(last_value, 1) FROM pg_sequences "
                "WHERE schemaname || '.' || sequencename = %s)))",
                [sequence, last, sequence.replace('"', "")],
            )
        cur.execute("SELECT set_config('session_replication_role', %s, true)", [role])


Job = tuple[int, dict[str, str], dict[str, int], dict[str, int]]  # cases, COPY texts, row counts, next ids


def plan_batches(planner: generate.Planner, ids: generate.Ids, count: int, size: int) -> Iterator[Job]:
    """Plan the cases batch by batch: for each, the COPY text of every table, its row counts and the next ids."""
    for lo in range(1, count + 1, size):
        hi = min(lo + size, count + 1)
        batch = generate.Batch()
        for i in range(lo, hi):
            planner.plan(i, batch, ids)
        yield hi - lo, {t: batch.copy_text(t) for t in generate.TABLES}, batch.counts(), dict(ids.next)


def _produce(jobs: Any, planner: generate.Planner, ids: generate.Ids, count: int, size: int) -> None:
    """The planning process: plans every batch and hands it over (the queue holds at most two)."""
    try:
        for job in plan_batches(planner, ids, count, size):
            jobs.put(job)
        jobs.put(None)
    except BaseException:  # reported by the writing process
        jobs.put(traceback.format_exc())


def planned_in_parallel(planner: generate.Planner, ids: generate.Ids, count: int, size: int) -> Iterator[Job]:
    """Plan in a forked process while this one writes: the planning (Python) and the COPY (PostgreSQL) then use
    a core each. The child touches no database connection and leaves with os._exit, so it closes none."""
    mp = multiprocessing.get_context("fork")
    jobs = mp.Queue(maxsize=2)
    child = mp.Process(target=_produce, args=(jobs, planner, ids, count, size), name="generate_cases-planner")
    child.start()
    try:
        while True:
            job = jobs.get()
            if job is None:
                break
            if isinstance(job, str):
                raise CommandError(f"Planning failed:\n{job}")
            yield job
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join()


class Command(BaseCommand):
    help = (
        "Generate a reproducible synthetic data set of N cases, with staff, at high speed (COPY in batches)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="Number of cases.")
        parser.add_argument("--seed", type=int, default=1, help="Seed (0 to 999999); same seed, same data.")
        parser.add_argument(
            "--batch", type=int, default=10_000, help="Cases per transaction (default 10000)."
        )
        parser.add_argument(
            "--today", type=_date, default=None, help="The London today the data is built for (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--caseload", type=int, default=60, help="Cases (all stages) per officer in charge (default 60)."
        )
        parser.add_argument(
            "--no-pipeline",
            action="store_true",
            help="Plan and write on one connection, one after the other.",
        )
        parser.add_argument(
            "--no-analyze", action="store_true", help="Skip ANALYZE of the tables at the end."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, seed, size = options["count"], options["seed"], options["batch"]
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if not 0 <= seed <= 999_999:
            raise CommandError("--seed must be from 0 to 999999.")
        if size < 1:
            raise CommandError("--batch must be at least 1.")
        if options["caseload"] < 1:
            raise CommandError("--caseload must be at least 1.")
        ledger.sync_rules()
        today = options["today"] or ledger.london_today()
        prefix = generate.urn_prefix(seed)
        if Case.objects.filter(urn__startswith=prefix).exists():
            raise CommandError(
                f"Cases of seed {seed} (URNs {prefix}...) already exist here; use another --seed or remove them."
            )

        started = time.perf_counter()
        forces = self._forces()
        staff, n_users = self._staff(seed, count, forces, options["caseload"])
        offence_types = {
            o.code: generate.OffenceTypeRef(
                o.id,
                o.code,
                o.title,
                o.mode_of_trial,
                o.stl_regime,
                o.reducible_to_common_assault,
                o.course_of_conduct,
            )
            for o in OffenceType.objects.all()
        }
        ctx = generate.Context(
            seed=seed,
            today=today,
            forces=forces,
            offence_types=offence_types,
            staff=staff,
            rules=clocks.active_rules(),
            calendar=clocks.active_calendar(),
            state_of=lambda kind, due, warn, day: str(
                ledger.ledger_state(kind=kind, due_on=due, warn_on=warn, today=day)
            ),
        )
        sequences = {t: _sequence(t) for t in generate.ID_TABLES}
        with connection.cursor() as cur:
            first: dict[str, int] = {}
            for table, sequence in sequences.items():
                cur.execute("SELECT nextval(%s)", [sequence])
                first[table] = cur.fetchone()[0]
            # Persons: 2 * count ids reserved at once (own and second suspects are laid out by case number).
            cur.execute(
                "SELECT setval(%s, %s)", [sequences["cases_person"], first["cases_person"] + 2 * count - 1]
            )
        person_base = first["cases_person"]
        ids = generate.Ids(first)
        planner = generate.Planner(ctx, count=count, person_base=person_base)

        totals: dict[str, int] = dict.fromkeys(generate.TABLES, 0)
        progress = Progress(count, getattr(self.stderr, "_out", sys.stderr))
        parallel = not options["no_pipeline"] and count > size
        jobs = (planned_in_parallel if parallel else plan_batches)(planner, ids, count, size)
        first_case = first["cases_case"]
        try:
            with contextlib.closing(jobs):  # closing stops the planning process if a write fails
                for n_cases, texts, counts, next_ids in jobs:
                    targets = {
                        t: (sequences[t], next_ids[t] - 1) for t in generate.ID_TABLES if t != "cases_person"
                    }
                    write_batch(texts, targets, (first_case, next_ids["cases_case"] - 1))
                    first_case = next_ids["cases_case"]
                    for table, n in counts.items():
                        totals[table] += n
                    progress.advance(n_cases)
        finally:
            progress.finish()
        load_seconds = time.perf_counter() - started
        if not options["no_analyze"]:
            with connection.cursor() as cur:
                for table in ANALYZE_TABLES:
                    cur.execute(f"ANALYZE {table}")
        seconds = time.perf_counter() - started
        rows = sum(totals.values())
        self.stdout.write(
            f"Generated {count:,} cases (seed {seed}, today {today}) and {rows:,} rows in {seconds:.1f} s "
            f"({count / load_seconds:,.0f} cases/s, {rows / load_seconds:,.0f} rows/s loading; "
            f"{seconds - load_seconds:.1f} s ANALYZE); {n_users:,} staff."
        )
        for table, n in totals.items():
            self.stdout.write(f"  {table:<42} {n:>12,}")

    # -- reference data ------------------------------------------------------------------------------------

    def _forces(self) -> tuple[generate.ForceRef, ...]:
        areas = {o.code: o.id for o in Organisation.objects.filter(kind=Organisation.Kind.CPS_AREA)}
        london = {areas.get("LN"), areas.get("LS")} - {None}
        out = []
        for force in Organisation.objects.filter(kind=Organisation.Kind.FORCE).order_by("code"):
            alt = None
            if force.area_id in london and len(london) == 2:
                alt = next(a for a in london if a != force.area_id)
            out.append(generate.ForceRef(force.id, force.code, force.area_id, alt))
        if not out:
            raise CommandError("No police forces: run the migrations first.")
        return tuple(out)

    def _staff(
        self, seed: int, count: int, forces: tuple[generate.ForceRef, ...], caseload: int
    ) -> tuple[generate.Staff, int]:
        """Create (or reuse) the generated staff of every force and CPS Area, sized for ``count`` cases."""
        shares = generate.force_shares([f.code for f in forces])
        codes = dict(Organisation.objects.values_list("id", "code"))
        referred: dict[int, float] = {}
        wanted: list[tuple[int, str, str, int, str]] = []  # org id, org code, role, how many, title
        for force, share in zip(forces, shares, strict=True):
            sizes = generate.staff_sizes(count * share, caseload=caseload)
            for role, title in FORCE_ROLES:
                wanted.append((force.id, force.code, role, sizes[role], title))
            n_ref = count * share * generate.REFERRED_SHARE
            if force.alt_area_id:
                referred[force.alt_area_id] = referred.get(force.alt_area_id, 0) + 0.3 * n_ref
                n_ref *= 0.7
            referred[force.area_id] = referred.get(force.area_id, 0) + n_ref
        for area_id, n_ref in sorted(referred.items()):
            sizes = generate.area_staff_sizes(n_ref)
            for role, title in AREA_ROLES:
                wanted.append((area_id, codes[area_id], role, sizes[role], title))
        rows = []
        for org_id, code, role, n, title in wanted:
            for k in range(1, n + 1):
                username = f"gen{seed}-{code.lower()}-{role.replace('_', '')}-{k:04d}"
                rows.append(
                    User(
                        username=username,
                        email=f"{username}@generated.jjp.invalid",
                        first_name=title,
                        last_name=f"{k} ({code})",
                        password=make_password(None),  # unusable: no one signs in as a generated user
                        organisation_id=org_id,
                        roles=[role],
                    )
                )
        User.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        by_name = dict(User.objects.filter(username__startswith=f"gen{seed}-").values_list("username", "id"))
        groups: dict[str, dict[int, list[int]]] = {r: {} for r, _ in (*FORCE_ROLES, *AREA_ROLES)}
        for org_id, code, role, n, _ in wanted:
            groups[role][org_id] = [
                by_name[f"gen{seed}-{code.lower()}-{role.replace('_', '')}-{k:04d}"] for k in range(1, n + 1)
            ]
        # Line managers: an OIC, victim liaison or triage officer reports to a police supervisor (eight each), a
        # prosecutor to a legal manager (eight each).
        managed = []
        for org_id, _, role, _, _ in wanted:
            bosses = groups["police_supervisor" if role in FORCE_ROLES_MANAGED else "legal_manager"].get(
                org_id
            )
            if role in (*FORCE_ROLES_MANAGED, "prosecutor") and bosses:
                for k, user_id in enumerate(groups[role][org_id]):
                    managed.append(User(pk=user_id, supervisor_id=bosses[min(k // 8, len(bosses) - 1)]))
        User.objects.bulk_update(managed, ["supervisor"], batch_size=2000)
        freeze = lambda d: {k: tuple(v) for k, v in d.items()}  # noqa: E731
        staff = generate.Staff(
            oics=freeze(groups["oic"]),
            supervisors=freeze(groups["police_supervisor"]),
            liaison=freeze(groups["victim_liaison"]),
            prosecutors=freeze(groups["prosecutor"]),
        )
        return staff, len(rows)
