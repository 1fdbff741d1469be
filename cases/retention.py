"""The audit retention purge: the one way rows leave the audit tables (docs/security.md, "The audit trail").

Every audit table refuses UPDATE and DELETE by trigger (``cases.audit.append_only_trigger``). ``purge`` deletes
the rows older than ``settings.JJP_AUDIT_RETENTION_DAYS`` from each of them in one transaction, with the triggers
lifted (``pgtrigger.ignore``) only for that transaction's statements, and records the run as an
``AuditPurgeRun`` row (append-only itself, never purged). Run by an operator: ``manage.py purge_audit_history``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import pghistory.models
import pgtrigger
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .audit import APPEND_ONLY
from .models import AuditPurgeRun


@dataclass(frozen=True)
class AuditTable:
    model: type[models.Model]
    column: str  # the row's time, compared with the cut-off

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def older_than(self, cutoff: datetime.datetime) -> models.QuerySet[models.Model]:
        return self.model._base_manager.filter(**{f"{self.column}__lt": cutoff})

    @property
    def trigger_uri(self) -> str:
        return f"{self.model._meta.label}:{APPEND_ONLY}"


def audit_tables() -> list[AuditTable]:
    """Every table the purge applies to, from the app registry: each pghistory event model (by
    ``pgh_created_at``) and each model that names its ``audit_retention_field`` (the timeline, the clock
    crossings, the read log, the address log). Sorted by table name, so the output is stable."""
    found: list[AuditTable] = []
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        if issubclass(model, pghistory.models.Event):
            found.append(AuditTable(model, "pgh_created_at"))
        elif getattr(model, "audit_retention_field", None):
            found.append(AuditTable(model, model.audit_retention_field))
    return sorted(found, key=lambda t: t.table)


@dataclass
class PurgeResult:
    cutoff: datetime.datetime
    retention_days: int
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    run: AuditPurgeRun | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def purge(
    *,
    operator: str,
    reason: str = "",
    retention_days: int | None = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> PurgeResult:
    """Delete the audit rows recorded before ``now - retention_days`` (the setting by default), or with
    ``dry_run`` only count them. One transaction: the deletes and the run's record commit together or not at
    all. A dry run writes nothing."""
    days = settings.JJP_AUDIT_RETENTION_DAYS if retention_days is None else retention_days
    if days < 1:
        raise ValueError("The retention period must be at least one day.")
    started = timezone.now()
    cutoff = (now or started) - datetime.timedelta(days=days)
    tables = audit_tables()
    result = PurgeResult(cutoff=cutoff, retention_days=days, dry_run=dry_run)
    with transaction.atomic():
        if dry_run:
            for t in tables:
                result.counts[t.table] = t.older_than(cutoff).count()
            return result
        # Lifted only for the statements of this block, on this connection (pgtrigger sets a transaction-local
        # setting before each one); any other session still meets the triggers.
        with pgtrigger.ignore(*(t.trigger_uri for t in tables)):
            for t in tables:
                # No table refers to an audit row, so this is one DELETE ... WHERE per table (no cascade).
                result.counts[t.table] = t.older_than(cutoff).delete()[0]
        result.run = AuditPurgeRun.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            operator=operator[:150],
            reason=reason[:300],
            retention_days=days,
            cutoff=cutoff,
            deleted={k: v for k, v in result.counts.items() if v},
            total=result.total,
        )
    return result
