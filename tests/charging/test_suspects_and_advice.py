"""Issue 15, charging: decisions and charges per suspect and offence, early advice apart from charging referrals,
and amending an issued action plan. Services first, then the same steps through the web (the API's are in
tests/api/test_api_suspects_and_advice.py).

A case with two suspects: Ann Able (common assault) and Ben Baker (common assault and criminal damage). Dates:
reported Mon 16 Feb 2026, referred Fri 20 Feb, decided Fri 27 Feb (charge clock due Fri 6 Mar), TODAY Mon 2 Mar.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.models import Alert, Case, Clock, Offence, Person
from cases.services import TransitionError, case_create
from charging import services as charging
from charging.models import Action, Charge, ChargingDecision, DecisionOutcome
from tests.conftest import TODAY
from victims.services import victim_add

pytestmark = pytest.mark.django_db

D = datetime.date
LONDON = zoneinfo.ZoneInfo("Europe/London")
REPORTED, COMMITTED = D(2026, 2, 16), D(2026, 2, 15)
RECEIVED, DECIDED = D(2026, 2, 20), D(2026, 2, 27)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, 0, tzinfo=LONDON), tick=False):
        yield


def _two_suspect_case(oic, urn: str = "TWO-1") -> Case:
    """The case, with each offence naming its suspect (set directly: naming suspects is another step's work)."""
    case = case_create(
        actor=oic,
        urn=urn,
        reported_on=REPORTED,
        offences=[
            {"offence_type": "CJA88-39", "committed_on": COMMITTED},
            {"offence_type": "CJA88-39", "committed_on": COMMITTED},
            {"offence_type": "CDA71-1", "committed_on": COMMITTED},
        ],
        suspects=[
            {"given_name": "Ann", "family_name": "Able"},
            {"given_name": "Ben", "family_name": "Baker"},
        ],
        today=TODAY,
    )
    ann = Person.objects.get(given_name="Ann", cases=case)
    ben = Person.objects.get(given_name="Ben", cases=case)
    first, second, third = case.offences.order_by("pk")
    Offence.objects.filter(pk=first.pk).update(suspect=ann)
    Offence.objects.filter(pk__in=[second.pk, third.pk]).update(suspect=ben)
    return case


@pytest.fixture
def case(oic_a):
    return _two_suspect_case(oic_a)


@pytest.fixture
def offences(case):
    """Ann's assault, Ben's assault, Ben's criminal damage."""
    return list(case.offences.order_by("pk"))


@pytest.fixture
def referral(oic_a, case):
    return charging.case_refer_to_cps(actor=oic_a, case=case, received_on=RECEIVED, today=TODAY)


def _decide_ann_charged_ben_nfa(prosecutor, referral, offences) -> ChargingDecision:
    ann, ben_assault, ben_damage = offences
    return charging.decision_record(
        actor=prosecutor,
        referral=referral,
        decided_on=DECIDED,
        reasons="Ann: the Full Code Test is met. Ben: no realistic prospect of conviction.",
        test="full_code",
        outcomes=[
            {"offence": ann, "outcome": "charge"},
            {"offence": ben_assault, "outcome": "nfa", "code_test_failed": "evidential"},
            {
                "offence": ben_damage,
                "outcome": "nfa",
                "code_test_failed": "evidential",
                "reasons": "No CCTV.",
            },
        ],
        today=TODAY,
    )


# --------------------------------------------------------------------------------------------------------------
# Decisions per suspect and offence
# --------------------------------------------------------------------------------------------------------------


class TestMixedDecision:
    def test_charge_one_suspect_and_nfa_the_other(self, oic_a, prosecutor_a, case, offences, referral):
        victim_add(actor=oic_a, case=case, given_name="Vic", family_name="Tim")
        decision = _decide_ann_charged_ben_nfa(prosecutor_a, referral, offences)
        case.refresh_from_db()
        ann, ben_assault, ben_damage = offences

        assert decision.outcome == "charge", "the overall result: someone is charged"
        assert case.status == Case.Status.DECIDED, "the charge path, for Ann"
        rows = {r.offence_id: r for r in decision.offence_outcomes.all()}
        assert {pk: (r.outcome, r.code_test_failed, str(r.suspect)) for pk, r in rows.items()} == {
            ann.pk: ("charge", "", "Ann Able"),
            ben_assault.pk: ("nfa", "evidential", "Ben Baker"),
            ben_damage.pk: ("nfa", "evidential", "Ben Baker"),
        }
        assert rows[ben_damage.pk].reasons == "No CCTV."

        charge_clock = case.clocks.get(kind=Clock.Kind.CHARGE)
        assert (charge_clock.started_on, charge_clock.due_on, charge_clock.stopped_on) == (
            DECIDED,
            D(2026, 3, 6),
            None,
        )
        assert charge_clock.label == "Charge the suspect"
        stl = {c.offence_id: c for c in case.clocks.filter(kind=Clock.Kind.STL)}
        assert stl[ann.pk].stopped_on is None, "Ann's time limit runs until she is charged"
        assert (stl[ben_assault.pk].state, stl[ben_assault.pk].stopped_on) == ("cancelled", DECIDED)
        update = case.clocks.get(kind=Clock.Kind.VICTIM_UPDATE)
        assert update.stopped_on is None and update.started_on == DECIDED
        assert "charge for Ann Able; no further action for Ben Baker" in update.label
        event = case.events.get(kind="decision")
        assert event.summary == (
            "CPS decision: charge for Ann Able; no further action for Ben Baker (Full Code Test)"
        )
        assert event.data["offences"] == {
            str(ann.pk): "charge",
            str(ben_assault.pk): "nfa",
            str(ben_damage.pk): "nfa",
        }

    def test_nobody_charged_closes_the_case_as_before(self, prosecutor_a, case, offences, referral):
        ann, ben_assault, ben_damage = offences
        decision = charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            decided_on=DECIDED,
            reasons="Ann: out of court. Ben: not in the public interest.",
            outcomes=[
                {"offence": ann, "outcome": "out_of_court"},
                {"offence": ben_assault, "outcome": "nfa", "code_test_failed": "public_interest"},
                {"offence": ben_damage, "outcome": "nfa", "code_test_failed": "public_interest"},
            ],
            today=TODAY,
        )
        case.refresh_from_db()
        assert decision.outcome == "out_of_court" and case.status == Case.Status.OUT_OF_COURT
        assert not case.clocks.open().exclude(kind__in=[Clock.Kind.VICTIM_UPDATE]).exists()

    def test_one_outcome_for_every_offence_still_works(self, prosecutor_a, case, offences, referral):
        decision = charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            outcome="nfa",
            code_test_failed="public_interest",
            decided_on=DECIDED,
            reasons="Not in the public interest.",
            today=TODAY,
        )
        assert (
            sorted(decision.offence_outcomes.values_list("outcome", "code_test_failed"))
            == [("nfa", "public_interest")] * 3
        )
        case.refresh_from_db()
        assert case.status == Case.Status.NO_FURTHER_ACTION

    @pytest.mark.parametrize(
        ("outcomes", "field", "message"),
        [
            ([("charge", "")], "outcomes", "missing: Common assault / battery (Ben Baker); Criminal damage"),
            (
                [("charge", ""), ("nfa", ""), ("nfa", "evidential")],
                "outcomes[1].code_test_failed",
                "evidential or public",
            ),
            (
                [("charge", "evidential"), ("nfa", "evidential"), ("nfa", "evidential")],
                "outcomes[0].code_test_failed",
                "Only",
            ),
            (
                [("further_evidence", ""), ("nfa", "evidential"), ("nfa", "evidential")],
                "outcomes[0].outcome",
                "action plan",
            ),
        ],
    )
    def test_refused_outcomes_save_nothing(
        self, prosecutor_a, case, offences, referral, outcomes, field, message
    ):
        specs = [
            {"offence": o, "outcome": outcome, "code_test_failed": stage}
            for o, (outcome, stage) in zip(offences, outcomes, strict=False)
        ]
        with pytest.raises(ValidationError) as exc:
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                decided_on=DECIDED,
                reasons="R.",
                test="full_code",
                outcomes=specs,
                today=TODAY,
            )
        assert message in " ".join(exc.value.message_dict[field])
        assert not ChargingDecision.objects.exists() and not DecisionOutcome.objects.exists()

    def test_another_cases_offence_and_a_contradicting_outcome_are_refused(
        self, oic_a, prosecutor_a, case, offences, referral
    ):
        other = _two_suspect_case(oic_a, urn="TWO-2").offences.first()
        rows = [{"offence": o, "outcome": "charge"} for o in offences]
        with pytest.raises(ValidationError) as exc:
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                decided_on=DECIDED,
                reasons="R.",
                test="full_code",
                outcomes=[*rows[:2], {"offence": other, "outcome": "charge"}],
                today=TODAY,
            )
        assert "outcomes[2].offence" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            charging.decision_record(
                actor=prosecutor_a,
                referral=referral,
                decided_on=DECIDED,
                reasons="R.",
                test="full_code",
                outcome="nfa",
                outcomes=rows,
                today=TODAY,
            )
        assert "make the decision 'charge'" in exc.value.message_dict["outcome"][0]

    def test_an_action_plan_records_further_evidence_for_every_offence(
        self, prosecutor_a, offences, referral
    ):
        plan = charging.action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=DECIDED,
            reasons="More.",
            respond_by=D(2026, 3, 13),
            actions=[{"description": "CCTV", "due_on": D(2026, 3, 6)}],
            today=TODAY,
        )
        assert (
            list(plan.decision.offence_outcomes.values_list("outcome", flat=True)) == ["further_evidence"] * 3
        )


