"""A person's rights over their data (个人信息保护法): see and export all of it (art. 45), and erase it (art. 47).

What erasure keeps, and why (also in the README, and told to the person):
- an appointment whose agreement is signed or which is filed with the education authority (备案): the
  agreement is a contract with the expert and their employer, the filing a record the authority holds too.
  Kept: the appointment row and, on the application it points to, only what the agreement and the filing
  list show (name, employer, employer type, courses; for a university: its name, province, level). Everything
  else (contact details, birth date, profile, certificates, notifications) goes; the person record becomes an
  empty stub marked erased, so nobody can reach them through it.
- the audit log, by ids only (who did what, when), with any personal text scrubbed from its details.
Everything else that names the person is deleted or redacted, including notifications to others: those not
yet sent about an appointment that no longer exists are cancelled, the rest lose the person's details.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, delete, or_, select

from core.db.models import (
    Appointment,
    AuditEntry,
    CapException,
    ChatState,
    CourseDemand,
    Document,
    Event,
    EventInvitation,
    MatchProposal,
    NotificationOptOut,
    OutboxMessage,
    ParticipantSession,
    Person,
    PersonIdentity,
    Recommendation,
    SignInCode,
    SignInFailure,
)
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.documents import DocumentStore
from core.domain import ApplicationStatus, NotFound
from core.domain.appointments import AppointmentStatus
from core.services.common import Clock, audit, retried_on_conflict, utc_now
from core.services.files import FileService, forget_document
from core.services.intake import IntakeService, reference_number
from core.texts import text

__all__ = ["PrivacyService", "ErasureReport", "mask_email", "mask_phone", "KEPT_APPOINTMENT_STATUSES", "REDACTED"]

# Appointments the branch must keep after the expert or the university contact asks for erasure.
KEPT_APPOINTMENT_STATUSES = frozenset({AppointmentStatus.AGREED, AppointmentStatus.FILED})
# What stays on an application an agreement or filing still needs (the columns of the filing list).
_KEPT_ANSWERS = {
    "expert": ("name", "employer", "employer_type", "courses"),
    "university": ("university_name", "province", "level", "courses"),
}
REDACTED = "［已删除］"
# Outbox rows not yet sent: erasure cancels those about an appointment that no longer exists.
_UNSENT = ("queued", "unknown", "failed", "sending")


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class ErasureReport:
    files: int  # files of the person queued for deletion
    files_pending: int  # of those, still on disk (retried automatically)
    kept_appointments: tuple[int, ...] = ()
    cancelled_notifications: int = 0
    redacted_notifications: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


class PrivacyService:
    def __init__(self, *, uow: UnitOfWorkFactory, intake: IntakeService, documents: DocumentStore, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._intake = intake
        self._documents = documents
        self._clock = clock
        self.files = FileService(uow=uow, documents=documents, clock=clock)

    # ------------------------------------------------------------------ access and copy (art. 45)

    async def export(self, *, person_id: int) -> dict[str, Any]:
        """Everything we hold about one person, as plain JSON-ready data."""
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("person.not_found"))
            apps = list(await uow.applications.list_for_person(person_id))
            app_ids = [a.id for a in apps]
            applications, files = [], []
            for app in apps:
                summary = await self._intake.describe(uow, app)
                documents = [
                    {"id": d.id, "type": d.mime, "size": d.size, "sha256": d.sha256, "file_name": d.original_name}
                    for d in summary.documents
                ]
                files += [{**d, "application_id": app.id} for d in documents]
                applications.append({
                    "id": app.id,
                    "reference": reference_number(app),
                    "form": summary.form_title,
                    "batch": summary.batch_name,
                    "status": summary.status_label,
                    "created_at": _iso(app.created_at),
                    "submitted_at": _iso(app.submitted_at),
                    "reviewed_at": _iso(app.reviewed_at),
                    "answers": {line.label: line.value for line in summary.lines},
                    "raw_answers": app.answers,
                    "eligibility": app.eligibility,
                    "priority_score": app.priority_score,
                    "staff_message": app.staff_message,
                    "documents": documents,
                    "course_demands": [
                        {"course": d.course, "hours": d.hours, "experts_needed": d.experts_needed, "mode": d.mode,
                         "schedule": d.schedule}
                        for d in await uow.applications.course_demands(app.id)
                    ],
                })
            identities = (await uow.session.scalars(
                select(PersonIdentity).where(PersonIdentity.person_id == person_id).order_by(PersonIdentity.id))).all()
            exported = {
                "person": _person(person),
                "sign_in": [
                    {"channel": i.channel, "identifier": i.identifier, "verified_at": _iso(i.verified_at)}
                    for i in identities
                ],
                "applications": applications,
                "files": files,
                "appointments": await _appointments(uow, app_ids),
                "match_proposals": await _proposals(uow, app_ids),
                "recommendations": await _recommendations(uow, app_ids),
                "cap_exceptions": [
                    {"expert_application_id": c.expert_application_id, "max_universities": c.max_universities,
                     "reason": c.reason, "granted_at": _iso(c.granted_at)}
                    for c in (await uow.session.scalars(
                        select(CapException).where(CapException.expert_application_id.in_(app_ids)))).all()
                ] if app_ids else [],
                "event_invitations": [
                    {"event_id": e.id, "title": e.title, "kind": e.kind, "starts_at": _iso(e.starts_at),
                     "rsvp": i.rsvp, "invited_at": _iso(i.invited_at), "responded_at": _iso(i.responded_at)}
                    for i, e in (await uow.session.execute(
                        select(EventInvitation, Event).join(Event, Event.id == EventInvitation.event_id)
                        .where(EventInvitation.person_id == person_id).order_by(EventInvitation.id))).all()
                ],
                "notifications": [
                    {"id": m.id, "kind": m.kind, "channel": m.channel, "address": m.address, "status": m.status,
                     "created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at), "payload": m.payload}
                    for m in await uow.outbox.list_for_person(person_id)
                ],
                "audit_log": [
                    {"at": _iso(e.at), "actor": e.actor, "action": e.action, "subject": e.subject, "detail": e.detail}
                    for e in await _audit_entries(uow, person_id, app_ids)
                ],
            }
            audit(uow, at=self._clock(), actor=f"person:{person_id}", action="person.export", subject=f"person:{person_id}")
            await uow.commit()
            return exported

    async def document_ids(self, *, person_id: int) -> list[int]:
        """The person's own files, for sending them the copies they ask for."""
        async with self._uow() as uow:
            app_ids = [a.id for a in await uow.applications.list_for_person(person_id)]
            if not app_ids:
                return []
            return list((await uow.session.scalars(
                select(Document.id).where(Document.application_id.in_(app_ids)).order_by(Document.id))).all())

    # ------------------------------------------------------------------ erasure (art. 47)

    @retried_on_conflict
    async def erase(self, *, person_id: int, actor: str | None = None) -> ErasureReport:
        """Deletes or redacts every row that names the person; keeps only what the branch must keep (above).

        Files are queued in the same transaction and removed after it; any that cannot be removed now stay
        queued (and are retried by the retention job and `innoeng maintenance reconcile`). Run again from the
        start when a reviewer or the other side of an appointment wrote one of the person's rows meanwhile:
        the rolled-back attempt removed no file (removal waits for the commit) and wrote nothing.
        """
        now = self._clock()
        async with self._uow() as uow:
            person = await uow.people.get(person_id)
            if person is None:
                raise NotFound(text("person.not_found"))
            apps = list(await uow.applications.list_for_person(person_id))
            app_ids = [a.id for a in apps]
            appointments = list((await uow.session.scalars(select(Appointment).where(
                or_(Appointment.expert_application_id.in_(app_ids), Appointment.university_application_id.in_(app_ids))
            ))).all()) if app_ids else []
            kept = [a for a in appointments if a.status in KEPT_APPOINTMENT_STATUSES]
            kept_apps = {a.expert_application_id for a in kept} | {a.university_application_id for a in kept}
            marks = _Marks.of(person, apps, appointment_ids={a.id for a in appointments},
                              gone_appointment_ids={a.id for a in appointments if a not in kept})

            cancelled, redacted = await _redact_outbox_of_others(uow, person_id, marks, now)
            files: list[str] = []
            for app in apps:
                for document in await uow.documents.list_for_application(app.id):
                    files.append(document.stored_name)
                    await forget_document(uow, self._documents, document.stored_name, reason="erasure", now=now)
                    await uow.documents.delete(document)
            await uow.flush()  # documents before their applications (the database would cascade them first)
            own_notifications = await uow.outbox.list_for_person(person_id)
            for message in own_notifications:
                await uow.session.delete(message)
            scrubbed = await _scrub_audit(uow, person_id, app_ids, marks)
            if person.telegram_id is not None:
                await uow.session.execute(delete(ChatState).where(ChatState.telegram_id == person.telegram_id))
            # The ways they signed in go too, with the codes sent to those addresses and the failed tries that
            # name them: a kept stub below must not be reachable by its old e-mail or mobile.
            identities = list((await uow.session.scalars(
                select(PersonIdentity).where(PersonIdentity.person_id == person_id))).all())
            for channel, identifier in {(i.channel, i.identifier) for i in identities if i.channel != "telegram"}:
                await uow.session.execute(delete(SignInCode).where(
                    SignInCode.channel == channel, SignInCode.address == identifier))
                await uow.session.execute(delete(SignInFailure).where(
                    SignInFailure.channel == channel, SignInFailure.address == identifier))
                await uow.session.execute(delete(OutboxMessage).where(
                    OutboxMessage.kind == "signin_code", OutboxMessage.address == identifier))
            await uow.session.execute(delete(PersonIdentity).where(PersonIdentity.person_id == person_id))
            await uow.session.execute(delete(ParticipantSession).where(ParticipantSession.person_id == person_id))
            await uow.session.execute(delete(NotificationOptOut).where(NotificationOptOut.person_id == person_id))
            await uow.session.execute(delete(EventInvitation).where(EventInvitation.person_id == person_id))
            for app in apps:
                if app.id in kept_apps:
                    keep = _KEPT_ANSWERS.get(app.form, ())
                    app.answers = {k: v for k, v in app.answers.items() if k in keep}
                    app.staff_message = None
                    app.eligibility = None
                    # Out of the pool and of every future run: only the signed or filed appointment remains.
                    app.status = ApplicationStatus.WITHDRAWN
                    app.updated_at = now
                    await uow.session.execute(delete(Recommendation).where(Recommendation.expert_application_id == app.id))
                else:
                    await uow.applications.delete(app)
            if kept_apps:
                for attribute in ("telegram_id", "display_name", "email", "mobile", "consent_version", "consented_at",
                                  "sensitive_consented_at"):
                    setattr(person, attribute, None)
                person.erased_at = now
            else:
                await uow.people.delete(person)
            counts = {"applications": len(apps) - len(kept_apps), "applications_kept": len(kept_apps),
                      "appointments": len(appointments) - len(kept), "appointments_kept": len(kept),
                      "files": len(files), "own_notifications": len(own_notifications),
                      "notifications_cancelled": cancelled, "notifications_redacted": redacted, "audit_scrubbed": scrubbed}
            audit(uow, at=now, actor=actor or f"person:{person_id}", action="person.erase", subject=f"person:{person_id}",
                  **counts)
            await uow.commit()
        purge = await self.files.purge(names=files)
        return ErasureReport(
            files=len(files), files_pending=len(purge.failed), kept_appointments=tuple(sorted(a.id for a in kept)),
            cancelled_notifications=cancelled, redacted_notifications=redacted, counts=counts,
        )


