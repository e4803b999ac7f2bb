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
    """Write-through: every change is committed at once; reads come from memory after the first load.

    The SQL storage serves one bot process (several processes use Redis, see REDIS_URL), so this
    process's memory never disagrees with the table.
    """

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._cache: dict[str, tuple[str | None, dict[str, Any]]] = {}

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        name = _key(key)
        if name not in self._cache:
            async with self._uow() as uow:
                row = await uow.session.get(ChatState, name)
                self._cache[name] = (row.state, dict(row.data)) if row else (None, {})
        return self._cache[name]

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
            self._cache[_key(key)] = (row.state, dict(row.data))

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._load(key))[1])

    async def close(self) -> None:
        return None
