"""Typed settings, read from the environment and `.env`. Loaded once by each process's main()."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated, Literal

__all__ = ["Settings"]


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/innoeng.sqlite3"
    data_dir: Path = Path("./data")
    documents_dir: Path = Path("./data/documents")
    timezone: str = "Asia/Shanghai"

    bot_token: SecretStr | None = None
    bot_api_url: str = "https://api.telegram.org"
    redis_url: str | None = None
    # Webhook mode when set (the public URL Telegram posts to); long polling otherwise.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    # Telegram's concurrent deliveries to the webhook (1-100); one chat's updates still come one at a time.
    webhook_max_connections: int = 40
    # Webhook mode only: bot processes sharing WEBHOOK_PORT (SO_REUSEPORT); `innoeng bot --workers N` overrides.
    bot_workers: int = 1
    # Updates handled at once by one bot process; the rest wait their turn (bounded DB connections).
    bot_max_concurrent_updates: int = 16
    # The local Bot API stand-in that `innoeng run` starts when no BOT_TOKEN is set.
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8081

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    smtp_start_tls: bool = True
    smtp_timeout_s: float = 30.0
    mail_from: str = "noreply@innoeng.example.org"
    # The branch's contact address that people may answer: Reply-To of every e-mail and organizer of
    # calendar invitations. Unset, no e-mail invites a reply (MAIL_FROM is usually not read).
    mail_reply_to: str | None = None

    staff_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    staff_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    # The batch created on first start with an empty database, so the service is usable at once.
    default_batch_name: str = "第一批"
    default_batch_deadline: date | None = None  # None: 60 days from first start

    max_upload_mb: int = 20

    # Two-way matching (双向匹配) and what follows it.
    recommendations_per_course: int = 5
    proposal_answer_days: int = 5
    publicity_working_days: int = 5
    # Public holidays skipped by publicity periods, e.g. HOLIDAYS=2026-10-01,2026-10-02 (weekends always are).
    holidays: Annotated[list[date], NoDecode] = Field(default_factory=list)

    # -- notifier (outbox worker, reminders, digests) --------------------------------------------
    # A transient failure is retried with exponential backoff (base * 2^(attempt-1), capped, ± jitter)
    # for as long as the row is younger than the maximum age since its first attempt, however many
    # attempts that takes (mail servers retry by age too); then it is failed for staff to see.
    notifier_max_age_hours: float = 72.0
    notifier_backoff_base_s: float = 30.0
    notifier_backoff_max_s: float = 3600.0
    # A paused channel (revoked bot token, unreachable API) is tried again with one row this often.
    notifier_channel_probe_s: float = 300.0
    notifier_batch_size: int = 50
    # A claimed row is locked this long; a worker killed mid-batch loses its rows to others after it.
    notifier_lease_s: float = 300.0
    # LISTEN/NOTIFY wakes the worker at once on PostgreSQL; polling is the fallback (and all of SQLite).
    notifier_poll_interval_s: float = 2.0
    # Parallel SMTP connections per worker process.
    notifier_email_connections: int = 4
    notifier_schedule_interval_s: float = 60.0
    # The relay's quota (None: no limit); with several notifier processes give each its share.
    smtp_quota_per_minute: int | None = None
    smtp_quota_per_day: int | None = None
    telegram_messages_per_s: int = 30
    # Extra lanes that claim only urgent rows (sign-in codes, core.domain.outbox.URGENT and above).
    notifier_priority_lanes: int = 1

    # -- SMS (notifier/sms): fake unless a provider is configured ----------------------------------
    # fake: recorded and written to DATA_DIR/outbox/sms.jsonl, nothing leaves the machine; aliyun: Dysmsapi SendSms.
    sms_provider: Literal["fake", "aliyun"] = "fake"
    aliyun_sms_access_key_id: str | None = None
    aliyun_sms_access_key_secret: SecretStr | None = None
    aliyun_sms_sign_name: str | None = None  # the approved signature (签名), e.g. 中国创造学会
    # host, or http://host:port for a local stand-in
    aliyun_sms_endpoint: str = "dysmsapi.aliyuncs.com"
    aliyun_sms_timeout_s: float = 10.0
    # Approved template codes (e.g. SMS_123456789), one per kind in core.ports.sms.SMS_TEMPLATES.
    aliyun_sms_template_signin_code: str | None = None  # variable: code
    aliyun_sms_template_match_proposal_waiting: str | None = None  # variable: link
    aliyun_sms_template_match_deadline_tomorrow: str | None = None  # variable: link
    aliyun_sms_template_workshop_tomorrow: str | None = None  # variables: title, link
    # At most this many SMS to one mobile per minute / per hour; more wait in the queue (None: no limit).
    sms_per_number_per_minute: int | None = 1
    sms_per_number_per_hour: int | None = 5

    # Local (TIMEZONE) hours at which reminders and the staff digest are sent.
    reminder_hour: int = 10
    digest_hour: int = 9
    deadline_reminder_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [7, 3, 1])
    # Applications sent back for more information are "overdue" in the digest after this many days.
    needs_info_overdue_days: int = 7

    # -- retention (个人信息保护法 art. 19), enforced by the notifier's scheduler and `innoeng maintenance retention`
    retention_outbox_payload_days: int = 30  # a finished notification's content and address are redacted
    retention_processed_update_days: int = 7  # Telegram update ids kept to drop redeliveries
    retention_chat_state_days: int = 180  # dialog state of a chat idle this long
    retention_draft_days: int = 180  # unsubmitted drafts untouched this long, with their files
    retention_closed_application_days: int = 180  # rejected/withdrawn, this long after their batch closed
    retention_audit_days: int = 1095  # the audit log (art. 56: records kept at least 3 years)
    retention_interval_s: float = 3600.0  # how often the notifier runs the job

    # -- staff console (issue 14) ------------------------------------------------------------------
    console_host: str = "127.0.0.1"
    console_port: int = 8090
    # The address staff open (printed in set-up links); None: http://CONSOLE_HOST:CONSOLE_PORT.
    console_base_url: str | None = None
    # Set behind HTTPS so the session cookie is only sent encrypted.
    console_secure_cookies: bool = False
    console_session_idle_minutes: int = 30
    console_session_absolute_hours: int = 12
    console_setup_link_hours: int = 72
    # Consecutive wrong passwords that lock an account, and for how long.
    console_max_failed_logins: int = 5
    console_lockout_minutes: int = 15
    # Failed attempts from one address within the window before it is refused outright.
    console_max_failures_per_address: int = 20
    console_address_window_minutes: int = 15

    # -- participants' web channel (issue 20) -------------------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    # The public address of the web pages (links in e-mails, QR codes); None: http://WEB_HOST:WEB_PORT.
    # An https:// address makes the session cookie Secure.
    web_base_url: str | None = None
    # The reverse proxies in front of the web (their addresses): behind them the visitor's address is the last
    # X-Forwarded-For hop they added, which sign-in throttles count per IP. Empty: the connection's address.
    web_trusted_proxies: list[str] = []
    # Signs the links in notices (core.links); unset: a random secret kept in DATA_DIR/link_secret.
    # Several processes or hosts must share it (set it, or share DATA_DIR). Changing it voids links sent.
    link_secret: SecretStr | None = None

    @property
    def console_url(self) -> str:
        return (self.console_base_url or f"http://{self.console_host}:{self.console_port}").rstrip("/")

    @property
    def web_url(self) -> str:
        return (self.web_base_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @field_validator("deadline_reminder_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("staff_emails", "staff_telegram_ids", "holidays", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def first_batch_deadline(self, today: date) -> date:
        return self.default_batch_deadline or today + timedelta(days=60)
