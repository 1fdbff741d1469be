"""Web pages for the case record. Thin: every read starts from ``Case.objects.visible_to`` (so a case outside
the user's reach is a 404, never a 403 that confirms it exists), every write calls one service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Min, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from charging.forms import STEPS
from charging.selectors import time_with_each_side

from . import ledger, services
from .forms import CaseCreateForm, apply_service_errors
from .models import Case, Clock


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """The user's cases, most urgent first (earliest open deadline), with their open clocks."""
    qs = Case.objects.visible_to(request.user).select_related("force", "cps_area")
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(urn__icontains=query) | Q(suspects__family_name__icontains=query)).distinct()
    status = request.GET.get("status", "")
    if status in Case.Status.values:
        qs = qs.filter(status=status)
    qs = qs.annotate(next_due=Min("clocks__due_on", filter=Q(clocks__stopped_on__isnull=True))).order_by(
        "next_due", "urn"
    )
    open_clocks = Prefetch("clocks", queryset=Clock.objects.open().order_by("due_on"), to_attr="open_clocks")
    cases = qs.prefetch_related(open_clocks)[:200]
    return render(
        request,
        "cases/case_list.html",
        {
            "cases": cases,
            "query": query,
            "status": status,
            "statuses": Case.Status.choices,
            "can_create": request.user.has_perm("cases.create_case"),
            "today": ledger.london_today(),
        },
    )


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cases.create_case"):
        raise PermissionDenied("Only police caseworkers open cases.")
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(actor=request.user, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Case {case.urn} opened.")
            return redirect("case_detail", pk=case.pk)
    return render(request, "cases/case_form.html", {"form": form})


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        Case.objects.visible_to(request.user).select_related("force", "cps_area", "oic"), pk=pk
    )


def _steps_for(request: HttpRequest, case: Case, bound: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    steps = []
    for slug, form_class in STEPS.items():
        if not request.user.has_perm(form_class.perm, case):
            continue
        allowed = case.status in form_class.statuses
        form = (bound or {}).get(slug) or form_class(case=case, prefix=slug)
        steps.append(
            {
                "slug": slug,
                "title": form_class.title,
                "form": form,
                "allowed": allowed,
                "why_not": ""
                if allowed
                else f"Not at this stage (the case is {case.get_status_display().lower()}).",
            }
        )
    return steps


@login_required
def case_detail(request: HttpRequest, pk: int, bound: dict[str, Any] | None = None) -> HttpResponse:
    case = _visible_case(request, pk)
    context = {
        "case": case,
        "clocks": case.clocks.select_related("offence__offence_type", "referral", "action").order_by(
            "stopped_on", "due_on"
        ),
        "offences": case.offences.select_related("offence_type", "suspect"),
        "events": case.events.select_related("actor"),
        "referrals": case.referrals.select_related("decision").order_by("sequence"),
        "plans": case.action_plans.prefetch_related("actions"),
        "suspects": case.suspects.all(),
        "victim_count": case.victims.count(),
        "steps": _steps_for(request, case, bound),
        "time_with": time_with_each_side(case, today=ledger.london_today()),
        "today": ledger.london_today(),
    }
    return render(request, "cases/case_detail.html", context, status=400 if bound else 200)


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    case = _visible_case(request, pk)
    form_class = STEPS.get(step)
    if form_class is None:
        raise Http404("No such step.")
    form = form_class(request.POST, case=case, prefix=step)
    if form.is_valid():
        try:
            form.run(request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{form_class.title}: done.")
            return redirect("case_detail", pk=case.pk)
    return case_detail(request, pk, bound={step: form})
