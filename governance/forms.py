"""Forms for the governance pages. They parse and check the shape of input; the services decide what is
allowed. Each is drawn in GOV.UK Design System markup (``GovukFormMixin`` and ``templates/includes/field.html``),
like the case pages' forms."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from cases.forms import DateInput, GovukFormMixin
from charging.models import ActionPlanEscalation, ActionPlanRating, IncompleteReason

from .models import HighHarmOverride, PanelReview


class MonthInput(forms.DateInput):
    """``<input type="month">``: its value must be ``yyyy-MM`` (a date's value, ``01/01/2026`` in the site's
    locale format, leaves the box empty). ``forms.DateInput`` sets ``format`` on the instance, so it is passed
    here rather than set on the class."""

    input_type = "month"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {"class": "govuk-input govuk-input--width-10", **(attrs or {})}
        super().__init__(attrs=attrs, format="%Y-%m")


class MonthField(forms.DateField):
    widget = MonthInput
    default_error_messages = {"invalid": "Enter a month, for example 2026-01."}

    def to_python(self, value: Any) -> datetime.date | None:
        if isinstance(value, str) and len(value) == 7:
            value = f"{value}-01"
        return super().to_python(value)


class PeriodForm(GovukFormMixin, forms.Form):
    start = MonthField(label="From (month)", required=False, input_formats=["%Y-%m-%d"])
    end = MonthField(label="To (month)", required=False, input_formats=["%Y-%m-%d"])
    series = forms.ChoiceField(label="Force, Area or group", required=False)

    MAX_MONTHS = 36

    def __init__(self, *args: Any, series_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["series"].choices = series_choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period ends before it starts.")
            elif (end.year - start.year) * 12 + end.month - start.month >= self.MAX_MONTHS:
                self.add_error("start", f"Choose at most {self.MAX_MONTHS} months.")
        return data


class MeetingForm(GovukFormMixin, forms.Form):
    held_on = forms.DateField(widget=DateInput, label="Meeting date")
    random_count = forms.IntegerField(min_value=0, max_value=200, initial=5, label="Cases drawn at random")
    per_rule_limit = forms.IntegerField(min_value=0, max_value=200, initial=10, label="Most cases per rule")
    seed = forms.CharField(
        max_length=64, required=False, label="Seed", help_text="The same seed gives the same draw."
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


_RATING_CHOICES = [(v, label) for v, label in PanelReview.Rating.choices]


class FindingsForm(GovukFormMixin, forms.Form):
    investigation = forms.ChoiceField(choices=_RATING_CHOICES, required=False)
    decision_making = forms.ChoiceField(choices=_RATING_CHOICES, required=False, label="Decision making")
    timeliness = forms.ChoiceField(choices=_RATING_CHOICES, required=False)
    action_plan_proportionality = forms.ChoiceField(
        choices=_RATING_CHOICES, required=False, label="Proportionality of action plans"
    )
    victims_code_compliance = forms.ChoiceField(
        choices=_RATING_CHOICES, required=False, label="Victims' Code compliance"
    )
    language = forms.ChoiceField(
        choices=_RATING_CHOICES, required=False, label="Language (trauma-informed, not victim-blaming)"
    )
    learning_points = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "findings": {name: d[name] or "" for name in PanelReview.FINDINGS},
            "learning_points": d["learning_points"],
        }


class ShareLearningForm(GovukFormMixin, forms.Form):
    shared_with = forms.CharField(max_length=200, label="Shared with (e.g. the local DA forum, the JOIM)")
    on = forms.DateField(widget=DateInput, label="Date shared")


class RatingForm(GovukFormMixin, forms.Form):
    step_title = "Rate the plan's proportionality"

    rating = forms.ChoiceField(choices=ActionPlanRating.Rating.choices, widget=forms.RadioSelect)
    on = forms.DateField(widget=DateInput, label="Date rated")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Required when disproportionate."
    )


class EscalationRaiseForm(GovukFormMixin, forms.Form):
    step_title = "Escalate the plan"

    on = forms.DateField(widget=DateInput, label="Date raised")
    grounds = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class EscalationAnswerForm(GovukFormMixin, forms.Form):
    step_title = "Answer the escalation"

    on = forms.DateField(widget=DateInput, label="Date answered")
    response = forms.ChoiceField(choices=ActionPlanEscalation.Response.choices, widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Explanation to police")


class EscalationResolveForm(GovukFormMixin, forms.Form):
    step_title = "Resolve the escalation"

    on = forms.DateField(widget=DateInput, label="Date resolved")
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What was agreed")


class IncompleteReasonForm(GovukFormMixin, forms.Form):
    step_title = "Record why an action is not complete"

    action = forms.TypedChoiceField(coerce=int, label="Action")
    reason = forms.ChoiceField(choices=[c for c in IncompleteReason.choices if c[0]])
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, actions: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = actions


class OverrideForm(GovukFormMixin, forms.Form):
    override = forms.ChoiceField(choices=HighHarmOverride.choices, widget=forms.RadioSelect, required=False)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
