"""A whole batch through the bot and the notifier: applications and an intent in, recommendations out,
a ranking, two matching runs around a decline, publicity staff start (over a weekend), agreement, filing export."""
from __future__ import annotations

import asyncio
import io
import re
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import select

from bot.factory import create_bot
from bot.main import run_polling
from core.bootstrap import bootstrap
from notifier.main import run_notifier
from tests.conftest import FrozenClock
from tests.e2e.bot.conftest import EXPERT_ANSWERS, STAFF_ID, UNIVERSITY_ANSWERS
from tests.support.staff import linked_staff
from tests.e2e.bot.test_intake_chat import begin
from tests.support.chat import ChatDriver
from tests.support.outbox import received_messages
from tests.support.smtp_server import scripted_smtp_server

EXPERTS = {
    6001: {**EXPERT_ANSWERS, "name": "甲专家", "email": "jia@example.com", "courses": ["创新思维"], "teaching_mode": "online",
           "priority_conditions": [], "society_member": False},
    6002: {**EXPERT_ANSWERS, "name": "乙专家", "email": "yi@example.com", "courses": ["创新思维"], "teaching_mode": "online",
           "priority_conditions": [], "society_member": False},
    6003: {**EXPERT_ANSWERS, "name": "丙专家", "email": "bing@example.com", "courses": ["创新管理"], "teaching_mode": "online",
           "priority_conditions": [], "society_member": False},
}
UNIVERSITY_ID = 6100
UNIVERSITY = {
    **UNIVERSITY_ANSWERS, "courses": ["创新思维", "产品创新方法", "创新管理"],
    "course_demand[创新思维].hours": "32", "course_demand[创新思维].experts_needed": "1", "course_demand[创新思维].mode": "online",
    "course_demand[创新管理].hours": "16", "course_demand[创新管理].experts_needed": "1", "course_demand[创新管理].mode": "online",
    # Nobody in the pool teaches 产品创新方法: its slot stays unfilled, and staff must read which one it is.
    "course_demand[产品创新方法].hours": "24", "course_demand[产品创新方法].experts_needed": "1",
    "course_demand[产品创新方法].mode": "online",
    "schedule_preference": ["weekend_intensive"],
}


async def wait_for(people, user_id: int, predicate, timeout: float = 20):
    return await ChatDriver(people, user_id).wait_for(predicate, timeout)


async def run_matching(people, *, run_number: int):
    """/match as staff use it: pick the batch, read what the run would take, say go; returns the run's summary."""
    await people.send_text(STAFF_ID, "/match")
    ask = await wait_for(people, STAFF_ID, lambda m: "对哪个批次运行匹配" in m.text)
    assert ask.buttons and ask.buttons[0].startswith("第一批（报名截止 2027-01-31）")
    await people.press_button(STAFF_ID, ask, ask.buttons[0])
    prompt = await wait_for(people, STAFF_ID, lambda m: "确认运行" in m.text)
    assert "资源库专家 3 位" in prompt.text and "课程需求 3 项共 3 个名额" in prompt.text
    await people.press_button(STAFF_ID, prompt, "▶️ 运行匹配")
    return await wait_for(people, STAFF_ID, lambda m: f"第 {run_number} 次匹配" in m.text)


@pytest.fixture
def smtp():
    with scripted_smtp_server() as controller:
        yield controller


@pytest.fixture
async def batch_service(database_url, settings_for, stand_in, smtp):
    # Thursday 2026-12-03, 10:00 Beijing time.
    clock = FrozenClock(datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc))
    settings = settings_for(
        database_url, default_batch_deadline="2027-01-31", staff_telegram_ids=[STAFF_ID], smtp_host="127.0.0.1",
        smtp_port=smtp.port, smtp_start_tls=False, mail_from="innoeng@innoeng.test", notifier_poll_interval_s=0.2,
    )
    core = bootstrap(settings, clock=clock)
    await core.prepare()
    await linked_staff(core, STAFF_ID, "coordinator")  # runs matching and publicity (core.domain.permissions)
    bot = create_bot(stand_in.token, stand_in.base_url)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_polling(core, bot, stop)), asyncio.create_task(run_notifier(core, bot=bot, stop=stop, clock=clock))]
    try:
        yield core, clock
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        await bot.session.close()
        await core.close()


