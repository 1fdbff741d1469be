"""API clients of force systems: create, rotate and revoke their tokens, and find the client for a token.

A token is ``jjp_<8 hex>_<43 url-safe characters>``; its first 12 characters (the prefix) find the row and only
the SHA-256 of the whole token is stored, compared in constant time. A token is shown once, when it is made.
Each client acts through a service ``User`` of its force with the ``force_system`` role, so the one access gate
(``Case.objects.visible_to``) and the step permissions (``cases/rules.py``) apply to it unchanged.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from cases.models import ApiClient, Organisation, Role, User

PREFIX_LENGTH = 12
_TOKEN_RE = re.compile(r"^jjp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token() -> tuple[str, str]:
    """A new token and its prefix (the prefix is unique: retried on the rare collision)."""
    while True:
        token = f"jjp_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
        prefix = token[:PREFIX_LENGTH]
        if not ApiClient.objects.filter(token_prefix=prefix).exists():
            return token, prefix


def client_for_token(token: str) -> ApiClient | None:
    """The client whose token this is (whatever its state: the caller checks expiry and revocation)."""
    if not _TOKEN_RE.match(token):
        return None
    client = (
        ApiClient.objects.select_related("user__organisation")
        .filter(token_prefix=token[:PREFIX_LENGTH])
        .first()
    )
    if client is None or not hmac.compare_digest(client.token_hash, token_hash(token)):
        return None
    return client


@transaction.atomic
def api_client_create(
    *, force_code: str, name: str, scope: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiClient, str]:
    """Register a force's records system: a service user of the force (role ``force_system``, no password)
    and its client row. Returns the client and the token, which is not stored and cannot be shown again."""
    name = (name or "").strip()
    force = Organisation.objects.filter(code=(force_code or "").strip().upper()).first()
    if force is None or force.kind != Organisation.Kind.FORCE:
        raise ValidationError({"force": f"No police force has the code {force_code!r}."})
    if not name:
        raise ValidationError({"name": "Give the client a name, e.g. the records system's name."})
    if scope not in ApiClient.Scope.values:
        raise ValidationError({"scope": f"Choose one of: {', '.join(ApiClient.Scope.values)}."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry is in the past."})
    username = f"api-{force.code.lower()}-{slugify(name)[:40] or 'client'}"
    if User.objects.filter(username=username).exists():
        raise ValidationError({"name": f"{force.name} already has an API client named {name!r}."})
    user = User(
        username=username,
        first_name=name[:150],
        last_name="(API client)",
        organisation=force,
        roles=[Role.FORCE_SYSTEM],
        is_active=True,
    )
    user.set_unusable_password()
    user.save()
    token, prefix = _new_token()
    client = ApiClient.objects.create(
        name=name,
        user=user,
        scope=scope,
        token_prefix=prefix,
        token_hash=token_hash(token),
        expires_at=expires_at,
    )
    return client, token


@transaction.atomic
def api_client_rotate(*, client: ApiClient, expires_at: datetime.datetime | None = None) -> str:
    """Issue a new token for the client; the old one stops working at once. Clears a revocation."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry is in the past."})
    token, prefix = _new_token()
    client.token_prefix, client.token_hash = prefix, token_hash(token)
    client.expires_at, client.revoked_at = expires_at, None
    client.save(update_fields=["token_prefix", "token_hash", "expires_at", "revoked_at"])
    return token


def api_client_revoke(*, client: ApiClient) -> ApiClient:
    """Stop the client's token working (kept for the record; rotate to issue a new one)."""
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    client.refresh_from_db(fields=["revoked_at"])
    return client


def client_touch(client: ApiClient, *, every: datetime.timedelta = datetime.timedelta(minutes=5)) -> None:
    """Record when the client was last used (at most one write per ``every``, not one per request)."""
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at >= every:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def find_client(identifier: str) -> ApiClient:
    """A client by id, token prefix or name (for the management commands)."""
    qs = ApiClient.objects.select_related("user__organisation")
    if identifier.isdigit():
        found = qs.filter(pk=int(identifier))
    elif identifier.startswith("jjp_"):
        found = qs.filter(token_prefix=identifier[:PREFIX_LENGTH])
    else:
        found = qs.filter(name=identifier)
    clients = list(found[:2])
    if len(clients) != 1:
        raise ValidationError(
            {"client": f"{'No' if not clients else 'More than one'} API client matches {identifier!r}."}
        )
    return clients[0]
