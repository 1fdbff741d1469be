"""Charging steps over the API, each calling the same service as the web form: ask for and give early advice,
refer to CPS, triage, record a case conversation, a decision (per offence), an action plan and its amendments,
an action's progress, and each suspect's charge."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import exceptions
from rest_framework.request import Request

from api.base import CaseStepView, step_schema
from api.errors import Conflict
from api.fields import valid_id
from cases.models import Case, Organisation
from charging import services
from charging.models import Action, ActionPlan, ChargingReferral, EarlyAdvice

from .serializers import (
    ActionPlanAmendInputSerializer,
    ActionPlanInputSerializer,
    ActionUpdateInputSerializer,
    ChargeInputSerializer,
    ConversationInputSerializer,
    DecisionInputSerializer,
    EarlyAdviceGiveInputSerializer,
    EarlyAdviceInputSerializer,
    ReferInputSerializer,
    TriageInputSerializer,
)

TAG = "charging"


def _awaiting_referral(case: Case) -> ChargingReferral:
    referral = case.referrals.filter(status=ChargingReferral.Status.AWAITING_DECISION).first()
    if referral is None:
        raise Conflict("There is no submission with CPS awaiting a decision on this case.")
    return referral


@extend_schema_view(
    post=step_schema(
        operation_id="charging_refer",
        summary="Refer the case to CPS (or resubmit after an action plan)",
        description="Calls `case_refer_to_cps`: stops the investigation clock and starts the 10-working-day "
        "charging decision clock; the case's CPS Area can see it from now on.",
        request=ReferInputSerializer,
        tag=TAG,
    )
)
class ReferView(CaseStepView):
    input_serializer = ReferInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> ChargingReferral:
        _area_from_code(data)
        return services.case_refer_to_cps(actor=request.user, case=case, **data)


def _area_from_code(data: dict[str, Any]) -> None:
    if "cps_area" in data:
        code = data.pop("cps_area").strip().upper()
        area = Organisation.objects.filter(code=code, kind=Organisation.Kind.CPS_AREA).first()
        if area is None:
            raise exceptions.ValidationError({"cps_area": [f"No CPS Area has the code {code!r}."]})
        data["cps_area"] = area


def _offences_of(case: Case, ids: list[int], field: str) -> dict[int, Any]:
    """The case's offences with these ids (a 400 naming ``field`` for any other)."""
    found = {o.pk: o for o in case.offences.filter(pk__in=set(ids))}
    if len(found) != len(set(ids)):
        raise exceptions.ValidationError({field: ["Give ids of this case's offences."]})
    return found


