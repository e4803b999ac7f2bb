"""Retention (个人信息保护法 art. 19: no longer than needed): what is kept how long, enforced by one job.

The job runs in the notifier's scheduler and as `innoeng maintenance retention [--dry-run]`. Each kind of
record has its period in settings (`RETENTION_*_DAYS`, defaults in the README). It is idempotent: what it
removed or redacted no longer matches, so a second run finds nothing. Each run that changed something
writes one audit entry with counts, never contents.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, select

from core.db.models import (
    Appointment, Application, AuditEntry, Batch, ChatState, Document, OutboxMessage, ParticipantSession, Person,
    ProcessedUpdate, SignInCode, SignInFailure,
)
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.documents import DocumentStore
from core.domain import ApplicationStatus
from core.services.common import Clock, audit, utc_now
from core.services.files import FileService, forget_document
from core.services.privacy import KEPT_APPOINTMENT_STATUSES
from core.texts import text

__all__ = ["RetentionPeriods", "RetentionService", "RETENTION_KINDS", "SIGN_IN_RECORD_DAYS", "WEB_SESSION_DAYS"]

# Sign-in codes and failed tries count only for the hour their throttles look back; a day keeps them for
# questions about a sign-in the same day. A web session unused for 30 days has expired (SignInPolicy).
SIGN_IN_RECORD_DAYS = 1
WEB_SESSION_DAYS = 30

# Outbox rows whose story is over: their payload (names, results, contacts) is no longer needed.
_FINISHED_OUTBOX = ("sent", "skipped", "failed")
_REDACTION_MARK = "retention_redacted_at"
RETENTION_KINDS = (
    "outbox_payloads", "processed_updates", "chat_states", "abandoned_drafts", "closed_applications", "audit_entries",
)


@dataclass(frozen=True)
class RetentionPeriods:
    outbox_payload_days: int = 30
    processed_update_days: int = 7
    chat_state_days: int = 180
    draft_days: int = 180
    closed_application_days: int = 180  # after the batch's registration closed
    audit_days: int = 1095  # PIPL art. 56: processing records are kept at least three years

    @classmethod
    def from_settings(cls, settings) -> "RetentionPeriods":
        return cls(
            outbox_payload_days=settings.retention_outbox_payload_days,
            processed_update_days=settings.retention_processed_update_days,
            chat_state_days=settings.retention_chat_state_days,
            draft_days=settings.retention_draft_days,
            closed_application_days=settings.retention_closed_application_days,
            audit_days=settings.retention_audit_days,
        )

    def notice_line(self) -> str:
        """The retention sentence of the privacy notice, from the periods in force."""
        return text(
            "privacy.retention_line", outbox_days=self.outbox_payload_days, chat_days=self.chat_state_days,
            updates_days=self.processed_update_days, draft_days=self.draft_days,
            closed_days=self.closed_application_days, audit_days=self.audit_days,
        )


class RetentionService:
    def __init__(self, *, uow: UnitOfWorkFactory, documents: DocumentStore, periods: RetentionPeriods,
                 clock: Clock = utc_now) -> None:
        self._uow = uow
        self._documents = documents
        self.periods = periods
        self._clock = clock
        self._files = FileService(uow=uow, documents=documents, clock=clock)

    @classmethod
    def from_settings(cls, settings, *, uow: UnitOfWorkFactory, documents: DocumentStore, clock: Clock = utc_now) -> "RetentionService":
        return cls(uow=uow, documents=documents, periods=RetentionPeriods.from_settings(settings), clock=clock)

    async def run(self, *, dry_run: bool = False, actor: str = "retention") -> dict[str, int]:
        """Counts per kind of what was (or, with dry_run, would be) removed or redacted."""
        now = self._clock()
        p = self.periods
        async with self._uow() as uow:
            counts = {
                "outbox_payloads": await self._outbox(uow, now - timedelta(days=p.outbox_payload_days), now, dry_run),
                "processed_updates": await self._delete_older(
                    uow, ProcessedUpdate, ProcessedUpdate.received_at < now - timedelta(days=p.processed_update_days), dry_run),
                "chat_states": await self._delete_older(
                    uow, ChatState, ChatState.updated_at < now - timedelta(days=p.chat_state_days), dry_run),
                "abandoned_drafts": await self._applications(uow, self._abandoned_drafts(now), now, dry_run),
                "closed_applications": await self._applications(uow, self._closed_applications(now), now, dry_run),
                "audit_entries": await self._delete_older(
                    uow, AuditEntry, AuditEntry.at < now - timedelta(days=p.audit_days), dry_run),
                "signin_codes": await self._delete_older(
                    uow, SignInCode, SignInCode.created_at < now - timedelta(days=SIGN_IN_RECORD_DAYS), dry_run),
                "signin_failures": await self._delete_older(
                    uow, SignInFailure, SignInFailure.at < now - timedelta(days=SIGN_IN_RECORD_DAYS), dry_run),
                "web_sessions": await self._delete_older(
                    uow, ParticipantSession, ParticipantSession.last_seen_at < now - timedelta(days=WEB_SESSION_DAYS),
                    dry_run),
                # A code in a sent e-mail or SMS is dead after ten minutes: its text goes after a day, not a month.
                "signin_code_payloads": await self._outbox(
                    uow, now - timedelta(days=SIGN_IN_RECORD_DAYS), now, dry_run, kind="signin_code"),
            }
            if not dry_run and any(counts.values()):
                audit(uow, at=now, actor=actor, action="retention.run", subject="retention", **counts)
            if not dry_run:
                await uow.commit()
        counts["files_deleted"] = 0 if dry_run else (await self._files.purge()).deleted
        return counts

    # ------------------------------------------------------------------ kinds

    async def _outbox(self, uow: UnitOfWork, cutoff: datetime, now: datetime, dry_run: bool,
                      kind: str | None = None) -> int:
        payload_text = cast(OutboxMessage.payload, String)
        stmt = select(OutboxMessage).where(
            OutboxMessage.status.in_(_FINISHED_OUTBOX),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.last_attempt_at, OutboxMessage.created_at) < cutoff,
            ~payload_text.contains(f'"{_REDACTION_MARK}"', autoescape=True),
        )
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        if dry_run:
            return await uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = (await uow.session.scalars(stmt)).all()
        for row in rows:
            # What happened stays (kind, channel, status, times); what it said and to whom goes.
            row.payload = {_REDACTION_MARK: now.isoformat()}
            row.address = None
            row.provider_reply = None
        return len(rows)

    @staticmethod
    async def _delete_older(uow: UnitOfWork, model, condition, dry_run: bool) -> int:
        if dry_run:
            return await uow.session.scalar(select(func.count()).select_from(model).where(condition)) or 0
        return (await uow.session.execute(delete(model).where(condition))).rowcount or 0

    def _abandoned_drafts(self, now: datetime):
        return and_(Application.status == ApplicationStatus.DRAFT,
                    Application.updated_at < now - timedelta(days=self.periods.draft_days))

    def _closed_applications(self, now: datetime):
        # Rejected and withdrawn applications outlive their batch's registration by the period, then go
        # with their certificates, unless an agreement or a filing still points at them (kept by law).
        closed_batches = select(Batch.id).where(
            Batch.registration_closes_at < now - timedelta(days=self.periods.closed_application_days))
        needed = select(Appointment.expert_application_id).where(Appointment.status.in_(list(KEPT_APPOINTMENT_STATUSES))).union(
            select(Appointment.university_application_id).where(Appointment.status.in_(list(KEPT_APPOINTMENT_STATUSES))))
        return and_(
            Application.status.in_([ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN]),
            Application.batch_id.in_(closed_batches),
            Application.updated_at < now - timedelta(days=self.periods.closed_application_days),
            ~Application.id.in_(needed),
        )

    async def _applications(self, uow: UnitOfWork, condition, now: datetime, dry_run: bool) -> int:
        if dry_run:
            return await uow.session.scalar(select(func.count()).select_from(Application).where(condition)) or 0
        apps = (await uow.session.scalars(select(Application).where(condition))).all()
        if not apps:
            return 0
        documents = (await uow.session.scalars(
            select(Document).where(Document.application_id.in_([a.id for a in apps])))).all()
        for document in documents:
            await forget_document(uow, self._documents, document.stored_name, reason="retention", now=now)
            await uow.session.delete(document)
        await uow.flush()  # documents before their applications (the database would cascade them first)
        for app in apps:
            await uow.session.delete(app)
        await uow.flush()
        # The contact details copied from those answers go with the last of them; the Telegram id and the
        # consent stay, so the person can still talk to the bot and apply again.
        emptied = select(Person).where(
            Person.id.in_({a.person_id for a in apps}), ~Person.id.in_(select(Application.person_id)))
        for person in (await uow.session.scalars(emptied)).all():
            person.display_name = person.email = person.mobile = None
        return len(apps)

    def describe(self) -> dict[str, Any]:
        return {kind: days for kind, days in zip(RETENTION_KINDS, (
            self.periods.outbox_payload_days, self.periods.processed_update_days, self.periods.chat_state_days,
            self.periods.draft_days, self.periods.closed_application_days, self.periods.audit_days))}
