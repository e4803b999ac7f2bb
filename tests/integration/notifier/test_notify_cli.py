"""`innoeng notify …` as staff use it: Chinese for people, `--json` for scripts, on an SQLite file."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from innoeng.cli import main


@pytest.fixture
def environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path / "documents"))
    return tmp_path


def _seed() -> dict[str, int]:
    """A failed row, an unknown one and a sent one, and Telegram paused."""
    from core.bootstrap import bootstrap
    from core.db.models import OutboxMessage
    from core.services.notifications import NotificationService
    from core.settings import Settings

    async def seed():
        core = bootstrap(Settings())
        try:
            await core.prepare()
            now = datetime.now(timezone.utc)
            rows = {
                status: OutboxMessage(kind="review_approved", channel="email", address=f"{status}@example.cn",
                                      idempotency_key=f"cli:{status}", payload={}, status=status, due_at=now,
                                      attempts=1, created_at=now, last_error=f"{status} 的原因")
                for status in ("failed", "unknown", "sent")
            }
            async with core.uow() as uow:
                uow.session.add_all(rows.values())
                await uow.commit()
                ids = {status: row.id for status, row in rows.items()}
            service = NotificationService.from_settings(core.settings, uow=core.uow)
            await service.pause_channel(channel="telegram", reason="Telegram 不接受机器人凭据（401 Unauthorized）",
                                        probe_in=timedelta(minutes=5))
            return ids
        finally:
            await core.close()

    return asyncio.run(seed())


def test_status_speaks_chinese_and_json_on_request(environment, capsys):
    _seed()
    assert main(["notify", "status"]) == 0
    out = capsys.readouterr().out
    assert "失败（failed）：1" in out and "结果不明（unknown）：1" in out and "已发送（sent）：1" in out
    assert "渠道已暂停：Telegram" in out and "401" in out and "innoeng notify resume telegram" in out
    assert "结果不明的通知可能已送达" in out and "{" not in out

    assert main(["notify", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by_status"] == {"failed": 1, "unknown": 1, "sent": 1}
    assert [p["channel"] for p in data["paused_channels"]] == ["telegram"]


def test_retry_prints_a_sentence_or_json_and_leaves_unknown_rows_to_a_choice(environment, capsys):
    ids = _seed()
    assert main(["notify", "retry", "--failed"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "已重新排队 1 条通知，通知进程会尽快发送。"

    assert main(["notify", "retry", "--failed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queued_again": 0}

    assert main(["notify", "retry", str(ids["unknown"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queued_again": 1}

    assert main(["notify", "show", str(ids["unknown"])]) == 0
    out = capsys.readouterr().out
    assert f"通知 #{ids['unknown']}" in out and "排队中（queued）" in out

    assert main(["notify", "retry", "999999"]) == 2
    assert "没有找到通知：999999" in capsys.readouterr().err


def test_resume_lifts_a_pause(environment, capsys):
    _seed()
    assert main(["notify", "resume", "telegram"]) == 0
    assert "已恢复 Telegram 渠道" in capsys.readouterr().out
    assert main(["notify", "resume", "telegram", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"channel": "telegram", "resumed": False}
    assert main(["notify", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["paused_channels"] == []
