"""Batches (admin) in a browser: create, refuse wrong dates keeping the input, change dates, unknown id → 404."""
from __future__ import annotations

import re

from tests.e2e.console.conftest import expect


def test_an_admin_creates_a_batch_and_changes_its_dates(console_server, page, phone_page, staff_account, login,
                                                        screenshot):
    admin = staff_account("admin")
    login(page, admin)
    page.goto(console_server.url("/batches"))
    page.fill("input[name=name]", "第二批")
    page.fill("input[name=opens]", "2027-03-01")
    page.fill("input[name=closes]", "2027-02-01")  # before the opening: refused
    page.click("#new-batch button[type=submit]")
    expect(page.locator("#new-batch .error")).to_contain_text("报名截止时间必须晚于报名开始时间")
    expect(page.locator("input[name=name]")).to_have_value("第二批")  # nothing entered is lost
    page.fill("input[name=closes]", "2027-04-30")
    page.click("#new-batch button[type=submit]")
    expect(page.locator(".flash")).to_have_text("批次已创建。")
    row = page.locator("#batches tr", has_text="第二批")
    expect(row).to_contain_text("2027-04-30")
    screenshot(page, "batches")

    row.locator("a", has_text="修改日期").click()
    expect(page).to_have_url(re.compile(r"/batches/\d+$"))
    page.fill("input[name=closes]", "2027-05-15")
    page.fill("input[name=matching]", "2027-05-20")
    page.click("button[type=submit].primary")
    expect(page.locator(".flash")).to_have_text("批次日期已修改。")
    expect(page.locator("#batches tr", has_text="第二批")).to_contain_text("2027-05-15")
    expect(page.locator("#batches tr", has_text="第二批")).to_contain_text("2027-05-20")
    actions = console_server.call(_batch_audit)
    assert [(action, actor) for action, actor in actions] == [("batch.create", admin.actor), ("batch.update", admin.actor)]

    login(phone_page, admin)
    phone_page.goto(console_server.url("/batches"))
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    screenshot(phone_page, "batches-phone")


def test_an_unknown_batch_id_is_a_404_page(console_server, page, staff_account, login):
    login(page, staff_account("admin"))
    for path in ("/batches/999999", "/batches/abc", "/staff/999999"):
        response = page.goto(console_server.url(path))
        assert response.status == 404, path
        expect(page.locator("h1")).to_have_text("找不到页面")


def test_a_coordinator_cannot_manage_batches(console_server, page, staff_account, login):
    login(page, staff_account("coordinator"))
    assert page.goto(console_server.url("/batches")).status == 403
    expect(page.locator('nav a[href="/batches"]')).to_have_count(0)


async def _batch_audit(core):
    from sqlalchemy import select

    from core.db.models import AuditEntry

    async with core.uow() as uow:
        return (await uow.session.execute(select(AuditEntry.action, AuditEntry.actor)
                                          .where(AuditEntry.action.like("batch.%"), AuditEntry.actor != "system")
                                          .order_by(AuditEntry.id))).all()
