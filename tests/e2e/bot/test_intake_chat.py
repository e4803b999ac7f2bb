"""Both questionnaires as chats, through a real aiogram Bot polling the stand-in over HTTP."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.db.models import Application, Base, Document
from core.sample import SAMPLE_PDF
from tests.e2e.bot.conftest import EXPERT_ANSWERS, UNIVERSITY_ANSWERS
from tests.support.chat import PROGRESS, ChatDriver

USER = 4242


async def begin(driver: ChatDriver, role_label: str, *, first_reply_timeout: float = 10):
    await driver.people.send_text(driver.user_id, "/start")
    welcome = await driver.next_message(timeout=first_reply_timeout)
    assert "创新工程学分会" in welcome.text
    notice = await driver.next_message()
    assert "个人信息处理告知" in notice.text and notice.buttons == ["同意并继续", "不同意"]
    roles = await driver.press(notice, "同意并继续")
    return await driver.press(roles, role_label)


async def application(core, user_id: int):
    async with core.uow() as uow:
        person = await uow.people.get_by_telegram_id(user_id)
        app = await uow.session.scalar(select(Application).where(Application.person_id == person.id))
        return app.status, dict(app.answers), app.cursor


async def test_no_question_before_consent(running_bot, people):
    driver = ChatDriver(people, USER)
    await people.send_text(USER, "/start", first_name="丰年", last_name="欧阳")
    await driver.next_message()
    notice = await driver.next_message()
    declined = await driver.press(notice, "不同意")
    assert "不会收集" in declined.text
    reply = await driver.say("张三")
    assert "发送 /start 开始填写" in reply.text
    assert await running_bot.core.people.get_by_telegram_id(telegram_id=USER) is not None
    assert not (await running_bot.core.people.get_by_telegram_id(telegram_id=USER)).consented
    # Nothing personal kept after 不同意: the Telegram id (to know the answer) and no name, in any table.
    async with running_bot.core.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for row in (await uow.session.execute(select(table))).all():
                assert not any(fragment in str(row) for fragment in ("丰年", "欧阳", "张三")), (table.name, row)


async def test_expert_form_end_to_end_with_bad_input_back_and_edit(running_bot, people):
    core = running_bot.core
    driver = ChatDriver(people, USER)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    assert question.text.startswith("第 1/") and "姓名" in question.text

    # text too short, then fine
    refused = await driver.say("张")
    assert "至少需要 2 个字" in refused.text
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "name"
    question = await driver.say("张三")

    # date in a format nobody should use, then a Chinese one
    refused = await driver.say("去年六月")
    assert "无法识别的日期" in refused.text
    question = await driver.say("1975年6月1日")
    assert driver.step_of(question)[0] == "mobile"
    assert question.text.startswith("第 3/")

    # a phone number that is not one; then share the contact with the reply button
    refused = await driver.say("12345")
    assert "不是有效的中国大陆手机号" in refused.text
    question = await driver.next_prompt()
    await people.share_contact(USER, "+86 139 0000 1111")
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "email"

    # back to the phone question, and answer it again by typing
    question = await driver.press(question, "⬅️ 上一步")
    assert driver.step_of(question)[0] == "mobile" and "当前答案：13900001111" in question.text
    question = await driver.say("+86 138-1234-5678")

    refused = await driver.say("zhangsan@")
    assert "不是有效的电子邮箱" in refused.text
    question = await driver.say("zhangsan@example.com")
    assert driver.step_of(question)[0] == "province"

    # typed text where a button is expected: a hint, unless it names a choice
    refused = await driver.say("火星")
    assert "不是可选项" in refused.text and "请点击上方按钮" in refused.text
    question = await driver.next_prompt()
    question = await driver.answer(question, "北京")
    question = await driver.say("北京")
    question = await driver.say("某某科技有限公司")
    question = await driver.answer(question, "high_tech")
    refused = await driver.say("十年")
    assert "请输入一个整数" in refused.text
    question = await driver.say("１０")  # full-width digits

    answers = dict(EXPERT_ANSWERS)
    # duties: one pick is not enough
    while driver.step_of(question)[0] != "duties":
        question = await driver.answer(question, answers[driver.step_of(question)[0]])
    await people.press_button(USER, question, "承担微专业课程理论/实践授课")
    toggled = await people.next_edit(USER)
    assert "✅ 承担微专业课程理论/实践授课" in toggled.buttons
    refused = await driver.press(toggled, "完成")
    assert "请至少选择 2 项" in refused.text
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "duties" and "已选：承担微专业课程理论/实践授课" in question.text
    await people.press_button(USER, question, "与高校教师联合建设开发课程资源")
    toggled = await people.next_edit(USER)
    question = await driver.press(toggled, "完成")

    while "敏感个人信息" not in question.text:
        question = await driver.answer(question, answers[driver.step_of(question)[0]])

    # before the first certificate: a separate consent
    consent = question
    assert "敏感个人信息" in consent.text
    question = await driver.press(consent, "同意上传")
    assert driver.step_of(question)[0] == "proof_files"

    # a renamed executable, an oversized file, then a real PDF and a photo
    await people.send_document(USER, b"MZ\x90\x00\x03" + b"\x00" * 200, "证书.pdf", "application/pdf")
    refused = await driver.next_message()
    assert "不支持的文件类型" in refused.text
    await driver.next_prompt()
    await people.send_document(USER, b"%PDF-1.4" + b"0" * (21 * 1024 * 1024), "大文件.pdf", "application/pdf")
    refused = await driver.next_message(timeout=30)
    assert "文件过大" in refused.text and "20 MB" in refused.text
    question = await driver.next_prompt()
    await people.send_document(USER, SAMPLE_PDF, "学位证书.pdf", "application/pdf")
    receipt = await driver.next_message()
    assert "已收到第 1 份文件（学位证书.pdf）" in receipt.text
    await people.send_photo(USER, b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9", "职称.jpg")
    receipt = await driver.next_message()
    assert "已收到第 2 份文件" in receipt.text
    question = await driver.press(receipt, "完成")

    question = await driver.answer(question, answers["profile"])
    refused = await driver.press(question, "否")
    assert "必须确认后才能继续" in refused.text
    question = await driver.next_prompt()
    review = await driver.press(question, "是")

    assert "请核对您填写的《产业兼职教师申请意向表》" in review.text
    assert "手机号：13812345678" in review.text and "工作年限：10" in review.text
    assert "资质证明：已上传 2 份文件" in review.text

    # edit one answer from the review page; it comes back to the review page
    first_review = review
    line = next(n for n, text in enumerate(review.text.split("\n")[2:], start=1) if text.startswith(f"{n}. 职务/岗位"))
    question = await driver.press(review, f"✏️{line}")
    assert driver.step_of(question)[0] == "position" and "修改后将回到汇总页" in question.text
    review = await driver.say("首席专家")
    assert "职务/岗位：首席专家" in review.text

    receipt = await driver.press(review, "✅ 提交")
    assert "已提交！受理编号：E" in receipt.text and "资格初审：符合" in receipt.text

    status, stored, _ = await application(core, USER)
    assert status == "submitted"
    assert stored["mobile"] == "13812345678" and stored["years_at_employer"] == 10 and stored["position"] == "首席专家"
    async with core.uow() as uow:
        mimes = sorted((await uow.session.scalars(select(Document.mime))).all())
    assert mimes == ["application/pdf", "image/jpeg"]

    # the receipt's buttons are gone; the old review page's buttons have expired
    query = await people.press_button(USER, first_review, "✅ 提交")
    answer = await people.callback_answer(USER, query)
    assert "已过期" in answer["text"]


async def test_university_form_with_a_follow_up_per_course(running_bot, people):
    driver = ChatDriver(people, USER + 1, form="university")
    question = await begin(driver, "我是高校联系人（申报微专业建设意向）")
    hours = None
    bad_answers = {
        "planned_start": ("明年三月", ("无法识别的年月",)),
        "society_member_unit": ("看情况", ("请回答「是」或「否」", "请点击上方按钮")),
        "expected_students": ("八十", ("请输入一个整数",)),
    }
    message = question
    totals = []
    while PROGRESS.match(message.text):
        totals.append(int(PROGRESS.match(message.text)[2]))
        key, _ = driver.step_of(message)
        if key in bad_answers:
            bad, expected = bad_answers.pop(key)
            refused = await driver.say(bad)
            assert all(fragment in refused.text for fragment in expected), refused.text
            message = await driver.next_prompt()
            assert driver.step_of(message)[0] == key
            continue
        if key == "course_demand[产品创新方法].hours" and hours is None:
            hours = await driver.say("70")
            assert "不能大于 64" in hours.text and "一门课程总学时一般不超过 32 学时" in hours.text
            message = await driver.next_prompt()
            continue
        message = await driver.answer(message, UNIVERSITY_ANSWERS.get(key))
    assert bad_answers == {}
    # progress never moves backwards: the total only shrinks as answers rule questions out
    assert totals == sorted(totals, reverse=True) and totals[0] > totals[-1], totals
    assert "【产品创新方法】" not in message.text and "产品创新方法·学时：32" in message.text
    assert "创新管理·授课方式：线上线下均可" in message.text
    receipt = await driver.press(message, "✅ 提交")
    assert "意向表已受理" in receipt.text
    status, stored, _ = await application(running_bot.core, USER + 1)
    assert status == "submitted" and stored["course_demand[创新管理].experts_needed"] == 2


async def test_ten_answers_sent_at_once_are_taken_in_order(running_bot, people):
    driver = ChatDriver(people, USER + 2)
    await begin(driver, "我是企业专家（申请产业兼职教师）")
    burst = ["张三", "1975-06-01", "13812345678", "zs@example.com", "北京", "北京", "某某科技有限公司", "高新技术企业", "10", "总工程师"]
    for text in burst:
        await people.send_text(USER + 2, text)
    for _ in range(60):
        _, stored, cursor = await application(running_bot.core, USER + 2)
        if cursor == "education":
            break
        await asyncio.sleep(0.2)
    assert cursor == "education"
    assert stored == {
        "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "zs@example.com",
        "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
        "years_at_employer": 10, "position": "总工程师",
    }


async def test_the_same_update_delivered_twice_is_processed_once(running_bot, people):
    driver = ChatDriver(people, USER + 3)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    sent = await people.send_text(USER + 3, "张三")
    question = await driver.next_prompt()
    assert driver.step_of(question)[0] == "birth_date"
    await people.redeliver(sent["update_id"])
    await asyncio.sleep(1.5)
    later = [m for m in await people.bot_messages(USER + 3) if m.message_id > question.message_id]
    assert later == []
    _, stored, cursor = await application(running_bot.core, USER + 3)
    assert stored == {"name": "张三"} and cursor == "birth_date"


async def test_a_wrong_role_is_undone_from_the_first_questions_back_button(running_bot, people):
    driver = ChatDriver(people, USER)
    question = await begin(driver, "我是企业专家（申请产业兼职教师）")
    assert "⬅️ 上一步" in question.buttons
    roles = await driver.press(question, "⬅️ 上一步")
    university = [label for label in roles.buttons if "高校" in label]
    assert university, roles.buttons
    question = await driver.press(roles, university[0])
    assert question.text.startswith("第 1/") and "姓名" not in question.text
    core = running_bot.core
    async with core.uow() as uow:
        person = await uow.people.get_by_telegram_id(USER)
        forms = (await uow.session.scalars(select(Application.form).where(Application.person_id == person.id))).all()
    assert forms == ["university"]  # the untouched expert draft went with the change
