"""Action plans under joint governance: police supervision rates proportionality; a disproportionate plan is
escalated (raised by a police supervisor, answered by the CPS legal manager, resolved), each step dated and on
the timeline; an incomplete action's reason comes from the shared list. Refused calls save nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import CaseEvent
from cases.services import TransitionError
from charging import services as charging
from charging.models import Action, ActionPlanEscalation, ActionPlanRating
from governance import plan_services as gov
from tests.conftest import TODAY
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date
ISSUED = D(2026, 2, 2)


def counts() -> dict[str, int]:
    return {
        "ratings": ActionPlanRating.objects.count(),
        "escalations": ActionPlanEscalation.objects.count(),
        "events": CaseEvent.objects.count(),
    }


@pytest.fixture
def plan(oic_a, prosecutor_a):
    case = CaseFactory(actor=oic_a, reported_on=D(2026, 1, 20))
    referral = charging.case_refer_to_cps(actor=oic_a, case=case, received_on=D(2026, 1, 27), today=TODAY)
    return charging.action_plan_issue(
        actor=prosecutor_a,
        referral=referral,
        decided_on=ISSUED,
        reasons="More needed.",
        respond_by=D(2026, 2, 23),
        actions=[
            {"description": "Download the victim's phone in full", "due_on": D(2026, 2, 16)},
            {"description": "Statement from the neighbour", "due_on": D(2026, 2, 16)},
        ],
        today=TODAY,
    )


@pytest.fixture
def disproportionate(plan, supervisor_a):
    gov.action_plan_rate(
        actor=supervisor_a,
        plan=plan,
        rating="disproportionate",
        on=D(2026, 2, 3),
        notes="A full download is not needed to charge.",
        today=TODAY,
    )
    return plan


class TestRating:
    def test_a_police_supervisor_rates_the_plan_once(self, plan, supervisor_a):
        rating = gov.action_plan_rate(
            actor=supervisor_a, plan=plan, rating="proportionate", on=D(2026, 2, 3), today=TODAY
        )
        assert (rating.rating, rating.rated_by, rating.rated_on) == (
            "proportionate",
            supervisor_a,
            D(2026, 2, 3),
        )
        assert plan.case.events.filter(kind="action_plan_rated").exists()
        before = counts()
        with pytest.raises(TransitionError):
            gov.action_plan_rate(
                actor=supervisor_a,
                plan=plan,
                rating="disproportionate",
                on=D(2026, 2, 4),
                notes="x",
                today=TODAY,
            )
        assert counts() == before

    @pytest.mark.parametrize("who", ["oic_a", "prosecutor_a", "legal_manager_a", "supervisor_b"])
    def test_only_a_supervisor_who_can_see_the_case(self, plan, who, request):
        before = counts()
        with pytest.raises(PermissionDenied):
            gov.action_plan_rate(
                actor=request.getfixturevalue(who),
                plan=plan,
                rating="proportionate",
                on=D(2026, 2, 3),
                today=TODAY,
            )
        assert counts() == before

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"rating": "fine"}, "rating"),
            ({"rating": "disproportionate", "notes": " "}, "notes"),
            ({"rating": "proportionate", "on": D(2026, 2, 1)}, "on"),  # before the plan
            ({"rating": "proportionate", "on": D(2026, 3, 3)}, "on"),  # in the future
        ],
    )
    def test_bad_input_names_the_field(self, plan, supervisor_a, kwargs, field):
        kwargs = {"on": D(2026, 2, 3), **kwargs}
        with pytest.raises(ValidationError) as exc:
            gov.action_plan_rate(actor=supervisor_a, plan=plan, today=TODAY, **kwargs)
        assert field in exc.value.message_dict
        assert not ActionPlanRating.objects.exists()


class TestEscalation:
    def test_the_whole_workflow_with_its_timeline(self, disproportionate, supervisor_a, legal_manager_a):
        plan = disproportionate
        e = gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=plan, on=D(2026, 2, 4), grounds="Overbuild: phone download.", today=TODAY
        )
        assert (e.status, e.raised_by, e.raised_on) == ("raised", supervisor_a, D(2026, 2, 4))
        e = gov.action_plan_escalation_answer(
            actor=legal_manager_a,
            escalation=e,
            on=D(2026, 2, 6),
            response="plan_amended",
            notes="A targeted download of the messages will do.",
            today=TODAY,
        )
        assert (e.status, e.answered_by, e.answered_on, e.response) == (
            "answered",
            legal_manager_a,
            D(2026, 2, 6),
            "plan_amended",
        )
        e = gov.action_plan_escalation_resolve(
            actor=supervisor_a,
            escalation=e,
            on=D(2026, 2, 9),
            resolution="Agreed: targeted download.",
            today=TODAY,
        )
        e.refresh_from_db()
        assert (e.status, e.resolved_by, e.resolved_on) == ("resolved", supervisor_a, D(2026, 2, 9))
        kinds = list(
            plan.case.events.filter(kind__startswith="escalation_")
            .order_by("pk")
            .values_list("kind", flat=True)
        )
        assert kinds == ["escalation_raised", "escalation_answered", "escalation_resolved"]
        # Resolved: a new escalation may be raised.
        again = gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=plan, on=D(2026, 2, 10), grounds="Still too much.", today=TODAY
        )
        assert again.status == "raised"

    def test_only_a_plan_rated_disproportionate_and_with_police(self, plan, supervisor_a, oic_a):
        with pytest.raises(TransitionError):  # not rated
            gov.action_plan_escalation_raise(
                actor=supervisor_a, plan=plan, on=D(2026, 2, 4), grounds="x", today=TODAY
            )
        gov.action_plan_rate(
            actor=supervisor_a, plan=plan, rating="proportionate", on=D(2026, 2, 3), today=TODAY
        )
        with pytest.raises(TransitionError):  # rated proportionate
            gov.action_plan_escalation_raise(
                actor=supervisor_a, plan=plan, on=D(2026, 2, 4), grounds="x", today=TODAY
            )
        assert not ActionPlanEscalation.objects.exists()

    def test_not_once_the_plan_is_back_with_cps(self, disproportionate, supervisor_a, oic_a):
        charging.case_refer_to_cps(
            actor=oic_a, case=disproportionate.case, received_on=D(2026, 2, 10), today=TODAY
        )
        with pytest.raises(TransitionError, match="resubmitted"):
            gov.action_plan_escalation_raise(
                actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 11), grounds="x", today=TODAY
            )

    def test_one_escalation_at_a_time(self, disproportionate, supervisor_a):
        gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 4), grounds="x", today=TODAY
        )
        before = counts()
        with pytest.raises(TransitionError):
            gov.action_plan_escalation_raise(
                actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 5), grounds="y", today=TODAY
            )
        assert counts() == before

    @pytest.mark.parametrize("who", ["oic_a", "prosecutor_a", "legal_manager_a", "supervisor_b"])
    def test_raised_only_by_a_police_supervisor_of_the_case(self, disproportionate, who, request):
        with pytest.raises(PermissionDenied):
            gov.action_plan_escalation_raise(
                actor=request.getfixturevalue(who),
                plan=disproportionate,
                on=D(2026, 2, 4),
                grounds="x",
                today=TODAY,
            )

    @pytest.mark.parametrize("who", ["supervisor_a", "prosecutor_a", "legal_manager_b", "oic_a"])
    def test_answered_only_by_the_cps_legal_manager_of_the_case(
        self, disproportionate, supervisor_a, who, request
    ):
        e = gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 4), grounds="x", today=TODAY
        )
        before = counts()
        with pytest.raises(PermissionDenied):
            gov.action_plan_escalation_answer(
                actor=request.getfixturevalue(who),
                escalation=e,
                on=D(2026, 2, 5),
                response="plan_stands",
                notes="n",
                today=TODAY,
            )
        assert counts() == before
        e.refresh_from_db()
        assert e.status == "raised"

    def test_answer_checks_its_input_and_order(self, disproportionate, supervisor_a, legal_manager_a):
        e = gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 4), grounds="x", today=TODAY
        )
        with pytest.raises(TransitionError):  # not answered yet
            gov.action_plan_escalation_resolve(
                actor=supervisor_a, escalation=e, on=D(2026, 2, 5), resolution="r"
            )
        for kwargs, field in (
            ({"response": "maybe", "notes": "n", "on": D(2026, 2, 5)}, "response"),
            ({"response": "plan_stands", "notes": "", "on": D(2026, 2, 5)}, "notes"),
            ({"response": "plan_stands", "notes": "n", "on": D(2026, 2, 3)}, "on"),
        ):
            with pytest.raises(ValidationError) as exc:
                gov.action_plan_escalation_answer(actor=legal_manager_a, escalation=e, today=TODAY, **kwargs)
            assert field in exc.value.message_dict
        e = gov.action_plan_escalation_answer(
            actor=legal_manager_a,
            escalation=e,
            on=D(2026, 2, 5),
            response="plan_stands",
            notes="n",
            today=TODAY,
        )
        with pytest.raises(TransitionError):  # answered once
            gov.action_plan_escalation_answer(
                actor=legal_manager_a,
                escalation=e,
                on=D(2026, 2, 6),
                response="plan_stands",
                notes="n",
                today=TODAY,
            )

    def test_resolved_by_either_side_once(self, disproportionate, supervisor_a, legal_manager_a, oic_a):
        e = gov.action_plan_escalation_raise(
            actor=supervisor_a, plan=disproportionate, on=D(2026, 2, 4), grounds="x", today=TODAY
        )
        e = gov.action_plan_escalation_answer(
            actor=legal_manager_a,
            escalation=e,
            on=D(2026, 2, 5),
            response="actions_withdrawn",
            notes="n",
            today=TODAY,
        )
        with pytest.raises(PermissionDenied):
            gov.action_plan_escalation_resolve(
                actor=oic_a, escalation=e, on=D(2026, 2, 6), resolution="r", today=TODAY
            )
        with pytest.raises(ValidationError):
            gov.action_plan_escalation_resolve(
                actor=legal_manager_a, escalation=e, on=D(2026, 2, 4), resolution="r", today=TODAY
            )
        gov.action_plan_escalation_resolve(
            actor=legal_manager_a, escalation=e, on=D(2026, 2, 6), resolution="Agreed.", today=TODAY
        )
        with pytest.raises(TransitionError):
            gov.action_plan_escalation_resolve(
                actor=supervisor_a, escalation=e, on=D(2026, 2, 7), resolution="again", today=TODAY
            )


class TestIncompleteReason:
    def test_reason_from_the_shared_list(self, plan, oic_a, prosecutor_a):
        action = plan.actions.first()
        gov.action_incomplete_reason_record(actor=oic_a, action=action, reason="third_party_material")
        action.refresh_from_db()
        assert action.incomplete_reason == "third_party_material"
        assert plan.case.events.filter(kind="action_incomplete_reason").count() == 1
        gov.action_incomplete_reason_record(
            actor=prosecutor_a, action=action, reason="other", notes="Awaiting the school."
        )
        action.refresh_from_db()
        assert (action.incomplete_reason, action.latest_reason) == ("other", "Awaiting the school.")

    def test_bad_reasons_and_completed_actions_are_refused(self, plan, oic_a, oic_b):
        action = plan.actions.first()
        for reason, notes in (("lazy", ""), ("", ""), ("other", "  ")):
            with pytest.raises(ValidationError):
                gov.action_incomplete_reason_record(actor=oic_a, action=action, reason=reason, notes=notes)
        with pytest.raises(PermissionDenied):
            gov.action_incomplete_reason_record(actor=oic_b, action=action, reason="officer_capacity")
        charging.action_update(actor=oic_a, action=action, status="completed", on=D(2026, 2, 10), today=TODAY)
        with pytest.raises(TransitionError):
            gov.action_incomplete_reason_record(actor=oic_a, action=action, reason="officer_capacity")
        assert Action.objects.get(pk=action.pk).incomplete_reason == ""
