"""``PUT /api/v1/cases/{urn}/``: make the case of the client's force with this URN match the body.

Idempotent: sending the same body twice changes nothing the second time. A new URN is opened with
``case_create``. On an existing case only what a service can change is changed: corrections of the case's
details (``case_update``: summary, risk level and tool, children in the household, the domestic abuse flag, the
date reported; each at the stages that service allows), new offences (``offence_add``) and an earlier first
qualifying report (``case_record_qualifying_report``), in that order and in one transaction. Any other
difference is refused with 400, field by field, and nothing is written. Fields left out of the body are left
as they are.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from cases import services
from cases.models import Case, User
from cases.rules import require

# Corrected through case_update (which checks the stage and recomputes the clocks); the rest is refused.
CORRECTABLE = tuple(services.CASE_UPDATE_STAGES)
REFUSED = ("police_perpetrated",)
CREATE_DEFAULTS: dict[str, Any] = {
    "summary": "",
    "domestic_abuse": True,
    "risk_level": Case.RiskLevel.UNKNOWN,
    "risk_tool": "",
    "children_in_household": False,
    "police_perpetrated": False,
    "first_qualifying_report_on": None,
    "first_qualifying_report_kind": "",
}
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)


def _offence_key(code: str, committed_on: Any, committed_from: Any) -> tuple[str, Any, Any]:
    return (code.strip().upper(), committed_on, committed_from or None)


def _suspect_key(spec: dict[str, Any]) -> tuple[Any, ...]:
    pnc = (spec.get("pnc_id") or "").strip()
    if pnc:
        return ("pnc", pnc)
    return ("name", spec["given_name"].strip(), spec["family_name"].strip(), spec.get("date_of_birth"))


def _rename(exc: ValidationError, mapping: dict[str, str]) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({mapping.get(k, k): v for k, v in exc.message_dict.items()})


def _create(actor: User, urn: str, data: dict[str, Any]) -> Case:
    kwargs = {k: data.get(k, default) for k, default in CREATE_DEFAULTS.items()}
    return services.case_create(
        actor=actor,
        urn=urn,
        reported_on=data["reported_on"],
        offences=[
            {
                "offence_type": o["offence_type"].strip().upper(),
                "committed_on": o["committed_on"],
                "committed_from": o.get("committed_from"),
                "prosecutor_knowledge_on": o.get("prosecutor_knowledge_on"),
                "particulars": o.get("particulars", ""),
            }
            for o in data["offences"]
        ],
        suspects=[{**s, "pnc_id": (s.get("pnc_id") or "").strip()} for s in data.get("suspects", [])],
        **kwargs,
    )


@dataclasses.dataclass
class Plan:
    """What a PUT changes on an existing case."""

    corrections: dict[str, Any] = dataclasses.field(default_factory=dict)
    to_add: list[tuple[int, dict[str, Any]]] = dataclasses.field(default_factory=list)
    move_report: bool = False

    def __bool__(self) -> bool:
        return bool(self.corrections or self.to_add or self.move_report)


def _plan_update(case: Case, data: dict[str, Any]) -> Plan:
    """Compare the body with the case: the details to correct, the offences to add, whether the first
    qualifying report moves earlier, or a ValidationError naming every difference no service can make."""
    plan = Plan()
    errors: dict[str, str] = {}
    for field in CORRECTABLE:
        if field in data and getattr(case, field) != data[field]:
            plan.corrections[field] = data[field]
    for field in REFUSED:
        if field in data and getattr(case, field) != data[field]:
            errors[field] = (
                f"Cannot be changed through the API once the case is open (it is {_shown(getattr(case, field))}); "
                "ask the officer in charge to correct it."
            )
    existing = Counter(
        _offence_key(o.offence_type.code, o.committed_on, o.committed_from) for o in case.offences.all()
    )
    by_key = {
        _offence_key(o.offence_type.code, o.committed_on, o.committed_from): o for o in case.offences.all()
    }
    wanted = Counter(
        _offence_key(o["offence_type"], o["committed_on"], o.get("committed_from")) for o in data["offences"]
    )
    missing = existing - wanted
    if missing:
        listed = ", ".join(f"{code} on {on}" for code, on, _ in sorted(missing, key=str))
        errors["offences"] = (
            f"The case has offences this body leaves out ({listed}); an offence cannot be removed through the API."
        )
    seen: Counter = Counter()
    for i, spec in enumerate(data["offences"]):
        key = _offence_key(spec["offence_type"], spec["committed_on"], spec.get("committed_from"))
        seen[key] += 1
        if seen[key] > existing[key]:
            plan.to_add.append((i, spec))
            continue
        offence = by_key[key]
        for field in ("particulars", "prosecutor_knowledge_on"):
            if field in spec and getattr(offence, field) != spec[field]:
                errors[f"offences[{i}].{field}"] = (
                    "An offence already on the case cannot be changed through the API."
                )
    if "suspects" in data:
        have = Counter(
            _suspect_key(
                {
                    "pnc_id": p.pnc_id,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "date_of_birth": p.date_of_birth,
                }
            )
            for p in case.suspects.all()
        )
        if have != Counter(_suspect_key(s) for s in data["suspects"]):
            errors["suspects"] = "The suspects of an open case cannot be changed through the API."
    if "first_qualifying_report_on" in data or "first_qualifying_report_kind" in data:
        have_on, have_kind = _case_level_report(case)
        on = data.get("first_qualifying_report_on", have_on)
        kind = data.get("first_qualifying_report_kind", have_kind)
        if (on, kind) != (have_on, have_kind):
            if on is None or not kind:
                errors["first_qualifying_report_on"] = "A recorded first qualifying report cannot be removed."
            elif have_on is not None and on >= have_on:
                errors["first_qualifying_report_on"] = (
                    f"The first qualifying report was on {have_on:%d %B %Y}; only an earlier one can replace it."
                )
            else:
                plan.move_report = True
    if errors:
        raise ValidationError(errors)
    return plan


def _apply_update(actor: User, case: Case, data: dict[str, Any]) -> bool:
    plan = _plan_update(case, data)
    if plan.corrections:  # first: new offences are checked against the corrected date reported
        case = services.case_update(actor=actor, case=case, changes=plan.corrections)
    for i, spec in plan.to_add:
        try:
            services.offence_add(
                actor=actor,
                case=case,
                offence_type=spec["offence_type"].strip().upper(),
                committed_on=spec["committed_on"],
                committed_from=spec.get("committed_from"),
                particulars=spec.get("particulars", ""),
                prosecutor_knowledge_on=spec.get("prosecutor_knowledge_on"),
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            raise ValidationError({f"offences[{i}].{k}": v for k, v in exc.message_dict.items()}) from exc
    if plan.move_report:
        try:
            legacy_report_record(
                actor=actor,
                case=case,
                on=data["first_qualifying_report_on"],
                kind=data.get("first_qualifying_report_kind") or case.first_qualifying_report_kind,
            )
        except ValidationError as exc:
            raise _rename(
                exc, {"on": "first_qualifying_report_on", "kind": "first_qualifying_report_kind"}
            ) from exc
    return bool(plan)


def _case_level_report(case: Case) -> tuple[Any, str]:
    """The report an old client means by the case-level fields: the case's unassigned one, else its only victim's
    (where ``legacy_report_record`` put it), so sending the same body again changes nothing."""
    if case.first_qualifying_report_on is not None:
        return case.first_qualifying_report_on, case.first_qualifying_report_kind
    victims = list(case.victims.order_by("pk")[:2])
    if len(victims) == 1 and victims[0].first_qualifying_report_on is not None:
        return victims[0].first_qualifying_report_on, victims[0].first_qualifying_report_kind
    return None, ""


def legacy_report_record(*, actor: User, case: Case, on: Any, kind: str) -> Any:
    """A case-level first qualifying report from a client written before reports were kept per victim: it is the
    case's only victim's; with several victims it is refused (only the complainant's own report can extend a time
    limit, and the API cannot tell whose it is); with none yet it is kept on the case, unassigned, extending
    nothing until an officer says whose it is."""
    from victims.services import victim_qualifying_report_record  # the API is delivery: above victims

    victims = list(case.victims.order_by("pk")[:2])
    if len(victims) == 1:
        return victim_qualifying_report_record(actor=actor, victim=victims[0], on=on, kind=kind)
    if victims:
        raise ValidationError(
            {
                "on": "This case has several victims: record the report on the victim who made it "
                f"(POST /api/v1/cases/{case.urn}/victims/{{id}}/qualifying-report/)."
            }
        )
    return services.case_record_qualifying_report(actor=actor, case=case, on=on, kind=kind)


def urns_seen(actor: User, urns: Iterable[str]) -> set[str]:
    """Which of these URNs name a case of the actor's force that the actor can see (one query): the bulk
    upsert goes straight to creating the others."""
    return set(
        Case.objects.visible_to(actor)
        .filter(force_id=actor.organisation_id, urn__in=set(urns))
        .values_list("urn", flat=True)
    )


def _locked(actor: User, urn: str) -> Case | None:
    return (
        Case.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(force_id=actor.organisation_id, urn=urn)
        .first()
    )


def _update(actor: User, case: Case, data: dict[str, Any]) -> str:
    return UPDATED if _apply_update(actor, case, data) else UNCHANGED


def case_upsert(
    *,
    actor: User,
    urn: str,
    data: dict[str, Any],
    precondition: Callable[[Case | None], None] | None = None,
    known_absent: bool = False,
) -> tuple[Case, str]:
    """Create or update the case ``urn`` of the actor's force from ``data`` (validated input). Returns the
    case and whether it was created, updated or unchanged. ``precondition`` is called with the current case
    (locked) or None before anything is written (the view checks If-Match there).

    All or nothing: an update runs in one transaction with the case locked; a create is ``case_create``'s own
    transaction (atomic: when it refuses, nothing of it is kept). Inside a caller's transaction each is a
    savepoint of it. When ``case_create`` refuses because another request has just opened the case, the body
    is applied to that case as an update (its precondition checked again). ``known_absent``: the caller has
    just found no such case (``urns_seen``, for the bulk upsert), so the look-up before creating is skipped."""
    require(actor, "cases.create_case")
    if not known_absent:
        with transaction.atomic():
            case = _locked(actor, urn)
            if precondition is not None:
                precondition(case)
            if case is not None:
                return case, _update(actor, case, data)
    elif precondition is not None:
        precondition(None)
    try:
        return _create(actor, urn, data), CREATED
    except ValidationError as exc:
        with transaction.atomic():
            case = _locked(actor, urn)
            if case is None:
                raise exc from None
            if precondition is not None:
                precondition(case)
            return case, _update(actor, case, data)
