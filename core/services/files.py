"""Proof files on disk that follow their rows: staged until the commit, deleted after it, retried until gone.

- An upload is written under a temporary name; the commit publishes it, a rollback discards it.
- A deleted row queues its file (`pending_file_deletions`, in the same transaction); the file goes after the
  commit, and whatever could not be removed then (a read-only folder, a crash) is retried by `purge`, which
  the retention job and `innoeng maintenance reconcile` run, so the retry survives a restart.
- `reconcile` finds files no row references (removed) and rows whose file is missing (reported).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from core.db.models import Document, PendingFileDeletion
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.documents import DocumentStore, StoredFile
from core.services.common import Clock, audit, utc_now

__all__ = ["stage_document", "forget_document", "FileService", "PurgeReport", "ReconcileReport"]

log = logging.getLogger(__name__)


def stage_document(uow: UnitOfWork, documents: DocumentStore, content: bytes, *, suffix: str) -> StoredFile:
    """Writes the file for a row being added in `uow`: published on commit, discarded on rollback."""
    stored = documents.stage(content, suffix=suffix)
    uow.after_commit(lambda: _publish(documents, stored.stored_name))
    uow.after_rollback(lambda: documents.discard(stored.stored_name))
    return stored


async def forget_document(uow: UnitOfWork, documents: DocumentStore, stored_name: str, *, reason: str, now) -> None:
    """Queues the file of a row being deleted in `uow`; it is removed after the commit (or retried later)."""
    if await uow.session.get(PendingFileDeletion, stored_name) is None:
        uow.session.add(PendingFileDeletion(stored_name=stored_name, reason=reason, queued_at=now, attempts=0))
    uow.after_commit(lambda: _try_delete(documents, stored_name))


def _publish(documents: DocumentStore, stored_name: str) -> None:
    try:
        documents.publish(stored_name)
    except OSError as error:
        # The row is committed and the bytes are there under the staged name: reads still find them and
        # reconcile finishes the rename. Failing the caller now would report a saved upload as lost.
        log.warning("document %s committed but not renamed yet: %s", stored_name, error)


def _try_delete(documents: DocumentStore, stored_name: str) -> None:
    try:
        documents.delete(stored_name)
    except OSError as error:
        log.warning("document %s not deleted yet, will retry: %s", stored_name, error)


@dataclass(frozen=True)
class PurgeReport:
    deleted: int
    failed: dict[str, str] = field(default_factory=dict)  # stored name → why it is still there


@dataclass(frozen=True)
class ReconcileReport:
    orphans_removed: list[str]
    staged_published: list[str]
    missing: list[dict[str, object]]  # rows whose file is gone: {"document_id", "application_id", "stored_name"}
    purge: PurgeReport
    dry_run: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run, "orphans_removed": self.orphans_removed, "staged_published": self.staged_published,
            "missing": self.missing, "pending_deleted": self.purge.deleted, "pending_failed": self.purge.failed,
        }


class FileService:
    # A staged file younger than this may belong to an upload still in its transaction.
    STAGED_GRACE = timedelta(hours=1)

    def __init__(self, *, uow: UnitOfWorkFactory, documents: DocumentStore, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._documents = documents
        self._clock = clock

    async def purge(self, *, names: Iterable[str] | None = None) -> PurgeReport:
        """Removes queued files (these, or all queued); each one removed leaves the queue, the rest stay."""
        now = self._clock()
        deleted, failed = 0, {}
        async with self._uow() as uow:
            stmt = select(PendingFileDeletion).order_by(PendingFileDeletion.queued_at)
            if names is not None:
                stmt = stmt.where(PendingFileDeletion.stored_name.in_(list(names)))
            for pending in (await uow.session.scalars(stmt)).all():
                try:
                    self._documents.delete(pending.stored_name)
                except OSError as error:
                    pending.attempts += 1
                    pending.last_attempt_at = now
                    pending.last_error = f"{type(error).__name__}: {error.strerror or error}"[:500]
                    failed[pending.stored_name] = pending.last_error
                    continue
                await uow.session.delete(pending)
                deleted += 1
            await uow.commit()
        return PurgeReport(deleted=deleted, failed=failed)

    async def pending(self) -> list[PendingFileDeletion]:
        async with self._uow() as uow:
            return list((await uow.session.scalars(select(PendingFileDeletion).order_by(PendingFileDeletion.queued_at))).all())

    async def reconcile(self, *, dry_run: bool = False, actor: str = "maintenance") -> ReconcileReport:
        now = self._clock()
        async with self._uow() as uow:
            rows = (await uow.session.execute(select(Document.id, Document.application_id, Document.stored_name))).all()
            queued = set((await uow.session.scalars(select(PendingFileDeletion.stored_name))).all())
        referenced = {row.stored_name for row in rows}
        orphans, staged_to_publish = [], []
        # File times are the file system's wall clock, not the service's (possibly simulated) one.
        oldest_unclaimed = time.time() - self.STAGED_GRACE.total_seconds()
        inventory = self._documents.inventory()
        published = {entry.stored_name for entry in inventory if not entry.staged}
        for entry in inventory:
            if entry.stored_name in referenced:
                if entry.staged and entry.stored_name not in published:
                    staged_to_publish.append(entry.stored_name)
                continue
            if entry.stored_name in queued:
                continue  # purge below removes it and its queue row
            if entry.staged and entry.modified_at > oldest_unclaimed:
                continue  # an upload may still be in its transaction
            orphans.append(entry.stored_name + (".part" if entry.staged else ""))
        missing = [
            {"document_id": row.id, "application_id": row.application_id, "stored_name": row.stored_name}
            for row in rows if not self._documents.exists(row.stored_name)
        ]
        if dry_run:
            return ReconcileReport(orphans, staged_to_publish, missing, PurgeReport(0, {}), dry_run=True)
        for name in staged_to_publish:
            _publish(self._documents, name)
        for name in orphans:
            if name.endswith(".part"):
                self._documents.discard(name[: -len(".part")])
            else:
                _try_delete(self._documents, name)
        purge = await self.purge()
        async with self._uow() as uow:
            audit(uow, at=now, actor=actor, action="files.reconcile", subject="documents",
                  orphans_removed=len(orphans), staged_published=len(staged_to_publish), missing=len(missing),
                  pending_deleted=purge.deleted, pending_failed=len(purge.failed))
            await uow.commit()
        return ReconcileReport(orphans, staged_to_publish, missing, purge, dry_run=False)
