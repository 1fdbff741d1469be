"""Signing in and accounting for reads.

Sign-in is a password (django-axes counts the failures and locks a username out), then, where the deployment
requires it (``JJP_REQUIRE_2FA``) or the user has set one up, a code from an authenticator app (TOTP, django-otp).
``SecondFactorMiddleware`` keeps a user who has passed the password but not the code on the sign-in steps, on
every page, the admin and the API included; API clients with a bearer token are not session users and are not
affected.

The auditor's pages search and export the read log (``cases/access_log.py``); every search and export is itself
logged.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from cases import access_log
from cases.csv_export import csv_response
from cases.forms import DateInput, GovukFormMixin, LoginForm
from workspace import auditor

# The session remembers, for this user, that they have no authenticator app (so pages cost no query to check).
SESSION_NO_DEVICE = "jjp_2fa_no_device"
# The secret of an authenticator app being set up, until the user confirms it with a code.
SESSION_SETUP_KEY = "jjp_2fa_setup_key"

# --------------------------------------------------------------------------------------------------------------
# The second factor: which step a signed-in user still has to take, and the middleware that holds them there
# --------------------------------------------------------------------------------------------------------------


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def _verified(user: Any) -> bool:
    """Passed the second factor in this session (django-otp's middleware adds ``is_verified``; a user just signed
    in by the password view has not)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def second_factor_step(request: HttpRequest) -> str | None:
    """``"verify"`` (enter the code of the app already set up), ``"setup"`` (set an app up: the deployment
    requires a second factor and the user has none) or None (nothing more to do)."""
    user = request.user
    if not user.is_authenticated or _verified(user):
        return None
    required = settings.JJP_REQUIRE_2FA
    if not required and request.session.get(SESSION_NO_DEVICE) == user.pk:
        return None
    if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        return "verify"
    if required:
        return "setup"
    request.session[SESSION_NO_DEVICE] = user.pk
    return None


def _step_url(step: str, next_url: str) -> str:
    return f"{reverse('otp_' + step)}?{urlencode({'next': next_url})}"


class SecondFactorMiddleware:
    """Sends a signed-in user who still has a second-factor step to take to that step, from every page except
    the sign-in steps themselves, signing out and static files. The API answers 403 in its error shape instead.
    A request with a bearer token is the API client's, not the session's: DRF authenticates it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._exempt(request):
            step = second_factor_step(request)
            if step is not None:
                return self._refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        path = request.path_info
        if path.startswith(settings.STATIC_URL):
            return True
        if path in {reverse(name) for name in ("login", "logout", "otp_verify", "otp_setup")}:
            return True
        auth = request.META.get("HTTP_AUTHORIZATION", "")
        return path.startswith("/api/") and auth[:7].lower() == "bearer "

    @staticmethod
    def _refuse(request: HttpRequest, step: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            message = "Finish signing in with the code from your authenticator app first."
            return JsonResponse({"errors": [{"field": None, "message": message}]}, status=403)
        url = _step_url(step, request.get_full_path() if request.method == "GET" else resolve_url("home"))
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)


# --------------------------------------------------------------------------------------------------------------
# Views: password, code, setting up an app
# --------------------------------------------------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    """The page to go on to: ``next`` if it is on this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class SignInView(auth_views.LoginView):
    """The password step. django-axes (its backend comes first) refuses a locked-out username and counts each
    failure; on success the user goes on to the code step when they have one to take."""

    template_name = "registration/login.html"
    authentication_form = LoginForm

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        step = second_factor_step(self.request)
        if step is not None:
            return HttpResponseRedirect(_step_url(step, self.get_success_url()))
        _signed_in(self.request, self.request.user)
        return response


