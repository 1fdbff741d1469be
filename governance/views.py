"""Governance pages. Thin: every case read starts from ``Case.objects.visible_to`` (a case, plan, review or
person out of reach is a 404); every write calls one service; the performance figures are read from the stored
figures (``governance/metrics.py``, refreshed by a beat task), limited to the rows the user may see."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cases import ledger
from cases.csv_export import csv_response
from cases.forms import apply_service_errors
from cases.models import Case, Person
from cases.rules import is_prosecutor
from charging.models import Action, ActionPlan, ActionPlanEscalation

from . import forms, metrics, plan_services, selectors, services, tasks
from .charts import bar_chart, comparison_chart
from .models import CpsNotification, PanelReview, SamplingRule

# --------------------------------------------------------------------------------------------------------------
# Index and scrutiny panels
# --------------------------------------------------------------------------------------------------------------


def rule_label(value: str) -> str:
    """A sampling rule's name as people read it (``two_plus_action_plans``: "Two or more action plans"); an
    unknown value (a rule since retired) as it is stored."""
    try:
        return str(SamplingRule(value).label)
    except ValueError:
        return value


def _drawn_label(review: PanelReview) -> str:
    if review.sampling == PanelReview.Sampling.RULE:
        return f"By rule: {rule_label(review.sampling_rule).lower()}"
    return str(PanelReview.Sampling(review.sampling).label)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "governance/index.html",
        {
            "panels": selectors.panels_visible_to(user).select_related("organisation"),
            "can_see_performance": user.has_perm("governance.view_performance"),
            "queue_count": selectors.action_plan_review_queue(user).count(),
            "unacknowledged": CpsNotification.objects.filter(
                case__in=Case.objects.visible_to(user), acknowledged_at__isnull=True
            ).count(),
        },
    )


def _step(request: HttpRequest, form: Any, run: Any, done: str) -> bool:
    """Validate a posted form and run its service; True when it succeeded (errors are put on the form)."""
    if not form.is_valid():
        return False
    try:
        run(form)
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return False
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return False
    messages.success(request, done)
    return True


@login_required
def panel_detail(request: HttpRequest, panel_pk: int) -> HttpResponse:
    panel = get_object_or_404(
        selectors.panels_visible_to(request.user).select_related("organisation"), pk=panel_pk
    )
    can_schedule = request.user.has_perm("governance.schedule_meeting", panel)
    form = forms.MeetingForm(request.POST or None)
    if request.method == "POST":
        if not can_schedule:
            raise PermissionDenied(
                "Only the panel's members and its organisation's administrators schedule meetings."
            )
        meeting_box: dict[str, Any] = {}

        def run(f: forms.MeetingForm) -> None:
            meeting_box["m"] = services.panel_meeting_schedule(
                actor=request.user, panel=panel, **f.cleaned_data
            )

        if _step(request, form, run, "Meeting scheduled."):
            return redirect("governance:meeting", meeting_pk=meeting_box["m"].pk)
    meetings = panel.meetings.annotate(n_reviews=Count("reviews")).order_by("-held_on")
    return render(
        request,
        "governance/panel_detail.html",
        {
            "panel": panel,
            "meetings": meetings,
            "form": form,
            "can_schedule": can_schedule,
            "rules": [rule_label(r) for r in selectors.RULES_BY_PANEL_KIND[panel.kind]],
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def meeting_detail(request: HttpRequest, meeting_pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        selectors.meetings_visible_to(request.user).select_related("panel"), pk=meeting_pk
    )
    reviews = list(
        selectors.reviews_visible_to(request.user)
        .filter(meeting=meeting)
        .select_related("case", "case__force")
        .order_by("sampling", "sampling_rule", "pk")
    )
    for review in reviews:
        review.drawn_label = _drawn_label(review)  # type: ignore[attr-defined]
    return render(
        request,
        "governance/meeting_detail.html",
        {
            "meeting": meeting,
            "reviews": reviews,
            "hidden": meeting.reviews.count() - len(reviews),
            "can_sample": meeting.sampled_at is None
            and request.user.has_perm("governance.sample_cases", meeting),
            "rules": [rule_label(r) for r in selectors.RULES_BY_PANEL_KIND[meeting.panel.kind]],
        },
    )


@login_required
@require_POST
def meeting_sample(request: HttpRequest, meeting_pk: int) -> HttpResponse:
    meeting = get_object_or_404(selectors.meetings_visible_to(request.user), pk=meeting_pk)
    try:
        reviews = services.panel_meeting_sample(actor=request.user, meeting=meeting)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{len(reviews)} case{'s' if len(reviews) != 1 else ''} drawn for review.")
    return redirect("governance:meeting", meeting_pk=meeting.pk)


@login_required
def review_detail(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = get_object_or_404(
        selectors.reviews_visible_to(request.user).select_related("case", "case__force", "panel", "meeting"),
        pk=review_pk,
    )
    user = request.user
    can_record = user.has_perm("governance.record_findings", review) and not review.learning_shared
    can_share = user.has_perm("governance.share_learning", review) and not review.learning_shared
    step = request.POST.get("step") if request.method == "POST" else None
    initial = {name: getattr(review, name) for name in PanelReview.FINDINGS}
    initial["learning_points"] = review.learning_points
    findings = forms.FindingsForm(
        request.POST if step == "findings" else None, initial=initial, prefix="findings"
    )
    share = forms.ShareLearningForm(request.POST if step == "share" else None, prefix="share")
    if step == "findings":
        if not can_record:
            raise PermissionDenied("Only the panel's members record its findings.")
        if _step(
            request,
            findings,
            lambda f: services.panel_review_findings_record(actor=user, review=review, **f.service_kwargs()),
            "Findings recorded.",
        ):
            return redirect("governance:review", review_pk=review.pk)
    elif step == "share":
        if not can_share:
            raise PermissionDenied("Only the panel's members share its learning.")
        if _step(
            request,
            share,
            lambda f: services.panel_review_learning_share(actor=user, review=review, **f.cleaned_data),
            "Learning recorded as shared.",
        ):
            return redirect("governance:review", review_pk=review.pk)
    elif step is not None:
        raise Http404("No such step.")
    case = review.case
    return render(
        request,
        "governance/review_detail.html",
        {
            "review": review,
            "case": case,
            "drawn_label": _drawn_label(review),
            "matched_rules": [rule_label(r) for r in review.matched_rules],
            "findings": [
                (
                    forms.FindingsForm.base_fields[n].label or n.replace("_", " ").capitalize(),
                    getattr(review, f"get_{n}_display")(),
                )
                for n in PanelReview.FINDINGS
            ],
            "findings_form": findings,
            "share_form": share,
            "can_record": can_record,
            "can_share": can_share,
            "plans": case.action_plans.select_related("rating").order_by("issued_on"),
            "events": case.events.select_related("actor").order_by("occurred_at", "pk"),
        },
        status=400 if step else 200,
    )


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    cases = (
        selectors.action_plan_review_queue(request.user)
        .select_related("force", "cps_area")
        .annotate(plans=Count("action_plans"))
        .order_by("-plans", "urn")[:500]
    )
    return render(
        request,
        "governance/review_queue.html",
        {"cases": cases, "rule_label": rule_label(SamplingRule.TWO_PLUS_ACTION_PLANS)},
    )


# --------------------------------------------------------------------------------------------------------------
# Action plans: proportionality, escalation, incomplete actions
# --------------------------------------------------------------------------------------------------------------

_PLAN_STEPS = ("rate", "raise", "answer", "resolve", "incomplete")


@login_required
def action_plan_detail(request: HttpRequest, plan_pk: int) -> HttpResponse:
    plan = get_object_or_404(
        ActionPlan.objects.filter(case__in=Case.objects.visible_to(request.user)).select_related(
            "case", "case__force", "decision"
        ),
        pk=plan_pk,
    )
    user, case = request.user, plan.case
    rating = getattr(plan, "rating", None)
    escalations = list(
        plan.escalations.select_related("raised_by", "answered_by", "resolved_by").order_by("pk")
    )
    current = next((e for e in escalations if e.status != ActionPlanEscalation.Status.RESOLVED), None)
    actions = list(plan.actions.order_by("pk"))
    open_actions = [(a.pk, a.description[:80]) for a in actions if a.status != Action.Status.COMPLETED]
    step = request.POST.get("step") if request.method == "POST" else None
    if step is not None and step not in _PLAN_STEPS:
        raise Http404("No such step.")

    def bound(name: str) -> Any:
        return request.POST if step == name else None

    today = ledger.london_today()
    form_set = {
        "rate": forms.RatingForm(bound("rate"), prefix="rate", initial={"on": today}),
        "raise": forms.EscalationRaiseForm(bound("raise"), prefix="raise", initial={"on": today}),
        "answer": forms.EscalationAnswerForm(bound("answer"), prefix="answer", initial={"on": today}),
        "resolve": forms.EscalationResolveForm(bound("resolve"), prefix="resolve", initial={"on": today}),
        "incomplete": forms.IncompleteReasonForm(
            bound("incomplete"), prefix="incomplete", actions=open_actions
        ),
    }
    allowed = {
        "rate": rating is None and user.has_perm("governance.rate_action_plan", case),
        "raise": rating is not None
        and rating.rating == "disproportionate"
        and plan.status == ActionPlan.Status.OPEN
        and current is None
        and user.has_perm("governance.raise_escalation", case),
        "answer": current is not None
        and current.status == ActionPlanEscalation.Status.RAISED
        and user.has_perm("governance.answer_escalation", case),
        "resolve": current is not None
        and current.status == ActionPlanEscalation.Status.ANSWERED
        and user.has_perm("governance.resolve_escalation", case),
        "incomplete": bool(open_actions) and user.has_perm("charging.update_action", case),
    }
    runs = {
        "rate": lambda f: plan_services.action_plan_rate(actor=user, plan=plan, **f.cleaned_data),
        "raise": lambda f: plan_services.action_plan_escalation_raise(
            actor=user, plan=plan, **f.cleaned_data
        ),
        "answer": lambda f: plan_services.action_plan_escalation_answer(
            actor=user, escalation=current, **f.cleaned_data
        ),
        "resolve": lambda f: plan_services.action_plan_escalation_resolve(
            actor=user, escalation=current, **f.cleaned_data
        ),
        "incomplete": lambda f: plan_services.action_incomplete_reason_record(
            actor=user,
            action=Action.objects.get(pk=f.cleaned_data["action"], plan=plan),
            reason=f.cleaned_data["reason"],
            notes=f.cleaned_data["notes"],
        ),
    }
    if step is not None:
        if not allowed[step]:
            raise PermissionDenied("You cannot take this step on this action plan now.")
        if _step(request, form_set[step], runs[step], "Done."):
            return redirect("governance:action_plan", plan_pk=plan.pk)
    return render(
        request,
        "governance/action_plan_detail.html",
        {
            "plan": plan,
            "case": case,
            "rating": rating,
            "escalations": escalations,
            "actions": actions,
            "steps": [(name, form_set[name]) for name in _PLAN_STEPS if allowed[name]],
        },
        status=400 if step else 200,
    )


# --------------------------------------------------------------------------------------------------------------
# The high-harm repeat offender flag
# --------------------------------------------------------------------------------------------------------------


@login_required
def person_flag(request: HttpRequest, person_pk: int) -> HttpResponse:
    visible = Case.objects.visible_to(request.user)
    person = get_object_or_404(Person.objects.filter(cases__in=visible).distinct(), pk=person_pk)
    can_override = request.user.has_perm("governance.override_hhro_flag", person)
    form = forms.OverrideForm(request.POST or None)
    if request.method == "POST":
        if not can_override:
            raise PermissionDenied("Only police supervisors and CPS legal managers override the flag.")
        if _step(
            request,
            form,
            lambda f: services.high_harm_flag_override(
                actor=request.user,
                person=person,
                override=f.cleaned_data["override"] or "",
                justification=f.cleaned_data["justification"],
            ),
            "Override recorded.",
        ):
            return redirect("governance:person_flag", person_pk=person.pk)
    view = selectors.hhro_flags_for_people([person])[person.pk]
    return render(
        request,
        "governance/person_flag.html",
        {
            "person": person,
            "flag": view,
            "cases": visible.filter(suspects=person).select_related("force").order_by("-reported_on"),
            "form": form,
            "can_override": can_override,
            "definition": services.hhro_definition(),
        },
        status=400 if request.method == "POST" else 200,
    )


# --------------------------------------------------------------------------------------------------------------
# Police closures after an action plan, as CPS sees them
# --------------------------------------------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    rows = (
        CpsNotification.objects.filter(case__in=Case.objects.visible_to(request.user))
        .select_related("case", "case__force", "plan", "notified_by", "acknowledged_by")
        .order_by("acknowledged_at", "-notified_at")[:500]
    )
    return render(
        request,
        "governance/notifications.html",
        {"notifications": rows, "can_acknowledge": is_prosecutor.test(request.user)},
    )


@login_required
@require_POST
def notification_acknowledge(request: HttpRequest, notification_pk: int) -> HttpResponse:
    notification = get_object_or_404(
        CpsNotification.objects.filter(case__in=Case.objects.visible_to(request.user)), pk=notification_pk
    )
    try:
        services.cps_notification_acknowledge(actor=request.user, notification=notification)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Acknowledged: case {notification.case.urn}.")
    return redirect("governance:notifications")


# --------------------------------------------------------------------------------------------------------------
# The joint performance dashboard
# --------------------------------------------------------------------------------------------------------------


def _require_performance(request: HttpRequest) -> None:
    if not request.user.has_perm("governance.view_performance"):
        raise PermissionDenied(
            "Performance figures are for supervisors, legal managers, panel members and administrators."
        )


def performance_period(params: Any) -> tuple[datetime.date, datetime.date, forms.PeriodForm | None]:
    """The months asked for (``start`` and ``end`` as YYYY-MM), else the twelve months to this one."""
    end_default = metrics.month_floor(ledger.london_today())
    start_default = metrics.add_months(end_default, -11)
    form = forms.PeriodForm(params, series_choices=[])
    form.fields["series"].required = False
    if params and form.is_valid():
        return (
            form.cleaned_data.get("start") or start_default,
            form.cleaned_data.get("end") or end_default,
            None,
        )
    return start_default, end_default, (form if params and form.errors else None)


class FiguresNotReady(Exception):
    """Nothing computed yet and too many cases to compute on this request: the figures are being prepared."""


def _stored_report(user: Any, start: datetime.date, end: datetime.date) -> metrics.Report:
    """The stored figures the user may see; on a fresh install, computed first (``performance_figures_prepare``)
    or FiguresNotReady."""
    report = metrics.performance_report(start=start, end=end, user=user)
    if not report.ready and tasks.performance_figures_prepare():
        report = metrics.performance_report(start=start, end=end, user=user)
    if not report.ready:
        raise FiguresNotReady
    return report


def visible_report(request: HttpRequest) -> metrics.Report:
    params = {k: v for k, v in request.GET.items() if k in ("start", "end")}
    start, end, errors = performance_period(params)
    if errors is not None:  # each message under its parameter (the API names the field)
        raise ValidationError({name: list(messages) for name, messages in errors.errors.items()})
    return _stored_report(request.user, start, end)


PREPARING = (
    "The performance figures are being prepared: they are computed in the background the first time, which can "
    "take a few minutes for a national data set. Try again shortly."
)


def _series_label(row: metrics.Row) -> str:
    if row.organisation is None:
        return row.label
    return f"{row.label} ({'force' if row.scope == 'force' else 'CPS Area'})"


def _month_label(month: datetime.date | None) -> str:
    return month.strftime("%b %Y") if month else "Whole period"


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    _require_performance(request)
    user = request.user
    params = {k: v for k, v in request.GET.items() if k in ("start", "end")}
    start, end, period_errors = performance_period(params)
    try:
        report = _stored_report(user, start, end)
    except FiguresNotReady:
        return render(
            request,
            "governance/performance_preparing.html",
            {"message": PREPARING, "start": start, "end": end},
        )
    series = report.series()
    choices = [(key, _series_label(next(iter(rows.values())))) for key, rows in series.items()]
    own = ""
    if user.organisation is not None:
        own = f"{'force' if user.organisation.is_force else 'area'}:{user.organisation.code}"
    selected = request.GET.get("series") or (own if own in series else "national")
    if selected not in series:
        selected = "national" if "national" in series else (choices[0][0] if choices else "")
    series_choices = choices or [("national", "—")]
    if period_errors is not None:  # the months as typed, each message at its box and in the error summary
        form = forms.PeriodForm({**params, "series": selected}, series_choices=series_choices)
        form.is_valid()
    else:
        form = forms.PeriodForm(
            initial={"start": start, "end": end, "series": selected}, series_choices=series_choices
        )
    chosen = series.get(selected, {})
    columns: list[datetime.date | None] = [*report.months, None]
    table = [
        (
            m,
            [
                metrics.metric_value_display(m, chosen[c].values.get(m.key)) if c in chosen else "–"
                for c in columns
            ],
        )
        for m in metrics.METRICS
    ]
    reasons = sorted({r for row in chosen.values() for r in row.triage_failures})
    reason_table = [
        (
            metrics.TRIAGE_REASON_LABELS.get(r, r),
            [chosen[c].triage_failures.get(r, 0) if c in chosen else 0 for c in columns],
        )
        for r in reasons
    ]
    compare_keys = [k for k in series if k in ("national", "pilot", "rest")] + [
        k for k in series if k not in ("national", "pilot", "rest")
    ]
    compare = [
        (
            m,
            [
                metrics.metric_value_display(m, series[k][None].values.get(m.key))
                if None in series[k]
                else "–"
                for k in compare_keys
            ],
        )
        for m in metrics.METRICS
    ]
    charts, compare_charts = [], []
    compare_labels = [_series_label(next(iter(series[k].values()))) for k in compare_keys]
    for m in metrics.METRICS:
        if not m.chart:
            continue
        scale = 1.0 if m.unit == "share" else None
        values = [chosen[month].values.get(m.key) if month in chosen else None for month in report.months]
        points = [
            (month.strftime("%b %y"), value, metrics.metric_value_display(m, value))
            for month, value in zip(report.months, values, strict=True)
        ]
        long_labels = [month.strftime("%B %Y") for month in report.months]
        charts.append((m, bar_chart(m.label, points, maximum=scale, long_labels=long_labels)))
        whole = [series[k][None].values.get(m.key) if None in series[k] else None for k in compare_keys]
        compare_charts.append(
            (
                m,
                comparison_chart(
                    m.label,
                    [
                        (label, value, metrics.metric_value_display(m, value))
                        for label, value in zip(compare_labels, whole, strict=True)
                    ],
                    maximum=scale,
                ),
            )
        )
    return render(
        request,
        "governance/performance.html",
        {
            "form": form,
            "period_errors": period_errors,
            "report": report,
            "selected_label": dict(choices).get(selected, ""),
            "columns": [_month_label(c) for c in columns],
            "table": table,
            "reason_table": reason_table,
            "compare_labels": compare_labels,
            "compare": compare,
            "charts": charts,
            "compare_charts": compare_charts,
            "query": request.GET.urlencode(),
            "metrics": metrics.METRICS,
        },
    )


@login_required
def performance_csv(request: HttpRequest) -> HttpResponse:
    _require_performance(request)
    try:
        report = visible_report(request)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    except FiguresNotReady:
        response = HttpResponse(PREPARING, status=503, content_type="text/plain")
        response["Retry-After"] = "60"
        return response
    reasons = sorted({r for row in report.rows for r in row.triage_failures})
    return csv_response(
        f"joint-performance-{report.start:%Y-%m}-to-{report.end:%Y-%m}.csv",
        ["scope", "organisation_code", "organisation", "month", *metrics.METRIC_KEYS]
        + [f"triage_failure:{r}" for r in reasons],
        (
            [
                row.scope,
                row.organisation.code if row.organisation else "",
                row.label,
                row.month.strftime("%Y-%m") if row.month else "period",
                *["" if row.values.get(k) is None else row.values[k] for k in metrics.METRIC_KEYS],
                *[row.triage_failures.get(r, 0) for r in reasons],
            ]
            for row in report.rows
        ),
    )


def report_as_json(report: metrics.Report) -> dict[str, Any]:
    """The figures as JSON (the same as the page and the CSV)."""
    return {
        "period": {"start": f"{report.start:%Y-%m}", "end": f"{report.end:%Y-%m}"},
        "figures_as_of": report.as_of.isoformat() if report.as_of else None,
        "withdrawals_available": report.withdrawals_available,
        "metrics": [
            {"key": m.key, "label": m.label, "unit": m.unit, "definition": m.definition}
            for m in metrics.METRICS
        ],
        "rows": [
            {
                "scope": row.scope,
                "organisation": (
                    {"code": row.organisation.code, "name": row.organisation.name}
                    if row.organisation
                    else None
                ),
                "month": row.month.strftime("%Y-%m") if row.month else None,
                "values": {k: row.values.get(k) for k in metrics.METRIC_KEYS},
                "triage_failures": dict(sorted(row.triage_failures.items())),
            }
            for row in report.rows
        ],
    }
