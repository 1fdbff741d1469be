"""Victims and their safety: who they are for the Victims' Code, how to contact them safely, every contact,
and the protective orders that keep them safe (domain-rules.md sections 4 and 6). Writes go through
``victims/services.py``."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from cases.audit import audited
from cases.models import Case, _choices_check


@audited()
class Victim(models.Model):
    """A victim in a case. Domestic abuse victims get enhanced rights under the Victims' Code by default and
    are automatically eligible for special measures (YJCEA 1999 s.17(4A)(c), DA Act 2021 s.62) unless they
    decline. A child who sees or hears the abuse is a victim in their own right (DA Act 2021 s.3)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="victims")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    is_child = models.BooleanField(default=False)
    enhanced_rights = models.BooleanField(default=True, help_text="Victims' Code enhanced rights.")
    vulnerable = models.BooleanField(default=False, help_text="YJCEA 1999 s.16.")
    intimidated = models.BooleanField(default=False, help_text="YJCEA 1999 s.17.")
    special_measures_declined = models.BooleanField(default=False)
    safe_contact_methods = models.CharField(max_length=200, blank=True)
    safe_contact_times = models.CharField(max_length=200, blank=True)
    do_not_tell = models.CharField(max_length=200, blank=True, help_text="Who must not be told.")
    interpreter_language = models.CharField(max_length=60, blank=True)
    confidential_address = models.TextField(blank=True, help_text="Visible only to the roles that need it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "pk"]

    def __str__(self) -> str:
        return f"Victim {self.pk} in {self.case}"


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

    class Meta:
        ordering = ["contacted_at", "pk"]
        constraints = [
            _choices_check("method", VictimContactMethod, "%(app_label)s_%(class)s_method_valid"),
            _choices_check("purpose", VictimContactPurpose, "%(app_label)s_%(class)s_purpose_valid"),
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


class ProtectiveOrderStatus(models.TextChoices):
    CONSIDERED = "considered", "Considered"
    APPLIED = "applied", "Applied for"
    GRANTED = "granted", "Granted / in force"
    REFUSED = "refused", "Refused"
    VARIED = "varied", "Varied"
    EXPIRED = "expired", "Expired"
    DISCHARGED = "discharged", "Discharged"


@audited()
class ProtectiveOrder(models.Model):
    """A notice, order or bail condition protecting the victim, through its life: considered, applied for,
    granted or refused, varied, expired. A DAPN must be followed by a DAPO hearing within 48 hours, not
    counting Sundays, Christmas Day, Good Friday or bank holidays (DA Act 2021 s.29)."""

    Kind = ProtectiveOrderKind
    Status = ProtectiveOrderStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONSIDERED)
    considered_on = models.DateField()
    applied_on = models.DateField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True, help_text="When a notice was given (DAPN, DVPN).")
    granted_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    victim_views = models.TextField(blank=True, help_text="The victim's views, sought before conditions.")

    class Meta:
        ordering = ["considered_on", "pk"]
        constraints = [
            _choices_check("kind", ProtectiveOrderKind, "%(app_label)s_%(class)s_kind_valid"),
            _choices_check("status", ProtectiveOrderStatus, "%(app_label)s_%(class)s_status_valid"),
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
        ]
        indexes = [models.Index(fields=["expires_on"], name="victims_order_expires_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


@audited()
class Breach(models.Model):
    """A breach of a protective order. It is pursued as a new case for the new offence, linked here."""

    order = models.ForeignKey(ProtectiveOrder, on_delete=models.PROTECT, related_name="breaches")
    occurred_on = models.DateField()
    reported_on = models.DateField()
    new_case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="breach_of_orders"
    )
    notes = models.TextField(blank=True)

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
