"""Publicity (公示) is the branch's decision: both sides' yes leaves a pair waiting, staff start it.

start_publicity is all or nothing, refuses a start in the past and a second start, writes one audit entry
per pair under the staff member's name and queues the start and end notices once."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from core.db.models import AuditEntry, OutboxMessage
from core.domain import DomainError
from tests.support.factories import both_accept, confirmed_pairs
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)


async def count(core, model, *conditions) -> int:
    async with core.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model).where(*conditions))


async def kinds_for(core, appointment_id: int) -> list[str]:
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [r.kind for r in rows if r.payload.get("appointment_id") == appointment_id]


async def test_both_yes_waits_for_staff_and_tells_both_sides_without_dates_or_contacts(core):
    pairs = await confirmed_pairs(core)
    view = await both_accept(core, pairs["创新思维"])
    assert view.status == "accepted" and view.status_label == "双方已确认，待公示"
    assert view.publicity_starts_on is None and view.publicity_ends_on is None

    kinds = await kinds_for(core, view.id)
    assert "publicity_started" not in kinds and "publicity_ended" not in kinds
    async with core.uow() as uow:
        told = [r.payload for r in (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "match_accepted"))).all()]
    assert {p["side"] for p in told} == {"expert", "university"}
    # Contacts go out with the publicity notice, not before.
    assert not any("expert_contact" in p or "13812345678" in str(p) for p in told)
    # The accepted pair holds its place: a second run keeps it fixed.
    run = await core.matching.run(batch_id=(await core.batches.list())[0].id, staff="staff:1", time_limit=3)
    assert "创新思维" in {p.course for p in run.proposals if p.fixed}


async def test_start_publicity_defaults_to_the_next_working_day_audits_and_queues_each_notice_once(core):
    pairs = await confirmed_pairs(core)
    for pair in pairs.values():
        await both_accept(core, pair)
    ids = [pairs["创新思维"][0], pairs["创新管理"][0]]

    preview = core.appointments.publicity_preview()
    # Thursday 08-21: from Friday 08-22 for 5 working days, the weekend skipped.
    assert (preview.starts_on, preview.ends_on, preview.working_days) == (date(2025, 8, 22), date(2025, 8, 28), 5)

    started = await core.appointments.start_publicity(appointment_ids=ids, staff="console:7")
    assert [v.id for v in started] == ids
    assert {(v.status, v.publicity_starts_on, v.publicity_ends_on) for v in started} == {
        ("publicity", date(2025, 8, 22), date(2025, 8, 28))}

    async with core.uow() as uow:
        entries = [(e.subject, e.actor, e.detail) for e in (await uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "appointment.publicity_start").order_by(AuditEntry.id))).all()]
        ended = set((await uow.session.scalars(
            select(OutboxMessage.due_at).where(OutboxMessage.kind == "publicity_ended"))).all())
    assert [(subject, actor) for subject, actor, _ in entries] == [(f"appointment:{i}", "console:7") for i in ids]
    assert entries[0][2] == {"starts_on": "2025-08-22", "ends_on": "2025-08-28", "working_days": 5}
    # The end notice is due the morning after the last day, 09:00 Beijing time.
    assert {d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d for d in ended} == {
        datetime(2025, 8, 29, 1, 0, tzinfo=timezone.utc)}
    for appointment_id in ids:
        kinds = await kinds_for(core, appointment_id)
        # One row per side and channel the person uses: each side once.
        assert kinds.count("publicity_started") == kinds.count("publicity_ended") == kinds.count("match_accepted") >= 2
    async with core.uow() as uow:
        started_payloads = (await uow.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "publicity_started"))).all()
    notice = next(p for p in started_payloads if p["side"] == "university")
    assert notice["publicity_ends_on"] == "2025-08-28" and notice["expert_contact"]["mobile"]

    # A second start is refused, naming the pair and its state; nothing more is queued or audited.
    queued = await count(core, OutboxMessage)
    with pytest.raises(DomainError) as refusal:
        await core.appointments.start_publicity(appointment_ids=[ids[0]], staff="console:7")
    assert f"聘任 {ids[0]}" in refusal.value.message and "公示中" in refusal.value.message
    assert await count(core, OutboxMessage) == queued
    assert await count(core, AuditEntry, AuditEntry.action == "appointment.publicity_start") == 2


async def test_start_publicity_is_all_or_nothing(core):
    pairs = await confirmed_pairs(core)
    accepted = (await both_accept(core, pairs["创新思维"])).id
    offered = pairs["创新管理"][0]
    queued = await count(core, OutboxMessage)

    with pytest.raises(DomainError) as refusal:
        await core.appointments.start_publicity(appointment_ids=[accepted, offered], staff="staff:1")
    message = refusal.value.message
    assert f"聘任 {offered}" in message and "华北科技大学《创新管理》" in message and "杨专家" in message
    assert "待双方确认" in message and "没有开始任何公示" in message
    with pytest.raises(DomainError) as refusal:
        await core.appointments.start_publicity(appointment_ids=[accepted, 987654], staff="staff:1")
    assert "987654" in refusal.value.message
    with pytest.raises(DomainError):
        await core.appointments.start_publicity(appointment_ids=[], staff="staff:1")

    view = await core.appointments.get(staff="test", appointment_id=accepted)
    assert view.status == "accepted" and view.publicity_starts_on is None
    assert await count(core, OutboxMessage) == queued
    assert await count(core, AuditEntry, AuditEntry.action == "appointment.publicity_start") == 0


async def test_a_start_in_the_past_is_refused_and_a_day_off_moves_to_the_next_working_day(core):
    pairs = await confirmed_pairs(core)
    accepted = (await both_accept(core, pairs["创新思维"])).id

    with pytest.raises(DomainError) as refusal:
        await core.appointments.start_publicity(appointment_ids=[accepted], staff="staff:1", starts_on=date(2025, 8, 20))
    assert "2025-08-20" in refusal.value.message and "已经过去" in refusal.value.message
    with pytest.raises(DomainError):
        core.appointments.publicity_preview(starts_on=date(2025, 8, 20))
    assert (await core.appointments.get(staff="test", appointment_id=accepted)).status == "accepted"

    # Saturday 08-23 is no working day: the publicity runs Monday 08-25 to Friday 08-29.
    preview = core.appointments.publicity_preview(starts_on=date(2025, 8, 23))
    assert (preview.starts_on, preview.ends_on) == (date(2025, 8, 25), date(2025, 8, 29))
    (view,) = await core.appointments.start_publicity(appointment_ids=[accepted], staff="staff:1",
                                                      starts_on=date(2025, 8, 23))
    assert (view.publicity_starts_on, view.publicity_ends_on) == (preview.starts_on, preview.ends_on)

    # Today itself is allowed.
    other = (await both_accept(core, pairs["创新管理"])).id
    (today,) = await core.appointments.start_publicity(appointment_ids=[other], staff="staff:1", starts_on=date(2025, 8, 21))
    assert (today.publicity_starts_on, today.publicity_ends_on) == (date(2025, 8, 21), date(2025, 8, 27))


async def test_every_notice_of_the_flow_renders_as_email_and_telegram_for_both_sides(core):
    from notifier.composing import Composer, OutboxItem

    pairs = await confirmed_pairs(core)
    accepted = (await both_accept(core, pairs["创新思维"])).id
    await core.appointments.start_publicity(appointment_ids=[accepted], staff="staff:1")
    async with core.uow() as uow:
        rows = [OutboxItem(id=r.id, kind=r.kind, channel=r.channel, address=r.address or "1", idempotency_key=r.idempotency_key,
                           payload=r.payload) for r in (await uow.session.scalars(select(OutboxMessage).where(
                               OutboxMessage.kind.in_(["match_accepted", "publicity_started", "publicity_ended"])))).all()]
    composer = Composer(mail_from="noreply@innoeng.test")
    seen = set()
    for item in rows:
        email = composer.email(item)
        chat = composer.telegram(OutboxItem(**{**item.__dict__, "address": "12345"}))
        seen.add((item.kind, item.payload["side"]))
        if item.kind == "match_accepted":
            assert email.subject == "【创新工程微专业】双方已确认：华北科技大学《创新思维》"
            assert "分会将按规定安排公示" in email.text and "韩专家" in email.text and "均已确认" in email.html
            assert "分会将安排公示" in chat.text and chat.buttons == ()
        if item.kind == "publicity_started":
            assert "2025-08-22 至 2025-08-28" in email.text and "2025-08-22 至 2025-08-28" in chat.text
    assert seen == {(k, s) for k in ("match_accepted", "publicity_started", "publicity_ended") for s in ("expert", "university")}


async def test_two_sides_saying_yes_at_the_same_moment_leave_the_pair_accepted(core, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs concurrent transactions")
    pairs = await confirmed_pairs(core)
    for appointment_id, expert, university in pairs.values():
        await asyncio.gather(
            core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True),
            core.appointments.respond(appointment_id=appointment_id, person_id=university, accept=True),
        )
        view = await core.appointments.get(staff="test", appointment_id=appointment_id)
        assert (view.expert_response, view.university_response, view.status) == ("accepted", "accepted", "accepted")
        assert (await kinds_for(core, appointment_id)).count("match_accepted") >= 2


async def test_the_proposal_says_the_branch_arranges_publicity_after_both_confirm(core):
    # Publicity is a staff action: the proposal must not promise it follows by itself from the second yes.
    from notifier.composing import Composer, OutboxItem

    await confirmed_pairs(core)
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "match_proposal"))).all()
        items = [OutboxItem(id=r.id, kind=r.kind, channel=r.channel, address=r.address or "12345",
                            idempotency_key=r.idempotency_key, payload=r.payload) for r in rows]
    composer = Composer(mail_from="noreply@innoeng.test")
    sides = set()
    for item in items:
        email = composer.email(item)
        chat = composer.telegram(OutboxItem(**{**item.__dict__, "address": "12345"}))
        sides.add(item.payload["side"])
        for said in (email.text, email.html, chat.text):
            assert "双方都确认后，分会将按规定安排公示" in said, said
            assert "进入公示" not in said
    assert sides == {"expert", "university"}
