"""The bot's reply to 接受 / 确认 / 谢绝 on a matching proposal names the pair it was for: with several
proposals open, identical replies would not say which one was recorded."""
from __future__ import annotations

import asyncio

import pytest

from bot.factory import create_bot
from bot.main import run_polling
from bot.sandbox.shapes import person
from core.bootstrap import bootstrap
from notifier.main import run_notifier
from tests.e2e.bot.conftest import DEADLINE, STAFF_ID
from tests.support.chat import ChatDriver
from tests.support.factories import confirmed_pairs


@pytest.fixture
async def proposals(database_url, settings_for, stand_in):
    """Two confirmed pairs at 华北科技大学 (韩专家 for 创新思维, 杨专家 for 创新管理), the bot and the notifier running;
    yields {course: (expert's Telegram id, university contact's Telegram id)}."""
    settings = settings_for(database_url, default_batch_deadline=DEADLINE, staff_telegram_ids=[STAFF_ID],
                            notifier_poll_interval_s=0.2)
    core = bootstrap(settings)
    await core.prepare()
    pairs = await confirmed_pairs(core)
    telegram = {}
    for course, (_, expert, university) in pairs.items():
        expert_id = (await core.people.get(person_id=expert)).telegram_id
        university_id = (await core.people.get(person_id=university)).telegram_id
        telegram[course] = (expert_id, university_id)
        # Each has started the bot before, as on Telegram, so the proposal can reach them.
        for user_id in (expert_id, university_id):
            stand_in.sandbox.bot(None).chat_with(person(user_id))
    bot = create_bot(stand_in.token, stand_in.base_url)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_polling(core, bot, stop)), asyncio.create_task(run_notifier(core, bot=bot, stop=stop))]
    try:
        yield telegram
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        await bot.session.close()
        await core.close()


async def test_each_answer_names_the_university_course_and_for_the_university_the_expert(proposals, people):
    thinking_expert, contact = proposals["创新思维"]
    management_expert, _ = proposals["创新管理"]

    offer = await ChatDriver(people, thinking_expert).wait_for(lambda m: "匹配结果" in m.text, 20)
    await people.press_button(thinking_expert, offer, "✅ 接受")
    accepted = await ChatDriver(people, thinking_expert).wait_for(lambda m: "已记录您的答复" in m.text)
    assert "接受" in accepted.text and "华北科技大学" in accepted.text and "《创新思维》" in accepted.text, accepted.text

    offer = await ChatDriver(people, management_expert).wait_for(lambda m: "匹配结果" in m.text, 20)
    await people.press_button(management_expert, offer, "❌ 谢绝")
    await ChatDriver(people, management_expert).wait_for(lambda m: "谢绝的原因" in m.text)
    await people.send_text(management_expert, "时间冲突")
    declined = await ChatDriver(people, management_expert).wait_for(lambda m: "已记录您的答复" in m.text)
    assert "谢绝" in declined.text and "华北科技大学" in declined.text and "《创新管理》" in declined.text, declined.text

    # The contact has two proposals; the reply to 确认 on one says which course and which expert.
    driver = ChatDriver(people, contact)
    offers = [await driver.wait_for(lambda m: "匹配结果" in m.text, 20) for _ in range(2)]
    thinking = next(o for o in offers if "创新思维" in o.text)
    await people.press_button(contact, thinking, "✅ 确认")
    both = await driver.wait_for(lambda m: "已记录您的答复" in m.text)
    assert "《创新思维》" in both.text and "韩专家" in both.text and "双方均已确认" in both.text, both.text
    assert "创新管理" not in both.text and "杨专家" not in both.text
