"""Template context shared by every page: the navigation for the signed-in user (no queries)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The primary navigation: the dashboards this user's roles open, the case list, and opening a case."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    from workspace.dashboards import dashboards_for

    path = request.path
    items = [
        {"href": reverse("dashboard", args=[board.slug]), "text": board.title}
        for board in dashboards_for(user)
    ]
    items.append({"href": reverse("case_list"), "text": "Cases"})
    if user.has_perm("cases.create_case"):
        items.append({"href": reverse("case_create"), "text": "Open a case"})
    if set(getattr(user, "roles", [])) & {
        "panel_member",
        "police_supervisor",
        "legal_manager",
        "administrator",
    }:
        items.append({"href": reverse("governance:index"), "text": "Governance"})
    items.append({"href": reverse("alert_preferences"), "text": "Alerts"})
    for item in items:
        item["active"] = path == item["href"] or (
            item["text"] == "Cases" and path.startswith(item["href"]) and not path.endswith("/new/")
        )
    return {"nav_items": items}
