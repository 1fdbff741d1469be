"""Rate limits per caller (a client's service user, or a member of staff), and the count of failed token checks
per client address (below). The rates come from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``jjp_read``, ``jjp_write``, ``jjp_bulk``) when set there,
else from the defaults below; they are read per request, so ``override_settings`` works in tests."""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, UserRateThrottle


class _ApiThrottle(UserRateThrottle):
    default_rate = ""
    safe: bool | None = None  # True: only reads; False: only writes; None: every request

    def get_rate(self) -> str | None:
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        return rates.get(self.scope, self.default_rate)

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.safe is not None and (request.method in SAFE_METHODS) != self.safe:
            return True
        return super().allow_request(request, view)


class ReadThrottle(_ApiThrottle):
    scope, default_rate, safe = "jjp_read", "600/min", True


class WriteThrottle(_ApiThrottle):
    scope, default_rate, safe = "jjp_write", "120/min", False


class BulkThrottle(_ApiThrottle):
    scope, default_rate, safe = "jjp_bulk", "10/min", None


# -- failed token checks, per client address -----------------------------------------------------------------
#
# Sign-in on the web is throttled by django-axes (per username: docs/security.md). A bearer token has no username,
# so failed token checks are counted per client address instead: at most JJP_API_AUTH_FAILURES failures within
# JJP_API_AUTH_FAILURE_WINDOW_SECONDS; past that, every bearer request from the address is refused with 429
# (Retry-After) before its token is even looked up, so guessing cannot go on at full speed, until the oldest
# failure leaves the window. The counts live in the default cache, like the rate limits above.

AUTH_FAILURES_DEFAULT = 10
AUTH_FAILURE_WINDOW_DEFAULT = 600


def _auth_failure_policy() -> tuple[int, int]:
    return (
        int(getattr(settings, "JJP_API_AUTH_FAILURES", AUTH_FAILURES_DEFAULT)),
        int(getattr(settings, "JJP_API_AUTH_FAILURE_WINDOW_SECONDS", AUTH_FAILURE_WINDOW_DEFAULT)),
    )


def _auth_failure_key(request: Any) -> str:
    # DRF's own idea of the client address: REMOTE_ADDR, or X-Forwarded-For when NUM_PROXIES says to trust it.
    return f"jjp-api-auth-failures:{BaseThrottle().get_ident(request)}"


def _recent_failures(key: str, now: float, window: int) -> list[float]:
    return [t for t in cache.get(key, []) if t > now - window]


def auth_failure_wait(request: Any) -> int | None:
    """Seconds this client address must wait before its next token check, or None when it may go ahead."""
    limit, window = _auth_failure_policy()
    now = time.time()
    failures = _recent_failures(_auth_failure_key(request), now, window)
    if len(failures) < limit:
        return None
    return max(1, math.ceil(failures[-limit] + window - now))


def auth_failure_record(request: Any) -> None:
    """Count one failed token check (unknown, malformed, revoked, expired or disabled) for the client address."""
    _limit, window = _auth_failure_policy()
    key = _auth_failure_key(request)
    now = time.time()
    cache.set(key, [*_recent_failures(key, now, window), now], window)
