"""Matching in the console: start a run, watch it solve, read the explanations, confirm two pairs, lift a cap."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from core.db.models import Appointment, AuditEntry, CapException
from tests.support.factories import approved_expert, submitted_university


async def populate(core) -> dict[str, int]:
    ids = {
        "甲": await approved_expert(core, name="甲专家", courses=["创新思维", "技术创新方法"], society_member=True),
        "乙": await approved_expert(core, name="乙专家", courses=["创新思维"]),
        "丙": await approved_expert(core, name="丙专家", courses=["创新管理"]),
    }
    await submitted_university(core, {"创新思维": (32, 1, "online"), "技术创新方法": (16, 1, "online")},
                               university_name="第一理工大学")
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online"),
                                      "产品创新方法": (16, 1, "online")}, university_name="第二师范大学")
    return ids


async def appointments(core) -> list[tuple[int, str]]:
    async with core.uow() as uow:
        return [(a.expert_application_id, a.status) for a in (await uow.session.scalars(select(Appointment))).all()]


async def cap_of(core, expert_id: int):
    async with core.uow() as uow:
        row = await uow.session.scalar(select(CapException).where(CapException.expert_application_id == expert_id))
        entry = await uow.session.scalar(select(AuditEntry).where(AuditEntry.action == "match.lift_cap"))
        return (row.max_universities, row.reason, row.granted_by, entry.actor) if row else None


def test_run_matching_read_explanations_confirm_two_pairs(console_server, page, phone_page, staff_account, login,
                                                          screenshot):
    experts = console_server.call(populate)
    coordinator = staff_account("coordinator")
    login(page, coordinator)

    page.goto(console_server.url("/matching"))
    screenshot(page, "matching")
    page.fill("input[name=time_limit]", "3")
    page.click("button:has-text('开始匹配')")
    # The progress page refreshes itself until the run is stored, then shows it.
    page.wait_for_url(re.compile(r"/matching/runs/\d+\?ok=run_done"), timeout=60_000)
    expect(page.locator(".flash")).to_contain_text("匹配计算完成")
    expect(page.locator(".figures")).to_contain_text("已证明的上界")
    proposals = page.locator("table.proposals tbody tr")
    expect(proposals).not_to_have_count(0)
    count = proposals.count()
    assert count >= 3

    # Every pair explains its score; the short one (产品创新方法: nobody teaches it) gives its reason.
    first = proposals.first
    first.locator("summary").click()
    expect(first.locator("ul.terms li").first).to_be_visible()
    unfilled = page.locator("table.unfilled tbody tr")
    expect(unfilled).to_have_count(1)
    expect(unfilled.first).to_contain_text("第二师范大学")
    screenshot(page, "run")

    # Confirming none is refused with the reason; then two chosen pairs are confirmed.
    page.click("button:has-text('确认所选配对')")
    expect(page.locator(".error")).to_contain_text("至少勾选一对")
    page.locator("input[name=proposal]").nth(0).check()
    page.locator("input[name=proposal]").nth(1).check()
    page.click("button:has-text('确认所选配对')")
    expect(page.locator(".flash")).to_contain_text("已确认匹配")
    made = console_server.call(appointments(console_server.core))
    assert len(made) == 2 and {status for _, status in made} == {"offered"}
    expect(page.locator("table.proposals tbody tr", has_text="已确认")).to_have_count(2)
    expect(page.locator("input[name=proposal]")).to_have_count(count - 2)

    # Lifting the 2-university cap for one expert needs a reason and is recorded under the staff member.
    page.goto(console_server.url("/matching"))
    page.fill("input[name=expert_application_id]", f"E01-{experts['甲']:06d}")
    page.fill("input[name=max_universities]", "3")
    page.fill("textarea[name=reason]", "该专家所在单位书面同意其承担三所高校课程")
    page.click("button:has-text('记录并放宽')")
    expect(page.locator(".flash")).to_contain_text("放宽")
    assert console_server.call(cap_of(console_server.core, experts["甲"])) == (
        3, "该专家所在单位书面同意其承担三所高校课程", coordinator.actor, coordinator.actor)
    expect(page.locator("table.runs tbody tr")).to_have_count(1)

    # The rest of the run confirmed at once.
    page.click("table.runs a")
    page.click("button:has-text('确认全部')")
    expect(page.locator(".flash")).to_contain_text("已确认匹配")
    made = console_server.call(appointments(console_server.core))
    assert len(made) == count and {status for _, status in made} == {"offered"}
    expect(page.locator("input[name=proposal]")).to_have_count(0)

    # An unknown run is the 404 page.
    page.goto(console_server.url("/matching/runs/424242"))
    expect(page.locator("h1")).to_have_text("找不到页面")

    login(phone_page, coordinator)
    phone_page.goto(console_server.url("/matching"))
    screenshot(phone_page, "matching_phone")


def test_the_progress_page_refreshes_until_the_run_is_stored(console_server, page, staff_account, login):
    from core.db.models import MatchingJob
    from core.services.matching_jobs import MatchingJobService

    async def begin(core):
        # A job a worker elsewhere is solving (on record as claimed, so the fixture's worker leaves it alone).
        jobs = MatchingJobService(uow=core.uow, zone=core.settings.zone, clock=core.clock)
        batch = await core.batches.current()
        now = core.clock()
        async with core.uow() as uow:
            uow.session.add(MatchingJob(id="a" * 32, batch_id=batch.id, staff="console:0", started_at=now,
                                        heartbeat_at=now, time_limit=10, worker="elsewhere", claimed_at=now,
                                        attempts=1, progress={"stage": "solving", "experts": 3, "demands": 2,
                                                              "slots": 2, "time_limit": 10}))
            await uow.commit()
        return jobs

    jobs = console_server.call(begin)
    login(page, staff_account("coordinator"))
    page.goto(console_server.url(f"/matching/jobs/{'a' * 32}"))
    expect(page.locator("p.notice")).to_contain_text("正在计算中")
    expect(page.locator("p.progress")).to_contain_text("正在求解：专家 3 位，课程需求 2 项共 2 个名额，时限 10 秒")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_attribute("content", "2")
    page.goto(console_server.url("/matching"))
    expect(page.locator("p.notice")).to_contain_text("正在计算")  # the overview names the running job
    # A failed run says why, stops refreshing and offers to start again.
    console_server.call(jobs.finish(job_id="a" * 32, error="本批次还没有可匹配的高校课程需求。"))
    page.goto(console_server.url(f"/matching/jobs/{'a' * 32}"))
    expect(page.locator(".error")).to_contain_text("本批次还没有可匹配的高校课程需求")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    expect(page.locator("button:has-text('重新开始匹配')")).to_be_visible()
    # An unknown job is the 404 page.
    page.goto(console_server.url(f"/matching/jobs/{'f' * 32}"))
    expect(page.locator("h1")).to_have_text("找不到页面")


def test_a_batch_with_nothing_to_match_says_so(console_server, page, staff_account, login):
    login(page, staff_account("coordinator"))
    page.goto(console_server.url("/matching"))
    page.click("button:has-text('开始匹配')")
    expect(page.locator(".error")).to_contain_text("没有可匹配的高校课程需求", timeout=30_000)


def test_a_pair_kept_from_an_earlier_run_shows_its_appointment_as_it_stands(console_server, page, staff_account,
                                                                            login):
    # Seen in the newcomer walkthrough: a second run listed pairs confirmed in the first as "已接受（固定）"
    # while neither side had answered yet.
    console_server.call(populate)
    login(page, staff_account("coordinator"))
    for run in (1, 2):
        page.goto(console_server.url("/matching"))
        page.fill("input[name=time_limit]", "3")
        page.click("button:has-text('开始匹配')")
        page.wait_for_url(re.compile(r"/matching/runs/\d+\?ok=run_done"), timeout=60_000)
        if run == 1:
            page.locator("input[name=proposal]").first.check()
            page.click("button:has-text('确认所选配对')")
            expect(page.locator(".flash")).to_contain_text("已确认匹配")
    [(_, status)] = console_server.call(appointments(console_server.core))
    assert status == "offered"
    kept = page.locator("table.proposals tbody tr", has=page.locator("a[href^='/appointments/']")).first
    expect(kept.locator('td[data-label="状态"]')).to_contain_text("待双方确认")
    expect(page.locator("table.proposals")).not_to_contain_text("已接受")
