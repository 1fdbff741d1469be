from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The pages people work in: the home page, the dashboards and their lists and CSV exports, the case list and
    the case page with its steps, and the auditor's search of the read logs. Delivery layer: the steps are the
    domain apps' forms and services; nothing in the domain imports it."""

    name = "workspace"
    verbose_name = "Dashboards and case pages"