async def test_a_batch_from_submission_to_filing(batch_service, people, smtp):
    core, clock = batch_service
    staff = ChatDriver(people, STAFF_ID)

    # Experts apply through the bot; staff approve them from /pending.
    for user_id, answers in EXPERTS.items():
        driver = ChatDriver(people, user_id)
        review = await driver.fill(await begin(driver, "我是企业专家（申请产业兼职教师）"), answers)
        await people.press_button(user_id, review, "✅ 提交")
        # One receipt per channel: the bot's reply, or the notifier's Telegram copy if it went out first.
        await driver.wait_for(lambda m: "已提交！受理编号" in m.text or "已收到您提交的" in m.text)
    await people.send_text(STAFF_ID, "/pending")
    await staff.next_message()
    for card in await people.collect_messages(STAFF_ID, 3):
        await people.press_button(STAFF_ID, card, "✅ 通过")
        assert "审核通过" in (await wait_for(people, STAFF_ID, lambda m: "已处理" in m.text)).text

    # The university submits its intent and is told who is recommended, by Telegram and by e-mail.
    university = ChatDriver(people, UNIVERSITY_ID, form="university")
    review = await university.fill(await begin(university, "我是高校联系人（申报微专业建设意向）"), UNIVERSITY)
    await people.press_button(UNIVERSITY_ID, review, "✅ 提交")
    notice = await wait_for(people, UNIVERSITY_ID, lambda m: "推荐了产业兼职教师人选" in m.text)
    assert "《创新思维》" in notice.text and "《创新管理》" in notice.text

    # It ranks 乙 before 甲 for 创新思维 and wants 丙 for 创新管理; names stay hidden until a match is confirmed.
    await people.send_text(UNIVERSITY_ID, "/candidates")
    cards = []
    while True:
        message = await people.next_message(UNIVERSITY_ID, timeout=10)
        if message.text == "—":
            break
        if "推荐理由" in message.text:
            cards.append(message)
    assert len(cards) == 3 and not any("专家" in c.text and ("甲" in c.text or "乙" in c.text) for c in cards)
    codes = {re.search(r"专家 (E\d+)", c.text)[1]: c for c in cards}
    async with core.uow() as uow:
        ids = {answers["name"]: (await uow.applications.list_for_person((await uow.people.get_by_telegram_id(uid)).id))[0].id
               for uid, answers in EXPERTS.items()}
    for name in ("乙专家", "甲专家", "丙专家"):
        card = codes[f"E{ids[name]}"]
        await people.press_button(UNIVERSITY_ID, card, "👍 意向")
        edited = await people.next_edit(UNIVERSITY_ID)
        assert "意向（第" in edited.text

    # The expert's side: 丙 sees the university they were recommended to, and marks it 意向.
    await people.send_text(6003, "/universities")
    await wait_for(people, 6003, lambda m: "分会已把您推荐给以下高校" in m.text)
    option = await wait_for(people, 6003, lambda m: "当前标记" in m.text)
    assert UNIVERSITY["university_name"] in option.text and "《创新管理》" in option.text and "计划开课 2027-03" in option.text
    await people.press_button(6003, option, "👍 意向")
    assert "意向（第 1 位）" in (await people.next_edit(6003)).text
    await people.send_text(6001, "/universities")
    await wait_for(people, 6001, lambda m: "分会已把您推荐给以下高校" in m.text)

    # Staff run the matching: /match asks which batch, shows what the run would take, runs only on "go".
    summary = await run_matching(people, run_number=1)
    assert "填补 2/3" in summary.text and "乙专家" in summary.text and "丙专家" in summary.text
    assert f"未填补：{UNIVERSITY['university_name']}《产品创新方法》缺 1 人" in summary.text
    assert not re.search(r"u\d+《d\d+》", summary.text)
    # Pairs are numbered from 1 within the run, whatever their ids in the database.
    assert re.search(r"^1\. ", summary.text, re.M) and re.search(r"^2\. ", summary.text, re.M)
    await people.press_button(STAFF_ID, summary, "✅ 确认并通知双方")
    assert "已通知 2 对" in (await wait_for(people, STAFF_ID, lambda m: "已确认" in m.text)).text

    offer_yi = await wait_for(people, 6002, lambda m: "匹配结果" in m.text)
    await people.press_button(6002, offer_yi, "❌ 谢绝")
    await wait_for(people, 6002, lambda m: "谢绝的原因" in m.text)
    await people.send_text(6002, "本学期时间冲突")
    assert "谢绝" in (await wait_for(people, 6002, lambda m: "已记录您的答复" in m.text)).text

    offer_bing = await wait_for(people, 6003, lambda m: "匹配结果" in m.text)
    # The expert hears what they need to decide, addressed as one would address them.
    assert "丙专家老师，您好" in offer_bing.text and "专家 丙专家" not in offer_bing.text
    for fragment in (UNIVERSITY["university_name"], "《创新管理》，16 学时，线上授课", "计划开课：2027年3月", "学生规模：约 80 人"):
        assert fragment in offer_bing.text, fragment
    await people.press_button(6003, offer_bing, "✅ 接受")
    await wait_for(people, 6003, lambda m: "已记录您的答复：接受" in m.text)
    offers = [await wait_for(people, UNIVERSITY_ID, lambda m: "匹配结果" in m.text) for _ in range(2)]
    management = next(o for o in offers if "创新管理" in o.text)
    assert "专家：丙专家" in management.text and "相关工作" in management.text and "优先条件：无" in management.text
    async with core.uow() as uow:
        from core.db.models import MatchProposal
        terms = (await uow.session.scalars(select(MatchProposal.terms))).all()
    assert any("专家将该校排在第1位" in str(t) for t in terms)  # 丙's own ranking went into the run
    await people.press_button(UNIVERSITY_ID, management, "✅ 确认")
    both = await wait_for(people, UNIVERSITY_ID, lambda m: "已记录您的答复" in m.text)
    # Both said yes: the branch publicises, so the contact hears that, not dates.
    assert "双方均已确认" in both.text and "分会将按规定安排公示" in both.text and "至" not in both.text

    # The second run keeps the accepted pair and proposes 甲, never 乙 again.
    summary = await run_matching(people, run_number=2)
    assert "甲专家" in summary.text and "乙专家" not in summary.text and "丙专家（" in summary.text and "（此前已确认）" in summary.text
    assert re.search(r"^1\. ", summary.text, re.M) and not re.search(r"^[3-9]\d*\. ", summary.text, re.M)
    # Staff look at the open pair by itself, hold it ("confirm all" then leaves it out), then confirm it alone.
    await people.press_button(STAFF_ID, summary, "🔎 逐对确认或暂缓")
    card = await wait_for(people, STAFF_ID, lambda m: "第 2 次匹配 · 第" in m.text)
    assert "甲专家" in card.text and "优先条件" in card.text
    await people.press_button(STAFF_ID, card, "⏸ 暂缓")
    assert "已暂缓" in (await wait_for(people, STAFF_ID, lambda m: "已暂缓" in m.text)).text
    await people.press_button(STAFF_ID, summary, "✅ 确认并通知双方")
    held = await wait_for(people, STAFF_ID, lambda m: "没有需要新确认" in m.text)
    assert "暂缓的 1 对未包含在内" in held.text
    await people.press_button(STAFF_ID, card, "✅ 确认此对")
    single = await wait_for(people, STAFF_ID, lambda m: "已确认第 2 次匹配的第" in m.text)
    assert "并通知双方" in single.text and "聘任编号" in single.text
    offer_jia = await wait_for(people, 6001, lambda m: "匹配结果" in m.text)
    await people.press_button(6001, offer_jia, "✅ 接受")
    thinking = await wait_for(people, UNIVERSITY_ID, lambda m: "匹配结果" in m.text and "创新思维" in m.text and "甲专家" in m.text)
    await people.press_button(UNIVERSITY_ID, thinking, "✅ 确认")
    await wait_for(people, UNIVERSITY_ID, lambda m: "分会将按规定安排公示" in m.text)

    # Staff see both pairs waiting, with the period a start tomorrow would give, and start them.
    await people.send_text(STAFF_ID, "/publicity")
    awaiting = await wait_for(people, STAFF_ID, lambda m: "待公示" in m.text)
    # Thursday: five working days from Friday, the weekend skipped.
    assert "待公示 2 对" in awaiting.text and "公示期为 2026-12-04 至 2026-12-10" in awaiting.text
    appointment_bing = int(re.search(r"［聘任编号 (\d+)］[^\n]*丙专家", awaiting.text)[1])
    appointment_jia = int(re.search(r"［聘任编号 (\d+)］[^\n]*甲专家", awaiting.text)[1])
    await people.send_text(STAFF_ID, f"/publicity start {appointment_bing} 999999")
    assert "没有找到聘任 999999" in (await staff.next_message()).text
    await people.send_text(STAFF_ID, f"/publicity start {appointment_bing} {appointment_jia}")
    started = await staff.next_message()
    assert "已开始公示 2 对" in started.text and "2026-12-04 至 2026-12-10" in started.text
    await people.send_text(STAFF_ID, f"/publicity start {appointment_bing}")
    assert "公示中" in (await staff.next_message()).text
    # Both sides hear the period from the notifier.
    await wait_for(people, UNIVERSITY_ID, lambda m: "进入公示" in m.text and "2026-12-04 至 2026-12-10" in m.text)
    await wait_for(people, 6003, lambda m: "进入公示" in m.text and "2026-12-04 至 2026-12-10" in m.text)

    await people.send_text(STAFF_ID, "/publicity")
    listing = await wait_for(people, STAFF_ID, lambda m: "拟聘名单公示" in m.text)
    assert f"［聘任编号 {appointment_bing}］" in listing.text and "待公示" not in listing.text
    sheet = await wait_for(people, STAFF_ID, lambda m: m.document is not None)
    rows = list(openpyxl.load_workbook(io.BytesIO(await people.download(sheet.document["file_id"]))).active.values)
    assert len(rows) == 3

    # No agreement before publicity ends; after it, agreement and filing.
    agreement = f"/agreement {appointment_bing} 2026-12-11 3 16 单位同意 创新管理课程讲授与实践指导"
    await people.send_text(STAFF_ID, agreement)
    assert "公示期满后才能签订协议" in (await staff.next_message()).text
    clock.now = datetime(2026, 12, 11, 2, 0, tzinfo=timezone.utc)
    await people.send_text(STAFF_ID, agreement)
    assert "已签订协议" in (await staff.next_message()).text
    await people.send_text(STAFF_ID, f"/filing {appointment_bing} 2026-12-15 江苏省教育厅")
    assert "已备案" in (await staff.next_message()).text
    await people.send_text(STAFF_ID, "/filingexport")
    export = await wait_for(people, STAFF_ID, lambda m: m.document is not None)
    book = openpyxl.load_workbook(io.BytesIO(await people.download(export.document["file_id"])))
    header, *data = list(book.active.values)
    record = dict(zip(header, data[0]))
    assert record["专家姓名"] == "丙专家" and record["聘任课程"] == "创新管理" and record["备案日期"] == "2026-12-15"
    assert record["聘期（年）"] == 3 and record["高校"] == UNIVERSITY["university_name"]

    # Both sides see where they stand; the e-mails went out through the real SMTP server.
    await people.send_text(6003, "/status")
    assert "已备案" in (await wait_for(people, 6003, lambda m: "匹配：" in m.text)).text
    for _ in range(100):
        subjects = [m["Subject"] for m in received_messages(smtp)]
        if any("拟聘公示" in s for s in subjects) and any("推荐的产业兼职教师人选" in s for s in subjects):
            break
        await asyncio.sleep(0.2)
    assert any("推荐的产业兼职教师人选" in s for s in subjects)
    assert any("匹配结果" in s for s in subjects)
    assert any("拟聘公示" in s for s in subjects)


