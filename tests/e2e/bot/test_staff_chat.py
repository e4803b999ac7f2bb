"""Staff in the chat: the whole review queue, their own commands in /help (what each role sees: test_staff_permissions),
statistics in words, refusals audited."""
from __future__ import annotations

from sqlalchemy import select

from core.db.models import AuditEntry
from core.sample import populate
from tests.e2e.bot.conftest import STAFF_ID
from tests.support.chat import ChatDriver

OUTSIDER = 8181


async def test_pending_shows_the_true_count_and_pages_through_every_application(running_bot, people):
    core = running_bot.core
    await populate(people=core.people, intake=core.intake, experts=12, universities=1)
    await people.send_text(STAFF_ID, "/pending")
    header = await people.next_message(STAFF_ID)
    assert "13" in header.text, header.text
    cards = [await people.next_message(STAFF_ID) for _ in range(10)]
    assert all("受理编号" in c.text or "（E" in c.text or "（U" in c.text for c in cards), cards[0].text
    more = await people.next_message(STAFF_ID)
    assert "下一页" in more.buttons, more.text
    await people.press_button(STAFF_ID, more, "下一页")
    rest = [await people.next_message(STAFF_ID) for _ in range(3)]
    references = {c.text.split("（", 1)[1].split("）", 1)[0] for c in cards + rest[1:] if "（" in c.text}
    assert "11" in rest[0].text and "13" in rest[0].text, rest[0].text
    assert len(references) == 12


async def test_help_lists_the_staff_commands_to_staff_only(running_bot, people):
    await people.send_text(STAFF_ID, "/help")
    staff_help = await people.next_message(STAFF_ID)
    assert all(f"/{c}" in staff_help.text for c in ("pending", "stats", "match", "newevent", "events", "filing"))
    await people.send_text(OUTSIDER, "/help")
    outsider_help = await people.next_message(OUTSIDER)
    assert "/start" in outsider_help.text and "/pending" not in outsider_help.text


async def test_stats_name_each_status_in_chinese(running_bot, people):
    core = running_bot.core
    await populate(people=core.people, intake=core.intake, experts=2, universities=1)
    await people.send_text(STAFF_ID, "/stats")
    stats = await people.next_message(STAFF_ID)
    assert "已提交，待审核 2" in stats.text and "submitted" not in stats.text, stats.text


async def test_newevent_and_events_refused_to_others_are_written_to_the_audit_log(running_bot, people):
    for command in ("/newevent 岗前示范交流活动", "/events"):
        await people.send_text(OUTSIDER, command)
        refusal = await people.next_message(OUTSIDER)
        assert "权限" in refusal.text or "工作人员" in refusal.text, refusal.text
    async with running_bot.core.uow() as uow:
        entries = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.denied"))).all()
        attempted = " ".join(str(e.detail) for e in entries)
    assert len(entries) == 2 and "/newevent" in attempted and "/events" in attempted, attempted
