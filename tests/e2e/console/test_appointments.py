"""Starting publicity, objections, agreements and filing in the console, and their spreadsheets."""
from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import select, update

from core.db.models import Appointment, AuditEntry
from core.exports import FILING_COLUMNS
from tests.support.factories import approved_expert, submitted_university


async def two_accepted_pairs(core) -> tuple[int, int]:
    """Two confirmed pairs both sides accepted (as they would in the bot): both wait for staff to start publicity."""
    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await approved_expert(core, name="杨专家", courses=["创新管理"])
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")},
                               university_name="华北科技大学")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:test", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:test")
    ids = []
    for proposal in sorted(run.proposals, key=lambda p: p.course != "创新思维"):
        expert = (await core.intake.get(application_id=proposal.expert_application_id)).person_id
        university = (await core.intake.get(application_id=proposal.university_application_id)).person_id
        await core.appointments.respond(appointment_id=proposal.appointment_id, person_id=expert, accept=True)
        view = await core.appointments.respond(appointment_id=proposal.appointment_id, person_id=university, accept=True)
        assert view.status == "accepted"
        ids.append(view.id)
    return ids[0], ids[1]


async def two_pairs_in_publicity(core) -> tuple[int, int]:
    """Both pairs' publicity started by staff; the first one's is moved into the past so that its agreement
    may be recorded today."""
    ids = await two_accepted_pairs(core)
    await core.appointments.start_publicity(appointment_ids=list(ids), staff="staff:test")
    today = core.clock().astimezone(core.settings.zone).date()
    async with core.uow() as uow:
        await uow.session.execute(update(Appointment).where(Appointment.id == ids[0]).values(
            publicity_starts_on=today - timedelta(days=14), publicity_ends_on=today - timedelta(days=7)))
        await uow.commit()
    return ids[0], ids[1]


async def publicity_audit(core) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        return [(e.subject, e.actor) for e in (await uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "appointment.publicity_start").order_by(AuditEntry.id))).all()]


async def row(core, appointment_id: int):
    async with core.uow() as uow:
        a = await uow.session.get(Appointment, appointment_id)
        actors = (await uow.session.scalars(select(AuditEntry.actor).where(
            AuditEntry.subject == f"appointment:{appointment_id}", AuditEntry.actor.like("console:%")))).all()
        return a.status, a.objections, a.agreement, a.filed_on, set(actors)


def read_xlsx(download) -> list[tuple]:
    with open(download.value.path(), "rb") as handle:
        return list(openpyxl.load_workbook(io.BytesIO(handle.read())).active.iter_rows(values_only=True))


