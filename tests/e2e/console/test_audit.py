"""The audit log in a browser: a staff member's console and chat actions found under their name."""
from __future__ import annotations

from tests.e2e.console.conftest import expect

from tests.support.factories import submitted_expert

CHAT_ID = 900001


def test_console_and_chat_actions_show_under_the_staff_members_name(console_server, page, staff_account, login,
                                                                    screenshot):
    account = staff_account("coordinator", name="李协调", telegram_id=CHAT_ID)
    application = console_server.call(submitted_expert)
    # One action through the bot's staff identity, one through the console's.
    console_server.call(lambda core: core.review.approve(application_id=application, staff=f"staff:{CHAT_ID}"))
    login(page, account)
    page.goto(console_server.url("/notifications"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=all_failed]")

    page.goto(console_server.url("/audit"))
    page.fill("input[name=actor]", "李协调")
    page.click("#audit-search button[type=submit]")
    rows = page.locator("#audit tbody tr")
    approve = rows.filter(has_text="review.approve")
    expect(approve).to_have_count(1)
    expect(approve.locator(".actor")).to_have_text("李协调")
    expect(approve).to_contain_text(f"application:{application}")
    retry = rows.filter(has_text="outbox.retry")
    expect(retry).to_have_count(1)
    expect(retry.locator(".actor")).to_have_text("李协调")
    expect(rows.filter(has_text="staff.login").first.locator(".actor")).to_have_text("李协调")
    # Someone else's actions are not among them.
    expect(rows.filter(has_text="application.start")).to_have_count(0)
    screenshot(page, "audit")

    page.goto(console_server.url(f"/audit?subject=application:{application}&action=review"))
    expect(page.locator("#audit tbody tr")).to_have_count(1)
    expect(page.locator("#audit tbody tr .actor")).to_have_text("李协调")


def test_a_bad_date_filter_is_named_and_ignored(console_server, page, staff_account, login):
    login(page, staff_account("coordinator"))
    page.goto(console_server.url("/audit?from=yesterday"))
    expect(page.locator(".error")).to_contain_text("「yesterday」")
    expect(page.locator("#audit tbody tr").first).to_be_visible()


def test_a_reviewer_cannot_read_the_audit_log(console_server, page, staff_account, login):
    login(page, staff_account("reviewer"))
    assert page.goto(console_server.url("/audit")).status == 403
