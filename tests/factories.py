"""Factories. Case data is made through the services (as real use makes it), so every case has its timeline
and clocks; plain reference rows use factory_boy."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from cases.models import Case, User
from cases.services import case_create

TODAY = datetime.date(2026, 3, 2)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.django.Password("correct-horse-battery-staple")
    roles: Any = factory.LazyFunction(list)


_urn = iter(range(1, 10**9))


def CaseFactory(  # noqa: N802 - reads like a factory at call sites
    *,
    actor: User,
    offence: str = "CJA88-39",
    reported_on: datetime.date = TODAY - datetime.timedelta(days=28),
    committed_on: datetime.date | None = None,
    today: datetime.date = TODAY,
    **kwargs: Any,
) -> Case:
    """A case created through ``case_create`` by ``actor`` (a police caseworker of the case's force)."""
    return case_create(
        actor=actor,
        urn=kwargs.pop("urn", f"T{next(_urn):06d}"),
        reported_on=reported_on,
        offences=[{"offence_type": offence, "committed_on": committed_on or reported_on}],
        suspects=[{"given_name": "Test", "family_name": "Suspect"}],
        today=today,
        **kwargs,
    )


def complainant_with_own_report(
    actor: User,
    case: Case,
    on: datetime.date,
    kind: str = "witness_statement",
    *,
    today: datetime.date = TODAY,
) -> Any:
    """The case's only victim, both people adults and partners, with the victim's own first statement or VRI:
    every condition of s.39A but the offence's own."""
    from cases.models import Person
    from victims.services import victim_add, victim_qualifying_report_record, victim_relationship_set

    Person.objects.filter(cases=case).update(date_of_birth=datetime.date(1980, 1, 1))
    victim = victim_add(
        actor=actor,
        case=case,
        given_name="Vic",
        family_name="Tim",
        date_of_birth=datetime.date(1985, 1, 1),
        today=today,
    )
    victim_relationship_set(
        actor=actor, victim=victim, suspect=case.suspects.get(), relationship="intimate", today=today
    )
    victim_qualifying_report_record(actor=actor, victim=victim, on=on, kind=kind, today=today)
    return victim