def test_staff_start_publicity_from_the_list_seeing_its_end_date_and_from_a_pair(console_server, page, phone_page,
                                                                                staff_account, login, screenshot):
    thinking, management = console_server.call(two_accepted_pairs)
    service = console_server.core.appointments
    coordinator = staff_account("coordinator")
    login(page, coordinator)
    today = console_server.core.clock().astimezone(console_server.core.settings.zone).date()

    # The list shows the pairs awaiting publicity and the period a start on the next working day gives.
    page.goto(console_server.url("/appointments"))
    card = page.locator("section.publicity-start")
    expect(card.locator("h2")).to_have_text("待公示（2 对）")
    expect(card.locator("table.awaiting tbody tr")).to_have_count(2)
    default = service.publicity_preview()
    expect(card.locator(".publicity-period")).to_contain_text(
        f"{default.starts_on}（周{'一二三四五六日'[default.starts_on.weekday()]}）至 {default.ends_on}")
    expect(card.locator(".publicity-period")).to_contain_text(f"共 {default.working_days} 个工作日")
    expect(card.locator("input[name=starts_on][type=date]")).to_have_value(default.starts_on.isoformat())
    # The start date keeps a date's width, its button beside it, instead of stretching across the card.
    date_box = card.locator("input[name=starts_on][type=date]").bounding_box()
    button_box = card.locator("button:has-text('计算公示期')").bounding_box()
    assert date_box["width"] < 260 < card.bounding_box()["width"] / 2, (date_box, card.bounding_box())
    assert 0 <= button_box["x"] - (date_box["x"] + date_box["width"]) < 40, (date_box, button_box)

    # Another start: the page computes its end date before anything starts.
    chosen = service.publicity_preview(starts_on=today + timedelta(days=10))
    card.locator("input[name=starts_on][type=date]").fill((today + timedelta(days=10)).isoformat())
    card.locator("button:has-text('计算公示期')").click()
    card = page.locator("section.publicity-start")
    expect(card.locator(".publicity-period")).to_contain_text(f"{chosen.starts_on}")
    expect(card.locator(".publicity-period")).to_contain_text(f"至 {chosen.ends_on}")
    expect(card.locator("button.primary")).to_have_text(f"开始公示（{chosen.starts_on} 至 {chosen.ends_on}）")
    # A start in the past is refused with the reason; the period falls back to the default.
    page.goto(console_server.url(f"/appointments?starts_on={(today - timedelta(days=1)).isoformat()}"))
    expect(page.locator(".error")).to_contain_text("已经过去")
    page.goto(console_server.url(f"/appointments?starts_on={(today + timedelta(days=10)).isoformat()}"))

    # Without the form's token, or by a reviewer, nothing starts.
    forged = page.request.post(console_server.url("/appointments/publicity"), max_redirects=0,
                               form={"appointment": str(thinking), "starts_on": default.starts_on.isoformat()})
    assert forged.status == 403
    context = page.context.browser.new_context(locale="zh-CN")
    try:
        other = context.new_page()
        login(other, staff_account("reviewer"))
        assert other.goto(console_server.url("/appointments")).status == 403
    finally:
        context.close()
    assert console_server.call(publicity_audit(console_server.core)) == []

    # Nothing ticked: refused, nothing started.
    page.click("section.publicity-start button.primary")
    expect(page.locator(".error")).to_contain_text("请至少选择一对")
    assert console_server.call(publicity_audit(console_server.core)) == []

    page.goto(console_server.url(f"/appointments?starts_on={(today + timedelta(days=10)).isoformat()}"))
    page.check(f"section.publicity-start input[name=appointment][value='{thinking}']")
    screenshot(page, "appointments_start_publicity")
    page.click("section.publicity-start button.primary")
    expect(page.locator(".flash")).to_contain_text("公示已开始")
    started = page.locator("table.appointments tbody tr", has_text="韩专家")
    expect(started).to_contain_text(f"{chosen.starts_on} 至 {chosen.ends_on}")
    expect(started).to_contain_text("公示中")
    view = console_server.call(service.get(appointment_id=thinking, staff="test"))
    assert (view.status, view.publicity_starts_on, view.publicity_ends_on) == ("publicity", chosen.starts_on, chosen.ends_on)
    assert console_server.call(publicity_audit(console_server.core)) == [(f"appointment:{thinking}", coordinator.actor)]
    page.goto(console_server.url("/appointments"))
    expect(page.locator("section.publicity-start h2")).to_have_text("待公示（1 对）")
    login(phone_page, coordinator)
    phone_page.goto(console_server.url("/appointments?status=accepted"))
    expect(phone_page.locator("section.publicity-start .publicity-period")).to_contain_text(f"至 {default.ends_on}")
    screenshot(phone_page, "appointments_start_publicity_phone")

    # The other pair from its own page, on the default start.
    page.goto(console_server.url(f"/appointments/{management}"))
    expect(page.locator("dl.answers")).to_contain_text("待分会开始公示")
    expect(page.locator(".publicity-period")).to_contain_text(f"{default.starts_on}")
    expect(page.locator(".publicity-period")).to_contain_text(f"至 {default.ends_on}")
    screenshot(page, "appointment_start_publicity")
    page.click(f"form[action='/appointments/{management}/publicity'] button")
    expect(page.locator(".flash")).to_contain_text("公示已开始")
    expect(page.locator("dl.answers")).to_contain_text(f"{default.starts_on} 至 {default.ends_on}")
    expect(page.locator("form[action$='/objection']")).to_be_visible()
    assert console_server.call(publicity_audit(console_server.core))[-1] == (f"appointment:{management}", coordinator.actor)
    page.goto(console_server.url("/appointments"))
    expect(page.locator("section.publicity-start")).to_have_count(0)


