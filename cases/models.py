"""The shared case record: organisations, people, cases, offences, the timeline and the clock ledger.

Reads start from ``Case.objects.visible_to(user)`` (see ``cases/selectors.py``); writes go through the services
in ``cases/services.py`` and the other apps' services. Case data is never cascade-deleted.
"""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from . import clocks
from .audit import append_only_trigger, audited
from .selectors import CaseQuerySet, ClockQuerySet


def choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """A named check constraint that keeps a TextChoices column inside its choices."""
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class OrganisationKind(models.TextChoices):
    FORCE = "force", "Police force"
    CPS_AREA = "cps_area", "CPS Area"


class Organisation(models.Model):
    """A police force or a CPS Area. Each of the 43 territorial forces of England and Wales belongs to one of
    the 14 CPS Areas; CPS Direct is an Area with no forces. Loaded by a data migration."""

    Kind = OrganisationKind

    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(
        max_length=10, unique=True, help_text="Short code, e.g. the force's PNC code 'GMP'."
    )
    name = models.CharField(max_length=120, unique=True)
    area = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="forces",
        help_text="For a force: the CPS Area that prosecutes its cases.",
    )
    is_pilot = models.BooleanField(default=False, help_text="A Joint Justice Plan pilot site.")

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_check("kind", OrganisationKind, "%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind="force", area__isnull=False) | Q(kind="cps_area", area__isnull=True),
                name="%(app_label)s_%(class)s_force_has_area",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_force(self) -> bool:
        return self.kind == self.Kind.FORCE


class Role(models.TextChoices):
    """What a person does. Police roles belong to a force, CPS roles to a CPS Area; the others to either."""

    OIC = "oic", "Officer in charge"
    POLICE_SUPERVISOR = "police_supervisor", "Police supervisor"
    TRIAGE_OFFICER = "triage_officer", "Criminal justice unit / triage officer"
    PROSECUTOR = "prosecutor", "Prosecutor"
    LEGAL_MANAGER = "legal_manager", "CPS legal manager"
    VICTIM_LIAISON = "victim_liaison", "Witness care / victim liaison officer"
    PANEL_MEMBER = "panel_member", "Scrutiny panel member"
    ADMINISTRATOR = "administrator", "Administrator"
    FORCE_SYSTEM = "force_system", "Force records system (API client)"


POLICE_ROLES = frozenset({Role.OIC, Role.POLICE_SUPERVISOR, Role.TRIAGE_OFFICER})
CPS_ROLES = frozenset({Role.PROSECUTOR, Role.LEGAL_MANAGER})


class User(AbstractUser):
    """A member of staff. Belongs to exactly one force or CPS Area and holds one or more roles there.
    Superusers are system operators; everyone else sees only what ``Case.objects.visible_to`` allows."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices), default=list, blank=True)
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="team",
        help_text="Line manager: an OIC's police supervisor, a prosecutor's legal manager. Escalations of "
        "this person's overdue deadlines go to them (to every supervisor of the organisation when empty).",
    )

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(roles__contained_by=Role.values), name="%(app_label)s_%(class)s_roles_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(organisation__isnull=False) | Q(is_active=False),
                name="%(app_label)s_%(class)s_staff_have_organisation",
            ),
        ]

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


@audited()
class Person(models.Model):
    """A suspect, with an identity that spans cases so that repeat offending can be seen across forces."""

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    pnc_id = models.CharField(
        "PNC ID", max_length=20, null=True, blank=True, unique=True, help_text="Police National Computer ID."
    )
    high_harm_repeat_offender = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [models.Index(fields=["family_name", "given_name"], name="cases_person_name_idx")]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"


class OffenceTypeModeOfTrial(models.TextChoices):
    SUMMARY = "summary", "Summary only"
    EITHER_WAY = "either_way", "Either way"
    INDICTABLE = "indictable", "Indictable only"


class OffenceTypeStlRegime(models.TextChoices):
    NONE = "none", "No statutory time limit"
    MCA_S127 = "mca_s127", "MCA 1980 s.127: 6 months"
    CJA_S39A = "cja_s39a", "CJA 1988 s.39A for domestic abuse, else MCA s.127"
    CA_S127 = "ca2003_s127", "CA 2003 s.127(5): 3 years and 6 months from knowledge"


class OffenceType(models.Model):
    """A row of the offence reference table: the statute, the mode of trial and which time-limit regime
    applies (domain-rules.md section 8). Only summary-only offences have a statutory time limit."""

    ModeOfTrial = OffenceTypeModeOfTrial
    StlRegime = OffenceTypeStlRegime

    code = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    statute = models.CharField(max_length=100)
    mode_of_trial = models.CharField(max_length=12, choices=ModeOfTrial.choices)
    stl_regime = models.CharField(max_length=12, choices=StlRegime.choices)
    is_common_assault = models.BooleanField(
        default=False, help_text="Common assault or battery (CJA 1988 s.39): the s.39A extension can apply."
    )
    course_of_conduct = models.BooleanField(default=False, help_text="Time runs from the last act.")
    reducible_to_common_assault = models.BooleanField(
        default=False,
        help_text="An assault that may later be reduced to common assault: track the common-assault time limit "
        "too, because the reduction is barred once it passes (Dougall v CPS [2018]).",
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            choices_check("mode_of_trial", OffenceTypeModeOfTrial, "%(app_label)s_%(class)s_mode_valid"),
            choices_check("stl_regime", OffenceTypeStlRegime, "%(app_label)s_%(class)s_regime_valid"),
            models.CheckConstraint(
                condition=Q(mode_of_trial="summary") | Q(stl_regime="none"),
                name="%(app_label)s_%(class)s_stl_only_summary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.statute})"

    @property
    def summary_only(self) -> bool:
        return self.mode_of_trial == self.ModeOfTrial.SUMMARY


#: The statuses of a closed case (no further action, an out-of-court resolution, concluded): named once.
CLOSED_STATUSES = ("nfa", "out_of_court", "concluded")


class CaseStatus(models.TextChoices):
    REPORTED = "reported", "Reported"
    INVESTIGATION = "investigation", "Under investigation"
    REFERRED = "referred", "Referred to CPS"
    ACTION_PLAN = "action_plan", "Action plan with police"
    DECIDED = "decided", "Decided: charge"
    CHARGED = "charged", "Charged"
    NO_FURTHER_ACTION = "nfa", "No further action"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution"
    AT_COURT = "at_court", "At court"
    CONCLUDED = "concluded", "Concluded"


class CaseRiskLevel(models.TextChoices):
    STANDARD = "standard", "Standard"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    UNKNOWN = "unknown", "Unknown"


class CaseRiskTool(models.TextChoices):
    DASH = "dash", "DASH RIC"
    DARA = "dara", "DARA"
    NONE = "", "Not assessed"


class CaseQualifyingReportKind(models.TextChoices):
    WITNESS_STATEMENT = "witness_statement", "Witness statement (s.39A(2))"
    VRI = "vri", "Video-recorded interview (s.39A(3))"
    NONE = "", "None yet"


class DerivedFieldsMixin(models.Model):
    """Columns kept by the ledger and the services with one SQL UPDATE (``cases.derived``), never by ``save()``:
    an update through ``save()`` leaves them out, so a stale copy of the row in memory cannot overwrite them."""

    DERIVED_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None and self.DERIVED_FIELDS:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.DERIVED_FIELDS
            ]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


#: Derived columns of the case (see ``cases/derived.py``): left out of the audit history, which records what
#: people changed, not what the ledger computed from it.
CASE_DERIVED_FIELDS = ("changed_at", "next_due_on", "stl_due_on", "action_plans_count", "last_plan_on")


@audited(exclude=list(CASE_DERIVED_FIELDS))
class Case(DerivedFieldsMixin):
    """A domestic abuse case, from the report to police to its conclusion. Police own it (its force); CPS see
    it once it is referred to their Area. The URN is unique within the force."""

    Status = CaseStatus

    CLOSED_STATUSES = CLOSED_STATUSES

    RiskLevel = CaseRiskLevel
    RiskTool = CaseRiskTool
    QualifyingReportKind = CaseQualifyingReportKind

    # No single-column indexes on force, cps_area and oic: the composite indexes below lead with them (fewer
    # indexes to write when the sweep marks cases changed).
    force = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases", db_index=False)
    urn = models.CharField(
        "URN", max_length=20, help_text="Unique reference number, unique within the force."
    )
    cps_area = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referred_cases",
        db_index=False,
        help_text="Set when the case is first referred to CPS; its staff then see the case.",
    )
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.REPORTED)
    domestic_abuse = models.BooleanField(default=True, help_text="Meets the DA Act 2021 s.1 definition.")
    summary = models.TextField(
        blank=True, help_text="A short neutral summary for the people working the case."
    )
    reported_on = models.DateField(help_text="The date the offence was reported to police.")
    first_qualifying_report_on = models.DateField(
        null=True,
        blank=True,
        help_text="Unassigned: a first witness statement or VRI recorded on the case before reports were kept per "
        "victim, on a case with no victim or several. It extends no time limit until it is assigned to the victim "
        "who made it.",
    )
    first_qualifying_report_kind = models.CharField(
        max_length=20, choices=QualifyingReportKind.choices, blank=True, default=""
    )
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, default=RiskLevel.UNKNOWN)
    risk_tool = models.CharField(max_length=4, choices=RiskTool.choices, blank=True, default="")
    children_in_household = models.BooleanField(default=False)
    police_perpetrated = models.BooleanField(default=False, help_text="The suspect works for the police.")
    restricted = models.BooleanField(
        default=False, help_text="Only the named users below may see this case (police-perpetrated abuse)."
    )
    restricted_to = models.ManyToManyField("cases.User", blank=True, related_name="restricted_cases")
    high_harm_repeat_offender = models.BooleanField(default=False)
    oic = models.ForeignKey(
        "cases.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oic_cases",
        db_index=False,
    )
    suspects = models.ManyToManyField(Person, blank=True, related_name="cases")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Derived (cases/derived.py): stored so that lists sort and page off an index at national scale.
    changed_at = models.DateTimeField(
        default=timezone.now,
        db_default=Now(),
        help_text="When anything on the case last changed: the case, its timeline or a clock's state (the API's "
        "updated_since and default order). Set by every service (event_record) and by the sweep.",
    )
    next_due_on = models.DateField(
        null=True,
        blank=True,
        help_text="The earliest due date of the case's open clocks (empty when none is open). Kept by the ledger.",
    )
    stl_due_on = models.DateField(
        null=True,
        blank=True,
        help_text="The earliest due date of the case's open statutory time limits (empty when none is open). "
        "Kept by the ledger.",
    )
    action_plans_count = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Action plans issued on the case. Kept by action_plan_issue."
    )
    last_plan_on = models.DateField(
        null=True, blank=True, help_text="When the latest action plan on the case was issued."
    )

    DERIVED_FIELDS = CASE_DERIVED_FIELDS

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_on", "urn"]
        constraints = [
            models.UniqueConstraint(
                fields=["force", "urn"], name="%(app_label)s_%(class)s_urn_unique_per_force"
            ),
            choices_check("status", CaseStatus, "%(app_label)s_%(class)s_status_valid"),
            choices_check("risk_level", CaseRiskLevel, "%(app_label)s_%(class)s_risk_level_valid"),
            choices_check("risk_tool", CaseRiskTool, "%(app_label)s_%(class)s_risk_tool_valid"),
            choices_check(
                "first_qualifying_report_kind",
                CaseQualifyingReportKind,
                "%(app_label)s_%(class)s_fqr_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(first_qualifying_report_on__isnull=True, first_qualifying_report_kind="")
                | (Q(first_qualifying_report_on__isnull=False) & ~Q(first_qualifying_report_kind="")),
                name="%(app_label)s_%(class)s_fqr_date_and_kind_together",
            ),
            models.CheckConstraint(
                condition=Q(first_qualifying_report_on__isnull=True)
                | Q(first_qualifying_report_on__gte=F("reported_on")),
                name="%(app_label)s_%(class)s_fqr_not_before_report",
            ),
            models.CheckConstraint(
                condition=Q(restricted=False) | Q(police_perpetrated=True),
                name="%(app_label)s_%(class)s_restricted_only_police_perpetrated",
            ),
        ]
        indexes = [
            models.Index(fields=["force", "status"], name="cases_case_force_status_idx"),
            models.Index(fields=["cps_area", "status"], name="cases_case_area_status_idx"),
            # The API case list (default order and updated_since) of a force and of a CPS Area.
            models.Index(fields=["force", "changed_at", "id"], name="cases_case_force_changed_idx"),
            models.Index(fields=["cps_area", "changed_at", "id"], name="cases_case_area_changed_idx"),
            # The API list ordered by next deadline; the OIC dashboard ("my cases, most urgent first").
            models.Index(fields=["force", "next_due_on", "id"], name="cases_case_force_next_due_idx"),
            models.Index(fields=["cps_area", "next_due_on", "id"], name="cases_case_area_next_due_idx"),
            models.Index(fields=["oic", "next_due_on"], name="cases_case_oic_next_due_idx"),
            # Supervisor dashboards: "cases with two or more action plans", most plans first, then the latest plan.
            models.Index(
                F("force"),
                F("action_plans_count").desc(),
                F("last_plan_on").desc(nulls_last=True),
                F("urn"),
                condition=Q(action_plans_count__gte=2),
                name="cases_case_force_plans_idx",
            ),
            models.Index(
                F("cps_area"),
                F("action_plans_count").desc(),
                F("last_plan_on").desc(nulls_last=True),
                F("urn"),
                condition=Q(action_plans_count__gte=2),
                name="cases_case_area_plans_idx",
            ),
            # Prosecutor dashboard: "cases flagged for a case conversation", earliest statutory time limit first.
            models.Index(
                fields=["cps_area", "stl_due_on", "urn"],
                condition=Q(status__in=["referred", "action_plan", "decided"]),
                name="cases_case_area_stl_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.urn

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED_STATUSES


@audited()
class Offence(models.Model):
    """An offence alleged in a case. For a course of conduct, ``committed_from`` is the first act and
    ``committed_on`` the last: time limits run from the last act."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="offences")
    offence_type = models.ForeignKey(OffenceType, on_delete=models.PROTECT, related_name="offences")
    suspect = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="offences"
    )
    complainant = models.ForeignKey(
        "victims.Victim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offences",
        help_text="The victim of the case this offence was committed against. Until named, a common assault keeps "
        "the safe MCA 1980 s.127 time limit (CJA 1988 s.39A needs the complainant's own statement or VRI).",
    )
    committed_from = models.DateField(null=True, blank=True, help_text="First act of a course of conduct.")
    committed_on = models.DateField(help_text="The offence date, or the last act of a course of conduct.")
    prosecutor_knowledge_on = models.DateField(
        null=True,
        blank=True,
        help_text="CA 2003 s.127(5): when evidence the prosecutor thinks sufficient came to their knowledge.",
    )
    particulars = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["committed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(committed_from__isnull=True) | Q(committed_from__lte=F("committed_on")),
                name="%(app_label)s_%(class)s_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(prosecutor_knowledge_on__isnull=True)
                | Q(prosecutor_knowledge_on__gte=F("committed_on")),
                name="%(app_label)s_%(class)s_knowledge_after_offence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offence_type.title} on {self.committed_on:%d %b %Y}"


class CaseEvent(models.Model):
    """One entry on a case's timeline, in words a caseworker reads: who did what, when, and why. Written only
    by services. (Row-level before/after history for auditors is kept separately by pghistory triggers.)"""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey("cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    summary = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    # The retention purge (purge_audit_history) deletes rows older than the retention period by this column.
    audit_retention_field = "occurred_at"

    class Meta:
        ordering = ["occurred_at", "pk"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="cases_event_case_time_idx")]
        # Append-only: no service updates or deletes a timeline entry (docs/security.md, "The audit trail").
        triggers = [append_only_trigger()]

    def __str__(self) -> str:
        return f"{self.case}: {self.summary}"


class ClockKind(models.TextChoices):
    INVESTIGATION = "investigation", "Investigation (21 days)"
    CHARGING_DECISION = "charging_decision", "Charging decision (10 working days)"
    CHARGE = "charge", "Charge (7 days)"
    STL = "stl", "Statutory time limit"
    STL_COMMON_ASSAULT = "stl_common_assault", "Common assault time limit (reduction)"
    VICTIM_UPDATE = "victim_update", "Victims' Code update"
    ACTION = "action", "Action plan action"
    ORDER_EXPIRY = "order_expiry", "Protective order expiry"
    DAPN_HEARING = "dapn_hearing", "Order hearing after a protection notice (48 hours)"
    BAIL_EXPIRY = "bail_expiry", "Pre-charge bail expiry"
    SUPPORT_REFERRAL = "support_referral", "Victim referred to support services (Right 4)"
    OPERATION_ENCOMPASS = "operation_encompass", "Operation Encompass school notification"


class ClockSide(models.TextChoices):
    POLICE = "police", "Police"
    CPS = "cps", "CPS"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    TIME_BARRED = "time_barred", "Time-barred"
    MET = "met", "Met"
    MISSED = "missed", "Missed"
    SUPERSEDED = "superseded", "Superseded"
    CANCELLED = "cancelled", "Cancelled"


#: A row's copy of its case's access-gate fields (``CaseGateCopy``): left out of the audit history.
GATE_COPY_FIELDS = ("force", "cps_area", "restricted")


class CaseGateCopy(DerivedFieldsMixin):
    """A copy of the case's access-gate fields (force, CPS Area, restricted) on a row about the case (a clock, a
    submission), so that organisation-wide lists and counts read an index led by the organisation and apply the
    access gate to the row itself (``selectors.GateCopyQuerySet.visible_to``). Filled from the case when the row
    is first saved, and kept by ``derived.case_refresh`` (every service) when the case is referred or restricted;
    like the other derived columns, a later ``save()`` never writes them (a stale copy of the row in memory cannot
    undo a restriction); no foreign key check (the case's own columns are checked)."""

    DERIVED_FIELDS: tuple[str, ...] = GATE_COPY_FIELDS

    force = models.ForeignKey(
        Organisation, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    cps_area = models.ForeignKey(
        Organisation,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    restricted = models.BooleanField(default=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.force_id is None:
            case = self.case  # type: ignore[attr-defined]
            self.force_id, self.cps_area_id, self.restricted = (
                case.force_id,
                case.cps_area_id,
                case.restricted,
            )
        super().save(*args, **kwargs)


@audited(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(
        condition=pghistory.AnyChange(
            exclude=["state", "previous_state", "state_changed_at", *GATE_COPY_FIELDS]
        )
    ),
    pghistory.DeleteEvent(),
    exclude=list(GATE_COPY_FIELDS),
)
class Clock(CaseGateCopy):
    """One deadline on a case: the clock ledger. Every deadline in the product is a row here, whatever it is
    about, so that one sweep, one alert path, one dashboard query and one set of timeliness figures serve all.

    ``due_on`` comes from the pure rules in ``cases/clocks.py``; ``warn_on`` is when it becomes "due soon"
    (for a statutory time limit: eight weeks before). The periodic sweep moves ``state`` on with one set-based
    UPDATE; each change writes a ``ClockEvent``. (State changes are logged there rather than in the row
    history, so that the sweep stays a single statement.)"""

    Kind = ClockKind
    Side = ClockSide
    State = ClockState

    OPEN_STATES = ("running", "due_soon", "overdue", "time_barred")
    STL_KINDS = clocks.STL_CLOCK_KINDS

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="clocks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    side = models.CharField(max_length=6, choices=Side.choices)
    label = models.CharField(max_length=200, blank=True, help_text="What it is about, in a few words.")
    # The row it is about (at most one, by kind).
    offence = models.ForeignKey(
        Offence, on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    referral = models.ForeignKey(
        "charging.ChargingReferral", on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    action = models.ForeignKey(
        "charging.Action", on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    order = models.ForeignKey(
        "victims.ProtectiveOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    victim = models.ForeignKey(
        "victims.Victim", on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    started_on = models.DateField()
    due_on = models.DateField()
    due_at = models.DateTimeField(null=True, blank=True, help_text="For hour-based deadlines (DAPN hearing).")
    warn_on = models.DateField(help_text="From this day the clock is due soon.")
    stopped_on = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    previous_state = models.CharField(
        max_length=12,
        choices=ClockState.choices,
        blank=True,
        default="",
        db_default="",
        help_text="The state before the last change.",
    )
    params = models.JSONField(default=dict, blank=True, help_text="Inputs of the rule, e.g. enhanced rights.")
    # force, cps_area, restricted: the copy of the case's access-gate fields (``CaseGateCopy``).

    objects = ClockQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            choices_check("kind", ClockKind, "%(app_label)s_%(class)s_kind_valid"),
            choices_check("side", ClockSide, "%(app_label)s_%(class)s_side_valid"),
            choices_check("state", ClockState, "%(app_label)s_%(class)s_state_valid"),
            models.CheckConstraint(
                condition=Q(warn_on__lte=F("due_on")), name="%(app_label)s_%(class)s_warn_before_due"
            ),
            models.CheckConstraint(
                condition=Q(
                    stopped_on__isnull=True, state__in=["running", "due_soon", "overdue", "time_barred"]
                )
                | Q(stopped_on__isnull=False, state__in=["met", "missed", "superseded", "cancelled"]),
                name="%(app_label)s_%(class)s_state_matches_stop",
            ),
            models.CheckConstraint(
                condition=~Q(kind="charging_decision") | Q(referral__isnull=False),
                name="%(app_label)s_%(class)s_charging_has_referral",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=list(clocks.STL_CLOCK_KINDS)) | Q(offence__isnull=False),
                name="%(app_label)s_%(class)s_stl_has_offence",
            ),
            models.CheckConstraint(
                condition=~Q(kind="action") | Q(action__isnull=False),
                name="%(app_label)s_%(class)s_action_has_action",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["order_expiry", "dapn_hearing", "bail_expiry"])
                | Q(order__isnull=False),
                name="%(app_label)s_%(class)s_order_kinds_have_order",
            ),
            # One open clock of a kind per subject: services re-open by stopping the old one first.
            models.UniqueConstraint(
                fields=["case", "kind", "offence", "referral", "action", "order", "victim"],
                condition=Q(stopped_on__isnull=True),
                nulls_distinct=False,
                name="%(app_label)s_%(class)s_one_open_per_subject",
            ),
        ]
        indexes = [
            # The sweep ("which open clocks change state today") and the deadline dashboards and digests.
            models.Index(
                fields=["due_on"], condition=Q(stopped_on__isnull=True), name="cases_clock_open_due_idx"
            ),
            models.Index(fields=["state", "due_on"], name="cases_clock_state_due_idx"),
            # STL watch list, "earliest STL" and "STL within eight weeks" of a case (prosecutor dashboard).
            models.Index(
                fields=["case", "due_on"],
                condition=Q(stopped_on__isnull=True, kind__in=list(clocks.STL_CLOCK_KINDS)),
                name="cases_clock_open_stl_idx",
            ),
            # Alert digests and escalation candidates: open clocks that have reached their warning day.
            models.Index(
                fields=["warn_on"], condition=Q(stopped_on__isnull=True), name="cases_clock_open_warn_idx"
            ),
            # The STL watch list of a CPS Area, earliest first.
            models.Index(
                fields=["cps_area", "due_on", "id"],
                condition=Q(stopped_on__isnull=True, kind__in=list(clocks.STL_CLOCK_KINDS)),
                name="cases_clock_area_open_stl_idx",
            ),
            # A force's team deadlines (police side) and a CPS Area's (CPS side and every STL): the supervisors'
            # overdue lists, and the headline counts read from the index alone (the included columns are what
            # the counts and the access gate test).
            models.Index(
                fields=["force", "due_on", "id"],
                include=["kind", "restricted", "case"],
                condition=Q(stopped_on__isnull=True, side="police"),
                name="cases_clock_force_police_idx",
            ),
            models.Index(
                fields=["cps_area", "due_on", "id"],
                include=["kind", "restricted", "case"],
                condition=Q(stopped_on__isnull=True)
                & (Q(side="cps") | Q(kind__in=list(clocks.STL_CLOCK_KINDS))),
                name="cases_clock_area_cps_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_on:%d %b %Y} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.stopped_on is None


class SweepRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped: another run held the lock"
    FAILED = "failed", "Failed"


class SweepRun(models.Model):
    """A record of one run of the clock sweep, for administrators: when, for which London day, what it
    changed, and any error."""

    Status = SweepRunStatus

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    today = models.DateField(help_text="The Europe/London date the run computed states for.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    examined = models.PositiveIntegerField(default=0, help_text="Open clocks whose state changed.")
    events = models.PositiveIntegerField(default=0, help_text="Threshold crossings recorded.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [choices_check("status", SweepRunStatus, "%(app_label)s_%(class)s_status_valid")]

    def __str__(self) -> str:
        return f"Sweep {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class ClockEvent(models.Model):
    """A clock crossing a threshold (due soon, overdue, time-barred), recorded by the sweep or a service. The
    alerts read these; the unique key makes a repeated or concurrent sweep record nothing twice."""

    clock = models.ForeignKey(Clock, on_delete=models.PROTECT, related_name="events")
    # Copied from the clock in the same statement that writes the event, so it is right by construction; no
    # database check (it would cost the sweep a lookup per crossing).
    case = models.ForeignKey(
        Case, on_delete=models.DO_NOTHING, db_constraint=False, related_name="clock_events"
    )
    kind = models.CharField(max_length=20, choices=Clock.Kind.choices)
    from_state = models.CharField(max_length=12, choices=Clock.State.choices)
    to_state = models.CharField(max_length=12, choices=Clock.State.choices)
    crossed_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sweep_run = models.ForeignKey(
        SweepRun, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "to_state", "crossed_on"], name="%(app_label)s_%(class)s_once_per_day"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="cases_clockevent_created_idx")]
        # Append-only: the sweep and the ledger only insert (ON CONFLICT DO NOTHING updates nothing).
        triggers = [append_only_trigger()]

    audit_retention_field = "created_at"

    def __str__(self) -> str:
        return f"{self.clock}: {self.from_state} -> {self.to_state} on {self.crossed_on}"


class BankHolidayOverrideAction(models.TextChoices):
    ADD = "add", "Add as a bank holiday"
    REMOVE = "remove", "Remove: not a bank holiday"


@audited()
class BankHolidayOverride(models.Model):
    """An administrator's correction to the England and Wales bank holiday list from the ``holidays`` package:
    a newly proclaimed holiday to add, or a day to remove. Saving one recomputes the deadlines it affects."""

    Action = BankHolidayOverrideAction

    day = models.DateField(unique=True)
    action = models.CharField(max_length=6, choices=Action.choices)
    reason = models.CharField(max_length=200, help_text="E.g. the proclamation.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            choices_check("action", BankHolidayOverrideAction, "%(app_label)s_%(class)s_action_valid")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.get_action_display()}"


# ------------------------------------------------------------------------------------------------------------------
# Telling people: the alert outbox, notification preferences and calendar feeds (deadline alert emails).
# ------------------------------------------------------------------------------------------------------------------


class AlertKind(models.TextChoices):
    IMMEDIATE = "immediate", "Immediate alert"
    DIGEST = "digest", "Daily digest"
    ESCALATION = "escalation", "Escalation"


class AlertStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Claimed for sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Failed permanently"


class Alert(models.Model):
    """One email to one person, written to this outbox when a deadline needs telling and delivered in a second
    step. The unique key (recipient, case, clock, threshold, day) means a repeated sweep or a doubled task
    creates nothing new; delivery claims a row with a conditional update, so two workers never send it twice.
    The stored subject and bodies answer "was the prosecutor told, and when, and what?"."""

    Kind = AlertKind
    Status = AlertStatus

    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="alerts")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    clock = models.ForeignKey(Clock, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    threshold = models.CharField(
        max_length=40, help_text="What was crossed, e.g. due_soon, overdue, stl_8_weeks."
    )
    day = models.DateField(help_text="The London day the alert is for.")
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_check("kind", AlertKind, "%(app_label)s_%(class)s_kind_valid"),
            choices_check("status", AlertStatus, "%(app_label)s_%(class)s_status_valid"),
            models.UniqueConstraint(
                fields=["recipient", "case", "clock", "threshold", "day"],
                nulls_distinct=False,
                name="%(app_label)s_%(class)s_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="%(app_label)s_%(class)s_sent_has_time",
            ),
        ]
        indexes = [
            # Delivery: "which alerts are waiting to be sent".
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="cases_alert_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.get_status_display()})"


class NotificationPreference(models.Model):
    """A person's choices: the daily digest and immediate alerts on or off, within what their role requires."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_preference")
    digest_enabled = models.BooleanField(default=True)
    immediate_enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Notifications for {self.user}"


class CalendarFeed(models.Model):
    """A private iCalendar feed of a person's deadlines, reached by a secret token (stored hashed) that the
    person can revoke."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


# ------------------------------------------------------------------------------------------------------------------
# Force systems: API clients and outbound webhooks.
# ------------------------------------------------------------------------------------------------------------------


class ApiClientScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiClient(models.Model):
    """A force's records system using the REST API: a first-class account, backed by a service ``User`` of the
    force (role ``force_system``) so that the one access gate and the step permissions apply to it unchanged.
    The token is shown once and stored hashed; it can expire, be revoked or rotated."""

    Scope = ApiClientScope

    name = models.CharField(max_length=100)
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_client")
    scope = models.CharField(max_length=5, choices=ApiClientScope.choices, default=ApiClientScope.READ)
    token_prefix = models.CharField(
        max_length=12, unique=True, help_text="The token's first characters, to find it."
    )
    token_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [choices_check("scope", ApiClientScope, "%(app_label)s_%(class)s_scope_valid")]

    def __str__(self) -> str:
        return self.name


class WebhookEndpoint(models.Model):
    """A URL a force registers to receive CPS decisions, action plans and overdue clocks as signed POSTs
    (HMAC-SHA256 over the timestamp and body with the shared secret)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    events = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: an outbox row with its attempts, so every delivery can be seen and replayed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Failed permanently"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    event = models.CharField(max_length=40)
    event_key = models.CharField(
        max_length=120, help_text="Idempotency key: one delivery per event per endpoint."
    )
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a pending or failed delivery is next due; the pump re-queues due rows whose retry was "
        "lost (a broker outage, a killed worker).",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_key"], name="%(app_label)s_%(class)s_once"),
        ]
        indexes = [
            # The pump: "which deliveries are waiting and due".
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="cases_webhook_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


# --------------------------------------------------------------------------------------------------------------
# The read log of restricted data (written by ``cases/access_log.py``)
# --------------------------------------------------------------------------------------------------------------


class AccessLogWhat(models.TextChoices):
    CASE_VIEWED = "case_viewed", "Restricted case page viewed"
    CASE_PRINTED = "case_printed", "Restricted case summary viewed for printing"
    CASE_API_READ = "case_api_read", "Restricted case read through the API"
    CASE_LISTED = "case_listed", "Restricted case shown in a list"
    CASE_EXPORTED = "case_exported", "Restricted case included in a CSV export"
    LOG_SEARCHED = "log_searched", "Access log searched"
    LOG_EXPORTED = "log_exported", "Access log exported"


class AccessLog(models.Model):
    """One read of restricted data: who (``actor``), what (``what``, the object's model, key and a description),
    which case, when, from where (address, X-Forwarded-For as sent, browser, path) and why (``purpose``, where the
    reader gave one). Written by ``record_case_read`` / ``record_many`` / ``record``; never changed or deleted
    (database trigger). DPA 2018 s.62 (logging)."""

    What = AccessLogWhat

    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_logs")
    what = models.CharField(max_length=20, choices=What.choices)
    object_model = models.CharField(max_length=60, help_text="app_label.model of what was read.")
    object_pk = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=300)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="access_logs"
    )
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="REMOTE_ADDR of the request.")
    forwarded_for = models.CharField(max_length=200, blank=True, help_text="X-Forwarded-For, as sent.")
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True, help_text="The address that was read.")
    api_client = models.CharField(max_length=120, blank=True, help_text="The API client, for a token read.")
    purpose = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "read log entry"
        verbose_name_plural = "read log"
        # Only "view": no one can be given a permission to add, change or delete log rows.
        default_permissions = ("view",)
        constraints = [choices_check("what", AccessLogWhat, "%(app_label)s_%(class)s_what_valid")]
        indexes = [
            # The auditor's searches: by case, by user, by period (all newest first).
            models.Index(fields=["case", "at"], name="cases_accesslog_case_at_idx"),
            models.Index(fields=["actor", "at"], name="cases_accesslog_actor_at_idx"),
            models.Index(fields=["at"], name="cases_accesslog_at_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    audit_retention_field = "at"

    def __str__(self) -> str:
        return f"{self.get_what_display()} by {self.actor} at {self.at:%d %b %Y %H:%M}"


class AuditPurgeRun(models.Model):
    """One run of the audit retention purge (``manage.py purge_audit_history``): who ran it, when, the retention
    period and the cut-off it applied, and how many rows it deleted from each audit table. Append-only, and
    never purged itself: the record that audit rows were deleted, and on whose command, is kept."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    operator = models.CharField(
        max_length=150, help_text="Who ran the command (--operator, else the OS user)."
    )
    reason = models.CharField(max_length=300, blank=True)
    retention_days = models.PositiveIntegerField()
    cutoff = models.DateTimeField(help_text="Rows recorded before this moment were deleted.")
    deleted = models.JSONField(default=dict, help_text="Rows deleted, by table.")
    total = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]
        default_permissions = ("view",)
        triggers = [append_only_trigger()]

    def __str__(self) -> str:
        return f"Audit purge {self.started_at:%Y-%m-%d %H:%M} by {self.operator}: {self.total} rows"
