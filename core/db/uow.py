from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db.repositories import (
    ApplicationRepository,
    AuditRepository,
    BatchRepository,
    DocumentRepository,
    OutboxRepository,
    PersonRepository,
)

__all__ = ["UnitOfWork", "UnitOfWorkFactory", "sql_unit_of_work"]


class UnitOfWork:
    """One transaction. Leaving the block without `commit()` rolls everything back.

    With `autocommit`, there is no transaction: each statement commits on its own. For a unit of one
    statement (a lookup, an upsert), or of reads that need no common snapshot: under PostgreSQL's READ
    COMMITTED every statement sees its own snapshot even inside a transaction, so a read-only transaction
    buys nothing but a BEGIN and a ROLLBACK round trip (the bot's hot path had four of them per answer)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, autocommit: bool = False) -> None:
        self._session_factory = session_factory
        self._autocommit = autocommit

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        if self._autocommit:
            await self.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        # Work outside the database that must follow the transaction's fate (files on disk): run after a
        # successful commit, or when the block is left without one.
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        self.batches = BatchRepository(self.session)
        self.people = PersonRepository(self.session)
        self.applications = ApplicationRepository(self.session)
        self.documents = DocumentRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.audit = AuditRepository(self.session)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()
            undo, self._after_rollback, self._after_commit = self._after_rollback, [], []
            for action in reversed(undo):
                action()

    async def commit(self) -> None:
        await self.session.commit()
        done, self._after_commit, self._after_rollback = self._after_commit, [], []
        for action in done:
            action()

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after_commit.append(action)

    def after_rollback(self, action: Callable[[], None]) -> None:
        self._after_rollback.append(action)

    async def flush(self) -> None:
        await self.session.flush()


class UnitOfWorkFactory:
    """`uow()` opens a transaction; `uow.autocommit()` a unit whose statements commit one by one."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory)

    def autocommit(self) -> UnitOfWork:
        return UnitOfWork(self._session_factory, autocommit=True)


def sql_unit_of_work(session_factory: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory)