# ---------------------------------------------------------------------- export pieces

def _person(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "telegram_id": person.telegram_id,
        "name": person.display_name,
        "email": person.email,
        "mobile": person.mobile,
        "preferred_channel": person.preferred_channel,
        "locale": person.locale,
        "role": person.role,
        "consent_version": person.consent_version,
        "consented_at": _iso(person.consented_at),
        "sensitive_consented_at": _iso(person.sensitive_consented_at),
        "created_at": _iso(person.created_at),
    }


async def _appointments(uow: UnitOfWork, app_ids: list[int]) -> list[dict[str, Any]]:
    if not app_ids:
        return []
    rows = (await uow.session.scalars(select(Appointment).where(
        or_(Appointment.expert_application_id.in_(app_ids), Appointment.university_application_id.in_(app_ids))
    ).order_by(Appointment.id))).all()
    return [{
        "id": a.id,
        "side": "expert" if a.expert_application_id in app_ids else "university",
        "expert_application_id": a.expert_application_id,
        "university_application_id": a.university_application_id,
        "status": a.status, "offered_at": _iso(a.offered_at), "answer_by": _iso(a.answer_by),
        "expert_response": a.expert_response, "expert_reason": a.expert_reason,
        "university_response": a.university_response, "university_reason": a.university_reason,
        "publicity_starts_on": _iso(a.publicity_starts_on), "publicity_ends_on": _iso(a.publicity_ends_on),
        "objections": a.objections, "agreement": a.agreement,
        "filed_on": _iso(a.filed_on), "filing_note": a.filing_note,
    } for a in rows]


