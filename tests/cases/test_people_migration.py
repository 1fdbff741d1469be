"""The migration that moves the facts of people from the case to the people (``cases 0014``) keeps every existing
case's limits unchanged or earlier, never later. Checked on data in the shape the product wrote before it: the
report on the case, offences naming no complainant, and s.39A due dates computed from the case-level report."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection

from cases.models import Case, Clock, Offence
from tests.factories import CaseFactory
from victims.models import Victim

D = datetime.date
TODAY = D(2025, 6, 10)

migration = importlib.import_module("cases.migrations.0014_people_facts_data")


def _old_shape(case: Case, *, report: datetime.date | None, due: dict[str, datetime.date]) -> None:
    """Put a case back into the shape the product wrote before the migration."""
    Offence.objects.filter(case=case).update(complainant=None)
    Victim.objects.filter(case=case).update(first_qualifying_report_on=None, first_qualifying_report_kind="")
    Case.objects.filter(pk=case.pk).update(
        first_qualifying_report_on=report, first_qualifying_report_kind="witness_statement" if report else ""
    )
    for kind, on in due.items():
        Clock.objects.filter(case=case, kind=kind).update(due_on=on, warn_on=on - datetime.timedelta(days=56))


def _victim(case, name):
    return Victim.objects.create(
        case=case, given_name=name, family_name="Victim", date_of_birth=D(1990, 1, 1)
    )


@pytest.mark.django_db
def test_the_migration_keeps_every_limit_the_same_or_earlier(oic_a):
    def make(offence, **kw):
        return CaseFactory(
            actor=oic_a,
            offence=offence,
            reported_on=D(2025, 1, 2),
            committed_on=D(2025, 1, 1),
            today=TODAY,
            **kw,
        )

    one_victim = make("CJA88-39")
    _victim(one_victim, "Only")
    _old_shape(one_victim, report=D(2025, 6, 1), due={"stl": D(2025, 12, 1)})

    two_victims = make("CJA88-39")
    _victim(two_victims, "First")
    _victim(two_victims, "Second")
    _old_shape(two_victims, report=D(2025, 6, 1), due={"stl": D(2025, 12, 1)})

    harassment = make("PHA97-2")
    _victim(harassment, "Harassed")
    _old_shape(harassment, report=D(2025, 6, 1), due={})  # s.127 whatever the report

    reducible = make("OAPA-47")  # ABH: tracks the common-assault limit it could be reduced to
    _victim(reducible, "Hurt")
    _old_shape(reducible, report=D(2025, 6, 1), due={"stl_common_assault": D(2025, 12, 1)})

    no_report = make("CJA88-39")
    _old_shape(no_report, report=None, due={})

    stopped = make("CJA88-39")
    _victim(stopped, "Charged")
    _old_shape(stopped, report=D(2025, 6, 1), due={"stl": D(2025, 12, 1)})
    Clock.objects.filter(case=stopped, kind="stl").update(stopped_on=D(2025, 6, 5), state="met")

    before = {c.pk: (c.due_on, c.stopped_on) for c in Clock.objects.all()}

    with connection.schema_editor() as editor:
        migration.forward(django_apps, editor)

    after = {c.pk: (c.due_on, c.stopped_on) for c in Clock.objects.all()}
    assert before.keys() == after.keys()
    assert all(after[pk][0] <= before[pk][0] for pk in before), "a limit came out later"

    def stl(case, kind="stl"):
        return Clock.objects.get(case=case, kind=kind)

    # s.39A could have extended these: now the s.127 date, earlier.
    for case, kind in ((one_victim, "stl"), (two_victims, "stl"), (reducible, "stl_common_assault")):
        clock = stl(case, kind)
        assert clock.due_on == D(2025, 7, 1)
        assert clock.warn_on == D(2025, 5, 6)
        assert clock.params["basis"] == "s127"
        case.refresh_from_db()
        assert case.stl_due_on == D(2025, 7, 1) and case.next_due_on <= D(2025, 7, 1)
    # Unchanged: an s.127 offence, a case with no report, a stopped clock.
    assert stl(harassment).due_on == D(2025, 7, 1) == before[stl(harassment).pk][0]
    assert stl(no_report).due_on == before[stl(no_report).pk][0]
    assert stl(stopped).due_on == D(2025, 12, 1)

    # The report moved to the only victim, who is named complainant; the only suspect is named on the offence.
    one_victim.refresh_from_db()
    only = one_victim.victims.get()
    assert one_victim.first_qualifying_report_on is None
    assert (only.first_qualifying_report_on, only.first_qualifying_report_kind) == (
        D(2025, 6, 1),
        "witness_statement",
    )
    offence = one_victim.offences.get()
    assert offence.complainant == only and offence.suspect == one_victim.suspects.get()
    # Several victims: the report stays on the case, unassigned; no complainant is guessed.
    two_victims.refresh_from_db()
    assert two_victims.first_qualifying_report_on == D(2025, 6, 1)
    assert two_victims.offences.get().complainant is None
    assert not two_victims.victims.exclude(first_qualifying_report_on=None).exists()
