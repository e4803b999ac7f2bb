"""A person's rights over their data (个人信息保护法): see and export it, and erase it."""
from __future__ import annotations

from typing import Any

from core.db.uow import UnitOfWorkFactory
from core.documents import DocumentStore
from core.domain import NotFound
from core.services.common import Clock, audit, utc_now
from core.services.intake import IntakeService
from core.texts import text

__all__ = ["PrivacyService", "mask_email", "mask_phone"]


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


class PrivacyService:
    def __init__(self, *, uow: UnitOfWorkFactory, intake: IntakeService, documents: DocumentStore, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._intake = intake
        self._documents = documents
        self._clock = clock

    async def export(self, *, person_id: int) -> dict[str, Any]:
        """Everything we hold about one person, as plain JSON-ready data."""
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("person.not_found"))
            applications = []
            for app in await uow.applications.list_for_person(person_id):
                summary = await self._intake.describe(uow, app)
                applications.append({
                    "id": app.id,
                    "form": summary.form_title,
                    "batch": summary.batch_name,
                    "status": summary.status_label,
                    "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
                    "answers": {line.label: line.value for line in summary.lines},
                    "raw_answers": app.answers,
                    "eligibility": app.eligibility,
                    "staff_message": app.staff_message,
                    "documents": [
                        {"id": d.id, "type": d.mime, "size": d.size, "sha256": d.sha256, "file_name": d.original_name}
                        for d in summary.documents
                    ],
                })
            notifications = [
                {"kind": m.kind, "channel": m.channel, "status": m.status, "created_at": m.created_at.isoformat()}
                for m in await uow.outbox.list_for_person(person_id)
            ]
            audit(uow, at=self._clock(), actor=f"person:{person_id}", action="person.export", subject=f"person:{person_id}")
            await uow.commit()
            return {
                "person": {
                    "id": person.id,
                    "telegram_id": person.telegram_id,
                    "name": person.display_name,
                    "email": person.email,
                    "mobile": person.mobile,
                    "preferred_channel": person.preferred_channel,
                    "consent_version": person.consent_version,
                    "consented_at": person.consented_at.isoformat() if person.consented_at else None,
                    "sensitive_consented_at": person.sensitive_consented_at.isoformat() if person.sensitive_consented_at else None,
                    "created_at": person.created_at.isoformat(),
                },
                "applications": applications,
                "notifications": notifications,
            }

    async def erase(self, *, person_id: int, actor: str | None = None) -> int:
        """Deletes the person, their applications, files and unsent notifications. Returns files removed.

        The audit log keeps that an erasure happened, by id only, with no personal data.
        """
        now = self._clock()
        files: list[str] = []
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("person.not_found"))
            for app in await uow.applications.list_for_person(person_id):
                files.extend(d.stored_name for d in await uow.documents.list_for_application(app.id))
                await uow.applications.delete(app)
            for message in await uow.outbox.list_for_person(person_id):
                await uow.session.delete(message)
            await uow.people.delete(person)
            audit(uow, at=now, actor=actor or f"person:{person_id}", action="person.erase", subject=f"person:{person_id}",
                  files=len(files))
            await uow.commit()
        # Files go after the commit: a failed transaction must not leave rows pointing at deleted files.
        for stored_name in files:
            self._documents.delete(stored_name)
        return len(files)
