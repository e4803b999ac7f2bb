"""aiogram FSM storage in the service's own database, so a restart or deploy resumes each dialog."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from core.db.models import ChatState
from core.db.uow import UnitOfWorkFactory

__all__ = ["SQLStorage"]


def _key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id or 0}:{key.destiny}"


class SQLStorage(BaseStorage):
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def _write(self, key: StorageKey, **fields: Any) -> None:
        async with self._uow() as uow:
            row = await uow.session.get(ChatState, _key(key))
            if row is None:
                row = ChatState(key=_key(key), state=None, data={}, updated_at=datetime.now(timezone.utc))
                uow.session.add(row)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = datetime.now(timezone.utc)
            await uow.commit()

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._uow() as uow:
            row = await uow.session.get(ChatState, _key(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._uow() as uow:
            row = await uow.session.get(ChatState, _key(key))
            return dict(row.data) if row else {}

    async def close(self) -> None:
        return None
