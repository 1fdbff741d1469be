"""Move the facts the law attaches to a person from the case to the people (issue "People and offences").

- A case with exactly one victim: its case-level first qualifying report (CJA 1988 s.39A) becomes that victim's,
  and that victim is named as the complainant of every offence that names none. A case with no victim or several
  keeps its report on the case as *unassigned*: it extends no limit until an officer assigns it (the case page
  asks for it).
- A case with exactly one suspect: that suspect is named on every offence that names none.
- Every open time limit that s.39A could have extended (a DA common assault, and the common-assault limit of a
  reducible assault) is now the MCA 1980 s.127 date: no relationship between complainant and suspect is recorded
  yet, and without it the behaviour is not shown to be domestic abuse (DA Act 2021 ss.1-2). The s.127 date is never
  later than the s.39A date, so every limit stays the same or comes earlier, never later. The sweep moves the
  clocks' states on (and records any crossing) at its next run.

Fixed SQL on purpose: a migration must not import code that may change later.
"""

from django.conf import settings
from django.db import migrations

_ONE_VICTIM = "(SELECT count(*) FROM victims_victim v2 WHERE v2.case_id = c.id) = 1"

_SQL = [
    # 1. The case's report becomes its only victim's.
    f"""
    UPDATE victims_victim v
    SET first_qualifying_report_on = c.first_qualifying_report_on,
        first_qualifying_report_kind = c.first_qualifying_report_kind
    FROM cases_case c
    WHERE v.case_id = c.id AND c.first_qualifying_report_on IS NOT NULL AND {_ONE_VICTIM}
    """,
    f"""
    UPDATE cases_case c
    SET first_qualifying_report_on = NULL, first_qualifying_report_kind = ''
    WHERE c.first_qualifying_report_on IS NOT NULL AND {_ONE_VICTIM}
    """,
    # 2. The only victim is the complainant of each offence that names none.
    """
    UPDATE cases_offence o
    SET complainant_id = v.id
    FROM victims_victim v
    WHERE v.case_id = o.case_id AND o.complainant_id IS NULL
      AND (SELECT count(*) FROM victims_victim v2 WHERE v2.case_id = o.case_id) = 1
    """,
    # 3. The only suspect is the suspect of each offence that names none.
    """
    UPDATE cases_offence o
    SET suspect_id = s.person_id
    FROM cases_case_suspects s
    WHERE s.case_id = o.case_id AND o.suspect_id IS NULL
      AND (SELECT count(*) FROM cases_case_suspects s2 WHERE s2.case_id = o.case_id) = 1
    """,
    # 4. Limits s.39A could have extended: the s.127 date (never later than before).
    """
    UPDATE cases_clock k
    SET due_on = LEAST(k.due_on, (o.committed_on + make_interval(months => %(months)s))::date),
        warn_on = LEAST(
            LEAST(k.due_on, (o.committed_on + make_interval(months => %(months)s))::date),
            GREATEST(
                k.started_on,
                LEAST(k.due_on, (o.committed_on + make_interval(months => %(months)s))::date) - %(flag)s
            )
        ),
        params = k.params || '{"basis": "s127", "reasons": ["connection_unknown"]}'::jsonb
    FROM cases_offence o, cases_offencetype t
    WHERE k.offence_id = o.id AND t.id = o.offence_type_id AND k.stopped_on IS NULL
      AND (k.kind = 'stl_common_assault' OR (k.kind = 'stl' AND t.stl_regime = 'cja_s39a'))
    """,
    # 5. The derived dates of every case with an open time limit, in a statement of its own (within one statement a
    # data-modifying CTE's changes are not visible to the rest of it).
    """
    UPDATE cases_case c
    SET next_due_on = (SELECT min(k.due_on) FROM cases_clock k WHERE k.case_id = c.id AND k.stopped_on IS NULL),
        stl_due_on = (
            SELECT min(k.due_on) FROM cases_clock k
            WHERE k.case_id = c.id AND k.stopped_on IS NULL AND k.kind IN ('stl', 'stl_common_assault')
        )
    WHERE c.id IN (
        SELECT k.case_id FROM cases_clock k
        WHERE k.stopped_on IS NULL AND k.kind IN ('stl', 'stl_common_assault')
    )
    """,
]


def forward(apps, schema_editor):
    rules = getattr(settings, "JJP_RULES", {})
    params = {"months": int(rules.get("stl_months", 6)), "flag": int(rules.get("stl_flag_days", 56))}
    with schema_editor.connection.cursor() as cursor:
        for sql in _SQL:
            cursor.execute(sql, params if "%(" in sql else None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_people_facts"),
        ("victims", "0004_people_facts"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
