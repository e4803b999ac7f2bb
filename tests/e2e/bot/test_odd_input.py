"""What a newcomer or an attacker may send: every message gets a true answer in Chinese, never the apology."""
from __future__ import annotations

import asyncio

from bot.callbacks import FormAction
from tests.e2e.bot.conftest import EXPERT_ANSWERS
from tests.e2e.bot.test_intake_chat import application, begin
from tests.support.chat import ChatDriver

USER = 7300
APOLOGY = "出错"
LIMIT = 4096


async def _expert_at(people, user: int, until: str) -> tuple[ChatDriver, object]:
    driver = ChatDriver(people, user)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    return driver, await driver.fill(question, EXPERT_ANSWERS, until=until)


async def _no_apology_and_short(people, user: int) -> None:
    for message in await people.bot_messages(user):
        assert APOLOGY not in message.text, message.text
        assert len(message.text) <= LIMIT


async def test_a_refusal_of_very_long_input_quotes_only_a_prefix(running_bot, people):
    driver, question = await _expert_at(people, USER, "birth_date")
    refused = await driver.say("1" * 5000)
    assert "无法识别的日期" in refused.text and len(refused.text) < 300
    question = await driver.next_prompt()
    question = await driver.fill(question, EXPERT_ANSWERS, until="employer_type")
    refused = await driver.say("😀" * 2100)
    assert "不是可选项" in refused.text and len(refused.text) < 600
    await _no_apology_and_short(people, USER)


async def test_names_of_invisible_characters_are_refused_and_bidi_controls_removed(running_bot, people):
    driver, question = await _expert_at(people, USER + 1, "name")
    for invisible in ("\u200b\u200b", "\u2060\u200d\u200c", "\u202e"):
        refused = await driver.say(invisible)
        assert "不可见的字符" in refused.text, refused.text
        question = await driver.next_prompt()
        assert driver.step_of(question)[0] == "name"
    question = await driver.say("\u202e张三")
    assert driver.step_of(question)[0] == "birth_date"
    _, stored, _ = await application(running_bot.core, USER + 1)
    assert stored["name"] == "张三"


async def test_a_contact_card_of_someone_else_is_not_taken_as_the_applicants_mobile(running_bot, people):
    driver, question = await _expert_at(people, USER + 2, "mobile")
    await people.share_contact(USER + 2, "+86 139 0000 2222", own=False, first_name="李四")
    refused = await driver.next_prompt()
    assert "本人" in refused.text, refused.text
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "mobile"
    _, stored, _ = await application(running_bot.core, USER + 2)
    assert "mobile" not in stored
    await people.share_contact(USER + 2, "+86 139 0000 3333")
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "email"
    _, stored, _ = await application(running_bot.core, USER + 2)
    assert stored["mobile"] == "13900003333"


async def test_a_callback_with_an_out_of_range_or_negative_choice_index_is_refused(running_bot, people):
    driver, question = await _expert_at(people, USER + 3, "employer_type")
    valid = FormAction.unpack(question.callback_data("高新技术企业"))
    for index in (99, -1, -5):
        forged = FormAction(action="c", tok=valid.tok, i=index).pack()
        query = await people.press_button(USER + 3, question, data=forged)
        answer = await people.callback_answer(USER + 3, query)
        assert "已过期" in answer["text"] or "无效" in answer["text"], answer
    await asyncio.sleep(0.5)
    _, stored, _ = await application(running_bot.core, USER + 3)
    assert "employer_type" not in stored
    await _no_apology_and_short(people, USER + 3)


async def test_a_double_tap_on_consent_role_and_choice_buttons_is_not_an_error(running_bot, people):
    user = USER + 4
    driver = ChatDriver(people, user)
    await people.send_text(user, "/start")
    await driver.next_message()
    notice = await driver.next_message()
    data = notice.callback_data("同意并继续")
    await people.press_button(user, notice, data=data)
    await people.press_button(user, notice, data=data)
    roles = await driver.next_prompt()
    role_data = roles.callback_data("我是企业专家（申请产业兼职教师）")
    await people.press_button(user, roles, data=role_data)
    await people.press_button(user, roles, data=role_data)
    await asyncio.sleep(1.5)
    await _no_apology_and_short(people, user)


async def test_after_cancel_the_next_text_is_not_taken_as_an_answer(running_bot, people):
    driver, question = await _expert_at(people, USER + 5, "name")
    await people.send_text(USER + 5, "/cancel")
    assert "已暂停" in (await driver.next_message()).text
    reply = await driver.say("张三")
    assert "/start" in reply.text and "暂停" in reply.text
    _, stored, _ = await application(running_bot.core, USER + 5)
    assert "name" not in stored
    await people.send_text(USER + 5, "/start")
    assert "欢迎回来" in (await driver.next_message()).text
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "name"
    question = await driver.say("张三")
    assert driver.step_of(question)[0] == "birth_date"


async def test_a_contact_at_the_email_question_is_told_what_the_question_wants(running_bot, people):
    driver, question = await _expert_at(people, USER + 6, "email")
    await people.share_contact(USER + 6, "+86 139 0000 1111")
    reply = await driver.next_prompt()
    assert "电子邮箱" in reply.text and "按钮" not in reply.text, reply.text
    await people.send_document(USER + 6, b"%PDF-1.4 x", "a.pdf", "application/pdf")
    reply = await driver.next_prompt()
    assert "电子邮箱" in reply.text and "按钮" not in reply.text, reply.text


async def test_a_pressed_choice_shows_what_was_picked_and_loses_its_buttons(running_bot, people):
    driver, question = await _expert_at(people, USER + 7, "employer_type")
    following = await driver.press(question, "高新技术企业")
    assert driver.step_of(following)[0] == "years_at_employer"
    answered = next(m for m in await people.bot_messages(USER + 7) if m.message_id == question.message_id)
    assert answered.buttons == [] and "高新技术企业" in answered.text


async def test_going_back_offers_to_keep_the_current_answer(running_bot, people):
    driver, question = await _expert_at(people, USER + 8, "email")
    back = await driver.press(question, "⬅️ 上一步")
    assert driver.step_of(back)[0] == "mobile" and "当前答案：13812345678" in back.text
    kept = await driver.press(back, "保留当前答案")
    assert driver.step_of(kept)[0] == "email"
    _, stored, _ = await application(running_bot.core, USER + 8)
    assert stored["mobile"] == "13812345678"


async def test_the_apology_says_this_last_message_needs_sending_again(running_bot, people, monkeypatch):
    driver, question = await _expert_at(people, USER + 9, "name")
    intake = running_bot.core.intake

    async def database_down(**_):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(intake, "answer", database_down)
    reply = await driver.say("张三")
    assert "这一条没有保存" in reply.text and "重新发送" in reply.text, reply.text


async def test_the_review_page_shows_a_long_answer_whole(running_bot, people):
    profile = ("二十年产品研发经验，长期运用 TRIZ 解决工程难题。" * 40)[:1000]
    driver = ChatDriver(people, USER + 10)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    review = await driver.fill(question, {**EXPERT_ANSWERS, "profile": profile})
    pages = [m.text for m in await people.bot_messages(USER + 10) if m.message_id <= review.message_id]
    assert profile in review.text or profile in "".join(pages[-3:]), review.text[-200:]
    assert "…" not in review.text
    assert all(len(page) <= LIMIT for page in pages)
