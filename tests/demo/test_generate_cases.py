"""``manage.py generate_cases``: a small data set has every table, status and stage; the rows respect every
constraint and reference (the load runs with the foreign-key triggers off, so the references are checked here);
clocks and their crossings follow the ledger's rules; the same seed gives the same data whatever the batch size,
and another seed other data."""

from __future__ import annotations

import datetime
import io
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction

from cases import ledger
from cases.models import Case, Clock, ClockEvent, Offence, OffenceType, Organisation
from charging.models import Action, ActionPlan, ChargingReferral
from demo import generate
from victims.models import ProtectiveOrder, Victim

TODAY = datetime.date(2026, 3, 2)
N = 300
SEED = 7


def generate_cases(count: int = N, seed: int = SEED, **options) -> str:
    out = io.StringIO()
    call_command(
        "generate_cases", count=count, seed=seed, today=TODAY, stdout=out, stderr=io.StringIO(), **options
    )
    return out.getvalue()


def digest(seed: int = SEED) -> dict[str, str]:
    with connection.cursor() as cur:
        return generate.digest(cur, seed)


def generated(model: type[models.Model], path: str = "case__urn") -> models.QuerySet:
    return model.objects.filter(**{f"{path}__startswith": generate.urn_prefix(SEED)})


@pytest.fixture
def data_set(db):
    return generate_cases()


def test_counts_per_table(data_set):
    cases = generated(Case, "urn")
    assert cases.count() == N
    assert f"Generated {N:,} cases" in data_set
    # Every case has its offences, suspects, victims and at least the investigation and support clocks.
    assert not cases.filter(offences__isnull=True).exists()
    assert not cases.filter(suspects__isnull=True).exists()
    assert not cases.filter(victims__isnull=True).exists()
    assert generated(Clock).filter(kind="investigation").count() == N
    per_table = {
        "offences": generated(Offence).count(),
        "victims": generated(Victim).count(),
        "referrals": generated(ChargingReferral).count(),
        "plans": generated(ActionPlan).count(),
        "actions": generated(Action, "plan__case__urn").count(),
        "orders": generated(ProtectiveOrder).count(),
        "clocks": generated(Clock).count(),
        "crossings": generated(ClockEvent).count(),
        "timeline": Case.objects.filter(urn__startswith=generate.urn_prefix(SEED)).aggregate(
            n=models.Count("events")
        )["n"],
    }
    assert N <= per_table["offences"] <= 3 * N
    assert N <= per_table["victims"] <= 3 * N
    assert per_table["clocks"] > 3 * N and per_table["timeline"] > 3 * N
    assert all(n > 0 for n in per_table.values()), per_table
    # The printed counts are the rows written.
    assert f"cases_clock {per_table['clocks']:>12,}".replace(" ", "") in data_set.replace(" ", "")


def test_every_force_status_stage_and_mode_of_trial(data_set):
    cases = generated(Case, "urn")
    assert set(cases.values_list("status", flat=True)) == set(Case.Status.values)
    forces = set(Organisation.objects.filter(kind="force").values_list("code", flat=True))
    assert set(cases.values_list("force__code", flat=True)) == forces and len(forces) == 43
    modes = set(generated(Offence).values_list("offence_type__mode_of_trial", flat=True))
    assert modes == set(OffenceType.ModeOfTrial.values)
    assert set(generated(ChargingReferral).values_list("status", flat=True)) == set(
        ChargingReferral.Status.values
    )
    assert {"open", "resubmitted"} <= set(generated(ActionPlan).values_list("status", flat=True))
    assert {"new", "in_progress", "completed", "withdrawn"} <= set(
        generated(Action, "plan__case__urn").values_list("status", flat=True)
    )
    assert set(generated(Clock).values_list("kind", flat=True)) == set(Clock.Kind.values)
    states = set(generated(Clock).values_list("state", flat=True))
    assert states >= {"running", "due_soon", "overdue", "met", "missed", "superseded", "cancelled"}
    orders = set(generated(ProtectiveOrder).values_list("kind", "status"))
    assert {("dapn", "expired"), ("dapo", "granted"), ("pre_charge_bail", "granted")} <= orders


def test_every_reference_points_at_a_row(data_set):
    """The load runs with the foreign-key triggers off: check every foreign key of the tables it writes."""
    tables = set(generate.TABLES)
    checked = 0
    with connection.cursor() as cur:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.db_table not in tables:
                continue
            for f in model._meta.concrete_fields:
                if not isinstance(f, models.ForeignKey) or not f.db_constraint:
                    continue
                target = f.related_model._meta
                cur.execute(
                    f'SELECT count(*) FROM "{model._meta.db_table}" t '  # noqa: S608 - names from model meta
                    f'LEFT JOIN "{target.db_table}" r ON r."{target.pk.column}" = t."{f.column}" '
                    f'WHERE t."{f.column}" IS NOT NULL AND r."{target.pk.column}" IS NULL'
                )
                orphans = cur.fetchone()[0]
                assert orphans == 0, f"{model._meta.db_table}.{f.column}: {orphans} rows point at nothing"
                checked += 1
    assert checked > 40


