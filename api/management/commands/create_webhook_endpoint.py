"""Register a force's webhook URL and print the shared secret it verifies signatures with (shown once).

manage.py create_webhook_endpoint --force GMP --url https://records.gmp.example/jjp [--event decision.recorded]
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator

from api import webhooks
from cases.models import Organisation, WebhookEndpoint


class Command(BaseCommand):
    help = "Register a webhook endpoint for a force and print its signing secret (shown once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", required=True, help="The force's code, e.g. GMP.")
        parser.add_argument("--url", required=True)
        parser.add_argument(
            "--event",
            action="append",
            choices=webhooks.EVENT_NAMES,
            help="An event to send (repeat for several); default: all.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(code=options["force"].strip().upper()).first()
        if org is None:
            raise CommandError(f"No force or CPS Area has the code {options['force']!r}.")
        try:
            URLValidator(schemes=["http", "https"])(options["url"])
        except ValidationError as exc:
            raise CommandError(f"Not a valid http(s) URL: {options['url']}") from exc
        secret = secrets.token_urlsafe(32)
        endpoint = WebhookEndpoint.objects.create(
            organisation=org, url=options["url"], secret=secret, events=sorted(set(options["event"] or []))
        )
        self.stderr.write(
            f"Endpoint {endpoint.pk} for {org.name}: {endpoint.url} "
            f"({', '.join(endpoint.events) or 'all events'}). The signing secret is shown once:"
        )
        self.stdout.write(secret)
