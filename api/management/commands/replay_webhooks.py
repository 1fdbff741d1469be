"""Send webhook events again, e.g. after a force fixed its receiver. Each replay is a new outbox row (the log
keeps the earlier attempts).

    manage.py replay_webhooks --id 12 --id 13
    manage.py replay_webhooks --status dead [--endpoint 3] [--since 2026-03-01]
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api import webhooks
from cases.models import WebhookDelivery


class Command(BaseCommand):
    help = "Replay webhook deliveries by id, or every delivery in a status (dead or failed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--id", type=int, action="append", dest="ids", help="A delivery id (repeatable).")
        parser.add_argument("--status", choices=["dead", "failed", "delivered"])
        parser.add_argument("--endpoint", type=int, help="Only this endpoint's deliveries.")
        parser.add_argument(
            "--since", type=datetime.date.fromisoformat, help="Only deliveries created since."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["ids"] and not options["status"]:
            raise CommandError("Give --id or --status.")
        qs = WebhookDelivery.objects.select_related("endpoint", "case").order_by("pk")
        if options["ids"]:
            qs = qs.filter(pk__in=options["ids"])
        if options["status"]:
            qs = qs.filter(status=options["status"])
        if options["endpoint"]:
            qs = qs.filter(endpoint_id=options["endpoint"])
        if options["since"]:
            qs = qs.filter(created_at__date__gte=options["since"])
        replays = [webhooks.delivery_replay(d) for d in qs]
        self.stdout.write(
            f"Replayed {len(replays)} deliveries: {', '.join(str(r.pk) for r in replays) or 'none'}."
        )
