"""One form per case step. Each names the permission it needs and hands its cleaned data to one service;
the case page shows the forms this user may submit at this stage, and explains the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from cases import services as case_services
from cases.forms import DateInput, radios
from cases.forms import StepForm as BaseStepForm
from cases.models import Case, Offence, User

from . import services
from .models import (
    Action,
    ActionPlan,
    Charge,
    ChargingDecision,
    ChargingReferral,
    DecisionOutcome,
    TriageReason,
)


class StepForm(BaseStepForm):
    """A step of the charging workflow: the base step, knowing the submission waiting at CPS."""

    def awaiting_referral(self) -> ChargingReferral | None:
        return self.case.referrals.filter(status=ChargingReferral.Status.AWAITING_DECISION).first()


def _needs_awaiting(facts: dict[str, Any]) -> str:
    return "No submission is waiting at CPS." if "awaiting" in facts and facts["awaiting"] is None else ""


class ReferForm(StepForm):
    slug, title, perm = "refer", "Refer to CPS", "charging.refer_case"
    statuses = ("reported", "investigation", "action_plan")
    received_on = forms.DateField(
        widget=DateInput,
        label="Date CPS receives it",
        help_text="The full file, for a charging decision: it stops the investigation clock. For early advice, "
        "use 'Ask CPS for early advice'.",
    )
    custody = forms.BooleanField(required=False, label="Suspect in custody")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return services.case_refer_to_cps(actor=actor, case=self.case, **self.cleaned_data)


class EarlyAdviceForm(StepForm):
    slug, title, perm = "early-advice", "Ask CPS for early advice", "charging.refer_case"
    statuses = ("reported", "investigation", "action_plan")
    requested_on = forms.DateField(widget=DateInput, label="Date CPS receives the request")
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What you would like advice on",
        help_text="Early advice is not a charging referral: the investigation clock keeps running.",
    )

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        waiting = facts.get("early_advice_waiting")
        if waiting is not None:
            return f"Early advice asked for on {waiting.requested_on:%d %B %Y} has not been given yet."
        return ""

    def run(self, actor: User) -> Any:
        return services.early_advice_request(actor=actor, case=self.case, **self.cleaned_data)


class EarlyAdviceGiveForm(StepForm):
    slug, title, perm = "early-advice-give", "Give early advice", "charging.record_decision"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    given_on = forms.DateField(widget=DateInput, label="Given on")
    advice = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Advice")

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        if "early_advice_waiting" in facts and facts["early_advice_waiting"] is None:
            return "Police have not asked for early advice."
        return ""

    def run(self, actor: User) -> Any:
        request = self.case.early_advice.filter(given_on__isnull=True).first()
        if request is None:
            raise ValidationError("Police have not asked for early advice.")
        return services.early_advice_give(actor=actor, request=request, **self.cleaned_data)


class TriageForm(StepForm):
    slug, title, perm = "triage", "Triage the referral", "charging.triage_referral"
    statuses = ("referred",)
    accept = forms.TypedChoiceField(
        choices=[("1", "Accept"), ("0", "Return to police")],
        coerce=lambda v: v == "1",
        label="Result",
        widget=radios([("1", "Accept"), ("0", "Return to police")]),
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


def offence_label(offence: Offence) -> str:
    """'Ann Smith: Common assault, 2 Feb 2026' (the suspect first: a decision is about people)."""
    who = f"{offence.suspect}: " if offence.suspect_id else ""
    return f"{who}{offence.offence_type.title}, {offence.committed_on:%d %b %Y}"


#: One choice per offence: the outcome and, for no further action, the Code test stage not met.
_PER_OFFENCE = [
    ("", "As the outcome above"),
    (DecisionOutcome.Outcome.CHARGE, "Charge"),
    ("nfa:evidential", "No further action: evidential stage not met"),
    ("nfa:public_interest", "No further action: public interest stage not met"),
    (DecisionOutcome.Outcome.OUT_OF_COURT, "Out-of-court resolution"),
]


class DecisionForm(StepForm):
    slug, title, perm = "decide", "Record the charging decision", "charging.record_decision"
    statuses = ("referred",)
    OUTCOMES = [c for c in ChargingDecision.Outcome.choices if c[0] != ChargingDecision.Outcome.ACTION_PLAN]
    TESTS = [c for c in ChargingDecision.Test.choices if c[0]]
    STAGES = [("", "Not recorded"), *[c for c in DecisionOutcome.CodeTest.choices if c[0]]]
    outcome = forms.ChoiceField(
        choices=OUTCOMES,
        widget=radios(OUTCOMES),
        required=False,
        help_text="For every offence, unless you choose otherwise for an offence below.",
    )
    code_test_failed = forms.ChoiceField(
        choices=STAGES, required=False, label="If no further action: the stage of the Full Code Test not met"
    )
    test = forms.ChoiceField(
        choices=TESTS,
        required=False,
        widget=radios(TESTS),
        label="Test applied",
        help_text="Required for a decision to charge.",
    )
    decided_on = forms.DateField(widget=DateInput)
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    evidence_led_viable = forms.NullBooleanField(required=False, label="Evidence-led prosecution viable?")
    evidence_led_strategy = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.offences = list(
            case.offences.select_related("offence_type", "suspect").order_by("committed_on", "pk")
        )
        for offence in self.offences:
            self.fields[f"offence_{offence.pk}"] = forms.ChoiceField(
                choices=_PER_OFFENCE,
                required=False,
                label=f"Outcome for {offence_label(offence)}",
                widget=forms.Select(attrs={"class": "govuk-select"}),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = {o.pk: data.get(f"offence_{o.pk}") or "" for o in self.offences}
        overall = data.get("outcome") or ""
        if not any(chosen.values()):
            if not overall:
                self.add_error("outcome", "Choose the outcome (or one for each offence).")
            data["outcomes"] = []
            return data
        if not all(chosen.values()) and not overall:
            self.add_error("outcome", "Choose an outcome for every offence, or one above for the rest.")
            return data
        outcomes = []
        for offence in self.offences:
            value = chosen[offence.pk] or overall
            stage = ""
            if value == DecisionOutcome.Outcome.NO_FURTHER_ACTION:
                stage = data.get("code_test_failed") or ""
            if value.startswith("nfa:"):
                value, stage = value.split(":", 1)
            outcomes.append({"offence": offence, "outcome": value, "code_test_failed": stage})
        data["outcomes"] = outcomes
        return data

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return _needs_awaiting(facts)

    def run(self, actor: User) -> Any:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("offence_")}
        if data["outcomes"]:
            data["outcome"], data["code_test_failed"] = "", ""
        try:
            return services.decision_record(actor=actor, referral=self.awaiting_referral(), **data)
        except ValidationError as exc:
            raise _per_offence_errors(exc, data["outcomes"]) from exc


def _per_offence_errors(exc: ValidationError, outcomes: list[dict[str, Any]]) -> ValidationError:
    """The service names ``outcomes[i].<field>``: show it against that offence's choice."""
    if not hasattr(exc, "error_dict"):
        return exc
    mapped: dict[str, Any] = {}
    for key, errors in exc.message_dict.items():
        if key.startswith("outcomes[") and "]" in key:
            index = int(key[len("outcomes[") : key.index("]")])
            key = f"offence_{outcomes[index]['offence'].pk}" if index < len(outcomes) else "outcome"
        mapped.setdefault(key, []).extend(errors)
    return ValidationError(mapped)


