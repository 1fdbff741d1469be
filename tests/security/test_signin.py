"""Sign-in controls: the second factor (TOTP) where required or set up, the lockout after repeated failures, and
sessions that end after inactivity. Real views, real middleware, real django-axes and django-otp."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from api.clients import api_client_create
from cases.models import Role
from jjp.auth_views import SESSION_SETUP_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"  # tests.factories.UserFactory's
LONDON = zoneinfo.ZoneInfo("Europe/London")
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def controls_on(settings):
    """The controls as a deployment has them (whatever tests/conftest.py sets for other tests), over plain HTTP."""
    settings.AXES_ENABLED = True
    settings.JJP_REQUIRE_2FA = True
    settings.SECURE_SSL_REDIRECT = False
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's growing delay between codes is not under test here


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def user(force_a):
    return UserFactory(organisation=force_a, roles=[Role.OIC], username="signin-oic")


def code_for(key_hex: str, at: datetime.datetime | None = None) -> str:
    totp = TOTP(binascii.unhexlify(key_hex))
    totp.time = (at or datetime.datetime.now(tz=LONDON)).timestamp()
    return f"{totp.token():06d}"


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in(client, username: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def signed_in(client) -> bool:
    return client.get(reverse("case_list")).status_code == 200


# --------------------------------------------------------------------------------------------------------------
# Where the second factor is required, and where it is not
# --------------------------------------------------------------------------------------------------------------


def _settings_with(env: dict[str, str]) -> dict:
    """Some settings as a fresh process computes them from this environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JJP_", "DJANGO_"))}
    base.update(DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jjp"), **env)
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('JJP_REQUIRE_2FA', 'SECURE_SSL_REDIRECT', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_AGE', "
        "'SESSION_SAVE_EVERY_REQUEST', 'AXES_FAILURE_LIMIT', 'AXES_LOCKOUT_PARAMETERS')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "jjp.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_second_factor_is_required_by_default_outside_the_local_run_only():
    production = _settings_with({"DJANGO_SECRET_KEY": "x" * 60})
    local = _settings_with({"JJP_LOCAL_RUN": "1"})
    debug = _settings_with({"DJANGO_DEBUG": "1"})
    switched_off = _settings_with({"DJANGO_SECRET_KEY": "x" * 60, "JJP_REQUIRE_2FA": "0"})
    assert production["JJP_REQUIRE_2FA"] is True
    assert local["JJP_REQUIRE_2FA"] is False and debug["JJP_REQUIRE_2FA"] is False
    assert switched_off["JJP_REQUIRE_2FA"] is False
    assert production["SECURE_SSL_REDIRECT"] and production["SESSION_COOKIE_SECURE"]
    assert production["CSRF_COOKIE_SECURE"] and production["SECURE_HSTS_SECONDS"] == 31536000
    assert not local["SECURE_SSL_REDIRECT"] and local["SECURE_HSTS_SECONDS"] == 0
    assert production["SESSION_COOKIE_AGE"] == 30 * 60 and production["SESSION_SAVE_EVERY_REQUEST"]
    assert production["AXES_FAILURE_LIMIT"] == 5 and production["AXES_LOCKOUT_PARAMETERS"] == ["username"]


def test_local_run_signs_in_with_the_password_alone(client, settings, user):
    settings.JJP_REQUIRE_2FA = False
    response = sign_in(client, user.username, next_url="/cases/")
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert signed_in(client)
    assert client.get("/admin/").status_code in (200, 302)  # not sent to a code step


def test_local_run_still_asks_for_the_code_of_a_user_who_set_up_an_app(client, settings, user, clock):
    settings.JJP_REQUIRE_2FA = False
    device = device_for(user)
    response = sign_in(client, user.username)
    assert response.status_code == 302 and response["Location"].startswith(reverse("otp_verify"))
    assert not signed_in(client)
    client.post(reverse("otp_verify"), {"code": code_for(device.key)})
    assert signed_in(client)


def test_required_and_no_app_forces_set_up_before_any_page(client, user, clock):
    response = sign_in(client, user.username, next_url="/cases/")
    assert response.status_code == 302
    assert response["Location"] == reverse("otp_setup") + "?next=%2Fcases%2F"
    # Every page, the admin and the API (session) wait until the app is set up.
    for path in ("/", "/cases/", "/admin/", "/security/access-log/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith(reverse("otp_setup")), path
    api = client.get("/api/v1/cases/")
    assert api.status_code == 403 and "authenticator app" in api.json()["errors"][0]["message"]

    setup = client.get(response["Location"])
    body = setup.content.decode()
    assert setup.status_code == 200
    main = body.split('id="main-content">')[1].split("</main>")[0]
    assert "<svg " in main and 'role="img"' in main and "<script" not in main and "style=" not in main
    key = client.session[SESSION_SETUP_KEY]
    secret = body.split('id="otp-secret">')[1].split("<")[0].replace(" ", "")
    assert binascii.hexlify(base64.b32decode(secret)).decode() == key
    assert not TOTPDevice.objects.filter(user=user).exists(), "nothing saved before the code is confirmed"

    wrong = client.post(reverse("otp_setup") + "?next=/cases/", {"code": "000000", "next": "/cases/"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()

    done = client.post(reverse("otp_setup"), {"code": code_for(key), "next": "/cases/"})
    assert done.status_code == 302 and done["Location"] == "/cases/"
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == key
    assert signed_in(client) and client.get("/api/v1/cases/").status_code == 200

    # Next time: password, then the code (the set-up page is not offered again).
    client.post(reverse("logout"))
    clock.shift(datetime.timedelta(minutes=1))
    assert sign_in(client, user.username)["Location"].startswith(reverse("otp_verify"))
    assert client.get(reverse("otp_setup"))["Location"].startswith(reverse("otp_verify"))


def test_required_with_an_app_asks_for_the_code(client, user, clock):
    device = device_for(user)
    response = sign_in(client, user.username, next_url="/cases/")
    assert response["Location"] == reverse("otp_verify") + "?next=%2Fcases%2F"
    assert client.get("/cases/")["Location"].startswith(reverse("otp_verify"))
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()

    wrong = client.post(reverse("otp_verify"), {"code": "12345", "next": "/cases/"})
    assert "Enter the 6 digits" in wrong.content.decode()
    stale = code_for(device.key, START - datetime.timedelta(minutes=5))
    assert "not right" in client.post(reverse("otp_verify"), {"code": stale}).content.decode()
    assert not signed_in(client)

    ok = client.post(reverse("otp_verify"), {"code": code_for(device.key), "next": "/cases/"})
    assert ok.status_code == 302 and ok["Location"] == "/cases/"
    assert signed_in(client)


def test_a_code_is_accepted_once(client, user, clock):
    device = device_for(user)
    sign_in(client, user.username)
    code = code_for(device.key)
    client.post(reverse("otp_verify"), {"code": code})
    assert signed_in(client)
    other = type(client)()
    sign_in(other, user.username)
    replay = other.post(reverse("otp_verify"), {"code": code})
    assert replay.status_code == 200 and not signed_in(other), "a code seen once cannot sign in again"


def test_the_next_address_must_be_on_this_site(client, settings, user):
    settings.JJP_REQUIRE_2FA = False
    response = sign_in(client, user.username, next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_admin_needs_the_code_too(client, user, clock):
    user.is_staff = True
    user.save()
    device = device_for(user)
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith(reverse("otp_verify"))
    client.post(reverse("otp_verify"), {"code": code_for(device.key)})
    assert client.get("/admin/").status_code == 200


def test_api_token_clients_are_not_asked_for_a_code(client, force_a):
    _client, token = api_client_create(force_code=force_a.code, name="GMP Records", scope="read")
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content


def test_pages_cost_no_query_for_the_second_factor_once_checked(client, settings, user):
    settings.JJP_REQUIRE_2FA = False
    client.force_login(user)
    client.get("/cases/")  # first page: one look for an app, remembered in the session
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/cases/").status_code == 200
    assert not [q for q in ctx.captured_queries if "otp_totp" in q["sql"]]


# --------------------------------------------------------------------------------------------------------------
# Lockout
# --------------------------------------------------------------------------------------------------------------


def test_five_failed_passwords_lock_the_username_for_30_minutes(client, settings, user, oic_b, clock):
    settings.JJP_REQUIRE_2FA = False
    for attempt in range(1, 5):
        response = sign_in(client, user.username, "wrong-password")
        assert response.status_code == 200 and "not right" in response.content.decode(), attempt
    fifth = sign_in(client, user.username, "wrong-password")
    assert fifth.status_code == 429
    body = fifth.content.decode()
    assert "Sign-in locked" in body and user.username in body and "30 minutes" in body

    assert sign_in(client, user.username).status_code == 429, "locked even with the right password"
    assert not signed_in(client)
    assert sign_in(type(client)(REMOTE_ADDR="10.9.8.7"), user.username).status_code == 429, "from anywhere"
    assert sign_in(type(client)(), oic_b.username).status_code == 302, "other users are not locked"

    clock.shift(datetime.timedelta(minutes=29))
    assert sign_in(client, user.username).status_code == 429
    clock.shift(datetime.timedelta(minutes=31))  # 31 minutes after the last attempt
    assert sign_in(client, user.username).status_code == 302
    assert signed_in(client)


def test_a_complete_sign_in_forgets_earlier_failures(client, settings, user, clock):
    settings.JJP_REQUIRE_2FA = False
    for _ in range(4):
        sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert sign_in(client, user.username, "wrong-password").status_code == 200
    assert sign_in(client, user.username).status_code == 302


def test_wrong_codes_count_towards_the_lockout_and_sign_the_user_out(client, user, clock):
    """Two wrong passwords, the right one, then three wrong codes: five failures. The right password does not
    wipe the count while a code is still owed, or wrong codes could be tried for ever, four at a time."""
    device = device_for(user)
    sign_in(client, user.username, "wrong-password")
    sign_in(client, user.username, "wrong-password")
    assert sign_in(client, user.username)["Location"].startswith(reverse("otp_verify"))
    assert client.post(reverse("otp_verify"), {"code": "000000"}).status_code == 200
    assert client.post(reverse("otp_verify"), {"code": "000001"}).status_code == 200
    locked = client.post(reverse("otp_verify"), {"code": "000002"})
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
    assert client.get("/cases/")["Location"].startswith(reverse("login")), "signed out"
    assert sign_in(client, user.username).status_code == 429
    clock.shift(datetime.timedelta(minutes=31))
    assert sign_in(client, user.username)["Location"].startswith(reverse("otp_verify"))
    client.post(reverse("otp_verify"), {"code": code_for(device.key)})
    assert signed_in(client)


# --------------------------------------------------------------------------------------------------------------
# Sessions end after inactivity
# --------------------------------------------------------------------------------------------------------------


def test_session_ends_after_30_minutes_without_a_request(client, settings, user, clock):
    settings.JJP_REQUIRE_2FA = False
    response = sign_in(client, user.username)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["max-age"], "a browser-session cookie: it ends when the browser closes"
    # Active: each request pushes the end on, so a long working session goes on.
    for _ in range(4):
        clock.shift(datetime.timedelta(minutes=25))
        assert signed_in(client)
    # Idle for 31 minutes: signed out.
    clock.shift(datetime.timedelta(minutes=31))
    page = client.get(reverse("case_list"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


def test_idle_limit_is_a_setting(client, settings, user, clock):
    settings.JJP_REQUIRE_2FA = False
    settings.SESSION_COOKIE_AGE = 10 * 60
    sign_in(client, user.username)
    clock.shift(datetime.timedelta(minutes=9))
    assert signed_in(client)
    clock.shift(datetime.timedelta(minutes=11))
    assert not signed_in(client)


def test_the_sign_in_records_are_read_only_in_the_admin_and_kept_when_a_lockout_is_lifted(
    client, user, clock, django_user_model
):
    """Before: django-axes' own admin pages let a superuser edit and delete the attempts and both logs."""
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as SignInLog
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    from cases import signin_admin

    for _ in range(5):
        sign_in(client, user.username, "wrong-password-123")
    operator = django_user_model.objects.create_superuser("operator", "op@example.invalid", PASSWORD)
    request = RequestFactory().get("/admin/")
    request.user = operator
    for model in (AccessAttempt, SignInLog, AccessFailureLog):
        model_admin = admin.site._registry[model]
        assert model_admin.__class__.__module__ == "cases.signin_admin"
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
        assert "delete_selected" not in model_admin.get_actions(request)
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 5
    assert AccessFailureLog.objects.filter(username=user.username).count() == 5
    # Lifting the lockout clears the count (the user can sign in again) and keeps every failure in the log.
    request.session = {}
    request._messages = FallbackStorage(request)
    attempts = admin.site._registry[AccessAttempt]
    assert isinstance(attempts, signin_admin.SignInAttemptAdmin)
    attempts.lift_lockout(request, AccessAttempt.objects.filter(username=user.username))
    assert not AccessAttempt.objects.exists()
    assert AccessFailureLog.objects.filter(username=user.username).count() == 5
    assert sign_in(client, user.username).status_code == 302, "no longer locked: on to the code step"
    # Someone who may not change users is not offered the action.
    request.user = UserFactory(organisation=user.organisation, roles=[Role.ADMINISTRATOR], username="adm")
    assert "lift_lockout" not in attempts.get_actions(request)
