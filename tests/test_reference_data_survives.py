"""Transactional tests flush the database; the reference rows from data migrations must come back after them."""

import pytest

from cases.models import OffenceType, Organisation


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_reference_data():
    assert Organisation.objects.filter(kind="force").count() == 43
    assert OffenceType.objects.filter(code="CJA88-39").exists()


@pytest.mark.django_db(transaction=True)
def test_and_the_next_one_does_too():
    assert Organisation.objects.filter(kind="cps_area").count() == 15
