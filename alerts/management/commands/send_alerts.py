"""``python manage.py send_alerts [--detect] [--digests]``: deliver the pending deadline alerts now, for
operators (optionally detecting new alerts and writing today's digests first)."""

from django.core.management.base import BaseCommand

from alerts import engine as alerts


class Command(BaseCommand):
    help = (
        "Send the pending deadline alert emails (claimed one by one, so it is safe beside running workers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--detect", action="store_true", help="Detect new immediate alerts first.")
        parser.add_argument("--digests", action="store_true", help="Write today's digests first (if due).")
        parser.add_argument("--limit", type=int, default=500, help="Send at most this many (default 500).")

    def handle(self, *args, **options):
        if options["detect"]:
            counts = alerts.alerts_detect()
            self.stdout.write(f"Detected {counts['total']} new alert(s).")
        if options["digests"]:
            self.stdout.write(f"Wrote {alerts.digests_build()['digests']} digest(s).")
        counts = alerts.alerts_deliver(limit=options["limit"])
        self.stdout.write(
            f"Sent {counts['sent']}, failed {counts['failed']} (will retry), dead {counts['dead']}, "
            f"skipped {counts['skipped']} (claimed by another worker)."
        )
