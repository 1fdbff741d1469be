"""``python manage.py seed_demo``: an invented, realistic demo data set (no real people).

Two forces in two CPS Areas, one demo user per role in each, and cases at every stage, all made through the
services so that the timeline and the clocks are exactly what real use would produce. Line managers are set (the
force's officers report to its police supervisor, the Area's prosecutor to its legal manager: escalations go to
them), and the submissions accepted at triage are allocated to the Area's prosecutor (one awaiting submission is
left untriaged, so the Area's fallback shows too). Idempotent: a second run changes nothing. Demo passwords
are set only in the local run (JJP_LOCAL_RUN=1); elsewhere the demo users get unusable passwords.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from cases import ledger
from cases.models import Case, Organisation, Role, User
from cases.services import case_create, case_progress, case_record_police_outcome, case_restrict, offence_add
from charging import services as charging
from governance.models import PanelReview, ScrutinyPanel
from victims.models import SupportService
from victims.services import victim_add, victim_qualifying_report_record, victim_relationship_set

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - local run only, see module docstring
FORCES = (
    "GMP",
    "WYP",
)  # Greater Manchester Police (CPS North West), West Yorkshire Police (CPS Yorkshire and Humberside)

FORCE_ROLES = [
    ("oic", [Role.OIC], "Officer in charge"),
    ("supervisor", [Role.POLICE_SUPERVISOR], "Police supervisor"),
    ("triage", [Role.TRIAGE_OFFICER], "Triage officer"),
    ("vlo", [Role.VICTIM_LIAISON], "Victim liaison officer"),
    ("admin", [Role.ADMINISTRATOR], "Administrator"),
]
AREA_ROLES = [
    ("prosecutor", [Role.PROSECUTOR], "Prosecutor"),
    ("legalmanager", [Role.LEGAL_MANAGER], "Legal manager"),
    ("panel", [Role.PANEL_MEMBER], "Scrutiny panel member"),
]
#: Line managers (``User.supervisor``): who reports to whom, by the suffixes above.
LINE_MANAGERS = {
    "oic": "supervisor",
    "triage": "supervisor",
    "vlo": "supervisor",
    "prosecutor": "legalmanager",
}

GIVEN = [
    "Alex",
    "Sam",
    "Jordan",
    "Casey",
    "Robin",
    "Morgan",
    "Taylor",
    "Jamie",
    "Charlie",
    "Drew",
    "Avery",
    "Riley",
]
FAMILY = [
    "Ashdown",
    "Brackley",
    "Corran",
    "Dunmore",
    "Elsworth",
    "Fenwick",
    "Garside",
    "Hollins",
    "Ingram",
    "Jessop",
]


#: The local directory of victim services for each demo force and Area (``victims.SupportService``), so a
#: referral to support services or to an IDVA can be chosen in the demo. Invented services; the phone numbers are
#: in Ofcom's ranges kept for drama (never a real line).
SUPPORT_SERVICES: dict[str, list[tuple[str, str, str, str]]] = {
    "GMP": [
        (
            "Manchester Independent Domestic Violence Advisers (demo)",
            "idva",
            "0161 496 0101",
            "Referral by form.",
        ),
        (
            "Salford Women's Refuge (demo)",
            "refuge",
            "0161 496 0102",
            "Spaces for women and children; 24 hours.",
        ),
        ("Greater Manchester Domestic Abuse Helpline (demo)", "specialist_da", "0161 496 0103", "Helpline."),
        (
            "Greater Manchester Victims' Services (demo)",
            "victim_support",
            "0161 496 0104",
            "Right 4 referrals.",
        ),
        ("Manchester Young People's Service (demo)", "children", "0161 496 0105", "Under-18s and families."),
    ],
    "WYP": [
        ("West Yorkshire IDVA Service (demo)", "idva", "0113 496 0201", "Referral by form."),
        ("Leeds Refuge (demo)", "refuge", "0113 496 0202", "Spaces for women and children; 24 hours."),
        ("West Yorkshire Domestic Abuse Helpline (demo)", "specialist_da", "0113 496 0203", "Helpline."),
        ("West Yorkshire Victim Care (demo)", "victim_support", "0113 496 0204", "Right 4 referrals."),
        (
            "Bradford By-and-For Service (demo)",
            "by_and_for",
            "0113 496 0205",
            "Black and minoritised victims.",
        ),
    ],
}
AREA_SUPPORT_SERVICES = [
    ("Witness Care Unit (demo)", "victim_support", "Victims and witnesses at court."),
    ("Independent Sexual Violence Advisers (demo)", "isva", "Where the abuse included sexual violence."),
]


class Command(BaseCommand):
    help = "Create the demo organisations' users and cases at every stage (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        local = settings.LOCAL_RUN or settings.DEBUG
        users = self._users(local)
        self._support_services()
        if Case.objects.filter(urn__startswith="DEMO").exists():
            self.stdout.write("Demo cases already exist; nothing to add.")
        else:
            with transaction.atomic():
                for code in FORCES:
                    self._cases(code, users, random.Random(code))  # noqa: S311 - invented demo data
            self.stdout.write(f"Created {Case.objects.filter(urn__startswith='DEMO').count()} demo cases.")
        ledger.sweep()
        self._print_logins(users, local)

    def _users(self, local: bool) -> dict[str, User]:
        users: dict[str, User] = {}
        for code in FORCES:
            force = Organisation.objects.get(code=code)
            for suffix, roles, title in FORCE_ROLES:
                users[f"{code.lower()}-{suffix}"] = self._user(
                    f"{code.lower()}-{suffix}", force, roles, title, local
                )
            area = force.area
            for suffix, roles, title in AREA_ROLES:
                name = f"{area.code.lower()}-{suffix}"
                users[name] = self._user(name, area, roles, title, local)
            for prefix in (code.lower(), area.code.lower()):
                for member, manager in LINE_MANAGERS.items():
                    if f"{prefix}-{member}" in users and f"{prefix}-{manager}" in users:
                        User.objects.filter(pk=users[f"{prefix}-{member}"].pk).update(
                            supervisor=users[f"{prefix}-{manager}"]
                        )
        return users

    def _support_services(self) -> None:
        """The demo forces' and Areas' directories of victim services (idempotent: by organisation and name)."""
        for code in FORCES:
            force = Organisation.objects.get(code=code)
            for name, kind, phone, notes in SUPPORT_SERVICES[code]:
                SupportService.objects.get_or_create(
                    organisation=force, name=name, defaults={"kind": kind, "phone": phone, "notes": notes}
                )
            for name, kind, notes in AREA_SUPPORT_SERVICES:
                SupportService.objects.get_or_create(
                    organisation=force.area, name=name, defaults={"kind": kind, "notes": notes}
                )

    def _user(self, username: str, org: Organisation, roles: list[str], title: str, local: bool) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "organisation": org,
                "roles": roles,
                "first_name": title,
                "last_name": f"({org.code})",
                "email": f"{username}@demo.jjp.invalid",
                "is_staff": Role.ADMINISTRATOR in roles,
            },
        )
        # Demo passwords exist only in the local run: elsewhere they are disabled, also for earlier demo users.
        if local:
            user.set_password(DEMO_PASSWORD)
        else:
            user.set_unusable_password()
        user.save()
        return user

    def _cases(self, code: str, users: dict[str, User], rng: random.Random) -> None:
        today = ledger.london_today()
        oic, supervisor = users[f"{code.lower()}-oic"], users[f"{code.lower()}-supervisor"]
        area_code = Organisation.objects.get(code=code).area.code.lower()
        prosecutor = users[f"{area_code}-prosecutor"]
        n = 0

        def new_case(days_ago: int, offence: str, *, offence_days_ago: int | None = None, **kw: Any) -> Case:
            nonlocal n
            n += 1
            reported = today - datetime.timedelta(days=days_ago)
            committed = today - datetime.timedelta(
                days=offence_days_ago if offence_days_ago is not None else days_ago
            )
            report_days_ago = kw.pop("report_days_ago", None)
            case = case_create(
                actor=oic,
                urn=f"DEMO{code}{n:04d}",
                reported_on=reported,
                today=today,
                offences=[{"offence_type": offence, "committed_on": committed}],
                suspects=[
                    {
                        "given_name": rng.choice(GIVEN),
                        "family_name": rng.choice(FAMILY),
                        "date_of_birth": datetime.date(rng.randint(1965, 2000), rng.randint(1, 12), 1),
                    }
                ],
                risk_level=rng.choice(["standard", "medium", "high"]),
                risk_tool=rng.choice(["dash", "dara"]),
                summary="Invented demo case.",
                **kw,
            )
            victim = victim_add(
                actor=oic,
                case=case,
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                date_of_birth=datetime.date(rng.randint(1965, 2000), rng.randint(1, 12), 1),
                today=today,
            )
            victim_relationship_set(
                actor=oic, victim=victim, suspect=case.suspects.get(), relationship="intimate", today=today
            )
            if report_days_ago is not None:
                victim_qualifying_report_record(
                    actor=oic,
                    victim=victim,
                    on=today - datetime.timedelta(days=report_days_ago),
                    kind="witness_statement",
                    received_by=f"{oic.display_name}",
                    today=today,
                )
            return case

        legal_manager = users[f"{area_code}-legalmanager"]

        def refer(case: Case, days_ago: int, *, triage: bool = True) -> Any:
            """Refer the case; unless told not to, CPS accept it at triage the next day and allocate it to the
            Area's prosecutor (the legal manager triages, so the allocation is explicit)."""
            received = today - datetime.timedelta(days=days_ago)
            referral = charging.case_refer_to_cps(actor=oic, case=case, today=today, received_on=received)
            if triage:
                charging.referral_triage(
                    actor=legal_manager,
                    referral=referral,
                    accept=True,
                    on=min(received + datetime.timedelta(days=1), today),
                    prosecutor=prosecutor,
                    today=today,
                )
            return referral

        # Under investigation: fresh, due soon, overdue.
        new_case(2, "OAPA-47")
        new_case(19, "SCA15-76", children_in_household=True)
        new_case(30, "PHA97-2A")
        # Referred, awaiting decision; one with its STL inside eight weeks (common assault 5 months ago), one not
        # triaged yet (its alerts go to every prosecutor of the Area until it is allocated).
        refer(new_case(12, "OAPA-47"), 3, triage=False)
        refer(new_case(20, "CJA88-39", offence_days_ago=150), 2)
        refer(new_case(40, "SCA15-75A"), 16)
        # Action plan with police.
        case = new_case(35, "SCA15-76")
        ref = refer(case, 20)
        charging.action_plan_issue(
            actor=prosecutor,
            referral=ref,
            decided_on=today - datetime.timedelta(days=14),
            today=today,
            reasons="Further evidence needed before a decision can be made.",
            respond_by=today + datetime.timedelta(days=7),
            actions=[
                {
                    "description": "Obtain the 999 call recording",
                    "due_on": today + datetime.timedelta(days=2),
                },
                {
                    "description": "Statement from the neighbour who called police",
                    "due_on": today - datetime.timedelta(days=1),
                },
                {"description": "Medical records with the victim's consent", "due_on": None},
            ],
        )
        # Decided to charge, charge pending.
        case = new_case(25, "OAPA-20")
        ref = refer(case, 12)
        charging.decision_record(
            actor=prosecutor,
            referral=ref,
            outcome="charge",
            test="full_code",
            decided_on=today - datetime.timedelta(days=3),
            today=today,
            reasons="The Full Code Test is met on the evidence and in the public interest.",
        )
        # Charged, and at court.
        for at_court in (False, True):
            case = new_case(60, "CJA88-39", offence_days_ago=61, report_days_ago=60)
            ref = refer(case, 40)
            charging.decision_record(
                actor=prosecutor,
                referral=ref,
                outcome="charge",
                test="full_code",
                decided_on=today - datetime.timedelta(days=33),
                today=today,
                reasons="The Full Code Test is met.",
            )
            charging.charge_record(
                actor=oic, case=case, charged_on=today - datetime.timedelta(days=30), today=today
            )
            if at_court:
                case_progress(actor=oic, case=case, to="at_court", on=today - datetime.timedelta(days=10))
        # Two complainants, one suspect: the partner's signed statement extends only the limit of the assault on
        # her (CJA 1988 s.39A); her adult son, assaulted the same evening, has made no statement, so his keeps the
        # six-month limit (MCA 1980 s.127), within eight weeks.
        case = new_case(20, "CJA88-39", offence_days_ago=140, report_days_ago=18)
        son = victim_add(
            actor=oic,
            case=case,
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            date_of_birth=datetime.date(2001, 4, 1),
            today=today,
        )
        suspect = case.suspects.get()
        victim_relationship_set(actor=oic, victim=son, suspect=suspect, relationship="relatives", today=today)
        offence_add(
            actor=oic,
            case=case,
            offence_type="CJA88-39",
            committed_on=today - datetime.timedelta(days=140),
            complainant=son,
            suspect=suspect,
            particulars="Pushed the complainant's son against a wall.",
            today=today,
        )
        # No further action by CPS, and by police.
        case = new_case(50, "PHA97-4")
        ref = refer(case, 30)
        charging.decision_record(
            actor=prosecutor,
            referral=ref,
            outcome="nfa",
            decided_on=today - datetime.timedelta(days=20),
            today=today,
            reasons="The evidential stage of the Full Code Test is not met.",
            evidence_led_viable=False,
        )
        case = new_case(10, "CDA71-1")
        case_record_police_outcome(
            actor=supervisor,
            case=case,
            outcome="nfa",
            on=today - datetime.timedelta(days=1),
            reason="Evidential difficulties: no independent witness.",
            today=today,
        )
        # A restricted police-perpetrated case.
        case = new_case(8, "SCA15-76", police_perpetrated=True)
        case_restrict(
            actor=supervisor, case=case, users=[oic], reason="The suspect is a serving officer of this force."
        )
        # A scrutiny panel reviewing the NFA case.
        area = Organisation.objects.get(code=code).area
        panel, _ = ScrutinyPanel.objects.get_or_create(
            name=f"{area.name} DA scrutiny panel", organisation=area
        )
        panel.members.add(users[f"{area_code}-panel"])
        nfa_case = Case.objects.filter(force__code=code, status="nfa").first()
        PanelReview.objects.get_or_create(
            panel=panel, case=nfa_case, meeting_on=today, defaults={"sampling": "random"}
        )

    def _print_logins(self, users: dict[str, User], local: bool) -> None:
        self.stdout.write(
            "\nDemo logins"
            + (f" (password for all: {DEMO_PASSWORD})" if local else " (no passwords outside the local run)")
            + ":"
        )
        for name, user in users.items():
            self.stdout.write(
                f"  {name:24} {user.organisation.name}: {', '.join(Role(r).label for r in user.roles)}"
            )
