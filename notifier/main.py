"""The notifier's composition: from the core and settings to a running worker and scheduler.

`run_notifier` is what `innoeng notifier` runs on its own and what `innoeng run` starts beside
the bot in one process (handing over its aiogram Bot, so Telegram goes through the same API URL).
It also runs a matching worker (core.services.matching_worker): queued matching runs are claimed
and solved here, so a pilot needs no process of its own for them.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address

from typing import TYPE_CHECKING

from core.bootstrap import Core
from core.services.matching_worker import MatchingWorker
from core.services.notifications import NotificationService
from core.services.retention import RetentionService
from core.settings import Settings
from notifier.composing import Composer
from core.notice_links import NoticeLinks
from notifier.mail import EmlFileMailer, InvalidAddress, Mailer, SmtpMailer, SmtpSettings, format_sender
from notifier.rate_limit import smtp_rate_limiter
from notifier.scheduler import Scheduler
from notifier.sms import SmsChannel, build_sms_sender
from notifier.telegram import TelegramTransport
from notifier.worker import OutboxWorker, RetryPolicy, WorkerOptions, postgres_listen_dsn

if TYPE_CHECKING:  # a notifier without a bot never imports aiogram (seconds of start-up)
    from aiogram import Bot

__all__ = ["run_notifier", "build_mailers", "build_worker", "notification_service", "SENDER_NAME"]

SENDER_NAME = "中国创造学会创新工程学分会"


def notification_service(core: Core, clock: Callable[[], datetime] | None = None) -> NotificationService:
    return NotificationService.from_settings(core.settings, uow=core.uow, clock=clock or core.clock)


def build_mailers(settings: Settings) -> list[Mailer]:
    """One SMTP connection per lane; with no SMTP_HOST, .eml files under DATA_DIR/outbox."""
    if not settings.smtp_host:
        return [EmlFileMailer(settings.data_dir / "outbox", sender=_sender(settings))]
    smtp = SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        from_address=settings.mail_from,
        from_name=SENDER_NAME,
        username=settings.smtp_username,
        password=settings.smtp_password,
        use_tls=settings.smtp_use_tls,
        start_tls=None if settings.smtp_use_tls else settings.smtp_start_tls,
        timeout=settings.smtp_timeout_s,
    )
    return [SmtpMailer(smtp) for _ in range(max(1, settings.notifier_email_connections))]


def _sender(settings: Settings) -> str:
    try:
        return format_sender(settings.mail_from, SENDER_NAME)
    except InvalidAddress:
        # The embedded default (innoeng@localhost) has no dotted domain; files need no relay to accept it.
        username, _, domain = settings.mail_from.partition("@")
        return str(Address(display_name=SENDER_NAME, username=username, domain=domain or "localhost"))


def build_worker(
    core: Core,
    *,
    bot: "Bot | None",
    clock: Callable[[], datetime] | None = None,
    mailers: list[Mailer] | None = None,
    notifications: NotificationService | None = None,
    sms_sender=None,
) -> OutboxWorker:
    """`sms_sender`: an SmsSender (core.ports.sms) instead of the one SMS_PROVIDER names."""
    settings = core.settings
    clock = clock or core.clock
    mailers = mailers or build_mailers(settings)
    return OutboxWorker(
        uow=core.uow,
        notifications=notifications or notification_service(core, clock),
        composer=Composer(mail_from=settings.mail_from, reply_to=settings.mail_reply_to, organizer_name=SENDER_NAME,
                          clock=clock, links=NoticeLinks.from_core(core, clock)),
        mailers=mailers,
        telegram=TelegramTransport(bot, messages_per_s=settings.telegram_messages_per_s) if bot else None,
        sms=SmsChannel.from_settings(settings, sms_sender or build_sms_sender(settings)),
        policy=RetryPolicy(
            max_age=timedelta(hours=settings.notifier_max_age_hours),
            base_s=settings.notifier_backoff_base_s,
            max_s=settings.notifier_backoff_max_s,
            channel_probe_s=settings.notifier_channel_probe_s,
        ),
        options=WorkerOptions(
            lanes=len(mailers),
            priority_lanes=settings.notifier_priority_lanes,
            batch_size=settings.notifier_batch_size,
            lease_s=settings.notifier_lease_s,
            poll_interval_s=settings.notifier_poll_interval_s,
        ),
        smtp_limiter=(
            smtp_rate_limiter(settings.smtp_quota_per_minute, settings.smtp_quota_per_day)
            if settings.smtp_quota_per_minute or settings.smtp_quota_per_day else None
        ),
        clock=clock,
        listen_dsn=postgres_listen_dsn(core.engine.url),
    )


async def run_notifier(
    core: Core, *, bot: "Bot | None", stop: asyncio.Event, clock: Callable[[], datetime] | None = None
) -> None:
    """Runs the outbox worker and the scheduler until `stop` is set. The caller owns `core` and `bot`."""
    notifications = notification_service(core, clock)
    mailers = build_mailers(core.settings)
    worker = build_worker(core, bot=bot, clock=clock, mailers=mailers, notifications=notifications)
    retention = RetentionService.from_settings(core.settings, uow=core.uow, documents=core.documents, clock=clock or core.clock)
    scheduler = Scheduler(notifications, interval_s=core.settings.notifier_schedule_interval_s, on_queued=worker.wake,
                          retention=retention, retention_interval_s=core.settings.retention_interval_s)
    matching = MatchingWorker(core.matching)
    try:
        await asyncio.gather(worker.run(stop), scheduler.run(stop), matching.run(stop))
    finally:
        for mailer in mailers:
            await mailer.aclose()