def _action_lines(text: str) -> list[dict[str, Any]]:
    """'Obtain the 999 call | 2026-03-31' a line: the actions and their required-by dates."""
    parsed = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        description, _, due = line.partition("|")
        try:
            due_on = datetime.date.fromisoformat(due.strip()) if due.strip() else None
        except ValueError as exc:
            raise forms.ValidationError(f"Line {n}: {due.strip()!r} is not a date like 2026-03-31.") from exc
        parsed.append({"description": description.strip(), "due_on": due_on})
    return parsed


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
        parsed = _action_lines(self.cleaned_data["actions"])
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


class _OffenceChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Offence) -> str:
        return offence_label(obj)


class ChargeForm(StepForm):
    slug, title, perm = "charge", "Record the charge", "charging.record_charge"
    statuses = ("decided",)
    BAIL = [c for c in Charge.Bail.choices if c[0]]
    offences = _OffenceChoices(
        queryset=Offence.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Offences charged",
        help_text="Only the offences CPS decided to charge. Record each suspect's charge separately.",
    )
    charged_on = forms.DateField(widget=DateInput)
    information_laid_on = forms.DateField(
        widget=DateInput,
        required=False,
        label="Information laid on",
        help_text="Or the written charge issued. It stops the statutory time limits.",
    )
    bail = forms.ChoiceField(choices=BAIL, required=False, widget=radios(BAIL), label="Bail or remand")
    first_hearing_on = forms.DateField(widget=DateInput, required=False, label="First hearing")
    court = forms.CharField(max_length=200, required=False, label="Court of the first hearing")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _decision, to_charge = services.offences_to_charge(case)
        field = self.fields["offences"]
        field.queryset = Offence.objects.filter(pk__in=[o.pk for o in to_charge]).select_related(
            "offence_type", "suspect"
        )
        if len({o.suspect_id for o in to_charge}) == 1:
            field.initial = [o.pk for o in to_charge]

    def run(self, actor: User) -> Any:
        data = dict(self.cleaned_data)
        data["offences"] = list(data.get("offences") or [])
        return services.charge_record(actor=actor, case=self.case, **data)


