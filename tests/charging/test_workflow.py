"""The case and charging workflow through the services: every state change's allowed and refused paths.

Each service is called with an explicit ``today=`` (TODAY, Mon 2 Mar 2026) and dates relative to it or to the
worked examples of domain-rules.md section 2 (received Mon 15 Dec 2025 -> charging decision due Wed 31 Dec 2025;
decision Wed 31 Dec 2025 -> charge due Wed 7 Jan 2026). A refused call must save nothing.
"""

from __future__ import annotations

import datetime
from itertools import count

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Case, CaseEvent, Clock, ClockEvent, Offence, Person, Role
from cases.services import (
    TransitionError,
    case_create,
    case_progress,
    case_record_police_outcome,
    case_restrict,
)
from charging import services as charging
from charging.models import Action, ActionPlan, Charge, ChargingDecision, ChargingReferral
from tests.conftest import TODAY
from tests.factories import CaseFactory, UserFactory, complainant_with_own_report
from victims.services import victim_add

pytestmark = pytest.mark.django_db

D = datetime.date
GMT = datetime.UTC  # London is on GMT on TODAY

# The worked examples of domain-rules.md section 2.
REPORTED = D(2025, 12, 1)  # Mon
RECEIVED = D(2025, 12, 15)  # Mon -> charging decision due Wed 31 Dec 2025 (25 and 26 Dec are bank holidays)
CHARGING_DUE = D(2025, 12, 31)
DECIDED = D(2025, 12, 31)  # Wed -> charge due Wed 7 Jan 2026
CHARGE_DUE = D(2026, 1, 7)
CHARGED = D(2026, 1, 2)  # Fri -> an enhanced victim update is due Mon 5 Jan 2026
VICTIM_UPDATE_DUE = D(2026, 1, 5)

_urns = count(1)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def urn() -> str:
    return f"WF{next(_urns):06d}"


def create(actor, *, offences, reported_on, **kwargs) -> Case:
    """case_create with a suspect and today=TODAY unless given."""
    kwargs.setdefault("today", TODAY)
    return case_create(
        actor=actor,
        urn=kwargs.pop("urn", None) or urn(),
        reported_on=reported_on,
        offences=offences,
        suspects=[{"given_name": "Test", "family_name": "Suspect"}],
        **kwargs,
    )


def offence(code: str, committed_on: datetime.date, **kw) -> dict:
    return {"offence_type": code, "committed_on": committed_on, **kw}


def clock(case: Case, kind: str, **filters) -> Clock:
    return case.clocks.get(kind=kind, **filters)


def last_event(case: Case) -> CaseEvent:
    return case.events.order_by("-occurred_at", "-pk").first()


def refresh(*objs):
    for o in objs:
        o.refresh_from_db()


def snapshot() -> dict[str, int]:
    """Row counts of everything a service writes: a refused call must leave all of them unchanged."""
    models = (
        Case,
        Offence,
        Person,
        Clock,
        ClockEvent,
        CaseEvent,
        ChargingReferral,
        ChargingDecision,
        ActionPlan,
        Action,
        Charge,
    )
    return {m.__name__: m.objects.count() for m in models}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' passwords are hashed on creation; PBKDF2 would make each test a quarter second slower."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dec_case(oic_a) -> Case:
    """A DA common assault case of force A reported Mon 1 Dec 2025 (offence that day: s.127 STL 1 Jun 2026)."""
    return CaseFactory(actor=oic_a, reported_on=REPORTED)


@pytest.fixture
def referral(oic_a, dec_case) -> ChargingReferral:
    """The case referred to CPS on Mon 15 Dec 2025."""
    return charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=RECEIVED, today=TODAY)


@pytest.fixture
def plan(prosecutor_a, referral) -> ActionPlan:
    """An action plan issued Mon 22 Dec 2025: one action due Mon 5 Jan 2026, one unscheduled."""
    return charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2025, 12, 22),
        reasons="Further evidence needed.",
        respond_by=D(2026, 1, 12),
        today=TODAY,
        actions=[
            {"description": "Obtain the 999 call recording", "due_on": D(2026, 1, 5)},
            {"description": "Medical records with consent", "due_on": None},
        ],
    )


@pytest.fixture
def decided(prosecutor_a, referral) -> ChargingDecision:
    """A decision to charge (Full Code Test) on Wed 31 Dec 2025."""
    return charging.decision_record(
        actor=prosecutor_a,
        referral=referral,
        outcome="charge",
        test="full_code",
        decided_on=DECIDED,
        reasons="The Full Code Test is met.",
        today=TODAY,
    )


# ---------------------------------------------------------------------------------------------------------------
# case_create
# ---------------------------------------------------------------------------------------------------------------


