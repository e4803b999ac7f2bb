"""The composition root of the core: settings in, engine and services out. Nothing connects at import."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import create_engine, create_session_factory
from core.dialog import IntakeDialog
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory, sql_unit_of_work
from core.documents import DocumentStore, LocalDocumentStore
from core.links import LinkService
from core.services import BatchService, IntakeService, PeopleService, PrivacyService, ReviewService
from core.services.common import Clock, utc_now
from core.services.appointments import AppointmentService
from core.services.audit import AuditService
from core.services.deliveries import UpdateLog
from core.services.retention import RetentionPeriods
from core.services.events import EventService
from core.services.figures import FiguresService
from core.services.matching import MatchingService
from core.services.permissions import PermissionService
from core.services.preferences import NotificationPreferences
from core.services.recommendations import RecommendationService
from core.services.signin import SignInService
from core.services.staff_accounts import ConsolePolicy, StaffAccountService
from core.settings import Settings

__all__ = ["Core", "bootstrap"]


@dataclass
class Core:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    documents: DocumentStore
    batches: BatchService
    people: PeopleService
    intake: IntakeService
    review: ReviewService
    privacy: PrivacyService
    clock: Clock
    events: EventService
    recommendations: RecommendationService
    matching: MatchingService
    appointments: AppointmentService
    updates: UpdateLog
    staff: StaffAccountService
    signin: SignInService
    dialog: IntakeDialog
    links: LinkService
    preferences: NotificationPreferences
    figures: FiguresService
    permissions: PermissionService
    audit: AuditService

    async def prepare(self) -> None:
        """Brings the schema up to date and opens a first batch on an empty database."""
        await upgrade(self.engine)
        today = self.clock().astimezone(self.settings.zone).date()
        await self.batches.ensure_default(
            name=self.settings.default_batch_name, deadline=self.settings.first_batch_deadline(today)
        )

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Clock = utc_now, engine: AsyncEngine | None = None,
              documents: DocumentStore | None = None) -> Core:
    engine = engine or create_engine(settings.database_url)
    uow = sql_unit_of_work(create_session_factory(engine))
    documents = documents or LocalDocumentStore(settings.documents_dir)
    zone = settings.zone
    intake = IntakeService(
        uow=uow, documents=documents, zone=zone, max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        recommendations_per_course=settings.recommendations_per_course, clock=clock,
    )
    people = PeopleService(uow=uow, clock=clock)
    appointments = AppointmentService(
        uow=uow, zone=zone, clock=clock, publicity_days=settings.publicity_working_days, holidays=settings.holidays
    )
    events = EventService(uow=uow, zone=zone, clock=clock)
    staff = StaffAccountService(uow=uow, policy=ConsolePolicy.from_settings(settings), clock=clock)
    dialog = IntakeDialog(intake=intake, people=people, appointments=appointments, events=events, zone=zone, clock=clock,
                          retention_line=RetentionPeriods.from_settings(settings).notice_line())
    return Core(
        settings=settings,
        engine=engine,
        uow=uow,
        documents=documents,
        batches=BatchService(uow=uow, zone=zone, clock=clock),
        people=people,
        intake=intake,
        review=ReviewService(uow=uow, intake=intake, clock=clock, zone=zone,
                             recommendations_per_course=settings.recommendations_per_course),
        privacy=PrivacyService(uow=uow, intake=intake, documents=documents, clock=clock),
        clock=clock,
        events=events,
        recommendations=RecommendationService(uow=uow, clock=clock, per_course=settings.recommendations_per_course),
        matching=MatchingService(uow=uow, zone=zone, clock=clock, answer_days=settings.proposal_answer_days),
        appointments=appointments,
        updates=UpdateLog(uow=uow, clock=clock),
        staff=staff,
        signin=SignInService(uow=uow, clock=clock),
        dialog=dialog,
        links=LinkService.from_settings(settings, clock=clock),
        preferences=NotificationPreferences(uow=uow, clock=clock),
        figures=FiguresService(uow=uow, zone=zone, clock=clock),
        permissions=PermissionService(uow=uow, clock=clock),
        audit=AuditService(uow=uow, staff=staff, zone=zone, clock=clock),
    )
