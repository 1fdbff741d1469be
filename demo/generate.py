"""The synthetic national data set behind ``manage.py generate_cases``: a pure planner (no Django, no database).

For each case number ``i`` it decides, from ``(seed, i)`` alone, a whole case history as the services would have
written it: the case and its offences (every mode of trial), suspects (``Person``, some repeat across cases),
victims (children among them), CPS submissions with triage, decisions, action plans and actions, charges,
case conversations, protective orders (DAPN and DAPO, pre-charge bail, non-molestation and restraining orders),
Operation Encompass notifications, victim contacts, the timeline (``CaseEvent``), every ``Clock`` the services
open and stop, and the ``ClockEvent`` crossings a daily sweep would have recorded.

Deadlines come from the pure rules in ``cases/clocks.py`` (the functions ``cases.ledger.due_for`` dispatches
to), with the active rules and bank holiday calendar passed in; the state of each open clock comes from the
``state_of`` function passed in (the command passes ``cases.ledger.ledger_state``). Clocks are stopped the way
the services stop them: met or missed by the date, superseded by a later submission or event, cancelled when a
case closes (except the safeguarding kinds, which outlive it). The test suite checks a sample against
``ledger.due_for`` and ``ledger.ledger_state``.

Rows come out as tuples ready for PostgreSQL ``COPY ... FROM STDIN`` (text format): ``NULL`` for a null, values
whose ``str()`` is the COPY text. Every piece of text is a constant of this module (no tab, newline or
backslash), so nothing needs escaping.

Reproducible: the same seed, count and today give the same rows (ids aside, which come from the database's
sequences); a case's history depends only on ``(seed, i, today)``, not on the batch size.
"""

from __future__ import annotations

import datetime
import json
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cases import clocks

NULL = "\\N"  # COPY's null
D = datetime.date
ONE_DAY = datetime.timedelta(days=1)

# --------------------------------------------------------------------------------------------------------------
# Tables, in the order a batch is written, and their COPY columns. Ids are given for the rows other rows point
# to; the rest (link tables, contacts, timeline, crossings) take theirs from the column default.
# --------------------------------------------------------------------------------------------------------------


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


TABLES: dict[str, tuple[str, ...]] = {
    "cases_person": _columns(
        "id given_name family_name date_of_birth pnc_id high_harm_repeat_offender created_at"
    ),
    "cases_case": _columns(
        "id urn status domestic_abuse summary reported_on first_qualifying_report_on "
        "first_qualifying_report_kind risk_level risk_tool children_in_household police_perpetrated "
        "restricted high_harm_repeat_offender created_at updated_at oic_id cps_area_id force_id"
    ),
    "cases_case_suspects": _columns("case_id person_id"),
    "cases_case_restricted_to": _columns("case_id user_id"),
    "victims_victim": _columns(
        "id given_name family_name date_of_birth is_child enhanced_rights vulnerable intimidated "
        "special_measures_declined safe_contact_methods safe_contact_times do_not_tell interpreter_language "
        "confidential_address created_at case_id child_saw_or_heard first_qualifying_report_on "
        "first_qualifying_report_kind first_qualifying_report_received_by"
    ),
    "victims_victimsuspectrelationship": _columns(
        "relationship recorded_at recorded_by_id suspect_id victim_id"
    ),
    "cases_offence": _columns(
        "id committed_from committed_on prosecutor_knowledge_on particulars created_at case_id "
        "offence_type_id suspect_id complainant_id"
    ),
    "charging_chargingreferral": _columns(
        "id sequence kind received_on custody triage triaged_on triage_reasons triage_notes respond_by status "
        "closed_on notes case_id submitted_by_id prosecutor_id force_id cps_area_id restricted"
    ),
    "charging_chargingdecision": _columns(
        "id decided_on test outcome evidence_led_viable evidence_led_strategy reasons case_id decided_by_id "
        "referral_id"
    ),
    "charging_actionplan": _columns("id issued_on respond_by status closed_on case_id decision_id"),
    "charging_action": _columns(
        "id description category due_on status completed_on latest_reason owner_id plan_id incomplete_reason"
    ),
    "charging_charge": _columns("id charged_on information_laid_on case_id charged_by_id decision_id"),
    "charging_charge_offences": _columns("charge_id offence_id"),
    "charging_caseconversation": _columns(
        "id held_on mode reasonable_lines_of_inquiry evidential_concerns early_prosecution_strategy "
        "protective_orders_considered protective_orders_notes case_id recorded_by_id referral_id"
    ),
    "charging_caseconversation_participants": _columns("caseconversation_id user_id"),
    "victims_protectiveorder": _columns(
        "id kind status considered_on applied_on served_at granted_on expires_on conditions victim_views "
        "case_id created_by_id ended_on heard_at notice_id reason refused_on respondent_id varied_on "
        "victim_id"
    ),
    "victims_victimcontact": _columns(
        "contacted_at method purpose outcome made_by_id victim_id support_service_id"
    ),
    "victims_operationencompassnotification": _columns(
        "school notified_to notified_at method notes recorded_at case_id child_id recorded_by_id"
    ),
    "cases_clock": _columns(
        "id kind side label started_on due_on due_at warn_on stopped_on state state_changed_at params "
        "action_id case_id order_id referral_id victim_id offence_id previous_state force_id cps_area_id restricted"
    ),
    "cases_clockevent": _columns(
        "kind from_state to_state crossed_on created_at case_id clock_id sweep_run_id"
    ),
    "cases_caseevent": _columns("kind occurred_at summary reason data actor_id case_id"),
}

#: The tables whose ids the planner assigns (from counters the caller seeds from the sequences).
ID_TABLES = (
    "cases_person",
    "cases_case",
    "cases_offence",
    "victims_victim",
    "charging_chargingreferral",
    "charging_chargingdecision",
    "charging_actionplan",
    "charging_action",
    "charging_charge",
    "charging_caseconversation",
    "victims_protectiveorder",
    "cases_clock",
)

# --------------------------------------------------------------------------------------------------------------
# What a case goes through. Weights are per cent of cases; the first cases take each scenario in turn so even a
# small data set has every one (and therefore every case status).
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    status: str  # the case status at the end
    weight: float
    slack: tuple[int, int]  # days from the last step to today


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("reported", "reported", 2, (0, 2)),
    Scenario("investigation", "investigation", 30, (0, 75)),
    Scenario("returned_at_triage", "investigation", 2, (0, 30)),
    Scenario("awaiting_decision", "referred", 7, (0, 20)),
    Scenario("resubmitted", "referred", 2, (0, 20)),
    Scenario("action_plan", "action_plan", 6, (0, 45)),
    Scenario("decided", "decided", 3, (0, 12)),
    Scenario("charged", "charged", 5, (0, 150)),
    Scenario("at_court", "at_court", 6, (0, 300)),
    Scenario("concluded", "concluded", 9, (0, 700)),
    Scenario("nfa_police", "nfa", 18, (0, 900)),
    Scenario("nfa_cps", "nfa", 5, (0, 900)),
    Scenario("out_of_court_police", "out_of_court", 3, (0, 900)),
    Scenario("out_of_court_cps", "out_of_court", 2, (0, 900)),
)

# Offence mix (codes of cases/reference_data.py), weights per cent of offences: every mode of trial.
OFFENCE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("CJA88-39", 30),  # common assault: summary, s.39A
    ("OAPA-47", 14),  # ABH: either way, reducible to common assault
    ("SCA15-76", 8),  # controlling or coercive behaviour
    ("CDA71-1", 7),
    ("SCA15-75A", 5),
    ("PHA97-2", 5),  # harassment: summary
    ("PHA97-2A", 3),  # stalking: summary
    ("FLA96-42A", 3),
    ("SA20-363", 3),
    ("OAPA-20", 3),
    ("OAPA-16", 2),
    ("MCA88-1", 2),
    ("CA03-127", 2),  # summary, CA 2003 s.127(5)
    ("OAPA-18", 1.5),  # indictable only
    ("PHA97-4", 1),
    ("PHA97-4A", 1),
    ("SOA03-66B1", 1),
    ("SOA03-66B2", 1),
    ("DAA21-39", 1),
    ("CDA98-29", 0.5),
)

