"""GET /api/v1/offence-types/ (issue 19): the offence table, so a force system can find the codes it sends."""

from __future__ import annotations

import pytest

from cases.models import OffenceType

pytestmark = pytest.mark.django_db


def test_the_offence_table_is_listed_with_its_codes(api_a_read):
    response = api_a_read.get("/api/v1/offence-types/")
    assert response.status_code == 200
    rows = response.json()
    assert [r["code"] for r in rows] == sorted(OffenceType.objects.values_list("code", flat=True))
    common_assault = next(r for r in rows if r["code"] == "CJA88-39")
    table = OffenceType.objects.get(code="CJA88-39")
    assert common_assault == {
        "code": "CJA88-39",
        "title": table.title,
        "statute": table.statute,
        "mode_of_trial": "summary",
        "stl_regime": table.stl_regime,
    }


def test_the_offence_table_needs_a_token(api_anonymous):
    assert api_anonymous.get("/api/v1/offence-types/").status_code == 401


def test_the_offence_table_is_read_only(api_a):
    assert api_a.post("/api/v1/offence-types/", {}, format="json").status_code == 405
