"""Victims' Code Right 6: an update to the victim meets the update clock a key event opened."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from cases.models import Clock
from charging.services import case_refer_to_cps, decision_record
from tests.factories import CaseFactory
from victims.services import victim_add, victim_contact_record

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def decided(oic_a, prosecutor_a):
    # Decision on Fri 19 Dec 2025: the enhanced-rights update is due Mon 22 Dec 2025.
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 1), offence="OAPA-47")
    victim = victim_add(actor=oic_a, case=case, given_name="V", family_name="One")
    referral = case_refer_to_cps(actor=oic_a, case=case, received_on=D(2025, 12, 10), today=D(2025, 12, 10))
    decision_record(
        actor=prosecutor_a,
        referral=referral,
        outcome="nfa",
        decided_on=D(2025, 12, 19),
        reasons="Evidential stage not met.",
        today=D(2025, 12, 19),
    )
    return case, victim


def test_decision_opens_an_enhanced_update_clock(decided):
    case, victim = decided
    clock = case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE, victim=victim)
    assert (clock.due_on, clock.side) == (D(2025, 12, 22), "cps")
    assert clock.state == "due_soon", "a one-working-day duty is due soon from the start"


@pytest.mark.parametrize(
    ("when", "state"),
    [
        (datetime.datetime(2025, 12, 22, 16, 0, tzinfo=datetime.UTC), "met"),
        (datetime.datetime(2025, 12, 23, 9, 0, tzinfo=datetime.UTC), "missed"),
    ],
)
def test_update_contact_stops_the_clock(decided, oic_a, when, state):
    case, victim = decided
    with time_machine.travel(when + datetime.timedelta(hours=1), tick=False):
        victim_contact_record(
            actor=oic_a,
            victim=victim,
            contacted_at=when,
            method="phone",
            purpose="update",
            outcome="Told of the decision; VRR explained.",
        )
    assert case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE, victim=victim).state == state


def test_other_contacts_leave_the_clock_running(decided, oic_a):
    case, victim = decided
    with time_machine.travel(datetime.datetime(2025, 12, 22, 12, tzinfo=datetime.UTC), tick=False):
        victim_contact_record(
            actor=oic_a,
            victim=victim,
            contacted_at=datetime.datetime(2025, 12, 22, 11, tzinfo=datetime.UTC),
            method="phone",
            purpose="safety",
        )
    assert case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE, victim=victim).stopped_on is None


def test_bad_contact_is_refused_and_nothing_saved(decided, oic_a, oic_b):
    case, victim = decided
    with time_machine.travel(datetime.datetime(2025, 12, 22, 12, tzinfo=datetime.UTC), tick=False):
        with pytest.raises(ValidationError, match="in the future"):
            victim_contact_record(
                actor=oic_a,
                victim=victim,
                method="phone",
                purpose="update",
                contacted_at=datetime.datetime(2025, 12, 23, tzinfo=datetime.UTC),
            )
        with pytest.raises(ValidationError, match="Choose one of"):
            victim_contact_record(
                actor=oic_a,
                victim=victim,
                method="pigeon",
                purpose="update",
                contacted_at=datetime.datetime(2025, 12, 22, tzinfo=datetime.UTC),
            )
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            victim_contact_record(
                actor=oic_b,
                victim=victim,
                method="phone",
                purpose="update",
                contacted_at=datetime.datetime(2025, 12, 22, tzinfo=datetime.UTC),
            )
    assert not victim.contacts.exists()
    assert case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE, victim=victim).stopped_on is None
