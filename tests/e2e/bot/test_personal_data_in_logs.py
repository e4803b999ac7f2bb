"""A whole submission through the bot whose database write fails, logged at DEBUG: no mobile, no e-mail in the logs."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text as sql

from core.db.engine import is_sqlite
from core.log_masking import install_log_masking
from tests.e2e.bot.conftest import EXPERT_ANSWERS
from tests.support.chat import ChatDriver

USER = 5151

# The statement that fails is the one saving the answers with the e-mail in them: its parameters are the
# name, mobile and e-mail as JSON, exactly what must not reach a log.
SQLITE_TRIGGER = (
    "CREATE TRIGGER forced_failure BEFORE UPDATE ON applications WHEN NEW.answers LIKE '%zhangsan@%' "
    "BEGIN SELECT RAISE(ABORT, 'forced failure'); END",
)
POSTGRES_TRIGGER = (
    "CREATE FUNCTION forced_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER forced_failure BEFORE UPDATE ON applications FOR EACH ROW "
    "WHEN (NEW.answers::text LIKE '%zhangsan@%') EXECUTE FUNCTION forced_failure()",
)


async def forced_failure(core, *, armed: bool) -> None:
    async with core.engine.begin() as connection:
        if armed:
            for statement in SQLITE_TRIGGER if is_sqlite(core.settings.database_url) else POSTGRES_TRIGGER:
                await connection.execute(sql(statement))
        else:
            await connection.execute(sql("DROP TRIGGER forced_failure" if is_sqlite(core.settings.database_url)
                                         else "DROP TRIGGER forced_failure ON applications"))


@pytest.fixture
def masked_logging():
    factory = logging.getLogRecordFactory()
    install_log_masking()
    yield
    logging.setLogRecordFactory(factory)


async def test_failed_submission_logs_neither_mobile_nor_email(running_bot, people, caplog, masked_logging):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQLAlchemy sets its own WARNING unless told
    driver = ChatDriver(people, USER)
    await people.send_text(USER, "/start")
    await driver.next_message()
    notice = await driver.next_message()
    roles = await driver.press(notice, "同意并继续")
    first = await driver.press(roles, "我是企业专家（申请产业兼职教师）")
    email_question = await driver.fill(first, EXPERT_ANSWERS, until="email")

    await forced_failure(running_bot.core, armed=True)
    apology = await driver.say(EXPERT_ANSWERS["email"])
    assert "出错了" in apology.text and "都已保存" in apology.text, apology.text
    await forced_failure(running_bot.core, armed=False)
    next_question = await driver.answer(email_question, EXPERT_ANSWERS["email"])
    review = await driver.fill(next_question, EXPERT_ANSWERS)
    assert "手机号：13812345678" in review.text
    receipt = await driver.press(review, "✅ 提交")
    assert "已提交！受理编号：E" in receipt.text

    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures and any("forced failure" in (r.getMessage() + (r.exc_text or "")) for r in failures)
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "sqlalchemy.engine" in {r.name.rsplit(".", 1)[0] for r in caplog.records}  # DEBUG really logged SQL
    for personal in ("13812345678", "zhangsan@example.com", "1234-5678"):
        assert personal not in logged
