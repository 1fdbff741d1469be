"""Web pages for the case record. Thin: every read starts from ``Case.objects.visible_to`` (so a case outside
the user's reach is a 404, never a 403 that confirms it exists), every write calls one service, and the reads
live in ``workspace/dashboards.py``. Lists come as pages and as CSV through the same selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases import access_log, ledger, services
from cases.csv_export import csv_response
from cases.filters import CaseFilterSet
from cases.forms import CaseCreateForm, StepForm, apply_service_errors, filter_form_style
from cases.models import Case
from governance.selectors import hhro_flags_for_case

from . import dashboards
from .steps import STEPS

PAGE_SIZE = 50
CSV_CHUNK = 500


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its dashboard; everyone else on the case list."""
    board = dashboards.home_dashboard(request.user)
    return redirect("dashboard", slug=board.slug) if board else redirect("case_list")


# --------------------------------------------------------------------------------------------------------------
# Dashboards
# --------------------------------------------------------------------------------------------------------------


def _board(request: HttpRequest, slug: str) -> dashboards.Dashboard:
    board = dashboards.DASHBOARDS.get(slug)
    if board is None:
        raise Http404("No such dashboard.")
    if not board.allows(request.user):
        raise PermissionDenied(f"The {board.title.lower()} is not for your role.")
    return board


@login_required
@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    board = _board(request, slug)
    today = ledger.london_today()
    # Keys with underscores, so that templates can name them (sections.victim_updates).
    pages = [dashboards.section_page(s, request.user, today) for s in board.sections]
    access_log.record_listed(request, (row for p in pages for row in p.rows))
    return render(
        request,
        "dashboards/board.html",
        {
            "board": board,
            "pages": pages,
            "sections": {p.section.slug.replace("-", "_"): p for p in pages},
            "counts": dashboards.dashboard_counts(board, request.user, today),
            "today": today,
            "escalations_available": dashboards.escalation_model() is not None,
        },
    )


@login_required
@require_GET
def dashboard_section(request: HttpRequest, slug: str, section: str) -> HttpResponse:
    """One dashboard list in full, a page of rows at a time (``?page=``), most urgent first: the same selector
    and access gate as the dashboard and the CSV."""
    board = _board(request, slug)
    part = board.section(section)
    if part is None:
        raise Http404("No such list.")
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    today = ledger.london_today()
    page = dashboards.section_page(part, request.user, today, number=number)
    if number > 1 and not page.rows:
        raise Http404("There is no such page of this list.")
    access_log.record_listed(request, page.rows)
    return render(
        request,
        "dashboards/section.html",
        {
            "board": board,
            "page": page,
            "today": today,
            "escalations_available": dashboards.escalation_model() is not None,
        },
    )


@login_required
@require_GET
def dashboard_export(request: HttpRequest, slug: str, section: str) -> StreamingHttpResponse:
    """Any dashboard list as CSV: every row of the same selector, behind the same access gate."""
    board = _board(request, slug)
    part = board.section(section)
    if part is None:
        raise Http404("No such list.")
    today = ledger.london_today()
    rows = part.rows(request.user, today)
    access_log.record_many(request, rows, access_log.AccessLog.What.CASE_EXPORTED)
    return csv_response(
        f"{board.slug}-{part.slug}-{today.isoformat()}.csv",
        [c.header for c in part.columns],
        ([c.value(row, today) for c in part.columns] for row in rows.iterator(chunk_size=CSV_CHUNK)),
    )


# --------------------------------------------------------------------------------------------------------------
# The case list: search, filters shared with the API, pages, CSV
# --------------------------------------------------------------------------------------------------------------