async def _proposals(uow: UnitOfWork, app_ids: list[int]) -> list[dict[str, Any]]:
    if not app_ids:
        return []
    rows = (await uow.session.scalars(select(MatchProposal).where(
        or_(MatchProposal.expert_application_id.in_(app_ids), MatchProposal.university_application_id.in_(app_ids))
    ).order_by(MatchProposal.id))).all()
    return [{"id": p.id, "run_id": p.run_id, "expert_application_id": p.expert_application_id,
             "university_application_id": p.university_application_id, "score": p.score, "terms": p.terms,
             "fixed": p.fixed, "appointment_id": p.appointment_id} for p in rows]


async def _recommendations(uow: UnitOfWork, app_ids: list[int]) -> list[dict[str, Any]]:
    """Recommendations about the person as an expert, and those made to them as a university contact."""
    if not app_ids:
        return []
    rows = (await uow.session.execute(
        select(Recommendation, CourseDemand).join(CourseDemand, CourseDemand.id == Recommendation.demand_id)
        .where(or_(Recommendation.expert_application_id.in_(app_ids), CourseDemand.application_id.in_(app_ids)))
        .order_by(Recommendation.id)
    )).all()
    return [{
        "id": r.id, "about": "me" if r.expert_application_id in app_ids else "candidate_for_me",
        "course": d.course, "university_application_id": d.application_id,
        "expert_application_id": r.expert_application_id, "rank": r.rank, "round": r.round, "score": r.score,
        "terms": r.terms, "choice": r.choice, "want_rank": r.want_rank, "created_at": _iso(r.created_at),
    } for r, d in rows]


