"""The charging workflow between police and CPS: referrals, case conversations, decisions, action plans and
charges. Source: the DA Joint Justice Plan (../shared/seeds/001), the Director's Guidance on Charging (6th ed.),
and how CPS triage referrals today (../shared/docs/cps-workflow.md). Writes go through ``charging/services.py``.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from cases.audit import audited
from cases.models import GATE_COPY_FIELDS, Case, CaseGateCopy, Offence, Person, choices_check
from cases.selectors import GateCopyQuerySet


class TriageReason(models.TextChoices):
    """Reasons CPS triage rejects a referral as it stands (file-quality failures), as prosecutors record them."""

    MATERIAL_NOT_RECEIVED = "material_not_received", "Case material not correctly received"
    NO_DISCLOSURE_SCHEDULE = "no_disclosure_schedule", "No or missing disclosure schedule"
    NO_MG3 = "no_mg3", "No MG3 (report to the crown prosecutor)"
    NO_SUPERVISOR_COMMENTS = "no_supervisor_comments", "No or incomplete supervisor's comments"
    NO_DA_CHECKLIST = "no_da_checklist", "No DV (domestic abuse) evidence checklist"
    NO_MG11S = "no_mg11s", "No or missing MG11s (witness statements)"
    NO_EXHIBITS = "no_exhibits", "No or missing exhibits"
    NO_INTERVIEW_SUMMARY = "no_interview_summary", "No summary of interview"
    NO_SUSPECT_PREVIOUS = "no_suspect_previous", "Missing suspect's previous convictions"
    NO_WITNESS_PREVIOUS = "no_witness_previous", "Missing victim or witness previous convictions"
    NO_HARD_MEDIA = "no_hard_media", "Hard media not provided"
    NO_THIRD_PARTY = "no_third_party", "Third-party material not provided"
    NO_OIC_CONTACT = "no_oic_contact", "Incomplete OIC contact details"


class ChargingReferralKind(models.TextChoices):
    """What a submission asks for. New submissions are always for a charging decision: early advice has its own
    record (``EarlyAdvice``); ``early_advice`` stays for the submissions recorded before it had one."""

    EARLY_ADVICE = "early_advice", "Early advice"
    CHARGING_DECISION = "charging_decision", "Charging decision"


class ChargingReferralTriage(models.TextChoices):
    PENDING = "pending", "Awaiting triage"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected: file quality"


class ChargingReferralStatus(models.TextChoices):
    AWAITING_DECISION = "awaiting", "Awaiting decision"
    ACTION_PLAN = "action_plan", "Action plan issued"
    DECIDED = "decided", "Decided"
    REJECTED = "rejected", "Returned at triage"


@audited(exclude=["decision_due_on", *GATE_COPY_FIELDS])
class ChargingReferral(CaseGateCopy):
    """One submission of a case to CPS, for early advice or a charging decision. Each submission has its own
    10-working-day charging clock from the day CPS receives it; an action plan ends that submission and the
    police resubmission is a new referral."""

    Kind = ChargingReferralKind
    Triage = ChargingReferralTriage
    Status = ChargingReferralStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    sequence = models.PositiveSmallIntegerField(help_text="1 for the first submission, 2 for the next, ...")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CHARGING_DECISION)
    received_on = models.DateField(help_text="The day CPS received it: the charging clock starts here.")
    submitted_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    custody = models.BooleanField(default=False, help_text="Suspect in custody: a priority ('red') referral.")
    triage = models.CharField(max_length=10, choices=Triage.choices, default=Triage.PENDING)
    triaged_on = models.DateField(null=True, blank=True)
    triage_reasons = ArrayField(
        models.CharField(max_length=30, choices=TriageReason.choices), default=list, blank=True
    )
    triage_notes = models.TextField(blank=True)
    respond_by = models.DateField(null=True, blank=True, help_text="When rejected: police must respond by.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.AWAITING_DECISION)
    closed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    prosecutor = models.ForeignKey(
        "cases.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocated_referrals",
        help_text="The prosecutor allocated the submission (at triage): its CPS-side alerts go to them; until "
        "then, to the Area's prosecutors.",
    )
    # Derived (cases/derived.py): the due date of this submission's charging-decision clock, so the prosecutor
    # dashboard orders "awaiting a decision" off an index.
    decision_due_on = models.DateField(
        null=True, blank=True, help_text="When the charging decision on this submission is due."
    )

    # force, cps_area, restricted: the copy of the case's access-gate fields (``CaseGateCopy``), so the Area- and
    # force-wide queues (awaiting a decision, triage, returned files) read an index led by the organisation.

    objects = GateCopyQuerySet.as_manager()

    DERIVED_FIELDS = ("decision_due_on", *GATE_COPY_FIELDS)

    class Meta:
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "sequence"], name="%(app_label)s_%(class)s_sequence_unique"
            ),
            choices_check("kind", ChargingReferralKind, "%(app_label)s_%(class)s_kind_valid"),
            choices_check("triage", ChargingReferralTriage, "%(app_label)s_%(class)s_triage_valid"),
            choices_check("status", ChargingReferralStatus, "%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=Q(triage_reasons__contained_by=TriageReason.values),
                name="%(app_label)s_%(class)s_reasons_valid",
            ),
            models.CheckConstraint(
                condition=~Q(triage="rejected") | ~Q(triage_reasons=[]),
                name="%(app_label)s_%(class)s_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(triaged_on__isnull=True) | Q(triaged_on__gte=F("received_on")),
                name="%(app_label)s_%(class)s_triage_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("received_on")),
                name="%(app_label)s_%(class)s_closed_after_receipt",
            ),
            # At most one submission with CPS at a time.
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="awaiting"), name="%(app_label)s_%(class)s_one_awaiting"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_on"], name="charging_ref_status_recv_idx"),
            # Prosecutor dashboard and triage queue: submissions awaiting a decision by charging clock.
            models.Index(
                F("cps_area"),
                F("decision_due_on"),
                F("custody").desc(),
                F("received_on"),
                F("id"),
                condition=Q(status="awaiting"),
                name="charging_ref_area_awaiting_idx",
            ),
            # Action plan responses received (police resubmissions awaiting a decision).
            models.Index(
                fields=["cps_area", "decision_due_on", "received_on", "id"],
                condition=Q(status="awaiting", sequence__gt=1),
                name="charging_ref_area_resub_idx",
            ),
            # Triage queues of an Area and of a force: custody first, then by charging clock.
            models.Index(
                F("cps_area"),
                F("custody").desc(),
                F("decision_due_on"),
                F("received_on"),
                F("id"),
                condition=Q(status="awaiting", triage="pending"),
                name="charging_ref_area_triage_idx",
            ),
            models.Index(
                F("force"),
                F("custody").desc(),
                F("decision_due_on"),
                F("received_on"),
                F("id"),
                condition=Q(status="awaiting", triage="pending"),
                name="charging_ref_force_triage_idx",
            ),
            # Files returned at triage, by the day police must respond.
            models.Index(
                fields=["force", "respond_by", "id"],
                condition=Q(status="rejected"),
                name="charging_ref_force_return_idx",
            ),
            models.Index(
                fields=["cps_area", "respond_by", "id"],
                condition=Q(status="rejected"),
                name="charging_ref_area_return_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} referral {self.sequence} ({self.get_status_display()})"


class CaseConversationMode(models.TextChoices):
    DIGITAL = "digital", "Digital"
    FACE_TO_FACE = "face_to_face", "Face to face"


@audited()
class CaseConversation(models.Model):
    """An early case conversation between the OIC and a prosecutor (JJP joint local principle: hold early case
    conversations), to agree reasonable lines of inquiry and the early prosecution strategy."""

    Mode = CaseConversationMode

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="conversations")
    referral = models.ForeignKey(
        ChargingReferral, on_delete=models.PROTECT, null=True, blank=True, related_name="conversations"
    )
    held_on = models.DateField()
    mode = models.CharField(max_length=12, choices=Mode.choices)
    participants = models.ManyToManyField("cases.User", related_name="+")
    reasonable_lines_of_inquiry = models.TextField(blank=True)
    evidential_concerns = models.TextField(blank=True)
    early_prosecution_strategy = models.TextField(blank=True)
    protective_orders_considered = models.BooleanField(default=False)
    protective_orders_notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["held_on", "pk"]
        constraints = [choices_check("mode", CaseConversationMode, "%(app_label)s_%(class)s_mode_valid")]

    def __str__(self) -> str:
        return f"{self.case} conversation on {self.held_on}"


class ChargingDecisionTest(models.TextChoices):
    FULL_CODE = "full_code", "Full Code Test"
    THRESHOLD = "threshold", "Threshold Test"
    NONE = "", "Not applied"


class ChargingDecisionOutcome(models.TextChoices):
    CHARGE = "charge", "Charge"
    NO_FURTHER_ACTION = "nfa", "No further action"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution"
    ACTION_PLAN = "action_plan", "Further information needed: action plan"


@audited()
class ChargingDecision(models.Model):
    """A prosecutor's decision on a referral under the Code for Crown Prosecutors: charge (on the Full Code or
    Threshold Test), no further action, an out-of-court resolution, or further information needed with an
    action plan."""

    Test = ChargingDecisionTest
    Outcome = ChargingDecisionOutcome

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    referral = models.OneToOneField(ChargingReferral, on_delete=models.PROTECT, related_name="decision")
    decided_on = models.DateField()
    decided_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    test = models.CharField(max_length=10, choices=Test.choices, blank=True, default="")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    evidence_led_viable = models.BooleanField(
        null=True, blank=True, help_text="Could the case go ahead without the victim's support?"
    )
    evidence_led_strategy = models.TextField(blank=True)
    reasons = models.TextField()

    class Meta:
        ordering = ["decided_on", "pk"]
        constraints = [
            choices_check("test", ChargingDecisionTest, "%(app_label)s_%(class)s_test_valid"),
            choices_check("outcome", ChargingDecisionOutcome, "%(app_label)s_%(class)s_outcome_valid"),
            models.CheckConstraint(
                condition=~Q(outcome="charge") | ~Q(test=""), name="%(app_label)s_%(class)s_charge_names_test"
            ),
            models.CheckConstraint(condition=~Q(reasons=""), name="%(app_label)s_%(class)s_reasons_given"),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_outcome_display()} on {self.decided_on}"


class OffenceOutcomeChoice(models.TextChoices):
    """What a decision says for one offence (and so for the suspect the offence is alleged against)."""

    CHARGE = "charge", "Charge"
    NO_FURTHER_ACTION = "nfa", "No further action"
    OUT_OF_COURT = "out_of_court", "Out-of-court resolution"
    FURTHER_EVIDENCE = "further_evidence", "Further evidence needed (action plan)"


class CodeTestStage(models.TextChoices):
    """The stage of the Full Code Test that was not met, for a decision of no further action (Code for Crown
    Prosecutors, section 4: the evidential stage, then the public interest stage)."""

    EVIDENTIAL = "evidential", "Evidential stage not met"
    PUBLIC_INTEREST = "public_interest", "Public interest stage not met"
    NOT_RECORDED = "", "Not recorded"


@audited()
class DecisionOutcome(models.Model):
    """The outcome of a charging decision for one offence, and so for the suspect it is alleged against: a
    decision on a case with two suspects can charge one and take no further action on the other. Every offence
    of the case at the time of the decision has one row. ``suspect`` is the offence's suspect when the decision
    was made (kept, so that the decision still says whom it was about if the offence is later corrected).
    ``ChargingDecision.outcome`` is the overall result: charge when any offence is charged."""

    Outcome = OffenceOutcomeChoice
    CodeTest = CodeTestStage

    decision = models.ForeignKey(ChargingDecision, on_delete=models.PROTECT, related_name="offence_outcomes")
    offence = models.ForeignKey(Offence, on_delete=models.PROTECT, related_name="decision_outcomes")
    suspect = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    code_test_failed = models.CharField(
        max_length=16,
        choices=CodeTest.choices,
        blank=True,
        default="",
        help_text="For no further action: the stage of the Full Code Test not met.",
    )
    reasons = models.TextField(blank=True, help_text="Reasons for this offence, beyond the decision's own.")

    class Meta:
        ordering = ["decision", "offence"]
        constraints = [
            choices_check("outcome", OffenceOutcomeChoice, "%(app_label)s_%(class)s_outcome_valid"),
            choices_check("code_test_failed", CodeTestStage, "%(app_label)s_%(class)s_code_test_valid"),
            models.UniqueConstraint(
                fields=["decision", "offence"], name="%(app_label)s_%(class)s_once_per_offence"
            ),
            models.CheckConstraint(
                condition=Q(outcome="nfa") | Q(code_test_failed=""),
                name="%(app_label)s_%(class)s_code_test_only_for_nfa",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offence}: {self.get_outcome_display()}"


@audited()
class EarlyAdvice(models.Model):
    """A request from police for early advice from a prosecutor during the investigation, and the advice given
    (Director's Guidance on Charging, 6th ed., Annex 6: case types where early advice is recommended). It is not
    a charging referral: it does not stop the 21-day investigation clock and opens no charging-decision clock
    (no response time for early advice is confirmed: domain-rules.md section 3, UNCONFIRMED), so the request and
    the advice are recorded with their dates and counted apart in the performance figures. The first request
    sets the case's CPS Area (as a first referral does), so that the Area's prosecutors can see the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="early_advice")
    requested_on = models.DateField(help_text="The day CPS received the request.")
    requested_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    question = models.TextField(help_text="What police ask CPS to advise on.")
    given_on = models.DateField(null=True, blank=True, help_text="The day the prosecutor gave the advice.")
    given_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    advice = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(question=""), name="%(app_label)s_%(class)s_question_given"),
            models.CheckConstraint(
                condition=Q(given_on__isnull=True, given_by__isnull=True, advice="")
                | (Q(given_on__gte=F("requested_on"), given_by__isnull=False) & ~Q(advice="")),
                name="%(app_label)s_%(class)s_advice_complete",
            ),
            # One request waiting for advice at a time.
            models.UniqueConstraint(
                fields=["case"], condition=Q(given_on__isnull=True), name="%(app_label)s_%(class)s_one_open"
            ),
        ]
        indexes = [
            models.Index(fields=["requested_on"], name="charging_early_requested_idx"),
            models.Index(
                fields=["given_on"], condition=Q(given_on__isnull=False), name="charging_early_given_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} early advice requested {self.requested_on}"

    @property
    def is_open(self) -> bool:
        return self.given_on is None


class ActionPlanStatus(models.TextChoices):
    OPEN = "open", "With police"
    RESUBMITTED = "resubmitted", "Resubmitted to CPS"
    CLOSED = "closed", "Closed"


@audited()
class ActionPlan(models.Model):
    """The reasonable lines of inquiry CPS asks police to complete before it can decide. Issuing one ends the
    referral's charging clock; police complete the actions and resubmit."""

    Status = ActionPlanStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="action_plans")
    decision = models.OneToOneField(ChargingDecision, on_delete=models.PROTECT, related_name="action_plan")
    issued_on = models.DateField()
    respond_by = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["issued_on", "pk"]
        constraints = [
            choices_check("status", ActionPlanStatus, "%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=Q(respond_by__gte=F("issued_on")),
                name="%(app_label)s_%(class)s_respond_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} action plan of {self.issued_on}"


class ActionStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REOPENED = "reopened", "Re-opened"


class IncompleteReason(models.TextChoices):
    """The shared list of reasons an action is not complete (JJP strategic priority 6.6 and joint local principle
    20: identify the underlying reasons for incomplete action plans). Police and CPS pick from the same list so
    the reasons can be counted across forces and Areas."""

    THIRD_PARTY_MATERIAL = "third_party_material", "Third-party material not yet received"
    DIGITAL_FORENSICS = "digital_forensics", "Digital or forensic examination outstanding"
    MEDICAL_EVIDENCE = "medical_evidence", "Medical evidence outstanding"
    VICTIM_UNAVAILABLE = "victim_unavailable", "Victim unavailable or unable to support at present"
    WITNESS_UNAVAILABLE = "witness_unavailable", "Witness unavailable or not traced"
    SUSPECT_NOT_LOCATED = "suspect_not_located", "Suspect not located or not yet interviewed"
    OFFICER_CAPACITY = "officer_capacity", "Officer availability or workload"
    NOT_ACHIEVABLE = "not_achievable", "Not achievable as framed"
    DISPROPORTIONATE = "disproportionate", "Considered disproportionate (escalation)"
    AWAITING_CPS = "awaiting_cps", "Awaiting CPS clarification"
    OTHER = "other", "Other (explained in the notes)"
    NOT_RECORDED = "", "Not recorded"


@audited()
class Action(models.Model):
    """One action in an action plan, with its owner, due ("required by") date and status."""

    Status = ActionStatus

    OPEN_STATUSES = ("new", "in_progress", "reopened")
    TRANSITIONS = {
        "new": ("in_progress", "completed", "withdrawn"),
        "in_progress": ("completed", "withdrawn"),
        "reopened": ("in_progress", "completed", "withdrawn"),
        "completed": ("reopened",),
        "withdrawn": (),
    }

    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="actions")
    description = models.TextField()
    category = models.CharField(max_length=60, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="Required by; empty means not scheduled.")
    owner = models.ForeignKey("cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    completed_on = models.DateField(null=True, blank=True)
    latest_reason = models.TextField(blank=True, help_text="Why it last changed, written by either side.")
    incomplete_reason = models.CharField(
        max_length=30,
        choices=IncompleteReason.choices,
        blank=True,
        default="",
        help_text="Why the action is not complete, from the shared list (JJP joint local principle 20).",
    )

    class Meta:
        ordering = ["plan", "pk"]
        constraints = [
            choices_check("status", ActionStatus, "%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_on__isnull=False),
                name="%(app_label)s_%(class)s_completed_has_date",
            ),
            choices_check(
                "incomplete_reason", IncompleteReason, "%(app_label)s_%(class)s_incomplete_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class ChargeBail(models.TextChoices):
    """What happened to the suspect once charged."""

    BAIL = "bail", "Released on bail"
    REMAND = "remand", "Remanded in custody"
    RELEASED = "released", "Released without bail (or postal requisition)"
    NOT_RECORDED = "", "Not recorded"


@audited()
class Charge(models.Model):
    """One suspect charged (or a written charge issued) after a decision to charge, with the offences charged,
    bail or remand, and the first hearing. Laying the information stops the statutory time limits of the
    offences charged; the 7-day charge clock stops once every offence the decision said to charge is charged
    (a case with two suspects to charge has one charge record per suspect)."""

    Bail = ChargeBail

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="charges")
    decision = models.ForeignKey(ChargingDecision, on_delete=models.PROTECT, related_name="charges")
    suspect = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The suspect charged (the offences' suspect).",
    )
    charged_on = models.DateField()
    information_laid_on = models.DateField(
        null=True, blank=True, help_text="Information laid or written charge issued (stops the STL)."
    )
    offences = models.ManyToManyField(Offence, related_name="charges")
    charged_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    bail = models.CharField(
        max_length=10,
        choices=Bail.choices,
        blank=True,
        default="",
        db_default="",
        help_text="Bail or remand.",
    )
    first_hearing_on = models.DateField(null=True, blank=True, help_text="The first hearing at court.")
    court = models.CharField(
        max_length=200, blank=True, default="", db_default="", help_text="The court of the first hearing."
    )

    class Meta:
        ordering = ["charged_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(information_laid_on__isnull=True) | Q(information_laid_on__gte=F("charged_on")),
                name="%(app_label)s_%(class)s_laid_after_charge",
            ),
            choices_check("bail", ChargeBail, "%(app_label)s_%(class)s_bail_valid"),
            models.CheckConstraint(
                condition=Q(first_hearing_on__isnull=True) | Q(first_hearing_on__gte=F("charged_on")),
                name="%(app_label)s_%(class)s_hearing_after_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} charged on {self.charged_on}"


# ------------------------------------------------------------------------------------------------------------------
# Proportionality of action plans and the national escalation policy (JJP strategic priority 6.4, joint local
# principle 21). Written by ``governance/plan_services.py`` (governance writes live in governance).
# ------------------------------------------------------------------------------------------------------------------


class ActionPlanProportionality(models.TextChoices):
    PROPORTIONATE = "proportionate", "Proportionate"
    DISPROPORTIONATE = "disproportionate", "Disproportionate"


@audited()
class ActionPlanRating(models.Model):
    """Police supervision's rating of an action plan's proportionality (JJP strategic priority 6.4: measures to
    assess the proportionality of action plans). One rating per plan; a disproportionate plan may then be
    escalated under the national escalation policy (joint local principle 21)."""

    Rating = ActionPlanProportionality

    plan = models.OneToOneField(ActionPlan, on_delete=models.PROTECT, related_name="rating")
    rating = models.CharField(max_length=16, choices=Rating.choices)
    rated_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    rated_on = models.DateField()
    notes = models.TextField(blank=True, help_text="Required when the plan is rated disproportionate.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rated_on", "pk"]
        constraints = [
            choices_check("rating", ActionPlanProportionality, "%(app_label)s_%(class)s_rating_valid"),
            models.CheckConstraint(
                condition=~Q(rating="disproportionate") | ~Q(notes=""),
                name="%(app_label)s_%(class)s_disproportionate_explained",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.get_rating_display()}"


class ActionPlanEscalationStatus(models.TextChoices):
    RAISED = "raised", "Raised by police"
    ANSWERED = "answered", "Answered by the CPS legal manager"
    RESOLVED = "resolved", "Resolved"


class ActionPlanEscalationResponse(models.TextChoices):
    PLAN_STANDS = "plan_stands", "The plan stands as issued"
    PLAN_AMENDED = "plan_amended", "The plan is amended"
    ACTIONS_WITHDRAWN = "actions_withdrawn", "Some or all actions are withdrawn"


@audited()
class ActionPlanEscalation(models.Model):
    """An escalation of a disproportionate action plan under the national escalation policy (DA Joint Justice
    Plan joint local principle 21): raised by a police supervisor, answered by the CPS legal manager, then
    resolved. Each step is dated and written on the case timeline. (The policy's levels and time limits are
    UNCONFIRMED: domain-rules.md section 3.)"""

    Status = ActionPlanEscalationStatus
    Response = ActionPlanEscalationResponse

    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="escalations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RAISED)
    raised_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    raised_on = models.DateField()
    grounds = models.TextField(help_text="Why police supervision considers the plan disproportionate.")
    answered_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_on = models.DateField(null=True, blank=True)
    response = models.CharField(max_length=20, choices=Response.choices, blank=True, default="")
    response_notes = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_on = models.DateField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["raised_on", "pk"]
        constraints = [
            choices_check("status", ActionPlanEscalationStatus, "%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=Q(response="") | Q(response__in=ActionPlanEscalationResponse.values),
                name="%(app_label)s_%(class)s_response_valid",
            ),
            models.CheckConstraint(condition=~Q(grounds=""), name="%(app_label)s_%(class)s_grounds_given"),
            models.CheckConstraint(
                condition=Q(status="raised", answered_on__isnull=True, resolved_on__isnull=True)
                | Q(
                    status="answered",
                    answered_on__isnull=False,
                    answered_by__isnull=False,
                    resolved_on__isnull=True,
                )
                | Q(
                    status="resolved",
                    answered_on__isnull=False,
                    answered_by__isnull=False,
                    resolved_on__isnull=False,
                    resolved_by__isnull=False,
                ),
                name="%(app_label)s_%(class)s_steps_match_status",
            ),
            models.CheckConstraint(
                condition=Q(answered_on__isnull=True)
                | (Q(answered_on__gte=F("raised_on")) & ~Q(response="")),
                name="%(app_label)s_%(class)s_answer_after_raise",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True)
                | (Q(resolved_on__gte=F("answered_on")) & ~Q(resolution="")),
                name="%(app_label)s_%(class)s_resolve_after_answer",
            ),
            # One escalation at a time per plan.
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=["raised", "answered"]),
                name="%(app_label)s_%(class)s_one_open_per_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation of {self.plan} ({self.get_status_display()})"
