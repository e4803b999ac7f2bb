"""Context for handlers: who is writing, and whether this update was handled already. No business rules."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.factory import retrying_replies
from core.services.deliveries import UpdateLog

__all__ = ["UpdateContext", "payload_digest"]

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateContext(BaseMiddleware):
    """Gives handlers `person` (the contact record of the Telegram user behind the update) and drops
    an update seen before: Telegram may deliver one again after a restart or a webhook retry.
    The update is recorded as handled after its handler finished."""

    def __init__(self, updates: UpdateLog) -> None:
        self._updates = updates

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        user = data.get("event_from_user")
        human = user is not None and not user.is_bot
        digest = payload_digest(event)
        arrival = await self._updates.arrive(
            bot_id=bot_id, update_id=event.update_id, digest=digest, telegram_id=user.id if human else None
        )
        if arrival.already_handled:
            log.info("update %s delivered again; already handled", event.update_id)
            return None
        if arrival.person is not None:
            data["person"] = arrival.person
        with retrying_replies():
            result = await handler(event, data)
        if not await self._updates.handled(bot_id=bot_id, update_id=event.update_id, digest=digest):
            log.info("update %s was recorded by another worker meanwhile", event.update_id)
        return result


def payload_digest(update: Update) -> str:
    """What makes a redelivery the same update: its payload, whatever id it travels under."""
    payload = update.model_dump_json(exclude={"update_id"}, exclude_none=True, exclude_defaults=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
