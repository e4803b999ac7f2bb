"""The /delete reply says what went, what could not be removed yet, and what the law keeps."""
from __future__ import annotations

from core.dialog import erasure_message as erasure_reply
from core.services.privacy import ErasureReport


def test_everything_gone():
    assert erasure_reply(ErasureReport(files=2, files_pending=0)) == "您的全部数据已删除（含 2 份文件）。感谢关注本计划。"


def test_files_not_removed_yet_are_not_called_deleted():
    reply = erasure_reply(ErasureReport(files=2, files_pending=1))
    assert "2 份上传文件中有 1 份暂时未能从存储中移除" in reply and "全部数据已删除" not in reply


def test_kept_appointments_are_named_with_what_stays():
    reply = erasure_reply(ErasureReport(files=1, files_pending=0, kept_appointments=(7, 9)))
    assert "聘任编号 7、9" in reply and "只留姓名、工作单位、单位类型和聘任课程" in reply
    assert "全部数据已删除" not in reply