# --------------------------------------------------------------------------------------------------------------
# Charges per suspect: offences, bail or remand, first hearing
# --------------------------------------------------------------------------------------------------------------


class TestChargePerSuspect:
    @pytest.fixture
    def both_charged(self, prosecutor_a, offences, referral):
        return charging.decision_record(
            actor=prosecutor_a,
            referral=referral,
            outcome="charge",
            test="threshold",
            decided_on=DECIDED,
            reasons="Both.",
            today=TODAY,
        )

    def test_each_suspect_is_charged_separately_and_the_last_stops_the_charge_clock(
        self, oic_a, case, offences, both_charged
    ):
        ann, ben_assault, ben_damage = offences
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(actor=oic_a, case=case, charged_on=TODAY, today=TODAY)
        assert "more than one suspect" in exc.value.message_dict["offences"][0]
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(
                actor=oic_a, case=case, charged_on=TODAY, offences=[ann, ben_assault], today=TODAY
            )
        assert "different suspects" in exc.value.message_dict["offences"][0]

        first = charging.charge_record(
            actor=oic_a,
            case=case,
            charged_on=D(2026, 2, 28),
            offences=[ann],
            bail="remand",
            first_hearing_on=D(2026, 3, 2),
            court="Manchester and Salford Magistrates' Court",
            today=TODAY,
        )
        case.refresh_from_db()
        assert (first.suspect.given_name, first.bail, first.first_hearing_on, first.court) == (
            "Ann",
            "remand",
            D(2026, 3, 2),
            "Manchester and Salford Magistrates' Court",
        )
        assert case.status == Case.Status.DECIDED, "Ben is still to be charged"
        assert case.clocks.get(kind=Clock.Kind.CHARGE).stopped_on is None
        assert case.clocks.get(kind=Clock.Kind.STL, offence=ann).state == "met"
        assert case.clocks.get(kind=Clock.Kind.STL, offence=ben_assault).stopped_on is None
        assert case.events.filter(kind="charged").get().summary == (
            "Charged Ann Able with 1 offence; remanded in custody, first hearing 02 March 2026 at Manchester and "
            "Salford Magistrates' Court; 2 offences still to charge"
        )
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(actor=oic_a, case=case, charged_on=TODAY, offences=[ann], today=TODAY)
        assert "charged already" in exc.value.message_dict["offences"][0]

        second = charging.charge_record(actor=oic_a, case=case, charged_on=TODAY, bail="bail", today=TODAY)
        case.refresh_from_db()
        assert sorted(o.pk for o in second.offences.all()) == [ben_assault.pk, ben_damage.pk], (
            "the rest, Ben's"
        )
        assert case.status == Case.Status.CHARGED
        charge_clock = case.clocks.get(kind=Clock.Kind.CHARGE)
        assert (charge_clock.stopped_on, charge_clock.state) == (TODAY, "met")

    def test_only_offences_the_decision_charged_can_be_charged(
        self, oic_a, prosecutor_a, case, offences, referral
    ):
        _decide_ann_charged_ben_nfa(prosecutor_a, referral, offences)
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(
                actor=oic_a, case=case, charged_on=TODAY, offences=[offences[1]], today=TODAY
            )
        assert "not one the decision said to charge" in exc.value.message_dict["offences"][0]
        charge = charging.charge_record(actor=oic_a, case=case, charged_on=TODAY, today=TODAY)
        assert [o.pk for o in charge.offences.all()] == [offences[0].pk]
        case.refresh_from_db()
        assert case.status == Case.Status.CHARGED

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"bail": "parole"}, "bail"),
            ({"first_hearing_on": D(2026, 2, 27)}, "first_hearing_on"),
        ],
    )
    def test_bad_bail_or_hearing_is_refused(self, oic_a, case, offences, both_charged, kwargs, field):
        with pytest.raises(ValidationError) as exc:
            charging.charge_record(
                actor=oic_a,
                case=case,
                charged_on=D(2026, 2, 28),
                offences=[offences[0]],
                today=TODAY,
                **kwargs,
            )
        assert field in exc.value.message_dict
        assert not Charge.objects.exists()


