"""Sending Telegram messages through the bot's API base URL, within Telegram's rate limits.

Telegram allows about 30 messages a second per bot and one a second per chat; beyond that it
answers 429 with retry_after. We stay under both, and when a 429 comes anyway the chat is
paused for what Telegram asked.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiogram takes seconds to import: a notifier without a bot never loads it
    from aiogram import Bot
    from aiogram.types import InlineKeyboardMarkup

from core.texts import text
from notifier.outcome import Outcome, SendOutcome
from notifier.rate_limit import RateLimit, RateLimiter

__all__ = ["TelegramMessage", "TelegramTransport", "Button"]

# A per-chat wait longer than this puts the row back in the queue instead of holding a sender.
_MAX_INLINE_WAIT_S = 1.5


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True)
class TelegramMessage:
    chat_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()

    def reply_markup(self) -> "InlineKeyboardMarkup | None":
        if not self.buttons:
            return None
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.callback_data) for b in row] for row in self.buttons
        ])


class TelegramTransport:
    def __init__(
        self,
        bot: "Bot",
        *,
        messages_per_s: int = 30,
        per_chat_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._global = RateLimiter(RateLimit.per_second(messages_per_s), clock=clock)
        self._per_chat_interval = per_chat_interval_s
        self._clock = clock
        # chat id -> monotonic time before which nothing more goes to that chat
        self._chat_free_at: dict[int, float] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}

    @property
    def bot(self) -> "Bot":
        return self._bot

    def _chat_wait(self, chat_id: int) -> float:
        return max(0.0, self._chat_free_at.get(chat_id, 0.0) - self._clock())

    async def send(self, message: TelegramMessage) -> SendOutcome:
        lock = self._chat_locks.setdefault(message.chat_id, asyncio.Lock())
        async with lock:
            wait = self._chat_wait(message.chat_id)
            if wait > _MAX_INLINE_WAIT_S:
                return SendOutcome(Outcome.DEFERRED, "同一会话发送过快，稍后发送", retry_after=wait)
            if wait:
                await asyncio.sleep(wait)
            await self._global.acquire()
            self._chat_free_at[message.chat_id] = self._clock() + self._per_chat_interval
            outcome = await self._deliver(message)
            if outcome.retry_after:
                self._chat_free_at[message.chat_id] = self._clock() + outcome.retry_after
            if len(self._chat_free_at) > 10_000:
                self._forget_idle_chats()
            return outcome

    async def _deliver(self, message: TelegramMessage) -> SendOutcome:
        import aiohttp
        from aiogram.exceptions import (
            TelegramAPIError,
            TelegramBadRequest,
            TelegramForbiddenError,
            TelegramNetworkError,
            TelegramNotFound,
            TelegramRetryAfter,
            TelegramServerError,
            TelegramUnauthorizedError,
        )

        try:
            sent = await self._bot.send_message(
                chat_id=message.chat_id, text=message.text, reply_markup=message.reply_markup(),
            )
        except TelegramRetryAfter as exc:
            return SendOutcome(Outcome.TRANSIENT, f"Telegram 限流（429），{exc.retry_after} 秒后重试：{exc.message}",
                               retry_after=float(exc.retry_after))
        except TelegramUnauthorizedError as exc:
            # The bot's credentials, not this chat: every row would fail the same way.
            return SendOutcome(Outcome.CHANNEL_DOWN, text("notifier.telegram_unauthorized", detail=exc.message))
        except TelegramNotFound as exc:
            # Telegram answers 404 to any method called with an unknown token (or a wrong API URL).
            return SendOutcome(Outcome.CHANNEL_DOWN, text("notifier.telegram_token_not_found", detail=exc.message))
        except TelegramForbiddenError as exc:
            # Blocked by the user or deactivated: only they can undo it.
            return SendOutcome(Outcome.PERMANENT, text("notifier.telegram_forbidden", detail=exc.message))
        except TelegramBadRequest as exc:
            # About this chat or this message (chat not found, text too long): the others still go.
            return SendOutcome(Outcome.PERMANENT, text("notifier.telegram_bad_request", detail=exc.message))
        except TelegramServerError as exc:
            return SendOutcome(Outcome.TRANSIENT, f"Telegram 服务器错误：{exc.message}，稍后重试")
        except TelegramNetworkError as exc:
            if isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                # Nothing was sent, and nothing else will get through either: pause the channel.
                return SendOutcome(Outcome.CHANNEL_DOWN, text("notifier.telegram_unreachable", detail=exc.message))
            # The request may have reached Telegram before the answer was lost.
            return SendOutcome(Outcome.UNKNOWN, f"已发出请求但未收到 Telegram 的答复（{exc.message}），对方可能已收到")
        except TelegramAPIError as exc:
            return SendOutcome(Outcome.TRANSIENT, f"Telegram 错误：{exc.message}")
        return SendOutcome(Outcome.SENT, "已发送（Telegram）", provider_reply=f"message_id={sent.message_id}")

    def _forget_idle_chats(self) -> None:
        now = self._clock()
        for chat_id in [c for c, free_at in self._chat_free_at.items() if free_at < now]:
            self._chat_free_at.pop(chat_id, None)
            lock = self._chat_locks.get(chat_id)
            if lock is not None and not lock.locked():
                self._chat_locks.pop(chat_id, None)
