"""Proof files follow their rows: no bytes left by a failed write or a failed commit, deletions that survive a
read-only folder and a restart, and `reconcile` for what went wrong anyway."""
from __future__ import annotations

import os
import pathlib
import time

import pytest
from sqlalchemy import select, text as sql

from core.bootstrap import bootstrap
from core.db.engine import is_sqlite
from core.db.models import Document, PendingFileDeletion
from core.documents import LocalDocumentStore
from core.sample import SAMPLE_PDF
from tests.support.factories import EXPERT

ERASED_MOBILE = EXPERT["mobile"]


async def expert_draft(core, telegram_id: int = 8801):
    person = await core.people.register_telegram_user(telegram_id=telegram_id, display_name=None)
    await core.people.give_consent(person_id=person.id)
    await core.people.give_consent(person_id=person.id, sensitive=True)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id,
                           answers={k: v for k, v in EXPERT.items() if k not in ("profile", "declaration")})
    return person, draft


def files_in(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def document_rows(core) -> list[str]:
    async with core.uow() as uow:
        return list((await uow.session.scalars(select(Document.stored_name))).all())


async def test_a_failed_write_leaves_no_part_file(core, monkeypatch):
    _, draft = await expert_draft(core)
    real_write = pathlib.Path.write_bytes

    def disk_full(self, data):
        real_write(self, data[: len(data) // 2])  # half the certificate reached the disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", disk_full)
    with pytest.raises(OSError):
        await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    monkeypatch.undo()
    assert files_in(core.settings.documents_dir) == []
    assert await document_rows(core) == []


async def test_an_upload_whose_commit_fails_leaves_no_file(core):
    _, draft = await expert_draft(core)
    sqlite = is_sqlite(core.settings.database_url)
    statements = (
        ["CREATE TRIGGER forced_failure BEFORE INSERT ON audit_log WHEN NEW.action = 'document.upload' "
         "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"] if sqlite else
        ["CREATE FUNCTION forced_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql",
         "CREATE TRIGGER forced_failure BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'document.upload') "
         "EXECUTE FUNCTION forced_failure()"])
    async with core.engine.begin() as connection:
        for statement in statements:
            await connection.execute(sql(statement))
    with pytest.raises(Exception, match="forced failure"):
        await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    assert files_in(core.settings.documents_dir) == []
    assert await document_rows(core) == []


async def test_an_upload_is_published_under_its_stored_name_after_commit(core):
    _, draft = await expert_draft(core)
    view = await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    [stored] = await document_rows(core)
    assert files_in(core.settings.documents_dir) == [stored]
    assert (await core.intake.read_document(document_id=view.id, person_id=draft.person_id))[1] == SAMPLE_PDF


async def test_erasure_with_a_read_only_folder_says_so_and_the_deletion_survives_a_restart(
        core, database_url, settings_for, clock, monkeypatch):
    person, draft = await expert_draft(core)
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    [stored] = await document_rows(core)

    def read_only(self, stored_name):
        raise PermissionError(13, "Read-only file system")

    # The process runs as root in CI, where chmod does not stop an unlink: the store refuses instead.
    monkeypatch.setattr(LocalDocumentStore, "delete", read_only)
    report = await core.privacy.erase(person_id=person.id)
    assert (report.files, report.files_pending) == (1, 1)
    assert files_in(core.settings.documents_dir) == [stored]
    async with core.uow() as uow:
        [pending] = (await uow.session.scalars(select(PendingFileDeletion))).all()
        assert pending.stored_name == stored and pending.attempts == 1 and "Read-only" in pending.last_error
    monkeypatch.undo()

    restarted = bootstrap(settings_for(database_url), clock=clock)
    await restarted.prepare()
    try:
        purged = await restarted.privacy.files.purge()
        assert purged.deleted == 1 and purged.failed == {}
        assert files_in(restarted.settings.documents_dir) == []
        assert await restarted.privacy.files.pending() == []
    finally:
        await restarted.close()


async def test_reconcile_removes_unreferenced_files_and_reports_rows_without_one(core):
    _, draft = await expert_draft(core)
    kept = await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    lost = await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    directory = core.settings.documents_dir
    async with core.uow() as uow:
        lost_name = (await uow.session.get(Document, lost.id)).stored_name
    (directory / lost_name).unlink()
    orphan = "0" * 32 + ".pdf"
    (directory / orphan).write_bytes(SAMPLE_PDF)
    stale_part = "1" * 32 + ".jpg.part"
    (directory / stale_part).write_bytes(b"\xff\xd8\xff half")
    an_hour_ago = time.time() - 7200
    os.utime(directory / stale_part, (an_hour_ago, an_hour_ago))
    fresh_part = "2" * 32 + ".png.part"  # an upload still in its transaction: left alone
    (directory / fresh_part).write_bytes(b"\x89PNG")

    preview = await core.privacy.files.reconcile(dry_run=True)
    assert sorted(preview.orphans_removed) == sorted([orphan, stale_part])
    assert [m["document_id"] for m in preview.missing] == [lost.id]
    assert orphan in files_in(directory)

    report = await core.privacy.files.reconcile()
    assert sorted(report.orphans_removed) == sorted([orphan, stale_part])
    assert [m["document_id"] for m in report.missing] == [lost.id]
    async with core.uow() as uow:
        kept_name = (await uow.session.get(Document, kept.id)).stored_name
    assert files_in(directory) == sorted([kept_name, fresh_part])
    again = await core.privacy.files.reconcile()
    assert again.orphans_removed == [] and [m["document_id"] for m in again.missing] == [lost.id]


async def test_a_committed_upload_whose_rename_failed_is_still_read_and_reconcile_finishes_it(core, monkeypatch):
    _, draft = await expert_draft(core)

    def rename_fails(self, stored_name):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(LocalDocumentStore, "publish", rename_fails)
    view = await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    monkeypatch.undo()
    [stored] = await document_rows(core)
    assert files_in(core.settings.documents_dir) == [stored + ".part"]
    assert (await core.intake.read_document(document_id=view.id, person_id=draft.person_id))[1] == SAMPLE_PDF

    report = await core.privacy.files.reconcile()
    assert report.staged_published == [stored] and report.orphans_removed == [] and report.missing == []
    assert files_in(core.settings.documents_dir) == [stored]
