"""One permission model (issue 23, part 2): the staff listings and reads are checked by the core services too,
whatever the entry point (console, bot, CLI): a role too low is refused with Forbidden and an `access.denied`
entry in the audit log, as the state-changing staff actions are. Runs on SQLite and PostgreSQL (`core`)."""
from __future__ import annotations

import inspect
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.db.models import AuditEntry
from core.domain.permissions import NEEDED, Action, StaffActor, Via
from core.domain.staff import Role, chat_actor
from core.services.appointments import AppointmentService
from core.services.audit import AuditService
from core.services.events import EventService
from core.services.figures import FiguresService
from core.services.intake import IntakeService
from core.services.matching import MatchingService
from core.services.notifications import NotificationService
from core.services.permissions import Forbidden
from core.services.queue import QueueFilters, QueueService
from core.services.review import ReviewService
from core.services.staff_accounts import StaffAccountService
from tests.support.factories import submitted_expert

REVIEWER = StaffActor(actor="console:51", role=Role.REVIEWER, via=Via.CONSOLE)
COORDINATOR = StaffActor(actor="console:52", role=Role.COORDINATOR, via=Via.CONSOLE)
ADMIN = StaffActor(actor="console:53", role=Role.ADMIN, via=Via.CONSOLE)
UNLINKED_CHAT_REVIEWER = StaffActor(actor=chat_actor(900011), role=Role.REVIEWER, via=Via.CHAT, linked=False)


def queue_service(core) -> QueueService:
    return QueueService(uow=core.uow, intake=core.intake, documents=core.documents, zone=core.settings.zone,
                        clock=core.clock)


def notifications(core) -> NotificationService:
    return NotificationService.from_settings(core.settings, uow=core.uow, clock=core.clock)


async def drain(stream) -> list:
    return [item async for item in stream]


async def read(result):
    """Awaits a coroutine, or reads an async iterator (chunks, pair_chunks) through."""
    return await drain(result) if inspect.isasyncgen(result) else await result


async def denials(core) -> list:
    async with core.uow() as uow:
        return list((await uow.session.execute(select(AuditEntry.actor, AuditEntry.detail).where(
            AuditEntry.action == "access.denied").order_by(AuditEntry.id))).all())