def _audit_subjects(person_id: int, app_ids: list[int]) -> list[str]:
    return [f"person:{person_id}"] + [f"application:{i}" for i in app_ids]


async def _audit_entries(uow: UnitOfWork, person_id: int, app_ids: list[int]) -> list[AuditEntry]:
    return list((await uow.session.scalars(select(AuditEntry).where(or_(
        AuditEntry.actor == f"person:{person_id}", AuditEntry.subject.in_(_audit_subjects(person_id, app_ids))
    )).order_by(AuditEntry.id))).all())


# ---------------------------------------------------------------------- erasure pieces

@dataclass(frozen=True)
class _Marks:
    """What identifies the person in rows that are not theirs."""

    strong: frozenset[str]  # mobile, e-mail, reference numbers: a row containing one is about them
    names: frozenset[str]  # names: redacted inside rows already known to be about them, never a selector alone
    application_ids: frozenset[int]
    appointment_ids: frozenset[int]
    gone_appointment_ids: frozenset[int]

    @classmethod
    def of(cls, person: Person, apps, *, appointment_ids: set[int], gone_appointment_ids: set[int]) -> "_Marks":
        strong = {person.mobile, person.email, *(reference_number(a) for a in apps)}
        names = {person.display_name}
        for app in apps:
            answers = app.answers or {}
            strong |= {answers.get(k) for k in ("mobile", "email", "contact_mobile", "contact_email")}
            names |= {answers.get(k) for k in ("name", "contact_name")}
        strong = {s for s in strong if isinstance(s, str) and len(s) >= 5}
        names = {n for n in names if isinstance(n, str) and len(n) >= 2}
        return cls(frozenset(strong), frozenset(names), frozenset(a.id for a in apps),
                   frozenset(appointment_ids), frozenset(gone_appointment_ids))

    def patterns(self) -> set[str]:
        """Substrings that find candidate rows in JSON text (raw, and as json.dumps escapes it)."""
        found = set()
        for needle in self.strong:
            found |= {needle, json.dumps(needle)[1:-1]}
        for key, ids in (("appointment_id", self.appointment_ids), ("application_id", self.application_ids)):
            for i in ids:
                found |= {f'"{key}": {i},', f'"{key}": {i}}}'}
        return found

    def about_them(self, payload: Any) -> bool:
        if isinstance(payload, dict):
            if payload.get("appointment_id") in self.appointment_ids or payload.get("application_id") in self.application_ids:
                return True
            return any(self.about_them(v) for v in payload.values())
        if isinstance(payload, list):
            return any(self.about_them(v) for v in payload)
        return isinstance(payload, str) and any(s in payload for s in self.strong)

    def redact(self, value: Any) -> Any:
        """The value without the person: their items dropped from lists, their details replaced in text."""
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value if not (isinstance(v, dict) and self._their_line(v))]
        if isinstance(value, str):
            for needle in sorted(self.strong | self.names, key=len, reverse=True):
                value = value.replace(needle, REDACTED)
        return value

    def _their_line(self, item: dict) -> bool:
        # A list entry (a digest line) that is about this person goes whole: a masked phone is still theirs.
        return any(isinstance(v, str) and v in self.strong for v in item.values())