class CodeForm(GovukFormMixin, forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        help_text="The 6 digits the app shows now.",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "govuk-input govuk-input--width-5",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return code


def _credentials(user: Any) -> dict[str, str]:
    return {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The lockout page (``AXES_LOCKOUT_CALLABLE``): which username, and how long to wait. 429."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or {}).get(field) or request.POST.get(field, "")
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if isinstance(cool_off, datetime.timedelta) else None
    context = {"username": str(username)[:150], "minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


def _lockout(request: HttpRequest, user: Any) -> HttpResponse:
    """Sign the user out and show the lockout page (the same page a locked-out password attempt gets)."""
    credentials = _credentials(user)
    auth_logout(request)
    return lockout_response(request, None, credentials)


def _locked(request: HttpRequest, user: Any) -> bool:
    return bool(settings.AXES_ENABLED) and AxesProxyHandler.is_locked(request, _credentials(user))


def _signed_in(request: HttpRequest, user: Any) -> None:
    """Sign-in complete (password, and code where one is needed): the failures counted so far are forgotten. Not
    at the password step when a code follows, or four wrong codes and a new password sign-in could go on for ever
    (so ``AXES_RESET_ON_SUCCESS`` is off)."""
    if settings.AXES_ENABLED:
        AxesProxyHandler.reset_attempts(username=user.get_username())


def _code_failed(request: HttpRequest, user: Any) -> None:
    """A wrong code counts as a failed sign-in for the username, like a wrong password."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


@never_cache
@sensitive_post_parameters("code")
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The code step for a user who has an authenticator app."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    next_url = _next_url(request)
    if _verified(user):
        return redirect(next_url)
    device = _confirmed_device(user)
    if device is None:
        return redirect(_step_url("setup", next_url))
    if _locked(request, user):
        return _lockout(request, user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _why = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            _signed_in(request, user)
            return redirect(next_url)
        _code_failed(request, user)
        if _locked(request, user):
            return _lockout(request, user)
        form.add_error(
            "code",
            "That code is not right, or came too soon after a wrong one. Wait for the next code and try again."
            if allowed
            else "Too many wrong codes: wait a few seconds for the next code and try again.",
        )
    return render(request, "registration/otp_verify.html", {"form": form, "next": next_url})


def _qr_svg(data: str) -> SafeString:
    """The QR code as inline SVG (paths only: no script, no style attribute), labelled for screen readers."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    svg = svg.replace("<svg ", '<svg class="jjp-qr" role="img" aria-label="QR code to scan" ', 1)
    return mark_safe(svg)  # noqa: S308 - generated here from our own data, no user text in the markup


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _totp_matches(key: str, code: str) -> int | None:
    """The time step at which ``code`` is valid for ``key`` (one step either side), or None."""
    totp = TOTP(binascii.unhexlify(key.encode()), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    return totp.t() if totp.verify(int(code), tolerance=1) else None


@never_cache
@sensitive_post_parameters("code")
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), then confirm with a code. Nothing is
    saved until the code matches. A user who already has an app is sent to the code step; replacing a lost app
    is an administrator's job (admin: TOTP devices, delete the old one)."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    next_url = _next_url(request)
    if _confirmed_device(user) is not None:
        if _verified(user):
            messages.info(request, "You have already set up an authenticator app.")
            return redirect(next_url)
        return redirect(_step_url("verify", next_url))
    key = request.session.get(SESSION_SETUP_KEY)
    if not (isinstance(key, str) and re.fullmatch(r"[0-9a-f]{40}", key)):
        key = random_hex(20)
        request.session[SESSION_SETUP_KEY] = key
    device = TOTPDevice(user=user, name="Authenticator app", key=key, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = _totp_matches(key, form.cleaned_data["code"])
        if step is not None:
            with transaction.atomic():
                if _confirmed_device(user) is None:
                    device.confirmed = True
                    device.last_t = step
                    device.save()
                else:
                    device = _confirmed_device(user)  # set up meanwhile in another tab
            del request.session[SESSION_SETUP_KEY]
            request.session.pop(SESSION_NO_DEVICE, None)
            otp_login(request, device)
            _signed_in(request, user)
            messages.success(
                request, "Your authenticator app is set up. You will need a code each time you sign in."
            )
            return redirect(next_url)
        _code_failed(request, user)
        if _locked(request, user):
            return _lockout(request, user)
        form.add_error(
            "code", "That code does not match. Check the app shows Joint Justice and try the next code."
        )
    secret = base64.b32encode(binascii.unhexlify(key)).decode()
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": _qr_svg(device.config_url),
        "secret": _grouped(secret),
        "required": settings.JJP_REQUIRE_2FA,
    }
    return render(request, "registration/otp_setup.html", context)


# --------------------------------------------------------------------------------------------------------------
# The access log, for auditors
# --------------------------------------------------------------------------------------------------------------

PAGE_SIZE = 50


class AccessLogSearchForm(GovukFormMixin, forms.Form):
    username = forms.CharField(label="User (username)", required=False, max_length=150)
    urn = forms.CharField(label="Case URN", required=False, max_length=20)
    date_from = forms.DateField(label="From (date)", required=False, widget=DateInput)
    date_to = forms.DateField(label="To (date)", required=False, widget=DateInput)
    source = forms.ChoiceField(
        label="Which log",
        required=False,
        choices=[("", "Both"), *access_log.SOURCES.items()],
    )
    purpose = forms.CharField(
        label="Why you are searching",
        required=False,
        max_length=300,
        help_text="Recorded with your search, like every read of the log.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def log_query(self) -> auditor.LogQuery:
        data = self.cleaned_data
        return auditor.LogQuery(
            username=data["username"].strip(),
            urn=data["urn"].strip().upper(),
            date_from=data["date_from"],
            date_to=data["date_to"],
            source=data["source"],
        )


def _auditor(request: HttpRequest) -> None:
    if not access_log.can_audit(request.user):
        raise PermissionDenied("The access log is for auditors.")


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "what_label": auditor.what_label(row["e_what"]),
        "source_label": access_log.SOURCES[row["e_source"]],
    }


@login_required
@require_GET
def access_log_search(request: HttpRequest) -> HttpResponse:
    """Search the read log and the confidential address log (by user, case URN, dates); each search is logged."""
    _auditor(request)
    form = AccessLogSearchForm(request.GET)
    page = None
    if form.is_valid():
        query = form.log_query()
        access_log.record(
            request,
            what=access_log.AccessLog.What.LOG_SEARCHED,
            description=query.describe(),
            object_model="cases.accesslog",
            purpose=form.cleaned_data["purpose"],
        )
        page = Paginator(auditor.log_entries(request.user, query), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        page.object_list = [_entry(row) for row in page.object_list]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "security/access_log.html",
        {"form": form, "page": page, "querystring": params.urlencode()},
        status=200 if form.is_valid() else 400,
    )


EXPORT_COLUMNS = (
    ("When (London)", lambda r: timezone.localtime(r["e_at"]).isoformat(timespec="seconds")),
    ("Log", lambda r: access_log.SOURCES[r["e_source"]]),
    ("Username", lambda r: r["e_username"]),
    ("Name", lambda r: r["e_user_name"].strip()),
    ("Organisation", lambda r: r["e_organisation"]),
    ("Case URN", lambda r: r["e_urn"]),
    ("Force", lambda r: r["e_force"]),
    ("What", lambda r: auditor.what_label(r["e_what"])),
    ("Description", lambda r: r["e_description"]),
    ("IP address", lambda r: r["e_ip"]),
    ("X-Forwarded-For", lambda r: r["e_forwarded_for"]),
    ("Browser", lambda r: r["e_user_agent"]),
    ("Address read", lambda r: r["e_path"]),
    ("API client", lambda r: r["e_client"]),
    ("Purpose", lambda r: r["e_purpose"]),
)


@login_required
@require_GET
def access_log_export(request: HttpRequest) -> HttpResponse:
    """The same search as CSV, every matching entry; the export is logged."""
    _auditor(request)
    form = AccessLogSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "security/access_log.html", {"form": form, "page": None}, status=400)
    query = form.log_query()
    access_log.record(
        request,
        what=access_log.AccessLog.What.LOG_EXPORTED,
        description=query.describe().replace("Search", "Export", 1),
        object_model="cases.accesslog",
        purpose=form.cleaned_data["purpose"],
    )
    rows = auditor.log_entries(request.user, query)
    today = timezone.localdate().isoformat()
    return csv_response(
        f"access-log-{today}.csv",
        [header for header, _ in EXPORT_COLUMNS],
        ([value(row) for _, value in EXPORT_COLUMNS] for row in rows.iterator(chunk_size=500)),
    )