# --------------------------------------------------------------------------------------------------------------
# Early advice is not a charging referral
# --------------------------------------------------------------------------------------------------------------


class TestEarlyAdvice:
    def test_a_request_stops_no_clock_and_opens_none(self, oic_a, prosecutor_a, case, area_a):
        investigation = case.clocks.get(kind=Clock.Kind.INVESTIGATION)
        request = charging.early_advice_request(
            actor=oic_a,
            case=case,
            requested_on=D(2026, 2, 18),
            question="Is the 999 call enough?",
            today=TODAY,
        )
        case.refresh_from_db()
        investigation.refresh_from_db()
        assert case.status == Case.Status.INVESTIGATION
        assert case.cps_area == area_a, "the Area's prosecutors can now see the case"
        assert Case.objects.visible_to(prosecutor_a).filter(pk=case.pk).exists()
        assert investigation.stopped_on is None and investigation.due_on == D(2026, 3, 9)
        assert not case.clocks.filter(kind=Clock.Kind.CHARGING_DECISION).exists()
        assert not case.referrals.exists()
        assert case.events.order_by("-pk").first().kind == "early_advice_requested"

        with pytest.raises(TransitionError):
            charging.early_advice_request(
                actor=oic_a, case=case, requested_on=TODAY, question="Again?", today=TODAY
            )
        with pytest.raises(PermissionDenied):
            charging.early_advice_give(
                actor=oic_a, request=request, given_on=TODAY, advice="Self-help.", today=TODAY
            )
        with pytest.raises(ValidationError) as exc:
            charging.early_advice_give(
                actor=prosecutor_a, request=request, given_on=D(2026, 2, 17), advice="x", today=TODAY
            )
        assert "given_on" in exc.value.message_dict

        given = charging.early_advice_give(
            actor=prosecutor_a,
            request=request,
            given_on=D(2026, 2, 19),
            advice="Get the 999 call.",
            today=TODAY,
        )
        assert (given.given_on, given.given_by, given.advice) == (
            D(2026, 2, 19),
            prosecutor_a,
            "Get the 999 call.",
        )
        investigation.refresh_from_db()
        assert investigation.stopped_on is None

        # Only the full file stops the investigation clock (met: referred by the due date).
        charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 24), today=TODAY)
        investigation.refresh_from_db()
        assert (investigation.stopped_on, investigation.state) == (D(2026, 2, 24), "met")

    def test_a_referral_for_early_advice_is_refused(self, oic_a, case):
        with pytest.raises(ValidationError) as exc:
            charging.case_refer_to_cps(
                actor=oic_a, case=case, received_on=D(2026, 2, 18), kind="early_advice", today=TODAY
            )
        assert "not a charging referral" in exc.value.message_dict["kind"][0]
        assert not case.referrals.exists()
        assert case.clocks.get(kind=Clock.Kind.INVESTIGATION).stopped_on is None


