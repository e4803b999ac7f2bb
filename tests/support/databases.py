"""Throwaway databases for tests: an SQLite file, or a fresh PostgreSQL database that is dropped after."""
from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from collections.abc import AsyncIterator

import asyncpg
import pytest

__all__ = ["POSTGRES_DSN", "postgres_unavailable_reason", "throwaway_database", "BACKENDS"]

BACKENDS = ("sqlite", "postgresql")

# The server this machine runs; override with TEST_POSTGRES_DSN.
POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

_reachable: str | None | bool = False  # False: not checked yet; None: reachable; str: why not


async def postgres_unavailable_reason() -> str | None:
    global _reachable
    if _reachable is False:
        try:
            connection = await asyncpg.connect(POSTGRES_DSN, timeout=5)
            await connection.close()
            _reachable = None
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _reachable = f"PostgreSQL at {POSTGRES_DSN} is not reachable: {error!r}"
    return _reachable


async def require_postgres() -> None:
    reason = await postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


def _sqlalchemy_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


@asynccontextmanager
async def throwaway_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """Yields an SQLAlchemy URL of an empty database that exists only for the caller."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    await require_postgres()
    name = f"innoeng_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _sqlalchemy_url(POSTGRES_DSN, name)
    finally:
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
