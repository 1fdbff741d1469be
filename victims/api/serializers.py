"""Victims, contacts, protective orders and breaches in the API. Inputs are named as the services' arguments.
The confidential address is never returned (it is read only through the logged reveal on the web)."""

from __future__ import annotations

from rest_framework import serializers

from api.fields import ApiDateField, ApiDateTimeField, IdField
from victims.models import DapoRequirement, ProtectiveOrder, Victim, VictimContact, VictimSuspectRelationship

TEXT = 10_000


class RelationshipSerializer(serializers.Serializer):
    suspect = serializers.IntegerField(
        source="suspect_id", help_text="Id of the suspect (the case's `suspects`)."
    )
    relationship = serializers.ChoiceField(choices=VictimSuspectRelationship.Relationship.choices)
    personally_connected = serializers.BooleanField(help_text="Personally connected (DA Act 2021 s.2).")


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
    first_qualifying_report_on = serializers.DateField(
        allow_null=True,
        help_text="The victim's own first witness statement or video-recorded interview (CJA 1988 s.39A).",
    )
    first_qualifying_report_kind = serializers.ChoiceField(choices=Victim.QualifyingReportKind.choices)
    first_qualifying_report_received_by = serializers.CharField()
    relationships = RelationshipSerializer(
        many=True, source="suspect_relationships", help_text="How the victim and each suspect are related."
    )
    created_at = serializers.DateTimeField()


class BreachSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_on = serializers.DateField()
    reported_on = serializers.DateField()
    new_case = serializers.CharField(
        source="new_case.urn", allow_null=True, help_text="URN of the breach case."
    )


class DapoRequirementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DapoRequirement.Kind.choices)
    text = serializers.CharField()
    supervisor = serializers.CharField(help_text="Who supervises compliance (DA Act 2021 s.36(2)).")
    imposed_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True, help_text="Its last day, when it ends before the order.")
    removed_on = serializers.DateField(allow_null=True, help_text="Removed by a variation on this day.")
    reason = serializers.CharField(help_text="Why it was removed.")


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
    requirements = DapoRequirementSerializer(
        many=True, help_text="A DAPO's own prohibitions and requirements (DA Act 2021 ss.35-37)."
    )
    notification_applies = serializers.BooleanField(
        allow_null=True,
        help_text="DAPO only: whether the s.41 notification requirements apply (null for other kinds).",
    )
    notification_exempt_reason = serializers.CharField(help_text="DAPO only: why s.41(8) applies.")
    notification_further = serializers.CharField(help_text="DAPO only: further requirements (s.41(7)).")
    notification_due_on = serializers.DateField(
        allow_null=True,
        help_text="DAPO only: last day to notify the police of name(s) and home address (three days beginning "
        "with the day the order is made, s.41(2)).",
    )
    notified_on = serializers.DateField(allow_null=True, help_text="DAPO only: when the respondent notified.")


# -- inputs --------------------------------------------------------------------------------------------------


class VictimBornInputSerializer(serializers.Serializer):
    date_of_birth = ApiDateField(allow_null=True)


class VictimReportInputSerializer(serializers.Serializer):
    on = ApiDateField(
        help_text="The day of the victim's first witness statement or video-recorded interview."
    )
    kind = serializers.ChoiceField(
        choices=[c for c in Victim.QualifyingReportKind.choices if c[0]],
    )
    received_by = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="The constable (or authorised person)."
    )


class RelationshipInputSerializer(serializers.Serializer):
    suspect = serializers.IntegerField(help_text="Id of a suspect of the case.")
    relationship = serializers.ChoiceField(choices=VictimSuspectRelationship.Relationship.choices)


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
    expires_on = ApiDateField(
        required=False,
        allow_null=True,
        help_text="The last day in force. Required for a DVPO: 14 to 28 days beginning with the day it is made "
        "(CSA 2010 s.28(10)); outside that, 400 on `expires_on`.",
    )
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    victim_views = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    notification_exempt_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT,
        help_text="DAPO only: why the s.41 notification requirements do not apply (s.41(8)); empty when they do.",
    )
    notification_further = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=TEXT,
        help_text="DAPO only: further notification requirements the court imposed (s.41(7)).",
    )


class DapoRequirementInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DapoRequirement.Kind.choices)
    text = serializers.CharField(max_length=TEXT)
    imposed_on = ApiDateField(help_text="The grant or a variation.")
    ends_on = ApiDateField(required=False, allow_null=True, help_text="When it ends before the order.")
    supervisor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Required for a requirement to do something (s.36(2)).",
    )


class DapoRequirementRemoveInputSerializer(serializers.Serializer):
    requirement = IdField(help_text="The requirement's id.")
    on = ApiDateField()
    reason = serializers.CharField(max_length=TEXT)


class DapoNotifiedInputSerializer(serializers.Serializer):
    notified_on = ApiDateField()


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
