"""aiogram FSM storage in the service's own database, so a restart or deploy resumes each dialog."""
from __future__ import annotations

import copy
import functools
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy import bindparam

from core.db.models import ChatState
from core.db.upsert import upsert_for
from core.db.uow import UnitOfWorkFactory

__all__ = ["SQLStorage"]

# An unchanged row is still rewritten this often, so that updated_at (retention of idle chats) stays true.
_REFRESH_S = 3600.0


@functools.cache  # built once per dialect: building the statement cost more than running it
def _upsert(dialect: str) -> Any:
    table = ChatState.__table__
    insert = upsert_for(dialect)(table).values(
        key=bindparam("key"), telegram_id=bindparam("telegram_id"), state=bindparam("state"), data=bindparam("data"),
        updated_at=bindparam("updated_at"))
    return insert.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"state": insert.excluded.state, "data": insert.excluded.data, "updated_at": insert.excluded.updated_at})


def _key(key: StorageKey) -> str:
    """The row's key, this module's own layout: core finds a person's rows by ChatState.telegram_id instead."""
    return f"{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id or 0}:{key.destiny}"


class SQLStorage(BaseStorage):
    """Write-through: every change is committed at once; reads come from memory after the first load.

    The SQL storage serves one bot process (several processes use Redis, see REDIS_URL), so this
    process's memory never disagrees with the table.
    """

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        # key -> (state, data, when this process last wrote the row)
        self._cache: dict[str, tuple[str | None, dict[str, Any], float]] = {}

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        name = _key(key)
        if name not in self._cache:
            async with self._uow.autocommit() as uow:
                row = await uow.session.get(ChatState, name)
                never = float("-inf")  # the first change after a load always reaches the table
                self._cache[name] = (row.state, dict(row.data), never) if row else (None, {}, never)
        state, data, _ = self._cache[name]
        return state, data

    async def _write(self, key: StorageKey, **fields: Any) -> None:
        """One upsert statement; nothing at all when the state and data are what the row already holds
        (most updates rewrite the same multi-choice picks), except to refresh updated_at now and then."""
        name = _key(key)
        state, data = await self._load(key)
        new_state = fields.get("state", state)
        new_data = dict(fields.get("data", data))
        written = self._cache[name][2]
        if new_state == state and new_data == data and time.monotonic() - written < _REFRESH_S:
            return
        now = datetime.now(timezone.utc)
        async with self._uow.autocommit() as uow:
            await uow.session.execute(_upsert(uow.session.bind.dialect.name),
                                      {"key": name, "telegram_id": key.user_id, "state": new_state, "data": new_data,
                                       "updated_at": now})
        self._cache[name] = (new_state, new_data, time.monotonic())

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        await self._write(key, state=state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return copy.deepcopy((await self._load(key))[1])

    async def close(self) -> None:
        return None
