"""Bringing in the campaign's existing members from the console is for admins only."""
from services.console.domain import Permission, Role, may


def test_only_an_admin_may_import_members():
    assert may(Role.ADMIN, Permission.IMPORT_MEMBERS)
    assert not may(Role.REVIEWER, Permission.IMPORT_MEMBERS)