def _filtered_cases(request: HttpRequest) -> tuple[CaseFilterSet, QuerySet[Case]]:
    filterset = CaseFilterSet(
        request.GET, queryset=Case.objects.visible_to(request.user).select_related("force", "cps_area")
    )
    filter_form_style(filterset.form)
    qs = (
        filterset.qs.annotate(next_due=F("next_due_on"))  # stored by the ledger (cases/derived.py)
        .order_by(F("next_due_on").asc(nulls_last=True), "urn", "pk")
        .prefetch_related(dashboards.open_clocks_prefetch(), "suspects")
    )
    return filterset, qs


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases the user can see, most urgent first (earliest open deadline), searchable and filtered with the
    API's CaseFilterSet. An htmx request gets only the results."""
    today = ledger.london_today()
    filterset, qs = _filtered_cases(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page.object_list:
        dashboards.badges_set(case.open_clocks, today)
    access_log.record_listed(request, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "page": page,
        "cases": page.object_list,
        "query": request.GET.get("q", ""),
        "querystring": query.urlencode(),
        "can_create": request.user.has_perm("cases.create_case"),
        "today": today,
    }
    # htmx swaps in the results only; a history restore (back button after a cache miss) needs the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "cases/_case_results.html" if partial else "cases/case_list.html"
    return render(request, template, context)


@login_required
@require_GET
def case_export(request: HttpRequest) -> StreamingHttpResponse:
    """The case list as CSV: the same search and filters, every matching case the user can see."""
    today = ledger.london_today()
    filterset, qs = _filtered_cases(request)
    access_log.record_many(request, qs, access_log.AccessLog.What.CASE_EXPORTED)
    columns = (
        ("URN", lambda c: c.urn),
        ("Force", lambda c: c.force.name),
        ("CPS Area", lambda c: c.cps_area.name if c.cps_area else ""),
        ("Status", lambda c: c.get_status_display()),
        ("Reported", lambda c: c.reported_on.isoformat()),
        ("Risk", lambda c: c.get_risk_level_display()),
        ("Suspects", lambda c: ", ".join(str(p) for p in c.suspects.all())),
        ("Next deadline", lambda c: c.next_due.isoformat() if c.next_due else ""),
        ("Open deadlines", lambda c: "; ".join(dashboards.clock_badge(k, today).text for k in c.open_clocks)),
    )
    return csv_response(
        f"cases-{today.isoformat()}.csv",
        [h for h, _ in columns],
        ([f(case) for _, f in columns] for case in qs.iterator(chunk_size=CSV_CHUNK)),
    )


# --------------------------------------------------------------------------------------------------------------
# Opening a case, the case page, its steps and the printable summary
# --------------------------------------------------------------------------------------------------------------


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("cases.create_case"):
        raise PermissionDenied("Only police caseworkers open cases.")
    form = CaseCreateForm(request.POST or None, initial={"reported_on": ledger.london_today()})
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


def _steps_for(
    request: HttpRequest, case: Case, page: dict[str, Any], bound: dict[str, StepForm] | None = None
) -> dict[str, Any]:
    """The steps this user may take on this case: a form for each allowed now, the reason for the rest.
    Steps the user's role never takes are left out. Each permission is asked once; the reasons use what the
    page has already read (no queries)."""
    facts = {
        "awaiting": next((r for r in page["referrals"] if r.status == "awaiting"), None),
        "actions": sum(len(plan.actions.all()) for plan in page["plans"]),
        "early_advice_waiting": next((e for e in page["early_advice"] if e.given_on is None), None),
    }
    allowed_perms: dict[str, bool] = {}
    ready, refused = [], []
    for slug, form_class in STEPS.items():
        if form_class.perm not in allowed_perms:
            allowed_perms[form_class.perm] = request.user.has_perm(form_class.perm, case)
        if not allowed_perms[form_class.perm]:
            continue
        why_not = form_class.refusal(case, facts)
        step = {"slug": slug, "title": form_class.title, "why_not": why_not}
        if why_not:
            refused.append(step)
        else:
            step["form"] = (bound or {}).get(slug) or form_class(case=case, prefix=slug)
            step["open"] = slug in (bound or {})
            ready.append(step)
    return {"ready": ready, "refused": refused}


@login_required
def case_detail(request: HttpRequest, pk: int, bound: dict[str, StepForm] | None = None) -> HttpResponse:
    case = _visible_case(request, pk)
    access_log.record_case_read(request, case, access_log.AccessLog.What.CASE_VIEWED)
    context = dashboards.case_page(case, ledger.london_today())
    context.update(case=case, steps=_steps_for(request, case, context, bound), step_errors=bool(bound))

    context["hhro_flags"] = hhro_flags_for_case(case)
    return render(request, "cases/case_detail.html", context, status=400 if bound else 200)


@login_required
@require_GET
def case_summary(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable summary of the case for a case conversation (print stylesheet; no forms)."""
    case = _visible_case(request, pk)
    access_log.record_case_read(request, case, access_log.AccessLog.What.CASE_PRINTED)
    context = dashboards.case_page(case, ledger.london_today())
    context.update(case=case, printed_by=request.user, printing=True)
    return render(request, "cases/case_summary.html", context)


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
