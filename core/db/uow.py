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
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
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


UnitOfWorkFactory = Callable[[], UnitOfWork]


def sql_unit_of_work(session_factory: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    return lambda: UnitOfWork(session_factory)
