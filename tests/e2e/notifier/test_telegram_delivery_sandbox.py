"""Telegram delivery through a real aiogram Bot over HTTP to the local Bot API stand-in:
plain notices, RSVP buttons, 429 retry_after honoured, 403 as permanent."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.factory import create_bot
from notifier.mail import FakeMailer
from notifier.telegram import TelegramTransport
from tests.support.outbox import add_person, make_worker, queue, row

CHAT = 7101
START = datetime(2025, 7, 10, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def bot(stand_in):
    instance = create_bot(stand_in.token, stand_in.base_url)
    yield instance
    await instance.session.close()


@pytest.fixture
def worker(core, bot):
    return make_worker(core, mailers=[FakeMailer()], telegram=TelegramTransport(bot))


async def test_a_review_result_arrives_in_the_chat(core, people, worker):
    await people.send_text(CHAT, "/start")  # the person has talked to the bot, so the chat exists
    person = await add_person(core, email=None, telegram_id=CHAT, channel="telegram")
    (row_id,) = await queue(core, person, kind="review_needs_info", payload={
        "application_id": 7, "form": "expert", "name": "张三", "reference": "E01-000007", "batch": "第一批",
        "message": "请补充高级职称证书的扫描件",
    })

    await worker.drain()

    message = await people.next_message(CHAT)
    assert "E01-000007" in message and "请补充高级职称证书的扫描件" in message and "/edit" in message
    stored = await row(core, row_id)
    assert stored.status == "sent" and stored.provider_reply == f"message_id={message.message_id}"


async def test_flood_control_retry_after_is_honoured(core, people, worker, clock):
    await people.send_text(CHAT, "/start")
    person = await add_person(core, email=None, telegram_id=CHAT, channel="telegram")
    (row_id,) = await queue(core, person)
    await people.inject_fault("sendMessage", chat_id=CHAT, kind="flood", retry_after=1)

    await worker.drain()

    waiting = await row(core, row_id)
    assert waiting.status == "queued" and "429" in waiting.last_error
    assert waiting.due_at == clock.now + timedelta(seconds=1)
    assert await worker.drain() == 0, "not before retry_after"

    clock.advance(seconds=1)
    await worker.drain()

    assert (await row(core, row_id)).status == "sent"
    assert "已通过审核" in await people.next_message(CHAT)


async def test_a_bot_blocked_by_the_user_fails_permanently(core, people, worker, clock):
    await people.send_text(CHAT, "/start")
    person = await add_person(core, email=None, telegram_id=CHAT, channel="telegram")
    (row_id,) = await queue(core, person)
    await people.inject_fault("sendMessage", chat_id=CHAT, kind="blocked", times=None)

    await worker.drain()

    failed = await row(core, row_id)
    assert failed.status == "failed" and "403" in failed.last_error and "blocked" in failed.last_error
    clock.advance(days=1)
    assert await worker.drain() == 0


async def test_server_errors_are_retried(core, people, worker, clock):
    await people.send_text(CHAT, "/start")
    person = await add_person(core, email=None, telegram_id=CHAT, channel="telegram")
    (row_id,) = await queue(core, person)
    await people.inject_fault("sendMessage", chat_id=CHAT, kind="bad_gateway")

    await worker.drain()
    assert (await row(core, row_id)).status == "queued"
    clock.advance(minutes=2)
    await worker.drain()
    assert (await row(core, row_id)).status == "sent"


async def test_an_invitation_comes_with_rsvp_buttons(core, people, worker):
    await people.send_text(CHAT, "/start")
    person = await add_person(core, email=None, telegram_id=CHAT, channel="telegram")
    event = await core.events.create(kind="教学研讨会", title="技术创新方法教学研讨", starts_at=START,
                                     ends_at=START + timedelta(hours=3), venue="上海某大学", actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[person])

    await worker.drain()

    message = await people.next_message(CHAT)
    assert "教学研讨会「技术创新方法教学研讨」" in message and "地点：上海某大学" in message
    assert message.buttons == ["参加", "不参加"]
    (invitation,) = await core.events.invitations(staff="test", event_id=event.id)
    assert message.callback_data("参加") == f"rsvp:{invitation.id}:y"
    assert len(message.callback_data("不参加").encode()) <= 64
