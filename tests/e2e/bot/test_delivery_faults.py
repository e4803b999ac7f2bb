"""The bot's own replies survive Telegram's flood control and server errors: retried as Telegram asks."""
from __future__ import annotations

import time

from tests.e2e.bot.test_intake_chat import begin
from tests.support.chat import ChatDriver

USER = 6161


async def test_a_reply_refused_with_429_retry_after_is_sent_after_the_wait(running_bot, people):
    driver = ChatDriver(people, USER)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    assert driver.step_of(question)[0] == "name"
    await people.inject_fault("sendMessage", chat_id=USER, kind="flood", retry_after=1, times=1)
    started = time.monotonic()
    question = await driver.say("张三")
    assert driver.step_of(question)[0] == "birth_date", question.text
    assert time.monotonic() - started >= 1.0
    assert all("出错" not in m.text for m in await people.bot_messages(USER))


async def test_a_reply_failing_with_5xx_is_retried_a_bounded_number_of_times(running_bot, people):
    driver = ChatDriver(people, USER + 1)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    await people.inject_fault("sendMessage", chat_id=USER + 1, kind="server_error", times=1)
    await people.inject_fault("sendMessage", chat_id=USER + 1, kind="bad_gateway", times=1)
    question = await driver.say("张三")
    assert driver.step_of(question)[0] == "birth_date", question.text
    assert all("出错" not in m.text for m in await people.bot_messages(USER + 1))


async def test_no_message_the_bot_sends_exceeds_telegrams_limit(running_bot, people):
    await people.send_text(USER + 2, "/start")
    await people.next_message(USER + 2)
    long_text = "\n".join(f"{n}. " + "字" * 300 for n in range(30))
    await running_bot.bot.send_message(USER + 2, long_text)
    messages = (await people.bot_messages(USER + 2))[-3:]
    assert all(len(m.text) <= 4096 for m in await people.bot_messages(USER + 2))
    assert "\n".join(m.text for m in messages).endswith(long_text[-500:])
