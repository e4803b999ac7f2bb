"""One person's messages are applied in the order they were sent, whichever bot process receives them.

Why this mechanism, and not a queue of our own:

1. Across processes, Telegram already orders a chat: in webhook mode it sends a chat's next update only
   after the previous one was answered with 2xx (different chats are delivered concurrently, up to the
   webhook's max_connections). So the webhook answers only after the update was handled and its answer
   committed (`handle_in_background=False` in `bot.main`), and one chat's updates never race across
   processes in normal operation. A home-made cross-process FIFO could not do better: it cannot know of an
   earlier update still in flight towards another process.
2. Within a process (long polling hands over a batch at once; several webhook requests may be open), a
   chat's updates wait in a first-in-first-out queue per chat: `asyncio.Lock` wakes its waiters in the
   order they came. aiogram's RedisEventIsolation does not: its waiters poll, so whichever polls first
   after a release wins, and ten answers sent at once overtook one another.
3. With REDIS_URL (several processes), a short Redis lease per chat is held while an update is handled
   (renewed while the handler runs, so a killed process frees its chats within `LEASE_S`). It is
   contended only when Telegram resends an update whose answer was late while the first process is still
   at it; only the head of each process's local queue asks for it.
4. Last line of defence: a chat's highest message_id handled so far is kept (Redis, or this process's
   memory). Message ids only grow within a chat, so a message older than one already handled arrived out
   of order: it was written for an earlier question and is not stored under the current one; the person
   is told to send it again. Buttons need no such check: each carries the token of its own question.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.types import TelegramObject, Update

from core.texts import text

__all__ = [
    "ChatQueueIsolation", "MessageOrderGuard", "Watermarks", "MemoryWatermarks", "RedisWatermarks", "LEASE_S",
    "WATERMARK_TTL_S",
]

log = logging.getLogger(__name__)

# A handler holding a chat renews its lease every LEASE_S / 3; a dead process's chats are free after LEASE_S.
LEASE_S = 5.0
_POLL_S = 0.02
# Telegram keeps an undelivered update for 24 hours: an out-of-order message cannot be older than that.
WATERMARK_TTL_S = 26 * 3600
# One process without Redis remembers this many chats (least recently written forgotten first).
MEMORY_WATERMARKS = 200_000

_ACQUIRE = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0"
_RENEW = ("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
          "else return 0 end")
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
# 1 when ARGV[1] is not older than the stored id (stored: the larger one), 0 when it is.
_ADVANCE = ("local seen = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "local id = tonumber(ARGV[1]) "
            "if id < seen then return 0 end "
            "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1")


def _chat_key(key: StorageKey) -> str:
    return f"innoeng:chat:{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id or 0}"


class _LocalQueue:
    """First-come first-served per key; a key's lock is dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(name) or (asyncio.Lock(), 0)
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)


class ChatQueueIsolation(BaseEventIsolation):
    """aiogram's event isolation (it wraps loading the FSM state and the handler): a FIFO per chat in
    this process, plus, with Redis, a renewed lease per chat across processes."""

    def __init__(self, redis: Any | None = None) -> None:
        self._local = _LocalQueue()
        self._redis = redis
        if redis is not None:
            self._acquire = redis.register_script(_ACQUIRE)
            self._renew = redis.register_script(_RENEW)
            self._release = redis.register_script(_RELEASE)

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = _chat_key(key)
        async with self._local.hold(name):
            if self._redis is None:
                yield
                return
            async with self._lease(name + ":lease"):
                yield

    @contextlib.asynccontextmanager
    async def _lease(self, name: str) -> AsyncIterator[None]:
        token = secrets.token_hex(8)
        lease_ms = int(LEASE_S * 1000)
        while not await self._acquire(keys=[name], args=[token, lease_ms]):
            await asyncio.sleep(_POLL_S)
        renewer = asyncio.create_task(self._keep(name, token, lease_ms))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            try:
                await self._release(keys=[name], args=[token])
            except Exception:  # the lease expires on its own; a failed release must not hide the handler's result
                log.warning("could not release %s; it expires in %.0f s", name, LEASE_S, exc_info=True)

    async def _keep(self, name: str, token: str, lease_ms: int) -> None:
        while True:
            await asyncio.sleep(LEASE_S / 3)
            if not await self._renew(keys=[name], args=[token, lease_ms]):
                log.warning("lease %s was lost while its update was still being handled", name)
                return

    async def close(self) -> None:
        return None


class Watermarks(Protocol):
    async def advance(self, name: str, message_id: int) -> bool:
        """Records message_id as seen; False when a later message of this chat was already handled."""


class MemoryWatermarks:
    """One process (long polling): the chat's order lives in this process alone."""

    def __init__(self, capacity: int = MEMORY_WATERMARKS) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity

    async def advance(self, name: str, message_id: int) -> bool:
        seen = self._seen.get(name, 0)
        if message_id < seen:
            return False
        self._seen[name] = message_id
        self._seen.move_to_end(name)
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class RedisWatermarks:
    """Several processes: one compare-and-set per message in Redis."""

    def __init__(self, redis: Any) -> None:
        self._advance = redis.register_script(_ADVANCE)

    async def advance(self, name: str, message_id: int) -> bool:
        return bool(await self._advance(keys=[name], args=[message_id, WATERMARK_TTL_S]))


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MessageOrderGuard(BaseMiddleware):
    """Refuses a message that arrives after a later one of the same chat was handled (see point 4 above).

    Registered after aiogram's FSM middleware, so it runs inside the chat's lock (ChatQueueIsolation)."""

    def __init__(self, watermarks: Watermarks) -> None:
        self._watermarks = watermarks

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        message = event.message
        state = data.get("state")
        if message is None or state is None:
            return await handler(event, data)
        name = _chat_key(state.key) + ":seen"
        if not await self._watermarks.advance(name, message.message_id):
            log.warning("update %s: message %s of chat %s arrived after a later one; not applied",
                        event.update_id, message.message_id, message.chat.id)
            await data["bot"].send_message(message.chat.id, text("bot.out_of_order"))
            return None
        return await handler(event, data)
