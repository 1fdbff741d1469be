"""Victims, contacts, protective orders and breaches in the API. Inputs are named as the services' arguments.
The confidential address is never returned (it is read only through the logged reveal on the web)."""

from __future__ import annotations

from rest_framework import serializers

from cases.api.fields import ApiDateField, ApiDateTimeField, IdField
from victims.models import ProtectiveOrder, VictimContact

TEXT = 10_000


class VictimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    is_child = serializers.BooleanField()
    child_saw_or_heard = serializers.BooleanField()
    enhanced_rights = serializers.BooleanField(help_text="Victims' Code enhanced rights.")
    vulnerable = serializers.BooleanField()
    intimidated = serializers.BooleanField()
    special_measures_declined = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class BreachSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_on = serializers.DateField()
    reported_on = serializers.DateField()
    new_case = serializers.CharField(
        source="new_case.urn", allow_null=True, help_text="URN of the breach case."
    )


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ProtectiveOrder.Kind.choices)
    status = serializers.ChoiceField(choices=ProtectiveOrder.Status.choices)
    victim = serializers.IntegerField(source="victim_id", allow_null=True)
    notice = serializers.IntegerField(source="notice_id", allow_null=True, help_text="The notice it follows.")
    considered_on = serializers.DateField()
    applied_on = serializers.DateField(allow_null=True)
    served_at = serializers.DateTimeField(allow_null=True)
    heard_at = serializers.DateTimeField(allow_null=True)
    granted_on = serializers.DateField(allow_null=True)
    refused_on = serializers.DateField(allow_null=True)
    varied_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    conditions = serializers.CharField()
    reason = serializers.CharField()
    breaches = BreachSerializer(many=True)


# -- inputs --------------------------------------------------------------------------------------------------


class VictimAddInputSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    date_of_birth = ApiDateField(required=False, allow_null=True)
    is_child = serializers.BooleanField(required=False)
    child_saw_or_heard = serializers.BooleanField(required=False)
    enhanced_rights = serializers.BooleanField(required=False)
    vulnerable = serializers.BooleanField(required=False)
    intimidated = serializers.BooleanField(required=False)
    special_measures_declined = serializers.BooleanField(required=False)
    safe_contact_methods = serializers.CharField(required=False, allow_blank=True, max_length=200)
    safe_contact_times = serializers.CharField(required=False, allow_blank=True, max_length=200)
    do_not_tell = serializers.CharField(required=False, allow_blank=True, max_length=200)
    interpreter_language = serializers.CharField(required=False, allow_blank=True, max_length=60)
    confidential_address = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT,
        help_text="Only the OIC, police supervisors and victim liaison officers of the force may record one "
        "(403 for anyone else, API clients included).",
    )
    reported_on = ApiDateField(
        required=False, allow_null=True, help_text="For a victim who came forward later."
    )


class ContactInputSerializer(serializers.Serializer):
    contacted_at = ApiDateTimeField(help_text="With its time zone offset.")
    method = serializers.ChoiceField(choices=VictimContact.Method.choices)
    purpose = serializers.ChoiceField(choices=VictimContact.Purpose.choices)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    support_service = IdField(
        required=False, allow_null=True, help_text="For a referral: the support service's id."
    )


class OrderConsiderInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProtectiveOrder.Kind.choices)
    on = ApiDateField()
    victim = IdField(required=False, allow_null=True, help_text="The victim's id.")
    notice = IdField(
        required=False, allow_null=True, help_text="For a DVPO or DAPO: the id of the notice it follows."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class BailConditionsInputSerializer(serializers.Serializer):
    on = ApiDateField()
    conditions = serializers.CharField(max_length=TEXT)
    victim_views = serializers.CharField(max_length=TEXT, help_text="Sought before conditions are imposed.")
    expires_on = ApiDateField(required=False, allow_null=True, help_text="End of the bail period.")
    victim = IdField(required=False, allow_null=True, help_text="The protected victim's id.")


class OrderDateInputSerializer(serializers.Serializer):
    on = ApiDateField()


class OrderNotPursueInputSerializer(serializers.Serializer):
    on = ApiDateField()
    reason = serializers.CharField(max_length=TEXT)


class OrderServeInputSerializer(serializers.Serializer):
    served_at = ApiDateTimeField()
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class OrderHearingInputSerializer(serializers.Serializer):
    heard_at = ApiDateTimeField()


class OrderGrantInputSerializer(serializers.Serializer):
    on = ApiDateField()
    expires_on = ApiDateField(required=False, allow_null=True)
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    victim_views = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class OrderRefuseInputSerializer(serializers.Serializer):
    on = ApiDateField()
    reason = serializers.CharField(max_length=TEXT)


class OrderVaryInputSerializer(serializers.Serializer):
    on = ApiDateField()
    conditions = serializers.CharField(allow_blank=True, max_length=TEXT)
    expires_on = ApiDateField(allow_null=True)
    reason = serializers.CharField(max_length=TEXT)
    victim_views = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class OrderEndInputSerializer(serializers.Serializer):
    on = ApiDateField()
    outcome = serializers.ChoiceField(
        choices=[
            (ProtectiveOrder.Status.EXPIRED, "Expired"),
            (ProtectiveOrder.Status.DISCHARGED, "Discharged"),
        ]
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class BreachInputSerializer(serializers.Serializer):
    occurred_on = ApiDateField()
    reported_on = ApiDateField()
    urn = serializers.CharField(max_length=20, help_text="URN of the new case opened for the breach.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    offence_type = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=30,
        help_text="The offence the conduct amounts to, when the breach is not itself an offence in the table.",
    )
