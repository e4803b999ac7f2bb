"""Context for handlers: who is writing, and whether this update was handled already. No business rules."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.exc import IntegrityError

from core.bootstrap import Core
from core.db.models import ProcessedUpdate

__all__ = ["OncePerUpdate", "CurrentPerson"]

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OncePerUpdate(BaseMiddleware):
    """Telegram may deliver an update again (a restart before the offset was confirmed, a retry
    of a webhook). The update id is recorded after handling; one seen before is dropped."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        async with self._core.uow() as uow:
            if await uow.session.get(ProcessedUpdate, (bot_id, event.update_id)) is not None:
                log.info("update %s delivered again; already handled", event.update_id)
                return None
        result = await handler(event, data)
        async with self._core.uow() as uow:
            uow.session.add(ProcessedUpdate(bot_id=bot_id, update_id=event.update_id, received_at=datetime.now(timezone.utc)))
            try:
                await uow.commit()
            except IntegrityError:
                log.info("update %s was recorded by another worker meanwhile", event.update_id)
        return result


class CurrentPerson(BaseMiddleware):
    """Gives handlers `person`: the contact record of the Telegram user behind the event."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is not None and not user.is_bot:
            name = " ".join(part for part in (user.first_name, user.last_name) if part) or None
            data["person"] = await self._core.people.register_telegram_user(telegram_id=user.id, display_name=name)
        return await handler(event, data)
