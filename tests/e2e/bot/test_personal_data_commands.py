"""/mydata and /delete through the real aiogram Bot over the stand-in: everything exported, files on request,
and an erasure reply that says what could not be removed yet."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from core.db.models import ChatState
from core.documents import LocalDocumentStore
from core.sample import SAMPLE_PDF
from tests.e2e.bot.test_restart_and_staff import submitted_expert

USER = 6262


async def test_mydata_exports_everything_and_sends_the_files_on_request(running_bot, people):
    await people.send_text(USER - 1, "/start")
    await people.next_message(USER - 1)
    notice = await people.next_message(USER - 1)
    assert "保存期限：已送达通知的内容 30 天后删除" in notice.text and "/mydata" in notice.text

    driver = await submitted_expert(people, USER)
    await people.send_text(USER, "/mydata")
    export = await driver.next_message()
    data = json.loads(await people.download(export.document["file_id"]))
    assert "files" in export.text
    assert {"appointments", "match_proposals", "recommendations", "event_invitations", "audit_log"} <= set(data)
    [listed] = data["files"]
    assert listed["sha256"] == hashlib.sha256(SAMPLE_PDF).hexdigest() and listed["file_name"] == "学位证书.pdf"
    assert "application.submit" in {entry["action"] for entry in data["audit_log"]}

    offer = await driver.next_message()
    assert "1 份文件" in offer.text and offer.buttons == ["发送我的文件"]
    await people.press_button(USER, offer, "发送我的文件")
    sent = await driver.next_message()
    assert sent.document["file_name"] == "学位证书.pdf" and listed["sha256"] in sent.text
    assert await people.download(sent.document["file_id"]) == SAMPLE_PDF


async def test_delete_with_a_read_only_store_tells_the_truth_and_retries(running_bot, people, monkeypatch):
    driver = await submitted_expert(people, USER + 1)
    core = running_bot.core
    [stored] = [p.name for p in core.settings.documents_dir.iterdir()]

    def read_only(self, stored_name):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(LocalDocumentStore, "delete", read_only)
    await people.send_text(USER + 1, "/delete")
    confirm = await driver.next_message()
    done = await driver.press(confirm, "确定删除")
    assert "1 份上传文件中有 1 份暂时未能从存储中移除" in done.text and "自动重试" in done.text
    assert "全部数据已删除" not in done.text
    assert await core.people.get_by_telegram_id(telegram_id=USER + 1) is None
    async with core.uow() as uow:
        keys = (await uow.session.scalars(select(ChatState.key))).all()
    assert [k for k in keys if f":{USER + 1}:" in k] == []
    assert [p.name for p in core.settings.documents_dir.iterdir()] == [stored]

    monkeypatch.undo()
    assert (await core.privacy.files.purge()).deleted == 1
    assert list(core.settings.documents_dir.iterdir()) == []
