"""One permission model (issue 23): the core services check the staff action's least role whoever calls them,
audit a refusal with actor and action, and change nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core.db.models import AuditEntry, MatchingJob
from core.domain.permissions import Action, StaffActor, Via, operator
from core.domain.staff import Role, chat_actor
from core.services.permissions import Forbidden
from tests.support.factories import submitted_expert
from tests.support.staff import linked_staff

REVIEWER = StaffActor(actor="console:41", role=Role.REVIEWER, via=Via.CONSOLE)
COORDINATOR = StaffActor(actor="console:42", role=Role.COORDINATOR, via=Via.CONSOLE)


async def denials(core) -> list:
    async with core.uow() as uow:
        return list((await uow.session.execute(select(AuditEntry.actor, AuditEntry.detail).where(
            AuditEntry.action == "access.denied").order_by(AuditEntry.id))).all())


async def jobs(core) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(MatchingJob))


async def test_a_reviewer_is_refused_every_coordinator_and_admin_action_by_the_services_and_it_is_audited(core):
    batch = (await core.batches.list())[0]
    start = datetime(2025, 9, 1, 6, 0, tzinfo=timezone.utc)
    refused = {
        Action.MATCHING_RUN: core.matching.request_run(batch_id=batch.id, staff=REVIEWER),
        Action.MATCHING_CONFIRM: core.matching.confirm(run_id=1, staff=REVIEWER),
        Action.MATCHING_CAP_LIFT: core.matching.lift_cap(expert_application_id=1, max_universities=3, reason="急需",
                                                         staff=REVIEWER),
        Action.PUBLICITY_START: core.appointments.start_publicity(appointment_ids=[1], staff=REVIEWER),
        Action.FILING_RECORD: core.appointments.record_filing(appointment_id=1, staff=REVIEWER,
                                                              filed_on=start.date()),
        Action.EVENTS_MANAGE: core.events.create(kind="岗前示范交流活动", title="示范课", starts_at=start,
                                                 ends_at=start + timedelta(hours=2), actor=REVIEWER),
        Action.BATCHES_MANAGE: core.batches.update(ref=str(batch.id), actor=REVIEWER),
        Action.STAFF_ADMIN: core.staff.add(email="new@example.org", name="新人", role="admin", actor=REVIEWER),
    }
    for action, call in refused.items():
        with pytest.raises(Forbidden) as refusal:
            await call
        assert refusal.value.action is action and refusal.value.code == "forbidden"
        assert "审核员" in refusal.value.message, refusal.value.message
    assert await jobs(core) == 0 and await core.staff.list(staff="test") == [] and await core.events.list(staff="test") == []
    entries = await denials(core)
    assert [e.detail["attempted"] for e in entries] == [a.value for a in refused]
    assert {e.actor for e in entries} == {"console:41"}
    assert {e.detail["role"] for e in entries} == {"reviewer"}
    assert entries[0].detail["needed"] == "coordinator" and entries[-1].detail["needed"] == "admin"


async def test_a_coordinator_runs_matching_but_cannot_manage_staff(core):
    batch = (await core.batches.list())[0]
    job = await core.matching.request_run(batch_id=batch.id, staff=COORDINATOR)
    assert job.staff == "console:42" and await jobs(core) == 1
    with pytest.raises(Forbidden):
        await core.staff.add(email="new@example.org", name="新人", role="reviewer", actor=COORDINATOR)


async def test_a_chat_id_acts_with_the_role_of_its_linked_enabled_account_else_only_reviews(core):
    application = await submitted_expert(core)
    unlinked = await core.permissions.chat_staff(telegram_id=900003)
    assert (unlinked.actor, unlinked.role, unlinked.linked) == (chat_actor(900003), Role.REVIEWER, False)
    # It reviews ...
    approved = await core.review.approve(application_id=application, staff=unlinked)
    assert approved.status == "approved"
    # ... and nothing else; the refusal says how to get a linked account of the role needed.
    with pytest.raises(Forbidden) as refusal:
        await core.appointments.start_publicity(appointment_ids=[1], staff=unlinked)
    assert "innoeng staff link-telegram" in refusal.value.message and "900003" in refusal.value.message
    assert "协调员" in refusal.value.message

    account = await linked_staff(core, 900004, "coordinator")
    coordinator = await core.permissions.chat_staff(telegram_id=900004)
    assert (coordinator.role, coordinator.linked, coordinator.actor) == (Role.COORDINATOR, True, "staff:900004")
    await core.matching.request_run(batch_id=(await core.batches.list())[0].id, staff=coordinator)

    # A disabled account gives its Telegram id no more than an unlinked one.
    await core.staff.disable(ref=str(account.id), actor=operator("tester"))
    disabled = await core.permissions.chat_staff(telegram_id=900004)
    assert (disabled.role, disabled.linked) == (Role.REVIEWER, False)


async def test_a_linked_reviewer_is_told_its_role_is_too_low(core):
    await linked_staff(core, 900005, "reviewer")
    reviewer = await core.permissions.chat_staff(telegram_id=900005)
    with pytest.raises(Forbidden) as refusal:
        await core.matching.request_run(batch_id=(await core.batches.list())[0].id, staff=reviewer)
    assert "审核员" in refusal.value.message and "innoeng staff role" in refusal.value.message
    [entry] = await denials(core)
    assert entry.actor == "staff:900005" and entry.detail["via"] == "chat" and entry.detail["attempted"] == "matching.run"


async def test_the_cli_acts_as_the_shells_operator_with_admin_rights(core):
    actor = operator("alice")
    assert (actor.actor, actor.role, actor.via) == ("cli:alice", Role.ADMIN, Via.CLI)
    link = await core.staff.add(email="a@example.org", name="甲", role="reviewer", actor=actor)
    await core.staff.link_telegram(ref=str(link.account.id), telegram_id=900006, actor=actor)
    async with core.uow() as uow:
        actors = set((await uow.session.execute(select(AuditEntry.action, AuditEntry.actor).where(
            AuditEntry.action.like("staff.%")))).all())
    assert actors == {("staff.add", "cli:alice"), ("staff.link_telegram", "cli:alice")}
