"""The staff digest's "past 24 hours" ends when the digest says it does (its generation time),
so a digest written at 09:14 lists what came in at 09:11 and 09:13."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from core.sample import populate
from notifier.mail import FakeMailer
from notifier.main import notification_service
from tests.support.outbox import make_worker

BEIJING = ZoneInfo("Asia/Shanghai")


def at(clock, text: str) -> None:
    clock.now = datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(timezone.utc)


async def test_submissions_minutes_before_the_digest_count_as_new(core, clock):
    at(clock, "2025-07-01 08:30")  # yesterday's window boundary case: 24 h and a bit before
    await populate(people=core.people, intake=core.intake, experts=1, universities=0, seed=3)
    at(clock, "2025-07-02 09:11")
    await populate(people=core.people, intake=core.intake, experts=1, universities=0, seed=4)
    at(clock, "2025-07-02 09:13")
    await populate(people=core.people, intake=core.intake, experts=0, universities=1, seed=5)
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()  # the receipts
    mailer.attempts.clear(), mailer.results.clear()

    at(clock, "2025-07-02 09:14")
    assert await notification_service(core).schedule_staff_digest() == 1
    await worker.drain()

    (message,) = mailer.messages()
    body = message.get_body(("plain",)).get_content()
    assert "截至 2025年7月2日 09:14（北京时间）" in body
    assert "过去 24 小时新提交（2 份）" in body
    new_section = body.split("过去 24 小时新提交")[1].split("二、")[0]
    assert "09:11" in new_section and "09:13" in new_section and "7月1日" not in new_section
    assert "待审核（共 3 份" in body


async def test_a_paused_channel_is_named_at_the_top_of_the_digest(core, clock):
    from datetime import timedelta

    notifications = notification_service(core)
    at(clock, "2025-07-02 08:00")
    await notifications.pause_channel(channel="telegram", reason="Telegram 不接受机器人凭据（401 Unauthorized）",
                                      probe_in=timedelta(minutes=5))
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()  # the alert itself
    mailer.attempts.clear(), mailer.results.clear()

    at(clock, "2025-07-02 09:05")
    assert await notifications.schedule_staff_digest() == 1
    await worker.drain()
    (message,) = mailer.messages()
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "注意：Telegram 通知自 2025年7月2日 08:00（北京时间） 起暂停发送" in body and "401" in body
