"""`innoeng sample` people in the stand-in `innoeng run` starts: a newcomer opens the chat page as the user id
the command printed and answers a matching proposal as that expert or university contact, without filling
both questionnaires by hand first."""
from __future__ import annotations

import asyncio

import pytest

from bot.factory import create_bot
from bot.main import run_polling
from bot.sandbox import SandboxClient, SandboxServer
from core.bootstrap import bootstrap
from core.sample import SAMPLE_TELEGRAM_IDS, populate
from notifier.main import run_notifier
from tests.e2e.bot.conftest import DEADLINE, STAFF_ID
from tests.support.chat import ChatDriver


@pytest.fixture
async def service(database_url, settings_for, tmp_path):
    settings = settings_for(database_url, default_batch_deadline=DEADLINE, staff_telegram_ids=[STAFF_ID],
                            notifier_poll_interval_s=0.2)
    core = bootstrap(settings)
    await core.prepare()
    # As `innoeng run` starts it: resumable, its chats kept in the data folder.
    stand_in = await SandboxServer("127.0.0.1", 0, resumable=True, state_file=tmp_path / "chats.json").start()
    bot = create_bot(stand_in.token, stand_in.base_url)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_polling(core, bot, stop)), asyncio.create_task(run_notifier(core, bot=bot, stop=stop))]
    try:
        async with SandboxClient(stand_in.base_url) as people:
            yield core, people
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        await bot.session.close()
        await stand_in.stop()
        await core.close()


async def test_a_sample_pair_is_answered_in_the_stand_in_as_the_printed_user_ids(service):
    core, people = service
    result = await populate(people=core.people, intake=core.intake, experts=8, universities=2, seed=7, telegram=True)
    assert [p.telegram_id for p in result.people] == list(SAMPLE_TELEGRAM_IDS[:10])
    who = {p.application_id: p for p in result.people}
    for application_id in result.experts + result.universities:
        summary = await core.intake.summary(application_id=application_id)
        if summary.eligibility and summary.eligibility.outcome == "pass":
            await core.review.approve(application_id=application_id, staff="staff:test")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:test", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:test")
    assert run.proposals, "the sample gave no pair to answer"
    proposal = run.proposals[0]
    expert, university = who[proposal.expert_application_id], who[proposal.university_application_id]

    # Nobody has written as them: the notifications reach them all the same.
    approved = await ChatDriver(people, expert.telegram_id).wait_for(lambda m: "已通过审核" in m.text)
    assert expert.name in approved.text or "编号" in approved.text
    offer = await ChatDriver(people, expert.telegram_id).wait_for(
        lambda m: "匹配结果" in m.text and proposal.course in m.text)
    await people.press_button(expert.telegram_id, offer, "✅ 接受")
    reply = await ChatDriver(people, expert.telegram_id).wait_for(lambda m: "已记录您的答复" in m.text)
    assert university.organization in reply.text and f"《{proposal.course}》" in reply.text, reply.text

    contact = ChatDriver(people, university.telegram_id)
    offer = await contact.wait_for(lambda m: "匹配结果" in m.text and proposal.course in m.text and expert.name in m.text)
    await people.press_button(university.telegram_id, offer, "✅ 确认")
    both = await contact.wait_for(lambda m: "已记录您的答复" in m.text)
    assert "双方均已确认" in both.text and expert.name in both.text, both.text
    assert (await core.appointments.get(staff="test", appointment_id=proposal.appointment_id)).status == "accepted"

    # /start as a sample person is where they stand, as for someone who applied in the chat.
    await people.send_text(expert.telegram_id, "/start")
    status = await ChatDriver(people, expert.telegram_id).wait_for(lambda m: True)
    assert "请选择您的身份" not in status.text and "个人信息" not in status.text, status.text
