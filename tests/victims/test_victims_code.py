"""Victims' Code duties as clocks (domain-rules.md section 4) and as recorded duties with reminders; who the
victim is for the Code; Operation Encompass for children."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Clock, Role
from cases.services import case_record_police_outcome
from tests.factories import CaseFactory, UserFactory
from victims import selectors
from victims.models import SupportService, VictimCodeDuty
from victims.services import (
    encompass_notification_record,
    victim_add,
    victim_circumstances_set,
    victim_contact_record,
    victim_duty_record,
    victim_position_record,
)

pytestmark = pytest.mark.django_db
D = datetime.date
UTC = datetime.UTC


def at(y, m, d, h=12):
    return datetime.datetime(y, m, d, h, tzinfo=UTC)


def clock(case, kind, victim=None):
    qs = case.clocks.filter(kind=kind)
    return qs.get(victim=victim) if victim is not None else qs.get()


@pytest.fixture
def easter_case(oic_a):
    # Reported Thu 17 Apr 2025: the support referral is due Wed 23 Apr 2025 (Good Friday and Easter Monday skipped).
    return CaseFactory(actor=oic_a, reported_on=D(2025, 4, 17), today=D(2025, 4, 17))


@pytest.fixture
def service_a(force_a):
    return SupportService.objects.create(organisation=force_a, name="Manchester IDVA service", kind="idva")


# --------------------------------------------------------------------------------------------------------------
# Support referral (Right 4)
# --------------------------------------------------------------------------------------------------------------


def test_victim_add_opens_the_support_referral_clock(easter_case, oic_a):
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    c = clock(easter_case, Clock.Kind.SUPPORT_REFERRAL, victim)
    assert (c.started_on, c.due_on, c.side, c.state) == (D(2025, 4, 17), D(2025, 4, 23), "police", "running")


@pytest.mark.parametrize(("day", "state"), [(23, "met"), (24, "missed")])
def test_a_support_referral_contact_stops_the_clock(easter_case, oic_a, service_a, day, state):
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    contact = victim_contact_record(
        actor=oic_a,
        victim=victim,
        contacted_at=at(2025, 4, day, 9),
        method="phone",
        purpose="support_referral",
        outcome="Referred with consent.",
        support_service=service_a,
    )
    c = clock(easter_case, Clock.Kind.SUPPORT_REFERRAL, victim)
    assert (c.stopped_on, c.state) == (D(2025, 4, day), state)
    assert contact.support_service == service_a


def test_other_contacts_do_not_stop_the_support_referral(easter_case, oic_a):
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    victim_contact_record(
        actor=oic_a, victim=victim, contacted_at=at(2025, 4, 18), method="phone", purpose="update"
    )
    assert clock(easter_case, Clock.Kind.SUPPORT_REFERRAL, victim).is_open


def test_a_victim_who_came_forward_later_is_timed_from_their_report(easter_case, oic_a):
    victim = victim_add(
        actor=oic_a,
        case=easter_case,
        given_name="A",
        family_name="B",
        reported_on=D(2025, 4, 28),
        today=D(2025, 4, 28),
    )
    assert clock(easter_case, Clock.Kind.SUPPORT_REFERRAL, victim).due_on == D(2025, 4, 30)


def test_a_service_from_another_forces_directory_is_refused(easter_case, oic_a, force_b):
    other = SupportService.objects.create(organisation=force_b, name="Leeds IDVA", kind="idva")
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    with pytest.raises(ValidationError) as exc:
        victim_contact_record(
            actor=oic_a,
            victim=victim,
            contacted_at=at(2025, 4, 18),
            method="phone",
            purpose="support_referral",
            support_service=other,
        )
    assert "support_service" in exc.value.message_dict
    assert clock(easter_case, Clock.Kind.SUPPORT_REFERRAL, victim).is_open
    assert not victim.contacts.exists()


# --------------------------------------------------------------------------------------------------------------
# Updates after key events (Right 6): enhanced 1 working day, standard 5
# --------------------------------------------------------------------------------------------------------------


def test_standard_update_after_a_police_outcome_skips_christmas_and_new_year(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 1), domestic_abuse=False)
    victim = victim_add(
        actor=oic_a, case=case, given_name="A", family_name="B", enhanced_rights=False, today=D(2025, 12, 1)
    )
    assert not victim.enhanced_rights
    # Police NFA on Tue 23 Dec 2025: 5 working days, skipping 25 and 26 Dec and 1 Jan -> Fri 2 Jan 2026.
    case_record_police_outcome(
        actor=oic_a,
        case=case,
        outcome="nfa",
        on=D(2025, 12, 23),
        reason="Evidence insufficient.",
        today=D(2025, 12, 23),
    )
    c = clock(case, Clock.Kind.VICTIM_UPDATE, victim)
    assert (c.due_on, c.params["enhanced"]) == (D(2026, 1, 2), False)


def test_enhanced_update_after_a_police_outcome_is_the_next_working_day(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 1))
    victim = victim_add(actor=oic_a, case=case, given_name="A", family_name="B", today=D(2025, 12, 1))
    case_record_police_outcome(
        actor=oic_a,
        case=case,
        outcome="nfa",
        on=D(2025, 12, 19),
        reason="Evidence insufficient.",
        today=D(2025, 12, 19),
    )
    assert clock(case, Clock.Kind.VICTIM_UPDATE, victim).due_on == D(2025, 12, 22)


def test_recording_a_vulnerable_victim_gives_enhanced_rights_and_shortens_a_pending_update(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 1), domestic_abuse=False)
    victim = victim_add(
        actor=oic_a, case=case, given_name="A", family_name="B", enhanced_rights=False, today=D(2025, 12, 1)
    )
    case_record_police_outcome(
        actor=oic_a,
        case=case,
        outcome="nfa",
        on=D(2025, 12, 23),
        reason="Insufficient.",
        today=D(2025, 12, 23),
    )
    victim = victim_circumstances_set(
        actor=oic_a,
        victim=victim,
        is_child=False,
        child_saw_or_heard=False,
        vulnerable=True,
        intimidated=False,
        special_measures_declined=False,
        enhanced_rights=False,
        today=D(2025, 12, 23),
    )
    assert victim.enhanced_rights
    c = clock(case, Clock.Kind.VICTIM_UPDATE, victim)
    assert (c.due_on, c.params["enhanced"]) == (D(2025, 12, 24), True)


def test_who_the_victim_is_for_the_code(oic_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 1), today=D(2025, 12, 1))
    adult = victim_add(
        actor=oic_a, case=case, given_name="A", family_name="B", enhanced_rights=False, today=D(2025, 12, 1)
    )
    assert adult.enhanced_rights, "domestic abuse victims have enhanced rights by default"
    assert adult.special_measures_eligible, "automatically eligible as a DA complainant (s.17(4A)(c))"
    child = victim_add(
        actor=oic_a,
        case=case,
        given_name="C",
        family_name="B",
        date_of_birth=D(2015, 6, 1),
        today=D(2025, 12, 1),
    )
    assert child.is_child and child.enhanced_rights, "a date of birth under 18 makes a child victim"
    witness = victim_add(
        actor=oic_a, case=case, given_name="D", family_name="B", child_saw_or_heard=True, today=D(2025, 12, 1)
    )
    assert witness.is_child and witness.child_saw_or_heard, "DA Act 2021 s.3: a child who saw or heard"


# --------------------------------------------------------------------------------------------------------------
# Operation Encompass
# --------------------------------------------------------------------------------------------------------------


def test_a_child_victim_opens_an_encompass_clock_stopped_by_the_notification(oic_a):
    # Incident reported Fri 19 Dec 2025: the school must be told before the next school day, Mon 22 Dec.
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 19), today=D(2025, 12, 19))
    child = victim_add(
        actor=oic_a, case=case, given_name="C", family_name="B", is_child=True, today=D(2025, 12, 19)
    )
    c = clock(case, Clock.Kind.OPERATION_ENCOMPASS, child)
    assert (c.due_on, c.state) == (D(2025, 12, 22), "due_soon")
    encompass_notification_record(
        actor=oic_a,
        case=case,
        child=child,
        school="St Mary's Primary",
        notified_to="Ms Patel, Designated Safeguarding Lead",
        notified_at=datetime.datetime(2025, 12, 22, 8, 15, tzinfo=UTC),
        method="secure_email",
    )
    c.refresh_from_db()
    assert (c.stopped_on, c.state) == (D(2025, 12, 22), "met")
    assert case.encompass_notifications.get().school == "St Mary's Primary"


def test_children_in_the_household_open_a_household_clock(oic_a):
    case = CaseFactory(
        actor=oic_a, reported_on=D(2025, 12, 19), today=D(2025, 12, 19), children_in_household=True
    )
    victim_add(actor=oic_a, case=case, given_name="A", family_name="B", today=D(2025, 12, 19))
    victim_add(actor=oic_a, case=case, given_name="E", family_name="B", today=D(2025, 12, 19))
    household = case.clocks.get(kind=Clock.Kind.OPERATION_ENCOMPASS)
    assert household.victim is None and household.due_on == D(2025, 12, 22), (
        "one household clock, not one per adult"
    )
    encompass_notification_record(
        actor=oic_a,
        case=case,
        school="Oak Academy",
        notified_to="DSL",
        notified_at=datetime.datetime(2025, 12, 23, 9, tzinfo=UTC),
        method="phone",
    )
    household.refresh_from_db()
    assert household.state == "missed"


def test_a_notification_must_name_the_child_when_only_child_clocks_are_open(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2025, 12, 19), today=D(2025, 12, 19))
    victim_add(actor=oic_a, case=case, given_name="C", family_name="B", is_child=True, today=D(2025, 12, 19))
    kwargs = dict(
        case=case,
        school="Oak Academy",
        notified_to="DSL",
        notified_at=datetime.datetime(2025, 12, 22, 8, tzinfo=UTC),
        method="phone",
    )
    with pytest.raises(ValidationError) as exc:
        encompass_notification_record(actor=oic_a, **kwargs)
    assert "child" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        encompass_notification_record(actor=prosecutor_a, **kwargs)
    assert not case.encompass_notifications.exists()


# --------------------------------------------------------------------------------------------------------------
# Recorded duties and reminders: VPS, special measures, IDVA referral, information when not supporting
# --------------------------------------------------------------------------------------------------------------


def test_duties_are_recorded_and_reminders_cleared(easter_case, oic_a, service_a):
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    today = D(2025, 5, 1)

    def outstanding():
        v = selectors.victims_for_case(easter_case).get(pk=victim.pk)
        return [r.duty for r in selectors.outstanding_duties(v)]

    assert outstanding() == ["vps_offered", "special_measures", "specialist_referral"]
    victim_duty_record(actor=oic_a, victim=victim, duty="vps_offered", done_on=D(2025, 4, 18), today=today)
    victim_duty_record(
        actor=oic_a,
        victim=victim,
        duty="special_measures",
        done_on=D(2025, 4, 18),
        declined=True,
        today=today,
    )
    victim.refresh_from_db()
    assert victim.special_measures_declined, "declining at the discussion is recorded on the victim"
    with pytest.raises(ValidationError) as exc:
        victim_duty_record(
            actor=oic_a, victim=victim, duty="specialist_referral", done_on=D(2025, 4, 18), today=today
        )
    assert "service" in exc.value.message_dict
    victim_duty_record(
        actor=oic_a,
        victim=victim,
        duty="specialist_referral",
        done_on=D(2025, 4, 18),
        service=service_a,
        today=today,
    )
    assert outstanding() == []

    victim_position_record(
        actor=oic_a,
        victim=victim,
        position="withdrew",
        on=D(2025, 4, 20),
        reasons="Fears for the children.",
        today=today,
    )
    assert outstanding() == ["non_support_info"]
    victim_duty_record(
        actor=oic_a, victim=victim, duty="non_support_info", done_on=D(2025, 4, 21), today=today
    )
    assert outstanding() == []
    assert VictimCodeDuty.objects.filter(victim=victim).count() == 4, "the refused referral saved nothing"


def test_duty_dates_are_checked(easter_case, oic_a, oic_b):
    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    for bad in (D(2025, 4, 16), D(2025, 5, 2)):
        with pytest.raises(ValidationError) as exc:
            victim_duty_record(
                actor=oic_a, victim=victim, duty="vps_offered", done_on=bad, today=D(2025, 5, 1)
            )
        assert "done_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        victim_duty_record(
            actor=oic_a, victim=victim, duty="tea", done_on=D(2025, 4, 18), today=D(2025, 5, 1)
        )
    with pytest.raises(PermissionDenied):
        victim_duty_record(
            actor=oic_b, victim=victim, duty="vps_offered", done_on=D(2025, 4, 18), today=D(2025, 5, 1)
        )
    assert not victim.duties.exists()


def test_a_cps_victim_liaison_cannot_record_an_address(easter_case, area_a):
    from charging.services import case_refer_to_cps

    oic = easter_case.oic
    case_refer_to_cps(actor=oic, case=easter_case, received_on=D(2025, 4, 22), today=D(2025, 4, 22))
    witness_care = UserFactory(organisation=area_a, roles=[Role.VICTIM_LIAISON])
    victim = victim_add(
        actor=witness_care, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 22)
    )
    assert victim.pk
    with pytest.raises(PermissionDenied):
        victim_add(
            actor=witness_care,
            case=easter_case,
            given_name="A",
            family_name="C",
            confidential_address="1 Secret Street",
            today=D(2025, 4, 22),
        )
    assert easter_case.victims.count() == 1


@time_machine.travel(datetime.datetime(2025, 4, 18, 12, tzinfo=UTC), tick=False)
def test_contact_notes_are_checked_for_language_and_never_blocked(easter_case, oic_a):
    from victims import language

    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    contact = victim_contact_record(
        actor=oic_a,
        victim=victim,
        contacted_at=at(2025, 4, 18, 10),
        method="phone",
        purpose="safety",
        outcome="Victim refused to engage; she claims it was a one-off.",
    )
    found = language.findings_for(contact)
    assert [(f.phrase, f.field, f.author) for f in found] == [
        ("refused to engage", "outcome", oic_a),
        ("claims", "outcome", oic_a),
    ]
    assert all(f.case == easter_case for f in found)


@time_machine.travel(datetime.datetime(2025, 4, 18, 12, tzinfo=UTC), tick=False)
def test_language_findings_are_counted_for_governance(easter_case, oic_a, oic_b):
    from cases.models import Case

    victim = victim_add(actor=oic_a, case=easter_case, given_name="A", family_name="B", today=D(2025, 4, 17))
    for text in ("She claims he hit her.", "A volatile relationship; she claims otherwise.", "Neutral note."):
        victim_contact_record(
            actor=oic_a,
            victim=victim,
            contacted_at=at(2025, 4, 18, 9),
            method="phone",
            purpose="other",
            outcome=text,
        )
    counts = selectors.language_finding_counts(Case.objects.visible_to(oic_a))
    assert counts.total == 3
    assert counts.by_phrase == [("claims", 2), ("volatile relationship", 1)]
    assert counts.by_source == [("victims.victimcontact", 3)]
    assert selectors.language_finding_counts(Case.objects.visible_to(oic_b)).total == 0, "behind the gate"
    later = datetime.datetime(2025, 4, 19, tzinfo=UTC)
    assert selectors.language_finding_counts(Case.objects.visible_to(oic_a), start=later).total == 0
