"""The case as force systems see it, and the input of the case endpoints. Fields are listed, never
``__all__``; the representation is read-only (clocks, flags and CPS decisions are computed or written by the
services). ``etag_for`` gives the version a client names in ``If-Match``."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import clocks, ledger
from cases.models import Case, Clock, OffenceType
from charging.api.serializers import (
    TEXT,
    ActionPlanSerializer,
    ChargeSerializer,
    EarlyAdviceSerializer,
    ReferralSerializer,
)

from .errors import ErrorItemSerializer
from .fields import ApiDateField

# -- the representation ----------------------------------------------------------------------------------------


class SuspectSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The suspect's id: what an offence's `suspect` names.")
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    pnc_id = serializers.CharField(allow_null=True)
    high_harm_repeat_offender = serializers.BooleanField()


class OffenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    offence_type = serializers.CharField(source="offence_type.code", help_text="Code in the offence table.")
    title = serializers.CharField(source="offence_type.title")
    statute = serializers.CharField(source="offence_type.statute")
    mode_of_trial = serializers.ChoiceField(
        source="offence_type.mode_of_trial", choices=OffenceType.ModeOfTrial.choices
    )
    committed_from = serializers.DateField(allow_null=True, help_text="First act of a course of conduct.")
    committed_on = serializers.DateField(
        help_text="The offence date, or the last act of a course of conduct."
    )
    prosecutor_knowledge_on = serializers.DateField(allow_null=True)
    particulars = serializers.CharField()
    complainant = serializers.IntegerField(
        source="complainant_id",
        allow_null=True,
        help_text="Id of the victim the offence was committed against (`/cases/{urn}/victims/`); null until named.",
    )
    suspect = serializers.IntegerField(
        source="suspect_id", allow_null=True, help_text="Id of the suspect (in `suspects`); null until named."
    )
    stl_due_on = serializers.SerializerMethodField()
    stl_basis = serializers.SerializerMethodField()

    def _stl_clock(self, offence: Any) -> Clock | None:
        """The offence's own statutory time limit clock (open first, else the latest), from the case's clocks
        read with the case (no query)."""
        mine = [
            c for c in offence.case.clocks.all() if c.offence_id == offence.pk and c.kind == Clock.Kind.STL
        ]
        mine.sort(key=lambda c: (c.stopped_on is not None, -(c.pk or 0)))
        return mine[0] if mine else None

    @extend_schema_field(
        serializers.DateField(
            allow_null=True, help_text="The last day to lay the information; null when none."
        )
    )
    def get_stl_due_on(self, offence: Any) -> str | None:
        clock = self._stl_clock(offence)
        return clock.due_on.isoformat() if clock else None

    @extend_schema_field(
        serializers.ChoiceField(
            choices=[(b.value, b.value) for b in clocks.StlBasis],
            help_text="The rule that gave `stl_due_on`: `s127` (MCA 1980 s.127), `s39a` (CJA 1988 s.39A: the "
            "complainant's own statement or VRI, both 16 or over, personally connected), `ca2003_s127_5` "
            "(Communications Act 2003 s.127(5)) or `none` (no statutory time limit).",
        )
    )
    def get_stl_basis(self, offence: Any) -> str:
        clock = self._stl_clock(offence)
        if clock is None:
            return clocks.StlBasis.NONE.value
        return str(clock.params.get("basis") or clocks.StlBasis.S127.value)


class ClockSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Clock.Kind.choices)
    side = serializers.ChoiceField(choices=Clock.Side.choices, help_text="Whose deadline it is.")
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=Clock.State.choices)
    started_on = serializers.DateField()
    due_on = serializers.DateField()
    due_at = serializers.DateTimeField(allow_null=True, help_text="For deadlines counted in hours.")
    warn_on = serializers.DateField(help_text="From this day the deadline is due soon.")
    stopped_on = serializers.DateField(allow_null=True)
    offence = serializers.IntegerField(source="offence_id", allow_null=True)
    action = serializers.IntegerField(source="action_id", allow_null=True)
    victim = serializers.IntegerField(source="victim_id", allow_null=True)


class CaseFlagsSerializer(serializers.Serializer):
    children_in_household = serializers.BooleanField()
    police_perpetrated = serializers.BooleanField()
    restricted = serializers.BooleanField()
    high_harm_repeat_offender = serializers.BooleanField()
    stl_within_eight_weeks = serializers.BooleanField(
        help_text="An open statutory time limit falls within the flag period (eight weeks by default)."
    )
    time_barred = serializers.BooleanField()
    overdue = serializers.BooleanField(help_text="An open deadline is past its due date.")


class CaseSerializer(serializers.Serializer):
    """A case, with its offences, its deadlines and what CPS decided."""

    urn = serializers.CharField(help_text="Unique within the force.")
    force = serializers.CharField(source="force.code", help_text="Code of the force that owns the case.")
    cps_area = serializers.CharField(
        source="cps_area.code", allow_null=True, help_text="Code of the CPS Area, once referred."
    )
    status = serializers.ChoiceField(choices=Case.Status.choices)
    domestic_abuse = serializers.BooleanField()
    summary = serializers.CharField()
    reported_on = serializers.DateField()
    first_qualifying_report_on = serializers.DateField(allow_null=True)
    first_qualifying_report_kind = serializers.ChoiceField(choices=Case.QualifyingReportKind.choices)
    risk_level = serializers.ChoiceField(choices=Case.RiskLevel.choices)
    risk_tool = serializers.ChoiceField(choices=Case.RiskTool.choices)
    flags = serializers.SerializerMethodField()
    next_due_on = serializers.SerializerMethodField()
    suspects = SuspectSerializer(many=True)
    offences = OffenceSerializer(many=True)
    clocks = ClockSerializer(many=True)
    referrals = ReferralSerializer(many=True)
    action_plans = ActionPlanSerializer(many=True)
    charges = ChargeSerializer(many=True)
    early_advice = EarlyAdviceSerializer(
        many=True, help_text="Early advice asked of CPS and given (not charging referrals)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    changed_at = serializers.DateTimeField(
        help_text="When anything on the case last changed (the case, its timeline or a deadline's state)."
    )

    def _today(self) -> datetime.date:
        if "today" not in self.context:
            self.context["today"] = ledger.london_today()
        return self.context["today"]

    @extend_schema_field(CaseFlagsSerializer)
    def get_flags(self, case: Case) -> dict[str, bool]:
        today = self._today()
        limit = today + datetime.timedelta(days=clocks.active_rules().stl_flag_days)
        open_clocks = [c for c in case.clocks.all() if c.stopped_on is None]
        return {
            "children_in_household": case.children_in_household,
            "police_perpetrated": case.police_perpetrated,
            "restricted": case.restricted,
            "high_harm_repeat_offender": case.high_harm_repeat_offender,
            "stl_within_eight_weeks": any(
                c.kind in Clock.STL_KINDS and today <= c.due_on <= limit for c in open_clocks
            ),
            "time_barred": any(c.state == Clock.State.TIME_BARRED for c in open_clocks),
            "overdue": any(c.state == Clock.State.OVERDUE for c in open_clocks),
        }

    @extend_schema_field(serializers.DateField(allow_null=True, help_text="Earliest open deadline."))
    def get_next_due_on(self, case: Case) -> str | None:
        due = [c.due_on for c in case.clocks.all() if c.stopped_on is None]
        return min(due).isoformat() if due else None


def etag_for(data: dict[str, Any]) -> str:
    """The version of a representation: changes whenever anything shown changes."""
    raw = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:40] + '"'


# -- writing a case ------------------------------------------------------------------------------------------


class OffenceInputSerializer(serializers.Serializer):
    offence_type = serializers.CharField(max_length=30, help_text="Code in the offence table, e.g. CJA88-39.")
    committed_on = ApiDateField(help_text="The offence date, or the last act of a course of conduct.")
    committed_from = ApiDateField(
        required=False, allow_null=True, help_text="First act of a course of conduct."
    )
    prosecutor_knowledge_on = ApiDateField(required=False, allow_null=True)
    particulars = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class SuspectInputSerializer(serializers.Serializer):
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    date_of_birth = ApiDateField(required=False, allow_null=True)
    pnc_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=20,
        help_text="Police National Computer ID.",
    )


class CaseWriteSerializer(serializers.Serializer):
    """A case as a force system sends it. On an existing case, fields left out are left as they are."""

    urn = serializers.CharField(
        required=False, max_length=20, help_text="Optional here; if given it must match the URN in the path."
    )
    reported_on = ApiDateField()
    offences = OffenceInputSerializer(many=True, allow_empty=False, max_length=50)
    suspects = SuspectInputSerializer(many=True, required=False, max_length=20)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    domestic_abuse = serializers.BooleanField(required=False)
    risk_level = serializers.ChoiceField(choices=Case.RiskLevel.choices, required=False)
    risk_tool = serializers.ChoiceField(choices=Case.RiskTool.choices, required=False)
    children_in_household = serializers.BooleanField(required=False)
    police_perpetrated = serializers.BooleanField(required=False)
    first_qualifying_report_on = ApiDateField(required=False, allow_null=True)
    first_qualifying_report_kind = serializers.ChoiceField(
        choices=Case.QualifyingReportKind.choices, required=False
    )


class CaseBulkItemSerializer(CaseWriteSerializer):
    urn = serializers.CharField(max_length=20)


class BulkRequestSerializer(serializers.Serializer):
    cases = CaseBulkItemSerializer(many=True, allow_empty=False, max_length=500)


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request.")
    urn = serializers.CharField(allow_null=True)
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged", "failed"])
    status = serializers.IntegerField(help_text="The status a single PUT of this record would have had.")
    errors = ErrorItemSerializer(many=True, help_text="As in the error shape; empty if none.")


class BulkResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


# -- case steps ----------------------------------------------------------------------------------------------


class PoliceOutcomeInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[
            (Case.Status.NO_FURTHER_ACTION, "No further action"),
            (Case.Status.OUT_OF_COURT, "Out of court"),
        ]
    )
    on = ApiDateField()
    reason = serializers.CharField(max_length=TEXT)


class OffenceAddInputSerializer(OffenceInputSerializer):
    complainant = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of the victim it was committed against (the case's only victim when left out).",
    )
    suspect = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of the suspect (the case's only suspect when left out).",
    )


# The kinds of first qualifying report (CJA 1988 s.39A), without "none yet".
QUALIFYING_REPORT_KINDS = [
    c for c in Case.QualifyingReportKind.choices if c[0] != Case.QualifyingReportKind.NONE
]


class QualifyingReportInputSerializer(serializers.Serializer):
    on = ApiDateField()
    kind = serializers.ChoiceField(choices=QUALIFYING_REPORT_KINDS)


class OffencePeopleInputSerializer(serializers.Serializer):
    complainant = serializers.IntegerField(
        allow_null=True, help_text="Id of a victim of this case (`/cases/{urn}/victims/`), or null."
    )
    suspect = serializers.IntegerField(allow_null=True, help_text="Id of a suspect of this case, or null.")


class ProgressInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[(Case.Status.AT_COURT, "At court"), (Case.Status.CONCLUDED, "Concluded")]
    )
    on = ApiDateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)


class StepResultSerializer(serializers.Serializer):
    """What a step endpoint returns: the id of the row it created or changed, and the case as it now is."""

    id = serializers.IntegerField(
        help_text="Id of the referral, decision, plan, action, charge, ... concerned."
    )
    case = CaseSerializer()


class OffenceTypeSerializer(serializers.Serializer):
    """A row of the offence table: the codes a client sends as ``offence_type``."""

    code = serializers.CharField(help_text="What a client sends as `offence_type`, e.g. CJA88-39.")
    title = serializers.CharField()
    statute = serializers.CharField()
    mode_of_trial = serializers.ChoiceField(choices=OffenceType.ModeOfTrial.choices)
    stl_regime = serializers.ChoiceField(
        choices=OffenceType.StlRegime.choices,
        help_text="Which statutory time limit applies (only summary-only offences have one).",
    )