class TestCaseCreate:
    def test_opens_an_investigation_with_its_clock_and_timeline(self, oic_a, force_a):
        case = create(oic_a, reported_on=D(2025, 9, 1), offences=[offence("CDA71-1", D(2025, 8, 30))])
        case.refresh_from_db()
        assert case.status == Case.Status.INVESTIGATION
        assert case.force == force_a and case.oic == oic_a and case.cps_area is None
        assert [s.family_name for s in case.suspects.all()] == ["Suspect"]
        inv = clock(case, Clock.Kind.INVESTIGATION)
        # Reported Mon 1 Sep 2025: due Mon 22 Sep 2025 (reported + 21 calendar days).
        assert (inv.started_on, inv.due_on, inv.side, inv.stopped_on) == (
            D(2025, 9, 1),
            D(2025, 9, 22),
            "police",
            None,
        )
        event = last_event(case)
        assert (event.kind, event.actor) == ("case_created", oic_a)

    def test_urn_is_normalised(self, oic_a):
        case = create(oic_a, urn="  gmp/77 ", reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        assert case.urn == "GMP/77"

    @pytest.mark.parametrize(
        ("domestic_abuse", "reported_on", "fqr", "expected"),
        [
            # s.127: 6 months from the offence (30 Sep + 6 months = 30 Mar, Dodds v Walker).
            (False, D(2025, 9, 30), None, D(2026, 3, 30)),
            # DA common assault with no qualifying statement or VRI: s.127 still.
            (True, D(2025, 9, 30), None, D(2026, 3, 30)),
            # s.39A: min(offence + 2y, first statement + 6m): 10 Jan 2024, statement 1 Jun 2025 -> 1 Dec 2025.
            (True, D(2024, 1, 10), D(2025, 6, 1), D(2025, 12, 1)),
            # s.39A with the 2-year cap binding: statement 1 Oct 2025 -> 10 Jan 2026.
            (True, D(2024, 1, 10), D(2025, 10, 1), D(2026, 1, 10)),
            # Not domestic abuse: the statement does not extend the limit.
            (False, D(2024, 1, 10), D(2025, 6, 1), D(2024, 7, 10)),
        ],
    )
    def test_common_assault_gets_a_statutory_time_limit_clock(
        self, oic_a, domestic_abuse, reported_on, fqr, expected
    ):
        case = create(
            oic_a,
            reported_on=reported_on,
            offences=[offence("CJA88-39", reported_on)],
            domestic_abuse=domestic_abuse,
        )
        if fqr:
            complainant_with_own_report(oic_a, case, fqr)
        stl = clock(case, Clock.Kind.STL)
        assert stl.offence == case.offences.get()
        assert (stl.started_on, stl.due_on) == (reported_on, expected)
        assert stl.warn_on == expected - days(56)
        assert not case.clocks.filter(kind=Clock.Kind.STL_COMMON_ASSAULT).exists()

    def test_harassment_is_not_extended_by_s39a(self, oic_a):
        case = create(oic_a, reported_on=D(2024, 1, 10), offences=[offence("PHA97-2", D(2024, 1, 10))])
        complainant_with_own_report(oic_a, case, D(2025, 6, 1), kind="vri")
        assert clock(case, Clock.Kind.STL).due_on == D(2024, 7, 10)

    def test_either_way_assault_has_no_stl_but_a_common_assault_clock_in_a_da_case(self, oic_a):
        case = create(oic_a, reported_on=D(2025, 9, 30), offences=[offence("OAPA-47", D(2025, 9, 30))])
        assert not case.clocks.filter(kind=Clock.Kind.STL).exists()
        ca = clock(case, Clock.Kind.STL_COMMON_ASSAULT)
        assert ca.offence == case.offences.get()
        assert ca.due_on == D(2026, 3, 30)

    def test_either_way_assault_outside_da_has_no_time_limit_clock(self, oic_a):
        case = create(
            oic_a,
            reported_on=D(2025, 9, 30),
            offences=[offence("OAPA-47", D(2025, 9, 30))],
            domestic_abuse=False,
        )
        assert set(case.clocks.values_list("kind", flat=True)) == {Clock.Kind.INVESTIGATION}

    def test_criminal_damage_has_no_time_limit_at_all(self, oic_a):
        # Tried summarily when low-value, but still either way: no s.127 limit (R v Fennell, DPP v Bird).
        case = create(oic_a, reported_on=D(2025, 9, 30), offences=[offence("CDA71-1", D(2025, 9, 30))])
        assert set(case.clocks.values_list("kind", flat=True)) == {Clock.Kind.INVESTIGATION}

    def test_duplicate_urn_in_the_same_force_is_refused_naming_it(self, oic_a, supervisor_a):
        create(oic_a, urn="GMP/1001", reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            create(supervisor_a, urn="gmp/1001", reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        assert "GMP/1001" in exc.value.message_dict["urn"][0]
        assert snapshot() == before

    def test_same_urn_is_allowed_in_another_force(self, oic_a, oic_b, force_b):
        create(oic_a, urn="U-1", reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        other = create(oic_b, urn="U-1", reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        assert other.force == force_b
        assert Case.objects.filter(urn="U-1").count() == 2

    @pytest.mark.parametrize(
        ("reported_on", "offences", "field"),
        [
            (TODAY + days(1), [offence("CJA88-39", TODAY)], "reported_on"),
            (TODAY - days(5), [offence("CJA88-39", TODAY - days(1))], "offences[0].committed_on"),
            (TODAY, [offence("CJA88-39", TODAY + days(1))], "offences[0].committed_on"),
            (TODAY, [], "offences"),
            (TODAY, [offence("NOPE-1", TODAY)], "offences[0].offence_type"),
            # The case row is written before the offences: the second offence's failure must undo it.
            (TODAY, [offence("CJA88-39", TODAY), offence("NOPE-1", TODAY)], "offences[1].offence_type"),
            (
                TODAY,
                [offence("CJA88-39", TODAY), offence("SCA15-76", TODAY - days(3), committed_from=TODAY)],
                "offences[1].committed_from",
            ),
        ],
        ids=[
            "future-report",
            "offence-after-report",
            "future-offence",
            "no-offences",
            "unknown-code",
            "second-offence-unknown",
            "second-offence-dates-reversed",
        ],
    )
    def test_refused_input_saves_nothing(self, oic_a, reported_on, offences, field):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            create(oic_a, reported_on=reported_on, offences=offences)
        assert field in exc.value.message_dict
        assert snapshot() == before

    def test_qualifying_report_before_the_report_is_refused(self, oic_a):
        with pytest.raises(ValidationError) as exc:
            create(
                oic_a,
                reported_on=TODAY - days(3),
                offences=[offence("CJA88-39", TODAY - days(3))],
                first_qualifying_report_on=TODAY - days(4),
                first_qualifying_report_kind="vri",
            )
        assert "first_qualifying_report_on" in exc.value.message_dict

    def test_unknown_qualifying_report_kind_is_refused_on_its_own_field(self, oic_a):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            create(
                oic_a,
                reported_on=TODAY,
                offences=[offence("CJA88-39", TODAY)],
                first_qualifying_report_on=TODAY,
                first_qualifying_report_kind="phone_call",
            )
        assert snapshot() == before
        assert "first_qualifying_report_kind" in exc.value.message_dict
        assert "urn" not in exc.value.message_dict

    def test_prosecutor_cannot_create_a_case(self, prosecutor_a):
        before = snapshot()
        with pytest.raises(PermissionDenied):
            create(prosecutor_a, reported_on=TODAY, offences=[offence("CJA88-39", TODAY)])
        assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------
# case_refer_to_cps
# ---------------------------------------------------------------------------------------------------------------


class TestRefer:
    def test_referral_moves_the_case_to_its_forces_area_and_starts_the_charging_clock(
        self, oic_a, prosecutor_a, dec_case, area_a
    ):
        assert area_a.code == "NW"
        assert not Case.objects.visible_to(prosecutor_a).filter(pk=dec_case.pk).exists()
        ref = charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=RECEIVED, today=TODAY)
        dec_case.refresh_from_db()
        assert (dec_case.status, dec_case.cps_area) == (Case.Status.REFERRED, area_a)
        assert (ref.sequence, ref.status, ref.triage, ref.submitted_by) == (1, "awaiting", "pending", oic_a)
        assert Case.objects.visible_to(prosecutor_a).filter(pk=dec_case.pk).exists()
        inv = clock(dec_case, Clock.Kind.INVESTIGATION)
        assert (inv.stopped_on, inv.state) == (RECEIVED, Clock.State.MET)
        cd = clock(dec_case, Clock.Kind.CHARGING_DECISION)
        assert (cd.referral, cd.side, cd.started_on, cd.due_on) == (ref, "cps", RECEIVED, CHARGING_DUE)
        assert cd.stopped_on is None and cd.state == Clock.State.OVERDUE  # TODAY is after 31 Dec 2025
        event = last_event(dec_case)
        assert (event.kind, event.actor, event.data["sequence"]) == ("referred", oic_a, 1)

    @pytest.mark.parametrize(
        ("received_on", "state"), [(D(2025, 12, 22), "met"), (D(2025, 12, 23), "missed")]
    )
    def test_investigation_clock_met_within_21_days_missed_after(self, oic_a, dec_case, received_on, state):
        charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=received_on, today=TODAY)
        inv = clock(dec_case, Clock.Kind.INVESTIGATION)
        assert (inv.due_on, inv.stopped_on, inv.state) == (D(2025, 12, 22), received_on, state)

    def test_officer_of_another_force_cannot_refer(self, oic_b, dec_case):
        before = snapshot()
        with pytest.raises(PermissionDenied):
            charging.case_refer_to_cps(actor=oic_b, case=dec_case, received_on=RECEIVED, today=TODAY)
        assert snapshot() == before
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.INVESTIGATION and dec_case.cps_area is None

    def test_already_referred_case_cannot_be_referred_again(self, oic_a, dec_case, referral):
        before = snapshot()
        with pytest.raises(TransitionError):
            charging.case_refer_to_cps(
                actor=oic_a, case=dec_case, received_on=RECEIVED + days(1), today=TODAY
            )
        assert snapshot() == before

    @pytest.mark.parametrize(
        "received_on", [REPORTED - days(1), TODAY + days(1)], ids=["before-report", "future"]
    )
    def test_received_date_out_of_range_is_refused(self, oic_a, dec_case, received_on):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=received_on, today=TODAY)
        assert "received_on" in exc.value.message_dict
        assert not isinstance(exc.value, TransitionError)
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("committed", "due", "state"),
        [
            (D(2025, 10, 2), D(2026, 4, 2), Clock.State.DUE_SOON),  # 31 days away: inside eight weeks
            (D(2025, 8, 1), D(2026, 2, 1), Clock.State.TIME_BARRED),  # already passed on receipt
        ],
    )
    def test_stl_within_eight_weeks_is_flagged_on_receipt(self, oic_a, committed, due, state):
        case = CaseFactory(actor=oic_a, reported_on=committed, today=committed + days(7))
        stl = clock(case, Clock.Kind.STL)
        assert (stl.due_on, stl.state) == (due, Clock.State.RUNNING)
        assert not stl.events.exists()
        charging.case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
        stl.refresh_from_db()
        assert stl.state == state
        ev = stl.events.get()
        assert (ev.case, ev.from_state, ev.to_state, ev.crossed_on) == (case, "running", state, TODAY)

    def test_stl_beyond_eight_weeks_is_not_flagged(self, oic_a, case_a):
        charging.case_refer_to_cps(actor=oic_a, case=case_a, received_on=TODAY, today=TODAY)
        stl = clock(case_a, Clock.Kind.STL)
        assert stl.due_on == D(2026, 8, 2) and stl.state == Clock.State.RUNNING
        assert not stl.events.exists()


# ---------------------------------------------------------------------------------------------------------------
# referral_triage
# ---------------------------------------------------------------------------------------------------------------


class TestTriage:
    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"reasons": [], "respond_by": D(2025, 12, 23)}, "reasons"),
            ({"reasons": ["no_mg3"], "respond_by": None}, "respond_by"),
            ({"reasons": ["not_a_reason"], "respond_by": D(2025, 12, 23)}, "reasons"),
            ({"reasons": ["no_mg3"], "respond_by": D(2025, 12, 15)}, "respond_by"),
        ],
        ids=["no-reasons", "no-respond-by", "unknown-reason", "respond-before-triage"],
    )
    def test_rejection_needs_reasons_and_a_response_date(self, prosecutor_a, referral, kwargs, field):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.referral_triage(
                actor=prosecutor_a, referral=referral, accept=False, on=D(2025, 12, 16), today=TODAY, **kwargs
            )
        assert field in exc.value.message_dict
        assert snapshot() == before
        referral.refresh_from_db()
        assert (referral.triage, referral.status) == ("pending", "awaiting")

    def test_rejection_supersedes_the_clock_and_resubmission_starts_a_new_one(
        self, oic_a, prosecutor_a, dec_case, referral
    ):
        charging.referral_triage(
            actor=prosecutor_a,
            referral=referral,
            accept=False,
            on=D(2025, 12, 16),
            reasons=["no_mg3", "no_mg11s"],
            respond_by=D(2025, 12, 23),
            notes="Incomplete",
            today=TODAY,
        )
        refresh(referral, dec_case)
        assert (referral.triage, referral.status, referral.closed_on, referral.respond_by) == (
            "rejected",
            "rejected",
            D(2025, 12, 16),
            D(2025, 12, 23),
        )
        assert referral.triage_reasons == ["no_mg3", "no_mg11s"]
        first = clock(dec_case, Clock.Kind.CHARGING_DECISION)
        assert (first.state, first.stopped_on) == (Clock.State.SUPERSEDED, D(2025, 12, 16))
        assert dec_case.status == Case.Status.INVESTIGATION
        event = last_event(dec_case)
        assert (event.kind, event.actor, event.data["reasons"]) == (
            "triage_rejected",
            prosecutor_a,
            ["no_mg3", "no_mg11s"],
        )

        # Police cannot resubmit with a date before the file came back.
        with pytest.raises(ValidationError):
            charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=D(2025, 12, 15), today=TODAY)

        second = charging.case_refer_to_cps(
            actor=oic_a, case=dec_case, received_on=D(2026, 1, 5), today=TODAY
        )
        dec_case.refresh_from_db()
        assert second.sequence == 2 and dec_case.status == Case.Status.REFERRED
        new = dec_case.clocks.open().get(kind=Clock.Kind.CHARGING_DECISION)
        # Mon 5 Jan 2026 + 10 working days = Mon 19 Jan 2026.
        assert (new.referral, new.started_on, new.due_on) == (second, D(2026, 1, 5), D(2026, 1, 19))
        assert dec_case.clocks.filter(kind=Clock.Kind.CHARGING_DECISION).count() == 2
        assert last_event(dec_case).summary.startswith("Resubmitted")

    def test_acceptance_keeps_the_clock_running_and_cannot_be_repeated(
        self, prosecutor_a, dec_case, referral
    ):
        charging.referral_triage(
            actor=prosecutor_a, referral=referral, accept=True, on=D(2025, 12, 16), today=TODAY
        )
        refresh(referral, dec_case)
        assert (referral.triage, referral.status, referral.triaged_on) == (
            "accepted",
            "awaiting",
            D(2025, 12, 16),
        )
        assert clock(dec_case, Clock.Kind.CHARGING_DECISION).stopped_on is None
        assert dec_case.status == Case.Status.REFERRED
        assert (last_event(dec_case).kind, last_event(dec_case).actor) == ("triage_accepted", prosecutor_a)
        with pytest.raises(TransitionError):
            charging.referral_triage(
                actor=prosecutor_a,
                referral=referral,
                accept=False,
                on=D(2025, 12, 17),
                reasons=["no_mg3"],
                respond_by=D(2025, 12, 20),
                today=TODAY,
            )

    def test_acceptance_allocates_the_submission_to_the_prosecutor_triaging_by_default(
        self, prosecutor_a, dec_case, referral
    ):
        charging.referral_triage(
            actor=prosecutor_a, referral=referral, accept=True, on=D(2025, 12, 16), today=TODAY
        )
        referral.refresh_from_db()
        assert referral.prosecutor == prosecutor_a
        event = last_event(dec_case)
        assert event.data == {"prosecutor": prosecutor_a.pk}
        assert event.summary == f"Referral accepted at triage and allocated to {prosecutor_a.display_name}"

    def test_a_legal_manager_allocates_a_named_prosecutor_or_nobody(
        self, oic_a, area_a, prosecutor_a, referral
    ):
        manager = UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="triage-lm")
        charging.referral_triage(
            actor=manager,
            referral=referral,
            accept=True,
            on=D(2025, 12, 16),
            prosecutor=prosecutor_a,
            today=TODAY,
        )
        referral.refresh_from_db()
        assert referral.prosecutor == prosecutor_a
        other = charging.case_refer_to_cps(
            actor=oic_a,
            case=CaseFactory(actor=oic_a, reported_on=REPORTED),
            received_on=RECEIVED,
            today=TODAY,
        )
        charging.referral_triage(actor=manager, referral=other, accept=True, on=D(2025, 12, 16), today=TODAY)
        other.refresh_from_db()
        assert other.triage == "accepted" and other.prosecutor is None, "a legal manager is not a prosecutor"
        assert last_event(other.case).summary == "Referral accepted at triage"

    @pytest.mark.parametrize("who", ["prosecutor_b", "oic_a", "inactive", "restricted"])
    def test_only_a_prosecutor_of_the_area_who_may_see_the_case_can_be_allocated(
        self, request, prosecutor_a, area_a, supervisor_a, oic_a, dec_case, referral, who
    ):
        if who == "inactive":
            named = UserFactory(
                organisation=area_a, roles=[Role.PROSECUTOR], is_active=False, username="gone"
            )
        elif who == "restricted":
            named = UserFactory(organisation=area_a, roles=[Role.PROSECUTOR], username="not-named")
            Case.objects.filter(pk=dec_case.pk).update(police_perpetrated=True)
            case_restrict(
                actor=supervisor_a, case=dec_case, users=[oic_a, prosecutor_a], reason="Officer suspect."
            )
        else:
            named = request.getfixturevalue(who)
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.referral_triage(
                actor=prosecutor_a,
                referral=referral,
                accept=True,
                on=D(2025, 12, 16),
                prosecutor=named,
                today=TODAY,
            )
        assert "prosecutor" in exc.value.message_dict
        assert snapshot() == before
        referral.refresh_from_db()
        assert (referral.triage, referral.prosecutor) == ("pending", None)

    def test_a_returned_file_is_allocated_to_nobody(self, prosecutor_a, referral):
        charging.referral_triage(
            actor=prosecutor_a,
            referral=referral,
            accept=False,
            on=D(2025, 12, 16),
            reasons=["no_mg3"],
            respond_by=D(2025, 12, 23),
            prosecutor=prosecutor_a,
            today=TODAY,
        )
        referral.refresh_from_db()
        assert (referral.triage, referral.prosecutor) == ("rejected", None)

    def test_police_cannot_triage(self, oic_a, referral):
        with pytest.raises(PermissionDenied):
            charging.referral_triage(
                actor=oic_a, referral=referral, accept=True, on=D(2025, 12, 16), today=TODAY
            )

    def test_triage_before_receipt_is_refused(self, prosecutor_a, referral):
        with pytest.raises(ValidationError) as exc:
            charging.referral_triage(
                actor=prosecutor_a, referral=referral, accept=True, on=D(2025, 12, 14), today=TODAY
            )
        assert "on" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------------------------
