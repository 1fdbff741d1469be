"""Joint governance: multi-agency scrutiny panels and the cases they review (DA Joint Justice Plan, outcome 6
and the joint local principles). Panel members see only the cases their panel reviews."""

from __future__ import annotations

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from cases.audit import audited
from cases.models import Case, Organisation, Person, choices_check


class ScrutinyPanelKind(models.TextChoices):
    GENERAL = "general", "Domestic abuse case scrutiny"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution scrutiny"


@audited()
class ScrutinyPanel(models.Model):
    """A multi-agency scrutiny panel for a force or a CPS Area, including out-of-court resolution panels."""

    Kind = ScrutinyPanelKind

    name = models.CharField(max_length=120)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="panels")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.GENERAL)
    members = models.ManyToManyField("cases.User", blank=True, related_name="panels")

    class Meta:
        ordering = ["name"]
        constraints = [choices_check("kind", ScrutinyPanelKind, "%(app_label)s_%(class)s_kind_valid")]

    def __str__(self) -> str:
        return self.name


@audited()
class PanelMeeting(models.Model):
    """One meeting of a scrutiny panel and the sample of cases it reviews. The sample is drawn once, by rule
    and at random; the random part is ordered by a hash of the stored ``seed`` and each case's id, so the same
    data and seed give the same sample (anyone can re-draw it to check)."""

    panel = models.ForeignKey(ScrutinyPanel, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField()
    seed = models.CharField(max_length=64, help_text="Seed of the random sample (reproducible).")
    random_count = models.PositiveSmallIntegerField(default=0, help_text="Cases drawn at random.")
    per_rule_limit = models.PositiveSmallIntegerField(default=0, help_text="Most cases drawn per rule.")
    sampled_at = models.DateTimeField(null=True, blank=True)
    sampled_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "held_on"], name="%(app_label)s_%(class)s_once_a_day"),
            models.CheckConstraint(condition=~Q(seed=""), name="%(app_label)s_%(class)s_seed_given"),
        ]

    def __str__(self) -> str:
        return f"{self.panel} on {self.held_on:%d %b %Y}"


class SamplingRule(models.TextChoices):
    """Why a case was drawn for review by rule (DA Joint Justice Plan: scrutiny of NFA after an action plan, STL
    failures, cases with two or more action plans, out-of-court resolutions, victim withdrawals)."""

    NFA_AFTER_ACTION_PLAN = "nfa_after_action_plan", "No further action after an action plan"
    STL_FAILURE = "stl_failure", "Statutory time limit missed or passed"
    TWO_PLUS_ACTION_PLANS = "two_plus_action_plans", "Two or more action plans"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution"
    VICTIM_WITHDRAWAL = "victim_withdrawal", "Victim withdrew support"


class PanelReviewSampling(models.TextChoices):
    RANDOM = "random", "At random"
    RULE = "rule", "By rule"


class PanelReviewRating(models.TextChoices):
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    POOR = "poor", "Poor"
    NOT_ASSESSED = "", "Not assessed"