async def _redact_outbox_of_others(uow: UnitOfWork, person_id: int, marks: _Marks, now) -> tuple[int, int]:
    patterns = marks.patterns()
    if not patterns:
        return 0, 0
    payload_text = cast(OutboxMessage.payload, String)
    rows = (await uow.session.scalars(select(OutboxMessage).where(
        or_(OutboxMessage.person_id.is_(None), OutboxMessage.person_id != person_id),
        or_(*(payload_text.contains(p, autoescape=True) for p in patterns)),
    ))).all()
    cancelled = redacted = 0
    for row in rows:
        if not marks.about_them(row.payload):
            continue
        row.payload = marks.redact(row.payload)
        if row.status in _UNSENT and row.payload.get("appointment_id") in marks.gone_appointment_ids:
            row.status = "skipped"
            row.locked_until = None
            row.claim_token = None
            row.last_error = text("privacy.notice_cancelled")
            cancelled += 1
        else:
            redacted += 1
    return cancelled, redacted


async def _scrub_audit(uow: UnitOfWork, person_id: int, app_ids: list[int], marks: _Marks) -> int:
    scrubbed = 0
    for entry in await _audit_entries(uow, person_id, app_ids):
        cleaned = marks.redact(entry.detail)
        if cleaned != entry.detail:
            entry.detail = cleaned
            scrubbed += 1
    return scrubbed
