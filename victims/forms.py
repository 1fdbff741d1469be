"""Forms for the victims and safeguarding page: one per action. Each names the permission it needs, parses and
checks the shape of its input, and hands its cleaned data to one service; the services decide what is allowed.
The page shows only the forms the user may submit."""

from __future__ import annotations

from typing import Any

import rules
from django import forms

from cases import ledger
from cases.models import Case, User

from . import services
from .models import (
    IN_FORCE_STATUSES,
    NOTICE_KINDS,
    WAS_IN_FORCE_STATUSES,
    DapoRequirement,
    OperationEncompassNotification,
    ProsecutionPosition,
    ProtectiveOrder,
    Victim,
    VictimCodeDuty,
    VictimContact,
)
from .selectors import support_services_for

Status = ProtectiveOrder.Status

_CLASSES = {
    forms.Textarea: "govuk-textarea",
    forms.Select: "govuk-select",
    forms.CheckboxInput: "govuk-checkboxes__input",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _text(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class ActionForm(forms.Form):
    """An action on a case's victims or orders: ``perm`` says who may; ``run`` calls the service."""

    slug: str = ""
    title: str = ""
    perm: str = ""
    group: str = "victims"

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        self.case = case
        kwargs.setdefault("prefix", self.slug)
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = next((c for cls, c in _CLASSES.items() if isinstance(widget, cls)), "govuk-input")
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
        today = ledger.london_today()
        for name in ("on", "done_on", "reported_on", "occurred_on"):
            if name in self.fields and self.fields[name].initial is None:
                self.fields[name].initial = today

    @classmethod
    def allowed(cls, user: Any, case: Case) -> bool:
        return rules.has_perm(cls.perm, user, case)

    def available(self) -> bool:
        """Whether there is anything to act on (e.g. an order at the right stage)."""
        return True

    def run(self, actor: User, request: Any) -> Any:
        raise NotImplementedError


class _VictimChoice(ActionForm):
    victim = forms.ModelChoiceField(queryset=Victim.objects.none())

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["victim"].queryset = Victim.objects.filter(case=case).without_address()
        self.fields["victim"].label_from_instance = lambda v: f"{v.given_name} {v.family_name}"

    def available(self) -> bool:
        return self.fields["victim"].queryset.exists()


class VictimCircumstancesForm(_VictimChoice):
    slug, title, perm = "circumstances", "Who the victim is for the Victims' Code", "victims.add_victim"
    is_child = forms.BooleanField(required=False, label="Child")
    child_saw_or_heard = forms.BooleanField(
        required=False,
        label="A child who saw, heard or experienced the effects of the abuse (DA Act 2021 s.3)",
    )
    vulnerable = forms.BooleanField(required=False, label="Vulnerable (YJCEA 1999 s.16)")
    intimidated = forms.BooleanField(required=False, label="Intimidated (YJCEA 1999 s.17)")
    enhanced_rights = forms.BooleanField(required=False, initial=True, label="Enhanced rights")
    special_measures_declined = forms.BooleanField(required=False, label="Declined special measures")

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_circumstances_set(actor=actor, **self.cleaned_data)


class SafeContactForm(_VictimChoice):
    slug, title, perm = "safe-contact", "Safe contact", "victims.add_victim"
    safe_contact_methods = forms.CharField(
        max_length=200, required=False, label="How it is safe to contact them"
    )
    safe_contact_times = forms.CharField(max_length=200, required=False, label="When it is safe")
    do_not_tell = forms.CharField(max_length=200, required=False, label="Who must not be told")
    interpreter_language = forms.CharField(max_length=60, required=False, label="Interpreter (language)")

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_safe_contact_set(actor=actor, **self.cleaned_data)


class AddressForm(_VictimChoice):
    slug, title, perm = "address", "Record the confidential address", "victims.view_confidential_address"
    address = forms.CharField(widget=_text(3), required=False)
    reason = forms.CharField(max_length=300, required=False, label="Why you are changing it")

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_address_set(actor=actor, request_meta=request.META, **self.cleaned_data)


class ContactForm(_VictimChoice):
    slug, title, perm = "contact", "Log a contact with a victim", "victims.add_victim"
    contacted_at = forms.DateTimeField(widget=DateTimeInput, label="When")
    method = forms.ChoiceField(choices=VictimContact.Method.choices)
    purpose = forms.ChoiceField(choices=VictimContact.Purpose.choices)
    support_service = forms.ModelChoiceField(
        queryset=None, required=False, label="Service referred to (local directory)"
    )
    outcome = forms.CharField(widget=_text(), required=False, label="What was said and agreed")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["support_service"].queryset = support_services_for(case)

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_contact_record(actor=actor, **self.cleaned_data)


class DutyForm(_VictimChoice):
    slug, title, perm = "duty", "Record a Victims' Code duty", "victims.add_victim"
    duty = forms.ChoiceField(choices=VictimCodeDuty.Duty.choices)
    done_on = forms.DateField(widget=DateInput, label="Date")
    declined = forms.BooleanField(required=False, label="The victim declined")
    service = forms.ModelChoiceField(queryset=None, required=False, label="Service (local directory)")
    notes = forms.CharField(widget=_text(), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["service"].queryset = support_services_for(case)

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_duty_record(actor=actor, **self.cleaned_data)


class PositionForm(_VictimChoice):
    slug, title, perm = "position", "Record the victim's position on a prosecution", "victims.record_position"
    position = forms.ChoiceField(choices=ProsecutionPosition.Position.choices)
    on = forms.DateField(widget=DateInput, label="Date")
    reasons = forms.CharField(
        widget=_text(), required=False, help_text="In the victim's words where possible."
    )

    def run(self, actor: User, request: Any) -> Any:
        return services.victim_position_record(actor=actor, **self.cleaned_data)


class EncompassForm(ActionForm):
    slug, title, perm = "encompass", "Record an Operation Encompass notification", "victims.record_encompass"
    child = forms.ModelChoiceField(
        queryset=Victim.objects.none(), required=False, label="Child (if one is named)"
    )
    school = forms.CharField(max_length=200, label="School or early years setting")
    notified_to = forms.CharField(max_length=200, label="Who was told (Designated Safeguarding Lead)")
    notified_at = forms.DateTimeField(widget=DateTimeInput, label="When")
    method = forms.ChoiceField(choices=OperationEncompassNotification.Method.choices)
    notes = forms.CharField(widget=_text(), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["child"].queryset = Victim.objects.filter(case=case, is_child=True).without_address()
        self.fields["child"].label_from_instance = lambda v: f"{v.given_name} {v.family_name}"

    def available(self) -> bool:
        return self.case.children_in_household or self.fields["child"].queryset.exists()

    def run(self, actor: User, request: Any) -> Any:
        return services.encompass_notification_record(actor=actor, case=self.case, **self.cleaned_data)


# -- protective orders ----------------------------------------------------------------------------------------


class OrderConsiderForm(ActionForm):
    slug, title, perm, group = (
        "order-consider",
        "Record a protective order considered",
        "victims.manage_order",
        "orders",
    )
    kind = forms.ChoiceField(choices=ProtectiveOrder.Kind.choices)
    on = forms.DateField(widget=DateInput, label="Considered on")
    victim = forms.ModelChoiceField(queryset=Victim.objects.none(), required=False, label="Protects")
    notice = forms.ModelChoiceField(
        queryset=ProtectiveOrder.objects.none(), required=False, label="Follows the notice (DVPO, DAPO)"
    )
    notes = forms.CharField(widget=_text(), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["victim"].queryset = Victim.objects.filter(case=case).without_address()
        self.fields["victim"].label_from_instance = lambda v: f"{v.given_name} {v.family_name}"
        self.fields["notice"].queryset = ProtectiveOrder.objects.filter(case=case, kind__in=NOTICE_KINDS)

    def run(self, actor: User, request: Any) -> Any:
        return services.order_consider(actor=actor, case=self.case, **self.cleaned_data)


class _OrderStep(ActionForm):
    group = "orders"
    perm = "victims.manage_order"
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] | None = None
    exclude_kinds: tuple[str, ...] = ()
    service: str = ""
    order = forms.ModelChoiceField(queryset=ProtectiveOrder.objects.none())

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        qs = ProtectiveOrder.objects.filter(case=case, status__in=self.statuses).exclude(
            kind__in=self.exclude_kinds
        )
        if self.kinds is not None:
            qs = qs.filter(kind__in=self.kinds)
        self.fields["order"].queryset = qs
        self.fields["order"].label_from_instance = lambda o: (
            f"{o.get_kind_display()} (considered {o.considered_on:%d %b %Y})"
        )

    def available(self) -> bool:
        return self.fields["order"].queryset.exists()

    def run(self, actor: User, request: Any) -> Any:
        return getattr(services, self.service)(actor=actor, **self.cleaned_data)


class OrderNotPursueForm(_OrderStep):
    slug, title, service = "order-not-pursue", "Decide not to pursue an order", "order_not_pursue"
    statuses = (Status.CONSIDERED,)
    on = forms.DateField(widget=DateInput)
    reason = forms.CharField(widget=_text())


class OrderApplyForm(_OrderStep):
    slug, title, service = "order-apply", "Apply for an order", "order_apply"
    statuses = (Status.CONSIDERED,)
    exclude_kinds = (*NOTICE_KINDS, ProtectiveOrder.Kind.PRE_CHARGE_BAIL)
    on = forms.DateField(widget=DateInput, label="Applied on")


class OrderServeForm(_OrderStep):
    slug, title, service = "order-serve", "Serve a notice (DAPN or DVPN)", "order_notice_serve"
    statuses = (Status.CONSIDERED,)
    kinds = NOTICE_KINDS
    served_at = forms.DateTimeField(widget=DateTimeInput, label="Served at")
    conditions = forms.CharField(widget=_text(), required=False)


class OrderHearingForm(_OrderStep):
    slug, title, service = "order-hearing", "Record the hearing after a notice", "order_notice_hearing_record"
    statuses = (*WAS_IN_FORCE_STATUSES,)
    kinds = NOTICE_KINDS
    heard_at = forms.DateTimeField(widget=DateTimeInput, label="Hearing began at")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["order"].queryset = self.fields["order"].queryset.filter(
            served_at__isnull=False, heard_at__isnull=True
        )


class OrderGrantForm(_OrderStep):
    slug, title, service = "order-grant", "Record an order granted", "order_grant"
    statuses = (Status.APPLIED,)
    on = forms.DateField(widget=DateInput, label="Granted on")
    expires_on = forms.DateField(
        widget=DateInput,
        required=False,
        label="Ends on",
        help_text="Its last day in force. A DVPO lasts 14 to 28 days beginning with the day it is made.",
    )
    conditions = forms.CharField(widget=_text(), required=False)
    victim_views = forms.CharField(widget=_text(), required=False, label="The victim's views")
    notification_exempt_reason = forms.CharField(
        widget=_text(),
        required=False,
        label="DAPO only: why the notification requirements do not apply (DA Act 2021 s.41(8))",
        help_text="Leave empty when they apply: the respondent must notify the police of their name(s) and home "
        "address within 3 days beginning with the day the order is made.",
    )
    notification_further = forms.CharField(
        widget=_text(),
        required=False,
        label="DAPO only: further notification requirements the court imposed (s.41(7))",
    )


class OrderRefuseForm(_OrderStep):
    slug, title, service = "order-refuse", "Record an order refused", "order_refuse"
    statuses = (Status.APPLIED,)
    on = forms.DateField(widget=DateInput, label="Refused on")
    reason = forms.CharField(widget=_text())


class OrderVaryForm(_OrderStep):
    slug, title, service = "order-vary", "Record a variation", "order_vary"
    statuses = IN_FORCE_STATUSES
    on = forms.DateField(widget=DateInput, label="Varied on")
    conditions = forms.CharField(widget=_text(), required=False, label="The conditions now")
    expires_on = forms.DateField(widget=DateInput, required=False, label="Ends on")
    reason = forms.CharField(widget=_text())
    victim_views = forms.CharField(widget=_text(), required=False, label="The victim's views")


class DapoRequirementForm(_OrderStep):
    slug, title, service = "dapo-requirement", "Record a DAPO requirement", "dapo_requirement_add"
    statuses = IN_FORCE_STATUSES
    kinds = (ProtectiveOrder.Kind.DAPO,)
    kind = forms.ChoiceField(choices=DapoRequirement.Kind.choices)
    text = forms.CharField(widget=_text(), label="The requirement, as the order words it")
    supervisor = forms.CharField(
        max_length=200,
        required=False,
        label="Who supervises compliance",
        help_text="Required for a requirement to do something (DA Act 2021 s.36(2)).",
    )
    imposed_on = forms.DateField(widget=DateInput, label="Imposed on (the grant or a variation)")
    ends_on = forms.DateField(
        widget=DateInput, required=False, label="Its last day, if it ends before the order"
    )


class DapoRequirementRemoveForm(ActionForm):
    slug, title, perm, group = (
        "dapo-requirement-remove",
        "Record a DAPO requirement removed by a variation",
        "victims.manage_order",
        "orders",
    )
    requirement = forms.ModelChoiceField(queryset=DapoRequirement.objects.none())
    on = forms.DateField(widget=DateInput, label="Removed on")
    reason = forms.CharField(widget=_text())

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["requirement"].queryset = DapoRequirement.objects.filter(
            order__case=case, order__status__in=IN_FORCE_STATUSES, removed_on__isnull=True
        ).select_related("order")

    def available(self) -> bool:
        return self.fields["requirement"].queryset.exists()

    def run(self, actor: User, request: Any) -> Any:
        requirement = self.cleaned_data["requirement"]
        return services.dapo_requirement_remove(
            actor=actor,
            order=requirement.order,
            requirement=requirement,
            on=self.cleaned_data["on"],
            reason=self.cleaned_data["reason"],
        )


class DapoNotifiedForm(_OrderStep):
    slug, title, service = (
        "dapo-notified",
        "Record the DAPO notification of name and address (s.41)",
        "dapo_notification_record",
    )
    statuses = WAS_IN_FORCE_STATUSES
    kinds = (ProtectiveOrder.Kind.DAPO,)
    notified_on = forms.DateField(widget=DateInput, label="The respondent notified the police on")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["order"].queryset = self.fields["order"].queryset.filter(
            notification_applies=True, notified_on__isnull=True
        )

    @classmethod
    def allowed(cls, user: Any, case: Case) -> bool:
        org = getattr(user, "organisation", None)
        return super().allowed(user, case) and org is not None and org.is_force


class OrderEndForm(_OrderStep):
    slug, title, service = "order-end", "Record an order ended", "order_end"
    statuses = IN_FORCE_STATUSES
    on = forms.DateField(widget=DateInput, label="Ended on")
    outcome = forms.ChoiceField(choices=[(Status.EXPIRED, "Expired"), (Status.DISCHARGED, "Discharged")])
    reason = forms.CharField(widget=_text(), required=False)


class BailConditionsForm(ActionForm):
    slug, title, perm, group = "bail", "Impose pre-charge bail conditions", "victims.manage_order", "orders"
    on = forms.DateField(widget=DateInput, label="Bailed on")
    conditions = forms.CharField(widget=_text())
    victim_views = forms.CharField(
        widget=_text(), label="The victim's views (sought before imposing conditions)"
    )
    expires_on = forms.DateField(widget=DateInput, required=False, label="Bail ends on")
    victim = forms.ModelChoiceField(queryset=Victim.objects.none(), required=False, label="Protects")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["victim"].queryset = Victim.objects.filter(case=case).without_address()
        self.fields["victim"].label_from_instance = lambda v: f"{v.given_name} {v.family_name}"

    @classmethod
    def allowed(cls, user: Any, case: Case) -> bool:
        org = getattr(user, "organisation", None)
        return super().allowed(user, case) and org is not None and org.is_force

    def run(self, actor: User, request: Any) -> Any:
        return services.bail_conditions_impose(actor=actor, case=self.case, **self.cleaned_data)


class BreachForm(_OrderStep):
    slug, title, perm, service = (
        "breach",
        "Record a breach (opens a new case)",
        "victims.record_breach",
        "breach_record",
    )
    statuses = WAS_IN_FORCE_STATUSES
    occurred_on = forms.DateField(widget=DateInput, label="Breach happened on")
    reported_on = forms.DateField(widget=DateInput, label="Reported on")
    urn = forms.CharField(max_length=20, label="URN for the new case")
    offence_type = forms.CharField(
        max_length=30,
        required=False,
        label="Offence code (only when the breach is not itself an offence, e.g. a DVPO)",
    )
    notes = forms.CharField(widget=_text(), required=False)

    def clean_offence_type(self) -> str | None:
        return self.cleaned_data["offence_type"].strip() or None


ACTIONS: dict[str, type[ActionForm]] = {
    f.slug: f
    for f in (
        ContactForm,
        DutyForm,
        PositionForm,
        VictimCircumstancesForm,
        SafeContactForm,
        AddressForm,
        EncompassForm,
        OrderConsiderForm,
        OrderNotPursueForm,
        OrderApplyForm,
        OrderServeForm,
        OrderHearingForm,
        OrderGrantForm,
        OrderRefuseForm,
        OrderVaryForm,
        DapoRequirementForm,
        DapoRequirementRemoveForm,
        DapoNotifiedForm,
        OrderEndForm,
        BailConditionsForm,
        BreachForm,
    )
}
