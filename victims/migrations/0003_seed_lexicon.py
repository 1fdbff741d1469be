"""Seed the trauma-informed language lexicon with the starter list in victims/lexicon.py. Administrators edit
it in the admin from then on; re-running adds only phrases that are missing."""

from django.db import migrations

# A copy of the starter list at the time of this migration (migrations must not change when the code does).
STARTER = [
    ("alleged victim", "victim (use 'complainant' only where the legal context needs it, e.g. court documents)", "doubting", ""),
    ("purported victim", "victim", "doubting", ""),
    ("claims", "says / told us / reported", "doubting", ""),
    ("claimed", "said / told us / reported", "doubting", ""),
    ("claiming", "saying / reporting", "doubting", ""),
    ("she stayed", "describe what kept her in the relationship (fear, finances, children, threats)", "blaming", ""),
    ("he stayed", "describe what kept him in the relationship (fear, finances, children, threats)", "blaming", ""),
    ("chose to stay", "describe the barriers to leaving", "blaming", ""),
    ("why didn't she leave", "describe the barriers to leaving", "blaming", ""),
    ("why did she stay", "describe the barriers to leaving", "blaming", ""),
    ("let him back", "describe the pressure or barriers around contact", "blaming", ""),
    ("allowed him back", "describe the pressure or barriers around contact", "blaming", ""),
    ("domestic", "domestic abuse", "minimising", "abuse, abuser, abusers, abusive, violence, homicide, homicides, servitude"),
    ("just a domestic", "domestic abuse", "minimising", ""),
    ("domestic dispute", "domestic abuse incident", "minimising", ""),
    ("domestic argument", "domestic abuse incident", "minimising", ""),
    ("domestic row", "domestic abuse incident", "minimising", ""),
    ("volatile relationship", "abusive relationship: say who did what to whom", "minimising", ""),
    ("toxic relationship", "abusive relationship: say who did what to whom", "minimising", ""),
    ("tempestuous relationship", "abusive relationship: say who did what to whom", "minimising", ""),
    ("turbulent relationship", "abusive relationship: say who did what to whom", "minimising", ""),
    ("stormy relationship", "abusive relationship: say who did what to whom", "minimising", ""),
    ("on-off relationship", "describe the abuse and any separations", "minimising", ""),
    ("lovers' tiff", "domestic abuse incident", "minimising", ""),
    ("lovers tiff", "domestic abuse incident", "minimising", ""),
    ("crime of passion", "describe the abuse", "minimising", ""),
    ("it takes two", "say who was responsible for the abuse", "blaming", ""),
    ("six of one", "identify the primary perpetrator", "blaming", ""),
    ("mutual abuse", "identify the primary perpetrator", "blaming", ""),
    ("mutual violence", "identify the primary perpetrator", "blaming", ""),
    ("she provoked him", "the suspect is responsible for their behaviour: describe what happened", "blaming", ""),
    ("he provoked her", "the suspect is responsible for their behaviour: describe what happened", "blaming", ""),
    ("provoked him", "the suspect is responsible for their behaviour: describe what happened", "blaming", ""),
    ("victim withdrew", "victim no longer supports a prosecution", "blaming", ""),
    ("withdrew her complaint", "no longer supports a prosecution", "blaming", ""),
    ("withdrew his complaint", "no longer supports a prosecution", "blaming", ""),
    ("withdrew the complaint", "no longer supports a prosecution", "blaming", ""),
    ("refused to engage", "has not felt able to engage yet: record the barriers", "blaming", ""),
    ("refuses to engage", "does not feel able to engage yet: record the barriers", "blaming", ""),
    ("unwilling to engage", "does not feel able to engage yet: record the barriers", "blaming", ""),
    ("failed to engage", "has not engaged yet: record the barriers", "blaming", ""),
    ("failed to attend", "did not attend (record why, if known)", "blaming", ""),
    ("uncooperative victim", "victim who does not currently support a prosecution", "blaming", ""),
    ("uncooperative", "not currently able to support: record the barriers", "blaming", ""),
    ("reluctant victim", "victim who does not currently support a prosecution", "blaming", ""),
    ("difficult victim", "victim with complex needs: say what support is needed", "blaming", ""),
    ("attention seeking", "describe the behaviour without judgement", "blaming", ""),
    ("attention-seeking", "describe the behaviour without judgement", "blaming", ""),
    ("no complaint", "victim does not currently support a prosecution", "blaming", ""),
    ("not a credible", "describe the evidence; credibility is for the court", "doubting", ""),
]


def seed(apps, schema_editor):
    LexiconEntry = apps.get_model("victims", "LexiconEntry")
    have = {p.lower() for p in LexiconEntry.objects.values_list("phrase", flat=True)}
    LexiconEntry.objects.bulk_create(
        LexiconEntry(phrase=phrase, suggestion=suggestion, category=category, unless_followed_by=unless)
        for phrase, suggestion, category, unless in STARTER
        if phrase.lower() not in have
    )


def unseed(apps, schema_editor):
    LexiconEntry = apps.get_model("victims", "LexiconEntry")
    LexiconEntry.objects.filter(phrase__in=[p for p, *_ in STARTER]).delete()


class Migration(migrations.Migration):
    dependencies = [("victims", "0002_victims_code_orders_language")]

    operations = [migrations.RunPython(seed, unseed)]
