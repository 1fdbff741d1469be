"""Querysets that carry the victims vocabulary. Every one starts from the single access gate through
``visible_to(user)`` (``cases.selectors.case_visibility_q`` with the lookup to the case)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q

from cases.selectors import case_visibility_q


def early_withdrawal_days() -> int:
    """Withdrawal "within days of reporting" counts up to this many days after the report (default 5: research
    cited by the Domestic Abuse Commissioner). Setting ``JJP_VICTIMS["early_withdrawal_days"]``."""
    return int(getattr(settings, "JJP_VICTIMS", {}).get("early_withdrawal_days", 5))


class _Gated(models.QuerySet):
    case_path = "case__"

    def visible_to(self, user: Any) -> Any:
        q = case_visibility_q(user, prefix=self.case_path)
        return self.none() if q is None else self.filter(q)


class VictimQuerySet(_Gated):
    def without_address(self) -> VictimQuerySet:
        """Victims with the confidential address left unread: only ``address_on_file`` says whether there is one.
        Pages use this; the address itself is read only by ``victim_reveal_address``."""
        return self.defer("confidential_address").annotate(
            address_on_file=ExpressionWrapper(~Q(confidential_address=""), output_field=BooleanField())
        )

    def children(self) -> VictimQuerySet:
        return self.filter(is_child=True)


class ProtectiveOrderQuerySet(_Gated):
    def in_force(self) -> ProtectiveOrderQuerySet:
        return self.filter(status__in=("granted", "varied"))

    def expiring_by(self, day: datetime.date) -> ProtectiveOrderQuerySet:
        return self.in_force().filter(expires_on__isnull=False, expires_on__lte=day)


class ProsecutionPositionQuerySet(_Gated):
    case_path = "victim__case__"

    def withdrawals(self, *, within_days: int | None = None) -> ProsecutionPositionQuerySet:
        """Moves away from support; with ``within_days``, only those that many days or fewer after the report."""
        qs = self.filter(is_withdrawal=True)
        return qs if within_days is None else qs.filter(days_after_report__lte=within_days)

    def early_withdrawals(self) -> ProsecutionPositionQuerySet:
        return self.withdrawals(within_days=early_withdrawal_days())


class BreachQuerySet(_Gated):
    case_path = "order__case__"


class LanguageFindingQuerySet(_Gated):
    def between(
        self, start: datetime.datetime | None, end: datetime.datetime | None
    ) -> LanguageFindingQuerySet:
        qs = self
        if start is not None:
            qs = qs.filter(found_at__gte=start)
        if end is not None:
            qs = qs.filter(found_at__lt=end)
        return qs
