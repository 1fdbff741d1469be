"""Pure rules for protective orders (victims/order_rules.py): no database.

- DVPO end dates: CSA 2010 s.28(10), bounds from cases.clocks.dvpo_end_bounds, and the refusal's wording;
- DAPO notification: "within the period of three days beginning with the day on which the order is made" (DA Act
  2021 s.41(2)): the made day is day 1, so the last day is two days after it, never three.
"""

from __future__ import annotations

import ast
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from victims import order_rules
from victims.order_rules import (
    dapo_notification_due,
    dvpo_end_allowed,
    dvpo_end_message,
    notification_state,
)

D = date


def test_dvpo_refusal_names_the_made_day_the_allowed_dates_and_the_section():
    assert dvpo_end_message(D(2026, 6, 1)) == (
        "A DVPO made on 1 June 2026 must end between 14 June 2026 and 28 June 2026 "
        "(Crime and Security Act 2010 s.28(10))."
    )


@pytest.mark.parametrize(
    ("expires_on", "allowed"),
    [
        (D(2026, 6, 13), False),  # 13 days beginning with 1 June
        (D(2026, 6, 14), True),  # 14 days
        (D(2026, 6, 28), True),  # 28 days
        (D(2026, 6, 29), False),  # 29 days
        (D(2026, 7, 31), False),  # the 60-day DVPO that was once accepted
    ],
)
def test_dvpo_end_allowed_at_the_edges(expires_on, allowed):
    assert dvpo_end_allowed(D(2026, 6, 1), expires_on) is allowed


@pytest.mark.parametrize(
    ("made_on", "due_on"),
    [
        (D(2026, 6, 1), D(2026, 6, 3)),
        (D(2026, 1, 31), D(2026, 2, 2)),  # month end
        (D(2026, 2, 28), D(2026, 3, 2)),
        (D(2028, 2, 28), D(2028, 3, 1)),  # leap year: 29 Feb is day 2
        (D(2026, 12, 31), D(2027, 1, 2)),  # year end
        (D(2026, 12, 24), D(2026, 12, 26)),  # holidays do not move it: calendar days
    ],
)
def test_dapo_notification_is_due_on_the_third_day_counting_the_made_day(made_on, due_on):
    assert dapo_notification_due(made_on) == due_on


def test_dapo_notification_input_is_checked():
    with pytest.raises(TypeError):
        dapo_notification_due(datetime(2026, 6, 1, 9, tzinfo=UTC))
    with pytest.raises(TypeError):
        dapo_notification_due(D(2026, 6, 1), days=0)
    with pytest.raises(TypeError):
        dapo_notification_due(D(2026, 6, 1), days=True)


@pytest.mark.parametrize(
    ("due_on", "notified_on", "today", "state"),
    [
        (None, None, D(2026, 6, 10), "not_started"),
        (D(2026, 6, 3), None, D(2026, 6, 3), "due_soon"),
        (D(2026, 6, 3), None, D(2026, 6, 4), "overdue"),
        (D(2026, 6, 3), D(2026, 6, 3), D(2026, 6, 10), "met"),
        (D(2026, 6, 3), D(2026, 6, 4), D(2026, 6, 10), "missed"),
    ],
)
def test_notification_state(due_on, notified_on, today, state):
    assert notification_state(due_on=due_on, notified_on=notified_on, today=today) == state


def test_module_has_no_django():
    tree = ast.parse(Path(str(order_rules.__file__)).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) <= {"cases"}, imported
