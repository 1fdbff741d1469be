"""Forms for the case pages. They parse and check the shape of input; the services decide what is allowed.

Every form is drawn in GOV.UK Design System markup by ``templates/includes/field.html``; ``GovukFormMixin`` (or
``govuk_style`` for forms made elsewhere, such as the shared ``CaseFilterSet``'s) gives each widget its GOV.UK
class and marks fields in error, so the same form works with and without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import ledger
from .models import Case, OffenceType, User

WIDGET_CLASSES = {
    "text": "govuk-input",
    "email": "govuk-input",
    "password": "govuk-input govuk-input--width-20",
    "number": "govuk-input govuk-input--width-5",
    "date": "govuk-input govuk-input--width-10",
    "datetime": "govuk-input govuk-input--width-20",
    "textarea": "govuk-textarea",
    "select": "govuk-select",
    "nullbooleanselect": "govuk-select",
    "selectmultiple": "govuk-select",
    "checkbox": "govuk-checkboxes__input",
    "checkboxselectmultiple": "govuk-checkboxes__input",
    "radioselect": "govuk-radios__input",
}
ERROR_CLASSES = {
    "govuk-input": "govuk-input--error",
    "govuk-textarea": "govuk-textarea--error",
    "govuk-select": "govuk-select--error",
}


def _widget_type(widget: forms.Widget) -> str:
    name = widget.__class__.__name__.lower()
    for suffix in ("widget", "input"):
        if name.endswith(suffix) and name != suffix:
            name = name[: -len(suffix)]
            break
    return name


def govuk_style(form: forms.BaseForm) -> forms.BaseForm:
    """Give every widget of ``form`` its GOV.UK class (and the error class to fields already in error)."""
    errors = getattr(form, "_errors", None) or {}
    for name, field in form.fields.items():
        widget = field.widget
        css = WIDGET_CLASSES.get(_widget_type(widget))
        if css and css.split()[0] not in widget.attrs.get("class", "").split():
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
        if name in errors:
            _mark_error(widget)
    return form


def _mark_error(widget: forms.Widget) -> None:
    classes = widget.attrs.get("class", "").split()
    for base, error in ERROR_CLASSES.items():
        if base in classes and error not in classes:
            classes.append(error)
    widget.attrs["class"] = " ".join(classes)


class GovukFormMixin:
    """GOV.UK classes on every widget, and the error classes on the fields in error after validation or a
    service's ``add_error``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        govuk_style(self)  # type: ignore[arg-type]

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        self._mark_errors()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._mark_errors()

    def _mark_errors(self) -> None:
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields:  # type: ignore[attr-defined]
                _mark_error(self.fields[name].widget)  # type: ignore[attr-defined]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class LoginForm(GovukFormMixin, AuthenticationForm):
    pass


class CaseCreateForm(GovukFormMixin, forms.Form):
    urn = forms.CharField(label="URN", max_length=20, help_text="The force's unique reference number.")
    reported_on = forms.DateField(label="Date reported to police", widget=DateInput)
    offence_type = forms.ModelChoiceField(queryset=OffenceType.objects.all(), label="Offence")
    committed_on = forms.DateField(label="Offence date (last act of a course of conduct)", widget=DateInput)
    committed_from = forms.DateField(label="First act (course of conduct)", required=False, widget=DateInput)
    suspect_given_name = forms.CharField(label="Suspect's given name", max_length=100)
    suspect_family_name = forms.CharField(label="Suspect's family name", max_length=100)
    suspect_pnc_id = forms.CharField(label="Suspect's PNC ID", max_length=20, required=False)
    risk_level = forms.ChoiceField(choices=Case.RiskLevel.choices, initial=Case.RiskLevel.UNKNOWN)
    risk_tool = forms.ChoiceField(choices=Case.RiskTool.choices, required=False)
    children_in_household = forms.BooleanField(required=False)
    police_perpetrated = forms.BooleanField(required=False, label="The suspect works for the police")
    first_qualifying_report_on = forms.DateField(
        required=False, widget=DateInput, label="First witness statement or VRI (date)"
    )
    first_qualifying_report_kind = forms.ChoiceField(
        choices=Case.QualifyingReportKind.choices, required=False, label="First qualifying report (kind)"
    )
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "urn": d["urn"],
            "reported_on": d["reported_on"],
            "offences": [
                {
                    "offence_type": d["offence_type"],
                    "committed_on": d["committed_on"],
                    "committed_from": d["committed_from"],
                }
            ],
            "suspects": [
                {
                    "given_name": d["suspect_given_name"],
                    "family_name": d["suspect_family_name"],
                    "pnc_id": d["suspect_pnc_id"],
                }
            ],
            "risk_level": d["risk_level"],
            "risk_tool": d["risk_tool"] or "",
            "children_in_household": d["children_in_household"],
            "police_perpetrated": d["police_perpetrated"],
            "first_qualifying_report_on": d["first_qualifying_report_on"],
            "first_qualifying_report_kind": d["first_qualifying_report_kind"] or "",
            "summary": d["summary"],
        }


