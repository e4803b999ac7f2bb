"""Retention: each kind of record goes (or is redacted) after its period; twice is once; counts are audited."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import func, select

from core.db.models import AuditEntry, Application, ChatState, Person, OutboxMessage, PendingFileDeletion, ProcessedUpdate
from core.services.retention import RetentionPeriods, RetentionService
from notifier.scheduler import Scheduler
from tests.integration.core.test_personal_data import matched_pair, person_of
from tests.support.factories import EXPERT, approved_expert

START = datetime(2025, 7, 1, 2, 0, tzinfo=timezone.utc)


def retention(core) -> RetentionService:
    return RetentionService.from_settings(core.settings, uow=core.uow, documents=core.documents, clock=core.clock)


async def count(core, model, *where) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def seed(core):
    """A sent receipt, an abandoned draft with a file, a withdrawn application with a file, chat and update rows."""
    withdrawn = await approved_expert(core, name="王五")
    await core.intake.withdraw(application_id=withdrawn)
    person = await core.people.register_telegram_user(telegram_id=6101, display_name=None)
    await core.people.give_consent(person_id=person.id)
    await core.people.give_consent(person_id=person.id, sensitive=True)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={"name": "赵六", "mobile": "13700001111"})
    async with core.uow() as uow:
        for message in (await uow.session.scalars(select(OutboxMessage))).all():
            message.status, message.sent_at = "sent", core.clock()
        uow.session.add(ChatState(key="1:6101:6101:0:default", state=None, data={"x": 1}, updated_at=core.clock()))
        update = ProcessedUpdate(bot_id=1, update_id=77, received_at=core.clock())
        if hasattr(ProcessedUpdate, "digest"):  # the payload's digest, where the bot records one
            update.digest = "0" * 64
        uow.session.add(update)
        await uow.commit()
    return withdrawn, draft.application_id


async def test_each_kind_goes_after_its_period_and_a_second_run_changes_nothing(core, clock):
    withdrawn, draft = await seed(core)
    service = retention(core)
    assert set((await service.run(dry_run=True)).values()) == {0}

    clock.advance(days=31)  # past the outbox (30) and update (7) periods, not the others
    assert (await service.run(dry_run=True))["outbox_payloads"] >= 1
    first = await service.run()
    assert first["outbox_payloads"] >= 1 and first["processed_updates"] == 1
    assert first["chat_states"] == first["abandoned_drafts"] == first["closed_applications"] == 0
    async with core.uow() as uow:
        payloads = [m.payload for m in (await uow.session.scalars(select(OutboxMessage))).all()]
        addresses = [m.address for m in (await uow.session.scalars(select(OutboxMessage))).all()]
    assert all(EXPERT["email"] not in json.dumps(p) and "王五" not in json.dumps(p, ensure_ascii=False) for p in payloads)
    assert set(addresses) == {None}
    assert await count(core, ProcessedUpdate) == 0

    # The batch closed 2025-09-30; 180 days after, the withdrawn application goes with its file, and the
    # draft untouched since 2025-07-01 is long abandoned.
    clock.now = datetime(2026, 4, 1, 2, 0, tzinfo=timezone.utc)
    second = await service.run()
    assert second["abandoned_drafts"] == 1 and second["closed_applications"] == 1 and second["chat_states"] == 1
    assert second["outbox_payloads"] == 0  # already redacted: not counted again
    assert await count(core, Application, Application.id.in_([withdrawn, draft])) == 0
    # Their contact details, copied from the answers, went with them.
    assert await count(core, Person, (Person.mobile == EXPERT["mobile"]) | (Person.display_name == "王五")) == 0
    assert list(core.settings.documents_dir.iterdir()) == [] and await count(core, PendingFileDeletion) == 0

    assert set((await service.run()).values()) == {0}  # idempotent
    async with core.uow() as uow:
        runs = (await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run"))).all()
        details = [r.detail for r in runs]
    assert len(details) == 2  # the third run changed nothing and wrote nothing
    assert all(isinstance(v, int) for d in details for v in d.values())  # counts, never contents
    assert details[1]["closed_applications"] == 1


async def test_an_application_a_filed_appointment_needs_outlives_its_period(core, clock):
    plain = await approved_expert(core, name="王五")
    await core.intake.withdraw(application_id=plain)
    expert, _, appointment_id = await matched_pair(core, until="filed")
    await core.privacy.erase(person_id=await person_of(core, expert))  # withdrawn, kept for the filing
    clock.now = datetime(2026, 4, 1, 2, 0, tzinfo=timezone.utc)
    counts = await retention(core).run()
    assert counts["closed_applications"] == 1
    assert await count(core, Application, Application.id == expert) == 1
    assert [a.id for a in await core.appointments.list(staff="test", statuses=["filed"])] == [appointment_id]


async def test_the_notifier_scheduler_runs_the_job_once_per_interval(core, clock):
    await seed(core)
    clock.advance(days=31)
    notifications = __import__("notifier.main", fromlist=["notification_service"]).notification_service(core)
    scheduler = Scheduler(notifications, retention=retention(core), retention_interval_s=3600)
    first = await scheduler.retain()
    assert first is not None and first["processed_updates"] == 1
    assert await scheduler.retain() is None  # not due again within the hour


async def test_the_privacy_notice_states_the_periods_in_force(settings_for):
    from core.bootstrap import bootstrap

    core = bootstrap(settings_for("sqlite+aiosqlite:///:memory:", retention_draft_days=90))
    notice = core.dialog.consent_screen().notice
    await core.close()
    assert notice.startswith("【个人信息处理告知】") and "同意后才会开始提问" in notice
    assert "保存期限：已送达通知的内容 30 天后删除" in notice and "未提交的草稿 90 天无操作后删除" in notice
    assert "被驳回或撤回的申请及其文件在批次截止 180 天后删除" in notice and "审核与操作日志保存 1095 天" in notice


def test_settings_defaults_are_the_periods_defaults(settings_for):
    assert RetentionPeriods.from_settings(settings_for("sqlite+aiosqlite:///:memory:")) == RetentionPeriods()


async def test_sign_in_codes_and_their_mails_go_after_a_day_and_sessions_after_a_month_unused(core, clock):
    from core.db.models import ParticipantSession, SignInCode

    await core.signin.request_code(channel="email", address="zhao@example.com", ip="203.0.113.9")
    async with core.uow() as uow:
        [row] = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "signin_code"))).all()
        code = row.payload["code"]
        row.status, row.sent_at = "sent", core.clock()
        await uow.commit()
    person = await core.signin.verify(channel="email", address="zhao@example.com", code=code, ip="203.0.113.9")
    await core.signin.open_session(person_id=person.id, user_agent="t", ip="203.0.113.9")
    service = retention(core)
    clock.advance(hours=23)
    assert (await service.run())["signin_codes"] == 0
    clock.advance(hours=2)
    counts = await service.run()
    assert counts["signin_codes"] == 1 and counts["signin_code_payloads"] == 1 and counts["web_sessions"] == 0
    async with core.uow() as uow:
        [row] = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "signin_code"))).all()
        assert code not in json.dumps(row.payload) and row.address is None
    assert await count(core, SignInCode) == 0
    clock.advance(days=30)
    assert (await service.run())["web_sessions"] == 1 and await count(core, ParticipantSession) == 0
