"""Rate limits per caller (a client's service user, or a member of staff). The rates come from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``jjp_read``, ``jjp_write``, ``jjp_bulk``) when set there,
else from the defaults below; they are read per request, so ``override_settings`` works in tests."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


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
