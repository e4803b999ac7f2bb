from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.filters import BaseFilter
from aiogram.types import CallbackQuery, TelegramObject

from core.domain.permissions import Action
from core.services.permissions import Forbidden

__all__ = ["IsStaff", "staff_action"]

log = logging.getLogger(__name__)


class IsStaff(BaseFilter):
    """True for Telegram ids listed in STAFF_TELEGRAM_IDS (given to the dispatcher as `staff_ids`)."""

    async def __call__(self, event: TelegramObject, staff_ids: frozenset[int]) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and user.id in staff_ids


def staff_action(action: Action, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A staff handler run with the role of the staff account linked to the sender's Telegram id (an id with
    none reviews, nothing else). The rule is core's (core.domain.permissions), checked by core before the
    handler runs — the services the handler calls check it again: a refusal is audited there and answered
    here with what to do. The handler gets the actor as `staff_actor` (what it passes as `staff=`)."""
    wanted = set(inspect.signature(handler).parameters)

    @functools.wraps(handler)
    async def guarded(event: TelegramObject, core, **data: Any) -> Any:
        permissions = core.permissions
        actor = await permissions.chat_staff(telegram_id=event.from_user.id)
        try:
            await permissions.authorize(actor, action)
        except Forbidden as refusal:
            log.info("telegram staff %s refused %s (role %s, linked %s)", event.from_user.id, action.value,
                     actor.role.value, actor.linked)
            if isinstance(event, CallbackQuery):
                await event.answer()  # an alert holds 200 characters: the way to get the right goes as a message
                await event.message.answer(refusal.message)
            else:
                await event.answer(refusal.message)
            return None
        data.update(core=core, staff_actor=actor)
        return await handler(event, **{key: value for key, value in data.items() if key in wanted})

    # aiogram reads the callable's own signature (not __wrapped__): `**data` gives the wrapper everything.
    del guarded.__wrapped__
    guarded.staff_action = action  # type: ignore[attr-defined]
    return guarded
