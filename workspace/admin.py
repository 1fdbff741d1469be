"""The read log's admin page (read-only), registered by the app that owns the auditor's search."""

from django.contrib import admin

from cases.access_log import AccessLog

from .auditor import AccessLogAdmin

admin.site.register(AccessLog, AccessLogAdmin)
