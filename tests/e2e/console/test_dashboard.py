"""The dashboard in a browser: batch dates, counts per state, charts, waiting reviews, failed notifications."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.e2e.console.conftest import expect
from sqlalchemy import update

from core.db.models import OutboxMessage
from tests.support.factories import approved_expert, submitted_expert, submitted_university
from tests.support.outbox import add_person, queue


async def _batch_with_activity(core):
    waiting = [await submitted_expert(core), await submitted_expert(core, province="广东")]
    await approved_expert(core, courses=["创新思维", "创新管理"], province="北京")
    university = await submitted_university(core, {"创新思维": (32, 2, "online")})
    await core.review.approve(application_id=university, staff="staff:test")
    person = await add_person(core, email="someone@example.cn")
    [row_id] = await queue(core, person, kind="review_approved")
    async with core.uow() as uow:
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
            status="failed", last_error="SMTP 550：收件邮箱不存在"))
        await uow.commit()
    return waiting


def test_the_dashboard_shows_the_batch_counts_charts_and_problems(console_server, page, phone_page, staff_account,
                                                                 login, screenshot):
    waiting = console_server.call(_batch_with_activity)
    account = staff_account("reviewer")
    login(page, account)
    expect(page.locator("#batch h2")).to_have_text("第一批")
    expect(page.locator("#counts-expert [data-status=submitted]")).to_have_text("2")
    expect(page.locator("#counts-expert [data-status=approved]")).to_have_text("1")
    expect(page.locator("#counts-university [data-status=approved]")).to_have_text("1")
    expect(page.locator("#waiting")).to_contain_text("2 份")
    for application_id in waiting:
        expect(page.locator(f'#waiting a[href="/applications/{application_id}"]')).to_be_visible()
    # Four submissions today (2 waiting, 1 approved expert, 1 approved intent), drawn as today's bar: today in
    # Beijing, as the dashboard counts days (this machine's clock is UTC, a day behind after 16:00).
    today_bar = page.locator("#per-day rect.bar", has=page.locator(f'title:text-is("{datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()}：4 份")'))
    expect(today_bar).to_have_count(1)
    assert float(today_bar.get_attribute("height")) > 0
    creative = page.locator("#pool-courses li", has_text="创新思维")
    expect(creative.locator(".num")).to_have_text("1 / 2")
    expect(page.locator("#pool-provinces li", has_text="北京").locator(".num")).to_have_text("1")
    expect(page.locator("#failures")).to_contain_text("SMTP 550：收件邮箱不存在")
    # A reviewer is not offered the coordinator's retry page.
    expect(page.locator('#failures a[href^="/notifications"]')).to_have_count(0)
    screenshot(page, "dashboard")

    login(phone_page, account)
    expect(phone_page.locator("#batch h2")).to_have_text("第一批")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways scrolling
    screenshot(phone_page, "dashboard-phone")
    # On a phone the menu folds away behind one button.
    expect(phone_page.locator('nav a[href="/applications"]')).to_be_hidden()
    phone_page.click(".nav-toggle-label")
    expect(phone_page.locator('nav a[href="/applications"]')).to_be_visible()
    screenshot(phone_page, "dashboard-phone-menu")


def test_the_dashboard_without_any_batch_says_what_to_do(console_server, page, staff_account, login):
    async def remove_batches(core):
        from sqlalchemy import delete

        from core.db.models import Batch

        async with core.uow() as uow:
            await uow.session.execute(delete(Batch))
            await uow.commit()

    console_server.call(remove_batches)
    login(page, staff_account("coordinator"))
    expect(page.locator(".notice")).to_contain_text("还没有批次")
