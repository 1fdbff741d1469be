"""API personas: force systems of force A (write and read-only) and of force B, and an HTTP client for each."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.clients import api_client_create


class Api(APIClient):
    """A DRF test client that sends a force system's bearer token."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if token:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_a(force_a):
    return api_client_create(force_code="GMP", name="GMP Records", scope="write")


@pytest.fixture
def api_a(client_a):
    return Api(client_a[1])


@pytest.fixture
def api_a_read(force_a):
    _, token = api_client_create(force_code="GMP", name="GMP Reporting", scope="read")
    return Api(token)


@pytest.fixture
def api_b(force_b):
    _, token = api_client_create(force_code="WYP", name="WYP Records", scope="write")
    return Api(token)


@pytest.fixture
def api_anonymous(db):
    return Api()