# Every staff read of the core services: (its class, its name, the action it checks, a call of it). The call
# takes `**who` so that the table can also call it with no `staff` at all.
STAFF_READS = [
    (QueueService, "page", Action.REVIEW_READ, lambda core, **who: queue_service(core).page(filters=QueueFilters(), **who)),
    (QueueService, "detail", Action.REVIEW_READ, lambda core, **who: queue_service(core).detail(application_id=1, **who)),
    (QueueService, "document", Action.REVIEW_READ,
     lambda core, **who: queue_service(core).document(application_id=1, document_id=1, **who)),
    (QueueService, "pool_workbook", Action.REVIEW_READ,
     lambda core, **who: queue_service(core).pool_workbook(filters=QueueFilters(), **who)),
    (QueueService, "write_pool_workbook", Action.REVIEW_READ,
     lambda core, **who: queue_service(core).write_pool_workbook(filters=QueueFilters(), target=io.BytesIO(), **who)),
    (QueueService, "intents_workbook", Action.REVIEW_READ,
     lambda core, **who: queue_service(core).intents_workbook(filters=QueueFilters(), **who)),
    (QueueService, "write_intents_workbook", Action.REVIEW_READ,
     lambda core, **who: queue_service(core).write_intents_workbook(filters=QueueFilters(), target=io.BytesIO(), **who)),
    (QueueService, "demand_labels", Action.MATCHING_VIEW,
     lambda core, **who: queue_service(core).demand_labels(demand_ids=[1], **who)),
    (FiguresService, "batch", Action.REVIEW_READ, lambda core, **who: core.figures.batch(**who)),
    (FiguresService, "queue", Action.REVIEW_READ, lambda core, **who: core.figures.queue(**who)),
    (FiguresService, "outbox", Action.REVIEW_READ, lambda core, **who: core.figures.outbox(**who)),
    (FiguresService, "dashboard", Action.REVIEW_READ, lambda core, **who: core.figures.dashboard(**who)),
    (ReviewService, "pending", Action.REVIEW_READ, lambda core, **who: core.review.pending(**who)),
    (ReviewService, "pool", Action.REVIEW_READ, lambda core, **who: core.review.pool(**who)),
    (ReviewService, "statuses", Action.REVIEW_READ, lambda core, **who: core.review.statuses(application_ids=[1], **who)),
    (IntakeService, "read_document_for_staff", Action.REVIEW_READ,
     lambda core, **who: core.intake.read_document_for_staff(document_id=1, **who)),
    (MatchingService, "preview", Action.MATCHING_VIEW, lambda core, **who: core.matching.preview(batch_id=1, **who)),
    (MatchingService, "get", Action.MATCHING_VIEW, lambda core, **who: core.matching.get(run_id=1, **who)),
    (MatchingService, "list", Action.MATCHING_VIEW, lambda core, **who: core.matching.list(**who)),
    (MatchingService, "pairs", Action.MATCHING_VIEW, lambda core, **who: core.matching.pairs(run_id=1, **who)),
    (MatchingService, "pair_chunks", Action.MATCHING_VIEW, lambda core, **who: core.matching.pair_chunks(run_id=1, **who)),
    (MatchingService, "job", Action.MATCHING_VIEW, lambda core, **who: core.matching.job(job_id="0" * 32, **who)),
    (MatchingService, "current_jobs", Action.MATCHING_VIEW, lambda core, **who: core.matching.current_jobs(**who)),
    (AppointmentService, "kept_by", Action.MATCHING_VIEW,
     lambda core, **who: core.appointments.kept_by(run=type("Run", (), {"proposals": ()})(), **who)),
    (AppointmentService, "kept_for", Action.MATCHING_VIEW, lambda core, **who: core.appointments.kept_for(pairs=[], **who)),
    (AppointmentService, "get", Action.APPOINTMENTS_VIEW, lambda core, **who: core.appointments.get(appointment_id=1, **who)),
    (AppointmentService, "list", Action.APPOINTMENTS_VIEW, lambda core, **who: core.appointments.list(**who)),
    (AppointmentService, "chunks", Action.APPOINTMENTS_VIEW,
     lambda core, **who: core.appointments.chunks(statuses=["filed"], **who)),
    (EventService, "get", Action.EVENTS_VIEW, lambda core, **who: core.events.get(event_id=1, **who)),
    (EventService, "list", Action.EVENTS_VIEW, lambda core, **who: core.events.list(**who)),
    (EventService, "tally", Action.EVENTS_VIEW, lambda core, **who: core.events.tally(event_id=1, **who)),
    (EventService, "invitations", Action.EVENTS_VIEW, lambda core, **who: core.events.invitations(event_id=1, **who)),
    (NotificationService, "status", Action.NOTIFICATIONS_VIEW, lambda core, **who: notifications(core).status(**who)),
    (NotificationService, "outbox", Action.NOTIFICATIONS_VIEW, lambda core, **who: notifications(core).outbox(**who)),
    (NotificationService, "get", Action.NOTIFICATIONS_VIEW,
     lambda core, **who: notifications(core).get(message_id=1, **who)),
    (AuditService, "search", Action.AUDIT_READ, lambda core, **who: core.audit.search(**who)),
    (StaffAccountService, "list", Action.STAFF_ADMIN, lambda core, **who: core.staff.list(**who)),
    (StaffAccountService, "get", Action.STAFF_ADMIN, lambda core, **who: core.staff.get(account_id=1, **who)),
]
READ_IDS = [f"{cls.__name__}.{name}" for cls, name, _, _ in STAFF_READS]

# The staff actions that change something (checked since part 1), which also take `staff`/`actor`.
CHANGING = {"approve", "reject", "request_info", "request_run", "run", "confirm", "hold", "lift_cap", "start_publicity",
            "record_objection", "record_agreement", "record_filing"}

BELOW = {Role.COORDINATOR: REVIEWER, Role.ADMIN: COORDINATOR}  # an actor one role short of what is needed


def test_every_staff_read_takes_a_required_keyword_staff():
    for cls, name, _, _ in STAFF_READS:
        parameter = inspect.signature(getattr(cls, name)).parameters.get("staff")
        assert parameter is not None, f"{cls.__name__}.{name}"
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty, \
            f"{cls.__name__}.{name}"


def test_the_table_holds_every_method_of_these_services_that_takes_staff():
    """A staff read added later with `staff` but left out of the table (and so untested) fails here."""
    listed = {(cls, name) for cls, name, _, _ in STAFF_READS}
    for cls in {cls for cls, _, _, _ in STAFF_READS}:
        for name, method in vars(cls).items():
            if name.startswith("_") or not callable(method) or name in CHANGING:
                continue
            if "staff" in inspect.signature(method).parameters:
                assert (cls, name) in listed, f"{cls.__name__}.{name}"


@pytest.mark.parametrize("entry", STAFF_READS, ids=READ_IDS)
async def test_a_staff_read_without_an_actor_is_a_type_error(core, entry):
    _, _, _, call = entry
    with pytest.raises(TypeError):
        await read(call(core))  # no `staff` at all
    with pytest.raises(TypeError):
        await read(call(core, staff=None))  # not an actor
    assert await denials(core) == []