# action_plan_issue and action_update
# ---------------------------------------------------------------------------------------------------------------


class TestActionPlan:
    def test_issue_ends_the_submission_and_opens_action_clocks(
        self, prosecutor_a, oic_a, dec_case, referral, plan
    ):
        refresh(referral, dec_case)
        assert (referral.status, referral.closed_on) == ("action_plan", D(2025, 12, 22))
        assert dec_case.status == Case.Status.ACTION_PLAN
        assert (plan.issued_on, plan.respond_by, plan.status) == (D(2025, 12, 22), D(2026, 1, 12), "open")
        decision = plan.decision
        assert (decision.outcome, decision.referral, decision.decided_by, decision.test) == (
            "action_plan",
            referral,
            prosecutor_a,
            "",
        )
        cd = clock(dec_case, Clock.Kind.CHARGING_DECISION)
        assert (cd.state, cd.stopped_on) == (Clock.State.SUPERSEDED, D(2025, 12, 22))
        dated, unscheduled = plan.actions.order_by("pk")
        assert dated.owner == oic_a and unscheduled.owner == oic_a  # the case's OIC by default
        action_clocks = dec_case.clocks.filter(kind=Clock.Kind.ACTION)
        assert [c.action for c in action_clocks] == [dated]
        ac = action_clocks.get()
        assert (ac.side, ac.started_on, ac.due_on, ac.stopped_on) == (
            "police",
            D(2025, 12, 22),
            D(2026, 1, 5),
            None,
        )
        assert not unscheduled.clocks.exists()
        event = last_event(dec_case)
        assert (event.kind, event.actor, event.data["actions"]) == ("action_plan", prosecutor_a, 2)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"actions": []}, "actions"),
            ({"respond_by": D(2025, 12, 21)}, "respond_by"),
            ({"reasons": "  "}, "reasons"),
            (
                {"actions": [{"description": "Valid", "due_on": D(2026, 1, 5)}, {"description": "  "}]},
                "actions[1].description",
            ),
            (
                {
                    "actions": [
                        {"description": "Valid", "due_on": D(2026, 1, 5)},
                        {"description": "Due too early", "due_on": D(2025, 12, 21)},
                    ]
                },
                "actions[1].due_on",
            ),
        ],
        ids=[
            "no-actions",
            "respond-before-decision",
            "no-reasons",
            "second-action-blank",
            "second-action-due-early",
        ],
    )
    def test_invalid_plan_is_refused_and_saves_nothing(self, prosecutor_a, dec_case, referral, kwargs, field):
        args = {
            "decided_on": D(2025, 12, 22),
            "reasons": "More needed.",
            "respond_by": D(2026, 1, 12),
            "actions": [{"description": "Obtain CCTV", "due_on": None}],
        } | kwargs
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_issue(actor=prosecutor_a, referral=referral, today=TODAY, **args)
        assert field in exc.value.message_dict
        assert snapshot() == before
        refresh(referral, dec_case)
        assert referral.status == "awaiting" and dec_case.status == Case.Status.REFERRED

    def test_oic_cannot_issue_an_action_plan(self, oic_a, referral):
        before = snapshot()
        with pytest.raises(PermissionDenied):
            charging.action_plan_issue(
                actor=oic_a,
                referral=referral,
                decided_on=D(2025, 12, 22),
                reasons="x",
                respond_by=D(2026, 1, 12),
                actions=[{"description": "x"}],
                today=TODAY,
            )
        assert snapshot() == before

    def test_prosecutor_of_another_area_cannot_see_or_issue(self, prosecutor_b, dec_case, referral):
        assert not Case.objects.visible_to(prosecutor_b).filter(pk=dec_case.pk).exists()
        with pytest.raises(PermissionDenied):
            charging.action_plan_issue(
                actor=prosecutor_b,
                referral=referral,
                decided_on=D(2025, 12, 22),
                reasons="x",
                respond_by=D(2026, 1, 12),
                actions=[{"description": "x"}],
                today=TODAY,
            )
        assert not ActionPlan.objects.exists()

    def test_resubmission_after_an_action_plan(self, oic_a, dec_case, plan):
        ref2 = charging.case_refer_to_cps(actor=oic_a, case=dec_case, received_on=D(2026, 1, 12), today=TODAY)
        refresh(plan, dec_case)
        assert ref2.sequence == 2 and plan.status == "resubmitted" and dec_case.status == Case.Status.REFERRED
        assert dec_case.clocks.open().get(kind=Clock.Kind.CHARGING_DECISION).referral == ref2


