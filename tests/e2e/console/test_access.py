"""Access to the console through a real browser: login, lockout, roles, CSRF, unknown ids."""
from __future__ import annotations

import re

from tests.e2e.console.conftest import expect


def test_no_session_sends_to_the_login_page(console_server, page):
    page.goto(console_server.url("/notifications"))
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)notifications$"))
    expect(page.locator("h1")).to_have_text("工作人员登录")


def test_wrong_password_is_refused_and_the_email_kept(console_server, page, phone_page, staff_account, screenshot):
    account = staff_account("reviewer")
    phone_page.goto(console_server.url("/login"))
    screenshot(phone_page, "login-phone")
    page.goto(console_server.url("/login"))
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", "not-the-password-at-all")
    page.click("button[type=submit].primary")
    expect(page.locator("#login-error")).to_have_text("邮箱或密码不正确。")
    expect(page.locator("input[name=email]")).to_have_value(account.email)
    screenshot(page, "login-refused")
    page.goto(console_server.url("/"))
    expect(page).to_have_url(re.compile(r"/login"))


def test_login_then_logout_ends_the_session(console_server, page, staff_account, login):
    account = staff_account("reviewer")
    login(page, account)
    expect(page.locator(".who")).to_contain_text(account.name)
    cookie = next(c for c in page.context.cookies() if c["name"] == "innoeng_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("text=退出")
    expect(page).to_have_url(re.compile(r"/login$"))
    # The old cookie no longer opens anything, even if a copy of it was kept.
    page.context.add_cookies([{**cookie}])
    page.goto(console_server.url("/"))
    expect(page).to_have_url(re.compile(r"/login"))


def test_repeated_failures_lock_the_account_with_an_audit_entry(console_server, page, staff_account):
    account = staff_account("reviewer")
    limit = console_server.core.settings.console_max_failed_logins
    for _ in range(limit):
        page.goto(console_server.url("/login"))
        page.fill("input[name=email]", account.email)
        page.fill("input[name=password]", "wrong-password-123")
        page.click("button[type=submit].primary")
        expect(page.locator("#login-error")).to_be_visible()
    # Now even the right password is refused until the lock ends.
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit].primary")
    expect(page.locator("#login-error")).to_contain_text("已暂时锁定")
    actions = console_server.call(_audit_actions)
    assert ("staff.locked", f"staff_account:{account.id}") in actions


def test_admin_login_needs_the_second_factor(console_server, page, staff_account, login):
    admin = staff_account("admin")
    page.goto(console_server.url("/login"))
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", admin.password)
    page.click("button[type=submit].primary")
    expect(page.locator("#login-error")).to_contain_text("6 位验证码")
    login(page, admin)
    expect(page.locator(".who")).to_contain_text("管理员")


def test_a_reviewer_cannot_open_a_coordinator_page(console_server, page, staff_account, login):
    account = staff_account("reviewer")
    login(page, account)
    response = page.goto(console_server.url("/notifications"))
    assert response.status == 403
    expect(page.locator(".error")).to_contain_text("需要「协调员」或更高权限")
    assert ("access.denied", "page:/notifications") in console_server.call(_audit_actions)


def test_a_post_without_the_csrf_token_is_refused(console_server, page, staff_account, login):
    account = staff_account("reviewer")
    login(page, account)
    # The browser's own cookies go with the request; only the form token is missing.
    response = page.request.post(console_server.url("/logout"), form={"x": "1"}, max_redirects=0)
    assert response.status == 403
    assert "安全校验未通过" in response.text()
    page.goto(console_server.url("/"))
    expect(page.locator(".who")).to_contain_text(account.name)  # still signed in: the logout was refused


def test_unknown_page_is_a_404_page_without_a_trace(console_server, page, staff_account, login):
    login(page, staff_account("reviewer"))
    response = page.goto(console_server.url("/no-such-page/123"))
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("找不到页面")
    assert "Traceback" not in page.content()


def test_pages_carry_the_security_headers(console_server, page, staff_account, login):
    login(page, staff_account("reviewer"))
    response = page.goto(console_server.url("/"))
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "same-origin"


async def _audit_actions(core):
    from sqlalchemy import select

    from core.db.models import AuditEntry

    async with core.uow() as uow:
        return set((await uow.session.execute(select(AuditEntry.action, AuditEntry.subject))).all())
