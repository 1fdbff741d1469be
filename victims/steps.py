"""The case page's steps about people: victims (added, their date of birth, their own first qualifying report and
their relationship to each suspect, contacts) and the offences that name them (added, their complainant and
suspect). Each form names the permission it needs and hands its cleaned data to one service; ``workspace/steps.py``
puts them in the case page's order with the other apps' steps."""

from __future__ import annotations

from typing import Any

from django import forms

from cases import services as case_services
from cases.forms import DateInput, DateTimeInput, StepForm, radios
from cases.models import Case, Offence, OffenceType, User

from . import services as victim_services
from .models import Victim, VictimContact, VictimSuspectRelationship


class _PersonChoice(forms.ModelChoiceField):
    """A victim or suspect of the case, by name (the same name as on the victims page)."""

    def label_from_instance(self, obj: Any) -> str:
        born = f" (born {obj.date_of_birth:%d %B %Y})" if obj.date_of_birth else ""
        return f"{obj.given_name} {obj.family_name}{born}"


def _case_people(case: Case) -> dict[str, list[Any]]:
    """The case's victims, suspects and offences, read once per case page however many forms offer them."""
    cached = case.__dict__.get("_step_people")
    if cached is None:
        cached = {
            "victims": list(Victim.objects.filter(case=case).order_by("pk")),
            "suspects": list(case.suspects.order_by("pk")),
            "offences": list(case.offences.select_related("offence_type").order_by("committed_on", "pk")),
        }
        case.__dict__["_step_people"] = cached
    return cached


def _people_fields(form: StepForm, case: Case) -> None:
    """Point the form's victim, complainant, suspect and offence fields at this case's people and offences. The
    choices come from one read of them per page (``_case_people``); a submitted choice is checked against the
    case's own rows."""
    people = _case_people(case)
    querysets = {
        "victim": (Victim.objects.filter(case=case), people["victims"]),
        "complainant": (Victim.objects.filter(case=case), people["victims"]),
        "suspect": (case.suspects.all(), people["suspects"]),
        "offence": (case.offences.select_related("offence_type"), people["offences"]),
    }
    for name, (queryset, rows) in querysets.items():
        field = form.fields.get(name)
        if field is None:
            continue
        field.queryset = queryset
        blank = [("", field.empty_label)] if field.empty_label is not None else []
        if name in ("victim", "complainant"):
            # The case page names victims by number, never by name (it is shown and printed to everyone working
            # the case); the victims page has their names.
            labels = [f"Victim {n}" + (" (child)" if v.is_child else "") for n, v in enumerate(rows, start=1)]
        else:
            labels = [field.label_from_instance(row) for row in rows]
        field.choices = blank + [(row.pk, label) for row, label in zip(rows, labels, strict=True)]


class OffenceForm(StepForm):
    slug, title, perm = "offence", "Add an offence", "cases.add_offence"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    offence_type = forms.ModelChoiceField(queryset=OffenceType.objects.all(), label="Offence")
    committed_on = forms.DateField(widget=DateInput, label="Offence date (last act of a course of conduct)")
    committed_from = forms.DateField(widget=DateInput, required=False, label="First act (course of conduct)")
    complainant = _PersonChoice(
        queryset=Victim.objects.none(),
        required=False,
        help_text="The victim it was committed against. Its time limit depends on them.",
    )
    suspect = _PersonChoice(queryset=Victim.objects.none(), required=False)
    particulars = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return case_services.offence_add(actor=actor, case=self.case, **self.cleaned_data)


class _OffenceChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Offence) -> str:
        return f"{obj.offence_type.title} on {obj.committed_on:%d %B %Y}"