class TestActionUpdate:
    @staticmethod
    def dated(plan: ActionPlan) -> Action:
        return plan.actions.get(due_on__isnull=False)

    @pytest.mark.parametrize(("on", "state"), [(D(2026, 1, 5), "met"), (D(2026, 1, 6), "missed")])
    def test_completing_stops_the_clock_met_or_missed(self, oic_a, plan, on, state):
        action = charging.action_update(
            actor=oic_a, action=self.dated(plan), status="completed", on=on, today=TODAY
        )
        assert (action.status, action.completed_on) == ("completed", on)
        ac = action.clocks.get()
        assert (ac.stopped_on, ac.state) == (on, state)
        event = last_event(plan.case)
        assert (event.kind, event.actor) == ("action_updated", oic_a)

    def test_reopening_needs_a_reason_and_reopens_the_clock(self, oic_a, prosecutor_a, plan):
        action = charging.action_update(
            actor=oic_a, action=self.dated(plan), status="completed", on=D(2026, 1, 5), today=TODAY
        )
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.action_update(
                actor=prosecutor_a, action=action, status="reopened", on=D(2026, 1, 7), today=TODAY
            )
        assert "reason" in exc.value.message_dict
        assert snapshot() == before
        action.refresh_from_db()
        assert action.status == "completed"

        action = charging.action_update(
            actor=prosecutor_a,
            action=action,
            status="reopened",
            on=D(2026, 1, 7),
            reason="The recording is the wrong call.",
            today=TODAY,
        )
        assert (action.status, action.completed_on, action.latest_reason) == (
            "reopened",
            None,
            "The recording is the wrong call.",
        )
        reopened = action.clocks.open().get()
        assert (reopened.started_on, reopened.due_on, reopened.state) == (
            D(2026, 1, 7),
            D(2026, 1, 5),
            "overdue",
        )
        assert action.clocks.get(stopped_on__isnull=False).state == "met"
        assert (last_event(plan.case).kind, last_event(plan.case).actor) == ("action_updated", prosecutor_a)

    def test_withdrawn_is_terminal(self, oic_a, plan):
        action = self.dated(plan)
        with pytest.raises(ValidationError):  # withdrawing needs a reason too
            charging.action_update(
                actor=oic_a, action=action, status="withdrawn", on=D(2026, 1, 2), today=TODAY
            )
        action = charging.action_update(
            actor=oic_a,
            action=action,
            status="withdrawn",
            on=D(2026, 1, 2),
            reason="No longer needed.",
            today=TODAY,
        )
        assert action.clocks.get().state == Clock.State.CANCELLED
        for status in ("new", "in_progress", "completed", "reopened", "withdrawn"):
            with pytest.raises(TransitionError):
                charging.action_update(
                    actor=oic_a,
                    action=action,
                    status=status,
                    on=D(2026, 1, 3),
                    reason="Try again",
                    today=TODAY,
                )
        action.refresh_from_db()
        assert action.status == "withdrawn"

    def test_completed_cannot_go_back_to_in_progress(self, oic_a, plan):
        action = charging.action_update(
            actor=oic_a, action=self.dated(plan), status="completed", on=D(2026, 1, 2), today=TODAY
        )
        with pytest.raises(TransitionError):
            charging.action_update(
                actor=oic_a, action=action, status="in_progress", on=D(2026, 1, 3), today=TODAY
            )

    @pytest.mark.parametrize(
        ("status", "on", "field"),
        [
            ("finished", D(2026, 1, 2), "status"),
            ("completed", D(2025, 12, 21), "on"),
            ("completed", TODAY + days(1), "on"),
        ],
        ids=["unknown-status", "before-plan", "future"],
    )
    def test_bad_input_is_refused(self, oic_a, plan, status, on, field):
        with pytest.raises(ValidationError) as exc:
            charging.action_update(actor=oic_a, action=self.dated(plan), status=status, on=on, today=TODAY)
        assert field in exc.value.message_dict
        assert self.dated(plan).status == "new"

    def test_actions_of_a_closed_case_cannot_be_reopened(self, oic_a, dec_case, plan):
        action = charging.action_update(
            actor=oic_a, action=self.dated(plan), status="completed", on=D(2026, 1, 2), today=TODAY
        )
        case_record_police_outcome(
            actor=oic_a,
            case=dec_case,
            outcome="nfa",
            on=D(2026, 1, 9),
            reason="The victim withdrew support.",
            today=TODAY,
        )
        with pytest.raises(TransitionError):
            charging.action_update(
                actor=oic_a,
                action=action,
                status="reopened",
                on=D(2026, 1, 10),
                reason="Reconsidered.",
                today=TODAY,
            )
        assert not dec_case.clocks.open().filter(kind=Clock.Kind.ACTION).exists()

    def test_other_force_cannot_update(self, oic_b, plan):
        with pytest.raises(PermissionDenied):
            charging.action_update(
                actor=oic_b, action=self.dated(plan), status="completed", on=D(2026, 1, 2), today=TODAY
            )


