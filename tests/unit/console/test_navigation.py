"""Who sees which menu entries, which one is active, and where a login may send someone next."""
from __future__ import annotations

import pytest

from console.navigation import navigation_for
from console.routes.login import _safe_next
from core.domain.staff import Role, StaffIdentity


def _staff(role: Role) -> StaffIdentity:
    return StaffIdentity(id=1, name="某人", email="a@example.org", role=role, actor="console:1")


def test_each_role_sees_its_pages_and_those_below_it():
    paths = {role: [item.path for item in navigation_for(_staff(role), "/")] for role in Role}
    assert "/matching" not in paths[Role.REVIEWER] and "/audit" not in paths[Role.REVIEWER]
    assert "/matching" in paths[Role.COORDINATOR] and "/batches" not in paths[Role.COORDINATOR]
    assert {"/batches", "/staff", "/staff/settings"} <= set(paths[Role.ADMIN])
    assert set(paths[Role.REVIEWER]) < set(paths[Role.COORDINATOR]) < set(paths[Role.ADMIN])
    assert navigation_for(None, "/") == []


@pytest.mark.parametrize("path, active", [
    ("/", "/"), ("/applications/12", "/applications"), ("/staff", "/staff"), ("/staff/settings", "/staff/settings"),
    ("/staffing", None),
])
def test_the_most_specific_entry_is_active(path, active):
    marked = [item.path for item in navigation_for(_staff(Role.ADMIN), path) if item.active]
    assert marked == ([active] if active else [])


@pytest.mark.parametrize("raw, expected", [
    ("/pool?course=创新思维", "/pool?course=创新思维"), ("", "/"), (None, "/"), ("https://evil.example/x", "/"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("pool", "/"),
])
def test_after_login_only_a_path_on_this_site(raw, expected):
    assert _safe_next(raw) == expected