@audited()
class PanelReview(models.Model):
    """A case sampled for a panel meeting, at random or by rule, with the panel's structured findings."""

    Sampling = PanelReviewSampling
    Rating = PanelReviewRating
    Rule = SamplingRule

    FINDINGS = (
        "investigation",
        "decision_making",
        "timeliness",
        "action_plan_proportionality",
        "victims_code_compliance",
        "language",
    )

    panel = models.ForeignKey(ScrutinyPanel, on_delete=models.PROTECT, related_name="reviews")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="panel_reviews")
    meeting = models.ForeignKey(
        PanelMeeting, on_delete=models.PROTECT, null=True, blank=True, related_name="reviews"
    )
    meeting_on = models.DateField()
    sampling = models.CharField(max_length=6, choices=Sampling.choices)
    sampling_rule = models.CharField(max_length=60, blank=True)
    matched_rules = ArrayField(
        models.CharField(max_length=30, choices=SamplingRule.choices),
        default=list,
        blank=True,
        help_text="Every rule the case met when it was drawn (sampling_rule is the first).",
    )
    investigation = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    decision_making = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    timeliness = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    action_plan_proportionality = models.CharField(
        max_length=20, choices=Rating.choices, blank=True, default=""
    )
    victims_code_compliance = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    language = models.CharField(max_length=20, choices=Rating.choices, blank=True, default="")
    learning_points = models.TextField(blank=True)
    learning_shared = models.BooleanField(default=False)
    learning_shared_on = models.DateField(null=True, blank=True)
    learning_shared_with = models.CharField(
        max_length=200, blank=True, help_text="E.g. the local DA forum, the JOIM, DA leads' meeting."
    )
    findings_recorded_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    findings_recorded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-meeting_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "case", "meeting_on"], name="%(app_label)s_%(class)s_once_per_meeting"
            ),
            choices_check("sampling", PanelReviewSampling, "%(app_label)s_%(class)s_sampling_valid"),
            models.CheckConstraint(
                condition=~Q(sampling="rule") | ~Q(sampling_rule=""),
                name="%(app_label)s_%(class)s_rule_named",
            ),
            models.CheckConstraint(
                condition=Q(matched_rules__contained_by=SamplingRule.values),
                name="%(app_label)s_%(class)s_matched_rules_valid",
            ),
            models.CheckConstraint(
                condition=Q(learning_shared=False) | Q(learning_shared_on__isnull=False),
                name="%(app_label)s_%(class)s_shared_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.panel}: {self.case} on {self.meeting_on}"


class CpsNotificationOutcome(models.TextChoices):
    NO_FURTHER_ACTION = "nfa", "No further action"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution"


@audited()
class CpsNotification(models.Model):
    """Police telling CPS that they closed a case (no further action or an out-of-court resolution) while a CPS
    action plan was with them (DA Joint Justice Plan, Annex A police action: "If an action plan is issued but the
    police take no further action or consider an alternative resolution, the police will inform the CPS with
    the case outcome"). A row, so "was CPS told, when, by whom, and did they see it?" is answered from the
    database; an email to the prosecutor who issued the plan goes through the alert outbox."""

    Outcome = CpsNotificationOutcome

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="cps_notification")
    plan = models.ForeignKey(
        "charging.ActionPlan", on_delete=models.PROTECT, related_name="cps_notifications"
    )
    area = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    outcome_on = models.DateField(help_text="The day police closed the case.")
    reason = models.TextField(blank=True)
    notified_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notified_at = models.DateTimeField()
    recipient = models.ForeignKey(
        "cases.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The prosecutor who issued the action plan.",
    )
    acknowledged_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-notified_at", "pk"]
        constraints = [
            choices_check("outcome", CpsNotificationOutcome, "%(app_label)s_%(class)s_outcome_valid"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="%(app_label)s_%(class)s_acknowledged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"CPS told of {self.get_outcome_display().lower()} on {self.case}"


class HighHarmOverride(models.TextChoices):
    NONE = "", "No override"
    ON = "on", "Flag on"
    OFF = "off", "Flag off"


@audited(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["evaluated_at"])),
    pghistory.DeleteEvent(),
)
class HighHarmFlag(models.Model):
    """The high-harm repeat offender flag of one person (DA Joint Justice Plan strategic priority 4.3: a shared
    definition of high-risk, high-harm repeat offending and a cross-agency flagging system). ``computed`` and
    ``reasons`` come from the nightly evaluation of the shared definition (``governance/hhro.py``) for every
    person at once; a manual ``override`` (on or off) wins and needs a justification. The effective value is
    copied to ``Person.high_harm_repeat_offender`` and to the cases of that person."""

    Override = HighHarmOverride

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="high_harm_flag")
    computed = models.BooleanField(default=False, help_text="What the shared definition says.")
    reasons = models.JSONField(default=list, blank=True, help_text="The criteria met, each with its figure.")
    facts = models.JSONField(default=dict, blank=True, help_text="The figures the definition was applied to.")
    evaluated_at = models.DateTimeField(null=True, blank=True)
    override = models.CharField(max_length=3, choices=Override.choices, blank=True, default="")
    override_justification = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person"]
        constraints = [
            choices_check("override", HighHarmOverride, "%(app_label)s_%(class)s_override_valid"),
            models.CheckConstraint(
                condition=Q(override="")
                | (
                    ~Q(override_justification="")
                    & Q(overridden_by__isnull=False, overridden_at__isnull=False)
                ),
                name="%(app_label)s_%(class)s_override_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"High-harm flag of {self.person}: {'on' if self.effective else 'off'}"

    @property
    def effective(self) -> bool:
        if self.override == HighHarmOverride.ON:
            return True
        if self.override == HighHarmOverride.OFF:
            return False
        return self.computed


class JobRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped: another run held the lock"
    FAILED = "failed", "Failed"


class HighHarmRun(models.Model):
    """A record of one run of the nightly high-harm evaluation, for administrators: when, for which London day,
    how many people were evaluated and flagged, what changed, and any error."""

    Status = JobRunStatus

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    today = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    evaluated = models.PositiveIntegerField(default=0, help_text="People evaluated.")
    flagged = models.PositiveIntegerField(default=0, help_text="People the definition flags.")
    people_changed = models.PositiveIntegerField(default=0)
    cases_changed = models.PositiveIntegerField(default=0)
    definition = models.JSONField(default=dict, blank=True, help_text="The definition used (settings).")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [choices_check("status", JobRunStatus, "%(app_label)s_%(class)s_status_valid")]

    def __str__(self) -> str:
        return f"High-harm evaluation {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class PerformanceScope(models.TextChoices):
    NATIONAL = "national", "England and Wales"
    PILOT = "pilot", "Pilot sites"
    REST = "rest", "Other sites"
    AREA = "area", "CPS Area"
    FORCE = "force", "Police force"


class PerformanceFigure(models.Model):
    """One stored joint performance figure: a count for one scope (a force, a CPS Area, pilot sites, other sites
    or England and Wales) and one month, written by ``services.performance_figures_refresh`` and read by the
    dashboard, its CSV and the metrics JSON (``governance/metrics.py``), which never touch the fact tables.

    Every figure the dashboard shows is derived from these counts, for a month or for any run of months:

    - a plain count (``referrals``, ``triage_failure:<reason>``, ...): ``bucket`` 0;
    - a distribution for a median (``days_report_to_referral``, ...): one row per value, ``bucket`` the value
      (days), ``value`` how many facts had it, so the median of any run of months is exact;
    - a count of distinct cases (``stl_found_on_receipt``, ...): one row per earlier month, ``bucket`` the last
      earlier month (YYYYMM) in which the same case counted, 0 for none, so the cases of a run of months are
      counted once (those whose last earlier month falls before the run)."""

    Scope = PerformanceScope

    scope = models.CharField(max_length=8, choices=Scope.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    month = models.DateField(help_text="The first day of the month.")
    metric = models.CharField(max_length=80)
    bucket = models.IntegerField(default=0)
    value = models.BigIntegerField()
    computed_at = models.DateTimeField()
    refresh = models.ForeignKey(
        "governance.PerformanceRefresh",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The refresh that wrote the figure.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "scope", "month", "metric", "bucket"],
                nulls_distinct=False,
                name="%(app_label)s_%(class)s_once",
            ),
            choices_check("scope", PerformanceScope, "%(app_label)s_%(class)s_scope_valid"),
            models.CheckConstraint(
                condition=Q(scope__in=["area", "force"], organisation__isnull=False)
                | Q(scope__in=["national", "pilot", "rest"], organisation__isnull=True),
                name="%(app_label)s_%(class)s_organisation_iff_area_or_force",
            ),
        ]
        indexes = [models.Index(fields=["month", "scope"], name="governance_perf_month_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.organisation_id or ''} {self.month:%Y-%m} {self.metric}[{self.bucket}]"


class PerformanceRefresh(models.Model):
    """A record of one refresh of the stored performance figures, for administrators and for the dashboard's
    "figures as of": when it ran, whether it recomputed every month (``full``) or this month onwards, how many
    figures it wrote, and any error."""

    Status = JobRunStatus

    started_at = models.DateTimeField(help_text="The figures are as of this moment.")
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    full = models.BooleanField(default=False, help_text="Every month recomputed (else this month onwards).")
    from_month = models.DateField(null=True, blank=True, help_text="First month recomputed (empty: all).")
    figures = models.PositiveIntegerField(default=0, help_text="Stored figures written.")
    seconds = models.FloatField(null=True, blank=True)
    signature = models.CharField(
        max_length=64,
        blank=True,
        help_text="Fingerprint of what every month depends on (organisations, pilot sites, Areas, bank holidays, "
        "rules): when it changes, the next refresh recomputes every month.",
    )
    withdrawals_available = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [choices_check("status", JobRunStatus, "%(app_label)s_%(class)s_status_valid")]
        indexes = [models.Index(fields=["status", "full", "started_at"], name="governance_perf_refresh_idx")]

    def __str__(self) -> str:
        return f"Performance figures {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
