"""Charging in the API: how referrals, decisions, action plans and charges appear in the case representation,
and the input of each charging step. Inputs are named as the services' arguments, so a service's
``ValidationError`` keys are already the request's field paths."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import ApiDateField, IdField
from charging.models import (
    Action,
    ActionPlan,
    CaseConversation,
    Charge,
    ChargingDecision,
    ChargingReferral,
    DecisionOutcome,
    TriageReason,
)

TEXT = 10_000  # longest free text accepted

#: The outcomes a decision can record for an offence or the whole case (further evidence is an action plan);
#: named once in the schema (``DecisionInputOutcomeEnum``, ``SPECTACULAR_SETTINGS``).
FINAL_OUTCOMES = [c for c in ChargingDecision.Outcome.choices if c[0] != ChargingDecision.Outcome.ACTION_PLAN]


# -- in the case representation ------------------------------------------------------------------------------


class OffenceOutcomeSerializer(serializers.Serializer):
    offence = serializers.IntegerField(source="offence_id", help_text="The offence's id.")
    suspect = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(choices=DecisionOutcome.Outcome.choices)
    code_test_failed = serializers.ChoiceField(
        choices=DecisionOutcome.CodeTest.choices,
        help_text="For no further action: the Full Code Test stage not met.",
    )
    reasons = serializers.CharField()

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text="The suspect the offence is alleged against (name).")
    )
    def get_suspect(self, row: DecisionOutcome) -> str | None:
        return str(row.suspect) if row.suspect_id else None


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=ChargingDecision.Outcome.choices,
        help_text="The overall result: charge when any offence is charged (see offences for each).",
    )
    test = serializers.ChoiceField(choices=ChargingDecision.Test.choices)
    decided_on = serializers.DateField()
    reasons = serializers.CharField()
    evidence_led_viable = serializers.BooleanField(allow_null=True)
    offences = OffenceOutcomeSerializer(
        source="offence_outcomes", many=True, help_text="The outcome for each offence, and so each suspect."
    )


class ReferralSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="1 for the first submission to CPS, 2 for the next, ...")
    kind = serializers.ChoiceField(choices=ChargingReferral.Kind.choices)
    received_on = serializers.DateField()
    custody = serializers.BooleanField()
    triage = serializers.ChoiceField(choices=ChargingReferral.Triage.choices)
    triaged_on = serializers.DateField(allow_null=True)
    triage_reasons = serializers.ListField(child=serializers.ChoiceField(choices=TriageReason.choices))
    respond_by = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=ChargingReferral.Status.choices)
    closed_on = serializers.DateField(allow_null=True)
    decision = DecisionSerializer(allow_null=True, help_text="CPS's decision on this submission, once made.")


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    category = serializers.CharField()
    due_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Action.Status.choices)
    completed_on = serializers.DateField(allow_null=True)
    latest_reason = serializers.CharField()


class ActionPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    issued_on = serializers.DateField()
    respond_by = serializers.DateField()
    status = serializers.ChoiceField(choices=ActionPlan.Status.choices)
    closed_on = serializers.DateField(allow_null=True)
    actions = ActionSerializer(many=True)


class ChargeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    charged_on = serializers.DateField()
    information_laid_on = serializers.DateField(allow_null=True)
    offences = serializers.SerializerMethodField()
    suspect = serializers.SerializerMethodField()
    bail = serializers.ChoiceField(
        choices=Charge.Bail.choices, help_text="Bail or remand; empty: not recorded."
    )
    first_hearing_on = serializers.DateField(allow_null=True)
    court = serializers.CharField(help_text="The court of the first hearing.")

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="The suspect charged (name)."))
    def get_suspect(self, charge: Charge) -> str | None:
        return str(charge.suspect) if charge.suspect_id else None

    @extend_schema_field(
        serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the offences charged.")
    )
    def get_offences(self, charge: Charge) -> list[int]:
        return sorted(o.pk for o in charge.offences.all())


# -- step inputs ---------------------------------------------------------------------------------------------


class ReferInputSerializer(serializers.Serializer):
    received_on = ApiDateField(help_text="The day CPS receives the file: the charging clock starts here.")
    kind = serializers.ChoiceField(choices=ChargingReferral.Kind.choices, required=False)
    custody = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    cps_area = serializers.CharField(
        required=False,
        max_length=10,
        help_text="Code of the CPS Area, only to name the other London Area on a first referral.",
    )


class TriageInputSerializer(serializers.Serializer):
    accept = serializers.BooleanField(help_text="true to accept the file, false to return it to police.")
    on = ApiDateField()
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=TriageReason.choices),
        required=False,
        max_length=len(TriageReason),
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    respond_by = ApiDateField(required=False, allow_null=True)


class ConversationInputSerializer(serializers.Serializer):
    held_on = ApiDateField()
    mode = serializers.ChoiceField(choices=CaseConversation.Mode.choices)
    reasonable_lines_of_inquiry = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    evidential_concerns = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    early_prosecution_strategy = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    protective_orders_considered = serializers.BooleanField(required=False)
    protective_orders_notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class OffenceOutcomeInputSerializer(serializers.Serializer):
    offence = IdField(help_text="The offence's id.")
    outcome = serializers.ChoiceField(choices=FINAL_OUTCOMES)
    code_test_failed = serializers.ChoiceField(
        choices=DecisionOutcome.CodeTest.choices,
        required=False,
        help_text="Required for no further action: the Full Code Test stage not met.",
    )
    reasons = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class DecisionInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=FINAL_OUTCOMES,
        required=False,
        help_text="For every offence; or give `outcomes`, one per offence (then this, if given, must be the "
        "overall result: charge when any offence is charged). To ask police for more, issue an action plan.",
    )
    outcomes = OffenceOutcomeInputSerializer(
        many=True,
        required=False,
        max_length=50,
        help_text="One outcome per offence of the case, so a case with two suspects can be charged for one and "
        "not the other.",
    )
    code_test_failed = serializers.ChoiceField(
        choices=DecisionOutcome.CodeTest.choices,
        required=False,
        help_text="With `outcome` no further action: the Full Code Test stage not met.",
    )
    test = serializers.ChoiceField(
        choices=ChargingDecision.Test.choices, required=False, help_text="Required for a decision to charge."
    )
    decided_on = ApiDateField()
    reasons = serializers.CharField(max_length=TEXT)
    evidence_led_viable = serializers.BooleanField(required=False, allow_null=True)
    evidence_led_strategy = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class ActionInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=TEXT)
    category = serializers.CharField(required=False, allow_blank=True, max_length=60)
    due_on = ApiDateField(required=False, allow_null=True, help_text="Required by; omit if not scheduled.")


class ActionPlanInputSerializer(serializers.Serializer):
    decided_on = ApiDateField(help_text="The day the plan is issued.")
    respond_by = ApiDateField()
    reasons = serializers.CharField(max_length=TEXT)
    actions = ActionInputSerializer(many=True, allow_empty=False, max_length=100)


class ActionMoveInputSerializer(serializers.Serializer):
    action = IdField(help_text="The action's id.")
    due_on = ApiDateField(help_text="Its new required-by date (no later than the plan's response date).")


class ActionPlanAmendInputSerializer(serializers.Serializer):
    on = ApiDateField(help_text="The day of the change.")
    reason = serializers.CharField(max_length=TEXT)
    respond_by = ApiDateField(required=False, help_text="A new response date (CPS only).")
    add = ActionInputSerializer(
        many=True, required=False, max_length=100, help_text="Actions to add (CPS only)."
    )
    moves = ActionMoveInputSerializer(
        many=True, required=False, max_length=100, help_text="Actions' new dates."
    )


class EarlyAdviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    requested_on = serializers.DateField()
    question = serializers.CharField()
    given_on = serializers.DateField(allow_null=True)
    advice = serializers.CharField()


class EarlyAdviceInputSerializer(serializers.Serializer):
    requested_on = ApiDateField(help_text="The day CPS receives the request.")
    question = serializers.CharField(max_length=TEXT)
    cps_area = serializers.CharField(
        required=False, max_length=10, help_text="Code of the CPS Area, only to name the other London Area."
    )


class EarlyAdviceGiveInputSerializer(serializers.Serializer):
    given_on = ApiDateField()
    advice = serializers.CharField(max_length=TEXT)


class ActionUpdateInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Action.Status.choices)
    on = ApiDateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class ChargeInputSerializer(serializers.Serializer):
    charged_on = ApiDateField()
    information_laid_on = ApiDateField(required=False, allow_null=True)
    offences = serializers.ListField(
        child=IdField(),
        required=False,
        max_length=100,
        help_text="Ids of the offences charged (one suspect's); when omitted, every offence the decision said "
        "to charge, if they are one suspect's.",
    )
    bail = serializers.ChoiceField(choices=[c for c in Charge.Bail.choices if c[0]], required=False)
    first_hearing_on = ApiDateField(required=False, allow_null=True)
    court = serializers.CharField(required=False, allow_blank=True, max_length=200)