# ---------------------------------------------------------------------------------------------------------------
# decision_record
# ---------------------------------------------------------------------------------------------------------------


class TestDecision:
    def test_charge_must_name_the_test(self, prosecutor_a, referral):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                outcome="charge",
                decided_on=DECIDED,
                reasons="Enough evidence.",
                today=TODAY,
            )
        assert "test" in exc.value.message_dict
        assert snapshot() == before

    def test_decision_to_charge_starts_the_charge_clock(self, prosecutor_a, dec_case, referral, decided):
        refresh(referral, dec_case)
        assert dec_case.status == Case.Status.DECIDED
        assert (referral.status, referral.closed_on) == ("decided", DECIDED)
        assert (decided.outcome, decided.test, decided.decided_by) == ("charge", "full_code", prosecutor_a)
        cd = clock(dec_case, Clock.Kind.CHARGING_DECISION)
        assert (cd.stopped_on, cd.state) == (DECIDED, Clock.State.MET)  # decided on its due day
        charge = clock(dec_case, Clock.Kind.CHARGE)
        assert (charge.started_on, charge.due_on, charge.side, charge.stopped_on) == (
            DECIDED,
            CHARGE_DUE,
            "police",
            None,
        )
        assert clock(dec_case, Clock.Kind.STL).stopped_on is None  # the time limit runs until the charge
        event = last_event(dec_case)
        assert (event.kind, event.actor, event.data["outcome"]) == ("decision", prosecutor_a, "charge")

    def test_late_decision_misses_the_charging_clock(self, prosecutor_a, dec_case, referral):
        charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            outcome="charge",
            test="threshold",
            decided_on=D(2026, 1, 2),
            reasons="Threshold Test met.",
            today=TODAY,
        )
        assert clock(dec_case, Clock.Kind.CHARGING_DECISION).state == Clock.State.MISSED

    def test_nfa_closes_the_case_and_cancels_all_but_victim_and_safeguarding_clocks(
        self, oic_a, prosecutor_a, dec_case, referral
    ):
        victim = victim_add(actor=oic_a, case=dec_case, given_name="Vic", family_name="Tim")
        charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            outcome="nfa",
            decided_on=DECIDED,
            reasons="The evidential stage is not met.",
            evidence_led_viable=False,
            today=TODAY,
        )
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.NO_FURTHER_ACTION
        # Casework deadlines end; telling the victim and safeguarding (the support referral) go on.
        assert {c.kind for c in dec_case.clocks.open()} == {
            Clock.Kind.VICTIM_UPDATE,
            Clock.Kind.SUPPORT_REFERRAL,
        }
        open_clocks = list(dec_case.clocks.open().filter(kind=Clock.Kind.VICTIM_UPDATE))
        assert [(c.kind, c.victim) for c in open_clocks] == [(Clock.Kind.VICTIM_UPDATE, victim)]
        assert open_clocks[0].side == "cps" and open_clocks[0].due_on == D(
            2026, 1, 2
        )  # 1 Jan is a bank holiday
        assert clock(dec_case, Clock.Kind.STL).state == Clock.State.CANCELLED
        assert clock(dec_case, Clock.Kind.CHARGING_DECISION).state == Clock.State.MET
        assert not dec_case.clocks.filter(kind=Clock.Kind.CHARGE).exists()
        assert (last_event(dec_case).kind, last_event(dec_case).actor) == ("decision", prosecutor_a)

    def test_standard_rights_victim_is_told_within_five_working_days(self, oic_a, prosecutor_a):
        case = create(
            oic_a, reported_on=REPORTED, offences=[offence("CJA88-39", REPORTED)], domestic_abuse=False
        )
        victim = victim_add(
            actor=oic_a, case=case, given_name="Vic", family_name="Tim", enhanced_rights=False
        )
        ref = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
        # Decision Tue 23 Dec 2025: 5 working days, skipping 25, 26 Dec and 1 Jan -> Fri 2 Jan 2026.
        charging.decision_record(
            actor=prosecutor_a,
            referral=ref,
            outcome="nfa",
            decided_on=D(2025, 12, 23),
            reasons="Not met.",
            today=TODAY,
        )
        update = case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE, victim=victim)
        assert (update.params["enhanced"], update.due_on) == (False, D(2026, 1, 2))

    def test_decision_on_a_referral_returned_at_triage_is_refused(self, prosecutor_a, referral):
        charging.referral_triage(
            actor=prosecutor_a,
            referral=referral,
            accept=False,
            on=D(2025, 12, 16),
            reasons=["no_mg3"],
            respond_by=D(2025, 12, 23),
            today=TODAY,
        )
        before = snapshot()
        with pytest.raises(TransitionError):
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                outcome="charge",
                test="full_code",
                decided_on=DECIDED,
                reasons="Met.",
                today=TODAY,
            )
        assert snapshot() == before

    def test_second_decision_on_the_same_referral_is_refused(self, prosecutor_a, dec_case, referral, decided):
        before = snapshot()
        with pytest.raises(TransitionError):
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                outcome="nfa",
                decided_on=DECIDED,
                reasons="Changed my mind.",
                today=TODAY,
            )
        assert snapshot() == before
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.DECIDED and dec_case.decisions.count() == 1

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"decided_on": RECEIVED - days(1)}, "decided_on"),
            ({"decided_on": TODAY + days(1)}, "decided_on"),
            ({"reasons": " "}, "reasons"),
            ({"outcome": "action_plan"}, "outcome"),
            ({"outcome": "nfa", "test": "gut_feeling"}, "test"),
        ],
        ids=["before-receipt", "future", "no-reasons", "action-plan-outcome", "unknown-test"],
    )
    def test_bad_decisions_are_refused(self, prosecutor_a, referral, kwargs, field):
        args = {"outcome": "charge", "test": "full_code", "decided_on": DECIDED, "reasons": "Met."} | kwargs
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.decision_record(actor=prosecutor_a, referral=referral, today=TODAY, **args)
        assert field in exc.value.message_dict
        assert snapshot() == before

    def test_police_cannot_record_a_cps_decision(self, oic_a, referral):
        with pytest.raises(PermissionDenied):
            charging.decision_record(
                actor=oic_a,
                referral=referral,
                outcome="charge",
                test="full_code",
                decided_on=DECIDED,
                reasons="Met.",
                today=TODAY,
            )


