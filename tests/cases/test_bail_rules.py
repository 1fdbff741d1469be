"""Pre-charge bail, RUI and MARAC referral (issue 18): table tests and hypothesis properties for the pure rules in
cases/clocks.py. Every worked example is in docs/rules.md.

Pure: no Django, no database. Run: .venv/bin/pytest tests/cases/test_bail_rules.py -p no:django -q
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.clocks import (
    BailAuthority,
    BailRegime,
    ClockRules,
    MaracReason,
    add_months,
    bail_extension_authority,
    bail_initial_end,
    bail_period_end,
    bail_regime,
    bail_start_date,
    marac_referral_reasons,
    rui_review_due,
)

D = date
RULES = ClockRules()

# --------------------------------------------------------------------------------------------------
# Pre-charge bail: PACE 1984 ss.47ZA-47ZM (Policing and Crime Act 2017 s.63; PCSC Act 2022 Sch 4)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2026, 1, 15), 3, D(2026, 4, 14)),  # plain: the day before the corresponding date
        (D(2025, 12, 1), 3, D(2026, 2, 28)),  # 1 Mar corresponding date -> 28 Feb
        (D(2027, 12, 1), 3, D(2028, 2, 29)),  # leap year
        (D(2025, 8, 31), 3, D(2025, 11, 29)),  # no 31 Nov: clamped to 30 Nov, the day before -> 29 Nov
        (D(2025, 11, 30), 3, D(2026, 2, 27)),  # no 30 Feb: clamped to 28 Feb -> 27 Feb
        (D(2025, 8, 31), 6, D(2026, 2, 27)),  # 6 months, inspector
        (D(2025, 5, 31), 9, D(2026, 2, 27)),  # 9 months, superintendent
        (D(2025, 12, 31), 12, D(2026, 12, 30)),  # 12 months, court
    ],
    ids=["plain", "dec-to-feb", "leap", "31-aug", "30-nov", "6-months", "9-months", "12-months"],
)
def test_bail_period_end_month_ends(start: date, months: int, end: date) -> None:
    assert bail_period_end(start, months=months) == end


def test_bail_start_date_is_the_day_after_arrest() -> None:
    assert bail_start_date(D(2025, 8, 30)) == D(2025, 8, 31)
    assert bail_start_date(D(2025, 12, 31)) == D(2026, 1, 1)


@pytest.mark.parametrize(
    ("arrested", "regime", "end"),
    [
        (D(2017, 4, 2), BailRegime.NONE, None),
        (D(2017, 4, 3), BailRegime.PACE2017, D(2017, 5, 1)),  # start 4 Apr + 27 days
        (D(2022, 10, 27), BailRegime.PACE2017, D(2022, 11, 24)),  # last day of the 28-day period
        (D(2022, 10, 28), BailRegime.PCSC2022, D(2023, 1, 28)),  # start 29 Oct; 29 Jan - 1 day
        (D(2025, 8, 30), BailRegime.PCSC2022, D(2025, 11, 29)),  # start 31 Aug: the month-end case
    ],
    ids=["before-2017", "first-2017", "last-2017", "first-2022", "month-end"],
)
def test_bail_regime_and_initial_end(arrested: date, regime: BailRegime, end: date | None) -> None:
    assert bail_regime(arrested) is regime
    assert bail_initial_end(arrested) == end


@pytest.mark.parametrize(
    ("arrested", "months", "designated", "authority"),
    [
        (D(2025, 1, 10), 4, False, BailAuthority.INSPECTOR),
        (D(2025, 1, 10), 6, False, BailAuthority.INSPECTOR),
        (D(2025, 1, 10), 7, False, BailAuthority.SUPERINTENDENT),
        (D(2025, 1, 10), 9, False, BailAuthority.SUPERINTENDENT),
        (D(2025, 1, 10), 10, False, BailAuthority.MAGISTRATES_COURT),
        (D(2025, 1, 10), 12, False, BailAuthority.MAGISTRATES_COURT),
        (D(2025, 1, 10), 12, True, BailAuthority.COMMANDER_OR_ACC),
        (D(2025, 1, 10), 13, True, BailAuthority.MAGISTRATES_COURT),
        (D(2020, 1, 10), 1, False, BailAuthority.SUPERINTENDENT),
        (D(2020, 1, 10), 3, False, BailAuthority.SUPERINTENDENT),
        (D(2020, 1, 10), 4, False, BailAuthority.MAGISTRATES_COURT),
        (D(2020, 1, 10), 6, True, BailAuthority.COMMANDER_OR_ACC),
        (D(2020, 1, 10), 7, True, BailAuthority.MAGISTRATES_COURT),
    ],
)
def test_bail_extension_authority(
    arrested: date, months: int, designated: bool, authority: BailAuthority
) -> None:
    assert bail_extension_authority(arrested, months, designated=designated) is authority


def test_bail_extension_authority_refuses_what_needs_no_extension() -> None:
    with pytest.raises(ValueError, match="within the initial 3-month period"):
        bail_extension_authority(D(2025, 1, 10), 3)
    with pytest.raises(ValueError, match="no statutory bail period"):
        bail_extension_authority(D(2016, 1, 10), 3)
    with pytest.raises(ValueError, match="new_total_months must be >= 1"):
        bail_extension_authority(D(2025, 1, 10), 0)


def test_bail_periods_are_settings() -> None:
    assert (RULES.bail_initial_months, RULES.bail_inspector_months, RULES.bail_superintendent_months) == (
        3,
        6,
        9,
    )
    assert RULES.bail_pcsc_in_force_on == D(2022, 10, 28)
    assert RULES.bail_2017_initial_days == 28
    rules = ClockRules(bail_pcsc_in_force_on=D(2023, 1, 1), bail_initial_months=2)
    assert bail_regime(D(2022, 12, 31), rules=rules) is BailRegime.PACE2017
    assert bail_initial_end(D(2023, 1, 1), rules=rules) == D(2023, 3, 1)
    with pytest.raises(TypeError, match="bail_pcsc_in_force_on must be a datetime.date"):
        ClockRules(bail_pcsc_in_force_on="2022-10-28")  # type: ignore[arg-type]


def test_rui_review_due_is_a_setting() -> None:
    assert rui_review_due(D(2026, 6, 1)) == D(2026, 6, 29)
    assert rui_review_due(D(2026, 6, 1), rules=ClockRules(rui_review_days=90)) == D(2026, 8, 30)


# --------------------------------------------------------------------------------------------------
# MARAC referral criteria (SafeLives)
# --------------------------------------------------------------------------------------------------

ON = D(2026, 3, 15)


@pytest.mark.parametrize(
    ("kwargs", "reasons"),
    [
        ({"dash_yes_answers": 14}, [MaracReason.HIGH_RISK]),
        ({"dash_yes_answers": 13}, []),
        ({"dash_yes_answers": None}, []),
        ({"professional_judgement": True}, [MaracReason.PROFESSIONAL_JUDGEMENT]),
        ({"police_callouts_12_months": 3}, [MaracReason.POTENTIAL_ESCALATION]),
        ({"police_callouts_12_months": 2}, []),
        ({"last_marac_on": D(2025, 3, 15)}, [MaracReason.REPEAT]),  # the corresponding date: still a repeat
        ({"last_marac_on": D(2025, 3, 14)}, []),  # 12 months and a day: a new referral
        (
            {
                "dash_yes_answers": 20,
                "professional_judgement": True,
                "police_callouts_12_months": 5,
                "last_marac_on": D(2026, 1, 1),
            },
            [
                MaracReason.HIGH_RISK,
                MaracReason.PROFESSIONAL_JUDGEMENT,
                MaracReason.POTENTIAL_ESCALATION,
                MaracReason.REPEAT,
            ],
        ),
    ],
    ids=[
        "14-yes",
        "13-yes",
        "no-dash",
        "judgement",
        "3-callouts",
        "2-callouts",
        "repeat-12-months",
        "repeat-expired",
        "all-four",
    ],
)
def test_marac_referral_reasons(kwargs: dict[str, object], reasons: list[MaracReason]) -> None:
    args: dict[str, object] = {
        "dash_yes_answers": 0,
        "professional_judgement": False,
        "police_callouts_12_months": 0,
        "last_marac_on": None,
        "on": ON,
    }
    args.update(kwargs)
    assert marac_referral_reasons(**args) == reasons  # type: ignore[arg-type]


def test_marac_thresholds_are_settings_and_inputs_are_checked() -> None:
    rules = ClockRules(marac_dash_threshold=10, marac_escalation_callouts=2, marac_repeat_months=6)
    assert marac_referral_reasons(
        dash_yes_answers=10,
        professional_judgement=False,
        police_callouts_12_months=2,
        last_marac_on=D(2025, 9, 15),
        on=ON,
        rules=rules,
    ) == [MaracReason.HIGH_RISK, MaracReason.POTENTIAL_ESCALATION, MaracReason.REPEAT]
    with pytest.raises(ValueError, match="before the last MARAC referral"):
        marac_referral_reasons(
            dash_yes_answers=0,
            professional_judgement=False,
            police_callouts_12_months=0,
            last_marac_on=D(2026, 4, 1),
            on=ON,
        )
    with pytest.raises(TypeError, match="professional_judgement must be a bool"):
        marac_referral_reasons(
            dash_yes_answers=0,
            professional_judgement=1,  # type: ignore[arg-type]
            police_callouts_12_months=0,
            last_marac_on=None,
            on=ON,
        )


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2035, 12, 31))
prop_settings = settings(max_examples=200, deadline=None)


@prop_settings
@given(start=dates, months=st.integers(min_value=1, max_value=24))
def test_bail_end_is_the_day_before_the_corresponding_date(start: date, months: int) -> None:
    end = bail_period_end(start, months=months)
    assert end + timedelta(days=1) == add_months(start, months)
    assert start <= end


@prop_settings
@given(start=dates, months=st.integers(min_value=1, max_value=24))
def test_bail_end_never_decreases(start: date, months: int) -> None:
    assert bail_period_end(start, months=months) <= bail_period_end(start + timedelta(days=1), months=months)
    assert bail_period_end(start, months=months) < bail_period_end(start, months=months + 1)


@prop_settings
@given(arrested=st.dates(min_value=D(2017, 4, 3), max_value=D(2035, 12, 31)))
def test_initial_bail_end_follows_the_regime(arrested: date) -> None:
    end = bail_initial_end(arrested)
    assert end is not None
    start = bail_start_date(arrested)
    if bail_regime(arrested) is BailRegime.PCSC2022:
        assert end == add_months(start, 3) - timedelta(days=1)
    else:
        assert (end - start).days + 1 == 28


_RANK = [
    BailAuthority.INSPECTOR,
    BailAuthority.SUPERINTENDENT,
    BailAuthority.COMMANDER_OR_ACC,
    BailAuthority.MAGISTRATES_COURT,
]


@prop_settings
@given(
    arrested=st.dates(min_value=D(2017, 4, 3), max_value=D(2035, 12, 31)),
    months=st.integers(min_value=4, max_value=36),
    designated=st.booleans(),
)
def test_a_longer_extension_never_needs_a_lower_authority(
    arrested: date, months: int, designated: bool
) -> None:
    this = bail_extension_authority(arrested, months, designated=designated)
    longer = bail_extension_authority(arrested, months + 1, designated=designated)
    assert _RANK.index(this) <= _RANK.index(longer)


@prop_settings
@given(
    yes=st.integers(min_value=0, max_value=27),
    callouts=st.integers(min_value=0, max_value=20),
    last=st.one_of(st.none(), dates),
    gap=st.integers(min_value=0, max_value=800),
    judgement=st.booleans(),
)
def test_marac_reasons_match_each_criterion(
    yes: int, callouts: int, last: date | None, gap: int, judgement: bool
) -> None:
    on = (last or D(2020, 1, 1)) + timedelta(days=gap)
    reasons = marac_referral_reasons(
        dash_yes_answers=yes,
        professional_judgement=judgement,
        police_callouts_12_months=callouts,
        last_marac_on=last,
        on=on,
    )
    assert (MaracReason.HIGH_RISK in reasons) == (yes >= 14)
    assert (MaracReason.PROFESSIONAL_JUDGEMENT in reasons) == judgement
    assert (MaracReason.POTENTIAL_ESCALATION in reasons) == (callouts >= 3)
    assert (MaracReason.REPEAT in reasons) == (last is not None and on <= add_months(last, 12))
    assert reasons == sorted(reasons, key=list(MaracReason).index)


def test_every_rule_value_can_be_set_from_the_environment():
    """Unsettled values are settings: any ClockRules value as JJP_RULE_<NAME>, checked at start."""
    import pytest as _pytest

    from cases import clocks as _clocks

    got = _clocks.rules_from_environment(
        {
            "JJP_RULE_CTL_ALERT_WORKING_DAYS": "12",
            "JJP_RULE_BAIL_PCSC_IN_FORCE_ON": "2022-10-28",
            "OTHER": "x",
        }
    )
    assert got == {"ctl_alert_working_days": 12, "bail_pcsc_in_force_on": _clocks.date(2022, 10, 28)}
    assert _clocks.ClockRules(**got).ctl_alert_working_days == 12
    with _pytest.raises(ValueError, match="JJP_RULE_DVPO_MAX_DAYS='four weeks' is not a whole number"):
        _clocks.rules_from_environment({"JJP_RULE_DVPO_MAX_DAYS": "four weeks"})
