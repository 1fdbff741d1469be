from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cases import hooks

        from . import access, services

        hooks.access_grants.register(access.PANEL_MEMBERS)
        hooks.police_nfa_after_plan.register(services.cps_notification_record)
