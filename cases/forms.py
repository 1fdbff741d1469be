"""Forms for the case pages. They parse and check the shape of input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .models import Case, OffenceType


class DateInput(forms.DateInput):
    input_type = "date"


class CaseCreateForm(forms.Form):
    urn = forms.CharField(label="URN", max_length=20)
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


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors against their fields where the form has
    them (``offences[0].committed_on`` maps to ``committed_on``), the rest at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = field.rsplit(".", 1)[-1]
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
