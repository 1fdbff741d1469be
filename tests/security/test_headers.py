"""Production settings and response headers: ``manage.py check --deploy`` is clean with production environment
values; pages and the API send the content security policy, HSTS (over HTTPS), frame, referrer and nosniff
headers; cookies are Secure, HttpOnly and SameSite; no template carries inline script or style."""

from __future__ import annotations

import inspect
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from api.clients import api_client_create
from tests.security.test_access_matrix import world  # noqa: F401  (the fixture: the matrix's cases)

ROOT = Path(__file__).resolve().parents[2]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains; preload"


def _directives(header: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.strip() for part in (p.strip() for p in header.split(";")) if part}


# --------------------------------------------------------------------------------------------------------------
# manage.py check --deploy
# --------------------------------------------------------------------------------------------------------------


def _check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py check --deploy --fail-level WARNING`` in a fresh process, with a production environment: no
    local-run or debug switches, a long random secret key, and ``env`` on top."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JJP_", "DJANGO_"))}
    base.update(
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jjp"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="jjp.example.gov.uk",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://jjp.example.gov.uk",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_catches_a_weakened_deployment():
    """The same check fails when HSTS is off and the session cookie may travel over HTTP: it is not vacuous."""
    result = _check_deploy(DJANGO_SECURE_HSTS_SECONDS="0", DJANGO_SESSION_COOKIE_SECURE="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W012" in result.stderr


def test_a_malformed_proxy_header_setting_fails_loudly():
    result = _check_deploy(DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.returncode != 0 and "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr


# --------------------------------------------------------------------------------------------------------------
# Response headers
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def production(settings):
    """The HTTPS settings a deployment has (tests otherwise run over plain HTTP)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.JJP_REQUIRE_2FA = (
        False  # signed in with force_login below: the second factor is tested elsewhere
    )


def _assert_hardened(response) -> None:
    assert _directives(response["Content-Security-Policy"]) == _directives(CSP)
    assert response["Strict-Transport-Security"] == HSTS
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_send_the_security_headers(client, production, oic_a):
    login = client.get("/login/", secure=True)
    assert login.status_code == 200
    _assert_hardened(login)
    csrf = login.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    client.force_login(oic_a)
    page = client.get("/cases/", secure=True)
    assert page.status_code == 200
    _assert_hardened(page)
    session = page.cookies["sessionid"]  # saved on every request: the idle timeout moves on
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_without_hsts(client, production):
    response = client.get("/login/?next=/cases/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/?next=/cases/"
    assert "Strict-Transport-Security" not in response


@pytest.mark.django_db
def test_the_api_sends_the_security_headers(client, production, force_a):
    _client, token = api_client_create(force_code=force_a.code, name="GMP Records", scope="read")
    response = client.get("/api/v1/cases/", secure=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    _assert_hardened(response)
    assert "Set-Cookie" not in response, "a token client gets no session"


# --------------------------------------------------------------------------------------------------------------
# No inline script or style in any page template
# --------------------------------------------------------------------------------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]
EMAIL_TEMPLATES = "alerts/email/"  # emails carry their styles inline: mail programs ignore style sheets


def _page_templates() -> list[Path]:
    roots = [ROOT / "templates", *ROOT.glob("*/templates")]
    found = [p for root in roots for p in root.rglob("*.html") if EMAIL_TEMPLATES not in p.as_posix()]
    return sorted(p for p in found if ".venv" not in p.parts and "node_modules" not in p.parts)


def test_no_template_has_inline_script_or_style():
    templates = _page_templates()
    assert len(templates) > 30
    problems = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert not problems, "\n".join(problems)


def _docs_fixed() -> bool:
    import jjp.api_urls

    return "SpectacularSwaggerSplitView" in inspect.getsource(jjp.api_urls)


@pytest.mark.django_db
@pytest.mark.xfail(
    not _docs_fixed(),
    reason="jjp/api_urls.py still serves Swagger UI with its inline start-up script (docs/security.md, 'Headers')",
    strict=True,
)
def test_api_documentation_pages_work_under_the_policy(client, settings, oic_a):
    """Swagger UI loads its start-up script from this site; Redoc, which writes its styles at run time, gets
    inline styles on its own page and nothing else. (Checked in Chromium: both render; docs/security.md.)"""
    settings.JJP_REQUIRE_2FA = False
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(oic_a)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", docs.content.decode())
    assert _directives(docs["Content-Security-Policy"]) == _directives(CSP)
    redoc = client.get("/api/redoc/")
    directives = _directives(redoc["Content-Security-Policy"])
    assert redoc.status_code == 200 and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", redoc.content.decode())
    assert directives["style-src"] == "style-src 'self' 'unsafe-inline'"
    assert directives["script-src"] == "script-src 'self'"


# --------------------------------------------------------------------------------------------------------------
# Personal data is never cached: Cache-Control: no-store across the access matrix's routes (issue 21)
# --------------------------------------------------------------------------------------------------------------


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_every_route_of_the_access_matrix_sends_no_store(client, settings, world):  # noqa: F811
    """Before: the case page, the victims page, exports and API answers sent no Cache-Control at all. Every case
    route (for the user's own case), every list, export and dashboard, and the API as a token client: each answer
    says no-store. The calendar feed keeps its own ('private, no-store'), pages marked never_cache keep Django's."""
    from cases.models import Role
    from tests.factories import UserFactory
    from tests.security import test_access_matrix as matrix

    settings.JJP_REQUIRE_2FA = False
    settings.SECURE_SSL_REDIRECT = False
    user = UserFactory(organisation=world["A"], roles=[Role.OIC], username="nostore-oic")
    world["own"].restricted_to.add(user)
    client.force_login(user)
    # A page's own error is the matrix's business; its headers are ours.
    client.raise_request_exception = False
    urls = [matrix._url(route, world["own"]) for route in matrix.case_routes()]
    for route in matrix.list_routes():
        combos = [{}]
        for key in route.kwargs:
            combos = [{**c, key: v} for c in combos for v in matrix.PER_USER_KWARGS[key]()]
        urls += [matrix._fill(route, values) for values in combos]
    checked, missing = 0, []
    for url in urls:
        if url == "/logout/":
            continue
        response = client.get(url)
        checked += 1
        if response.status_code < 500 and not _no_store(response):
            missing.append(f"GET {url} -> {response.status_code} {response.get('Cache-Control')!r}")
    assert not missing, "\n".join(missing)
    assert checked >= len(matrix.case_routes()) + len(matrix.list_routes())
    page = client.get(f"/cases/{world['own'].pk}/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store" and page["Pragma"] == "no-cache"
    # A view's own header is kept: never_cache on the address page.
    victim = world["own"].victims.first()
    assert "must-revalidate" in client.get(f"/victims/{victim.pk}/address/")["Cache-Control"]
    _client, token = api_client_create(force_code="GMP", name="GMP Records", scope="read")
    for url in ("/api/v1/cases/", f"/api/v1/cases/{world['own'].urn}/", "/api/v1/nothing-here/"):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert _no_store(response), (url, response.status_code)
