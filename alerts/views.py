"""Web pages for a person's own email settings and calendar feeds, and the feed itself. Thin: each write calls
one service; the feed lists only what ``alerts.engine.clocks_for`` allows (behind the access gate)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from cases.forms import apply_service_errors
from cases.models import CalendarFeed

from . import calendar as feeds
from . import engine as alerts


class PreferencesForm(forms.Form):
    digest_enabled = forms.BooleanField(
        required=False,
        label="Daily digest",
        help_text="One email on working days at 07:00 with your deadlines that are overdue, due today or due soon.",
    )
    immediate_enabled = forms.BooleanField(
        required=False,
        label="Overdue alerts",
        help_text="An email as soon as a charging decision or charge deadline passes. Alerts about statutory "
        "time limits and escalations are always sent.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if alerts.digest_required(user.roles or ()):
            field = self.fields["digest_enabled"]
            field.disabled = True
            field.help_text = "Officers in charge always get the daily digest of their cases' deadlines."


def _initial(user) -> dict[str, bool]:
    digest_on, immediate_on = alerts.preferences_of(user)
    return {
        "digest_enabled": digest_on or alerts.digest_required(user.roles or ()),
        "immediate_enabled": immediate_on,
    }


def _page(
    request: HttpRequest, form: PreferencesForm, *, new_feed_url: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "alerts/preferences.html",
        {
            "form": form,
            "feeds": CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).order_by(
                "-created_at"
            ),
            "new_feed_url": new_feed_url,
        },
        status=status,
    )


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, initial=_initial(request.user), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            alerts.notification_preference_set(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Email settings saved.")
            return redirect("alert_preferences")
    return _page(request, form, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def calendar_feed_new(request: HttpRequest) -> HttpResponse:
    _feed, token = feeds.calendar_feed_create(actor=request.user)
    url = settings.SITE_URL.rstrip("/") + reverse("calendar_feed", args=[token])
    form = PreferencesForm(initial=_initial(request.user), user=request.user)
    response = _page(request, form, new_feed_url=url)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def calendar_feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        feeds.calendar_feed_revoke(actor=request.user, feed_id=pk)
    except ValidationError as exc:
        raise Http404("No such calendar feed.") from exc
    messages.success(request, "Calendar feed revoked: its address no longer works.")
    return redirect("alert_preferences")


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no sign-in (calendar apps cannot), the secret token is the key. Unknown or revoked: 404."""
    feed = feeds.calendar_feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    response = HttpResponse(feeds.calendar_feed_text(feed), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="jjp-deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
