"""`innoeng staff …` end to end on an SQLite file: the printed link sets the password, list shows the account."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from innoeng.cli import main


@pytest.fixture
def environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path / "documents"))
    monkeypatch.setenv("CONSOLE_BASE_URL", "https://console.example.org/")
    return tmp_path


def test_staff_add_prints_a_link_that_sets_up_the_account(environment, capsys):
    assert main(["staff", "add", "wang@example.org", "--name", "王审核", "--role", "reviewer"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"https://console\.example\.org/setup/(\S+)", out).group(1)
    assert "审核员" in out

    from core.bootstrap import bootstrap
    from core.settings import Settings

    async def set_up():
        core = bootstrap(Settings())
        try:
            await core.staff.complete_setup(token=token, password="a-long-enough-passphrase", confirm="a-long-enough-passphrase")
        finally:
            await core.close()

    asyncio.run(set_up())
    assert main(["staff", "link-telegram", "wang@example.org", "900001"]) == 0
    assert main(["staff", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert listed[0]["email"] == "wang@example.org" and listed[0]["password_set"] and listed[0]["telegram_id"] == 900001

    assert main(["staff", "disable", "1"]) == 0
    assert main(["staff", "list"]) == 0
    assert "已停用" in capsys.readouterr().out


def test_staff_add_refuses_a_duplicate_with_the_reason(environment, capsys):
    assert main(["staff", "add", "wang@example.org", "--name", "王审核", "--role", "admin"]) == 0
    capsys.readouterr()
    assert main(["staff", "add", "WANG@example.org", "--name", "王二", "--role", "reviewer"]) == 2
    refusal = capsys.readouterr().err
    assert "已有工作人员账号" in refusal and "innoeng staff reset wang@example.org" in refusal