@extend_schema_view(
    post=step_schema(
        operation_id="charging_early_advice",
        summary="Ask CPS for early advice",
        description="Calls `early_advice_request`: records the request. Early advice is not a charging referral: "
        "the investigation clock keeps running and no charging-decision clock opens. The first request sets the "
        "case's CPS Area, whose prosecutors can then see the case.",
        request=EarlyAdviceInputSerializer,
        tag=TAG,
    )
)
class EarlyAdviceView(CaseStepView):
    input_serializer = EarlyAdviceInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> EarlyAdvice:
        _area_from_code(data)
        return services.early_advice_request(actor=request.user, case=case, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_early_advice_give",
        summary="Give the early advice asked for (prosecutors)",
        description="Calls `early_advice_give` on the request awaiting advice. Moves no clock.",
        request=EarlyAdviceGiveInputSerializer,
        tag=TAG,
        status=200,
    )
)
class EarlyAdviceGiveView(CaseStepView):
    input_serializer = EarlyAdviceGiveInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> EarlyAdvice:
        waiting = case.early_advice.filter(given_on__isnull=True).first()
        if waiting is None:
            raise Conflict("No early advice is awaited on this case.")
        return services.early_advice_give(actor=request.user, request=waiting, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_triage",
        summary="Triage the submission awaiting CPS (prosecutors)",
        description="Calls `referral_triage`: accept the file, or return it with reasons and a date to respond by.",
        request=TriageInputSerializer,
        tag=TAG,
        status=200,
    )
)
class TriageView(CaseStepView):
    input_serializer = TriageInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> ChargingReferral:
        return services.referral_triage(actor=request.user, referral=_awaiting_referral(case), **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_conversation",
        summary="Record an early case conversation",
        description="Calls `conversation_record`.",
        request=ConversationInputSerializer,
        tag=TAG,
    )
)
class ConversationView(CaseStepView):
    input_serializer = ConversationInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        return services.conversation_record(actor=request.user, case=case, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_decision",
        summary="Record the charging decision (prosecutors)",
        description="Calls `decision_record` on the submission awaiting a decision: for each offence (and so "
        "each suspect), charge (naming the test), no further action (naming the Full Code Test stage not met) or "
        "an out-of-court resolution; `outcome` alone applies to every offence.",
        request=DecisionInputSerializer,
        tag=TAG,
    )
)
class DecisionView(CaseStepView):
    input_serializer = DecisionInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        if "outcomes" in data:
            rows = [dict(r) for r in data["outcomes"]]
            offences = _offences_of(case, [r["offence"] for r in rows], "outcomes")
            data["outcomes"] = [{**r, "offence": offences[r["offence"]]} for r in rows]
        return services.decision_record(actor=request.user, referral=_awaiting_referral(case), **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_action_plan",
        summary="Issue an action plan (prosecutors)",
        description="Calls `action_plan_issue` on the submission awaiting a decision; each action with a due "
        "date gets a clock.",
        request=ActionPlanInputSerializer,
        tag=TAG,
    )
)
class ActionPlanView(CaseStepView):
    input_serializer = ActionPlanInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        data["actions"] = [dict(a) for a in data["actions"]]
        return services.action_plan_issue(actor=request.user, referral=_awaiting_referral(case), **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_action_plan_amend",
        summary="Amend the action plan with police",
        description="Calls `action_plan_amend`: move the response date and add actions (CPS), move actions' "
        "dates (either side), with a reason. No action may be due after the response date. Each change is on "
        "the timeline and the other side is emailed.",
        request=ActionPlanAmendInputSerializer,
        tag=TAG,
        status=200,
        parameters=[
            OpenApiParameter("plan_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The plan's id.")
        ],
    )
)
class ActionPlanAmendView(CaseStepView):
    input_serializer = ActionPlanAmendInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> ActionPlan:
        plan_id = kwargs["plan_pk"]
        plan = (
            ActionPlan.objects.filter(case=case, pk=plan_id).select_related("case").first()
            if valid_id(plan_id)
            else None
        )
        if plan is None:
            raise exceptions.NotFound("This case has no action plan with that id.")
        if "add" in data:
            data["add"] = [dict(a) for a in data["add"]]
        if "moves" in data:
            moves = [dict(m) for m in data["moves"]]
            actions = {a.pk: a for a in plan.actions.filter(pk__in={m["action"] for m in moves})}
            if len(actions) != len({m["action"] for m in moves}):
                raise exceptions.ValidationError({"moves": ["Give ids of this plan's actions."]})
            data["moves"] = [{**m, "action": actions[m["action"]]} for m in moves]
        return services.action_plan_amend(actor=request.user, plan=plan, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_action_update",
        summary="Move an action on",
        description="Calls `action_update`: in progress, completed, withdrawn or re-opened (with a reason).",
        request=ActionUpdateInputSerializer,
        tag=TAG,
        status=200,
        parameters=[
            OpenApiParameter(
                "action_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The action's id."
            )
        ],
    )
)
class ActionUpdateView(CaseStepView):
    input_serializer = ActionUpdateInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Action:
        action_id = kwargs["action_id"]
        action = (
            Action.objects.filter(plan__case=case, pk=action_id).select_related("plan__case").first()
            if valid_id(action_id)
            else None
        )
        if action is None:
            raise exceptions.NotFound("This case has no action with that id.")
        return services.action_update(actor=request.user, action=action, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="charging_charge",
        summary="Record the charge",
        description="Calls `charge_record` after a decision to charge: one suspect's charge, with bail or remand "
        "and the first hearing; stops the time limits of the offences charged, and the 7-day charge clock once "
        "every offence the decision said to charge is charged.",
        request=ChargeInputSerializer,
        tag=TAG,
    )
)
class ChargeView(CaseStepView):
    input_serializer = ChargeInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        if "offences" in data:
            data["offences"] = list(_offences_of(case, data["offences"], "offences").values())
        return services.charge_record(actor=request.user, case=case, **data)