#: Relative size of each force's domestic abuse caseload (roughly its population, millions); a force missing
#: here weighs 1.
FORCE_WEIGHTS: dict[str, float] = {
    "MPS": 8.9, "GMP": 2.8, "WMP": 2.9, "WYP": 2.3, "TVP": 2.4, "HAM": 2.0, "KNT": 1.9, "ESX": 1.8,
    "LAN": 1.5, "MER": 1.4, "SYP": 1.4, "ASP": 1.7, "DCP": 1.8, "NBR": 1.5, "SSX": 1.7, "SRY": 1.2,
    "HRT": 1.2, "STA": 1.1, "NOT": 1.2, "LEI": 1.1, "DER": 1.1, "WMC": 1.3, "SWP": 1.3, "CAM": 0.9,
    "NFK": 0.9, "SFK": 0.8, "LIN": 0.8, "NTH": 0.8, "HUM": 0.9, "NYP": 0.8, "CHE": 1.1, "CUM": 0.5,
    "DUR": 0.6, "CLE": 0.6, "DOR": 0.8, "WIL": 0.7, "GLO": 0.6, "BED": 0.7, "WAR": 0.6, "DYP": 0.5,
    "GWE": 0.6, "NWP": 0.7, "COL": 0.05,
}  # fmt: skip

GIVEN = (
    "Alex", "Sam", "Jordan", "Casey", "Robin", "Morgan", "Taylor", "Jamie", "Charlie", "Drew", "Avery", "Riley",
    "Quinn", "Rowan", "Sasha", "Kit", "Ellis", "Frankie", "Hayden", "Jesse", "Lee", "Marley", "Nico", "Parker",
)  # fmt: skip
FAMILY = (
    "Ashdown", "Brackley", "Corran", "Dunmore", "Elsworth", "Fenwick", "Garside", "Hollins", "Ingram", "Jessop",
    "Kettering", "Lowther", "Marsden", "Norbury", "Oakley", "Pennant", "Quarry", "Rushton", "Stanway",
    "Thursby", "Underhill", "Varley", "Wetherby", "Yardley",
)  # fmt: skip
SCHOOLS = (
    "Oakfield Primary School",
    "St Anne's Primary School",
    "Hillside Academy",
    "Riverside Infant School",
)
ACTIONS = (
    ("Obtain the 999 call recording", "evidence"),
    ("Obtain the body-worn video from the attending officers", "evidence"),
    ("Take a statement from the neighbour who called police", "witness"),
    ("Obtain the victim's medical records with consent", "medical"),
    ("Download and review the suspect's phone messages", "digital"),
    ("Obtain photographs of the injuries", "evidence"),
    ("Obtain the previous call-out history for the address", "intelligence"),
    ("Interview the suspect about the later messages", "suspect"),
)
TRIAGE_REASONS = (
    "material_not_received",
    "no_disclosure_schedule",
    "no_mg3",
    "no_supervisor_comments",
    "no_da_checklist",
    "no_mg11s",
    "no_exhibits",
    "no_interview_summary",
    "no_suspect_previous",
)
INCOMPLETE_REASONS = ("third_party_material", "digital_forensics", "medical_evidence", "witness_unavailable")

ORDER_LABELS = {
    "dvpn": "Domestic violence protection notice",
    "dvpo": "Domestic violence protection order",
    "dapn": "Domestic abuse protection notice",
    "dapo": "Domestic abuse protection order",
    "non_molestation": "Non-molestation order",
    "restraining": "Restraining order",
    "stalking_protection": "Stalking protection order",
    "pre_charge_bail": "Pre-charge bail conditions",
}
OUTCOME_LABELS = {
    "charge": "Charge",
    "nfa": "No further action",
    "out_of_court": "Out-of-court resolution",
    "action_plan": "Further information needed: action plan",
}
STATUS_LABELS = {"nfa": "No further action", "out_of_court": "Out-of-court resolution"}

STL_KINDS = clocks.STL_CLOCK_KINDS
#: Clocks a closed case keeps open (cases.services.SAFEGUARDING_KINDS).
SAFEGUARDING_KINDS = frozenset(
    {"victim_update", "support_referral", "operation_encompass", "order_expiry", "dapn_hearing"}
)


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForceRef:
    id: int
    code: str
    area_id: int
    alt_area_id: int | None = None  # London: the other London Area a referral may name


@dataclass(frozen=True)
class OffenceTypeRef:
    id: int
    code: str
    title: str
    mode_of_trial: str
    stl_regime: str
    reducible_to_common_assault: bool
    course_of_conduct: bool


@dataclass(frozen=True)
class Staff:
    """The generated staff of each force and CPS Area, by role (user ids)."""

    oics: dict[int, tuple[int, ...]]  # force id -> OICs
    supervisors: dict[int, tuple[int, ...]]
    liaison: dict[int, tuple[int, ...]]  # force id -> victim liaison officers
    prosecutors: dict[int, tuple[int, ...]]  # area id -> prosecutors


@dataclass(frozen=True)
class Context:
    seed: int
    today: datetime.date
    forces: tuple[ForceRef, ...]
    offence_types: dict[str, OffenceTypeRef]
    staff: Staff
    rules: clocks.ClockRules
    calendar: clocks.HolidayCalendar
    #: (kind, due_on, warn_on, today) -> state of an open clock: cases.ledger.ledger_state.
    state_of: Callable[[str, datetime.date, datetime.date, datetime.date], str]


def urn_prefix(seed: int) -> str:
    return f"G{seed}X"


def urn_for(seed: int, i: int) -> str:
    return f"{urn_prefix(seed)}{i:08d}"


def staff_sizes(n_cases: float, *, caseload: int) -> dict[str, int]:
    """How many people a force with ``n_cases`` cases (all stages) has: one OIC per ``caseload`` cases, a
    supervisor per eight OICs, a victim liaison officer per twenty, a triage officer per forty."""
    oics = max(3, math.ceil(n_cases / caseload))
    return {
        "oic": oics,
        "police_supervisor": max(1, math.ceil(oics / 8)),
        "victim_liaison": max(1, math.ceil(oics / 20)),
        "triage_officer": max(1, math.ceil(oics / 40)),
    }


def area_staff_sizes(n_referred: float) -> dict[str, int]:
    """A CPS Area: a prosecutor per 400 referred cases, a legal manager per eight prosecutors."""
    prosecutors = max(2, math.ceil(n_referred / 400))
    return {"prosecutor": prosecutors, "legal_manager": max(1, math.ceil(prosecutors / 8))}


def force_shares(codes: Sequence[str]) -> list[float]:
    weights = [FORCE_WEIGHTS.get(c, 1.0) for c in codes]
    total = sum(weights)
    return [w / total for w in weights]


#: Share of cases that reach CPS (used to size the CPS Areas' staff).
REFERRED_SHARE = (
    sum(
        s.weight
        for s in SCENARIOS
        if s.key not in ("reported", "investigation", "nfa_police", "out_of_court_police")
    )
    / 100
)
#: Timeline entries whose service saves the case row (so they move ``Case.updated_at``).
CASE_SAVING_EVENTS = frozenset(
    {
        "case_created",
        "referred",
        "triage_rejected",
        "action_plan",
        "decision",
        "charged",
        "case_at_court",
        "case_concluded",
        "police_outcome",
    }
)


# --------------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Batch:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(values)

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.rows.items()}

    def copy_text(self, table: str) -> str:
        """The rows of one table in COPY text format."""
        rows = self.rows[table]
        if not rows:
            return ""
        return "\n".join("\t".join(map(str, row)) for row in rows) + "\n"


class Ids:
    """Per-table id counters, seeded by the caller from the database sequences."""

    def __init__(self, first: dict[str, int]) -> None:
        self.next = dict(first)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


# --------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------


def _n(value: Any) -> Any:
    return NULL if value is None else value


def _ts(day: datetime.date, hour: int, minute: int = 0) -> str:
    """A London wall-clock time on ``day`` (hours 07-22 only: never in a clock-change gap)."""
    return f"{day} {hour:02d}:{minute:02d}:00 Europe/London"


