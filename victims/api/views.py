"""Victims over the API: list and add victims, log contacts, and the protective order steps and breaches, each
calling the same service as the web forms (``victims/services.py``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import (
    FORCE_PARAMETER,
    READ_ERRORS,
    URN_PARAMETER,
    CaseStepView,
    error_responses,
    find_case,
    step_schema,
)
from api.fields import valid_id
from cases.models import Case
from victims import services
from victims.models import DapoRequirement, ProtectiveOrder, SupportService, Victim

from . import serializers as s

TAG = "victims"


def _victim(case: Case, pk: Any, field: str) -> Victim | None:
    if pk is None:
        return None
    victim = Victim.objects.filter(case=case, pk=pk).first() if valid_id(pk) else None
    if victim is None:
        raise exceptions.ValidationError({field: ["This case has no victim with that id."]})
    return victim


def _order(case: Case, pk: Any, *, field: str | None = None) -> ProtectiveOrder | None:
    if pk is None:
        return None
    order = (
        ProtectiveOrder.objects.filter(case=case, pk=pk).select_related("case").first()
        if valid_id(pk)
        else None
    )
    if order is None:
        if field:
            raise exceptions.ValidationError({field: ["This case has no order with that id."]})
        raise exceptions.NotFound("This case has no protective order with that id.")
    return order


@extend_schema_view(
    get=extend_schema(
        operation_id="victims_list",
        summary="List the case's victims",
        description="Their ids (to log contacts), names and Victims' Code status; never the confidential address.",
        tags=[TAG],
        parameters=[URN_PARAMETER, FORCE_PARAMETER],
        responses={200: s.VictimSerializer(many=True), **error_responses(*READ_ERRORS)},
    ),
    post=step_schema(
        operation_id="victims_add",
        summary="Add a victim",
        description="Calls `victim_add`: opens the support-referral clock and, for a child, Operation Encompass.",
        request=s.VictimAddInputSerializer,
        tag=TAG,
    ),
)
class VictimsView(CaseStepView):
    input_serializer = s.VictimAddInputSerializer

    def get(self, request: Request, urn: str) -> Response:
        case = find_case(request, urn)
        victims = Victim.objects.filter(case=case).prefetch_related("suspect_relationships").order_by("pk")
        return Response(s.VictimSerializer(victims, many=True).data)

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Victim:
        return services.victim_add(actor=request.user, case=case, request_meta=request.META, **data)


def _victim_in_path(case: Case, victim_id: Any) -> Victim:
    victim = (
        Victim.objects.filter(case=case, pk=victim_id).select_related("case").first()
        if valid_id(victim_id)
        else None
    )
    if victim is None:
        raise exceptions.NotFound("This case has no victim with that id.")
    return victim


_VICTIM_ID = [OpenApiParameter("victim_id", OpenApiTypes.INT, OpenApiParameter.PATH)]


@extend_schema_view(
    post=step_schema(
        operation_id="victims_date_of_birth",
        summary="Record a victim's date of birth",
        description="Calls `victim_date_of_birth_set`: domestic abuse needs both people 16 or over (DA Act 2021 "
        "s.1), so the case's time limits are recomputed. Null removes it (the safe s.127 limits apply).",
        request=s.VictimBornInputSerializer,
        tag=TAG,
        status=200,
        parameters=_VICTIM_ID,
    )
)
class VictimBornView(CaseStepView):
    input_serializer = s.VictimBornInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        victim = _victim_in_path(case, kwargs["victim_id"])
        return services.victim_date_of_birth_set(actor=request.user, victim=victim, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="victims_qualifying_report",
        summary="Record a victim's first witness statement or video-recorded interview",
        description="Calls `victim_qualifying_report_record` (CJA 1988 s.39A conditions A and B): only the "
        "complainant's own report extends the time limit of a common assault against them. Only an earlier "
        "report can replace one already recorded.",
        request=s.VictimReportInputSerializer,
        tag=TAG,
        status=200,
        parameters=_VICTIM_ID,
    )
)
class VictimReportView(CaseStepView):
    input_serializer = s.VictimReportInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        victim = _victim_in_path(case, kwargs["victim_id"])
        return services.victim_qualifying_report_record(actor=request.user, victim=victim, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="victims_relationship",
        summary="Record how a victim and a suspect are related",
        description="Calls `victim_relationship_set` (DA Act 2021 s.2: the categories of being personally "
        "connected, or `not_connected`); the case's time limits are recomputed. Recording again replaces it.",
        request=s.RelationshipInputSerializer,
        tag=TAG,
        status=200,
        parameters=_VICTIM_ID,
    )
)
class VictimRelationshipView(CaseStepView):
    input_serializer = s.RelationshipInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        victim = _victim_in_path(case, kwargs["victim_id"])
        pk = data.pop("suspect")
        suspect = case.suspects.filter(pk=pk).first() if valid_id(pk) else None
        if suspect is None:
            raise exceptions.ValidationError({"suspect": ["This case has no suspect with that id."]})
        return services.victim_relationship_set(actor=request.user, victim=victim, suspect=suspect, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="victims_contact",
        summary="Log a contact with a victim",
        description="Calls `victim_contact_record`: an update meets the Victims' Code update clock, a referral "
        "to support services the support-referral clock.",
        request=s.ContactInputSerializer,
        tag=TAG,
        parameters=[OpenApiParameter("victim_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
)
class ContactView(CaseStepView):
    input_serializer = s.ContactInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        victim = _victim_in_path(case, kwargs["victim_id"])
        if data.get("support_service") is not None:
            service = (
                SupportService.objects.filter(pk=data["support_service"]).first()
                if valid_id(data["support_service"])
                else None
            )
            if service is None:
                raise exceptions.ValidationError({"support_service": ["No support service has that id."]})
            data["support_service"] = service
        return services.victim_contact_record(actor=request.user, victim=victim, **data)


@extend_schema_view(
    get=extend_schema(
        operation_id="orders_list",
        summary="List the case's protective orders, notices and bail conditions",
        tags=[TAG],
        parameters=[URN_PARAMETER, FORCE_PARAMETER],
        responses={200: s.OrderSerializer(many=True), **error_responses(*READ_ERRORS)},
    ),
    post=step_schema(
        operation_id="orders_consider",
        summary="Record that a protective order or notice was considered",
        description="Calls `order_consider`; the order then moves on through its own endpoints.",
        request=s.OrderConsiderInputSerializer,
        tag=TAG,
    ),
)
class OrdersView(CaseStepView):
    input_serializer = s.OrderConsiderInputSerializer

    def get(self, request: Request, urn: str) -> Response:
        case = find_case(request, urn)
        orders = (
            ProtectiveOrder.objects.filter(case=case)
            .order_by("considered_on", "pk")
            .prefetch_related(
                "breaches__new_case",
                Prefetch("requirements", queryset=DapoRequirement.objects.order_by("imposed_on", "pk")),
            )
        )
        return Response(s.OrderSerializer(orders, many=True).data)

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> ProtectiveOrder:
        data["victim"] = _victim(case, data.get("victim"), "victim")
        data["notice"] = _order(case, data.get("notice"), field="notice")
        return services.order_consider(actor=request.user, case=case, **data)


@extend_schema_view(
    post=step_schema(
        operation_id="orders_bail_conditions",
        summary="Impose pre-charge bail conditions",
        description="Calls `bail_conditions_impose`: the victim's views are required; an end date opens the "
        "bail-expiry clock.",
        request=s.BailConditionsInputSerializer,
        tag=TAG,
    )
)
class BailConditionsView(CaseStepView):
    input_serializer = s.BailConditionsInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> ProtectiveOrder:
        data["victim"] = _victim(case, data.get("victim"), "victim")
        return services.bail_conditions_impose(actor=request.user, case=case, **data)


ORDER_ID = OpenApiParameter(
    "order_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The order's id."
)


def _order_step_view(
    slug: str, input_serializer: type[serializers.Serializer], service: str, summary: str, status: int = 200
) -> type[CaseStepView]:
    """``POST /cases/{urn}/orders/{order_id}/<slug>/``: one order step through ``victims.services.<service>``."""

    def perform(self: CaseStepView, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        order = _order(case, kwargs["order_id"])
        return getattr(services, service)(actor=request.user, order=order, **data)

    view = type(
        f"Order{slug.title().replace('-', '')}View",
        (CaseStepView,),
        {
            "input_serializer": input_serializer,
            "success_status": status,
            "perform": perform,
            "__doc__": summary,
        },
    )
    return extend_schema_view(
        post=step_schema(
            operation_id=f"orders_{slug.replace('-', '_')}",
            summary=summary,
            description=f"Calls `{service}`.",
            request=input_serializer,
            tag=TAG,
            status=status,
            parameters=[ORDER_ID],
        )
    )(view)


ORDER_STEPS = {
    "not-pursue": _order_step_view(
        "not-pursue", s.OrderNotPursueInputSerializer, "order_not_pursue", "Decide not to pursue an order"
    ),
    "apply": _order_step_view(
        "apply", s.OrderDateInputSerializer, "order_apply", "Apply to the court for an order"
    ),
    "serve": _order_step_view(
        "serve", s.OrderServeInputSerializer, "order_notice_serve", "Serve a DAPN or DVPN"
    ),
    "hearing": _order_step_view(
        "hearing",
        s.OrderHearingInputSerializer,
        "order_notice_hearing_record",
        "Record the hearing after a notice",
    ),
    "grant": _order_step_view(
        "grant", s.OrderGrantInputSerializer, "order_grant", "Record that the order was granted"
    ),
    "refuse": _order_step_view(
        "refuse", s.OrderRefuseInputSerializer, "order_refuse", "Record that it was refused"
    ),
    "vary": _order_step_view("vary", s.OrderVaryInputSerializer, "order_vary", "Record a variation"),
    "end": _order_step_view(
        "end", s.OrderEndInputSerializer, "order_end", "Record that it expired or was discharged"
    ),
    "requirements": _order_step_view(
        "requirements",
        s.DapoRequirementInputSerializer,
        "dapo_requirement_add",
        "Record one of a DAPO's prohibitions or requirements",
        status=201,
    ),
    "notified": _order_step_view(
        "notified",
        s.DapoNotifiedInputSerializer,
        "dapo_notification_record",
        "Record that the DAPO's respondent notified the police of name and address (s.41)",
    ),
}


@extend_schema_view(
    post=step_schema(
        operation_id="orders_remove_requirement",
        summary="Record a DAPO requirement removed by a variation",
        description="Calls `dapo_requirement_remove`. The answer's `id` is the requirement.",
        request=s.DapoRequirementRemoveInputSerializer,
        tag=TAG,
        status=200,
        parameters=[ORDER_ID],
    )
)
class DapoRequirementRemoveView(CaseStepView):
    input_serializer = s.DapoRequirementRemoveInputSerializer
    success_status = 200

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        order = _order(case, kwargs["order_id"])
        pk = data.pop("requirement")
        requirement = DapoRequirement.objects.filter(order=order, pk=pk).first() if valid_id(pk) else None
        if requirement is None:
            raise exceptions.ValidationError({"requirement": ["This order has no requirement with that id."]})
        return services.dapo_requirement_remove(
            actor=request.user, order=order, requirement=requirement, **data
        )


@extend_schema_view(
    post=step_schema(
        operation_id="orders_breach",
        summary="Record a breach of an order: opens the breach case",
        description="Calls `breach_record`: a new case of your force for the breach offence, with the same "
        "suspect and the protected victim, linked to the order. The answer's `id` is the breach.",
        request=s.BreachInputSerializer,
        tag=TAG,
        parameters=[ORDER_ID],
    )
)
class BreachView(CaseStepView):
    input_serializer = s.BreachInputSerializer

    def perform(self, request: Request, case: Case, data: dict[str, Any], **kwargs: Any) -> Any:
        order = _order(case, kwargs["order_id"])
        return services.breach_record(actor=request.user, order=order, **data)
