"""Charging steps over the API, each calling the same service as the web form: refer to CPS, triage, record a
case conversation, a decision, an action plan, an action's progress, and the charge."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_view
from rest_framework import exceptions
from rest_framework.request import Request

from cases.api.base import CaseStepView, step_schema
from cases.api.errors import Conflict
from cases.api.fields import valid_id
from cases.models import Case, Organisation
from charging import services
from charging.models import Action, ChargingReferral

from .serializers import (
    ActionPlanInputSerializer,
    ActionUpdateInputSerializer,
    ChargeInputSerializer,
    ConversationInputSerializer,
    DecisionInputSerializer,
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
        if "cps_area" in data:
            code = data.pop("cps_area").strip().upper()
            area = Organisation.objects.filter(code=code, kind=Organisation.Kind.CPS_AREA).first()
            if area is None:
                raise exceptions.ValidationError({"cps_area": [f"No CPS Area has the code {code!r}."]})
            data["cps_area"] = area
        return services.case_refer_to_cps(actor=request.user, case=case, **data)


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
        description="Calls `decision_record` on the submission awaiting a decision: charge (naming the test), "
        "no further action or an out-of-court resolution.",
        request=DecisionInputSerializer,
        tag=TAG,
    )
)
class DecisionView(CaseStepView):
    input_serializer = DecisionInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
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
        description="Calls `charge_record` after a decision to charge: stops the 7-day charge clock and the "
        "time limits of the offences charged.",
        request=ChargeInputSerializer,
        tag=TAG,
    )
)
class ChargeView(CaseStepView):
    input_serializer = ChargeInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        if "offences" in data:
            ids = set(data["offences"])
            offences = list(case.offences.filter(pk__in=ids))
            if len(offences) != len(ids):
                raise exceptions.ValidationError({"offences": ["Give ids of this case's offences."]})
            data["offences"] = offences
        return services.charge_record(actor=request.user, case=case, **data)
