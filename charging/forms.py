"""One form per case step. Each names the permission it needs and hands its cleaned data to one service;
the case page shows the forms this user may submit at this stage, and explains the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from cases import services as case_services
from cases.forms import DateInput
from cases.models import Case, User
from victims import services as victim_services
from victims.models import Victim, VictimContact

from . import services
from .models import Action, ChargingDecision, ChargingReferral, TriageReason


class StepForm(forms.Form):
    """A step on a case: ``perm`` says who may, ``statuses`` when; ``run`` calls the service."""

    slug: str = ""
    title: str = ""
    perm: str = ""
    statuses: tuple[str, ...] = ()

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        self.case = case
        super().__init__(*args, **kwargs)

    def run(self, actor: User) -> Any:
        raise NotImplementedError

    def awaiting_referral(self) -> ChargingReferral | None:
        return self.case.referrals.filter(status=ChargingReferral.Status.AWAITING_DECISION).first()


class ReferForm(StepForm):
    slug, title, perm = "refer", "Refer to CPS", "charging.refer_case"
    statuses = ("reported", "investigation", "action_plan")
    received_on = forms.DateField(widget=DateInput, label="Date CPS receives it")
    kind = forms.ChoiceField(
        choices=ChargingReferral.Kind.choices, initial=ChargingReferral.Kind.CHARGING_DECISION
    )
    custody = forms.BooleanField(required=False, label="Suspect in custody")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return services.case_refer_to_cps(actor=actor, case=self.case, **self.cleaned_data)


class TriageForm(StepForm):
    slug, title, perm = "triage", "Triage the referral", "charging.triage_referral"
    statuses = ("referred",)
    accept = forms.TypedChoiceField(
        choices=[("1", "Accept"), ("0", "Return to police")], coerce=lambda v: v == "1", label="Result"
    )
    on = forms.DateField(widget=DateInput, label="Triage date")
    reasons = forms.MultipleChoiceField(
        choices=TriageReason.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    respond_by = forms.DateField(widget=DateInput, required=False, label="Police to respond by")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return services.referral_triage(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class DecisionForm(StepForm):
    slug, title, perm = "decide", "Record the charging decision", "charging.record_decision"
    statuses = ("referred",)
    outcome = forms.ChoiceField(
        choices=[c for c in ChargingDecision.Outcome.choices if c[0] != ChargingDecision.Outcome.ACTION_PLAN]
    )
    test = forms.ChoiceField(choices=ChargingDecision.Test.choices, required=False, label="Test applied")
    decided_on = forms.DateField(widget=DateInput)
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    evidence_led_viable = forms.NullBooleanField(required=False, label="Evidence-led prosecution viable?")
    evidence_led_strategy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return services.decision_record(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class ActionPlanForm(StepForm):
    slug, title, perm = "action-plan", "Issue an action plan", "charging.issue_action_plan"
    statuses = ("referred",)
    decided_on = forms.DateField(widget=DateInput, label="Issued on")
    respond_by = forms.DateField(widget=DateInput)
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One action a line; end a line with | and a date (YYYY-MM-DD) to set when it is required by.",
    )

    def clean_actions(self) -> list[dict[str, Any]]:
        parsed = []
        for n, line in enumerate(self.cleaned_data["actions"].splitlines(), start=1):
            if not line.strip():
                continue
            text, _, due = line.partition("|")
            try:
                due_on = datetime.date.fromisoformat(due.strip()) if due.strip() else None
            except ValueError as exc:
                raise forms.ValidationError(
                    f"Line {n}: {due.strip()!r} is not a date like 2026-03-31."
                ) from exc
            parsed.append({"description": text.strip(), "due_on": due_on})
        if not parsed:
            raise forms.ValidationError("Give at least one action.")
        return parsed

    def run(self, actor: User) -> Any:
        return services.action_plan_issue(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class ActionUpdateForm(StepForm):
    slug, title, perm = "action", "Update an action", "charging.update_action"
    statuses = ("action_plan", "referred")
    action = forms.ModelChoiceField(queryset=Action.objects.none())
    status = forms.ChoiceField(choices=Action.Status.choices)
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["action"].queryset = Action.objects.filter(plan__case=case)

    def run(self, actor: User) -> Any:
        return services.action_update(actor=actor, **self.cleaned_data)


class ChargeForm(StepForm):
    slug, title, perm = "charge", "Record the charge", "charging.record_charge"
    statuses = ("decided",)
    charged_on = forms.DateField(widget=DateInput)
    information_laid_on = forms.DateField(widget=DateInput, required=False, label="Information laid on")

    def run(self, actor: User) -> Any:
        return services.charge_record(actor=actor, case=self.case, **self.cleaned_data)


class ConversationForm(StepForm):
    slug, title, perm = "conversation", "Record a case conversation", "charging.record_conversation"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    held_on = forms.DateField(widget=DateInput)
    mode = forms.ChoiceField(choices=[("digital", "Digital"), ("face_to_face", "Face to face")])
    reasonable_lines_of_inquiry = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    evidential_concerns = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    early_prosecution_strategy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    protective_orders_considered = forms.BooleanField(required=False)

    def run(self, actor: User) -> Any:
        return services.conversation_record(actor=actor, case=self.case, **self.cleaned_data)


class PoliceOutcomeForm(StepForm):
    slug, title, perm = "police-outcome", "Record a police outcome", "cases.record_police_outcome"
    statuses = ("reported", "investigation", "action_plan")
    outcome = forms.ChoiceField(
        choices=[("nfa", "No further action"), ("out_of_court", "Out-of-court resolution")]
    )
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def run(self, actor: User) -> Any:
        return case_services.case_record_police_outcome(actor=actor, case=self.case, **self.cleaned_data)


class VictimForm(StepForm):
    slug, title, perm = "victim", "Add a victim", "victims.add_victim"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided", "charged", "at_court")
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    is_child = forms.BooleanField(
        required=False, label="Child (including a child who saw or heard the abuse)"
    )

    def run(self, actor: User) -> Any:
        return victim_services.victim_add(actor=actor, case=self.case, **self.cleaned_data)


class VictimContactForm(StepForm):
    slug, title, perm = "victim-contact", "Log a contact with a victim", "victims.add_victim"
    statuses = tuple(Case.Status.values)
    victim = forms.ModelChoiceField(queryset=Victim.objects.none())
    contacted_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    method = forms.ChoiceField(choices=VictimContact.Method.choices)
    purpose = forms.ChoiceField(choices=VictimContact.Purpose.choices)
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["victim"].queryset = Victim.objects.filter(case=case)

    def run(self, actor: User) -> Any:
        return victim_services.victim_contact_record(actor=actor, **self.cleaned_data)


STEPS: dict[str, type[StepForm]] = {
    f.slug: f
    for f in (
        ReferForm,
        TriageForm,
        ConversationForm,
        ActionPlanForm,
        DecisionForm,
        ActionUpdateForm,
        ChargeForm,
        PoliceOutcomeForm,
        VictimForm,
        VictimContactForm,
    )
}