# ---------------------------------------------------------------------------------------------------------------
# charge_record
# ---------------------------------------------------------------------------------------------------------------


class TestCharge:
    def test_charge_before_any_decision_is_refused(self, oic_a, dec_case, referral):
        before = snapshot()
        with pytest.raises(TransitionError):
            charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        assert snapshot() == before

    def test_charge_after_an_nfa_decision_is_refused(self, oic_a, prosecutor_a, dec_case, referral):
        charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            outcome="nfa",
            decided_on=DECIDED,
            reasons="Not met.",
            today=TODAY,
        )
        with pytest.raises(TransitionError):
            charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        assert not Charge.objects.exists()

    def test_charged_before_the_decision_is_refused(self, oic_a, dec_case, decided):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(actor=oic_a, case=dec_case, charged_on=DECIDED - days(1), today=TODAY)
        assert "charged_on" in exc.value.message_dict
        assert snapshot() == before

    def test_charge_stops_clocks_and_tells_each_victim(self, oic_a, dec_case, referral):
        victims = [
            victim_add(actor=oic_a, case=dec_case, given_name=g, family_name="Tim") for g in ("Ann", "Bo")
        ]
        prosecutor = UserFactory(organisation=dec_case.force.area, roles=[Role.PROSECUTOR])
        decision = charging.decision_record(
            actor=prosecutor,
            referral=referral,
            outcome="charge",
            test="full_code",
            decided_on=DECIDED,
            reasons="Met.",
            today=TODAY,
        )
        charge = charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.CHARGED
        assert (charge.decision, charge.charged_by, charge.charged_on) == (decision, oic_a, CHARGED)
        assert list(charge.offences.all()) == list(dec_case.offences.all())
        assert (clock(dec_case, Clock.Kind.CHARGE).stopped_on, clock(dec_case, Clock.Kind.CHARGE).state) == (
            CHARGED,
            Clock.State.MET,
        )
        stl = clock(dec_case, Clock.Kind.STL)
        assert (stl.stopped_on, stl.state) == (CHARGED, Clock.State.MET)
        updates = dec_case.clocks.open().filter(kind=Clock.Kind.VICTIM_UPDATE)
        assert {c.victim for c in updates} == set(victims)
        for c in updates:
            assert (c.started_on, c.due_on, c.side, c.params["enhanced"]) == (
                CHARGED,
                VICTIM_UPDATE_DUE,
                "police",
                True,
            )
        # The CPS decision's updates are superseded by the charge's.
        assert set(
            dec_case.clocks.filter(kind=Clock.Kind.VICTIM_UPDATE, side="cps").values_list("state", flat=True)
        ) == {Clock.State.SUPERSEDED}
        event = last_event(dec_case)
        assert (event.kind, event.actor, event.data["charge"]) == ("charged", oic_a, charge.pk)

    def test_charge_stops_only_the_charged_offences_time_limit(self, oic_a, prosecutor_a):
        case = create(
            oic_a,
            reported_on=REPORTED,
            offences=[offence("CJA88-39", REPORTED), offence("PHA97-2", REPORTED)],
        )
        ref = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
        charging.decision_record(
            actor=prosecutor_a,
            referral=ref,
            outcome="charge",
            test="full_code",
            decided_on=DECIDED,
            reasons="Met.",
            today=TODAY,
        )
        assault = case.offences.get(offence_type__code="CJA88-39")
        charging.charge_record(
            actor=oic_a,
            case=case,
            charged_on=CHARGED,
            offences=[assault],
            information_laid_on=D(2026, 1, 6),
            today=TODAY,
        )
        assert clock(case, Clock.Kind.STL, offence=assault).stopped_on == D(
            2026, 1, 6
        )  # the information laid
        assert clock(case, Clock.Kind.STL, offence__offence_type__code="PHA97-2").stopped_on is None

    def test_late_charge_misses_the_charge_clock(self, oic_a, dec_case, decided):
        charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGE_DUE + days(1), today=TODAY)
        assert clock(dec_case, Clock.Kind.CHARGE).state == Clock.State.MISSED

    def test_offences_of_another_case_cannot_be_charged(self, oic_a, dec_case, decided, case_a):
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(
                actor=oic_a,
                case=dec_case,
                charged_on=CHARGED,
                offences=list(case_a.offences.all()),
                today=TODAY,
            )
        assert "offences" in exc.value.message_dict
        assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------
