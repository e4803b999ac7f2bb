"""The stand-in under `innoeng run` (resumable) keeps its chats in the data folder: after a restart a person's
chat is still known, so a notification reaches them without their writing again, and the chat page shows
the conversation as it was."""
from __future__ import annotations

from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox import DEFAULT_TOKEN, SandboxClient, SandboxServer
from bot.sandbox.persistence import default_state_file

USER = 4242


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data folder `innoeng run` would use here (DATA_DIR), with no .env around."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _bot(base_url: str) -> Bot:
    return Bot(DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


async def _stand_in(data_dir: Path) -> SandboxServer:
    # Exactly how `innoeng run` starts it (innoeng/processes.py), on a free port.
    return await SandboxServer("127.0.0.1", 0, (DEFAULT_TOKEN,), resumable=True,
                               state_file=default_state_file(data_dir, 0)).start()


async def test_a_chat_known_before_a_restart_receives_a_bot_message_after_it(data_dir: Path) -> None:
    stand_in = await _stand_in(data_dir)
    bot = _bot(stand_in.base_url)
    try:
        async with SandboxClient(stand_in.base_url) as people:
            await people.send_text(USER, "/start", first_name="王老师")
            offer = await bot.send_message(USER, "匹配结果：请答复", reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="✅ 接受", callback_data="yes")]]))
            seq_before = (await people.chat(USER))["seq"]
    finally:
        await bot.session.close()
        await stand_in.stop()
    assert list(data_dir.iterdir()), "nothing kept in the data folder"

    stand_in = await _stand_in(data_dir)
    bot = _bot(stand_in.base_url)
    try:
        # Failed before with "Bad Request: chat not found" until the person wrote again.
        after = await bot.send_message(USER, "公示开始")
        assert after.chat.id == USER and after.message_id > offer.message_id
        async with SandboxClient(stand_in.base_url) as people:
            chat = await people.chat(USER)
            assert chat["user"]["first_name"] == "王老师"
            texts = [m["message"].get("text") for m in chat["messages"]]
            assert texts == ["/start", "匹配结果：请答复", "公示开始"]
            # The page's event log goes on from where it was: a page that had seen seq_before gets only the new one,
            # a page opened afresh replays the whole conversation.
            assert chat["seq"] == seq_before + 1
            newer = await people.events(USER, after=seq_before)
            assert [e["message"]["text"] for e in newer] == ["公示开始"]
            assert len(await people.events(USER, after=0)) == seq_before + 1
            # The button on the message from before the restart still works.
            await people.press_button(USER, offer.message_id, "✅ 接受")
            updates = await bot.get_updates(timeout=1)
            assert [u.callback_query.data for u in updates if u.callback_query] == ["yes"]
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(USER + 1, "nobody wrote from here")
    finally:
        await bot.session.close()
        await stand_in.stop()


async def test_a_fresh_test_stand_in_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stand_in = await SandboxServer("127.0.0.1", 0).start()
    try:
        async with SandboxClient(stand_in.base_url) as people:
            await people.send_text(USER, "/start")
    finally:
        await stand_in.stop()
    assert not (tmp_path / "data").exists()


async def test_sample_people_have_started_the_bot_in_a_resumable_stand_in_only(data_dir: Path) -> None:
    """`innoeng sample` people (SAMPLE_TELEGRAM_IDS) can be notified before anyone opens the chat page as them."""
    from core.sample import SAMPLE_TELEGRAM_IDS
    from bot.sandbox.world import SAMPLE_USER_IDS

    assert SAMPLE_TELEGRAM_IDS == SAMPLE_USER_IDS
    first, past = SAMPLE_TELEGRAM_IDS[0], SAMPLE_TELEGRAM_IDS[-1] + 1
    stand_in = await _stand_in(data_dir)
    bot = _bot(stand_in.base_url)
    try:
        sent = await bot.send_message(first, "您的申请已通过审核")
        assert sent.chat.id == first
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(past, "outside the range")
        async with SandboxClient(stand_in.base_url) as people:
            assert [m.text for m in await people.bot_messages(first)] == ["您的申请已通过审核"]
    finally:
        await bot.session.close()
        await stand_in.stop()

    fresh = await SandboxServer("127.0.0.1", 0).start()  # a test's stand-in stays as strict as Telegram
    bot = _bot(fresh.base_url)
    try:
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(first, "nobody wrote")
    finally:
        await bot.session.close()
        await fresh.stop()
