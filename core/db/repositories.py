"""Repositories: load and add rows. They never commit; the unit of work does."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Application, AuditEntry, Batch, CourseDemand, Document, ExpertCourse, OutboxMessage, Person
from core.domain.courses import course_mask
from core.domain.limits import id_in_range

__all__ = [
    "BatchRepository",
    "PersonRepository",
    "ApplicationRepository",
    "DocumentRepository",
    "OutboxRepository",
    "AuditRepository",
]


class BatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, batch: Batch) -> None:
        self.session.add(batch)

    async def get(self, batch_id: int) -> Batch | None:
        return await self.session.get(Batch, batch_id)

    async def get_by_name(self, name: str) -> Batch | None:
        return await self.session.scalar(select(Batch).where(Batch.name == name))

    async def list(self) -> Sequence[Batch]:
        return (await self.session.scalars(select(Batch).order_by(Batch.registration_opens_at, Batch.id))).all()

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Batch)) or 0

    async def current(self, now: datetime) -> Batch | None:
        """The open batch closing soonest; if none is open, the next one to open."""
        open_now = await self.session.scalar(
            select(Batch)
            .where(Batch.registration_opens_at <= now, Batch.registration_closes_at >= now)
            .order_by(Batch.registration_closes_at)
            .limit(1)
        )
        if open_now is not None:
            return open_now
        return await self.session.scalar(
            select(Batch).where(Batch.registration_opens_at > now).order_by(Batch.registration_opens_at).limit(1)
        )


# The bot runs these on every message: built once (building an ORM select with its options cost more
# than running it), with their values bound at execution.
_PERSON_BY_TELEGRAM_ID = select(Person).where(Person.telegram_id == bindparam("telegram_id"))
# The batch comes along: every use case needs its deadline, and one query beats two.
_APPLICATION = (select(Application).options(joinedload(Application.batch, innerjoin=True))
                .where(Application.id == bindparam("application_id")))
_APPLICATION_FOR_UPDATE = _APPLICATION.with_for_update(of=Application)
_APPLICATIONS_OF_PERSON = (select(Application).options(joinedload(Application.batch, innerjoin=True))
                           .where(Application.person_id == bindparam("person_id")).order_by(Application.id))


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, person: Person) -> None:
        self.session.add(person)

    async def get(self, person_id: int) -> Person | None:
        return await self.session.get(Person, person_id)

    async def get_by_telegram_id(self, telegram_id: int) -> Person | None:
        return await self.session.scalar(_PERSON_BY_TELEGRAM_ID, {"telegram_id": telegram_id})

    async def delete(self, person: Person) -> None:
        await self.session.delete(person)


class ApplicationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, application: Application) -> None:
        self.session.add(application)

    async def get(self, application_id: int, *, for_update: bool = False) -> Application | None:
        if not id_in_range(application_id):  # no row has it (and PostgreSQL could not even compare with it)
            return None
        stmt = _APPLICATION_FOR_UPDATE if for_update else _APPLICATION
        return await self.session.scalar(stmt, {"application_id": application_id})

    async def get_for_person(self, *, person_id: int, batch_id: int, form: str) -> Application | None:
        return await self.session.scalar(
            select(Application).where(
                Application.person_id == person_id, Application.batch_id == batch_id, Application.form == form
            )
        )

    async def list_for_person(self, person_id: int) -> Sequence[Application]:
        return (await self.session.scalars(_APPLICATIONS_OF_PERSON, {"person_id": person_id})).all()

    async def list(
        self,
        *,
        form: str | None = None,
        statuses: Sequence[str] | None = None,
        batch_id: int | None = None,
        province: str | None = None,
        course: str | None = None,
        oldest_first: bool = True,
        limit: int | None = None,
        offset: int = 0,
    ) -> Sequence[Application]:
        stmt = select(Application).options(joinedload(Application.batch, innerjoin=True))
        if form is not None:
            stmt = stmt.where(Application.form == form)
        if statuses:
            stmt = stmt.where(Application.status.in_(list(statuses)))
        if batch_id is not None:
            stmt = stmt.where(Application.batch_id == batch_id)
        if province is not None:
            stmt = stmt.where(Application.province == province)
        if course is not None:
            stmt = stmt.where(
                Application.id.in_(select(ExpertCourse.application_id).where(ExpertCourse.course == course))
            )
        order = Application.submitted_at if oldest_first else Application.submitted_at.desc()
        stmt = stmt.order_by(order, Application.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def replace_expert_courses(self, application_id: int, courses: Sequence[str]) -> None:
        """The courses the expert can teach, indexed for the pool's filters (expert_courses) and, as bits, on the
        application (courses_mask: the dashboard's pool per course), both from the same submission."""
        await self._delete(ExpertCourse, application_id)
        self.session.add_all(ExpertCourse(application_id=application_id, course=c) for c in courses)
        application = await self.session.get(Application, application_id)  # the submitting one: no query
        if application is not None:
            application.courses_mask = course_mask(courses)

    async def replace_course_demands(self, application_id: int, demands: Sequence[CourseDemand]) -> None:
        """Updates demands in place by course, so recommendations and appointments keep pointing at them."""
        existing = {d.course: d for d in await self.course_demands(application_id)}
        for demand in demands:
            current = existing.pop(demand.course, None)
            if current is None:
                self.session.add(demand)
                continue
            current.hours, current.experts_needed = demand.hours, demand.experts_needed
            current.mode, current.schedule = demand.mode, demand.schedule
        for dropped in existing.values():
            await self.session.delete(dropped)
        await self.session.flush()

    async def course_demands(self, application_id: int) -> Sequence[CourseDemand]:
        return (
            await self.session.scalars(
                select(CourseDemand).where(CourseDemand.application_id == application_id).order_by(CourseDemand.id)
            )
        ).all()

    async def expert_courses(self, application_id: int) -> list[str]:
        return list(
            (
                await self.session.scalars(
                    select(ExpertCourse.course).where(ExpertCourse.application_id == application_id)
                )
            ).all()
        )

    async def _delete(self, model, application_id: int) -> None:
        rows = (await self.session.scalars(select(model).where(model.application_id == application_id))).all()
        for row in rows:
            await self.session.delete(row)
        await self.session.flush()

    async def delete(self, application: Application) -> None:
        await self.session.delete(application)


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, document: Document) -> None:
        self.session.add(document)

    async def get(self, document_id: int) -> Document | None:
        return await self.session.get(Document, document_id)

    async def list_for_application(self, application_id: int) -> Sequence[Document]:
        return (
            await self.session.scalars(
                select(Document).where(Document.application_id == application_id).order_by(Document.id)
            )
        ).all()

    async def delete(self, document: Document) -> None:
        await self.session.delete(document)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_key(self, key: str) -> OutboxMessage | None:
        return await self.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))

    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)

    async def list_for_person(self, person_id: int) -> Sequence[OutboxMessage]:
        return (
            await self.session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == person_id).order_by(OutboxMessage.id)
            )
        ).all()

    async def list(self, *, kind: str | None = None) -> Sequence[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return (await self.session.scalars(stmt)).all()


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def list_for(self, subject: str) -> Sequence[AuditEntry]:
        return (
            await self.session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id))
        ).all()
