"""Workshops in the console: create, invite an audience, RSVP tally, update, cancel."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from core.db.models import AuditEntry, EventInvitation, OutboxMessage
from tests.support.factories import approved_expert


async def kinds_queued(core) -> list[str]:
    async with core.uow() as uow:
        return [m.kind for m in (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind.like("workshop_%"), OutboxMessage.channel == "email"))).all()]


async def first_invitee_says_yes(core, event_id: int) -> None:
    async with core.uow() as uow:
        invitation_id, person_id = (await uow.session.execute(
            select(EventInvitation.id, EventInvitation.person_id).where(EventInvitation.event_id == event_id)
            .order_by(EventInvitation.id))).first()
    await core.events.respond(invitation_id=invitation_id, attending=True, person_id=person_id)


async def event_actors(core, event_id: int) -> set[tuple[str, str]]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.subject == f"event:{event_id}"))).all()
        return {(row.action, row.actor) for row in rows}


def test_create_invite_tally_update_cancel(console_server, page, phone_page, staff_account, login, screenshot):
    async def pool(core):
        await approved_expert(core, name="欧阳专家", email="ouyang@example.com")
        await approved_expert(core, name="司马专家", email="sima@example.com")

    console_server.call(pool)
    coordinator = staff_account("coordinator")
    login(page, coordinator)
    start = (console_server.core.clock().astimezone(console_server.core.settings.zone) + timedelta(days=10)).replace(
        hour=14, minute=0, second=0, microsecond=0)

    page.goto(console_server.url("/workshops"))
    page.select_option("select[name=kind]", "demo_workshop")
    page.fill("input[name=title]", "岗前示范交流活动（华东场）")
    page.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=online_url]", "https://meeting.example.org/innoeng")
    page.click("button:has-text('创建活动')")
    # Ends before it starts: refused with the reason, nothing typed is lost.
    expect(page.locator(".error")).to_be_visible()
    expect(page.locator("input[name=title]")).to_have_value("岗前示范交流活动（华东场）")
    page.fill("input[name=ends_at]", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('创建活动')")
    expect(page.locator(".flash")).to_contain_text("活动已创建")
    event_id = int(re.search(r"/workshops/(\d+)", page.url).group(1))

    page.select_option("select[name=audience]", "experts")
    page.click("button:has-text('发送邀请')")
    expect(page.locator(".flash")).to_contain_text("邀请")
    expect(page.locator("table.invitations tbody tr")).to_have_count(2)
    assert console_server.call(kinds_queued(console_server.core)).count("workshop_invitation") == 2

    console_server.call(first_invitee_says_yes(console_server.core, event_id))
    page.reload()
    tally = page.locator(".tally")
    expect(tally).to_contain_text("参加")
    expect(tally.locator("div", has_text="参加").nth(0)).to_contain_text("1")
    expect(page.locator("table.invitations")).to_contain_text("参加")
    screenshot(page, "workshop")

    later = start + timedelta(days=1)
    page.fill("form[action$='/update'] input[name=starts_at]", later.strftime("%Y-%m-%dT%H:%M"))
    page.fill("form[action$='/update'] input[name=ends_at]", (later + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('保存修改')")
    expect(page.locator(".flash")).to_contain_text("活动已更新")
    expect(page.locator(".tally")).to_contain_text(later.strftime("%Y-%m-%d %H:%M"))
    assert console_server.call(kinds_queued(console_server.core)).count("workshop_updated") == 2

    page.fill("textarea[name=reason]", "场地临时调整，另行通知")
    page.click("button:has-text('取消活动')")
    expect(page.locator(".flash")).to_contain_text("活动已取消")
    expect(page.locator("p.error")).to_contain_text("场地临时调整")
    assert console_server.call(kinds_queued(console_server.core)).count("workshop_cancelled") == 2
    assert {action for action, actor in console_server.call(event_actors(console_server.core, event_id))
            if actor == coordinator.actor} == {"event.create", "event.invite", "event.update", "event.cancel"}

    page.goto(console_server.url("/workshops?all=1"))
    expect(page.locator("table.workshops tbody tr")).to_have_count(1)
    screenshot(page, "workshops")
    page.goto(console_server.url("/workshops/55555"))
    expect(page.locator("h1")).to_have_text("找不到页面")

    login(phone_page, coordinator)
    phone_page.goto(console_server.url("/workshops"))
    screenshot(phone_page, "workshops_phone")
