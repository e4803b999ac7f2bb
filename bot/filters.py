from __future__ import annotations

import logging

from aiogram.filters import BaseFilter
from aiogram.types import TelegramObject

__all__ = ["IsStaff"]

log = logging.getLogger(__name__)


class IsStaff(BaseFilter):
    """True for Telegram ids listed in STAFF_TELEGRAM_IDS (given to the dispatcher as `staff_ids`)."""

    async def __call__(self, event: TelegramObject, staff_ids: frozenset[int]) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and user.id in staff_ids
