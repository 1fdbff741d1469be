"""Give every offence of a case with an existing decision that decision's outcome (an action plan: further
evidence needed), with the offence's suspect; and each existing charge the suspect of its offences when they
have one. Touches no clock, so no time limit moves."""

from django.db import migrations

FORWARD = """
INSERT INTO charging_decisionoutcome (decision_id, offence_id, suspect_id, outcome, code_test_failed, reasons)
SELECT d.id, o.id, o.suspect_id,
       CASE d.outcome WHEN 'action_plan' THEN 'further_evidence' ELSE d.outcome END, '', ''
FROM charging_chargingdecision d
JOIN cases_offence o ON o.case_id = d.case_id
ON CONFLICT DO NOTHING;

UPDATE charging_charge ch SET suspect_id = s.suspect_id
FROM (
    SELECT co.charge_id, min(o.suspect_id) AS suspect_id
    FROM charging_charge_offences co JOIN cases_offence o ON o.id = co.offence_id
    GROUP BY co.charge_id
    HAVING count(DISTINCT o.suspect_id) = 1 AND count(o.suspect_id) = count(*)
) AS s
WHERE ch.id = s.charge_id;
"""


class Migration(migrations.Migration):
    dependencies = [("charging", "0006_per_offence_outcomes_early_advice_charge_details")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
