from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API for force systems (``/api/v1/``): the shared base (authentication, errors, throttling,
    pagination, the case representation and its steps), the API clients, and the outbound webhooks with their
    outbox and tasks. Each domain app's own endpoints sit in its ``api/`` folder on this base (as NetBox keeps
    ``netbox/api/`` beside per-app ``api/`` folders); the import contracts treat those folders as part of this
    delivery layer. Nothing in the domain imports it: a timeline entry reaches the webhooks by the ``case_event``
    hook, registered here."""

    name = "api"
    verbose_name = "API and webhooks"

    def ready(self) -> None:
        from cases import hooks

        from . import webhooks

        hooks.case_event.register(webhooks.on_case_event)
