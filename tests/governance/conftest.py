"""Governance personas on top of the shared ones (tests/conftest.py): a legal manager of force A's Area, a
legal manager of another Area, scrutiny panel members, an administrator."""

from __future__ import annotations

import pytest

from cases.models import Role
from tests.factories import UserFactory


@pytest.fixture
def legal_manager_a(area_a):
    return UserFactory(organisation=area_a, roles=[Role.LEGAL_MANAGER], username="legal-manager-a")


@pytest.fixture
def legal_manager_b(area_b):
    return UserFactory(organisation=area_b, roles=[Role.LEGAL_MANAGER], username="legal-manager-b")


@pytest.fixture
def supervisor_b(force_b):
    return UserFactory(organisation=force_b, roles=[Role.POLICE_SUPERVISOR], username="supervisor-b")


@pytest.fixture
def member_a(force_a):
    """A panel member (e.g. an IDVA service manager) attached to force A's panel."""
    return UserFactory(organisation=force_a, roles=[Role.PANEL_MEMBER], username="panel-member-a")


@pytest.fixture
def member_b(force_b):
    return UserFactory(organisation=force_b, roles=[Role.PANEL_MEMBER], username="panel-member-b")


@pytest.fixture
def admin_a(force_a):
    return UserFactory(organisation=force_a, roles=[Role.ADMINISTRATOR], username="admin-a")
