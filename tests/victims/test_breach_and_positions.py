"""A breach becomes a new case for the new offence, linked and shown on both; the victim's position on a
prosecution over time, withdrawals within days of the report counted, and the evidence-led prosecution prompt."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from cases.models import Case, Clock, Role
from cases.services import TransitionError
from charging.services import case_refer_to_cps, conversation_record, decision_record
from tests.factories import CaseFactory, UserFactory
from victims import selectors
from victims.models import Breach, PersonalDataAccess
from victims.services import (
    breach_record,
    order_apply,
    order_consider,
    order_grant,
    victim_add,
    victim_position_record,
)

pytestmark = pytest.mark.django_db
D = datetime.date
REPORTED = D(2026, 1, 5)
TODAY = D(2026, 3, 2)


@pytest.fixture
def original(oic_a):
    return CaseFactory(actor=oic_a, reported_on=REPORTED, today=REPORTED, risk_level="high", urn="ORIG1")


@pytest.fixture
def victim(original, oic_a):
    return victim_add(
        actor=oic_a,
        case=original,
        given_name="Vic",
        family_name="Tim",
        confidential_address="1 Safe Lane",
        safe_contact_methods="Text only",
        today=REPORTED,
    )


def granted(oic, case, kind, victim, expires_on=None):
    order = order_consider(actor=oic, case=case, kind=kind, on=REPORTED, victim=victim, today=REPORTED)
    order_apply(actor=oic, order=order, on=REPORTED, today=REPORTED)
    return order_grant(actor=oic, order=order, on=D(2026, 1, 7), expires_on=expires_on, today=TODAY)


# --------------------------------------------------------------------------------------------------------------
# Breaches
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "offence"),
    [("non_molestation", "FLA96-42A"), ("restraining", "SA20-363")],
)
def test_a_breach_opens_a_linked_case_for_the_new_offence(oic_a, original, victim, kind, offence):
    order = granted(oic_a, original, kind, victim)
    breach = breach_record(
        actor=oic_a,
        order=order,
        occurred_on=D(2026, 2, 10),
        reported_on=D(2026, 2, 11),
        urn="BR1",
        notes="Came to the address.",
        today=TODAY,
    )
    new = breach.new_case
    assert Breach.objects.get(order=order).new_case == new
    assert (new.urn, new.force, new.reported_on, new.risk_level) == (
        "BR1",
        original.force,
        D(2026, 2, 11),
        "high",
    )
    offence_row = new.offences.get()
    assert (offence_row.offence_type.code, offence_row.committed_on) == (offence, D(2026, 2, 10))
    suspect = original.suspects.get()
    assert list(new.suspects.all()) == [suspect] and offence_row.suspect == suspect, (
        "the same person, not a copy"
    )
    copied = new.victims.get()
    assert (copied.given_name, copied.safe_contact_methods, copied.confidential_address) == (
        "Vic",
        "Text only",
        "1 Safe Lane",
    )
    assert PersonalDataAccess.objects.filter(victim=copied, what="address_recorded").exists()
    assert new.clocks.filter(kind=Clock.Kind.SUPPORT_REFERRAL, victim=copied).exists()
    assert original.events.filter(kind="breach_recorded", data__new_case=new.pk).exists()
    assert new.events.filter(kind="breach_case", data__original_case=original.pk).exists()
    # Shown on both.
    [link] = selectors.breaches_of_case(original, oic_a)
    assert (link.breach, link.other_case) == (breach, new)
    [origin] = selectors.breach_origins(new, oic_a)
    assert (origin.order, origin.other_case) == (order, original)
    assert selectors.breach_count(Case.objects.visible_to(oic_a)) == 1


def test_a_dapo_breach_is_the_da_act_offence(oic_a, original, victim):
    dapo = granted(oic_a, original, "dapo", victim)
    breach = breach_record(
        actor=oic_a, order=dapo, occurred_on=D(2026, 2, 1), reported_on=D(2026, 2, 1), urn="BR2", today=TODAY
    )
    assert breach.new_case.offences.get().offence_type.code == "DAA21-39"


def test_a_breach_that_is_not_itself_an_offence_needs_one_named(oic_a, original, victim):
    # Made 7 Jan 2026: in force at most 28 days beginning with that day, to 3 Feb (CSA 2010 s.28(10)).
    dvpo = granted(oic_a, original, "dvpo", victim, expires_on=D(2026, 2, 3))
    args = dict(
        actor=oic_a, order=dvpo, occurred_on=D(2026, 2, 1), reported_on=D(2026, 2, 1), urn="BR3", today=TODAY
    )
    with pytest.raises(ValidationError) as exc:
        breach_record(**args)
    assert "offence_type" in exc.value.message_dict
    breach = breach_record(offence_type="CJA88-39", **args)
    assert breach.new_case.offences.get().offence_type.code == "CJA88-39"


def test_breach_needs_an_order_in_force_on_the_day(oic_a, original, victim):
    considered = order_consider(
        actor=oic_a, case=original, kind="non_molestation", on=REPORTED, today=REPORTED
    )
    with pytest.raises(TransitionError):
        breach_record(
            actor=oic_a,
            order=considered,
            occurred_on=D(2026, 2, 1),
            reported_on=D(2026, 2, 1),
            urn="X1",
            today=TODAY,
        )
    order = granted(oic_a, original, "non_molestation", victim, expires_on=D(2026, 1, 31))
    for occurred in (D(2026, 1, 6), D(2026, 2, 1)):
        with pytest.raises(ValidationError) as exc:
            breach_record(
                actor=oic_a, order=order, occurred_on=occurred, reported_on=occurred, urn="X2", today=TODAY
            )
        assert "occurred_on" in exc.value.message_dict
    assert not Breach.objects.exists() and not Case.objects.filter(urn__startswith="X").exists()


def test_only_police_caseworkers_record_breaches(oic_a, original, victim, prosecutor_a, force_a):
    order = granted(oic_a, original, "non_molestation", victim)
    case_refer_to_cps(actor=oic_a, case=original, received_on=TODAY, today=TODAY)
    liaison = UserFactory(organisation=force_a, roles=[Role.VICTIM_LIAISON])
    for user in (prosecutor_a, liaison):
        with pytest.raises(PermissionDenied):
            breach_record(
                actor=user,
                order=order,
                occurred_on=D(2026, 2, 1),
                reported_on=D(2026, 2, 1),
                urn="BR9",
                today=TODAY,
            )
    assert not Breach.objects.exists()


def test_breach_is_shown_on_both_case_pages(client, oic_a, original, victim):
    order = granted(oic_a, original, "non_molestation", victim)
    breach = breach_record(
        actor=oic_a, order=order, occurred_on=D(2026, 2, 1), reported_on=D(2026, 2, 1), urn="BR5", today=TODAY
    )
    client.force_login(oic_a)
    on_original = client.get(reverse("victims:case", args=[original.pk])).content.decode()
    on_new = client.get(reverse("victims:case", args=[breach.new_case.pk])).content.decode()
    assert "case BR5" in on_original
    assert "ORIG1" in on_new and "opened for a breach" in on_new


# --------------------------------------------------------------------------------------------------------------
# Position on a prosecution, withdrawals, evidence-led prompt
# --------------------------------------------------------------------------------------------------------------


def test_positions_over_time_and_early_withdrawal(oic_a, original, victim):
    victim_position_record(actor=oic_a, victim=victim, position="supports", on=REPORTED, today=TODAY)
    withdrawal = victim_position_record(
        actor=oic_a,
        victim=victim,
        position="does_not_support",
        on=REPORTED + datetime.timedelta(days=4),
        reasons="Afraid of what he will do.",
        today=TODAY,
    )
    assert (withdrawal.is_withdrawal, withdrawal.days_after_report) == (True, 4), (
        "support, then not: a withdrawal"
    )
    v = selectors.victims_for_case(original).get(pk=victim.pk)
    assert selectors.early_withdrawal(v) == withdrawal
    assert selectors.latest_position(v) == withdrawal
    assert original.events.filter(kind="evidence_led_prompt").count() == 1


def test_not_supporting_from_the_outset_is_not_a_withdrawal(oic_a, original, victim):
    first = victim_position_record(
        actor=oic_a,
        victim=victim,
        position="does_not_support",
        on=REPORTED,
        reasons="Wants it to stop.",
        today=TODAY,
    )
    assert not first.is_withdrawal


def test_reasons_and_order_are_checked(oic_a, original, victim):
    with pytest.raises(ValidationError) as exc:
        victim_position_record(actor=oic_a, victim=victim, position="withdrew", on=REPORTED, today=TODAY)
    assert "reasons" in exc.value.message_dict
    victim_position_record(actor=oic_a, victim=victim, position="supports", on=D(2026, 1, 10), today=TODAY)
    with pytest.raises(ValidationError) as exc:
        victim_position_record(actor=oic_a, victim=victim, position="supports", on=D(2026, 1, 9), today=TODAY)
    assert "on" in exc.value.message_dict
    assert victim.positions.count() == 1


def test_withdrawals_are_counted_within_the_window(oic_a, force_a):
    def case_with(days: int | None, urn: str):
        case = CaseFactory(actor=oic_a, reported_on=REPORTED, today=REPORTED, urn=urn)
        v = victim_add(actor=oic_a, case=case, given_name="A", family_name=urn, today=REPORTED)
        victim_position_record(actor=oic_a, victim=v, position="supports", on=REPORTED, today=TODAY)
        if days is not None:
            victim_position_record(
                actor=oic_a,
                victim=v,
                position="withdrew",
                on=REPORTED + datetime.timedelta(days=days),
                reasons="Pressure from family.",
                today=TODAY,
            )
        return case

    case_with(0, "W0")
    case_with(5, "W5")
    case_with(6, "W6")
    case_with(None, "WN")
    cases = Case.objects.visible_to(oic_a)
    counts = selectors.withdrawal_counts(cases)
    assert (
        counts.within_days,
        counts.victims_with_positions,
        counts.victims_withdrew,
        counts.victims_withdrew_early,
    ) == (
        5,
        4,
        3,
        2,
    )
    assert counts.early_share == 0.5
    assert selectors.withdrawals(cases, within_days=5).count() == 2
    with override_settings(JJP_VICTIMS={"early_withdrawal_days": 6}):
        assert selectors.withdrawal_counts(cases).victims_withdrew_early == 3
    assert (
        selectors.withdrawal_counts(
            cases, reported_from=REPORTED + datetime.timedelta(days=1)
        ).victims_withdrew
        == 0
    )
    other = UserFactory(organisation=force_a.area, roles=[Role.PROSECUTOR])
    assert selectors.withdrawal_counts(Case.objects.visible_to(other)).victims_with_positions == 0, (
        "behind the gate"
    )


def test_evidence_led_prompt_until_a_plan_is_recorded(oic_a, prosecutor_a, original, victim):
    assert not selectors.evidence_led_plan_prompted(original)
    victim_position_record(
        actor=oic_a, victim=victim, position="withdrew", on=D(2026, 1, 8), reasons="Scared.", today=TODAY
    )
    assert selectors.evidence_led_plan_prompted(original)
    assert list(selectors.cases_needing_evidence_led_plan(Case.objects.visible_to(oic_a))) == [original]
    conversation_record(
        actor=oic_a,
        case=original,
        held_on=D(2026, 1, 7),
        mode="digital",
        early_prosecution_strategy="Bodycam.",
        today=TODAY,
    )
    assert selectors.evidence_led_plan_prompted(original), "a plan from before the withdrawal does not count"
    referral = case_refer_to_cps(actor=oic_a, case=original, received_on=D(2026, 1, 9), today=TODAY)
    decision_record(
        actor=prosecutor_a,
        referral=referral,
        outcome="charge",
        test="full_code",
        decided_on=D(2026, 1, 12),
        reasons="Bodycam, 999 call and injuries: evidence-led prosecution.",
        evidence_led_viable=True,
        evidence_led_strategy="Bodycam and 999 call as res gestae.",
        today=TODAY,
    )
    assert not selectors.evidence_led_plan_prompted(original)


def test_support_again_clears_the_prompt(oic_a, original, victim):
    victim_position_record(
        actor=oic_a, victim=victim, position="withdrew", on=D(2026, 1, 8), reasons="x", today=TODAY
    )
    victim_position_record(actor=oic_a, victim=victim, position="supports", on=D(2026, 1, 20), today=TODAY)
    assert not selectors.evidence_led_plan_prompted(original)


def test_prosecutors_may_record_a_position_but_other_forces_may_not(
    oic_a, oic_b, prosecutor_a, original, victim
):
    case_refer_to_cps(actor=oic_a, case=original, received_on=TODAY, today=TODAY)
    victim_position_record(actor=prosecutor_a, victim=victim, position="supports", on=TODAY, today=TODAY)
    with pytest.raises(PermissionDenied):
        victim_position_record(actor=oic_b, victim=victim, position="supports", on=TODAY, today=TODAY)
    assert victim.positions.count() == 1


def test_a_breach_of_a_restricted_case_stays_restricted(oic_a, supervisor_a, force_a):
    from cases.services import case_restrict

    case = CaseFactory(actor=oic_a, reported_on=REPORTED, today=REPORTED, police_perpetrated=True, urn="PP1")
    case_restrict(actor=supervisor_a, case=case, users=[oic_a], reason="Serving officer.")
    v = victim_add(actor=oic_a, case=case, given_name="A", family_name="B", today=REPORTED)
    order = granted(oic_a, case, "non_molestation", v)
    breach = breach_record(
        actor=oic_a,
        order=order,
        occurred_on=D(2026, 2, 1),
        reported_on=D(2026, 2, 1),
        urn="PPB1",
        today=TODAY,
    )
    new = Case.objects.get(pk=breach.new_case.pk)
    assert new.restricted and set(new.restricted_to.all()) == {oic_a, supervisor_a}
    colleague = UserFactory(organisation=force_a, roles=[Role.OIC])
    assert not Case.objects.visible_to(colleague).filter(pk__in=[case.pk, new.pk]).exists()
    # The new case's deadlines carry the restriction too (the dashboards' lists and counts read the copy).
    assert new.clocks.exists() and not new.clocks.filter(restricted=False).exists()
    assert not Clock.objects.visible_to(colleague).filter(case=new).exists()
