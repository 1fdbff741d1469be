"""Every step of the case page, in the page's order: the charging workflow's (``charging/forms.py``) and the
people's (``victims/steps.py``). Each app owns its forms; only the page that shows them all knows them all."""

from __future__ import annotations

from cases.forms import StepForm
from charging.forms import STEPS as CHARGING
from victims.steps import STEPS as PEOPLE

_ORDER = (
    "refer",
    "early-advice",
    "early-advice-give",
    "triage",
    "conversation",
    "action-plan",
    "decide",
    "action",
    "action-plan-amend",
    "charge",
    "offence",
    "offence-people",
    "qualifying-report",
    "report-assign",
    "progress",
    "police-outcome",
    "victim",
    "victim-born",
    "relationship",
    "victim-contact",
)

_ALL: dict[str, type[StepForm]] = {**CHARGING, **PEOPLE}
STEPS: dict[str, type[StepForm]] = {
    **{slug: _ALL[slug] for slug in _ORDER if slug in _ALL},
    **{slug: form for slug, form in _ALL.items() if slug not in _ORDER},
}
