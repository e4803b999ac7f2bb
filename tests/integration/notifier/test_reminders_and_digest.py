"""Deadline reminders and the staff digest, scheduled with a frozen clock, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from core.sample import populate
from notifier.mail import FakeMailer
from notifier.main import notification_service
from tests.support.outbox import add_person, make_worker, outbox_rows, queue, row

BEIJING = ZoneInfo("Asia/Shanghai")


def at(clock, text: str) -> None:
    """Moves the clock to a Beijing time such as '2025-08-07 10:00'."""
    clock.now = datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(timezone.utc)


async def a_draft(core, *, name="王五", email="wang@example.cn") -> tuple[int, int]:
    person_id = await add_person(core, name=name, email=email)
    await core.people.give_consent(person_id=person_id)
    draft = await core.intake.start(person_id=person_id, form="expert")
    return person_id, draft.application_id


def bodies(mailer: FakeMailer) -> list[tuple[str, str]]:
    return [(m["Subject"], m.get_body(("plain",)).get_content()) for m in mailer.messages()]


async def test_unfinished_drafts_are_reminded_at_t7_t3_t1_at_ten_beijing_time(core, clock):
    _, application_id = await a_draft(core)
    notifications = notification_service(core)
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])

    at(clock, "2025-07-20 10:00")
    assert await notifications.schedule_deadline_reminders() == 0, "weeks ahead: nothing yet"

    at(clock, "2025-08-07 10:05")  # the first deadline is 2025-08-15 (settings_for)
    assert await notifications.schedule_deadline_reminders() == 1
    assert await notifications.schedule_deadline_reminders() == 0, "scheduling twice is a no-op"
    (reminder,) = await outbox_rows(core, kind="deadline_reminder")
    assert reminder.due_at == datetime(2025, 8, 8, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time
    assert "2025-08-15" in reminder.idempotency_key and "T7" in reminder.idempotency_key
    assert await worker.drain() == 0

    sent_days = []
    for moment in ("2025-08-08 10:00", "2025-08-12 10:00", "2025-08-14 10:00"):
        at(clock, moment)
        await notifications.schedule_deadline_reminders()
        await worker.drain()
        sent_days.append(len(mailer.delivered))
    assert sent_days == [1, 2, 3]

    subjects = [subject for subject, _ in bodies(mailer)]
    assert [re.search(r"还剩 (\d+) 天", s)[1] for s in subjects] == ["7", "3", "1"]
    _, body = bodies(mailer)[0]
    assert "2025年8月15日 23:59（北京时间）" in body
    # This person has no Telegram account: the reminder sends them to the web, never to the bot.
    assert "登录网页版" in body and "Telegram" not in body and "/start" not in body

    at(clock, "2025-08-16 10:00")
    assert await notifications.schedule_deadline_reminders() == 0, "no reminders after the deadline"


async def test_a_moved_deadline_reschedules_and_the_old_reminder_is_skipped(core, clock):
    _, application_id = await a_draft(core)
    notifications = notification_service(core)
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    at(clock, "2025-08-07 10:00")
    await notifications.schedule_deadline_reminders()
    (old,) = await outbox_rows(core, kind="deadline_reminder")

    batch = (await core.batches.list())[0]
    await core.batches.update(ref=str(batch.id), registration_closes=date(2025, 8, 20), actor="test")

    at(clock, "2025-08-08 10:00")
    await notifications.schedule_deadline_reminders()
    await worker.drain()
    skipped = await row(core, old.id)
    assert skipped.status == "skipped"
    assert "2025-08-20" in skipped.last_error and "2025-08-15" in skipped.last_error
    assert mailer.delivered == []

    at(clock, "2025-08-12 10:00")
    assert await notifications.schedule_deadline_reminders() == 1  # T-7 of the new deadline, due 08-13
    at(clock, "2025-08-13 10:00")
    await worker.drain()
    (subject, body), = bodies(mailer)
    assert "还剩 7 天" in subject and "2025年8月20日" in body
    keys = sorted(r.idempotency_key for r in await outbox_rows(core, kind="deadline_reminder"))
    assert any("2025-08-20-T7" in k for k in keys) and any("2025-08-15-T7" in k for k in keys)


async def test_a_draft_submitted_meanwhile_is_not_reminded(core, clock):
    from core.db.models import Application

    _, application_id = await a_draft(core)
    notifications = notification_service(core)
    mailer = FakeMailer()
    at(clock, "2025-08-07 10:00")
    await notifications.schedule_deadline_reminders()
    async with core.uow() as uow:  # as if it had been completed and submitted
        app = await uow.session.get(Application, application_id)
        app.status = "submitted"
        await uow.commit()

    at(clock, "2025-08-08 10:00")
    await make_worker(core, mailers=[mailer]).drain()

    (reminder,) = await outbox_rows(core, kind="deadline_reminder")
    assert reminder.status == "skipped" and "不是草稿" in reminder.last_error
    assert mailer.delivered == []


async def test_staff_digest_at_nine_lists_the_day_with_contacts_masked(core, clock):
    result = await populate(people=core.people, intake=core.intake, experts=3, universities=1, seed=11)
    await core.review.request_info(application_id=result.experts[0], staff="staff:1", message="请补充职称证书")
    await a_draft(core, name="赵六", email="zhaoliu@example.cn")
    nobody = await add_person(core, name="无地址", email=None)
    await queue(core, nobody, occasion="no-address")
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()
    mailer.attempts.clear(), mailer.results.clear()

    notifications = notification_service(core)
    at(clock, "2025-07-02 08:59")
    assert await notifications.schedule_staff_digest() == 0, "not before 09:00"
    at(clock, "2025-07-02 09:00")
    assert await notifications.schedule_staff_digest() == 1
    assert await notifications.schedule_staff_digest() == 0, "once a day"
    (digest,) = await outbox_rows(core, kind="staff_digest")
    assert digest.person_id is None and digest.address == "staff@example.org"
    assert digest.idempotency_key == "staff_digest:2025-07-02:staff@example.org"
    await worker.drain()

    (message,) = mailer.messages()
    subject = message["Subject"]
    body = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert subject == "【创新工程微专业】工作日报 2025-07-02：新提交 4，待审核 3，发送失败 1"
    assert body.startswith("各位工作人员：")
    assert "过去 24 小时新提交（4 份）" in body and "E01-" in body and "U01-" in body
    assert "待审核（共 3 份" in body and "已等待 0 天" in body
    assert "逾期未回复（0 份）" in body
    assert "发送失败或结果不明的通知（共 1 条）" in body and "没有可用的收件地址" in body
    # Phones and e-mails only ever appear masked.
    assert not re.search(r"1[3-9]\d{9}", body + html)
    assert not re.search(r"(expert|contact|university)\d*@", body + html)
    assert re.search(r"1\d\d\*\*\*\*\d{4}", body) and "***@example.com" in body

    at(clock, "2025-07-09 09:30")  # a week on: the request for more information is overdue
    assert await notifications.schedule_staff_digest() == 1
    await worker.drain()
    later = mailer.messages()[-1].get_body(("plain",)).get_content()
    assert "逾期未回复（1 份）" in later and "已等待 7 天" in later
    assert "过去 24 小时新提交（0 份）" in later


async def test_a_digest_lists_at_most_the_limit_and_counts_all(core, clock, monkeypatch):
    import core.services.notifications as notifications_module

    monkeypatch.setattr(notifications_module, "DIGEST_LIST_LIMIT", 2)
    await populate(people=core.people, intake=core.intake, experts=3, universities=1, seed=12)
    worker = make_worker(core, mailers=[mailer := FakeMailer()])
    await worker.drain()
    at(clock, "2025-07-02 09:00")
    assert await notification_service(core).schedule_staff_digest() == 1
    await worker.drain()
    message = mailer.messages()[-1]
    body = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "新提交 4" in message["Subject"]
    assert "过去 24 小时新提交（4 份）" in body and "另有 2 份未列出" in body and "另有 2 份未列出" in html
    new_section = body.split("一、过去 24 小时新提交")[1].split("二、")[0]
    assert new_section.count("  · ") == 2
