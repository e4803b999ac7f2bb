"""The admin's settings view never shows a secret or a password inside a URL."""
from __future__ import annotations

from core.settings import Settings
from console.routes.staff import _shown


def test_secrets_and_url_passwords_are_hidden():
    settings = Settings(_env_file=None, database_url="postgresql+asyncpg://app:hunter2-secret@db.example/innoeng",
                        smtp_password="mail-secret", bot_token="123:telegram-secret", redis_url="redis://:redis-secret@cache:6379/0")
    shown = {name: _shown(name, getattr(settings, name)) for name in type(settings).model_fields}
    everything = " ".join(shown.values())
    for secret in ("hunter2-secret", "mail-secret", "telegram-secret", "redis-secret"):
        assert secret not in everything
    assert shown["database_url"] == "postgresql+asyncpg://app:***@db.example/innoeng"
    assert shown["smtp_password"] == "（已设置，不显示）"
    assert shown["console_port"] == "8090"
    assert shown["webhook_url"] == "（未设置）"
