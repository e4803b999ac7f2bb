"""Units of work on both engines: a transaction rolls back unless committed; an autocommit unit keeps each
statement at once; a pooled connection that died while idle is replaced before it is handed out."""
from __future__ import annotations

import asyncio
import math
from datetime import datetime, timezone

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.db.engine import create_engine, create_session_factory
from core.db.migrate import upgrade
from core.db.models import AuditEntry
from core.db.uow import sql_unit_of_work
from tests.support.databases import POSTGRES_DSN

NOW = datetime(2025, 7, 1, 2, 0, tzinfo=timezone.utc)


def _entry(action: str) -> AuditEntry:
    return AuditEntry(at=NOW, actor="system", action=action, subject="test:1", detail={})


async def _count(uow_factory, action: str) -> int:
    async with uow_factory() as uow:
        return await uow.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_a_transaction_left_without_commit_keeps_nothing(engine):
    uow = sql_unit_of_work(create_session_factory(engine))
    async with uow() as unit:
        unit.session.add(_entry("test.uncommitted"))
        await unit.flush()
    async with uow() as unit:
        unit.session.add(_entry("test.committed"))
        await unit.commit()
    assert await _count(uow, "test.uncommitted") == 0
    assert await _count(uow, "test.committed") == 1


async def test_an_autocommit_unit_keeps_each_statement_at_once(engine):
    uow = sql_unit_of_work(create_session_factory(engine))
    async with uow.autocommit() as unit:
        unit.session.add(_entry("test.autocommit"))
        await unit.flush()
        # Visible to another connection before this unit ends: no transaction holds it back.
        assert await _count(uow, "test.autocommit") == 1
    assert await _count(uow, "test.autocommit") == 1
    # The connection goes back to the pool in its ordinary mode: the next transaction still rolls back.
    async with uow() as unit:
        unit.session.add(_entry("test.after_autocommit"))
        await unit.flush()
    assert await _count(uow, "test.after_autocommit") == 0


async def _kill_other_backends(database: str) -> int:
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        return len(await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database))
    finally:
        await admin.close()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(database_url):
    engine = create_engine(database_url, ping_idle_after_s=0.05)
    try:
        uow = sql_unit_of_work(create_session_factory(engine))
        async with uow() as unit:
            assert await unit.session.scalar(text("SELECT 1")) == 1
        assert await _kill_other_backends(engine.url.database) >= 1  # the pooled connection, as a restart would
        await asyncio.sleep(0.1)
        async with uow() as unit:
            assert await unit.session.scalar(text("SELECT 2")) == 2
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_without_the_idle_ping_only_the_first_statement_after_a_restart_fails(database_url):
    """What the ping saves, and why a connection used moments ago is not pinged: after a disconnect the pool
    drops its connections of that age, so the next transaction is served."""
    engine = create_engine(database_url, ping_idle_after_s=math.inf)
    try:
        uow = sql_unit_of_work(create_session_factory(engine))
        async with uow() as unit:
            await unit.session.scalar(text("SELECT 1"))
        await _kill_other_backends(engine.url.database)
        with pytest.raises(DBAPIError) as failure:
            async with uow() as unit:
                await unit.session.scalar(text("SELECT 1"))
        assert failure.value.connection_invalidated
        async with uow() as unit:
            assert await unit.session.scalar(text("SELECT 3")) == 3
    finally:
        await engine.dispose()
