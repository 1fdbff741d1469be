"""``/api/``: the REST API for force systems (version 1), its OpenAPI schema and its documentation pages (Swagger
UI and Redoc, served from the drf-spectacular sidecar's static files, no CDN). See docs/api.md."""

from csp.decorators import csp_update
from django.urls import URLPattern, URLResolver, include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api.fields import IdConverter
from api.views import ApiNotFoundView
from governance.api.views import MetricsView

register_converter(IdConverter, "api_id")  # row ids in paths: any integer, so a bad one gets the JSON 404

v1: list[URLPattern | URLResolver] = [
    path("", include("api.urls")),
    path("", include("charging.api.urls")),
    path("", include("victims.api.urls")),
    path("metrics/", MetricsView.as_view(), name="api-metrics"),  # the joint performance figures (governance)
    re_path(r"", ApiNotFoundView.as_view()),  # anything else under /api/v1/: the JSON 404, not an HTML page
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script from its own URL (?script), so script-src 'self' holds.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc writes its styles into <style> elements at run time: inline styles (only) allowed on this page.
    path(
        "redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
]
