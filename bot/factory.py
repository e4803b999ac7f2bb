"""Building the aiogram Bot: the Bot API base URL comes from settings (Telegram, self-hosted, or the stand-in).

Every call the bot makes goes through `RetryingRequests`: a reply refused by flood control or lost to a
server or connection error is sent again the way Telegram asks, instead of ending in an apology."""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from aiogram import Bot, methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods.base import Response, TelegramMethod, TelegramType

from bot.render import MESSAGE_LIMIT, split_message

__all__ = ["create_bot", "LongMessages", "RetryingRequests", "UnchangedEdits", "retrying_replies"]

log = logging.getLogger(__name__)

# Only replies to an update are retried here: the notifier shares the Bot in `innoeng run` and has its own
# retry schedule in the outbox, which must stay in charge of its sends.
_REPLYING: contextvars.ContextVar[bool] = contextvars.ContextVar("replying", default=False)


@contextmanager
def retrying_replies() -> Iterator[None]:
    token = _REPLYING.set(True)
    try:
        yield
    finally:
        _REPLYING.reset(token)


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


class RetryingRequests(BaseRequestMiddleware):
    """For calls made while handling an update (`retrying_replies`):
    429: wait the `retry_after` Telegram names (up to `longest_wait_s`), then send again.
    5xx and connection errors: a bounded number of retries with doubling pauses. getUpdates is left to the
    polling loop, which has its own backoff."""

    def __init__(self, *, attempts: int = 4, first_pause_s: float = 0.5, longest_wait_s: float = 60.0) -> None:
        self.attempts = attempts
        self.first_pause_s = first_pause_s
        self.longest_wait_s = longest_wait_s

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if not _REPLYING.get() or isinstance(method, methods.GetUpdates):
            return await make_request(bot, method)
        pause = self.first_pause_s
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.longest_wait_s:
                    raise
                wait, reason = float(error.retry_after), str(error)
            except (TelegramServerError, TelegramNetworkError) as error:
                if attempt == self.attempts:
                    raise
                wait, pause, reason = pause, pause * 2, str(error)
            log.warning("%s failed (%s); attempt %s of %s in %.1f s", method.__api_method__, reason, attempt + 1,
                        self.attempts, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")


class UnchangedEdits(BaseRequestMiddleware):
    """Editing a message into the state it is already in (a double tap, a redelivered press) is no error:
    Telegram's "message is not modified" is taken as success."""

    _EDITS = (methods.EditMessageText, methods.EditMessageReplyMarkup, methods.EditMessageCaption)

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not isinstance(method, self._EDITS) or "message is not modified" not in error.message:
                raise
            return Response[method.__returning__](ok=True, result=True)


class LongMessages(BaseRequestMiddleware):
    """No text longer than Telegram's 4096 characters is sent: a long one goes as several messages, split at
    line ends, the buttons on the last; an edit that would be too long is cut (an edit cannot add messages)."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if isinstance(method, methods.SendMessage) and len(method.text) > MESSAGE_LIMIT:
            *first, last = split_message(method.text.split("\n"))
            for part in first:
                await make_request(bot, method.model_copy(update={"text": part, "reply_markup": None}))
            method = method.model_copy(update={"text": last})
        elif isinstance(method, methods.EditMessageText) and len(method.text) > MESSAGE_LIMIT:
            log.warning("edit of message %s cut to %s characters", method.message_id, MESSAGE_LIMIT)
            method = method.model_copy(update={"text": method.text[: MESSAGE_LIMIT - 1] + "…"})
        return await make_request(bot, method)


def create_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    session.middleware(LongMessages())
    session.middleware(RetryingRequests())
    session.middleware(UnchangedEdits())
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=None))
