"""Outbox rows of channel 'sms' through the fake sender, with the outbox's guarantees, on SQLite and PostgreSQL."""
from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.db.models import ChannelPause, OutboxMessage
from core.ports.sms import SmsStatus
from notifier.composing import Composer
from notifier.mail.fake import FakeMailer
from notifier.main import notification_service
from notifier.sms import FakeSmsSender, PerNumberLimits, SmsChannel
from notifier.sms.usage import sms_usage
from notifier.worker import OutboxWorker, RetryPolicy, WorkerOptions

PHONE = "13800138000"


def make_sms_worker(core, sender: FakeSmsSender, *, limits: PerNumberLimits | None = None,
                    max_age: timedelta = timedelta(hours=72)) -> OutboxWorker:
    codes = {"signin_code": "SMS_SIGNIN", "match_proposal_waiting": "SMS_PROPOSAL",
             "match_deadline_tomorrow": "SMS_DEADLINE", "workshop_tomorrow": "SMS_WORKSHOP"}
    return OutboxWorker(
        uow=core.uow,
        notifications=notification_service(core, core.clock),
        composer=Composer(mail_from="noreply@innoeng.test", clock=core.clock),
        mailers=[FakeMailer()],
        sms=SmsChannel(sender, template_codes=codes, limits=limits if limits is not None else PerNumberLimits(())),
        policy=RetryPolicy(max_age=max_age, base_s=30, max_s=3600, channel_probe_s=300),
        options=WorkerOptions(lanes=1, batch_size=50),
        clock=core.clock,
        rng=random.Random(7),
    )


async def add_sms(core, *, kind: str = "signin_code", address: str | None = PHONE, key: str = "sms-1",
                  payload: dict[str, Any] | None = None, due_in: timedelta = timedelta(0)) -> int:
    now = core.clock()
    async with core.uow() as uow:
        row = OutboxMessage(kind=kind, channel="sms", address=address, idempotency_key=key,
                            payload=payload if payload is not None else {"code": "246810"},
                            status="queued", due_at=now + due_in, attempts=0, created_at=now)
        uow.session.add(row)
        await uow.commit()
        return row.id


async def get(core, row_id: int) -> OutboxMessage:
    async with core.uow() as uow:
        found = await uow.session.get(OutboxMessage, row_id)
        uow.session.expunge_all()
        return found


async def test_a_sign_in_code_is_sent_exactly_once_and_counted(core):
    sender = FakeSmsSender()
    row_id = await add_sms(core, address="+86 138 0013 8000")
    worker = make_sms_worker(core, sender)

    assert worker.channels == ("email", "sms")
    assert await worker.drain() == 1
    assert await worker.drain() == 0

    assert [(s.phone, s.template_code, s.params) for s in sender.calls] == [(PHONE, "SMS_SIGNIN", {"code": "246810"})]
    row = await get(core, row_id)
    assert (row.status, row.attempts, row.priority) == ("sent", 1, 100)
    assert row.sent_at == core.clock() and row.provider_reply == "fake-1" and row.claim_token is None
    usage = await sms_usage(core.uow, now=core.clock(), zone=core.settings.zone)
    assert (usage.today, usage.this_month, usage.total, usage.queued) == (1, 1, 1, 0)


async def test_a_transient_refusal_is_retried_after_backoff_then_sent(core, clock):
    sender = FakeSmsSender()
    sender.fail_next(SmsStatus.TRANSIENT, "触发流控", code="isv.BUSINESS_LIMIT_CONTROL")
    row_id = await add_sms(core)
    worker = make_sms_worker(core, sender)

    await worker.drain()
    first = await get(core, row_id)
    assert (first.status, first.attempts) == ("queued", 1)
    assert "isv.BUSINESS_LIMIT_CONTROL" in first.last_error
    assert timedelta(seconds=24) <= first.due_at - clock.now <= timedelta(seconds=36)
    assert first.give_up_at == clock.now + timedelta(hours=72), "retried by age from the first attempt"
    assert await worker.drain() == 0

    clock.advance(seconds=40)
    await worker.drain()
    second = await get(core, row_id)
    assert (second.status, second.attempts) == ("sent", 2)
    assert len(sender.calls) == 2 and len(sender.sent) == 1


