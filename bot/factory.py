"""Building the aiogram Bot: the Bot API base URL comes from settings (Telegram, self-hosted, or the stand-in)."""
from __future__ import annotations

from aiogram import Bot, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

__all__ = ["create_bot"]

# aiogram parses every answer as Response[method.__returning__]; pydantic keeps parametrised generics
# only weakly, so under load the class is rebuilt again and again (seen as ~15% of the bot's CPU in
# benchmarks/bot_throughput.py). Holding them here keeps pydantic's cache warm.
_RESPONSE_TYPES = tuple(
    methods.base.Response[method.__returning__]
    for method in (
        methods.GetMe, methods.GetUpdates, methods.SendMessage, methods.SendDocument, methods.SendPhoto,
        methods.EditMessageText, methods.EditMessageReplyMarkup, methods.AnswerCallbackQuery, methods.GetFile,
        methods.SetMyCommands, methods.DeleteWebhook, methods.SetWebhook, methods.DeleteMessage,
        methods.SendChatAction,
    )
)


def create_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=None))