# --------------------------------------------------------------------------------------------------------------
# Action plans: no action due after the response date; amending an issued plan
# --------------------------------------------------------------------------------------------------------------


class TestActionPlanAmend:
    @pytest.fixture
    def plan(self, prosecutor_a, referral):
        return charging.action_plan_issue(
            actor=prosecutor_a,
            referral=referral,
            decided_on=D(2026, 2, 24),
            reasons="More is needed.",
            respond_by=D(2026, 3, 6),
            actions=[{"description": "Obtain the 999 call", "due_on": D(2026, 3, 4)}],
            today=TODAY,
        )

    def test_an_action_due_after_the_response_date_is_refused_at_issue(self, prosecutor_a, referral):
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_issue(
                actor=prosecutor_a,
                referral=referral,
                decided_on=D(2026, 2, 24),
                reasons="More.",
                respond_by=D(2026, 3, 6),
                actions=[{"description": "A"}, {"description": "Late", "due_on": D(2026, 3, 9)}],
                today=TODAY,
            )
        assert (
            "after the plan's response date (06 March 2026)" in exc.value.message_dict["actions[1].due_on"][0]
        )

    def test_cps_adds_an_action_and_moves_dates_with_a_reason(self, oic_a, prosecutor_a, case, plan):
        case.oic.email = "oic-a@example.invalid"
        case.oic.save()
        action = plan.actions.get()
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_amend(
                actor=prosecutor_a,
                plan=plan,
                on=TODAY,
                reason="The phone download takes longer.",
                add=[{"description": "Download the phone", "due_on": D(2026, 3, 12)}],
                today=TODAY,
            )
        assert "move the response date" in exc.value.message_dict["add[0].due_on"][0]
        assert plan.actions.count() == 1

        charging.action_plan_amend(
            actor=prosecutor_a,
            plan=plan,
            on=TODAY,
            reason="The phone download takes longer.",
            respond_by=D(2026, 3, 13),
            add=[{"description": "Download the phone", "due_on": D(2026, 3, 12)}],
            moves=[{"action": action, "due_on": D(2026, 3, 10)}],
            today=TODAY,
        )
        plan.refresh_from_db()
        action.refresh_from_db()
        assert plan.respond_by == D(2026, 3, 13)
        assert (action.due_on, action.latest_reason) == (D(2026, 3, 10), "The phone download takes longer.")
        assert action.clocks.get().due_on == D(2026, 3, 10), "the action's clock follows its new date"
        added = plan.actions.get(description="Download the phone")
        assert (added.clocks.get().started_on, added.clocks.get().due_on) == (TODAY, D(2026, 3, 12))
        summaries = list(
            case.events.filter(kind="action_plan_amended").order_by("pk").values_list("summary", "reason")
        )
        assert summaries == [
            (
                "Action plan response date moved from 06 March 2026 to 13 March 2026",
                "The phone download takes longer.",
            ),
            (
                "Action date moved from 04 March 2026 to 10 March 2026: Obtain the 999 call",
                "The phone download takes longer.",
            ),
            (
                "Action added to the action plan: Download the phone (required by 12 March 2026)",
                "The phone download takes longer.",
            ),
        ]
        alert = Alert.objects.get(threshold=charging.PLAN_AMENDED_THRESHOLD)
        assert (alert.recipient, alert.case, alert.day, alert.status) == (oic_a, case, TODAY, "pending")
        assert "3 changes" in alert.body_text and "13 March 2026" in alert.body_text

    def test_police_may_move_a_date_but_not_add_or_move_the_response_date(
        self, oic_a, prosecutor_a, case, plan
    ):
        prosecutor_a.email = "prosecutor-a@example.invalid"
        prosecutor_a.save()
        action = plan.actions.get()
        with pytest.raises(PermissionDenied):
            charging.action_plan_amend(
                actor=oic_a, plan=plan, on=TODAY, reason="R.", respond_by=D(2026, 3, 20), today=TODAY
            )
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_amend(
                actor=oic_a,
                plan=plan,
                on=TODAY,
                reason="Awaiting the provider.",
                moves=[{"action": action, "due_on": D(2026, 3, 9)}],
                today=TODAY,
            )
        assert "after the plan's response date" in exc.value.message_dict["moves[0].due_on"][0]
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_amend(
                actor=oic_a,
                plan=plan,
                on=TODAY,
                reason=" ",
                moves=[{"action": action, "due_on": D(2026, 3, 5)}],
                today=TODAY,
            )
        assert "reason" in exc.value.message_dict
        charging.action_plan_amend(
            actor=oic_a,
            plan=plan,
            on=TODAY,
            reason="Awaiting the provider.",
            moves=[{"action": action, "due_on": D(2026, 3, 5)}],
            today=TODAY,
        )
        action.refresh_from_db()
        assert action.due_on == D(2026, 3, 5)
        alert = Alert.objects.get(threshold=charging.PLAN_AMENDED_THRESHOLD)
        assert alert.recipient == prosecutor_a, "police changed it: the prosecutor who issued it is told"
        assert "Greater Manchester Police amended the action plan" in alert.body_text

    def test_the_response_date_cannot_move_before_an_open_action(self, prosecutor_a, plan):
        with pytest.raises(ValidationError) as exc:
            charging.action_plan_amend(
                actor=prosecutor_a,
                plan=plan,
                on=TODAY,
                reason="Sooner.",
                respond_by=D(2026, 3, 3),
                today=TODAY,
            )
        assert "Obtain the 999 call' is due on 04 March 2026" in exc.value.message_dict["respond_by"][0]

    def test_a_resubmitted_plan_cannot_be_amended(self, oic_a, prosecutor_a, case, plan):
        charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 2, 27), today=TODAY)
        plan.refresh_from_db()
        with pytest.raises(TransitionError):
            charging.action_plan_amend(
                actor=prosecutor_a, plan=plan, on=TODAY, reason="R.", respond_by=D(2026, 3, 20), today=TODAY
            )


