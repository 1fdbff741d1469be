"""``python manage.py detect_alerts [--today YYYY-MM-DD]``: write the deadline alerts due now to the outbox
(immediate alerts and escalations; ``--digests`` also today's digests), without sending them."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from alerts import engine as alerts


class Command(BaseCommand):
    help = "Detect the deadline alerts due now and write them to the outbox (send them with send_alerts)."

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Detect as on this London date (YYYY-MM-DD).")
        parser.add_argument("--digests", action="store_true", help="Also write today's digests (if due).")

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date like 2026-01-31, not {options['today']!r}"
                ) from exc
        counts = alerts.alerts_detect(today=today)
        detail = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "total")
        self.stdout.write(f"Wrote {counts['total']} new alert(s) ({detail}).")
        if options["digests"]:
            self.stdout.write(f"Wrote {alerts.digests_build()['digests']} digest(s).")
