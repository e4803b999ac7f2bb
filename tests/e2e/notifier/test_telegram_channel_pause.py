"""Errors about the channel pause it; errors about one chat fail that row. Through a real aiogram
Bot over HTTP: to the local Bot API stand-in (which answers 401 to an unknown token, as Telegram
does), and to a port where nothing listens."""
from __future__ import annotations

from datetime import timedelta

from bot.factory import create_bot
from notifier.mail import FakeMailer
from notifier.main import notification_service
from notifier.telegram import TelegramTransport
from tests.support.net import free_port
from tests.support.outbox import add_person, make_worker, outbox_rows, queue, row

CHATS = (7201, 7202, 7203)


async def _telegram_rows(core, people=None) -> list[int]:
    ids = []
    for n, chat in enumerate(CHATS):
        if people is not None:
            await people.send_text(chat, "/start")
        person = await add_person(core, name=f"专家{n}", email=None, telegram_id=chat, channel="telegram")
        ids += await queue(core, person, occasion=f"pause-{n}")
    return ids


async def _run_with_bot(core, bot, clock, **options):
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer], telegram=TelegramTransport(bot), clock=clock, **options)
    await worker.drain()
    return worker, mailer


async def test_a_revoked_token_pauses_telegram_keeps_the_rows_and_alerts_staff_once(core, stand_in, people, clock):
    core.settings = core.settings.model_copy(update={"staff_emails": ["staff@example.org"]})
    ids = await _telegram_rows(core, people)
    revoked = create_bot("123456:revoked-token", stand_in.base_url)
    try:
        _, mailer = await _run_with_bot(core, revoked, clock)
        for _ in range(3):  # more passes while it is still wrong: no more alerts, nothing failed
            clock.advance(minutes=10)
            await _run_with_bot(core, revoked, clock)
    finally:
        await revoked.session.close()

    for row_id in ids:
        waiting = await row(core, row_id)
        assert waiting.status == "queued" and waiting.attempts == 0, (waiting.status, waiting.last_error)
        assert "401" in waiting.last_error and "BOT_TOKEN" in waiting.last_error and "暂停" in waiting.last_error
    status = await notification_service(core).status(staff="test")
    assert [p.channel for p in status.paused_channels] == ["telegram"]
    assert "401" in status.paused_channels[0].reason
    alerts = await outbox_rows(core, kind="channel_paused")
    assert len(alerts) == 1 and alerts[0].address == "staff@example.org"
    (alert,) = mailer.messages()
    assert "Telegram" in alert["Subject"] and "401" in alert.get_body(("plain",)).get_content()

    # The token is put right and the notifier restarted: the next probe goes through, all go out.
    clock.advance(minutes=10)
    fixed = create_bot(stand_in.token, stand_in.base_url)
    try:
        await _run_with_bot(core, fixed, clock)
    finally:
        await fixed.session.close()
    assert [(await row(core, row_id)).status for row_id in ids] == ["sent"] * 3
    assert (await notification_service(core).status(staff="test")).paused_channels == []
    for chat in CHATS:
        assert any("已通过" in m.text for m in await people.bot_messages(chat))


async def test_an_unreachable_bot_api_pauses_the_channel_instead_of_failing_rows(core, clock):
    ids = await _telegram_rows(core)
    unreachable = create_bot("123456:any", f"http://127.0.0.1:{free_port()}")
    try:
        await _run_with_bot(core, unreachable, clock)
    finally:
        await unreachable.session.close()
    states = [await row(core, row_id) for row_id in ids]
    assert [s.status for s in states] == ["queued"] * 3 and {s.attempts for s in states} == {0}
    assert "无法连接 Telegram" in states[0].last_error
    # One row tried, the others held back without a call: the pause is for the whole channel.
    assert all(s.due_at >= clock() + timedelta(minutes=4) for s in states)


async def test_a_blocked_chat_or_a_missing_chat_fails_only_that_row(core, stand_in, people, clock):
    ids = await _telegram_rows(core, people)
    await people.inject_fault("sendMessage", chat_id=CHATS[0], kind="blocked", times=None)
    await people.inject_fault("sendMessage", chat_id=CHATS[1], kind="chat_not_found", times=None)
    bot = create_bot(stand_in.token, stand_in.base_url)
    try:
        await _run_with_bot(core, bot, clock)
    finally:
        await bot.session.close()
    blocked, missing, fine = [await row(core, row_id) for row_id in ids]
    assert blocked.status == "failed" and "403" in blocked.last_error and "401" not in blocked.last_error
    assert missing.status == "failed" and "400" in missing.last_error and "chat not found" in missing.last_error
    assert fine.status == "sent"
    assert (await notification_service(core).status(staff="test")).paused_channels == []


async def test_a_probe_answered_about_one_chat_ends_the_pause(core, stand_in, people, clock):
    ids = await _telegram_rows(core, people)
    revoked = create_bot("123456:revoked-token", stand_in.base_url)
    try:
        await _run_with_bot(core, revoked, clock)
    finally:
        await revoked.session.close()
    assert (await notification_service(core).status(staff="test")).paused_channels != []

    # Fixed, but the first chat tried has blocked the bot: a 403 is about that chat, so the
    # channel works again and the other rows go out in the same pass.
    await people.inject_fault("sendMessage", chat_id=CHATS[0], kind="blocked", times=None)
    clock.advance(minutes=10)
    fixed = create_bot(stand_in.token, stand_in.base_url)
    try:
        await _run_with_bot(core, fixed, clock)
    finally:
        await fixed.session.close()
    assert [(await row(core, row_id)).status for row_id in ids] == ["failed", "sent", "sent"]
    assert (await notification_service(core).status(staff="test")).paused_channels == []