# Police outcome, restriction, progress
# ---------------------------------------------------------------------------------------------------------------


class TestPoliceOutcome:
    def test_nfa_before_referral(self, supervisor_a):
        case = CaseFactory(actor=supervisor_a, reported_on=TODAY - days(10))
        case_record_police_outcome(
            actor=supervisor_a,
            case=case,
            outcome="nfa",
            on=TODAY,
            reason="No independent evidence.",
            today=TODAY,
        )
        case.refresh_from_db()
        assert case.status == Case.Status.NO_FURTHER_ACTION
        assert clock(case, Clock.Kind.INVESTIGATION).state == Clock.State.MET  # within 21 days
        assert clock(case, Clock.Kind.STL).state == Clock.State.CANCELLED
        assert not case.clocks.open().exists()
        event = last_event(case)
        assert (event.kind, event.actor, event.reason) == (
            "police_outcome",
            supervisor_a,
            "No independent evidence.",
        )
        assert event.data == {"outcome": "nfa", "after_action_plan": False, "cps_informed": False}

    def test_out_of_court_resolution(self, oic_a, case_a):
        case_record_police_outcome(
            actor=oic_a,
            case=case_a,
            outcome="out_of_court",
            on=TODAY,
            reason="Conditional caution accepted.",
            today=TODAY,
        )
        case_a.refresh_from_db()
        assert case_a.status == Case.Status.OUT_OF_COURT and case_a.is_closed
        assert clock(case_a, Clock.Kind.INVESTIGATION).state == Clock.State.MISSED  # 28 days after the report

    def test_nfa_after_an_action_plan_says_cps_was_informed(self, oic_a, dec_case, plan):
        victim = victim_add(actor=oic_a, case=dec_case, given_name="Vic", family_name="Tim")
        case_record_police_outcome(
            actor=oic_a,
            case=dec_case,
            outcome="nfa",
            on=D(2026, 1, 9),
            reason="The victim withdrew support.",
            today=TODAY,
        )
        refresh(dec_case, plan)
        assert dec_case.status == Case.Status.NO_FURTHER_ACTION
        assert (plan.status, plan.closed_on) == ("closed", D(2026, 1, 9))
        assert clock(dec_case, Clock.Kind.ACTION).state == Clock.State.CANCELLED
        assert [
            (c.kind, c.victim) for c in dec_case.clocks.open().exclude(kind=Clock.Kind.SUPPORT_REFERRAL)
        ] == [(Clock.Kind.VICTIM_UPDATE, victim)]
        event = dec_case.events.get(kind="police_outcome")
        assert event.data["cps_informed"] is True and event.data["after_action_plan"] is True
        assert "CPS informed" in event.summary
        assert last_event(dec_case).kind == "cps_informed", "the record that CPS was told follows"

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"outcome": "charged"}, "outcome"),
            ({"reason": "  "}, "reason"),
            ({"on": TODAY + days(1)}, "on"),
            ({"on": REPORTED - days(1)}, "on"),
        ],
        ids=["bad-outcome", "no-reason", "future", "before-report"],
    )
    def test_bad_input_is_refused(self, oic_a, dec_case, kwargs, field):
        args = {"outcome": "nfa", "on": TODAY, "reason": "Reason."} | kwargs
        before = snapshot()
        with pytest.raises(ValidationError) as exc:
            case_record_police_outcome(actor=oic_a, case=dec_case, today=TODAY, **args)
        assert field in exc.value.message_dict
        assert snapshot() == before

    def test_refused_while_cps_has_the_case(self, oic_a, dec_case, referral):
        before = snapshot()
        with pytest.raises(TransitionError):
            case_record_police_outcome(
                actor=oic_a, case=dec_case, outcome="nfa", on=TODAY, reason="R.", today=TODAY
            )
        assert snapshot() == before

    def test_other_force_cannot_record_an_outcome(self, oic_b, case_a):
        with pytest.raises(PermissionDenied):
            case_record_police_outcome(
                actor=oic_b, case=case_a, outcome="nfa", on=TODAY, reason="R.", today=TODAY
            )


class TestRestrict:
    def test_only_a_police_perpetrated_case_can_be_restricted(self, supervisor_a, case_a):
        with pytest.raises(TransitionError):
            case_restrict(actor=supervisor_a, case=case_a, users=[], reason="Sensitive.")
        case_a.refresh_from_db()
        assert not case_a.restricted

    def test_restriction_limits_the_case_to_the_named_people(self, supervisor_a, oic_a, force_a):
        case = CaseFactory(actor=oic_a, police_perpetrated=True)
        other_oic = UserFactory(organisation=force_a, roles=[Role.OIC])
        assert Case.objects.visible_to(other_oic).filter(pk=case.pk).exists()
        case_restrict(
            actor=supervisor_a, case=case, users=[oic_a], reason="The suspect is a serving officer."
        )
        case.refresh_from_db()
        assert case.restricted
        assert set(case.restricted_to.all()) == {supervisor_a, oic_a}
        assert Case.objects.visible_to(oic_a).filter(pk=case.pk).exists()
        assert not Case.objects.visible_to(other_oic).filter(pk=case.pk).exists()
        event = last_event(case)
        assert (event.kind, event.actor) == ("restricted", supervisor_a)

    def test_restriction_needs_a_supervisor_and_a_reason(self, supervisor_a, oic_a):
        case = CaseFactory(actor=oic_a, police_perpetrated=True)
        with pytest.raises(PermissionDenied):
            case_restrict(actor=oic_a, case=case, users=[], reason="Serving officer.")
        with pytest.raises(ValidationError):
            case_restrict(actor=supervisor_a, case=case, users=[], reason=" ")
        case.refresh_from_db()
        assert not case.restricted and not case.restricted_to.exists()