# --------------------------------------------------------------------------------------------------------------
# Two suspects end to end: the web
# --------------------------------------------------------------------------------------------------------------


def test_two_suspects_through_the_web(client, oic_a, prosecutor_a, case, offences):
    ann, ben_assault, ben_damage = offences
    url = lambda step: reverse("case_step", args=[case.pk, step])  # noqa: E731
    client.force_login(oic_a)
    r = client.post(
        url("early-advice"), {"early-advice-requested_on": "2026-02-18", "early-advice-question": "Enough?"}
    )
    assert r.status_code == 302
    assert case.clocks.get(kind=Clock.Kind.INVESTIGATION).stopped_on is None
    assert client.post(url("refer"), {"refer-received_on": "2026-02-20"}).status_code == 302

    client.force_login(prosecutor_a)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "Give early advice" in page and "Outcome for Ann Able: Common assault" in page
    r = client.post(
        url("early-advice-give"),
        {"early-advice-give-given_on": "2026-02-19", "early-advice-give-advice": "Yes."},
    )
    assert r.status_code == 302
    r = client.post(
        url("decide"),
        {
            "decide-outcome": "charge",
            "decide-test": "full_code",
            "decide-decided_on": "2026-02-27",
            "decide-reasons": "Ann charged; Ben not.",
            f"decide-offence_{ben_assault.pk}": "nfa:evidential",
            f"decide-offence_{ben_damage.pk}": "nfa:public_interest",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    decision = ChargingDecision.objects.get(outcome="charge")
    assert sorted(decision.offence_outcomes.values_list("offence_id", "outcome", "code_test_failed")) == [
        (ann.pk, "charge", ""),
        (ben_assault.pk, "nfa", "evidential"),
        (ben_damage.pk, "nfa", "public_interest"),
    ]

    client.force_login(oic_a)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    charge_step = page[page.index('id="step-charge"') :]
    charge_step = charge_step[: charge_step.index("</details>")]
    assert f'value="{ann.pk}"' in charge_step and f'value="{ben_assault.pk}"' not in charge_step, (
        "only the offences the decision said to charge"
    )
    assert (
        "Ben Baker: Common assault / battery: <strong>No further action</strong> (evidential stage not met)"
        in page
    )
    assert "Early advice" in page and "Yes." in page
    r = client.post(
        url("charge"),
        {
            "charge-offences": [ann.pk],
            "charge-charged_on": "2026-03-02",
            "charge-bail": "bail",
            "charge-first_hearing_on": "2026-03-16",
            "charge-court": "Manchester Magistrates' Court",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    case.refresh_from_db()
    assert case.status == Case.Status.CHARGED
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert (
        "Ann Able charged on 2 March 2026; released on bail; first hearing 16 March 2026 at Manchester"
        in page
    )


def test_the_decision_form_needs_an_outcome_for_every_offence(client, prosecutor_a, case, offences, referral):
    client.force_login(prosecutor_a)
    r = client.post(
        reverse("case_step", args=[case.pk, "decide"]),
        {
            "decide-test": "full_code",
            "decide-decided_on": "2026-02-27",
            "decide-reasons": "R.",
            f"decide-offence_{offences[0].pk}": "charge",
        },
    )
    assert r.status_code == 400
    assert "Choose an outcome for every offence" in r.content.decode()
    assert not ChargingDecision.objects.exists()


def test_amending_the_plan_through_the_web(client, prosecutor_a, case, referral):
    plan = charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=D(2026, 2, 24),
        reasons="More.",
        respond_by=D(2026, 3, 6),
        actions=[{"description": "Obtain the 999 call", "due_on": D(2026, 3, 4)}],
        today=TODAY,
    )
    action = plan.actions.get()
    client.force_login(prosecutor_a)
    step = reverse("case_step", args=[case.pk, "action-plan-amend"])
    data = {
        "action-plan-amend-on": "2026-03-02",
        "action-plan-amend-reason": "The provider is slow.",
        "action-plan-amend-action": action.pk,
        "action-plan-amend-due_on": "2026-03-09",
    }
    r = client.post(step, data)
    assert r.status_code == 400 and "move the response date too" in r.content.decode()
    r = client.post(
        step,
        {
            **data,
            "action-plan-amend-respond_by": "2026-03-11",
            "action-plan-amend-add": "Neighbour | 2026-03-10",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    plan.refresh_from_db()
    action.refresh_from_db()
    assert (plan.respond_by, action.due_on) == (D(2026, 3, 11), D(2026, 3, 9))
    assert Action.objects.filter(plan=plan, description="Neighbour", due_on=D(2026, 3, 10)).exists()