class OffencePeopleForm(StepForm):
    slug, title, perm = "offence-people", "Name an offence's complainant and suspect", "cases.add_offence"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided", "charged", "at_court")
    offence = _OffenceChoice(queryset=Offence.objects.none())
    complainant = _PersonChoice(
        queryset=Victim.objects.none(),
        required=False,
        help_text="A common assault's time limit can be extended (CJA 1988 s.39A) only by its own complainant's "
        "statement or video-recorded interview.",
    )
    suspect = _PersonChoice(queryset=Victim.objects.none(), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return case_services.offence_people_set(actor=actor, **self.cleaned_data)


class QualifyingReportForm(StepForm):
    slug, title, perm = (
        "qualifying-report",
        "Record a victim's first witness statement or VRI",
        "cases.change_case",
    )
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    KINDS = [c for c in Case.QualifyingReportKind.choices if c[0]]
    victim = _PersonChoice(queryset=Victim.objects.none(), label="Whose statement or interview")
    on = forms.DateField(widget=DateInput, label="Given on")
    kind = forms.ChoiceField(
        choices=KINDS,
        widget=radios(KINDS),
        help_text="CJA 1988 s.39A: for a domestic abuse common assault against this victim it can extend the "
        "time limit.",
    )
    received_by = forms.CharField(
        max_length=150, required=False, label="Received by (officer's name and number)"
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return victim_services.victim_qualifying_report_record(actor=actor, **self.cleaned_data)


class ReportAssignForm(StepForm):
    slug, title, perm = "report-assign", "Say whose first qualifying report this is", "cases.change_case"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided")
    victim = _PersonChoice(
        queryset=Victim.objects.none(),
        label="Whose statement or interview",
        help_text="Until it is assigned, it extends no time limit.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return "" if case.first_qualifying_report_on else "There is no unassigned first qualifying report."

    def run(self, actor: User) -> Any:
        return victim_services.case_report_assign(actor=actor, **self.cleaned_data)


class VictimBornForm(StepForm):
    slug, title, perm = "victim-born", "Record a victim's date of birth", "victims.add_victim"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided", "charged", "at_court")
    victim = _PersonChoice(queryset=Victim.objects.none())
    date_of_birth = forms.DateField(
        widget=DateInput,
        help_text="Domestic abuse needs both people to be 16 or over (DA Act 2021 s.1): without it, a common "
        "assault keeps the 6-month limit.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return victim_services.victim_date_of_birth_set(actor=actor, **self.cleaned_data)


class RelationshipForm(StepForm):
    slug, title, perm = "relationship", "Record how a victim and a suspect are related", "victims.add_victim"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided", "charged", "at_court")
    RELATIONSHIPS = VictimSuspectRelationship.Relationship.choices
    victim = _PersonChoice(queryset=Victim.objects.none())
    suspect = _PersonChoice(queryset=Victim.objects.none())
    relationship = forms.ChoiceField(
        choices=RELATIONSHIPS,
        widget=radios(RELATIONSHIPS),
        help_text="Personally connected as the Domestic Abuse Act 2021 s.2 defines it.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return victim_services.victim_relationship_set(actor=actor, **self.cleaned_data)


class VictimForm(StepForm):
    slug, title, perm = "victim", "Add a victim", "victims.add_victim"
    statuses = ("reported", "investigation", "referred", "action_plan", "decided", "charged", "at_court")
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(
        widget=DateInput,
        required=False,
        help_text="Asked for: a common assault's time limit depends on whether both people are 16 or over.",
    )
    is_child = forms.BooleanField(
        required=False, label="Child (including a child who saw or heard the abuse)"
    )

    def run(self, actor: User) -> Any:
        return victim_services.victim_add(actor=actor, case=self.case, **self.cleaned_data)


class VictimContactForm(StepForm):
    slug, title, perm = "victim-contact", "Log a contact with a victim", "victims.add_victim"
    statuses = tuple(Case.Status.values)
    victim = _PersonChoice(queryset=Victim.objects.none())
    contacted_at = forms.DateTimeField(widget=DateTimeInput, label="Contacted at")
    method = forms.ChoiceField(choices=VictimContact.Method.choices)
    purpose = forms.ChoiceField(choices=VictimContact.Purpose.choices)
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        _people_fields(self, case)

    def run(self, actor: User) -> Any:
        return victim_services.victim_contact_record(actor=actor, **self.cleaned_data)


STEPS: dict[str, type[StepForm]] = {
    f.slug: f
    for f in (
        OffenceForm,
        OffencePeopleForm,
        QualifyingReportForm,
        ReportAssignForm,
        VictimForm,
        VictimBornForm,
        RelationshipForm,
        VictimContactForm,
    )
}