async def test_transient_failures_stop_once_the_row_is_too_old(core, clock):
    sender = FakeSmsSender()
    sender.fail_always(SmsStatus.TRANSIENT, "服务繁忙", code="isp.SYSTEM_ERROR")
    row_id = await add_sms(core)
    worker = make_sms_worker(core, sender, max_age=timedelta(minutes=5))

    for _ in range(20):
        await worker.drain()
        clock.advance(minutes=2)
    row = await get(core, row_id)
    assert row.status == "failed" and "isp.SYSTEM_ERROR" in row.last_error
    assert 2 <= row.attempts <= 5


async def test_a_permanent_refusal_stops_at_once(core):
    sender = FakeSmsSender()
    sender.fail_next(SmsStatus.PERMANENT, "号码不合法", code="isv.MOBILE_NUMBER_ILLEGAL")
    row_id = await add_sms(core)
    worker = make_sms_worker(core, sender)

    await worker.drain()
    row = await get(core, row_id)
    assert (row.status, row.attempts) == ("failed", 1) and "isv.MOBILE_NUMBER_ILLEGAL" in row.last_error
    assert await worker.drain() == 0 and len(sender.calls) == 1


async def test_rows_that_cannot_be_an_sms_fail_without_calling_the_provider(core):
    sender = FakeSmsSender()
    bad_number = await add_sms(core, address="12345", key="a")
    no_template = await add_sms(core, kind="review_approved", key="b", payload={"name": "张三"})
    missing_variable = await add_sms(core, kind="workshop_tomorrow", key="c", payload={"title": "活动"})
    no_address = await add_sms(core, address=None, key="d")
    worker = make_sms_worker(core, sender)

    await worker.drain()
    assert sender.calls == []
    rows = {i: await get(core, i) for i in (bad_number, no_template, missing_variable, no_address)}
    assert [r.status for r in rows.values()] == ["failed"] * 4
    assert "手机号码格式不正确" in rows[bad_number].last_error
    assert "review_approved" in rows[no_template].last_error
    assert "link" in rows[missing_variable].last_error


async def test_an_auth_error_pauses_the_channel_and_keeps_the_rest_queued(core, clock):
    sender = FakeSmsSender()
    sender.fail_always(SmsStatus.AUTH, "AccessKeyId 不存在", code="InvalidAccessKeyId.NotFound")
    ids = [await add_sms(core, key=f"k{i}", address=f"1380013800{i}") for i in range(3)]
    worker = make_sms_worker(core, sender)

    await worker.drain()
    assert len(sender.calls) == 1, "the first refusal pauses the channel; the others are not tried"
    rows = [await get(core, i) for i in ids]
    assert all((r.status, r.attempts) == ("queued", 0) for r in rows)
    assert "InvalidAccessKeyId.NotFound" in rows[0].last_error
    async with core.uow() as uow:
        pause = await uow.session.get(ChannelPause, "sms")
        assert pause is not None and "InvalidAccessKeyId.NotFound" in pause.reason
        alerts = (await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "channel_paused"))).all()
        assert [a.address for a in alerts] == ["staff@example.org"]
    assert await worker.drain() <= 1  # the staff alert (e-mail) only: SMS stay paused
    assert len(sender.calls) == 1

    # The key is fixed; at the probe time one row is tried, it goes, the channel resumes, the rest follow.
    sender.fail_always(None)
    clock.advance(seconds=301)
    await worker.drain()
    await worker.drain()
    assert sorted(s.phone for s in sender.sent) == ["13800138000", "13800138001", "13800138002"]
    assert [(await get(core, i)).status for i in ids] == ["sent"] * len(ids)
    async with core.uow() as uow:
        assert await uow.session.get(ChannelPause, "sms") is None


async def test_per_number_limits_hold_rows_in_the_queue_not_drop_them(core, clock):
    sender = FakeSmsSender()
    ids = [await add_sms(core, key=f"n{i}", payload={"code": str(i)}) for i in range(3)]
    other = await add_sms(core, key="other", address="13900139000")
    worker = make_sms_worker(core, sender, limits=PerNumberLimits())

    await worker.drain()
    assert [s.phone for s in sender.sent] == [PHONE, "13900139000"]
    held = [await get(core, i) for i in ids[1:]]
    assert all((r.status, r.attempts) == ("queued", 0) for r in held)
    assert all(timedelta(seconds=59) <= r.due_at - clock.now <= timedelta(seconds=61) for r in held)
    assert (await get(core, other)).status == "sent"

    clock.advance(seconds=61)
    await worker.drain()
    clock.advance(seconds=61)
    await worker.drain()
    assert [s.params["code"] for s in sender.sent if s.phone == PHONE] == ["0", "1", "2"]
    assert [(await get(core, i)).status for i in ids] == ["sent"] * len(ids)
