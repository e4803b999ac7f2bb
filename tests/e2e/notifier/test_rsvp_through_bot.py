"""RSVP and staff event commands through a polling aiogram bot over the Bot API stand-in."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher

from bot.factory import create_bot
from bot.middlewares import UpdateContext
from bot.routers import rsvp, staff_events
from notifier.mail import FakeMailer
from notifier.telegram import TelegramTransport
from tests.support.outbox import add_person, make_worker
from tests.support.staff import linked_staff

USER = 7201
STAFF = 900001
START = datetime(2025, 7, 10, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def bot(stand_in, core):
    await linked_staff(core, STAFF, "coordinator")  # workshops need a coordinator (core.domain.permissions)
    instance = create_bot(stand_in.token, stand_in.base_url)
    dispatcher = Dispatcher(core=core, staff_ids=frozenset({STAFF}))
    # As in bot.main: the middleware names the person behind each update, whose invitation an RSVP must be.
    dispatcher.update.outer_middleware(UpdateContext(core.updates))
    dispatcher.include_routers(rsvp.create_router(), staff_events.create_router())
    task = asyncio.create_task(
        dispatcher.start_polling(instance, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    yield instance
    await dispatcher.stop_polling()
    await asyncio.wait_for(task, 10)
    await instance.session.close()


async def invited(core, people, bot):
    person = await add_person(core, name="李四", email=None, telegram_id=USER, channel="telegram")
    await people.send_text(USER, "你好")
    event = await core.events.create(kind="校企对接活动", title="华东片区校企对接会", starts_at=START,
                                     ends_at=START + timedelta(hours=2), online_url="https://meet.example.cn/9",
                                     actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[person])
    await make_worker(core, mailers=[FakeMailer()], telegram=TelegramTransport(bot)).drain()
    return event, await people.next_message(USER)


async def test_pressing_attend_records_the_answer_and_shows_it(core, people, bot):
    event, invitation = await invited(core, people, bot)

    query = await people.press_button(USER, invitation, "参加")

    answer = await people.callback_answer(USER, query)
    assert answer["text"] == "已记录：参加"
    edited = await people.next_edit(USER)
    assert edited.text.endswith("您的回复：参加") and "华东片区校企对接会" in edited.text
    assert edited.buttons == ["参加", "不参加"], "a change of mind stays one tap away"
    tally = await core.events.tally(staff="test", event_id=event.id)
    assert (tally.attending, tally.pending) == (1, 0)

    query = await people.press_button(USER, invitation, "不参加")
    assert (await people.callback_answer(USER, query))["text"] == "已记录：不参加"
    edited = await people.next_edit(USER)
    assert edited.text.count("您的回复") == 1 and edited.text.endswith("您的回复：不参加")
    tally = await core.events.tally(staff="test", event_id=event.id)
    assert (tally.attending, tally.declined) == (0, 1)


async def test_stale_or_unknown_buttons_get_a_short_answer(core, people, bot):
    event, invitation = await invited(core, people, bot)

    unknown = await people.press_button(USER, invitation, data="rsvp:999999:y")
    assert (await people.callback_answer(USER, unknown))["text"] == "这条邀请已失效或不属于您。"
    garbled = await people.press_button(USER, invitation, data="rsvp:abc")
    assert (await people.callback_answer(USER, garbled))["text"] == "此按钮已失效。"

    await core.events.cancel(event_id=event.id, actor="staff:1")
    cancelled = await people.press_button(USER, invitation, "参加")
    assert "已取消" in (await people.callback_answer(USER, cancelled))["text"]
    assert (await core.events.tally(staff="test", event_id=event.id)).attending == 0


async def test_staff_create_an_event_in_one_line_and_list_it_with_the_tally(core, people, bot):
    await people.send_text(STAFF, "/newevent")
    help_text = await people.next_message(STAFF)
    assert "用法：/newevent" in help_text

    await people.send_text(
        STAFF, "/newevent 岗前示范交流活动 | 创新思维示范课 | 2025-07-20 14:00 | 16:00 | https://meeting.example.cn/1"
    )
    created = await people.next_message(STAFF)
    assert "已创建活动" in created and "创新思维示范课" in created and "2025-07-20 14:00" in created
    (event,) = await core.events.list(staff="test")
    assert event.online_url == "https://meeting.example.cn/1" and event.ends_at - event.starts_at == timedelta(hours=2)

    await people.send_text(STAFF, "/newevent 茶话会 | x | 2025-07-20 14:00 | 16:00")
    assert "未知的活动类型" in await people.next_message(STAFF)

    await people.send_text(STAFF, "/events")
    listing = await people.next_message(STAFF)
    assert f"#{event.id} 岗前示范交流活动「创新思维示范课」" in listing and "参加 0" in listing


async def test_non_staff_cannot_create_events(core, people, bot):
    await people.send_text(USER, "/newevent 教学研讨会 | x | 2025-07-20 14:00 | 16:00")
    assert "没有权限" in await people.next_message(USER)
    assert await core.events.list(staff="test") == []
