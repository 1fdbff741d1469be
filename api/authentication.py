"""``Authorization: Bearer <token>`` for force systems (staff may also use their browser session)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import clients, throttling


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A force system's token. Unknown, expired and revoked tokens are refused with 401; after too many such
    failures from one client address, every bearer request from it is refused with 429 for a while, before its
    token is looked up (``throttling.auth_failure_wait``)."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        wait = throttling.auth_failure_wait(request)
        if wait is not None:
            raise exceptions.Throttled(
                wait=wait, detail="Too many failed token checks from your address; nothing was checked."
            )
        try:
            return self._check(parts)
        except exceptions.AuthenticationFailed:
            throttling.auth_failure_record(request)
            raise

    def _check(self, parts: list[bytes]) -> tuple[Any, Any]:
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Bearer <token>'.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Unknown token.") from exc
        client = clients.client_for_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed("Unknown token.")
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token has been revoked.")
        if client.expires_at is not None and client.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired; ask for it to be rotated.")
        if not client.user.is_active:
            raise exceptions.AuthenticationFailed("This client is disabled.")
        clients.client_touch(client)
        return client.user, client

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A force system's token from `manage.py create_api_client`.",
        }
