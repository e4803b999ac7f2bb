"""The outbox worker against a real SMTP server, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.mail import make_message_id
from notifier.queue import OutboxQueue, new_claim_token
from tests.support.outbox import add_person, make_worker, outbox_rows, queue, received_messages, row, smtp_mailer
from tests.support.smtp_server import scripted_smtp_server


@pytest.fixture
def smtp():
    with scripted_smtp_server() as controller:
        yield controller


@pytest.fixture
async def mailer(smtp):
    mailer = smtp_mailer(smtp)
    yield mailer
    await mailer.aclose()


async def test_review_result_goes_out_as_multipart_chinese_mail_and_is_recorded(core, smtp, mailer):
    person = await add_person(core)
    (row_id,) = await queue(core, person, payload={
        "application_id": 42, "form": "expert", "name": "张三", "reference": "E01-000042", "batch": "第一批",
        "message": "材料齐全",
    })
    worker = make_worker(core, mailers=[mailer])

    assert await worker.drain() == 1

    (message,) = received_messages(smtp)
    assert message["Subject"] == "【创新工程微专业】您的产业兼职教师申请意向表已通过审核（编号 E01-000042）"
    assert message.get_content_type() == "multipart/alternative"
    assert message["To"].addresses[0].addr_spec == "zhang@example.cn"
    assert message["To"].addresses[0].display_name == "张三"
    stored = await row(core, row_id)
    assert message["Message-ID"] == make_message_id(stored.idempotency_key, "innoeng.test")
    plain = message.get_body(("plain",)).get_content()
    assert plain.startswith("张三，您好：") and "产业兼职教师资源库" in plain and "工作人员备注：材料齐全" in plain
    assert "E01-000042" in message.get_body(("html",)).get_content()
    assert (stored.status, stored.attempts) == ("sent", 1)
    assert stored.sent_at == core.clock() and stored.provider_reply.startswith("250")
    assert stored.locked_until is None and stored.claim_token is None and stored.last_error is None

    # Nothing is sent twice: the row is done.
    assert await worker.drain() == 0
    assert len(smtp.handler_state.received) == 1


async def test_temporary_refusal_is_retried_after_backoff_then_sent(core, smtp, mailer, clock):
    person = await add_person(core)
    (row_id,) = await queue(core, person)
    smtp.handler_state.rcpt_answers["zhang@example.cn"].append("450 4.2.1 Mailbox busy, try later")
    worker = make_worker(core, mailers=[mailer])

    await worker.drain()

    first = await row(core, row_id)
    assert (first.status, first.attempts) == ("queued", 1)
    assert "450" in first.last_error and "Mailbox busy" in first.last_error
    # 30 s base backoff ± 20 % jitter
    assert timedelta(seconds=24) <= first.due_at - clock.now <= timedelta(seconds=36)
    assert await worker.drain() == 0, "not due before the backoff has passed"

    clock.advance(seconds=40)
    await worker.drain()

    second = await row(core, row_id)
    assert (second.status, second.attempts) == ("sent", 2)
    assert len(smtp.handler_state.received) == 1


async def test_permanent_refusal_fails_with_the_reason(core, smtp, mailer, clock):
    person = await add_person(core)
    (row_id,) = await queue(core, person)
    smtp.handler_state.rcpt_answers["zhang@example.cn"].append("550 5.1.1 User unknown")

    await make_worker(core, mailers=[mailer]).drain()

    failed = await row(core, row_id)
    assert failed.status == "failed" and failed.attempts == 1
    assert "550 5.1.1 User unknown" in failed.last_error
    clock.advance(days=1)
    assert await make_worker(core, mailers=[mailer]).drain() == 0


async def test_transient_failures_give_up_only_when_the_row_is_too_old(core, smtp, mailer, clock):
    person = await add_person(core)
    (row_id,) = await queue(core, person)
    smtp.handler_state.rcpt_answers["zhang@example.cn"].extend(["451 4.3.0 try later"] * 100)
    worker = make_worker(core, mailers=[mailer], max_age=timedelta(hours=6))

    for _ in range(71):  # 5 h 55 min of refusals, looked at every 5 minutes
        await worker.drain()
        clock.advance(minutes=5)
    waiting = await row(core, row_id)
    # More attempts than the old count limit (8) allowed, and still waiting: age decides, not count.
    assert waiting.status == "queued" and waiting.attempts > 8

    clock.advance(minutes=10)
    await worker.drain()
    failed = await row(core, row_id)
    assert failed.status == "failed" and failed.attempts == waiting.attempts + 1
    assert "451" in failed.last_error and f"6 小时内共尝试 {failed.attempts} 次" in failed.last_error


async def test_each_recipient_of_a_digest_succeeds_or_fails_on_its_own(core, smtp, mailer, clock, settings_for):
    from notifier.main import notification_service

    core.settings = core.settings.model_copy(update={
        "staff_emails": ["ok@example.org", "nobody@example.org", "busy@example.org"],
    })
    clock.advance(hours=1)  # 2025-07-01 11:00 Beijing time: the 09:00 digest is due
    assert await notification_service(core).schedule_staff_digest() == 3
    smtp.handler_state.rcpt_answers["nobody@example.org"].append("550 5.1.1 No such user")
    smtp.handler_state.rcpt_answers["busy@example.org"].append("452 4.2.2 Mailbox full")
    worker = make_worker(core, mailers=[mailer])

    await worker.drain()

    by_address = {r.address: r for r in await outbox_rows(core, kind="staff_digest")}
    assert by_address["ok@example.org"].status == "sent"
    assert by_address["nobody@example.org"].status == "failed" and "550" in by_address["nobody@example.org"].last_error
    assert by_address["busy@example.org"].status == "queued" and "452" in by_address["busy@example.org"].last_error
    assert all(r.person_id is None for r in by_address.values())

    clock.advance(minutes=5)
    await worker.drain()

    assert (await row(core, by_address["busy@example.org"].id)).status == "sent"
    assert sorted(m["rcpt_tos"][0] for m in smtp.handler_state.received) == ["busy@example.org", "ok@example.org"]


async def test_connection_dropped_mid_data_is_unknown_and_never_resent(core, smtp, mailer, clock):
    person = await add_person(core)
    (row_id,) = await queue(core, person)
    smtp.handler_state.drop_in_data_handler = True
    worker = make_worker(core, mailers=[mailer])

    await worker.drain()

    unknown = await row(core, row_id)
    assert unknown.status == "unknown" and "未收到服务器确认" in unknown.last_error
    smtp.handler_state.drop_in_data_handler = False
    clock.advance(days=3)
    assert await worker.drain() == 0
    assert smtp.handler_state.received == []


async def test_staff_retry_sends_an_unknown_row_once_more(core, smtp, mailer, clock):
    from notifier.main import notification_service

    person = await add_person(core)
    (row_id,) = await queue(core, person)
    smtp.handler_state.drop_in_data_handler = True
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()
    smtp.handler_state.drop_in_data_handler = False

    assert await notification_service(core).retry(all_failed=True, actor="test") == 0, "--failed leaves unknown alone"
    assert await notification_service(core).retry(message_ids=[row_id], actor="test") == 1
    await worker.drain()

    assert (await row(core, row_id)).status == "sent"
    status = await notification_service(core).status(staff="test")
    assert status.by_status == {"sent": 1} and status.due == 0


async def test_a_row_without_address_fails_permanently_with_a_clear_reason(core, smtp, mailer):
    person = await add_person(core, email=None)
    (row_id,) = await queue(core, person)

    await make_worker(core, mailers=[mailer]).drain()

    failed = await row(core, row_id)
    assert failed.status == "failed" and "没有可用的收件地址" in failed.last_error
    assert smtp.handler_state.ehlo_count == 0


async def test_a_killed_worker_leaves_its_rows_to_others_after_the_lease(core, smtp, mailer, clock):
    person = await add_person(core)
    ids = []
    for n in range(3):
        ids += await queue(core, person, occasion=f"kill-{n}")
    # A worker claims the rows and dies before sending anything.
    dead = await OutboxQueue(core.uow, clock=clock).claim(limit=10, lease_s=300, token=new_claim_token(),
                                                          channels=("email",))
    assert sorted(r.id for r in dead) == ids
    survivor = make_worker(core, mailers=[mailer])

    assert await survivor.drain() == 0, "leased rows are not touched while the lease runs"
    clock.advance(seconds=301)
    assert await survivor.drain() == 3

    assert [r.status for r in await outbox_rows(core)] == ["sent"] * 3
    assert len(smtp.handler_state.received) == 3


async def test_a_late_outcome_from_a_worker_that_lost_its_lease_is_ignored(core, clock):
    from notifier.queue import RowUpdate

    person = await add_person(core)
    (row_id,) = await queue(core, person)
    queue_ = OutboxQueue(core.uow, clock=clock)
    (stale,) = await queue_.claim(limit=1, lease_s=10, token="old-token", channels=("email",))
    clock.advance(seconds=11)
    (fresh,) = await queue_.claim(limit=1, lease_s=10, token="new-token", channels=("email",))
    assert fresh.id == stale.id

    await queue_.record([RowUpdate(id=row_id, claim_token="old-token", status="failed", attempts=1, due_at=stale.due_at,
                                   last_error="late", provider_reply=None, sent_at=None, last_attempt_at=clock.now,
                                   give_up_at=None)])

    current = await row(core, row_id)
    assert current.status == "sending" and current.claim_token == "new-token"
