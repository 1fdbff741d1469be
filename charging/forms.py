"""One form per case step. Each names the permission it needs and hands its cleaned data to one service;
the case page shows the forms this user may submit at this stage, and explains the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from cases import ledger
from cases import services as case_services
from cases.forms import DateInput, DateTimeInput, GovukFormMixin
from cases.models import Case, OffenceType, User
from victims import services as victim_services
from victims.models import Victim, VictimContact

from . import services
from .models import Action, ChargingDecision, ChargingReferral, TriageReason


def _lower_first(label: str) -> str:
    """'Referred to CPS' -> 'referred to CPS' (acronyms keep their capitals)."""
    return label[:1].lower() + label[1:]


def _status_names(statuses: tuple[str, ...]) -> str:
    names = [_lower_first(str(Case.Status(s).label)) for s in statuses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class StepForm(GovukFormMixin, forms.Form):
    """A step on a case: ``perm`` says who may, ``statuses`` when; ``run`` calls the service. Date fields
    named in ``today_fields`` start at the London today."""

    slug: str = ""
    title: str = ""
    perm: str = ""
    statuses: tuple[str, ...] = ()
    today_fields: tuple[str, ...] = ("on", "received_on", "decided_on", "held_on", "charged_on")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        self.case = case
        super().__init__(*args, **kwargs)
        today = ledger.london_today()
        for name in self.today_fields:
            if name in self.fields and self.fields[name].initial is None:
                self.fields[name].initial = today

    @classmethod
    def refusal(cls, case: Case, facts: dict[str, Any] | None = None) -> str:
        """Why this step cannot be taken now ("" when it can). ``facts`` are what the case page already knows
        (``awaiting``: the submission with CPS or None; ``actions``: how many actions the case has), so that
        explaining costs no queries. The service still decides; this only explains."""
        if case.status not in cls.statuses:
            return (
                f"Not at this stage: the case is {_lower_first(case.get_status_display())}. "
                f"This step is possible when the case is {_status_names(cls.statuses)}."
            )
        return cls.refusal_detail(case, facts or {})

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return ""

    def run(self, actor: User) -> Any:
        raise NotImplementedError

    def awaiting_referral(self) -> ChargingReferral | None:
        return self.case.referrals.filter(status=ChargingReferral.Status.AWAITING_DECISION).first()


def _needs_awaiting(facts: dict[str, Any]) -> str:
    return "No submission is waiting at CPS." if "awaiting" in facts and facts["awaiting"] is None else ""


def _radios(choices: Any) -> forms.RadioSelect:
    return forms.RadioSelect(choices=choices)


class ReferForm(StepForm):
    slug, title, perm = "refer", "Refer to CPS", "charging.refer_case"
    statuses = ("reported", "investigation", "action_plan")
    received_on = forms.DateField(widget=DateInput, label="Date CPS receives it")
    kind = forms.ChoiceField(
        choices=ChargingReferral.Kind.choices,
        initial=ChargingReferral.Kind.CHARGING_DECISION,
        widget=_radios(ChargingReferral.Kind.choices),
        label="What you are asking CPS for",
    )
    custody = forms.BooleanField(required=False, label="Suspect in custody")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return services.case_refer_to_cps(actor=actor, case=self.case, **self.cleaned_data)


class TriageForm(StepForm):
    slug, title, perm = "triage", "Triage the referral", "charging.triage_referral"
    statuses = ("referred",)
    accept = forms.TypedChoiceField(
        choices=[("1", "Accept"), ("0", "Return to police")],
        coerce=lambda v: v == "1",
        label="Result",
        widget=_radios([("1", "Accept"), ("0", "Return to police")]),
    )
    on = forms.DateField(widget=DateInput, label="Triage date")
    prosecutor = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Allocate to",
        empty_label="Me (if I am a prosecutor of this Area)",
        help_text="The prosecutor who gets this submission's deadline alerts; their line manager its escalations. "
        "Only when accepting.",
    )
    reasons = forms.MultipleChoiceField(
        choices=TriageReason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Reasons for returning the file",
    )
    respond_by = forms.DateField(widget=DateInput, required=False, label="Police to respond by")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        field = self.fields["prosecutor"]
        field.queryset = services.area_prosecutors(case)
        field.label_from_instance = lambda user: user.display_name

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        if "awaiting" not in facts:
            return ""
        awaiting = facts["awaiting"]
        if awaiting is None:
            return "No submission is waiting at CPS."
        if awaiting.triage != ChargingReferral.Triage.PENDING:
            return f"Submission {awaiting.sequence} has been triaged already ({awaiting.get_triage_display().lower()})."
        return ""

    def run(self, actor: User) -> Any:
        return services.referral_triage(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class DecisionForm(StepForm):
    slug, title, perm = "decide", "Record the charging decision", "charging.record_decision"
    statuses = ("referred",)
    OUTCOMES = [c for c in ChargingDecision.Outcome.choices if c[0] != ChargingDecision.Outcome.ACTION_PLAN]
    TESTS = [c for c in ChargingDecision.Test.choices if c[0]]
    outcome = forms.ChoiceField(choices=OUTCOMES, widget=_radios(OUTCOMES))
    test = forms.ChoiceField(
        choices=TESTS,
        required=False,
        widget=_radios(TESTS),
        label="Test applied",
        help_text="Required for a decision to charge.",
    )
    decided_on = forms.DateField(widget=DateInput)
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    evidence_led_viable = forms.NullBooleanField(required=False, label="Evidence-led prosecution viable?")
    evidence_led_strategy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return _needs_awaiting(facts)

    def run(self, actor: User) -> Any:
        return services.decision_record(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class ActionPlanForm(StepForm):
    slug, title, perm = "action-plan", "Issue an action plan", "charging.issue_action_plan"
    statuses = ("referred",)
    decided_on = forms.DateField(widget=DateInput, label="Issued on")
    respond_by = forms.DateField(widget=DateInput, label="Police to respond by")
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why more is needed")
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

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return _needs_awaiting(facts)

    def run(self, actor: User) -> Any:
        return services.action_plan_issue(actor=actor, referral=self.awaiting_referral(), **self.cleaned_data)


class _ActionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Action) -> str:
        due = f", required by {obj.due_on:%d %b %Y}" if obj.due_on else ""
        return f"{obj.description[:80]} ({obj.get_status_display().lower()}{due})"


class ActionUpdateForm(StepForm):
    slug, title, perm = "action", "Update an action", "charging.update_action"
    statuses = ("action_plan", "referred")
    action = _ActionChoice(queryset=Action.objects.none())
    status = forms.ChoiceField(choices=Action.Status.choices, label="New status")
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required to withdraw or re-open an action.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["action"].queryset = Action.objects.filter(plan__case=case).order_by("plan", "pk")

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return "There are no actions on this case yet." if facts.get("actions") == 0 else ""

    def run(self, actor: User) -> Any:
        return services.action_update(actor=actor, **self.cleaned_data)


class ChargeForm(StepForm):
    slug, title, perm = "charge", "Record the charge", "charging.record_charge"
    statuses = ("decided",)
    charged_on = forms.DateField(widget=DateInput)
    information_laid_on = forms.DateField(
        widget=DateInput,
        required=False,
        label="Information laid on",
        help_text="Or the written charge issued. It stops the statutory time limits.",
    )

    def run(self, actor: User) -> Any:
        return services.charge_record(actor=actor, case=self.case, **self.cleaned_data)


class ConversationForm(StepForm):
    slug, title, perm = "conversation", "Record a case conversation", "charging.record_conversation"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    MODES = [("digital", "Digital"), ("face_to_face", "Face to face")]
    held_on = forms.DateField(widget=DateInput)
    mode = forms.ChoiceField(choices=MODES, widget=_radios(MODES))
    reasonable_lines_of_inquiry = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    evidential_concerns = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    early_prosecution_strategy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    protective_orders_considered = forms.BooleanField(required=False)

    def run(self, actor: User) -> Any:
        return services.conversation_record(actor=actor, case=self.case, **self.cleaned_data)


class PoliceOutcomeForm(StepForm):
    slug, title, perm = "police-outcome", "Record a police outcome", "cases.record_police_outcome"
    statuses = ("reported", "investigation", "action_plan")
    OUTCOMES = [("nfa", "No further action"), ("out_of_court", "Out-of-court resolution")]
    outcome = forms.ChoiceField(choices=OUTCOMES, widget=_radios(OUTCOMES))
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def run(self, actor: User) -> Any:
        return case_services.case_record_police_outcome(actor=actor, case=self.case, **self.cleaned_data)


class OffenceForm(StepForm):
    slug, title, perm = "offence", "Add an offence", "cases.add_offence"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    offence_type = forms.ModelChoiceField(queryset=OffenceType.objects.all(), label="Offence")
    committed_on = forms.DateField(widget=DateInput, label="Offence date (last act of a course of conduct)")
    committed_from = forms.DateField(widget=DateInput, required=False, label="First act (course of conduct)")
    particulars = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return case_services.offence_add(actor=actor, case=self.case, **self.cleaned_data)


class QualifyingReportForm(StepForm):
    slug, title, perm = "qualifying-report", "Record the first witness statement or VRI", "cases.change_case"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    KINDS = [c for c in Case.QualifyingReportKind.choices if c[0]]
    on = forms.DateField(widget=DateInput, label="Given on")
    kind = forms.ChoiceField(
        choices=KINDS,
        widget=_radios(KINDS),
        help_text="CJA 1988 s.39A: for domestic abuse common assault it sets the time limit.",
    )

    def run(self, actor: User) -> Any:
        return case_services.case_record_qualifying_report(actor=actor, case=self.case, **self.cleaned_data)


class ProgressForm(StepForm):
    slug, title, perm = "progress", "Move the case on", "cases.progress_case"
    statuses = ("charged", "at_court")
    TARGETS = [("at_court", "At court"), ("concluded", "Concluded")]
    to = forms.ChoiceField(choices=TARGETS, widget=_radios(TARGETS), label="The case is now")
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return case_services.case_progress(actor=actor, case=self.case, **self.cleaned_data)


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


class _VictimChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Victim) -> str:
        return f"Victim {obj.pk}" + (" (child)" if obj.is_child else "")


class VictimContactForm(StepForm):
    slug, title, perm = "victim-contact", "Log a contact with a victim", "victims.add_victim"
    statuses = tuple(Case.Status.values)
    victim = _VictimChoice(queryset=Victim.objects.none())
    contacted_at = forms.DateTimeField(widget=DateTimeInput, label="Contacted at")
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
        OffenceForm,
        QualifyingReportForm,
        ProgressForm,
        PoliceOutcomeForm,
        VictimForm,
        VictimContactForm,
    )
}
