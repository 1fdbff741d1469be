"""Web pages for victims and safeguarding. Thin: every read starts from ``Case.objects.visible_to`` (a case or
victim outside the user's reach is a 404, never a 403 that confirms it exists); every write calls one service.

- ``/victims/case/<case_pk>/``: the case's victims, their Victims' Code duties and position, protective orders,
  breaches (both ways) and Operation Encompass, with the forms the user may submit;
- ``/victims/case/<case_pk>/do/<step>/``: one action (POST);
- ``/victims/<victim_pk>/address/``: the confidential address, revealed on request (POST) to the roles that may see
  it, each view logged. Anyone else who can see the case gets a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases import access_log
from cases.models import Case

from . import language, selectors, services
from .forms import ACTIONS, ActionForm
from .models import Victim


def _visible_case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user).select_related("force", "cps_area"), pk=pk)


def _forms_for(
    request: HttpRequest, case: Case, bound: dict[str, ActionForm] | None = None
) -> list[ActionForm]:
    forms = []
    for slug, form_class in ACTIONS.items():
        if not form_class.allowed(request.user, case):
            continue
        form = (bound or {}).get(slug) or form_class(case=case)
        if form.available() or slug in (bound or {}):
            forms.append(form)
    return forms


@login_required
def case_safeguarding(
    request: HttpRequest, case_pk: int, bound: dict[str, ActionForm] | None = None
) -> HttpResponse:
    case = _visible_case(request, case_pk)
    # Closed cases keep their forms: a restraining order made at the end of a case is breached afterwards.
    forms = _forms_for(request, case, bound)
    context: dict[str, Any] = {
        "case": case,
        "s": selectors.case_safeguarding(case, request.user),
        "victim_forms": [f for f in forms if f.group == "victims"],
        "order_forms": [f for f in forms if f.group == "orders"],
        "show_contact_details": request.user.has_perm("victims.add_victim", case)
        or request.user.has_perm("victims.record_position", case),
    }
    return render(request, "victims/case_safeguarding.html", context, status=400 if bound else 200)


@login_required
@require_POST
def case_action(request: HttpRequest, case_pk: int, step: str) -> HttpResponse:
    case = _visible_case(request, case_pk)
    form_class = ACTIONS.get(step)
    if form_class is None:
        raise Http404("No such action.")
    if not form_class.allowed(request.user, case):
        raise PermissionDenied("You may not do this on this case.")
    form = form_class(request.POST, case=case)
    if form.is_valid():
        try:
            result = form.run(request.user, request)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{form_class.title}: done.")
            for finding in (
                language.findings_for(result) if result is not None and hasattr(result, "_meta") else []
            ):
                messages.warning(request, language.warning_text(finding))
            return redirect("victims:case", case_pk=case.pk)
    return case_safeguarding(request, case_pk, bound={step: form})


def _apply_errors(form: ActionForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = field.rsplit(".", 1)[-1]
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@never_cache
@login_required
def victim_address(request: HttpRequest, victim_pk: int) -> HttpResponse:
    """The confidential address: a 404 outside the access gate, a 403 for anyone who may see the case but not the
    address (CPS, scrutiny panels); for the rest, revealed on a POST and logged each time. A refusal of either
    kind is logged too (the ``jjp.security`` line and an ``address_refused`` row of the address log), and answered
    exactly as before."""
    victims = Victim.objects.visible_to(request.user).without_address().select_related("case")
    victim = victims.filter(pk=victim_pk).first()
    if victim is None:  # outside the access gate, or no such victim: logged as refused, answered as not found
        access_log.record_refused(
            request,
            what="confidential address",
            case=None,
            object_model="victims.victim",
            object_pk=str(victim_pk),
        )
        services.victim_address_refusal_record(
            actor=request.user, asked_for=victim_pk, victim=None, request_meta=request.META
        )
        raise Http404("No such victim among the cases you can see.")
    if not selectors.can_view_address(request.user, victim.case):
        access_log.record_refused(
            request,
            what="confidential address",
            case=victim.case,
            object_model="victims.victim",
            object_pk=str(victim.pk),
        )
        services.victim_address_refusal_record(
            actor=request.user, asked_for=victim.pk, victim=victim, request_meta=request.META
        )
        raise PermissionDenied(
            "Only the officer in charge, police supervisors and victim liaison of the force see this."
        )
    address = None
    if request.method == "POST":
        address = services.victim_reveal_address(
            actor=request.user,
            victim=victim,
            request_meta=request.META,
            reason=request.POST.get("reason", ""),
        )
    return render(
        request, "victims/victim_address.html", {"victim": victim, "case": victim.case, "address": address}
    )
