"""A bot process killed mid-form and a new one started; staff reviewing in the chat; people's own commands."""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from core.db.models import Application, AuditEntry, OutboxMessage
from tests.e2e.bot.conftest import EXPERT_ANSWERS, STAFF_ID
from tests.e2e.bot.test_intake_chat import application, begin
from tests.support.chat import ChatDriver

USER = 5151


async def submitted_expert(people, user_id: int, answers=EXPERT_ANSWERS) -> ChatDriver:
    driver = ChatDriver(people, user_id)
    first = await begin(driver, "我是企业专家（申请产业兼职教师）")
    review = await driver.fill(first, answers)
    receipt = await driver.press(review, "✅ 提交")
    assert "已提交" in receipt.text
    return driver


async def test_a_new_bot_process_resumes_the_form_and_old_buttons_expire(bot_process, people, live_core):
    first_process = bot_process()
    driver = ChatDriver(people, USER)
    # a process of its own starts in seconds, more on a loaded machine
    question = await begin(driver, "我是企业专家（申请产业兼职教师）", first_reply_timeout=60)
    question = await driver.fill(question, EXPERT_ANSWERS, until="employer_type")
    # An old client may still show the employer type buttons; their data is what a tap sends.
    stale, stale_data = question, question.callback_data("国家级重点企事业单位")
    question = await driver.answer(question, "high_tech")
    assert driver.step_of(question)[0] == "years_at_employer"
    first_process.kill()

    second = bot_process()
    try:
        # A button from before the restart: a short notice and the current question, no exception.
        query = await people.press_button(USER, stale, data=stale_data)
        answer = await people.callback_answer(USER, query, timeout=30)
        assert "已过期" in answer["text"]
        current = await driver.next_prompt(timeout=30)
        assert driver.step_of(current)[0] == "years_at_employer"

        review = await driver.fill(current, EXPERT_ANSWERS)
        assert "请核对" in review.text
        receipt = await driver.press(review, "✅ 提交")
        assert "已提交" in receipt.text
        status, answers, _ = await application(live_core, USER)
        assert status == "submitted" and answers["employer_type"] == "high_tech"
    finally:
        output = second.kill()
    assert "Traceback" not in output, output


async def test_returning_user_is_taken_back_to_the_same_question(running_bot, people):
    driver = ChatDriver(people, USER + 1)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    await driver.fill(question, EXPERT_ANSWERS, until="email")
    await people.send_text(USER + 1, "/cancel")
    paused = await driver.next_message()
    assert "已暂停" in paused.text
    await people.send_text(USER + 1, "/start")
    welcome_back = await driver.next_message()
    assert "欢迎回来" in welcome_back.text
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "email"


async def test_staff_approve_and_reject_from_the_chat(running_bot, people):
    core = running_bot.core
    await submitted_expert(people, USER + 2)
    await submitted_expert(people, USER + 3, {**EXPERT_ANSWERS, "name": "王五", "years_at_employer": "2"})

    staff = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, "/pending")
    header = await staff.next_message()
    assert "待审核共 2 份" in header.text
    first, second = await people.collect_messages(STAFF_ID, 2)
    assert "张三" in first.text and "资格初审：符合" in first.text
    assert "王五" in second.text and "不满 3 年" in second.text

    await people.press_button(STAFF_ID, first, "📎 查看材料")
    document = await staff.next_message()
    assert document.document is not None and document.text == "学位证书.pdf"

    done = await staff.press(first, "✅ 通过")
    assert "张三" in done.text and "审核通过" in done.text

    prompt = await staff.press(second, "❌ 不通过")
    assert "不通过的原因" in prompt.text
    done = await staff.say("在重点企业的工作年限不足 3 年")
    assert "王五" in done.text and "未通过审核" in done.text

    await people.send_text(USER + 3, "/status")
    status = await ChatDriver(people, USER + 3).next_message()
    assert "未通过审核" in status.text and "工作年限不足 3 年" in status.text
    # Anything typed after the decision shows where the application stands, not "how to begin".
    await people.send_text(USER + 3, "请问结果如何")
    again = await ChatDriver(people, USER + 3).next_message()
    assert "未通过审核" in again.text

    async with core.uow() as uow:
        kinds = sorted({m.kind for m in (await uow.session.scalars(select(OutboxMessage))).all()})
        actions = {a.action: a.actor for a in (await uow.session.scalars(select(AuditEntry))).all()}
    assert kinds == ["review_approved", "review_rejected", "submission_receipt"]
    assert actions["review.approved"] == f"staff:{STAFF_ID}" and actions["review.rejected"] == f"staff:{STAFF_ID}"