def _json_value(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f'"{value}"'  # this module's constants: no quote or backslash to escape
    return json.dumps(value, separators=(",", ":"))


def _json(data: dict[str, Any]) -> str:
    """A small JSON object of this module's own values (the same text as ``json.dumps`` with sorted keys and
    no spaces, without its cost on millions of rows)."""
    if not data:
        return "{}"
    return "{" + ",".join(f'"{k}":{_json_value(data[k])}' for k in sorted(data)) + "}"


def _pick(rng: random.Random, cumulative: Sequence[float], values: Sequence[Any]) -> Any:
    u = rng.random() * cumulative[-1]
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if u < cumulative[mid]:
            hi = mid
        else:
            lo = mid + 1
    return values[lo]


def _cumulative(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _between(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo + 1))


def _person_born(seed: int, index: int) -> datetime.date:
    """A case's own suspect's date of birth, a function of the seed and the case's index alone, so a later case
    naming an earlier case's suspect (a repeat suspect) knows it without reading it back: between 1960 and 1999."""
    h = ((seed * 1_000_003 + index) * 2_654_435_761) % 4_294_967_296
    return datetime.date(1960 + h % 40, 1 + (h >> 8) % 12, 1 + (h >> 16) % 28)


@dataclass
class _Clock:
    """A clock as the services leave it, before it becomes a row."""

    id: int
    kind: str
    side: str
    label: str
    started_on: datetime.date
    opened_on: datetime.date  # the day a service opened it (STL clocks: the case's creation, not the offence)
    due_on: datetime.date
    warn_on: datetime.date
    due_at: Any = None
    params: str = "{}"
    subject: dict[str, int] = field(default_factory=dict)
    stopped_on: datetime.date | None = None
    outcome: str | None = None  # superseded / cancelled; None: met or missed by the date

    def stop(self, on: datetime.date, outcome: str | None = None) -> None:
        """ledger.clock_stop: the first stop wins."""
        if self.stopped_on is None:
            self.stopped_on = on
            self.outcome = outcome


# --------------------------------------------------------------------------------------------------------------
# The planner
# --------------------------------------------------------------------------------------------------------------


class Planner:
    """Plans cases ``i`` (1 to ``count``) into a :class:`Batch`. One instance per run. ``person_base`` is the
    first of the ``2 * count`` person ids the caller reserved: a case's own suspect is ``person_base + i - 1`` (so
    a later case can name an earlier case's suspect: a repeat suspect) and its second suspect, if any,
    ``person_base + count + i - 1``."""

    def __init__(self, ctx: Context, *, count: int, person_base: int) -> None:
        self.ctx = ctx
        self.count = count
        self.person_base = person_base
        self.today = ctx.today
        self.rules = ctx.rules
        self.prefix = urn_prefix(ctx.seed)
        codes = [f.code for f in ctx.forces]
        self._force_cum = _cumulative(force_shares(codes))
        self._scenario_cum = _cumulative(s.weight for s in SCENARIOS)
        known = [(c, w) for c, w in OFFENCE_WEIGHTS if c in ctx.offence_types]
        self._offence_cum = _cumulative(w for _, w in known)
        self._offence_codes = [c for c, _ in known]
        # Working days and time limits are pure functions of their inputs: cache them.
        # The rules are pure functions of their inputs: cache them (a data set has a few thousand distinct days).
        cal, rules = ctx.calendar, ctx.rules
        self.working_days = lru_cache(maxsize=65536)(
            lambda start, n: clocks.add_working_days(start, n, calendar=cal)
        )
        self.charging_due = lru_cache(maxsize=65536)(
            lambda received: clocks.charging_decision_due(received, rules=rules, calendar=cal)
        )
        self.update_due = lru_cache(maxsize=65536)(
            lambda on: clocks.victim_update_due(on, enhanced=True, rules=rules, calendar=cal)
        )
        self.support_due = lru_cache(maxsize=65536)(
            lambda on: clocks.victim_support_referral_due(on, rules=rules, calendar=cal)
        )
        self.stl_due = lru_cache(maxsize=65536)(self._stl_due)

    # -- rules ---------------------------------------------------------------------------------------------

    def _stl_due(
        self,
        kind: str,
        regime: str,
        summary_only: bool,
        committed_on: datetime.date,
        knowledge_on: datetime.date | None,
        domestic_abuse: bool,
        people: tuple[datetime.date | None, datetime.date | None, bool | None, datetime.date | None],
    ) -> tuple[datetime.date, str] | None:
        """cases.ledger.stl_decision, from the offence's values: the due date and the clock's params (basis and
        reasons). ``people``: the complainant's and the suspect's dates of birth, whether they are personally
        connected, and the complainant's own first qualifying report."""
        if kind == "stl_common_assault" or regime == "cja_s39a":
            if not domestic_abuse:
                due = clocks.add_months(committed_on, self.rules.stl_months)
                return due, _json({"basis": "s127", "reasons": ["not_domestic_abuse"]})
            complainant_born, suspect_born, connected, report = people
            decision = clocks.common_assault_stl_decision(
                offence_on=committed_on,
                complainant_born_on=complainant_born
                if complainant_born and complainant_born <= committed_on
                else None,
                suspect_born_on=suspect_born if suspect_born and suspect_born <= committed_on else None,
                personally_connected=connected,
                first_qualifying_report_on=report if report and report >= committed_on else None,
                rules=self.rules,
            )
            reasons = [str(r) for r in decision.reasons]
            if report is not None and report < committed_on:
                reasons = ["report_before_offence" if r == "no_report" else r for r in reasons]
            return decision.due_on, _json({"basis": str(decision.basis), "reasons": reasons})
        if regime == "ca2003_s127":
            due = clocks.comms_act_stl(committed_on, knowledge_on or committed_on, rules=self.rules)
            return due, _json({"basis": "ca2003_s127_5", "reasons": []})
        due = clocks.stl_expiry(committed_on, summary_only=summary_only, rules=self.rules)
        return None if due is None else (due, _json({"basis": "s127", "reasons": []}))

    def _warn_on(self, kind: str, started: datetime.date, due: datetime.date) -> datetime.date:
        days = self.rules.stl_flag_days if kind in STL_KINDS else self.rules.due_soon_days
        return min(due, max(started, due - datetime.timedelta(days=days)))

    # -- one case ------------------------------------------------------------------------------------------

    def plan(self, i: int, batch: Batch, ids: Ids) -> None:  # noqa: C901, PLR0912, PLR0915 - one case's story
        ctx, today = self.ctx, self.today
        rng = random.Random(ctx.seed * 4_294_967_296 + i)  # noqa: S311 - synthetic data, reproducible by design
        rnd = rng.random
        n_forces = len(ctx.forces)
        force = ctx.forces[i - 1] if i <= n_forces else _pick(rng, self._force_cum, ctx.forces)
        scenario = (
            SCENARIOS[(i - 1) % len(SCENARIOS)]
            if i <= 4 * len(SCENARIOS)
            else _pick(rng, self._scenario_cum, SCENARIOS)
        )
        key = scenario.key
        oics = ctx.staff.oics[force.id]
        oic = oics[int(rnd() * len(oics))]
        liaison = ctx.staff.liaison[force.id]
        vlo = liaison[int(rnd() * len(liaison))]
        area_id = force.alt_area_id if force.alt_area_id and rnd() < 0.3 else force.area_id

        def prosecutor() -> int:
            staff = ctx.staff.prosecutors[area_id]
            return staff[int(rnd() * len(staff))]

        # ---- the chain of steps, in days after the report (made absolute at the end) ---------------------
        inv = 3 + int(rnd() ** 1.6 * 50)  # report -> first referral or police outcome

        def cps_gap() -> int:
            return 1 + int(rnd() ** 1.3 * 22)  # receipt -> decision, action plan

        # Referrals: (received, end, how it ended). "plan": an action plan; "decision": the final decision;
        # "rejected": returned at triage; "awaiting": with CPS now.
        referrals: list[list[Any]] = []
        t = 0
        last = 0
        police_outcome_at: int | None = None
        decision_outcome: str | None = None
        charge_at = court_at = concluded_at = None
        open_plan = False
        through_cps = key not in ("reported", "investigation", "nfa_police", "out_of_court_police")
        if through_cps:
            t = inv
            if key == "action_plan":
                n_plans = 1 if rnd() < 0.85 else 2
            elif key == "resubmitted":
                n_plans = 1 if rnd() < 0.9 else 2
            elif key == "returned_at_triage":
                n_plans = 0
            else:
                u = rnd()
                n_plans = 0 if u < 0.72 else (1 if u < 0.95 else 2)
            for k in range(n_plans):
                end = t + cps_gap()
                referrals.append([t, end, "plan"])
                if key == "action_plan" and k == n_plans - 1:
                    open_plan = True
                    t = last = end
                    break
                t = end + _between(rng, 10, 45)
            if key in ("awaiting_decision", "resubmitted"):
                referrals.append([t, None, "awaiting"])
                last = t
            elif key == "returned_at_triage":
                end = t + _between(rng, 0, 4)
                referrals.append([t, end, "rejected"])
                last = end
            elif key != "action_plan":
                end = t + cps_gap()
                referrals.append([t, end, "decision"])
                last = end
                decision_outcome = {"nfa_cps": "nfa", "out_of_court_cps": "out_of_court"}.get(key, "charge")
                if key in ("charged", "at_court", "concluded"):
                    charge_at = last = end + int(rnd() ** 2 * 12)
                    if key == "at_court" or (key == "concluded" and rnd() < 0.5):
                        court_at = last = charge_at + _between(rng, 1, 28)
                    if key == "concluded":
                        concluded_at = last = last + _between(rng, 20, 300)
        elif key in ("nfa_police", "out_of_court_police"):
            police_outcome_at = last = inv
        reported_on = today - datetime.timedelta(days=_between(rng, *scenario.slack) + last)

        def day(rel: int) -> datetime.date:
            return reported_on + datetime.timedelta(days=rel)

        closed_at: int | None = None
        if police_outcome_at is not None:
            closed_at = police_outcome_at
        elif decision_outcome in ("nfa", "out_of_court"):
            closed_at = referrals[-1][1]
        elif concluded_at is not None:
            closed_at = concluded_at
        closed_on = day(closed_at) if closed_at is not None else None

        # ---- the case ----------------------------------------------------------------------------------
        case_id = ids.take("cases_case")
        urn = f"{self.prefix}{i:08d}"
        # The first victim is the complainant of every offence: their own first qualifying report, date of birth
        # and relationship to the case's own suspect decide the common-assault limits (ledger.stl_decision).
        fqr: datetime.date | None = None
        fqr_kind = ""
        if rnd() < 0.75:
            fqr = min(
                today, reported_on + datetime.timedelta(days=0 if rnd() < 0.6 else _between(rng, 1, 10))
            )
            fqr_kind = "witness_statement" if rnd() < 0.85 else "vri"
        u = rnd()
        risk_level = "standard" if u < 0.45 else "medium" if u < 0.8 else "high" if u < 0.95 else "unknown"
        risk_tool = "" if risk_level == "unknown" else ("dash" if rnd() < 0.72 else "dara")
        children = rnd() < 0.25
        police_perpetrated = rnd() < 0.006
        restricted = police_perpetrated and rnd() < 0.7
        domestic_abuse = rnd() < 0.99
        status = scenario.status
        created_hour = 9 + int(rnd() * 8)
        created_at = _ts(reported_on, created_hour, int(rnd() * 60))
        events: list[tuple[datetime.date, int, str, str, str, dict[str, Any], int | None]] = []

        def event(
            on: datetime.date, kind: str, summary: str, actor: int | None, reason: str = "", **data: Any
        ):
            events.append((on, len(events), kind, summary, reason, data, actor))

        complainant_born = reported_on - datetime.timedelta(
            days=365 * _between(rng, 18, 70) + _between(rng, 0, 364)
        )
        relationship = (
            "intimate"
            if rnd() < 0.7
            else "married"
            if rnd() < 0.5
            else "relatives"
            if rnd() < 0.8
            else "not_connected"
        )
        # ---- suspects ----------------------------------------------------------------------------------
        if i % 13 != 0 and i > 13 and rnd() < 0.08:  # a repeat suspect: an earlier case's (never a repeat)
            person_id = self.person_base + 13 * _between(rng, 1, (i - 1) // 13) - 1
        else:
            person_id = self.person_base + i - 1
            batch.add(
                "cases_person",
                person_id,
                GIVEN[int(rnd() * len(GIVEN))],
                FAMILY[int(rnd() * len(FAMILY))],
                _person_born(ctx.seed, person_id - self.person_base),
                f"{self.prefix}P{i}" if rnd() < 0.7 else NULL,
                False,
                created_at,
            )
        batch.add("cases_case_suspects", case_id, person_id)
        if rnd() < 0.05:
            second = self.person_base + self.count + i - 1
            batch.add(
                "cases_person",
                second,
                GIVEN[int(rnd() * len(GIVEN))],
                FAMILY[int(rnd() * len(FAMILY))],
                NULL,
                NULL,
                False,
                created_at,
            )
            batch.add("cases_case_suspects", case_id, second)
        if restricted:
            batch.add("cases_case_restricted_to", case_id, oic)

        # ---- offences and their time limits --------------------------------------------------------------
        committed = reported_on - datetime.timedelta(
            days=0 if rnd() < 0.6 else (_between(rng, 1, 7) if rnd() < 0.6 else _between(rng, 8, 60))
        )
        n_off = 1 if rnd() < 0.7 else (2 if rnd() < 0.85 else 3)
        first_victim = ids.take("victims_victim")
        people = (
            complainant_born,
            _person_born(ctx.seed, person_id - self.person_base),
            relationship != "not_connected",
            fqr,
        )
        offences: list[tuple[int, OffenceTypeRef, datetime.date, datetime.date | None]] = []
        clock_list: list[_Clock] = []
        for k in range(n_off):
            code = self._offence_codes[(i - 1) % len(self._offence_codes)] if (k == 0 and i <= 60) else None
            otype = ctx.offence_types[code or _pick(rng, self._offence_cum, self._offence_codes)]
            on = committed if k == 0 else committed - datetime.timedelta(days=_between(rng, 0, 20))
            frm = on - datetime.timedelta(days=_between(rng, 14, 200)) if otype.course_of_conduct else None
            knowledge = None
            if otype.stl_regime == "ca2003_s127" and rnd() < 0.5:
                knowledge = min(today, on + datetime.timedelta(days=_between(rng, 0, 30)))
            offence_id = ids.take("cases_offence")
            offences.append((offence_id, otype, on, knowledge))
            batch.add(
                "cases_offence", offence_id, _n(frm), on, _n(knowledge), "", created_at, case_id, otype.id,
                person_id, first_victim,
            )  # fmt: skip
            wanted = []
            if otype.stl_regime != "none":
                wanted.append(("stl", otype.title))
            if otype.reducible_to_common_assault and domestic_abuse:
                wanted.append(("stl_common_assault", f"Common assault (from {otype.title})"))
            for kind, label in wanted:
                due, params = self.stl_due(
                    kind,
                    otype.stl_regime,
                    otype.mode_of_trial == "summary",
                    on,
                    knowledge,
                    domestic_abuse,
                    people,
                )
                clock_list.append(
                    _Clock(
                        ids.take("cases_clock"), kind, "police", label, on, reported_on, due,
                        self._warn_on(kind, on, due), params=params, subject={"offence_id": offence_id},
                    )
                )  # fmt: skip

        def open_clock(
            kind: str, side: str, label: str, started: datetime.date, due: datetime.date, **subject: int
        ) -> _Clock:
            clock = _Clock(
                ids.take("cases_clock"), kind, side, label, started, started, due,
                self._warn_on(kind, started, due), subject=subject,
            )  # fmt: skip
            clock_list.append(clock)
            return clock

        investigation = open_clock(
            "investigation",
            "police",
            "Investigation to referral or police outcome",
            reported_on,
            clocks.investigation_due(reported_on, rules=self.rules),
        )
        event(reported_on, "case_created", f"Case {urn} opened", oic, offences=n_off)
        if children:
            household = open_clock(
                "operation_encompass",
                "police",
                "Tell the children's school (Operation Encompass)",
                reported_on,
                self.working_days(reported_on, 1),
            )

        # ---- victims -----------------------------------------------------------------------------------
        n_victims = 1 if rnd() < 0.8 else (2 if rnd() < 0.75 else 3)
        victims: list[tuple[int, bool]] = []
        contacts: list[tuple[datetime.date, int, str, str, int]] = []  # (day, hour, method, purpose, victim)
        for k in range(n_victims):
            is_child = children and k > 0
            victim_id = first_victim if k == 0 else ids.take("victims_victim")
            victims.append((victim_id, is_child))
            years = _between(rng, 4, 16) if is_child else _between(rng, 18, 70)
            born = (
                complainant_born
                if k == 0
                else reported_on - datetime.timedelta(days=365 * years + _between(rng, 0, 364))
            )
            batch.add(
                "victims_victim", victim_id, GIVEN[int(rnd() * len(GIVEN))], FAMILY[int(rnd() * len(FAMILY))],
                born, is_child, True, rnd() < 0.1, rnd() < 0.2, False, "Phone, after 6pm" if rnd() < 0.5 else "",
                "", "", "", "", created_at, case_id, is_child and rnd() < 0.6,
                _n(fqr if k == 0 else None), fqr_kind if k == 0 else "", "",
            )  # fmt: skip
            if k == 0:
                batch.add(
                    "victims_victimsuspectrelationship", relationship, created_at, oic, person_id, victim_id
                )
            event(reported_on, "victim_added", "Child victim added" if is_child else "Victim added", oic)
            support = open_clock(
                "support_referral",
                "police",
                "Refer the victim to support services (Right 4)",
                reported_on,
                self.support_due(reported_on),
                victim_id=victim_id,
            )
            # Most referrals are on time; the rest are made late (a duty is not left undone for years).
            late = rnd() >= 0.9
            on = reported_on + datetime.timedelta(
                days=_between(rng, 6, 30)
                if late
                else (_between(rng, 0, 1) if rnd() < 0.75 else _between(rng, 2, 5))
            )
            if on <= today:
                contacts.append((on, 10 + int(rnd() * 8), "phone", "support_referral", victim_id))
                support.stop(on)
            if is_child:
                child_clock = open_clock(
                    "operation_encompass",
                    "police",
                    "Tell the child's school (Operation Encompass)",
                    reported_on,
                    self.working_days(reported_on, 1),
                    victim_id=victim_id,
                )
                late = rnd() >= 0.85
                on = reported_on + datetime.timedelta(
                    days=_between(rng, 4, 12) if late else (0 if rnd() < 0.7 else _between(rng, 1, 3))
                )
                if on <= today:
                    school = SCHOOLS[int(rnd() * len(SCHOOLS))]
                    batch.add(
                        "victims_operationencompassnotification", school, "Designated Safeguarding Lead",
                        _ts(on, 8, 30), "phone", "", _ts(on, 8, 45), case_id, victim_id, oic,
                    )  # fmt: skip
                    event(on, "encompass_notified", f"Operation Encompass: {school} told", oic)
                    child_clock.stop(on)  # the child's notification also stops the household clock
                    household.stop(on)
        if children and household.stopped_on is None:
            late = rnd() >= 0.85
            on = reported_on + datetime.timedelta(
                days=_between(rng, 4, 12) if late else (0 if rnd() < 0.7 else _between(rng, 1, 3))
            )
            if on <= today:
                school = SCHOOLS[int(rnd() * len(SCHOOLS))]
                batch.add(
                    "victims_operationencompassnotification", school, "Designated Safeguarding Lead",
                    _ts(on, 8, 30), "phone", "", _ts(on, 8, 45), case_id, NULL, oic,
                )  # fmt: skip
                event(on, "encompass_notified", f"Operation Encompass: {school} told", oic)
                household.stop(on)

        # ---- referrals, decisions, action plans, charges -----------------------------------------------
        key_events: list[tuple[datetime.date, str, str]] = []  # (day, side, reason) -> victim update clocks
        charging_clocks: list[_Clock] = []
        action_clocks: list[_Clock] = []
        charge_decision_id = None
        for k, (recv_rel, end_rel, how) in enumerate(referrals, start=1):
            received = day(recv_rel)
            ended = day(end_rel) if end_rel is not None else None
            referral_id = ids.take("charging_chargingreferral")
            custody = rnd() < 0.08
            # Triage: accepted within a few days (or still pending), or the file returned.
            triage, triaged_on, reasons, respond_by = "pending", None, "{}", None
            if how == "rejected":
                triage, triaged_on = "rejected", ended
                picked = sorted(
                    {TRIAGE_REASONS[int(rnd() * len(TRIAGE_REASONS))] for _ in range(1 + int(rnd() * 3))}
                )
                reasons = "{" + ",".join(picked) + "}"
                respond_by = ended + datetime.timedelta(days=14)
            else:
                latest = ended or today
                if rnd() < 0.85:
                    on = received + datetime.timedelta(days=min(int(rnd() * 3), (latest - received).days))
                    if how != "awaiting" or rnd() < 0.6:
                        triage, triaged_on = "accepted", on
            ref_status = {"plan": "action_plan", "decision": "decided", "rejected": "rejected"}.get(
                how, "awaiting"
            )
            # Accepted at triage: allocated to the prosecutor who accepted it (no draw: the rest stays as it was).
            area_prosecutors = ctx.staff.prosecutors[area_id]
            allocated = (
                area_prosecutors[(i * 31 + k) % len(area_prosecutors)] if triage == "accepted" else None
            )
            batch.add(
                "charging_chargingreferral", referral_id, k, "charging_decision" if rnd() < 0.95 else "early_advice",
                received, custody, triage, _n(triaged_on), reasons,
                "Please resubmit with the missing material." if how == "rejected" else "", _n(respond_by),
                ref_status, _n(ended), "", case_id, oic, _n(allocated), force.id, area_id, restricted,
            )  # fmt: skip
            if k == 1:
                investigation.stop(received)
            event(
                received,
                "referred",
                ("Resubmitted" if k > 1 else "Referred")
                + " to CPS for charging decision"
                + (" (custody)" if custody else ""),
                oic,
                referral=referral_id,
                sequence=k,
            )
            charging = open_clock(
                "charging_decision",
                "cps",
                f"Charging decision on submission {k}",
                received,
                self.charging_due(received),
                referral_id=referral_id,
            )
            charging_clocks.append(charging)
            if triage == "accepted":
                event(triaged_on, "triage_accepted", "Referral accepted at triage", allocated)
            if k == 1 and rnd() < 0.35:
                held = received + datetime.timedelta(
                    days=min(_between(rng, 0, 5), ((ended or today) - received).days)
                )
                conversation_id = ids.take("charging_caseconversation")
                by = prosecutor()
                mode = "digital" if rnd() < 0.7 else "face_to_face"
                batch.add(
                    "charging_caseconversation", conversation_id, held, mode,
                    "Agreed the reasonable lines of inquiry.", "", "", rnd() < 0.5, "", case_id, by,
                    referral_id if ended is None or held < ended else NULL,
                )  # fmt: skip
                batch.add("charging_caseconversation_participants", conversation_id, oic)
                batch.add("charging_caseconversation_participants", conversation_id, by)
                event(held, "conversation", f"Case conversation ({mode.replace('_', ' ')})", by)
            if how == "awaiting":
                continue
            if how == "rejected":
                charging.stop(ended, "superseded")
                n_reasons = reasons.count(",") + 1
                event(
                    ended,
                    "triage_rejected",
                    f"File returned at triage ({n_reasons} reason{'s' if n_reasons != 1 else ''}); "
                    f"police to respond by {respond_by.day} {respond_by:%B %Y}",
                    prosecutor(),
                    "Please resubmit with the missing material.",
                    reasons=reasons.strip("{}").split(","),
                )
                continue
            decided_by = prosecutor()
            decision_id = ids.take("charging_chargingdecision")
            if how == "plan":
                batch.add(
                    "charging_chargingdecision", decision_id, ended, "", "action_plan", NULL, "",
                    "Further information is needed before a decision: see the action plan.", case_id, decided_by,
                    referral_id,
                )  # fmt: skip
                plan_id = ids.take("charging_actionplan")
                still_open = open_plan and k == len(referrals)
                resubmitted_on = None if still_open else day(referrals[k][0])
                batch.add(
                    "charging_actionplan", plan_id, ended, ended + datetime.timedelta(days=28),
                    "open" if still_open else "resubmitted", NULL, case_id, decision_id,
                )  # fmt: skip
                n_actions = 1 + int(rnd() * 4)
                for _ in range(n_actions):
                    description, category = ACTIONS[int(rnd() * len(ACTIONS))]
                    due = ended + datetime.timedelta(days=_between(rng, 7, 28)) if rnd() < 0.9 else None
                    action_id = ids.take("charging_action")
                    status_a, completed_on, reason, incomplete = "new", None, "", ""
                    latest = today if still_open else resubmitted_on
                    u = rnd()
                    if (not still_open and u < 0.85) or (still_open and u < 0.4):
                        on = ended + datetime.timedelta(days=int(rnd() * ((latest - ended).days + 1)))
                        status_a, completed_on = "completed", on
                    elif not still_open:
                        status_a, reason = "withdrawn", "Not achievable: the witness could not be traced."
                        on = ended + datetime.timedelta(days=int(rnd() * ((latest - ended).days + 1)))
                    else:
                        status_a = "in_progress" if u < 0.65 else "new"
                        incomplete = INCOMPLETE_REASONS[int(rnd() * len(INCOMPLETE_REASONS))]
                    batch.add(
                        "charging_action", action_id, description, category, _n(due), status_a, _n(completed_on),
                        reason, oic, plan_id, incomplete,
                    )  # fmt: skip
                    if due is not None:
                        clock = open_clock(
                            "action", "police", description[:200], ended, due, action_id=action_id
                        )
                        action_clocks.append(clock)
                        if status_a == "completed":
                            clock.stop(completed_on)
                        elif status_a == "withdrawn":
                            clock.stop(on, "cancelled")
                    if status_a in ("completed", "withdrawn"):
                        event(
                            on,
                            "action_updated",
                            f"Action {status_a}: {description[:80]}",
                            oic,
                            reason,
                        )
                charging.stop(ended, "superseded")
                event(
                    ended,
                    "action_plan",
                    f"Action plan issued with {n_actions} action{'s' if n_actions != 1 else ''}; respond by "
                    f"{(ended + datetime.timedelta(days=28)).day} {ended + datetime.timedelta(days=28):%B %Y}",
                    decided_by,
                    "Further information is needed before a decision: see the action plan.",
                    plan=plan_id,
                    actions=n_actions,
                )
                continue
            # The final decision.
            test = ("full_code" if rnd() < 0.85 else "threshold") if decision_outcome == "charge" else ""
            reasons_text = {
                "charge": "The evidential and public interest stages of the Code are met.",
                "nfa": "The evidential stage of the Code is not met.",
                "out_of_court": "An out-of-court resolution is the proportionate response.",
            }[decision_outcome]
            batch.add(
                "charging_chargingdecision", decision_id, ended, test, decision_outcome, NULL, "", reasons_text,
                case_id, decided_by, referral_id,
            )  # fmt: skip
            charging.stop(ended)
            if decision_outcome == "charge":
                charge_decision_id = decision_id
                charge_clock = open_clock(
                    "charge",
                    "police",
                    "Charge the suspect",
                    ended,
                    clocks.charge_due(ended, rules=self.rules),
                )
            key_events.append((ended, "cps", f"CPS decision: {OUTCOME_LABELS[decision_outcome].lower()}"))
            event(
                ended,
                "decision",
                f"CPS decision: {OUTCOME_LABELS[decision_outcome]}"
                + (f" ({'Full Code Test' if test == 'full_code' else 'Threshold Test'})" if test else ""),
                decided_by,
                reasons_text,
                decision=decision_id,
                outcome=decision_outcome,
            )
        if police_outcome_at is not None:
            on = day(police_outcome_at)
            investigation.stop(on)
            label = STATUS_LABELS[status]
            key_events.append((on, "police", f"police {label.lower()}"))
            event(
                on,
                "police_outcome",
                f"Police outcome: {label}",
                oic,
                "The evidence does not support a prosecution."
                if status == "nfa"
                else "Community resolution.",
                outcome=status,
                after_action_plan=False,
                cps_informed=False,
            )
        if charge_at is not None:
            charged_on = day(charge_at)
            laid = charged_on if rnd() < 0.6 else (
                min(today, charged_on + datetime.timedelta(days=_between(rng, 0, 3))) if rnd() < 0.5 else None
            )  # fmt: skip
            charge_id = ids.take("charging_charge")
            batch.add("charging_charge", charge_id, charged_on, _n(laid), case_id, oic, charge_decision_id)
            for offence_id, *_ in offences:
                batch.add("charging_charge_offences", charge_id, offence_id)
            charge_clock.stop(charged_on)
            for clock in clock_list:
                if clock.kind == "stl":
                    clock.stop(laid or charged_on)
            key_events.append((charged_on, "police", "suspect charged"))
            event(
                charged_on,
                "charged",
                f"Charged with {n_off} offence{'s' if n_off != 1 else ''}",
                oic,
                charge=charge_id,
            )
        if court_at is not None:
            event(day(court_at), "case_at_court", "At court", oic)
        if concluded_at is not None:
            event(day(concluded_at), "case_concluded", "Concluded", oic)

        # ---- protective orders and bail ----------------------------------------------------------------
        first_victim = victims[0][0]
        u = rnd()
        if u < 0.08:
            self._dapn(rng, batch, ids, clock_list, event, case_id, oic, first_victim, person_id, reported_on)
        elif u < 0.18:
            order_id = ids.take("victims_protectiveorder")
            expires = reported_on + datetime.timedelta(days=_between(rng, 28, 90))
            expired = expires < today
            batch.add(
                "victims_protectiveorder", order_id, "pre_charge_bail", "expired" if expired else "granted",
                reported_on, NULL, NULL, reported_on, expires, "Not to contact the victim directly or indirectly.",
                "The victim wants no contact.", case_id, oic, expires if expired else NULL, NULL, NULL, "", NULL,
                person_id, NULL, first_victim,
            )  # fmt: skip
            event(reported_on, "order_considered", "Pre-charge bail conditions: considered", oic)
            event(reported_on, "order_imposed", "Pre-charge bail conditions: imposed", oic)
            bail = open_clock(
                "bail_expiry",
                "police",
                "Pre-charge bail conditions ends",
                reported_on,
                expires,
                order_id=order_id,
            )
            if closed_on is not None and closed_on <= expires:
                bail.stop(closed_on, "cancelled")
            if expired:
                bail.stop(expires)
                event(expires, "order_expired", "Pre-charge bail conditions: expired", None)
        elif u < 0.24:
            start = min(today, reported_on + datetime.timedelta(days=_between(rng, 1, 30)))
            kind = "non_molestation" if concluded_at is None else "restraining"
            granted = day(concluded_at) if concluded_at is not None else min(
                today, start + datetime.timedelta(days=_between(rng, 0, 14))
            )  # fmt: skip
            start = min(start, granted)
            expires = granted + datetime.timedelta(days=365 if kind == "non_molestation" else 730)
            expired = expires < today
            order_id = ids.take("victims_protectiveorder")
            batch.add(
                "victims_protectiveorder", order_id, kind, "expired" if expired else "granted", start,
                start if kind == "non_molestation" else NULL, NULL, granted, expires,
                "Not to contact the victim or go to the home address.", "", case_id, oic,
                expires if expired else NULL, NULL, NULL, "", NULL, person_id, NULL, first_victim,
            )  # fmt: skip
            label = ORDER_LABELS[kind]
            event(start, "order_considered", f"{label}: considered", oic)
            event(granted, "order_granted", f"{label}: granted", oic)
            expiry = open_clock(
                "order_expiry", "police", f"{label} ends", granted, expires, order_id=order_id
            )
            if expired:
                expiry.stop(expires)
                event(expires, "order_expired", f"{label}: expired", None)
        elif u < 0.28:
            order_id = ids.take("victims_protectiveorder")
            ended = min(today, reported_on + datetime.timedelta(days=_between(rng, 0, 7)))
            reason = "The victim did not want an order at this stage; kept under review."
            batch.add(
                "victims_protectiveorder", order_id, "dvpo", "not_pursued", reported_on, NULL, NULL, NULL, NULL,
                "", "", case_id, oic, ended, NULL, NULL, reason, NULL, person_id, NULL, first_victim,
            )  # fmt: skip
            event(reported_on, "order_considered", "Domestic violence protection order: considered", oic)
            event(ended, "order_not_pursued", "Domestic violence protection order: not pursued", oic, reason)

        # ---- Victims' Code updates after each key event ------------------------------------------------
        key_events.sort(key=lambda e: e[0])
        for victim_id, _ in victims:
            previous: _Clock | None = None
            for j, (on, side, reason) in enumerate(key_events):
                if previous is not None:
                    previous.stop(on, "superseded")
                clock = open_clock(
                    "victim_update",
                    side,
                    f"Tell the victim: {reason}",
                    on,
                    self.update_due(on),
                    victim_id=victim_id,
                )
                clock.params = _json({"enhanced": True, "event": reason})
                previous = clock
                nxt = key_events[j + 1][0] if j + 1 < len(key_events) else None
                late = rnd() >= 0.85
                told = on + datetime.timedelta(
                    days=_between(rng, 7, 20)
                    if late
                    else (_between(rng, 0, 1) if rnd() < 0.75 else _between(rng, 2, 6))
                )
                if told <= today and (nxt is None or told < nxt):
                    method = "phone" if rnd() < 0.8 else "letter"
                    contacts.append((told, 11 + int(rnd() * 7), method, "update", victim_id))
                    clock.stop(told)
        for on, hour, method, purpose, victim_id in contacts:
            by = vlo if rnd() < 0.5 else oic
            batch.add("victims_victimcontact", _ts(on, hour, 15), method, purpose, "", by, victim_id, NULL)
            label = (
                "Update on the case (Right 6)"
                if purpose == "update"
                else "Referral to support services (Right 4)"
            )
            event(on, "victim_contact", f"Victim contact: {label}", by)

        # ---- closing the case cancels the casework clocks (cases.services.cancel_open_clocks) -------------
        if closed_on is not None:
            for clock in clock_list:
                if clock.kind not in SAFEGUARDING_KINDS and clock.started_on <= closed_on:
                    clock.stop(closed_on, "cancelled")

        # ---- rows: clocks and their crossings, the timeline, the case ----------------------------------
        gate = (force.id, area_id if referrals else NULL, restricted)  # the clocks' copy of the case's
        for clock in clock_list:
            self._clock_rows(batch, clock, case_id, gate)
        events.sort(key=lambda e: (e[0], e[1]))
        last_change = created_at
        for n, (on, _, kind, summary, reason, data, actor) in enumerate(events):
            if n == 0:
                occurred = created_at
            elif on == reported_on:
                occurred = _ts(on, created_hour + min(n, 6), (7 * n) % 60)
            else:
                occurred = _ts(on, 10 + (n % 9), (7 * n) % 60)
            batch.add(
                "cases_caseevent", kind, occurred, summary[:300], reason, _json(data), _n(actor), case_id
            )
            if kind in CASE_SAVING_EVENTS:
                last_change = occurred
        batch.add(
            "cases_case", case_id, urn, status, domestic_abuse, "Generated case (synthetic data).", reported_on,
            NULL, "", risk_level, risk_tool, children, police_perpetrated, restricted, False, created_at,
            last_change, oic, area_id if referrals else NULL, force.id,
        )  # fmt: skip

    # -- protective notice and the order that follows ------------------------------------------------------

    def _dapn(
        self,
        rng: random.Random,
        batch: Batch,
        ids: Ids,
        clock_list: list[_Clock],
        event: Callable[..., None],
        case_id: int,
        oic: int,
        victim_id: int,
        person_id: int,
        reported_on: datetime.date,
    ) -> None:
        """A DAPN served on the report day, its 48-hour hearing clock, and the DAPO that follows it (granted
        with an expiry clock, or refused), as victims.services leaves them."""
        today = self.today
        served_hour = 8 + int(rng.random() * 14)
        served_at = datetime.datetime.combine(reported_on, datetime.time(served_hour), tzinfo=clocks.LONDON)
        due_at = clocks.dapn_hearing_due(served_at, rules=self.rules, calendar=self.ctx.calendar)
        due_on = (due_at - datetime.timedelta(microseconds=1)).astimezone(clocks.LONDON).date()
        notice_id = ids.take("victims_protectiveorder")
        heard_at = served_at + datetime.timedelta(hours=_between(rng, 18, 60))
        heard_on = heard_at.astimezone(clocks.LONDON).date()
        heard = heard_on < today
        refused = rng.random() < 0.15
        hearing = _Clock(
            ids.take("cases_clock"), "dapn_hearing", "police", "DAPO hearing within 48 hours of the notice",
            reported_on, reported_on, due_on, self._warn_on("dapn_hearing", reported_on, due_on), due_at=due_at,
            subject={"order_id": notice_id},
        )  # fmt: skip
        clock_list.append(hearing)
        event(reported_on, "order_considered", "Domestic abuse protection notice: considered", oic)
        event(reported_on, "order_served", "Domestic abuse protection notice: served", oic)
        if not heard:
            batch.add(
                "victims_protectiveorder", notice_id, "dapn", "granted", reported_on, NULL, served_at, reported_on,
                NULL, "Not to go to the home address.", "", case_id, oic, NULL, NULL, NULL, "", NULL, person_id,
                NULL, victim_id,
            )  # fmt: skip
            return
        hearing.stop(heard_on, "met" if heard_at <= due_at else "missed")
        event(heard_on, "order_hearing_held", "Domestic abuse protection notice: hearing held", oic)
        batch.add(
            "victims_protectiveorder", notice_id, "dapn", "expired", reported_on, NULL, served_at, reported_on,
            NULL, "Not to go to the home address.", "", case_id, oic, heard_on, heard_at, NULL, "", NULL,
            person_id, NULL, victim_id,
        )  # fmt: skip
        order_id = ids.take("victims_protectiveorder")
        if refused:
            reason = "The court was not satisfied the order was necessary."
            batch.add(
                "victims_protectiveorder", order_id, "dapo", "refused", reported_on, reported_on, NULL, NULL, NULL,
                "", "", case_id, oic, NULL, NULL, notice_id, reason, heard_on, person_id, NULL, victim_id,
            )  # fmt: skip
            event(heard_on, "order_refused", "Domestic abuse protection order: refused", oic, reason)
        else:
            expires = heard_on + datetime.timedelta(days=365)
            expired = expires < today
            batch.add(
                "victims_protectiveorder", order_id, "dapo", "expired" if expired else "granted", reported_on,
                reported_on, NULL, heard_on, expires, "Not to contact the victim or go to the home address.", "",
                case_id, oic, expires if expired else NULL, NULL, notice_id, "", NULL, person_id, NULL, victim_id,
            )  # fmt: skip
            event(heard_on, "order_granted", "Domestic abuse protection order: granted", oic)
            expiry = _Clock(
                ids.take("cases_clock"), "order_expiry", "police", "Domestic abuse protection order ends",
                heard_on, heard_on, expires, self._warn_on("order_expiry", heard_on, expires),
                subject={"order_id": order_id},
            )  # fmt: skip
            clock_list.append(expiry)
            if expired:
                expiry.stop(expires)
                event(expires, "order_expired", "Domestic abuse protection order: expired", None)
        event(heard_on, "order_ended", "Domestic abuse protection notice: ended", oic)

    # -- a clock's row and the crossings the daily sweep recorded -------------------------------------------

    def _clock_rows(
        self, batch: Batch, clock: _Clock, case_id: int, gate: tuple[int, object, bool]
    ) -> datetime.date:
        """Write the clock (with ``gate``, its copy of the case's force, CPS Area and restricted flag) and its
        crossings; returns the day its state last changed. Crossings are those a
        sweep running every day records (and ``clock_open`` records on opening): due soon on ``warn_on``,
        overdue (time-barred for an STL) the day after ``due_on``, each only while the clock is open and only
        up to today."""
        state_of, kind = self.ctx.state_of, clock.kind
        opened, due, warn = clock.opened_on, clock.due_on, clock.warn_on
        # The last day a sweep saw it open: today, or the day before it stopped.
        seen_until = self.today if clock.stopped_on is None else max(opened, clock.stopped_on - ONE_DAY)
        crossings: list[tuple[str, str, datetime.date]] = []
        at_open = state_of(kind, due, warn, opened)
        if at_open != "running":
            crossings.append(("running", at_open, opened))
        if opened < warn <= seen_until and warn <= due:
            crossings.append(("running", "due_soon", warn))
        barred = due + ONE_DAY
        if opened < barred <= seen_until:
            crossings.append(
                (state_of(kind, due, warn, barred - ONE_DAY), state_of(kind, due, warn, barred), barred)
            )
        for from_state, to_state, on in crossings:
            batch.add(
                "cases_clockevent", kind, from_state, to_state, on, _ts(on, 7, 15) if on != opened else _ts(on, 9),
                case_id, clock.id, NULL,
            )  # fmt: skip
        if clock.stopped_on is None:
            state = state_of(kind, due, warn, self.today)
            previous = crossings[-1][0] if crossings else ""
            changed = crossings[-1][2] if crossings else opened
        else:
            previous = state_of(kind, due, warn, seen_until)
            state = clock.outcome or ("met" if clock.stopped_on <= due else "missed")
            changed = clock.stopped_on
        subject = clock.subject
        batch.add(
            "cases_clock", clock.id, kind, clock.side, clock.label, clock.started_on, due, _n(clock.due_at), warn,
            _n(clock.stopped_on), state, _ts(changed, 7, 15), clock.params, _n(subject.get("action_id")), case_id,
            _n(subject.get("order_id")), _n(subject.get("referral_id")), _n(subject.get("victim_id")),
            _n(subject.get("offence_id")), previous, *gate,
        )  # fmt: skip
        return changed


# --------------------------------------------------------------------------------------------------------------
# A digest of the generated rows (ids left out), to show that a seed reproduces its data set
# --------------------------------------------------------------------------------------------------------------

#: One query per table: the rows of the generated cases (``%(prefix)s``: the URN prefix plus ``%``), with every
#: id replaced by a natural key (URN, username, offence code, position within the case), hashed in a fixed order.
DIGEST_SQL: dict[str, str] = {
    "cases_case": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, c.status, c.domestic_abuse, c.summary, c.reported_on,
               c.first_qualifying_report_on, c.first_qualifying_report_kind, c.risk_level, c.risk_tool,
               c.children_in_household, c.police_perpetrated, c.restricted, c.created_at, c.updated_at, u.username,
               a.code, f.code, c.changed_at, c.next_due_on, c.action_plans_count), E'\\n' ORDER BY c.urn), ''))
        FROM cases_case c JOIN cases_organisation f ON f.id = c.force_id
        LEFT JOIN cases_organisation a ON a.id = c.cps_area_id LEFT JOIN cases_user u ON u.id = c.oic_id
        WHERE c.urn LIKE %(prefix)s""",
    "cases_person": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, p.given_name, p.family_name, p.date_of_birth,
               p.pnc_id), E'\\n' ORDER BY c.urn, p.pnc_id, p.given_name, p.family_name), ''))
        FROM cases_case c JOIN cases_case_suspects s ON s.case_id = c.id JOIN cases_person p ON p.id = s.person_id
        WHERE c.urn LIKE %(prefix)s""",
    "cases_offence": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, t.code, o.committed_from, o.committed_on,
               o.prosecutor_knowledge_on), E'\\n' ORDER BY c.urn, o.id), ''))
        FROM cases_offence o JOIN cases_case c ON c.id = o.case_id JOIN cases_offencetype t ON t.id = o.offence_type_id
        WHERE c.urn LIKE %(prefix)s""",
    "victims_victim": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, v.given_name, v.family_name, v.date_of_birth,
               v.is_child, v.vulnerable, v.intimidated, v.child_saw_or_heard, v.safe_contact_methods,
               v.first_qualifying_report_on),
               E'\\n' ORDER BY c.urn, v.id), ''))
        FROM victims_victim v JOIN cases_case c ON c.id = v.case_id WHERE c.urn LIKE %(prefix)s""",
    "charging_chargingreferral": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, r.sequence, r.kind, r.received_on, r.custody,
               r.triage, r.triaged_on, r.triage_reasons, r.respond_by, r.status, r.closed_on, r.decision_due_on,
               u.username), E'\\n' ORDER BY c.urn, r.sequence), ''))
        FROM charging_chargingreferral r JOIN cases_case c ON c.id = r.case_id
        LEFT JOIN cases_user u ON u.id = r.prosecutor_id WHERE c.urn LIKE %(prefix)s""",
    "charging_chargingdecision": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, r.sequence, d.decided_on, d.test, d.outcome, u.username),
               E'\\n' ORDER BY c.urn, r.sequence), ''))
        FROM charging_chargingdecision d JOIN cases_case c ON c.id = d.case_id
        JOIN charging_chargingreferral r ON r.id = d.referral_id JOIN cases_user u ON u.id = d.decided_by_id
        WHERE c.urn LIKE %(prefix)s""",
    "charging_action": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, p.issued_on, p.status, a.description, a.due_on, a.status,
               a.completed_on, a.incomplete_reason), E'\\n' ORDER BY c.urn, a.id), ''))
        FROM charging_action a JOIN charging_actionplan p ON p.id = a.plan_id JOIN cases_case c ON c.id = p.case_id
        WHERE c.urn LIKE %(prefix)s""",
    "charging_charge": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, g.charged_on, g.information_laid_on,
               (SELECT count(*) FROM charging_charge_offences x WHERE x.charge_id = g.id)), E'\\n' ORDER BY c.urn), ''))
        FROM charging_charge g JOIN cases_case c ON c.id = g.case_id WHERE c.urn LIKE %(prefix)s""",
    "victims_protectiveorder": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, o.kind, o.status, o.considered_on, o.applied_on,
               o.served_at, o.granted_on, o.expires_on, o.ended_on, o.heard_at, o.refused_on),
               E'\\n' ORDER BY c.urn, o.id), ''))
        FROM victims_protectiveorder o JOIN cases_case c ON c.id = o.case_id WHERE c.urn LIKE %(prefix)s""",
    "victims_victimcontact": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, x.contacted_at, x.method, x.purpose, u.username),
               E'\\n' ORDER BY c.urn, x.contacted_at, x.purpose, u.username, x.method), ''))
        FROM victims_victimcontact x JOIN victims_victim v ON v.id = x.victim_id JOIN cases_case c ON c.id = v.case_id
        JOIN cases_user u ON u.id = x.made_by_id WHERE c.urn LIKE %(prefix)s""",
    "cases_clock": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, k.kind, k.side, k.label, k.started_on, k.due_on,
               k.due_at, k.warn_on, k.stopped_on, k.state, k.previous_state, k.state_changed_at, k.params::text),
               E'\\n' ORDER BY c.urn, k.kind, k.started_on, k.due_on, k.label, k.stopped_on, k.state), ''))
        FROM cases_clock k JOIN cases_case c ON c.id = k.case_id WHERE c.urn LIKE %(prefix)s""",
    "cases_clockevent": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, e.kind, e.from_state, e.to_state, e.crossed_on,
               e.created_at, k.due_on),
               E'\\n' ORDER BY c.urn, e.kind, e.crossed_on, e.to_state, k.due_on, k.started_on), ''))
        FROM cases_clockevent e JOIN cases_case c ON c.id = e.case_id JOIN cases_clock k ON k.id = e.clock_id
        WHERE c.urn LIKE %(prefix)s""",
    "cases_caseevent": """
        SELECT md5(coalesce(string_agg(concat_ws('|', c.urn, e.kind, e.occurred_at, e.summary, e.reason, u.username),
               E'\\n' ORDER BY c.urn, e.occurred_at, e.kind, e.summary), ''))
        FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id LEFT JOIN cases_user u ON u.id = e.actor_id
        WHERE c.urn LIKE %(prefix)s""",
}


def digest(cursor: Any, seed: int) -> dict[str, str]:
    """md5 of each table's generated rows for ``seed`` (ids left out), and of them all (``"all"``). Takes a
    DB-API cursor."""
    out: dict[str, str] = {}
    for table, statement in DIGEST_SQL.items():
        cursor.execute(statement, {"prefix": urn_prefix(seed) + "%"})
        out[table] = cursor.fetchone()[0]
    import hashlib

    out["all"] = hashlib.md5("".join(out[t] for t in DIGEST_SQL).encode(), usedforsecurity=False).hexdigest()
    return out
