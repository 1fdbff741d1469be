"""Who may call what. Seeing a case is the access gate's job (``Case.objects.visible_to``) and taking a step is
the services' (``cases/rules.py``); here only the client's scope: a read-only client may not write."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from cases.models import ApiClient


class ClientScopePermission(BasePermission):
    message = "This API client is read-only: writing needs a client with the write scope."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        client = request.auth if isinstance(request.auth, ApiClient) else None
        return client is None or client.scope == ApiClient.Scope.WRITE