async def test_staff_can_ask_for_more_information_and_the_expert_resubmits(running_bot, people):
    expert = await submitted_expert(people, USER + 4)
    staff = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, "/pending")
    await staff.next_message()
    card = await staff.next_message()
    prompt = await staff.press(card, "📝 补充材料")
    assert "需要补充的内容" in prompt.text
    await staff.say("请补充高级职称证书")

    await people.send_text(USER + 4, "/edit")
    review = await expert.next_prompt()
    assert "请核对" in review.text
    receipt = await expert.press(review, "✅ 提交")
    assert "已提交" in receipt.text
    status, _, _ = await application(running_bot.core, USER + 4)
    assert status == "submitted"


async def test_non_staff_cannot_use_staff_commands_and_the_attempt_is_logged(running_bot, people):
    driver = ChatDriver(people, USER + 5)
    for command in ("/pending", "/stats"):
        await people.send_text(USER + 5, command)
        refused = await driver.next_message()
        assert refused.text == "您没有权限使用该命令。"
    async with running_bot.core.uow() as uow:
        attempts = [a.detail["attempted"] for a in (await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.denied"))).all()]
    assert attempts == ["/pending", "/stats"]


async def test_staff_stats(running_bot, people):
    await submitted_expert(people, USER + 6)
    staff = ChatDriver(people, STAFF_ID)
    await people.send_text(STAFF_ID, "/stats")
    stats = await staff.next_message()
    assert "专家申请：已提交，待审核 1" in stats.text and "专家省份：北京 1" in stats.text, stats.text
    # The pool per course is approved experts (as on the console's dashboard): a submitted one is not in it yet.
    assert "资源库专家（按课程，已通过审核）：无" in stats.text, stats.text

    core = running_bot.core
    async with core.uow() as uow:
        person = await uow.people.get_by_telegram_id(USER + 6)
        app_id = await uow.session.scalar(select(Application.id).where(Application.person_id == person.id))
    await core.review.approve(application_id=app_id, staff="staff:test")
    await people.send_text(STAFF_ID, "/stats")
    stats = await staff.next_message()
    assert "专家申请：审核通过 1" in stats.text and "资源库专家（按课程，已通过审核）：创新思维 1" in stats.text, stats.text


async def test_my_data_withdraw_and_delete(running_bot, people):
    driver = await submitted_expert(people, USER + 7)
    await people.send_text(USER + 7, "/mydata")
    export = await driver.next_message()
    data = json.loads(await people.download(export.document["file_id"]))
    assert data["person"]["mobile"] == "13812345678"
    assert data["applications"][0]["answers"]["姓名"] == "张三"

    await people.send_text(USER + 7, "/withdraw")
    confirm = await driver.next_message()
    done = await driver.press(confirm, "确定撤回")
    assert done.text == "已撤回。"
    status, _, _ = await application(running_bot.core, USER + 7)
    assert status == "withdrawn"

    await people.send_text(USER + 7, "/delete")
    confirm = await driver.next_message()
    done = await driver.press(confirm, "确定删除")
    assert "全部数据已删除（含 1 份文件）" in done.text
    assert await running_bot.core.people.get_by_telegram_id(telegram_id=USER + 7) is None


async def test_commands_are_registered(running_bot, people):
    for _ in range(50):
        registered = await people.commands()
        if registered:
            break
        await asyncio.sleep(0.1)
    default = next(entry for entry in registered if entry["scope"] in (None, {"type": "default"}))
    assert [c["command"] for c in default["commands"]] == ["start", "status", "candidates", "universities", "edit", "withdraw", "mydata", "delete", "cancel", "help"]
    staff = [entry for entry in registered if (entry["scope"] or {}).get("chat_id") == STAFF_ID]
    assert staff and "pending" in [c["command"] for c in staff[0]["commands"]]
