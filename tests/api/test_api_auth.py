"""Who gets in: bearer tokens (hashed, expiring, revocable, rotatable), staff sessions, scopes and rate limits."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.clients import (
    api_client_create,
    api_client_revoke,
    api_client_rotate,
    client_for_token,
    token_hash,
)
from cases.models import ApiClient, Case, Role
from tests.api.conftest import Api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/cases/"
NEW_CASE = {
    "reported_on": "2026-02-01",
    "offences": [{"offence_type": "CJA88-39", "committed_on": "2026-01-30"}],
}


def test_no_token_is_401_with_a_bearer_challenge(api_anonymous):
    response = api_anonymous.get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "errors": [{"field": None, "message": "Authentication credentials were not provided."}]
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer not-a-token", "Bearer jjp_00000000_" + "x" * 43, "Bearer \u00e9t\u00e9"],
)
def test_malformed_or_unknown_tokens_are_401(db, header):
    api = Api()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get(LIST)
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] is None


def test_the_token_is_stored_only_as_its_hash(client_a):
    client, token = client_a
    client.refresh_from_db()
    assert token not in (client.token_hash, client.token_prefix)
    assert client.token_hash == token_hash(token)
    assert token.startswith(client.token_prefix)
    assert client_for_token(token) == client
    assert client_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_the_client_acts_as_a_service_user_of_its_force(client_a, force_a):
    client, _ = client_a
    assert client.user.organisation == force_a
    assert client.user.roles == [Role.FORCE_SYSTEM]
    assert not client.user.has_usable_password()


def test_an_expired_token_is_refused(force_a):
    client, token = api_client_create(
        force_code="GMP", name="Short", scope="read", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    assert Api(token).get(LIST).status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, seconds=1)):
        response = Api(token).get(LIST)
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]


def test_a_revoked_token_is_refused(client_a, api_a):
    assert api_a.get(LIST).status_code == 200
    api_client_revoke(client=client_a[0])
    response = api_a.get(LIST)
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]


def test_rotation_issues_a_new_token_and_kills_the_old(client_a, api_a):
    client, old = client_a
    new = api_client_rotate(client=client)
    assert new != old
    assert api_a.get(LIST).status_code == 401
    assert Api(new).get(LIST).status_code == 200


def test_rotation_lifts_a_revocation(client_a):
    client, _ = client_a
    api_client_revoke(client=client)
    assert Api(api_client_rotate(client=client)).get(LIST).status_code == 200


def test_last_use_is_recorded_at_most_every_few_minutes(client_a, api_a):
    client, _ = client_a
    assert client.last_used_at is None
    api_a.get(LIST)
    client.refresh_from_db()
    first = client.last_used_at
    assert first is not None
    api_a.get(LIST)
    client.refresh_from_db()
    assert client.last_used_at == first


def test_a_read_only_client_cannot_write(api_a_read, case_a):
    for method, path, body in [
        ("put", "/api/v1/cases/NEW-1/", NEW_CASE),
        ("post", "/api/v1/cases/bulk/", {"cases": [{**NEW_CASE, "urn": "NEW-2"}]}),
        ("post", f"/api/v1/cases/{case_a.urn}/referrals/", {"received_on": "2026-03-01"}),
    ]:
        response = getattr(api_a_read, method)(path, body, format="json")
        assert response.status_code == 403, path
        assert "read-only" in response.json()["errors"][0]["message"]
    assert not Case.objects.filter(urn__startswith="NEW-").exists()
    assert api_a_read.get(f"/api/v1/cases/{case_a.urn}/").status_code == 200


def test_staff_use_the_api_with_their_session(client, oic_a, case_a, oic_b):
    client.force_login(oic_a)
    assert [c["urn"] for c in client.get(LIST).json()["results"]] == [case_a.urn]
    client.force_login(oic_b)
    assert client.get(LIST).json()["results"] == []
    assert client.get(f"/api/v1/cases/{case_a.urn}/").status_code == 404


def test_session_writes_need_the_csrf_token(oic_a):
    api = Api(enforce_csrf_checks=True)
    api.force_login(oic_a)
    response = api.put("/api/v1/cases/CSRF-1/", NEW_CASE, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert not Case.objects.filter(urn="CSRF-1").exists()


def test_too_many_requests_is_429_with_retry_after(api_a, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"jjp_read": "2/min"}}
    assert [api_a.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
    response = api_a.get(LIST)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["errors"][0]["field"] is None


def test_rate_limits_are_per_client(api_a, api_b, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"jjp_read": "1/min"}}
    assert api_a.get(LIST).status_code == 200
    assert api_a.get(LIST).status_code == 429
    assert api_b.get(LIST).status_code == 200


# -- the management commands -----------------------------------------------------------------------------------


def test_create_api_client_prints_the_token_once(force_a):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_client",
        "--force",
        "gmp",
        "--name",
        "Niche RMS",
        "--scope",
        "write",
        stdout=out,
        stderr=err,
    )
    token = out.getvalue().strip()
    client = ApiClient.objects.get(name="Niche RMS")
    assert client.scope == "write" and client.user.organisation == force_a
    assert client.token_hash == token_hash(token) and token not in err.getvalue()
    assert Api(token).get(LIST).status_code == 200


def test_create_api_client_refuses_a_cps_area_and_a_duplicate_name(force_a):
    with pytest.raises(CommandError, match="No police force"):
        call_command("create_api_client", "--force", force_a.area.code, "--name", "X", "--scope", "read")
    call_command(
        "create_api_client", "--force", "GMP", "--name", "Twice", "--scope", "read", stdout=io.StringIO()
    )
    with pytest.raises(CommandError, match="already has an API client"):
        call_command("create_api_client", "--force", "GMP", "--name", "Twice", "--scope", "read")


def test_rotate_and_revoke_commands(client_a):
    client, old = client_a
    out = io.StringIO()
    call_command(
        "rotate_api_client", client.token_prefix, "--expires-in-days", "30", stdout=out, stderr=io.StringIO()
    )
    new = out.getvalue().strip()
    assert Api(old).get(LIST).status_code == 401
    assert Api(new).get(LIST).status_code == 200
    client.refresh_from_db()
    assert client.expires_at is not None
    call_command("revoke_api_client", str(client.pk), stdout=io.StringIO())
    assert Api(new).get(LIST).status_code == 401


def test_a_disabled_service_user_is_refused(client_a, api_a):
    user = client_a[0].user
    user.is_active = False
    user.save()
    assert api_a.get(LIST).status_code == 401


def test_a_panel_member_sees_no_cases_through_the_api(client, area_a, case_a):
    member = UserFactory(organisation=area_a, roles=[Role.PANEL_MEMBER])
    client.force_login(member)
    assert client.get(LIST).json()["results"] == []


def test_failed_token_checks_are_throttled_per_client_address(client_a, settings):
    """Before: 40 unknown tokens in a row all got 401. Now the 11th failure from an address within 10 minutes,
    and every bearer request from it after that (a good token too: it is not even looked up), get 429 with
    Retry-After in the error shape, until the oldest failure is 10 minutes old; other addresses are unaffected."""
    assert (settings.JJP_API_AUTH_FAILURES, settings.JJP_API_AUTH_FAILURE_WINDOW_SECONDS) == (10, 600)
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        guesser = Api("jjp_00000000_" + "x" * 43, REMOTE_ADDR="198.51.100.7")
        codes = []
        for _ in range(40):
            codes.append(guesser.get(LIST).status_code)
            clock.shift(datetime.timedelta(seconds=1))
        assert codes == [401] * 10 + [429] * 30
        refused = guesser.get(LIST)
        assert refused.status_code == 429 and refused["Retry-After"] == str(600 - 40)
        assert refused.json() == {
            "errors": [
                {
                    "field": None,
                    "message": "Too many failed token checks from your address; nothing was checked. "
                    "Expected available in 560 seconds.",
                }
            ]
        }
        assert Api(client_a[1], REMOTE_ADDR="198.51.100.7").get(LIST).status_code == 429
        assert Api(client_a[1], REMOTE_ADDR="198.51.100.8").get(LIST).status_code == 200
        assert Api("jjp_00000000_" + "y" * 43, REMOTE_ADDR="198.51.100.8").get(LIST).status_code == 401
        clock.shift(
            datetime.timedelta(seconds=560)
        )  # as Retry-After said: the first failure has left the window
        assert Api(client_a[1], REMOTE_ADDR="198.51.100.7").get(LIST).status_code == 200
        assert guesser.get(LIST).status_code == 401  # one more guess, then refused again
        assert guesser.get(LIST).status_code == 429


def test_revoked_and_malformed_tokens_count_as_failures_and_the_limit_is_a_setting(client_a, settings):
    settings.JJP_API_AUTH_FAILURES = 2
    api_client_revoke(client=client_a[0])
    assert Api(client_a[1]).get(LIST).status_code == 401
    malformed = Api()
    malformed.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert malformed.get(LIST).status_code == 401
    assert Api(client_a[1]).get(LIST).status_code == 429
    assert Api().get(LIST).status_code == 401, "no token at all is not a failed check, and is not throttled"