# A reviewer's reads (REVIEW_READ) have no staff role below them: every staff member reviews.
ABOVE_REVIEWER = [entry for entry in STAFF_READS if NEEDED[entry[2]] in BELOW]


def test_only_the_review_reads_are_open_to_every_staff_member():
    open_to_all = {action for _, _, action, _ in STAFF_READS if NEEDED[action] is Role.REVIEWER}
    assert open_to_all == {Action.REVIEW_READ}
    assert len(ABOVE_REVIEWER) + sum(1 for _, _, a, _ in STAFF_READS if a is Action.REVIEW_READ) == len(STAFF_READS)


@pytest.mark.parametrize("entry", ABOVE_REVIEWER, ids=[f"{c.__name__}.{n}" for c, n, _, _ in ABOVE_REVIEWER])
async def test_a_role_below_what_the_read_needs_is_refused_by_core_and_audited(core, entry):
    _, _, action, call = entry
    needed = NEEDED[action]
    short = BELOW[needed]
    with pytest.raises(Forbidden) as refusal:
        await read(call(core, staff=short))
    assert refusal.value.action is action and refusal.value.code == "forbidden"
    [entry_row] = await denials(core)
    assert entry_row.actor == short.actor
    assert (entry_row.detail["attempted"], entry_row.detail["needed"], entry_row.detail["role"]) == (
        action.value, needed.value, short.role.value)


async def test_a_reviewer_is_refused_the_coordinators_listings_and_each_refusal_is_audited(core):
    refused = {
        Action.MATCHING_VIEW: core.matching.list(staff=REVIEWER),
        Action.APPOINTMENTS_VIEW: core.appointments.list(staff=REVIEWER),
        Action.AUDIT_READ: core.audit.search(staff=REVIEWER),
        Action.NOTIFICATIONS_VIEW: notifications(core).status(staff=REVIEWER),
        Action.EVENTS_VIEW: core.events.list(staff=REVIEWER),
    }
    for action, call in refused.items():
        with pytest.raises(Forbidden) as refusal:
            await call
        assert refusal.value.action is action
        assert "审核员" in refusal.value.message and "协调员" in refusal.value.message, refusal.value.message
    entries = await denials(core)
    assert [e.detail["attempted"] for e in entries] == [a.value for a in refused]
    assert {e.actor for e in entries} == {REVIEWER.actor}
    assert {(e.detail["role"], e.detail["needed"], e.detail["via"]) for e in entries} == {
        ("reviewer", "coordinator", "console")}


async def test_a_coordinator_reads_those_listings(core):
    start = datetime(2025, 9, 1, 6, 0, tzinfo=timezone.utc)
    await core.events.create(kind="岗前示范交流活动", title="示范课", starts_at=start, ends_at=start + timedelta(hours=2),
                             actor=COORDINATOR)
    assert await core.matching.list(staff=COORDINATOR) == []
    assert await core.appointments.list(staff=COORDINATOR) == []
    assert [e.title for e in await core.events.list(staff=COORDINATOR)] == ["示范课"]
    status = await notifications(core).status(staff=COORDINATOR)
    assert status.failed_by_reason == []
    page = await core.audit.search(staff=COORDINATOR, action="event.create")
    assert [(r.actor, r.action) for r in page.rows] == [("console:52", "event.create")]
    assert await denials(core) == []
    # ... but not what an admin keeps to itself.
    with pytest.raises(Forbidden):
        await core.staff.list(staff=COORDINATOR)
    assert await core.staff.list(staff=ADMIN) == []


async def test_an_unlinked_chat_reviewer_reads_the_review_queue_but_not_matching_runs(core):
    application = await submitted_expert(core)
    actor = await core.permissions.chat_staff(telegram_id=900011)
    assert actor == UNLINKED_CHAT_REVIEWER

    assert [s.id for s in await core.review.pending(staff=actor)] == [application]
    assert (await core.figures.queue(staff=actor)).waiting == 1
    assert [r.id for r in (await queue_service(core).page(filters=QueueFilters(), staff=actor)).rows] == [application]
    detail = await queue_service(core).detail(application_id=application, staff=actor)
    for document in detail.documents:
        view, content = await core.intake.read_document_for_staff(document_id=document.id, staff=actor)
        assert view.id == document.id and content
    assert await denials(core) == []

    with pytest.raises(Forbidden) as refusal:
        await core.matching.list(staff=actor)
    assert refusal.value.action is Action.MATCHING_VIEW
    assert "innoeng staff link-telegram" in refusal.value.message and "900011" in refusal.value.message
    [entry] = await denials(core)
    assert entry.actor == "staff:900011"
    assert (entry.detail["attempted"], entry.detail["via"], entry.detail["linked"]) == ("matching.view", "chat", False)
