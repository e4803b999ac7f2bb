"""The Bot API contract as aiogram sees it: offsets, long polling, errors, files, commands, webhook."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BotCommand, BufferedInputFile
from aiohttp import web

from bot.sandbox import SandboxClient, SandboxServer

USER = 7001


async def test_get_me_and_unknown_token(server: SandboxServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 1000000001 and me.username
    stranger = Bot("999:not-a-known-token", session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot999:nope/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_offsets_confirm_updates_and_nothing_comes_twice(people: SandboxClient, bot: Bot) -> None:
    first = await people.send_text(USER, "一")
    await people.send_text(USER, "二")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first["update_id"], first["update_id"] + 1]
    assert [u.message.text for u in updates] == ["一", "二"]
    # unconfirmed updates stay until an offset confirms them
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [u.update_id for u in updates]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []
    assert await bot.get_updates(timeout=0) == []

    # re-enqueueing hands out the same update_id once more, despite the offset
    await people.redeliver(first["update_id"])
    again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert [(u.update_id, u.message.text) for u in again] == [(first["update_id"], "一")]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_long_poll_waits_then_returns_as_soon_as_an_update_arrives(people: SandboxClient, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    await people.send_text(USER, "醒醒")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["醒醒"]


async def test_allowed_updates_filters_what_is_delivered(people: SandboxClient, bot: Bot) -> None:
    await people.send_text(USER, "/start")
    await bot.send_message(USER, "选", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    latest = (await bot.get_updates(timeout=0))[-1].update_id
    await people.press_button(USER, (await people.bot_messages(USER))[-1], "A")
    await people.send_text(USER, "文本")
    updates = await bot.get_updates(offset=latest + 1, timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in updates] == ["文本"]


async def test_a_second_poller_terminates_the_first(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    assert await second == []


async def test_injected_faults_surface_as_aiogram_exceptions(people: SandboxClient, bot: Bot) -> None:
    await people.send_text(USER, "hi")
    await people.inject_fault("sendMessage", chat_id=USER, kind="flood", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(USER, "x")
    assert flood.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in flood.value.message

    await people.inject_fault("sendMessage", chat_id=USER, kind="blocked", times=None)
    for _ in range(2):  # stays until cleared
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(USER, "x")
    await people.clear_faults()

    await people.inject_fault("sendDocument", kind="server_error")
    with pytest.raises(TelegramServerError):
        await bot.send_document(USER, BufferedInputFile(b"x", "a.txt"))

    # a fault for another chat or method does not fire here
    await people.inject_fault("sendMessage", chat_id=USER + 1, kind="blocked")
    await people.inject_fault("editMessageText", chat_id=USER, kind="blocked")
    assert (await bot.send_message(USER, "仍然送达")).text == "仍然送达"


async def test_telegram_style_bad_requests(people: SandboxClient, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(123456789, "nobody is there")
    await people.send_text(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "长" * 4097)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "x" * 65}]]})
    sent = await bot.send_message(USER, "同样")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("同样", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("新", chat_id=USER, message_id=9999)
    assert await bot.delete_message(USER, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "1 < 2 <b>粗", parse_mode="HTML")


async def test_html_parse_mode_gives_plain_text_and_entities(people: SandboxClient, bot: Bot) -> None:
    await people.send_text(USER, "hi")
    sent = await bot.send_message(USER, "<b>第 7/24 题</b> &lt;姓名&gt; <a href=\"https://x.cn\">链接</a>",
                                  parse_mode="HTML")
    assert sent.text == "第 7/24 题 <姓名> 链接"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 8), ("text_link", 14, 2)]
    assert sent.entities[1].url == "https://x.cn"
    assert (await people.bot_messages(USER))[-1].text == "第 7/24 题 <姓名> 链接"


async def test_edit_reply_markup_and_chat_action(people: SandboxClient, bot: Bot) -> None:
    await people.send_text(USER, "hi")
    sent = await bot.send_message(USER, "选", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    assert await bot.send_chat_action(USER, "typing") is True
    edited = await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=None)
    assert edited.reply_markup is None and edited.text == "选"
    events = await people.events(USER, kinds=("chat_action", "edit"))
    assert [e["kind"] for e in events] == ["chat_action", "edit"]
    assert events[0]["action"] == "typing"


async def test_files_round_trip_by_upload_and_by_file_id(people: SandboxClient, bot: Bot) -> None:
    await people.send_text(USER, "hi")
    sent = await bot.send_document(USER, BufferedInputFile(b"%PDF-1.4 data", filename="回执.pdf"), caption="回执")
    document = sent.document
    assert (document.file_name, document.mime_type, document.file_size) == ("回执.pdf", "application/pdf", 13)
    again = await bot.send_document(USER, document.file_id)
    assert again.document.file_id == document.file_id
    file = await bot.get_file(document.file_id)
    assert file.file_path.startswith("documents/") and file.file_size == 13
    downloaded = await bot.download_file(file.file_path)
    assert downloaded.read() == b"%PDF-1.4 data"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(USER, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file-id")


async def test_files_over_20_mb_cannot_be_downloaded(people: SandboxClient, bot: Bot) -> None:
    big = b"%PDF" + b"\0" * (20 * 1024 * 1024)
    update = await people.send_document(USER, big, "big.pdf", "application/pdf")
    document = update["message"]["document"]
    assert document["file_size"] == len(big)
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(document["file_id"])


async def test_commands_are_remembered_per_scope(people: SandboxClient, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="开始"), BotCommand(command="status", description="进度")]
    assert await bot.set_my_commands(commands) is True
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("start", "开始"), ("status", "进度")]
    assert await bot.get_my_commands(language_code="en") == []
    assert (await people.commands())[0]["commands"][1] == {"command": "status", "description": "进度"}
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0


async def test_webhook_delivery_with_secret_token(people: SandboxClient, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        arrived.set()
        # aiogram may answer a webhook with a method call; the stand-in runs it
        return web.json_response({"method": "sendMessage", "chat_id": USER, "text": "来自 webhook"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        await bot.set_webhook(url, secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        await people.send_text(USER, "经由 webhook")
        await asyncio.wait_for(arrived.wait(), 5)
        secret, update = received[0]
        assert secret == "s3cret" and update["message"]["text"] == "经由 webhook"
        assert (await people.next_message(USER)).text == "来自 webhook"
        await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_chat_page_is_served(server: SandboxServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.base_url + "/") as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            page = await response.text()
        assert "/static/chat.js" in page and "<form" in page
        async with http.get(server.base_url + "/static/chat.js") as response:
            assert response.status == 200
            assert "/control/chats/" in await response.text()