class TestProgress:
    def test_charged_to_court_to_concluded(self, oic_a, prosecutor_a, dec_case, decided):
        victim_add(actor=oic_a, case=dec_case, given_name="Vic", family_name="Tim")
        charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        case_progress(actor=oic_a, case=dec_case, to="at_court", on=D(2026, 1, 20))
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.AT_COURT
        assert (last_event(dec_case).kind, last_event(dec_case).actor) == ("case_at_court", oic_a)
        case_progress(
            actor=prosecutor_a, case=dec_case, to="concluded", on=D(2026, 2, 20), reason="Convicted."
        )
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.CONCLUDED
        assert (last_event(dec_case).kind, last_event(dec_case).actor) == ("case_concluded", prosecutor_a)
        assert set(dec_case.clocks.open().values_list("kind", flat=True)) <= {
            Clock.Kind.VICTIM_UPDATE,
            Clock.Kind.SUPPORT_REFERRAL,
        }
        with pytest.raises(TransitionError):
            case_progress(actor=oic_a, case=dec_case, to="at_court", on=D(2026, 2, 21))

    def test_charged_can_conclude_directly(self, oic_a, dec_case, decided):
        charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        case_progress(actor=oic_a, case=dec_case, to="concluded", on=D(2026, 1, 20))
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.CONCLUDED

    @pytest.mark.parametrize("to", ["at_court", "concluded"])
    def test_refused_before_charge(self, oic_a, dec_case, decided, to):
        before = snapshot()
        with pytest.raises(TransitionError):
            case_progress(actor=oic_a, case=dec_case, to=to, on=TODAY)
        assert snapshot() == before
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.DECIDED

    def test_court_twice_is_refused(self, oic_a, dec_case, decided):
        charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        case_progress(actor=oic_a, case=dec_case, to="at_court", on=D(2026, 1, 20))
        with pytest.raises(TransitionError):
            case_progress(actor=oic_a, case=dec_case, to="at_court", on=D(2026, 1, 21))

    def test_progress_dated_before_the_charge_is_refused(self, oic_a, dec_case, decided):
        charging.charge_record(actor=oic_a, case=dec_case, charged_on=CHARGED, today=TODAY)
        with pytest.raises(ValidationError):
            case_progress(actor=oic_a, case=dec_case, to="at_court", on=CHARGED - days(30))
        dec_case.refresh_from_db()
        assert dec_case.status == Case.Status.CHARGED

    def test_only_court_or_conclusion_can_be_reached_here(self, oic_a, case_a):
        with pytest.raises(ValidationError) as exc:
            case_progress(actor=oic_a, case=case_a, to="charged", on=TODAY)
        assert "to" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------------------------
# The timeline and the audit history
# ---------------------------------------------------------------------------------------------------------------


def test_every_state_change_is_on_the_timeline_with_its_actor(oic_a, supervisor_a, prosecutor_a):
    at = datetime.datetime(2026, 3, 2, 10, 30, tzinfo=GMT)
    with time_machine.travel(at, tick=False):
        case = CaseFactory(actor=oic_a, reported_on=REPORTED)
        victim_add(actor=oic_a, case=case, given_name="Vic", family_name="Tim")
        ref1 = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)
        charging.referral_triage(
            actor=prosecutor_a,
            referral=ref1,
            accept=False,
            on=D(2025, 12, 16),
            reasons=["no_mg3"],
            respond_by=D(2025, 12, 23),
            today=TODAY,
        )
        ref2 = charging.case_refer_to_cps(
            actor=supervisor_a, case=case, received_on=D(2025, 12, 17), today=TODAY
        )
        charging.referral_triage(
            actor=prosecutor_a, referral=ref2, accept=True, on=D(2025, 12, 17), today=TODAY
        )
        plan = charging.action_plan_issue(
            actor=prosecutor_a,
            referral=ref2,
            decided_on=D(2025, 12, 18),
            reasons="More needed.",
            respond_by=D(2026, 1, 2),
            today=TODAY,
            actions=[{"description": "CCTV", "due_on": D(2025, 12, 30)}],
        )
        charging.action_update(
            actor=oic_a, action=plan.actions.get(), status="completed", on=D(2025, 12, 29), today=TODAY
        )
        ref3 = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2025, 12, 30), today=TODAY)
        charging.decision_record(
            actor=prosecutor_a,
            referral=ref3,
            outcome="charge",
            test="full_code",
            decided_on=D(2026, 1, 5),
            reasons="Met.",
            today=TODAY,
        )
        charging.charge_record(actor=oic_a, case=case, charged_on=D(2026, 1, 6), today=TODAY)
        case_progress(actor=oic_a, case=case, to="at_court", on=D(2026, 1, 20))
        case_progress(actor=prosecutor_a, case=case, to="concluded", on=D(2026, 2, 20))
    timeline = [(e.kind, e.actor.username) for e in case.events.all()]
    assert timeline == [
        ("case_created", "oic-a"),
        ("victim_added", "oic-a"),
        ("referred", "oic-a"),
        ("triage_rejected", "prosecutor-a"),
        ("referred", "supervisor-a"),
        ("triage_accepted", "prosecutor-a"),
        ("action_plan", "prosecutor-a"),
        ("action_updated", "oic-a"),
        ("referred", "oic-a"),
        ("decision", "prosecutor-a"),
        ("charged", "oic-a"),
        ("case_at_court", "oic-a"),
        ("case_concluded", "prosecutor-a"),
    ]
    assert {e.occurred_at for e in case.events.all()} == {at}
    assert [r.sequence for r in case.referrals.all()] == [1, 2, 3]


def test_case_history_records_who_created_and_referred_it(oic_a, area_a):
    case = CaseFactory(actor=oic_a, reported_on=TODAY - days(10))
    charging.case_refer_to_cps(actor=oic_a, case=case, received_on=TODAY, today=TODAY)
    assert case.history.model._meta.label == "cases.CaseHistory"
    rows = list(case.history.order_by("pgh_id"))
    assert rows[0].pgh_label == "insert" and rows[0].status == Case.Status.INVESTIGATION
    updates = [r for r in rows if r.pgh_label == "update"]
    assert updates and updates[-1].status == Case.Status.REFERRED and updates[-1].cps_area_id == area_a.pk
    for row in rows:
        assert row.pgh_context is not None
        assert row.pgh_context.metadata["user"] == oic_a.pk
    assert rows[0].pgh_context.metadata["reason"] == "case_create"
    assert updates[-1].pgh_context.metadata["reason"] == "case_refer_to_cps"


def test_time_with_each_side_across_submissions(oic_a, prosecutor_a):
    """Submission 1: received Mon 2 Feb 2026, action plan Fri 6 Feb (4 working days with CPS); police
    resubmit Mon 16 Feb (10 days on the plan); decision Wed 18 Feb (2 more working days)."""
    from charging.selectors import time_with_each_side

    d = datetime.date
    case = create(oic_a, reported_on=d(2026, 1, 26), offences=[offence("OAPA-47", d(2026, 1, 26))])
    ref = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=d(2026, 2, 2), today=TODAY)
    charging.action_plan_issue(
        actor=prosecutor_a,
        referral=ref,
        decided_on=d(2026, 2, 6),
        today=TODAY,
        reasons="More needed.",
        respond_by=d(2026, 2, 20),
        actions=[{"description": "X"}],
    )
    ref2 = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=d(2026, 2, 16), today=TODAY)
    charging.decision_record(
        actor=prosecutor_a,
        referral=ref2,
        outcome="charge",
        test="full_code",
        decided_on=d(2026, 2, 18),
        reasons="Met.",
        today=TODAY,
    )
    t = time_with_each_side(case, today=TODAY)
    assert (t.cps_working_days, t.police_days_on_action_plans, t.submissions) == (6, 10, 2)
