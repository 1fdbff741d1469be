"""Shared personas and helpers. Personas: an OIC of force A (Greater Manchester Police, CPS North West), a
prosecutor of A's Area, an OIC of force B (West Yorkshire Police, another Area) who must see nothing of A's."""

from __future__ import annotations

import datetime

import pytest

from cases.models import Organisation, Role
from tests.factories import CaseFactory, UserFactory

TODAY = datetime.date(2026, 3, 2)  # a Monday; tests pass it explicitly as the London "today"


@pytest.fixture
def force_a(db):
    return Organisation.objects.get(code="GMP")


@pytest.fixture
def force_b(db):
    return Organisation.objects.get(code="WYP")


@pytest.fixture
def area_a(force_a):
    return force_a.area


@pytest.fixture
def area_b(force_b):
    return force_b.area


@pytest.fixture
def oic_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.OIC], username="oic-a")


@pytest.fixture
def supervisor_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.POLICE_SUPERVISOR], username="supervisor-a")


@pytest.fixture
def prosecutor_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.PROSECUTOR], username="prosecutor-a")


@pytest.fixture
def oic_b(force_b):
    return UserFactory(organisation=force_b, roles=[Role.OIC], username="oic-b")


@pytest.fixture
def prosecutor_b(area_b):
    return UserFactory(organisation=area_b, roles=[Role.PROSECUTOR], username="prosecutor-b")


@pytest.fixture
def today():
    return TODAY


@pytest.fixture
def case_a(oic_a):
    """A common assault case of force A, reported four weeks before TODAY, under investigation."""
    return CaseFactory(actor=oic_a)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Password hashing is not under test; the default hasher costs seconds per persona."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _serialized_rollback_past_the_append_only_triggers():
    """A serialized rollback restores the rows the data migrations loaded by saving each one, an UPDATE first; on
    an audit table (the lexicon's history rows, say) the append-only trigger refuses that UPDATE. The restore is
    the test runner putting back rows it took away, not a change to the audit trail: the append-only triggers are
    lifted for it alone (docs/security.md, "The audit trail")."""
    import pgtrigger
    from django.db.backends.base.creation import BaseDatabaseCreation

    from cases.audit import APPEND_ONLY

    original = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize(self, data):
        uris = [f"{model._meta.label}:{trigger.name}" for model, trigger in pgtrigger.registered()]
        with pgtrigger.ignore(*[uri for uri in uris if uri.endswith(f":{APPEND_ONLY}")]):
            return original(self, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseCreation, "deserialize_db_from_string", deserialize)
        yield


def pytest_collection_modifyitems(items):
    """Transactional tests (threads, subprocesses, live_server) end with a flush that would also empty the rows the
    data migrations load (forces, CPS Areas, offences, the lexicon). Give every such test a serialized rollback, so
    the database is put back as migrations left it."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        names = getattr(item, "fixturenames", ())
        transactional = (marker is not None and marker.kwargs.get("transaction")) or (
            "transactional_db" in names or "live_server" in names
        )
        if not transactional:
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def _sign_in_controls_for_tests(settings):
    """Tests sign in with client.login/force_login over plain HTTP; tests/security switches the second factor,
    the lockout and the HTTPS redirect on again where it tests them."""
    settings.JJP_REQUIRE_2FA = False
    settings.SECURE_SSL_REDIRECT = False
    settings.AXES_ENABLED = False
