"""The console on the embedded SQLite database (what `innoeng run` uses out of the box): log in, see the
dashboard, log out."""
from __future__ import annotations

import re

import pytest
from tests.e2e.console.conftest import expect


@pytest.fixture
def console_backend() -> str:
    return "sqlite"


def test_login_dashboard_and_logout_on_sqlite(console_server, page, staff_account, login):
    assert console_server.core.settings.database_url.startswith("sqlite")
    account = staff_account("coordinator")
    login(page, account)
    expect(page.locator("#batch h2")).to_have_text("第一批")
    page.goto(console_server.url("/notifications"))
    expect(page.locator("h1")).to_have_text("通知发送情况")
    page.click("text=退出")
    expect(page).to_have_url(re.compile(r"/login$"))