def test_clocks_follow_the_ledger_rules(data_set):
    ledger.sync_rules()
    clocks = list(
        generated(Clock).select_related("case", "referral", "offence__offence_type", "action", "order")
    )
    for clock in clocks:
        assert ledger.due_for(clock) == (clock.due_on, clock.due_at), (clock.kind, clock.case.urn)
        assert clock.warn_on <= clock.due_on
        if clock.stopped_on is None:
            expected = ledger.ledger_state(
                kind=clock.kind, due_on=clock.due_on, warn_on=clock.warn_on, today=TODAY
            )
            assert clock.state == expected, (clock.kind, clock.case.urn)
        elif clock.state in ("met", "missed") and clock.kind != "dapn_hearing":  # DAPN: by the hour
            assert clock.state == ("met" if clock.stopped_on <= clock.due_on else "missed")
    # At most one open clock per subject, and a closed case keeps only safeguarding clocks open.
    closed_open = {c.kind for c in clocks if c.stopped_on is None and c.case.is_closed}
    assert closed_open <= set(generate.SAFEGUARDING_KINDS)
    # The sweep for the same day finds nothing to move: the stored states are today's.
    run = ledger.sweep(today=TODAY)
    assert (run.status, run.examined, run.events) == ("done", 0, 0)


def test_derived_columns_staff_managers_and_allocations(data_set):
    """The derived columns are what the rows say; staff have line managers; accepted submissions are allocated."""
    from cases.models import User

    for case in generated(Case, "urn").prefetch_related("clocks", "action_plans"):
        open_dues = [c.due_on for c in case.clocks.all() if c.stopped_on is None]
        assert case.next_due_on == (min(open_dues) if open_dues else None)
        assert case.action_plans_count == len(case.action_plans.all())
        latest = max([case.updated_at, *(c.state_changed_at for c in case.clocks.all())])
        assert case.changed_at >= latest
    assert generated(Case, "urn").filter(action_plans_count__gte=2).exists()
    for referral in generated(ChargingReferral).prefetch_related("clocks"):
        charging_dues = [c.due_on for c in referral.clocks.all() if c.kind == "charging_decision"]
        assert referral.decision_due_on == (charging_dues[-1] if charging_dues else None)
        assert (referral.prosecutor_id is not None) == (referral.triage == "accepted")
        if referral.prosecutor_id:
            assert referral.prosecutor.organisation_id == referral.case.cps_area_id
            assert "prosecutor" in referral.prosecutor.roles
    staff = User.objects.filter(username__startswith=f"gen{SEED}-")
    oics = staff.filter(roles__contains=["oic"])
    assert oics.exists() and not oics.filter(supervisor__isnull=True).exists()
    assert not oics.exclude(supervisor__roles__contains=["police_supervisor"]).exists()
    assert not oics.exclude(supervisor__organisation=models.F("organisation")).exists()
    prosecutors = staff.filter(roles__contains=["prosecutor"])
    assert not prosecutors.exclude(supervisor__roles__contains=["legal_manager"]).exists()


def test_crossings_are_the_days_the_sweep_saw_them(data_set):
    events = generated(ClockEvent).select_related("clock")
    assert events.exists()
    for event in events:
        clock = event.clock
        assert event.to_state == ledger.ledger_state(
            kind=clock.kind, due_on=clock.due_on, warn_on=clock.warn_on, today=event.crossed_on
        )
        assert event.crossed_on <= TODAY
        assert clock.stopped_on is None or event.crossed_on <= clock.stopped_on
    open_clocks = Counter(generated(Clock).filter(stopped_on__isnull=True).values_list("state", flat=True))
    assert open_clocks["overdue"] > 0 and open_clocks["running"] > 0


@pytest.mark.django_db
def test_same_seed_same_data_whatever_the_batch_size_and_another_seed_other_data():
    def run(**options) -> dict[str, str]:
        with transaction.atomic():
            generate_cases(120, **options)
            result = digest()
            transaction.set_rollback(True)
        return result

    first = run()
    assert run(batch=50, no_pipeline=True) == first, "the batch size changes nothing"
    assert run(batch=50) == first, "planning in a second process changes nothing"
    with transaction.atomic():
        generate_cases(120, seed=SEED + 1)
        other = digest(SEED + 1)
        transaction.set_rollback(True)
    assert other["all"] != first["all"]
    assert all(value != first[table] for table, value in other.items()), "every table differs"


@pytest.mark.django_db
def test_refuses_a_seed_already_loaded_and_bad_arguments():
    generate_cases(20)
    with pytest.raises(CommandError, match="already exist"):
        generate_cases(20)
    with pytest.raises(CommandError, match="--count"):
        generate_cases(0, seed=SEED + 2)
    assert generated(Case, "urn").count() == 20