def test_publicity_objection_agreement_filing_and_their_lists(console_server, page, phone_page, staff_account, login,
                                                              screenshot):
    ended, running = console_server.call(two_pairs_in_publicity)
    coordinator = staff_account("coordinator")
    login(page, coordinator)
    today = console_server.core.clock().astimezone(console_server.core.settings.zone).date()

    page.goto(console_server.url("/appointments?status=publicity"))
    rows = page.locator("table.appointments tbody tr")
    expect(rows).to_have_count(2)
    running_view = console_server.call(console_server.core.appointments.get(staff="test", appointment_id=running))
    expect(page.locator("table.appointments tbody tr", has_text="杨专家")).to_contain_text(
        f"{running_view.publicity_starts_on} 至 {running_view.publicity_ends_on}")
    screenshot(page, "appointments")
    with page.expect_download() as download:
        page.click("a:has-text('公示名单 Excel')")
    publicity = read_xlsx(download)
    assert sorted(r[2] for r in publicity[1:]) == ["杨专家", "韩专家"]

    # An objection during publicity, recorded as pending, shows on the pair and in the list.
    page.goto(console_server.url(f"/appointments/{running}"))
    expect(page.locator("dl.answers")).to_contain_text(f"{running_view.publicity_ends_on}")
    expect(page.locator("dl.answers")).to_contain_text("个工作日")
    page.fill("form[action$='/objection'] textarea[name=note]", "有人反映该专家本学期兼职时间不足")
    page.click("button:has-text('登记异议')")
    expect(page.locator(".flash")).to_contain_text("异议")
    expect(page.locator("ol.objections")).to_contain_text("待处理：有人反映该专家本学期兼职时间不足")
    expect(page.locator("ol.objections")).to_contain_text(coordinator.name)
    # Its agreement is refused while publicity runs, with the reason.
    page.fill("input[name=signed_on]", today.isoformat())
    page.fill("input[name=term_years]", "3")
    page.fill("textarea[name=content]", "创新管理课程讲授")
    page.check("input[name=employer_consent]")
    page.click("button:has-text('登记协议')")
    expect(page.locator(".error")).to_contain_text("公示期满后")
    screenshot(page, "appointment_publicity")

    # The other pair's publicity is over: a 6-year term without employer consent is refused with both reasons,
    # and what was typed stays in the form.
    page.goto(console_server.url(f"/appointments/{ended}"))
    page.fill("input[name=signed_on]", today.isoformat())
    page.fill("input[name=term_years]", "6")
    page.fill("textarea[name=content]", "创新思维课程讲授与实践指导")
    page.click("button:has-text('登记协议')")
    expect(page.locator(".error")).to_contain_text("不超过 5 年")
    expect(page.locator(".error")).to_contain_text("单位同意")
    expect(page.locator("textarea[name=content]")).to_have_value("创新思维课程讲授与实践指导")
    page.fill("input[name=term_years]", "3")
    page.check("input[name=employer_consent]")
    page.click("button:has-text('登记协议')")
    expect(page.locator(".flash")).to_contain_text("协议已记录")
    status, _, agreement, _, _ = console_server.call(row(console_server.core, ended))
    assert status == "agreed" and agreement["term_years"] == 3 and agreement["recorded_by"] == coordinator.actor

    page.fill("input[name=filed_on]", today.isoformat())
    page.fill("form[action$='/filing'] textarea[name=note]", "已报省教育厅")
    page.click("button:has-text('登记备案')")
    expect(page.locator(".flash")).to_contain_text("备案已记录")
    status, _, _, filed_on, actors = console_server.call(row(console_server.core, ended))
    assert status == "filed" and filed_on == today and actors == {coordinator.actor}
    screenshot(page, "appointment_filed")

    page.goto(console_server.url("/appointments"))
    with page.expect_download() as download:
        page.click("a:has-text('备案表 Excel')")
    filing = read_xlsx(download)
    assert filing[0] == FILING_COLUMNS
    assert [(r[3], r[14], r[15]) for r in filing[1:]] == [("韩专家", today.isoformat(), "已报省教育厅")]

    page.goto(console_server.url("/appointments/777777"))
    expect(page.locator("h1")).to_have_text("找不到页面")

    login(phone_page, coordinator)
    phone_page.goto(console_server.url(f"/appointments/{running}"))
    screenshot(phone_page, "appointment_phone")