# The filters people use most, in this order; the shared CaseFilterSet's other filters go under "More filters".
PRIMARY_FILTERS = ("q", "status", "risk_level", "stl_within_eight_weeks", "time_barred", "clock_state")
FILTER_LABELS = {
    "q": "URN or suspect's name",
    "mode_of_trial": "Mode of trial",
    "clock_state": "Has an open deadline that is",
}
YES_NO_ANY = [("", "Any"), ("true", "Yes"), ("false", "No")]


def filter_form_style(form: forms.BaseForm) -> forms.BaseForm:
    """The shared CaseFilterSet's form, drawn for people: multiple choices as checkboxes, yes/no filters as
    Any/Yes/No, dates as date inputs, the common filters first, GOV.UK classes throughout. (The filters
    themselves, and the API that shares them, are unchanged.)"""
    for name, field in form.fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field, forms.NullBooleanField):
            field.widget = forms.Select(choices=YES_NO_ANY)
        elif isinstance(field, forms.DateField):
            field.widget = DateInput()
        if name in FILTER_LABELS:
            field.label = FILTER_LABELS[name]
        field.required = False
    order = [n for n in PRIMARY_FILTERS if n in form.fields]
    form.order_fields(order)  # type: ignore[attr-defined]
    form.primary_fields = [form[n] for n in order]  # type: ignore[attr-defined]
    form.more_fields = [form[n] for n in form.fields if n not in order]  # type: ignore[attr-defined]
    form.more_in_use = any(f.value() not in (None, "", [], ()) for f in form.more_fields)  # type: ignore[attr-defined]
    return govuk_style(form)


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors against their fields where the form has
    them (``offences[0].committed_on`` maps to ``committed_on``), the rest at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = field.rsplit(".", 1)[-1]
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --------------------------------------------------------------------------------------------------------------
# The steps of the case page: the base every app's step forms build on (``workspace/steps.py`` lists them).
# --------------------------------------------------------------------------------------------------------------


def lower_first(label: str) -> str:
    """'Referred to CPS' -> 'referred to CPS' (acronyms keep their capitals)."""
    return label[:1].lower() + label[1:]


def status_names(statuses: tuple[str, ...]) -> str:
    names = [lower_first(str(Case.Status(s).label)) for s in statuses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class StepForm(GovukFormMixin, forms.Form):
    """A step on a case: ``perm`` says who may, ``statuses`` when; ``run`` calls the service. Date fields
    named in ``today_fields`` start at the London today."""

    slug: str = ""
    title: str = ""
    perm: str = ""
    statuses: tuple[str, ...] = ()
    today_fields: tuple[str, ...] = (
        "on",
        "received_on",
        "decided_on",
        "held_on",
        "charged_on",
        "requested_on",
        "given_on",
    )

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
                f"Not at this stage: the case is {lower_first(case.get_status_display())}. "
                f"This step is possible when the case is {status_names(cls.statuses)}."
            )
        return cls.refusal_detail(case, facts or {})

    @classmethod
    def refusal_detail(cls, case: Case, facts: dict[str, Any]) -> str:
        return ""

    def run(self, actor: User) -> Any:
        raise NotImplementedError


def radios(choices: Any) -> forms.RadioSelect:
    return forms.RadioSelect(choices=choices)
