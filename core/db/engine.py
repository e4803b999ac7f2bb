from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import BigInteger, event, exc
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine, AsyncSession

from core.domain.limits import MAX_ID

__all__ = ["create_engine", "create_session_factory", "is_sqlite", "PING_IDLE_AFTER_S"]

# A pooled connection unused for longer than this is pinged before it is handed out, so one that died while
# idle (a database restart, an outage, a firewall's idle cut) is replaced instead of failing the next
# transaction. SQLAlchemy's pool_pre_ping pings on every checkout, and on asyncpg a ping is three round
# trips (BEGIN, an empty query, ROLLBACK): with four or five transactions per bot answer that was more
# round trips than the answer's own statements. A connection back in the pool moments ago was alive then;
# if the server went away since, its first statement fails as a disconnect, SQLAlchemy drops every pooled
# connection of that age, and the next transaction gets a fresh one.
PING_IDLE_AFTER_S = 2.0


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, ping_idle_after_s: float = PING_IDLE_AFTER_S) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and echo) must not carry the answers, names and mobiles
    # it was binding; the statement itself is enough to diagnose it.
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, hide_parameters=True, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # The bot caps concurrent updates below this (BOT_MAX_CONCURRENT_UPDATES), so a burst waits
    # for a handler slot instead of timing out on the pool.
    engine = create_async_engine(url, echo=echo, hide_parameters=True, pool_size=20, max_overflow=10, pool_timeout=60)
    _ping_when_idle(engine, ping_idle_after_s)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_after_s: float) -> None:
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _handed_out(dbapi_connection, record, _proxy) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_after_s:
            return  # just connected, or in use moments ago
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and hands out another (a new one if need be).
            raise exc.DisconnectionError(f"pooled connection idle for {time.monotonic() - returned_at:.0f} s is gone") from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the bot and the notifier read while the other writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Session(AsyncSession):
    """The services' session. `get` by an id no INTEGER column can hold (a number typed in a chat command, a URL
    or a form, beyond core.domain.limits.MAX_ID) finds nothing, as on a missing row, instead of failing in the
    driver (SQLite: OverflowError beyond 64 bits; PostgreSQL: out of range for int4 beyond 31 bits). Every
    entry point (console, bot, CLI) then answers "not found", on both databases alike."""

    async def get(self, entity, ident, **kwargs):
        if isinstance(ident, int) and not isinstance(ident, bool) and not -MAX_ID - 1 <= ident <= MAX_ID:
            key = sa_inspect(entity).primary_key
            if len(key) == 1 and not isinstance(key[0].type, BigInteger):
                return None
        return await super().get(entity, ident, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False, autoflush=False)
