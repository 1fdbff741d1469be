"""Victims and their safety: who they are for the Victims' Code, how to contact them safely, every contact and
duty, their position on a prosecution over time, the protective orders that keep them safe and their breaches,
Operation Encompass notifications, the log of every view of a confidential address, and the trauma-informed
language lexicon (domain-rules.md sections 4, 6 and 7). Writes go through ``victims/services.py``; reads
through ``victims/selectors.py``."""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from cases.audit import audited
from cases.models import Case, CaseQualifyingReportKind, Person, choices_check

from . import lexicon
from .querysets import (
    BreachQuerySet,
    LanguageFindingQuerySet,
    ProsecutionPositionQuerySet,
    ProtectiveOrderQuerySet,
    VictimQuerySet,
)


@audited(exclude=["confidential_address"])
class Victim(models.Model):
    """A victim in a case. Domestic abuse victims get enhanced rights under the Victims' Code by default and
    are automatically eligible for special measures (YJCEA 1999 s.17(4A)(c), DA Act 2021 s.62) unless they
    decline. A child who sees or hears the abuse, or experiences its effects, is a victim in their own right
    (DA Act 2021 s.3). Vulnerable (YJCEA 1999 s.16: under 18, or evidence diminished by mental disorder, impaired
    intelligence or physical disability) and intimidated (s.17: fear or distress about testifying) victims also
    have enhanced rights.

    The confidential address is read only through ``victims.services.victim_reveal_address``, which checks the
    role and logs every view (``PersonalDataAccess``); it is left out of the audit history for the same reason."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="victims")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    is_child = models.BooleanField(default=False)
    child_saw_or_heard = models.BooleanField(
        default=False,
        help_text="DA Act 2021 s.3: a child who saw, heard or experienced the effects of the abuse.",
    )
    enhanced_rights = models.BooleanField(default=True, help_text="Victims' Code enhanced rights.")
    vulnerable = models.BooleanField(default=False, help_text="YJCEA 1999 s.16.")
    intimidated = models.BooleanField(default=False, help_text="YJCEA 1999 s.17.")
    special_measures_declined = models.BooleanField(default=False)
    safe_contact_methods = models.CharField(max_length=200, blank=True)
    safe_contact_times = models.CharField(max_length=200, blank=True)
    do_not_tell = models.CharField(max_length=200, blank=True, help_text="Who must not be told.")
    interpreter_language = models.CharField(max_length=60, blank=True)
    confidential_address = models.TextField(blank=True, help_text="Visible only to the roles that need it.")
    # CJA 1988 s.39A(2)-(3): the complainant's own first witness statement (condition A) or video-recorded
    # interview (condition B). It belongs to the victim who made it: another complainant's statement never
    # extends this victim's time limits.
    first_qualifying_report_on = models.DateField(
        null=True,
        blank=True,
        help_text="The victim's first witness statement or video-recorded interview (CJA 1988 s.39A conditions "
        "A or B).",
    )
    first_qualifying_report_kind = models.CharField(
        max_length=20, choices=CaseQualifyingReportKind.choices, blank=True, default=""
    )
    first_qualifying_report_received_by = models.CharField(
        max_length=150,
        blank=True,
        help_text="Who received it: a constable or a person a constable authorised (s.39A(2)(b), (3)(a)).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VictimQuerySet.as_manager()

    QualifyingReportKind = CaseQualifyingReportKind

    class Meta:
        ordering = ["case", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(child_saw_or_heard=False) | Q(is_child=True),
                name="%(app_label)s_%(class)s_saw_or_heard_is_child",
            ),
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
        ]

    def __str__(self) -> str:
        return f"Victim {self.pk} in {self.case}"

    @property
    def special_measures_eligible(self) -> bool:
        """Eligible for special measures: a child or vulnerable witness (s.16), an intimidated witness (s.17), or
        automatically as the complainant in a domestic abuse case (s.17(4A)(c)). Declining does not end
        eligibility; it is shown beside it."""
        return bool(self.is_child or self.vulnerable or self.intimidated or self.case.domestic_abuse)


class Relationship(models.TextChoices):
    """How a victim and a suspect are personally connected: Domestic Abuse Act 2021 s.2(1)(a)-(g), or not."""

    MARRIED = "married", "Married to each other, now or in the past (s.2(1)(a))"
    CIVIL_PARTNERS = "civil_partners", "Civil partners of each other, now or in the past (s.2(1)(b))"
    AGREED_TO_MARRY = "agreed_to_marry", "Agreed to marry, even if the agreement has ended (s.2(1)(c))"
    CIVIL_PARTNERSHIP_AGREEMENT = (
        "cp_agreement",
        "Entered into a civil partnership agreement, even if it has ended (s.2(1)(d))",
    )
    INTIMATE = "intimate", "In an intimate personal relationship, now or in the past (s.2(1)(e))"
    PARENTAL = "parental", "Each a parent of, or with parental responsibility for, the same child (s.2(1)(f))"
    RELATIVES = "relatives", "Relatives (s.2(1)(g))"
    NOT_CONNECTED = "not_connected", "Not personally connected"


@audited()
class VictimSuspectRelationship(models.Model):
    """How one victim and one suspect of a case are related (DA Act 2021 s.2). Whether they are "personally
    connected" decides, with their ages, whether the behaviour is domestic abuse (s.1), and so whether the s.39A
    time limit can apply to a common assault between them. No row means not yet recorded: the time limit stays at
    the safe s.127 date until it is."""

    Relationship = Relationship

    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="suspect_relationships")
    suspect = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="victim_relationships")
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["victim", "suspect"]
        constraints = [
            models.UniqueConstraint(
                fields=["victim", "suspect"], name="%(app_label)s_%(class)s_one_per_pair"
            ),
            choices_check("relationship", Relationship, "%(app_label)s_%(class)s_relationship_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.victim} and {self.suspect}: {self.get_relationship_display()}"

    @property
    def personally_connected(self) -> bool:
        return self.relationship != Relationship.NOT_CONNECTED


class VictimContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    TEXT = "text", "Text message"


class VictimContactPurpose(models.TextChoices):
    UPDATE = "update", "Update on the case (Right 6)"
    SUPPORT_REFERRAL = "support_referral", "Referral to support services (Right 4)"
    VPS = "vps", "Victim Personal Statement (Right 7)"
    SPECIAL_MEASURES = "special_measures", "Special measures"
    SAFETY = "safety", "Safety planning"
    OTHER = "other", "Other"


@audited()
class VictimContact(models.Model):
    """One contact with a victim: when, how, by whom, why, and what came of it."""

    Method = VictimContactMethod
    Purpose = VictimContactPurpose

    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="contacts")
    contacted_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=Method.choices)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    outcome = models.TextField(blank=True)
    made_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    support_service = models.ForeignKey(
        "victims.SupportService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        help_text="For a referral: the service from the local directory the victim was referred to.",
    )

    class Meta:
        ordering = ["contacted_at", "pk"]
        constraints = [
            choices_check("method", VictimContactMethod, "%(app_label)s_%(class)s_method_valid"),
            choices_check("purpose", VictimContactPurpose, "%(app_label)s_%(class)s_purpose_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} at {self.contacted_at:%d %b %Y %H:%M}"


class ProtectiveOrderKind(models.TextChoices):
    DVPN = "dvpn", "Domestic violence protection notice"
    DVPO = "dvpo", "Domestic violence protection order"
    DAPN = "dapn", "Domestic abuse protection notice"
    DAPO = "dapo", "Domestic abuse protection order"
    NON_MOLESTATION = "non_molestation", "Non-molestation order"
    RESTRAINING = "restraining", "Restraining order"
    STALKING_PROTECTION = "stalking_protection", "Stalking protection order"
    PRE_CHARGE_BAIL = "pre_charge_bail", "Pre-charge bail conditions"


NOTICE_KINDS = (ProtectiveOrderKind.DVPN, ProtectiveOrderKind.DAPN)
POLICE_ONLY_KINDS = (ProtectiveOrderKind.DVPN, ProtectiveOrderKind.DAPN, ProtectiveOrderKind.PRE_CHARGE_BAIL)


class ProtectiveOrderStatus(models.TextChoices):
    CONSIDERED = "considered", "Considered"
    NOT_PURSUED = "not_pursued", "Considered: not pursued"
    APPLIED = "applied", "Applied for"
    GRANTED = "granted", "Granted / in force"
    REFUSED = "refused", "Refused"
    VARIED = "varied", "Varied"
    EXPIRED = "expired", "Expired"
    DISCHARGED = "discharged", "Discharged"


IN_FORCE_STATUSES = (ProtectiveOrderStatus.GRANTED, ProtectiveOrderStatus.VARIED)
WAS_IN_FORCE_STATUSES = (*IN_FORCE_STATUSES, ProtectiveOrderStatus.EXPIRED, ProtectiveOrderStatus.DISCHARGED)


@audited()
class ProtectiveOrder(models.Model):
    """A notice, order or bail condition protecting the victim, through its life: considered (from the outset in
    a high-risk case), applied for, granted or refused, varied, expired or discharged. A notice (DVPN, DAPN) is
    in force once given; a DAPN must be followed by a DAPO hearing within 48 hours, not counting Sundays,
    Christmas Day, Good Friday or bank holidays (DA Act 2021 s.29). Pre-charge bail conditions need the victim's
    views, sought before they are imposed or varied (PACE Part 4, as amended by the PCSC Act 2022 Sch. 4)."""

    Kind = ProtectiveOrderKind
    Status = ProtectiveOrderStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.CONSIDERED)
    victim = models.ForeignKey(
        Victim,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        help_text="The person it protects.",
    )
    respondent = models.ForeignKey(
        "cases.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="protective_orders",
        help_text="The person it is against.",
    )
    notice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders_following",
        help_text="For a DVPO or DAPO: the notice it follows.",
    )
    considered_on = models.DateField()
    applied_on = models.DateField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True, help_text="When a notice was given (DAPN, DVPN).")
    heard_at = models.DateTimeField(
        null=True, blank=True, help_text="For a notice: when the court heard the application for the order."
    )
    granted_on = models.DateField(null=True, blank=True)
    refused_on = models.DateField(null=True, blank=True)
    varied_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True, help_text="Expired, discharged or not pursued.")
    expires_on = models.DateField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    victim_views = models.TextField(blank=True, help_text="The victim's views, sought before conditions.")
    reason = models.TextField(blank=True, help_text="Why it was not pursued, refused, varied or ended.")
    created_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # DA Act 2021 s.41: a person subject to a DAPO must notify the police of their name(s) and home address within
    # three days beginning with the day the order is made (s.41(2)-(3)), unless s.41(8) applies (subject to
    # another DAPO, or to notification requirements under SOA 2003 Part 2 or SPA 2019 s.9). Null for other kinds.
    notification_applies = models.BooleanField(
        null=True,
        blank=True,
        help_text="DAPO only: whether the s.41 notification requirements apply (no when s.41(8) applies).",
    )
    notification_exempt_reason = models.TextField(
        blank=True,
        db_default="",
        help_text="DAPO only: why the s.41 notification requirements do not apply (s.41(8)).",
    )
    notification_further = models.TextField(
        blank=True,
        db_default="",
        help_text="DAPO only: further notification requirements the court imposed (s.41(7) regulations).",
    )
    # Shown on the safeguarding page and in the API (there is no clock kind for it: see docs/victims.md).
    notification_due_on = models.DateField(
        null=True,
        blank=True,
        help_text="DAPO only: last day to notify the police of name(s) and home address (s.41(2)).",
    )
    notified_on = models.DateField(
        null=True, blank=True, help_text="DAPO only: the day the respondent notified the police (s.41(2))."
    )

    objects = ProtectiveOrderQuerySet.as_manager()

    class Meta:
        ordering = ["considered_on", "pk"]
        constraints = [
            choices_check("kind", ProtectiveOrderKind, "%(app_label)s_%(class)s_kind_valid"),
            choices_check("status", ProtectiveOrderStatus, "%(app_label)s_%(class)s_status_valid"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(granted_on__isnull=True)
                | Q(expires_on__gte=F("granted_on")),
                name="%(app_label)s_%(class)s_expires_after_grant",
            ),
            models.CheckConstraint(
                condition=Q(applied_on__isnull=True) | Q(applied_on__gte=F("considered_on")),
                name="%(app_label)s_%(class)s_applied_after_considered",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[s.value for s in WAS_IN_FORCE_STATUSES])
                | Q(granted_on__isnull=False),
                name="%(app_label)s_%(class)s_in_force_has_grant_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[k.value for k in NOTICE_KINDS], granted_on__isnull=False)
                | Q(served_at__isnull=False),
                name="%(app_label)s_%(class)s_notice_has_service_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | Q(refused_on__isnull=False),
                name="%(app_label)s_%(class)s_refused_has_date",
            ),
            models.CheckConstraint(
                condition=Q(kind="dapo")
                | Q(
                    notification_applies__isnull=True,
                    notification_due_on__isnull=True,
                    notified_on__isnull=True,
                ),
                name="%(app_label)s_%(class)s_notification_only_dapo",
            ),
            models.CheckConstraint(
                condition=Q(notified_on__isnull=True)
                | (Q(granted_on__isnull=False) & Q(notified_on__gte=F("granted_on"))),
                name="%(app_label)s_%(class)s_notified_after_grant",
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], name="victims_order_expires_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_notice(self) -> bool:
        return self.kind in NOTICE_KINDS

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE_STATUSES


class DapoRequirementKind(models.TextChoices):
    PROHIBITION = (
        "prohibition",
        "Prohibition or restriction (e.g. not to contact, not to come within a distance)",
    )
    REQUIREMENT = "requirement", "Requirement to do something (e.g. attend a programme)"
    ELECTRONIC_MONITORING = "electronic_monitoring", "Electronic monitoring requirement"


@audited()
class DapoRequirement(models.Model):
    """One requirement of a domestic abuse protection order (DA Act 2021 s.35: "requirement" includes any
    prohibition or restriction): a prohibition (not to contact the protected person, not to come within a
    specified distance of premises: s.35(4)), a requirement to do something (which must name the person
    responsible for supervising compliance: s.36(2)), or an electronic monitoring requirement (s.37). Each may
    end before the order does (``ends_on``); a variation that removes it records ``removed_on``."""

    Kind = DapoRequirementKind

    order = models.ForeignKey(ProtectiveOrder, on_delete=models.PROTECT, related_name="requirements")
    kind = models.CharField(max_length=21, choices=Kind.choices)
    text = models.TextField(help_text="The requirement as the order words it.")
    supervisor = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who supervises compliance (s.36(2), required for a requirement to do something).",
    )
    imposed_on = models.DateField(help_text="The day the court imposed it (the grant or a variation).")
    ends_on = models.DateField(
        null=True, blank=True, help_text="Its last day, when it ends before the order does."
    )
    removed_on = models.DateField(null=True, blank=True, help_text="Removed by a variation on this day.")
    reason = models.TextField(blank=True, help_text="Why it was removed.")
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "imposed_on", "pk"]
        constraints = [
            choices_check("kind", DapoRequirementKind, "%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="%(app_label)s_%(class)s_text_given"),
            models.CheckConstraint(
                condition=~Q(kind="requirement") | ~Q(supervisor=""),
                name="%(app_label)s_%(class)s_requirement_supervised",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("imposed_on")),
                name="%(app_label)s_%(class)s_ends_after_imposed",
            ),
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True) | Q(removed_on__gte=F("imposed_on")),
                name="%(app_label)s_%(class)s_removed_after_imposed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:60]}"

    @property
    def active(self) -> bool:
        return self.removed_on is None

    @property
    def short_kind(self) -> str:
        """The kind in a word or two, for lists."""
        return {"prohibition": "Prohibition", "requirement": "Requirement"}.get(
            self.kind, "Electronic monitoring"
        )


@audited()
class Breach(models.Model):
    """A breach of a protective order. It is pursued as a new case for the new offence (breach of a
    non-molestation order, FLA 1996 s.42A; of a restraining order, SA 2020 s.363 / PHA 1997 s.5(5); of a DAPO,
    DA Act 2021 s.39), linked here so it is seen from both cases and counted."""

    order = models.ForeignKey(ProtectiveOrder, on_delete=models.PROTECT, related_name="breaches")
    occurred_on = models.DateField()
    reported_on = models.DateField()
    new_case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="breach_of_orders"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = BreachQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_on", "pk"]
        verbose_name_plural = "breaches"
        constraints = [
            models.CheckConstraint(
                condition=Q(reported_on__gte=F("occurred_on")), name="%(app_label)s_%(class)s_reported_after"
            ),
        ]

    def __str__(self) -> str:
        return f"Breach of {self.order} on {self.occurred_on}"


# ------------------------------------------------------------------------------------------------------------------
# The local directory of support services, and the Victims' Code duties
# ------------------------------------------------------------------------------------------------------------------


class SupportServiceKind(models.TextChoices):
    VICTIM_SUPPORT = "victim_support", "Victim support / victim care service (Right 4)"
    IDVA = "idva", "Independent domestic violence adviser (IDVA)"
    ISVA = "isva", "Independent sexual violence adviser (ISVA)"
    SPECIALIST_DA = "specialist_da", "Specialist domestic abuse service"
    REFUGE = "refuge", "Refuge"
    CHILDREN = "children", "Children and young people's service"
    BY_AND_FOR = (
        "by_and_for",
        "By-and-for service (e.g. Black and minoritised, LGBT+, Deaf and disabled victims)",
    )
    OTHER = "other", "Other"


@audited()
class SupportService(models.Model):
    """An entry in the local directory of victim services, kept by each force and CPS Area (administrators edit
    it in the admin). Referrals to support services (Victims' Code Right 4) and to an IDVA or specialist service
    are chosen from the directory of the case's force, or its CPS Area."""

    Kind = SupportServiceKind

    organisation = models.ForeignKey(
        "cases.Organisation", on_delete=models.PROTECT, related_name="support_services"
    )
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True, help_text="Who it serves, how to refer, opening hours.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organisation", "kind", "name"]
        constraints = [
            choices_check("kind", SupportServiceKind, "%(app_label)s_%(class)s_kind_valid"),
            models.UniqueConstraint(
                fields=["organisation", "name"], name="%(app_label)s_%(class)s_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class VictimCodeDutyKind(models.TextChoices):
    VPS_OFFERED = "vps_offered", "Victim Personal Statement offered (Right 7)"
    VPS_TAKEN = "vps_taken", "Victim Personal Statement taken"
    VPS_DECLINED = "vps_declined", "Victim Personal Statement declined"
    VPS_UPDATED = "vps_updated", "Victim Personal Statement updated"
    SPECIAL_MEASURES = "special_measures", "Special measures discussed"
    SPECIALIST_REFERRAL = "specialist_referral", "Referral to an IDVA or specialist service"
    NON_SUPPORT_INFORMATION = (
        "non_support_info",
        "Information given: the victim does not support a prosecution",
    )


@audited()
class VictimCodeDuty(models.Model):
    """A Victims' Code duty done for a victim, dated: the Victim Personal Statement offered, taken, declined or
    updated (Right 7); special measures discussed; a referral to an IDVA or specialist service from the local
    directory; the information given when the victim does not support a prosecution. The referral to support
    services (Right 4) and updates (Right 6) are contacts that stop their clocks (``VictimContact``)."""

    Duty = VictimCodeDutyKind

    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="duties")
    duty = models.CharField(max_length=20, choices=Duty.choices)
    done_on = models.DateField()
    declined = models.BooleanField(
        default=False, help_text="The victim declined (the referral, special measures)."
    )
    service = models.ForeignKey(
        SupportService, on_delete=models.PROTECT, null=True, blank=True, related_name="duties"
    )
    contact = models.ForeignKey(
        VictimContact, on_delete=models.PROTECT, null=True, blank=True, related_name="duties"
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_on", "pk"]
        verbose_name_plural = "Victims' Code duties"
        constraints = [
            choices_check("duty", VictimCodeDutyKind, "%(app_label)s_%(class)s_duty_valid"),
            models.CheckConstraint(
                condition=~Q(duty="specialist_referral") | Q(declined=True) | Q(service__isnull=False),
                name="%(app_label)s_%(class)s_referral_names_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_duty_display()} on {self.done_on}"


class ProsecutionPositionKind(models.TextChoices):
    SUPPORTS = "supports", "Supports a prosecution"
    DOES_NOT_SUPPORT = "does_not_support", "Does not support a prosecution"
    WITHDREW = "withdrew", "No longer supports a prosecution (withdrew support)"


@audited()
class ProsecutionPosition(models.Model):
    """The victim's position on a prosecution on a date, with their reasons: the history shows support given,
    not given and withdrawn. ``is_withdrawal`` marks a move away from support (withdrew, or "does not support"
    after supporting); ``days_after_report`` counts from the report to police, so withdrawals within days of
    reporting can be seen and counted (the Domestic Abuse Commissioner cites research that nearly half of
    victims withdraw within five days)."""

    Position = ProsecutionPositionKind

    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="positions")
    position = models.CharField(max_length=16, choices=Position.choices)
    recorded_on = models.DateField()
    reasons = models.TextField(blank=True)
    days_after_report = models.PositiveIntegerField()
    is_withdrawal = models.BooleanField(default=False)
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ProsecutionPositionQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_on", "pk"]
        constraints = [
            choices_check("position", ProsecutionPositionKind, "%(app_label)s_%(class)s_position_valid"),
            models.CheckConstraint(
                condition=Q(position="supports") | ~Q(reasons=""),
                name="%(app_label)s_%(class)s_reasons_when_not_supporting",
            ),
            models.CheckConstraint(
                condition=Q(is_withdrawal=False) | ~Q(position="supports"),
                name="%(app_label)s_%(class)s_withdrawal_not_support",
            ),
        ]
        indexes = [
            # Governance counts: withdrawals within N days of the report.
            models.Index(
                fields=["days_after_report"],
                condition=Q(is_withdrawal=True),
                name="victims_pos_withdrawal_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_position_display()} on {self.recorded_on}"


# ------------------------------------------------------------------------------------------------------------------
# Children: Operation Encompass
# ------------------------------------------------------------------------------------------------------------------


class EncompassMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    SECURE_EMAIL = "secure_email", "Secure email"
    PORTAL = "portal", "Operation Encompass portal / system"
    IN_PERSON = "in_person", "In person"


@audited()
class OperationEncompassNotification(models.Model):
    """The school's Designated Safeguarding Lead (or key adult) told, before the start of the next school day,
    of a police-attended domestic abuse incident involving a child (Operation Encompass; on a statutory footing
    under the Victims and Prisoners Act 2024, commencement UNCONFIRMED)."""

    Method = EncompassMethod

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="encompass_notifications")
    child = models.ForeignKey(
        Victim, on_delete=models.PROTECT, null=True, blank=True, related_name="encompass_notifications"
    )
    school = models.CharField(max_length=200)
    notified_to = models.CharField(max_length=200, help_text="The Designated Safeguarding Lead or key adult.")
    notified_at = models.DateTimeField()
    method = models.CharField(max_length=12, choices=Method.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["notified_at", "pk"]
        constraints = [choices_check("method", EncompassMethod, "%(app_label)s_%(class)s_method_valid")]

    def __str__(self) -> str:
        return f"{self.school} told on {self.notified_at:%d %b %Y %H:%M}"


# ------------------------------------------------------------------------------------------------------------------
# Personal data access log
# ------------------------------------------------------------------------------------------------------------------


class PersonalDataAccessWhat(models.TextChoices):
    ADDRESS_VIEWED = "address_viewed", "Confidential address viewed"
    ADDRESS_RECORDED = "address_recorded", "Confidential address recorded or changed"
    ADDRESS_REFUSED = "address_refused", "Confidential address refused"


class PersonalDataAccess(models.Model):
    """One view (or change) of a victim's confidential address, or a refused attempt to see it: who, which victim,
    when, from where, what and why. Append-only: a database trigger refuses updates and deletes, so the log cannot
    be edited, even by the application.

    A refused attempt (``address_refused``) names the victim and the case only when the user could see the case
    (refused by role: a 403); outside the access gate (a 404, whether or not the victim exists) the row keeps the
    id that was asked for (``asked_for``) and no victim or case, so the log links nothing the user could not see."""

    What = PersonalDataAccessWhat

    actor = models.ForeignKey("cases.User", on_delete=models.PROTECT, related_name="personal_data_accesses")
    victim = models.ForeignKey(
        Victim, on_delete=models.PROTECT, null=True, blank=True, related_name="data_accesses"
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="personal_data_accesses"
    )
    asked_for = models.BigIntegerField(
        null=True, blank=True, help_text="On a refused attempt: the victim id that was asked for, as given."
    )
    what = models.CharField(max_length=20, choices=What.choices)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="REMOTE_ADDR of the request.")
    forwarded_for = models.CharField(max_length=200, blank=True, help_text="X-Forwarded-For, as sent.")
    user_agent = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "personal data accesses"
        constraints = [
            choices_check("what", PersonalDataAccessWhat, "%(app_label)s_%(class)s_what_valid"),
            # Only a refusal may name no victim (asked for outside the access gate); a view or a change names both.
            models.CheckConstraint(
                condition=Q(what=PersonalDataAccessWhat.ADDRESS_REFUSED)
                | Q(victim__isnull=False, case__isnull=False),
                name="%(app_label)s_%(class)s_victim_given",
            ),
        ]
        indexes = [models.Index(fields=["victim", "at"], name="victims_pda_victim_at_idx")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    # The retention purge (cases purge_audit_history) deletes rows older than the retention period by this column.
    audit_retention_field = "at"

    def __str__(self) -> str:
        return f"{self.get_what_display()} by {self.actor} at {self.at:%d %b %Y %H:%M}"


# ------------------------------------------------------------------------------------------------------------------
# Trauma-informed language
# ------------------------------------------------------------------------------------------------------------------


class LexiconCategory(models.TextChoices):
    BLAMING = "blaming", "Victim-blaming"
    MINIMISING = "minimising", "Minimising"
    DOUBTING = "doubting", "Doubting the victim"


@audited()
class LexiconEntry(models.Model):
    """A phrase the language checker flags in free text (decision reasons, action plans, contact notes, order
    conditions), with the neutral wording to suggest. Edited by administrators; seeded with a starter list."""

    Category = LexiconCategory

    phrase = models.CharField(max_length=100)
    suggestion = models.CharField(max_length=300)
    category = models.CharField(max_length=12, choices=Category.choices, default=Category.MINIMISING)
    unless_followed_by = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated words that make the phrase acceptable when they follow it "
        "(e.g. 'abuse, violence' after 'domestic').",
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phrase"]
        verbose_name_plural = "lexicon entries"
        constraints = [
            choices_check("category", LexiconCategory, "%(app_label)s_%(class)s_category_valid"),
            models.UniqueConstraint(Lower("phrase"), name="%(app_label)s_%(class)s_phrase_unique"),
            models.CheckConstraint(condition=~Q(phrase=""), name="%(app_label)s_%(class)s_phrase_given"),
        ]

    def __str__(self) -> str:
        return self.phrase

    def as_entry(self) -> lexicon.Entry:
        return lexicon.Entry(
            phrase=self.phrase,
            suggestion=self.suggestion,
            category=self.category,
            unless_followed_by=tuple(w.strip() for w in self.unless_followed_by.split(",") if w.strip()),
        )


class LanguageFinding(models.Model):
    """A lexicon phrase found in free text when it was saved: where (the source row and field), what, and
    when. The checker warns and never blocks; these rows are what governance reports count."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="language_findings")
    source_model = models.CharField(
        max_length=60, help_text="app_label.model of the row, e.g. victims.victimcontact."
    )
    source_pk = models.PositiveBigIntegerField()
    field = models.CharField(max_length=60)
    phrase = models.CharField(max_length=100)
    matched = models.CharField(max_length=200)
    suggestion = models.CharField(max_length=300)
    category = models.CharField(max_length=12, choices=LexiconCategory.choices)
    author = models.ForeignKey(
        "cases.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    found_at = models.DateTimeField(default=timezone.now)

    objects = LanguageFindingQuerySet.as_manager()

    class Meta:
        ordering = ["-found_at", "pk"]
        indexes = [
            models.Index(fields=["found_at"], name="victims_langfind_found_idx"),
            models.Index(fields=["source_model", "source_pk"], name="victims_langfind_source_idx"),
        ]

    def __str__(self) -> str:
        return f"'{self.phrase}' in {self.source_model} {self.source_pk}"
