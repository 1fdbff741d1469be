"""The shared definition of a high-harm repeat offender: a pure rule, no Django, no database.

Source: DA Joint Justice Plan (NPCC and CPS, 2024), strategic priority 4.3 ("develop a shared definition of
high-risk, high-harm repeat offending, and cross-agency flagging system to identify offenders who present the
greatest threat"); the plan's example criteria, as the issue lists them: two or more domestic abuse cases within
twelve months, more than one victim, a high risk assessment, a breach of an order. The plan leaves the
definition to local agreement, so every threshold is a deployment setting (``settings.JJP_HHRO``), read by
:func:`definition_from_settings` and passed in here as a :class:`HhroDefinition`.

The database side (``governance/services.py``) computes the :class:`PersonFacts` of every person in one set of
SQL aggregates and calls :func:`evaluate` for each row of that result.

Criteria (each can be switched off by setting its threshold to 0 or an empty list):

* ``repeat``: at least ``min_cases`` domestic abuse cases reported within the last ``window_months`` months;
* ``multiple_victims``: at least ``min_victims`` different victims across those cases;
* ``high_risk``: at least one of those cases assessed at one of ``risk_levels`` (DASH/DARA "high");
* ``order_breach``: at least ``min_breaches`` breaches of a protective order within the window.

A person is flagged when every criterion in ``required`` is met and at least ``min_criteria`` criteria are met
in all. The default (repeat required, two criteria in all) reads: a repeat domestic abuse suspect with at least
one further sign of high harm.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

CRITERIA = ("repeat", "multiple_victims", "high_risk", "order_breach")


@dataclass(frozen=True)
class HhroDefinition:
    """The per-deployment definition. Defaults are the plan's examples."""

    window_months: int = 12
    min_cases: int = 2
    min_victims: int = 2
    risk_levels: tuple[str, ...] = ("high",)
    min_breaches: int = 1
    required: tuple[str, ...] = ("repeat",)
    min_criteria: int = 2

    def __post_init__(self) -> None:
        for name in ("window_months", "min_cases", "min_victims", "min_breaches", "min_criteria"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"JJP_HHRO {name} must be a whole number of 0 or more, not {value!r}")
        if self.window_months < 1:
            raise ValueError("JJP_HHRO window_months must be at least 1")
        unknown = [c for c in self.required if c not in CRITERIA]
        if unknown:
            raise ValueError(f"JJP_HHRO required names unknown criteria {unknown}; known: {list(CRITERIA)}")
        disabled = [c for c in self.required if c not in self.enabled]
        if disabled:
            raise ValueError(f"JJP_HHRO requires criteria that are switched off: {disabled}")
        if self.min_criteria > len(self.enabled):
            raise ValueError(
                f"JJP_HHRO min_criteria is {self.min_criteria} but only {len(self.enabled)} criteria are on"
            )
        if self.min_criteria < 1 and not self.required:
            raise ValueError("JJP_HHRO would flag everyone: set min_criteria or required")

    @property
    def enabled(self) -> tuple[str, ...]:
        on = {
            "repeat": self.min_cases > 0,
            "multiple_victims": self.min_victims > 0,
            "high_risk": bool(self.risk_levels),
            "order_breach": self.min_breaches > 0,
        }
        return tuple(c for c in CRITERIA if on[c])

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["risk_levels"] = list(self.risk_levels)
        d["required"] = list(self.required)
        return d


@dataclass(frozen=True)
class PersonFacts:
    """What the database knows about one person within the window (computed by SQL aggregates)."""

    da_cases: int = 0
    victims: int = 0
    high_risk_cases: int = 0
    order_breaches: int = 0


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    value: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, "value": self.value}


@dataclass(frozen=True)
class Evaluation:
    flagged: bool
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def reasons_as_dicts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def criteria_met(facts: PersonFacts, definition: HhroDefinition) -> tuple[Reason, ...]:
    """Every enabled criterion the facts meet, each with a reason a caseworker reads."""
    months = definition.window_months
    met: list[Reason] = []
    enabled = definition.enabled
    if "repeat" in enabled and facts.da_cases >= definition.min_cases:
        met.append(
            Reason(
                "repeat",
                f"{_plural(facts.da_cases, 'domestic abuse case')} within {_plural(months, 'month')}",
                facts.da_cases,
            )
        )
    if "multiple_victims" in enabled and facts.victims >= definition.min_victims:
        met.append(
            Reason(
                "multiple_victims",
                f"{_plural(facts.victims, 'victim')} within {_plural(months, 'month')}",
                facts.victims,
            )
        )
    if "high_risk" in enabled and facts.high_risk_cases >= 1:
        met.append(
            Reason(
                "high_risk",
                f"assessed as high risk in {_plural(facts.high_risk_cases, 'case')}",
                facts.high_risk_cases,
            )
        )
    if "order_breach" in enabled and facts.order_breaches >= definition.min_breaches:
        met.append(
            Reason(
                "order_breach",
                f"{_plural(facts.order_breaches, 'breach', 'breaches')} of a protective order within "
                f"{_plural(months, 'month')}",
                facts.order_breaches,
            )
        )
    return tuple(met)


def evaluate(facts: PersonFacts, definition: HhroDefinition) -> Evaluation:
    """Apply the definition: flagged when every required criterion is met and at least ``min_criteria`` are.
    The reasons are the criteria met (also when not flagged, so a near miss can be seen)."""
    met = criteria_met(facts, definition)
    codes = {r.code for r in met}
    flagged = all(c in codes for c in definition.required) and len(codes) >= definition.min_criteria
    return Evaluation(flagged=flagged, reasons=met)


def window_start(today: date, months: int) -> date:
    """The first day inside a window of ``months`` calendar months ending ``today``: the same day ``months``
    months earlier, plus one (clamped to the month's length), so 12 months to 2 Mar 2026 starts 3 Mar 2025."""
    if months < 1:
        raise ValueError("months must be at least 1")
    month_index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(today.day, calendar.monthrange(year, month)[1])
    start = date(year, month, day)
    return date.fromordinal(start.toordinal() + 1)


def definition_from_settings(values: Mapping[str, Any] | None) -> HhroDefinition:
    """Build the definition from the ``JJP_HHRO`` settings mapping (missing keys take the defaults); fails
    loudly on unknown keys or malformed values."""
    values = dict(values or {})
    known = set(HhroDefinition.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"JJP_HHRO has unknown keys {unknown}; known: {sorted(known)}")
    for key in ("risk_levels", "required"):
        if key in values:
            values[key] = tuple(_as_strings(values[key], key))
    return HhroDefinition(**values)


def _as_strings(value: Any, key: str) -> Iterable[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise ValueError(f"JJP_HHRO {key} must be a list of names, not {value!r}")
