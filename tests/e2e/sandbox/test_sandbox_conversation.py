"""A real aiogram Dispatcher polling the stand-in, driven as a person through the control API."""
from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.sandbox import SandboxClient

USER = 5001


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


async def test_text_round_trip(people: SandboxClient, polling_bot) -> None:
    sent = await people.send_text(USER, "你好", first_name="张", username="zhang")
    reply = await people.next_message(USER)
    assert reply.text == "echo: 你好"
    assert reply.raw["from"]["is_bot"] is True
    assert reply.raw["chat"] == {"id": USER, "type": "private", "first_name": "张", "username": "zhang"}
    # one message_id sequence per private chat, shared by the person and the bot
    assert reply.message_id == sent["message"]["message_id"] + 1


async def test_inline_button_press_is_answered(people: SandboxClient, polling_bot) -> None:
    await people.send_text(USER, "/start")
    welcome = await people.next_message(USER)
    assert welcome.text == "欢迎使用"
    assert welcome.buttons == ["同意", "编辑"]

    query_id = await people.press_button(USER, welcome, "同意")
    answer = await people.callback_answer(USER, query_id)
    assert answer["text"] == "已同意"
    assert (await people.next_message(USER)).text == "谢谢"


async def test_callback_query_carries_the_message_it_belongs_to(people: SandboxClient, server, bot) -> None:
    await people.send_text(USER, "hi")
    sent = await bot.send_message(USER, "选择", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    await bot.get_updates(offset=-1)
    message = (await people.bot_messages(USER))[-1]
    await people.press_button(USER, message, "A")
    updates = await bot.get_updates(offset=(await bot.get_updates())[-1].update_id)
    query = updates[-1].callback_query
    assert query.data == "a"
    assert query.message.message_id == sent.message_id
    assert query.message.text == "选择"
    assert query.from_user.id == USER
    assert await bot.answer_callback_query(query.id, text="ok") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_edit_message_replaces_text_and_keyboard(people: SandboxClient, polling_bot) -> None:
    await people.send_text(USER, "/start")
    welcome = await people.next_message(USER)
    await people.press_button(USER, welcome, "编辑")
    edited = await people.next_edit(USER)
    assert edited.message_id == welcome.message_id
    assert edited.text == "已编辑"
    assert edited.buttons == ["完成"]
    assert "edit_date" in edited.raw
    current = [m for m in await people.bot_messages(USER) if m.message_id == welcome.message_id][0]
    assert current.text == "已编辑"


async def test_user_document_is_downloaded_by_the_bot(people: SandboxClient, polling_bot) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    await people.send_document(USER, pdf, "资格证明.pdf", "application/pdf")
    reply = await people.next_message(USER)
    assert reply.text == f"文件 资格证明.pdf application/pdf {len(pdf)} {hashlib.sha256(pdf).hexdigest()}"


async def test_user_photo_has_real_dimensions(people: SandboxClient, polling_bot) -> None:
    png = tiny_png(3, 2)
    await people.send_photo(USER, png, "证书.png")
    reply = await people.next_message(USER)
    assert reply.text == f"图片 3x2 {len(png)}"


async def test_bot_sends_a_document(people: SandboxClient, polling_bot) -> None:
    await people.send_text(USER, "/report")
    reply = await people.next_message(USER)
    assert reply.text == "报告"  # the caption
    assert reply.document["file_name"] == "report.pdf"
    assert reply.document["mime_type"] == "application/pdf"
    assert reply.document["file_size"] == len(polling_bot.report_bytes)
    assert await people.download(reply.document["file_id"]) == polling_bot.report_bytes


async def test_contact_sharing_through_request_contact_button(people: SandboxClient,
                                                              polling_bot) -> None:
    await people.send_text(USER, "/phone")
    ask = await people.next_message(USER)
    assert ask.reply_buttons == [{"text": "分享手机号", "request_contact": True}]
    assert "reply_markup" not in ask.raw  # Telegram's Message carries inline keyboards only
    assert (await people.chat(USER))["reply_keyboard"]["keyboard"][0][0]["text"] == "分享手机号"

    await people.press_reply_button(USER, "分享手机号", phone_number="+8613800138000")
    reply = await people.next_message(USER)
    assert reply.text == "收到 +8613800138000 own=True"
    assert reply.removes_keyboard
    assert (await people.chat(USER))["reply_keyboard"] is None


async def test_same_update_delivered_twice_reaches_the_bot_twice(people: SandboxClient,
                                                                 polling_bot) -> None:
    first = await people.send_text(USER, "一次")
    assert (await people.next_message(USER)).text == "echo: 一次"
    await people.send_text(USER, "二次")
    assert (await people.next_message(USER)).text == "echo: 二次"
    assert polling_bot.seen_update_ids == [first["update_id"], first["update_id"] + 1]

    before = (await people.chat(USER))["seq"]
    await people.redeliver(first["update_id"])
    again = await people.next_message(USER, after=before)
    assert again.text == "echo: 一次"
    assert polling_bot.seen_update_ids == [first["update_id"], first["update_id"] + 1, first["update_id"]]
    # and nothing else comes after it
    with pytest.raises(TimeoutError):
        await people.next_message(USER, timeout=1)
    assert polling_bot.seen_update_ids.count(first["update_id"] + 1) == 1


async def test_many_rapid_messages_arrive_in_order(people: SandboxClient, polling_bot) -> None:
    start = None
    for number in range(10):
        sent = await people.send_text(USER, f"第{number}条")
        start = start if start is not None else sent["seq"] - 1
    replies = await people.collect_messages(USER, 10, after=start)
    assert sorted(r.text for r in replies) == sorted(f"echo: 第{n}条" for n in range(10))
    assert len(set(polling_bot.seen_update_ids)) == 10
