"""Top-level URLs. Each area owns its own URL module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jjp.api_urls")),
    path("victims/", include("victims.urls")),
    path("governance/", include("governance.urls")),
    path("", include("alerts.urls")),
    path("", include("jjp.auth_urls")),
    path("", include("workspace.urls")),
]

handler500 = "jjp.middleware.server_error"
