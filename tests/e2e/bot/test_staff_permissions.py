"""One permission model in the chat (issue 23): a Telegram id acts with the role of the staff account linked to it.
An id of STAFF_TELEGRAM_IDS with none reviews and nothing else; the refusal says how to get the role needed."""
from __future__ import annotations

from sqlalchemy import select

from core.db.models import AuditEntry
from core.sample import populate
from tests.e2e.bot.conftest import REVIEWER_ID, STAFF_ID, UNLINKED_STAFF_ID
from tests.support.chat import ChatDriver
from tests.support.factories import both_accept, confirmed_pairs


async def denied(core) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        rows = (await uow.session.execute(select(AuditEntry.actor, AuditEntry.detail).where(
            AuditEntry.action == "access.denied").order_by(AuditEntry.id))).all()
    return [(actor, detail.get("attempted")) for actor, detail in rows]


async def test_publicity_and_matching_are_refused_to_an_unlinked_and_a_reviewer_id_and_allowed_to_a_coordinator(
        running_bot, people):
    core = running_bot.core
    pairs = await confirmed_pairs(core)
    accepted = (await both_accept(core, pairs["创新思维"])).id

    for sender in (UNLINKED_STAFF_ID, REVIEWER_ID):
        await people.send_text(sender, f"/publicity start {accepted}")
        refusal = await people.next_message(sender)
        assert "协调员" in refusal.text, refusal.text
        await people.send_text(sender, "/match")
        assert "协调员" in (await people.next_message(sender)).text
    unlinked, reviewer = (await people.bot_messages(UNLINKED_STAFF_ID)), (await people.bot_messages(REVIEWER_ID))
    assert "innoeng staff link-telegram" in unlinked[0].text and str(UNLINKED_STAFF_ID) in unlinked[0].text
    assert "「审核员」" in reviewer[0].text and "innoeng staff role" in reviewer[0].text
    assert (await core.appointments.get(staff="test", appointment_id=accepted)).status == "accepted"  # nothing started
    assert await denied(core) == [
        (f"staff:{UNLINKED_STAFF_ID}", "appointments.view"), (f"staff:{UNLINKED_STAFF_ID}", "matching.view"),
        (f"staff:{REVIEWER_ID}", "appointments.view"), (f"staff:{REVIEWER_ID}", "matching.view"),
    ]

    # The coordinator-linked id starts it, and /match offers the batches.
    staff = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, f"/publicity start {accepted}")
    started = await staff.wait_for(lambda m: "公示" in m.text)
    assert str(accepted) in started.text and "协调员" not in started.text, started.text
    assert (await core.appointments.get(staff="test", appointment_id=accepted)).status == "publicity"
    await people.send_text(STAFF_ID, "/match")
    assert "对哪个批次运行匹配" in (await staff.wait_for(lambda m: "批次" in m.text)).text


async def test_workshop_commands_need_a_coordinator_too(running_bot, people):
    for sender in (UNLINKED_STAFF_ID, REVIEWER_ID):
        await people.send_text(sender, "/newevent 岗前示范交流活动 | 示范课 | 2030-07-20 14:00 | 16:00")
        assert "协调员" in (await people.next_message(sender)).text
    assert await running_bot.core.events.list(staff="test") == []
    await people.send_text(STAFF_ID, "/newevent 岗前示范交流活动 | 示范课 | 2030-07-20 14:00 | 16:00")
    assert "已创建活动" in (await ChatDriver(people, STAFF_ID).wait_for(lambda m: "活动" in m.text)).text


async def test_an_unlinked_staff_id_still_reviews(running_bot, people):
    core = running_bot.core
    await populate(people=core.people, intake=core.intake, experts=1, universities=0)
    await people.send_text(UNLINKED_STAFF_ID, "/pending")
    chat = ChatDriver(people, UNLINKED_STAFF_ID)
    card = await chat.wait_for(lambda m: "✅ 通过" in m.buttons)
    await people.press_button(UNLINKED_STAFF_ID, card, "✅ 通过")
    done = await chat.wait_for(lambda m: "已处理" in m.text)
    assert "审核通过" in done.text, done.text
    async with core.uow() as uow:
        approvals = (await uow.session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "review.approved"))).all()
    assert approvals == [f"staff:{UNLINKED_STAFF_ID}"] and await denied(core) == []


async def test_help_lists_only_the_commands_the_role_may_use_and_how_to_get_the_rest(running_bot, people):
    await people.send_text(UNLINKED_STAFF_ID, "/help")
    unlinked = (await people.next_message(UNLINKED_STAFF_ID)).text
    staff_part = unlinked.split("工作人员命令：", 1)[1]
    listed = staff_part.split("\n\n", 1)[0]
    assert "/pending" in listed and "/stats" in listed and "/match" not in listed and "/publicity" not in listed
    assert "innoeng staff link-telegram" in staff_part and str(UNLINKED_STAFF_ID) in staff_part, unlinked

    await people.send_text(REVIEWER_ID, "/help")
    reviewer = (await people.next_message(REVIEWER_ID)).text.split("工作人员命令：", 1)[1]
    assert "/pending" in reviewer.split("\n\n", 1)[0] and "/newevent" not in reviewer.split("\n\n", 1)[0]
    assert "「审核员」" in reviewer and "innoeng staff role" in reviewer, reviewer

    await people.send_text(STAFF_ID, "/help")
    coordinator = (await people.next_message(STAFF_ID)).text.split("工作人员命令：", 1)[1]
    assert all(f"/{c}" in coordinator for c in ("pending", "match", "publicity", "newevent", "caplift"))
    assert "innoeng staff" not in coordinator, coordinator
