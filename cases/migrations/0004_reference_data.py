"""Load the CPS Areas, the 43 territorial police forces and the offence reference table."""

from django.db import migrations

from cases.reference_data import CPS_AREAS, FORCES, OFFENCE_TYPES


def load(apps, schema_editor):
    Organisation = apps.get_model("cases", "Organisation")
    OffenceType = apps.get_model("cases", "OffenceType")
    areas = {}
    for code, name in CPS_AREAS:
        areas[code], _ = Organisation.objects.update_or_create(code=code, defaults={"name": name, "kind": "cps_area"})
    for code, name, area in FORCES:
        Organisation.objects.update_or_create(code=code, defaults={"name": name, "kind": "force", "area": areas[area]})
    for code, title, statute, mode, regime, common_assault, course, reducible in OFFENCE_TYPES:
        OffenceType.objects.update_or_create(
            code=code,
            defaults={
                "title": title,
                "statute": statute,
                "mode_of_trial": mode,
                "stl_regime": regime,
                "is_common_assault": common_assault,
                "course_of_conduct": course,
                "reducible_to_common_assault": reducible,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
