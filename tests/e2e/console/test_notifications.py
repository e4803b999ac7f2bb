"""Notifications in a browser: the outbox by state and channel, failures with their reasons, retry."""
from __future__ import annotations

import re

from tests.e2e.console.conftest import expect
from sqlalchemy import select, update

from core.db.models import AuditEntry, OutboxMessage
from tests.support.outbox import add_person, queue


async def _outbox(core):
    ids = {}
    for number, (state, reason) in enumerate((("failed", "SMTP 550：收件邮箱不存在"), ("unknown", "连接在发送后中断，不确定对方是否收到"),
                                              ("failed", "Telegram 403：用户已屏蔽机器人"), ("sent", None))):
        person = await add_person(core, name=f"收件人{number}", email=f"person{number}@example.cn")
        [row_id] = await queue(core, person, occasion=f"case{number}")
        async with core.uow() as uow:
            await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
                status=state, last_error=reason, attempts=3 if reason else 1))
            await uow.commit()
        ids.setdefault(state, []).append(row_id)
    return ids


async def _status_of(core, row_id):
    async with core.uow() as uow:
        return await uow.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id))


async def _retries(core):
    async with core.uow() as uow:
        return [(a.actor, a.detail) for a in (await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "outbox.retry"))).all()]


def test_a_coordinator_sees_each_failure_with_its_reason_and_retries_one(console_server, page, staff_account, login,
                                                                         screenshot):
    ids = console_server.call(_outbox)
    account = staff_account("coordinator")
    login(page, account)
    page.goto(console_server.url("/notifications"))
    counts = page.locator("#outbox-counts")
    expect(counts.locator("tr", has_text="发送失败").locator("td.num").first).to_have_text("2")
    expect(page.locator(f'#outbox tr[data-id="{ids["unknown"][0]}"]')).to_contain_text("不确定对方是否收到")
    expect(page.locator(f'#outbox tr[data-id="{ids["sent"][0]}"] input[type=checkbox]')).to_have_count(0)
    # The address is masked; the reason is shown in full.
    first_failed = page.locator(f'#outbox tr[data-id="{ids["failed"][0]}"]')
    expect(first_failed).to_contain_text("SMTP 550：收件邮箱不存在")
    expect(first_failed).not_to_contain_text("person0@example.cn")
    screenshot(page, "notifications")

    page.select_option("select[name=status]", "failed")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("#outbox tbody tr")).to_have_count(2)
    page.check(f'#outbox tr[data-id="{ids["failed"][0]}"] input[name=id]')
    page.click("button[name=selected]")
    expect(page.locator(".flash")).to_have_text("已把 1 条通知重新排入发送队列。")
    assert console_server.call(_status_of(console_server.core, ids["failed"][0])) == "queued"
    assert console_server.call(_status_of(console_server.core, ids["failed"][1])) == "failed"
    assert console_server.call(_status_of(console_server.core, ids["unknown"][0])) == "unknown"
    assert console_server.call(_retries) == [(account.actor, {"ids": [ids["failed"][0]], "all_failed": False, "count": 1})]
    # The filter is kept after the retry: only the one still failing is listed.
    expect(page.locator("#outbox tbody tr")).to_have_count(1)


def test_retry_all_failed_leaves_unknown_outcomes_for_a_decision_per_row(console_server, page, staff_account, login):
    ids = console_server.call(_outbox)
    login(page, staff_account("coordinator"))
    page.goto(console_server.url("/notifications"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[name=all_failed]")
    expect(page.locator(".flash")).to_have_text("已把 2 条通知重新排入发送队列。")
    assert [console_server.call(_status_of(console_server.core, i)) for i in ids["failed"]] == ["queued", "queued"]
    assert console_server.call(_status_of(console_server.core, ids["unknown"][0])) == "unknown"


def test_retry_with_nothing_selected_says_so(console_server, phone_page, staff_account, login, screenshot):
    console_server.call(_outbox)
    login(phone_page, staff_account("coordinator"))
    phone_page.goto(console_server.url("/notifications"))
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    phone_page.click("button[name=selected]")
    expect(phone_page.locator(".error")).to_have_text("请至少勾选一条要重试的通知。")
    screenshot(phone_page, "notifications-phone")


async def _telegram_and_email_rows(core):
    chat = await add_person(core, name="聊天收件人", email=None, telegram_id=90017001, channel="telegram")
    mail = await add_person(core, name="邮件收件人", email="reader@example.cn")
    [chat_row] = await queue(core, chat, occasion="chat")
    [mail_row] = await queue(core, mail, occasion="mail")
    async with core.uow() as uow:
        await uow.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([chat_row, mail_row])).values(
            status="sent", attempts=1, provider_reply="message_id=384500574"))
        await uow.commit()
    return chat_row, mail_row


def test_a_chat_address_names_its_channel_once_and_a_sent_row_starts_with_the_reply(console_server, page,
                                                                                    staff_account, login):
    # Seen in the newcomer walkthrough: "Telegram Telegram …7001", and an empty line above "服务方答复".
    chat_row, mail_row = console_server.call(_telegram_and_email_rows)
    login(page, staff_account("coordinator"))
    page.goto(console_server.url("/notifications"))
    chat_cell = page.locator(f'#outbox tr[data-id="{chat_row}"] td[data-label="通道"]')
    expect(chat_cell).to_have_text("Telegram …7001")
    expect(page.locator(f'#outbox tr[data-id="{mail_row}"] td[data-label="通道"]')).to_have_text("电子邮件 r***@example.cn")
    reason = page.locator(f'#outbox tr[data-id="{chat_row}"] td.reason')
    expect(reason).to_have_text("服务方答复：message_id=384500574")
    assert reason.evaluate("cell => cell.querySelector('br')") is None
