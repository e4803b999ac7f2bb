"""Typed settings, read from the environment and `.env`. Loaded once by each process's main()."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

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
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    smtp_start_tls: bool = True
    smtp_timeout_s: float = 30.0
    mail_from: str = "innoeng@localhost"

    staff_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    staff_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    # The batch created on first start with an empty database, so the service is usable at once.
    default_batch_name: str = "第一批"
    default_batch_deadline: date | None = None  # None: 60 days from first start

    max_upload_mb: int = 20

    @field_validator("staff_emails", "staff_telegram_ids", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def first_batch_deadline(self, today: date) -> date:
        return self.default_batch_deadline or today + timedelta(days=60)