class _OpenActionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Action) -> str:
        due = f", required by {obj.due_on:%d %b %Y}" if obj.due_on else ", not scheduled"
        return f"{obj.description[:80]}{due}"


class ActionPlanAmendForm(StepForm):
    slug, title, perm = "action-plan-amend", "Amend the action plan", "charging.update_action"
    statuses = ("action_plan",)
    on = forms.DateField(widget=DateInput, label="Date of the change")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for the change")
    respond_by = forms.DateField(
        widget=DateInput,
        required=False,
        label="New response date",
        help_text="CPS only. Leave empty to keep it.",
    )
    action = _OpenActionChoice(queryset=Action.objects.none(), required=False, label="Action to move")
    due_on = forms.DateField(widget=DateInput, required=False, label="Its new required-by date")
    add = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Actions to add",
        help_text="CPS only. One action a line; end a line with | and a date (YYYY-MM-DD) to set when it is "
        "required by (no later than the response date).",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["action"].queryset = Action.objects.filter(
            plan__case=case, plan__status=ActionPlan.Status.OPEN, status__in=Action.OPEN_STATUSES
        ).order_by("pk")

    def clean_add(self) -> list[dict[str, Any]]:
        return _action_lines(self.cleaned_data.get("add") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("action")) != bool(data.get("due_on")):
            self.add_error("due_on", "To move an action, choose it and give its new date.")
        return data

    def run(self, actor: User) -> Any:
        plan = (
            ActionPlan.objects.filter(case=self.case, status=ActionPlan.Status.OPEN)
            .order_by("-issued_on", "-pk")
            .first()
        )
        if plan is None:
            raise ValidationError("There is no action plan with police to amend.")
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"on": data["on"], "reason": data["reason"]}
        if data.get("respond_by"):
            kwargs["respond_by"] = data["respond_by"]
        if data.get("add"):
            kwargs["add"] = data["add"]
        if data.get("action"):
            kwargs["moves"] = [{"action": data["action"], "due_on": data["due_on"]}]
        try:
            return services.action_plan_amend(actor=actor, plan=plan, **kwargs)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            renamed = {
                (
                    "due_on"
                    if k.startswith("moves[") and k.endswith("due_on")
                    else "add"
                    if k.startswith("add[")
                    else k
                ): v
                for k, v in exc.message_dict.items()
            }
            raise ValidationError(renamed) from exc


class ConversationForm(StepForm):
    slug, title, perm = "conversation", "Record a case conversation", "charging.record_conversation"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    MODES = [("digital", "Digital"), ("face_to_face", "Face to face")]
    held_on = forms.DateField(widget=DateInput)
    mode = forms.ChoiceField(choices=MODES, widget=radios(MODES))
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
    outcome = forms.ChoiceField(choices=OUTCOMES, widget=radios(OUTCOMES))
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def run(self, actor: User) -> Any:
        return case_services.case_record_police_outcome(actor=actor, case=self.case, **self.cleaned_data)


class ProgressForm(StepForm):
    slug, title, perm = "progress", "Move the case on", "cases.progress_case"
    statuses = ("charged", "at_court")
    TARGETS = [("at_court", "At court"), ("concluded", "Concluded")]
    to = forms.ChoiceField(choices=TARGETS, widget=radios(TARGETS), label="The case is now")
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def run(self, actor: User) -> Any:
        return case_services.case_progress(actor=actor, case=self.case, **self.cleaned_data)


#: The charging workflow's steps (and the case-level ones it has always offered); ``workspace/steps.py`` puts every
#: app's steps in the order of the case page.
STEPS: dict[str, type[BaseStepForm]] = {
    f.slug: f
    for f in (
        ReferForm,
        EarlyAdviceForm,
        EarlyAdviceGiveForm,
        TriageForm,
        ConversationForm,
        ActionPlanForm,
        DecisionForm,
        ActionUpdateForm,
        ActionPlanAmendForm,
        ChargeForm,
        ProgressForm,
        PoliceOutcomeForm,
    )
}