async def test_a_university_that_submits_before_any_expert_is_approved_gets_candidates_later(batch_service, people):
    core, clock = batch_service
    university = ChatDriver(people, UNIVERSITY_ID, form="university")
    review = await university.fill(await begin(university, "我是高校联系人（申报微专业建设意向）"), UNIVERSITY)
    await people.press_button(UNIVERSITY_ID, review, "✅ 提交")
    await university.wait_for(lambda m: "受理编号" in m.text or "已收到您提交的" in m.text)

    # Nobody in the pool yet: the contact is told what happens next, never asked to submit again.
    await people.send_text(UNIVERSITY_ID, "/candidates")
    empty = await university.wait_for(lambda m: "资源库中暂时没有" in m.text)
    assert "提交意向表后" not in empty.text

    driver = ChatDriver(people, 6003)
    review = await driver.fill(await begin(driver, "我是企业专家（申请产业兼职教师）"), EXPERTS[6003])
    await people.press_button(6003, review, "✅ 提交")
    await driver.wait_for(lambda m: "已提交！受理编号" in m.text or "已收到您提交的" in m.text)
    await people.send_text(STAFF_ID, "/pending")
    card = await wait_for(people, STAFF_ID, lambda m: "丙专家" in m.text and "✅ 通过" in m.buttons)
    await people.press_button(STAFF_ID, card, "✅ 通过")
    await wait_for(people, STAFF_ID, lambda m: "已处理" in m.text)

    await people.send_text(UNIVERSITY_ID, "/candidates")
    header = await university.wait_for(lambda m: "《创新管理》需要 1 位专家" in m.text)
    assert header
    candidate = await university.wait_for(lambda m: "推荐理由" in m.text)
    assert "专家 E" in candidate.text and "丙专家" not in candidate.text
