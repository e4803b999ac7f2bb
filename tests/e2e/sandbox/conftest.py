"""A stand-in per test, a real aiogram Bot pointed at it, and a small keyboard bot polling it."""
from __future__ import annotations

import asyncio
import hashlib
import io
from typing import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot.sandbox import DEFAULT_TOKEN, SandboxClient, SandboxServer

REPORT_BYTES = b"%PDF-1.4\n% sandbox report\n%%EOF\n"


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    running = await SandboxServer("127.0.0.1", 0).start()
    yield running
    await running.stop()


@pytest.fixture
async def people(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(server.base_url) as client:
        yield client


def make_bot(base_url: str, token: str = DEFAULT_TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    instance = make_bot(server.base_url)
    yield instance
    await instance.session.close()


def keyboard_router(seen_update_ids: list[int]) -> Router:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        markup = InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text="同意", callback_data="agree")],
            [InlineKeyboardButton(text="编辑", callback_data="edit")],
        ])
        await message.answer("欢迎使用", reply_markup=markup)

    @router.callback_query(F.data == "agree")
    async def agree(callback: CallbackQuery) -> None:
        await callback.answer("已同意")
        await callback.message.answer("谢谢")

    @router.callback_query(F.data == "edit")
    async def edit(callback: CallbackQuery) -> None:
        done = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="完成", callback_data="done")]])
        await callback.message.edit_text("已编辑", reply_markup=done)
        await callback.answer()

    @router.message(Command("phone"))
    async def ask_phone(message: Message) -> None:
        markup = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]],
            resize_keyboard=True, one_time_keyboard=True,
        )
        await message.answer("请分享手机号", reply_markup=markup)

    @router.message(F.contact)
    async def got_contact(message: Message) -> None:
        own = message.contact.user_id == message.from_user.id
        await message.answer(f"收到 {message.contact.phone_number} own={own}", reply_markup=ReplyKeyboardRemove())

    @router.message(F.document)
    async def got_document(message: Message, bot: Bot) -> None:
        document = message.document
        buffer = io.BytesIO()
        await bot.download(document, destination=buffer)
        data = buffer.getvalue()
        await message.answer(
            f"文件 {document.file_name} {document.mime_type} {len(data)} {hashlib.sha256(data).hexdigest()}"
        )

    @router.message(F.photo)
    async def got_photo(message: Message, bot: Bot) -> None:
        largest = message.photo[-1]
        buffer = io.BytesIO()
        await bot.download(largest, destination=buffer)
        await message.answer(f"图片 {largest.width}x{largest.height} {len(buffer.getvalue())}")

    @router.message(Command("report"))
    async def report(message: Message) -> None:
        await message.answer_document(BufferedInputFile(REPORT_BYTES, filename="report.pdf"), caption="报告")

    @router.message(F.text)
    async def echo(message: Message, event_update: Update) -> None:
        seen_update_ids.append(event_update.update_id)
        await message.answer(f"echo: {message.text}")

    return router


class RunningBot:
    def __init__(self, bot: Bot, seen_update_ids: list[int]) -> None:
        self.bot = bot
        self.seen_update_ids = seen_update_ids
        self.report_bytes = REPORT_BYTES


@pytest.fixture
async def polling_bot(bot: Bot) -> AsyncIterator[RunningBot]:
    seen: list[int] = []
    dispatcher = Dispatcher()
    dispatcher.include_router(keyboard_router(seen))
    task = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=2, handle_signals=False, close_bot_session=False)
    )
    yield RunningBot(bot, seen)
    await dispatcher.stop_polling()
    await asyncio.wait_for(task, 10)
