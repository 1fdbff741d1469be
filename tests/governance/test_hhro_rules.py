"""The shared high-harm repeat offender definition as a pure rule (governance/hhro.py): no database."""

from __future__ import annotations

import datetime

import pytest

from governance.hhro import (
    HhroDefinition,
    PersonFacts,
    criteria_met,
    definition_from_settings,
    evaluate,
    window_start,
)

D = datetime.date
DEFAULT = HhroDefinition()


def codes(facts: PersonFacts, definition: HhroDefinition = DEFAULT) -> set[str]:
    return {r.code for r in criteria_met(facts, definition)}


def test_the_module_imports_nothing_from_django():
    import pathlib

    import governance.hhro as module

    assert "django" not in pathlib.Path(module.__file__).read_text()


@pytest.mark.parametrize(
    ("facts", "flagged", "met"),
    [
        (PersonFacts(), False, set()),
        # repeat alone is not high harm under the default (repeat + one more)
        (PersonFacts(da_cases=2), False, {"repeat"}),
        (
            PersonFacts(da_cases=1, victims=2, high_risk_cases=1, order_breaches=3),
            False,
            {"multiple_victims", "high_risk", "order_breach"},
        ),
        (PersonFacts(da_cases=2, victims=2), True, {"repeat", "multiple_victims"}),
        (PersonFacts(da_cases=2, victims=1, high_risk_cases=1), True, {"repeat", "high_risk"}),
        (PersonFacts(da_cases=3, order_breaches=1), True, {"repeat", "order_breach"}),
        (PersonFacts(da_cases=2, victims=1), False, {"repeat"}),  # one victim is not "more than one"
    ],
)
def test_default_definition_repeat_plus_one_more_sign(facts, flagged, met):
    result = evaluate(facts, DEFAULT)
    assert result.flagged is flagged
    assert {r.code for r in result.reasons} == met


def test_reasons_read_as_sentences_with_their_figures():
    result = evaluate(PersonFacts(da_cases=3, victims=2, high_risk_cases=1, order_breaches=2), DEFAULT)
    assert [r.text for r in result.reasons] == [
        "3 domestic abuse cases within 12 months",
        "2 victims within 12 months",
        "assessed as high risk in 1 case",
        "2 breaches of a protective order within 12 months",
    ]
    assert result.reasons_as_dicts()[0] == {
        "code": "repeat",
        "text": "3 domestic abuse cases within 12 months",
        "value": 3,
    }


def test_any_one_criterion_definition():
    any_one = HhroDefinition(required=(), min_criteria=1)
    assert evaluate(PersonFacts(order_breaches=1), any_one).flagged
    assert evaluate(PersonFacts(high_risk_cases=1), any_one).flagged
    assert not evaluate(PersonFacts(da_cases=1, victims=1), any_one).flagged


def test_thresholds_are_configurable_and_zero_switches_a_criterion_off():
    strict = HhroDefinition(min_cases=3, min_victims=0, min_criteria=2)
    assert "multiple_victims" not in strict.enabled
    assert codes(PersonFacts(da_cases=2, victims=5), strict) == set()
    assert evaluate(PersonFacts(da_cases=3, high_risk_cases=1), strict).flagged
    assert not evaluate(PersonFacts(da_cases=3, victims=9), strict).flagged
    medium_counts = HhroDefinition(risk_levels=("high", "medium"))
    assert "high_risk" in codes(PersonFacts(high_risk_cases=1), medium_counts)


@pytest.mark.parametrize(
    "bad",
    [
        {"min_cases": -1},
        {"window_months": 0},
        {"required": ("nonsense",)},
        {"min_criteria": 5},
        {"min_cases": 0, "required": ("repeat",)},  # requires a criterion that is off
        {"required": (), "min_criteria": 0},  # would flag everyone
    ],
)
def test_malformed_definitions_fail_loudly(bad):
    with pytest.raises(ValueError):
        HhroDefinition(**bad)


def test_definition_from_settings():
    d = definition_from_settings({"min_cases": 3, "risk_levels": "high, medium", "required": []})
    assert d.min_cases == 3
    assert d.risk_levels == ("high", "medium")
    assert d.required == ()
    assert definition_from_settings(None) == HhroDefinition()
    with pytest.raises(ValueError, match="unknown keys"):
        definition_from_settings({"min_case": 3})


@pytest.mark.parametrize(
    ("today", "months", "start"),
    [
        (D(2026, 3, 2), 12, D(2025, 3, 3)),
        (D(2026, 1, 15), 1, D(2025, 12, 16)),
        (D(2026, 3, 31), 1, D(2026, 3, 1)),  # 29 Feb does not exist in 2026: clamp to 28 Feb, plus one
        (D(2024, 2, 29), 12, D(2023, 3, 1)),
    ],
)
def test_window_start(today, months, start):
    assert window_start(today, months) == start
