"""Reviewing applications in the console, through a real browser on PostgreSQL."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from core.db.models import Application, OutboxMessage
from tests.support.factories import submitted_expert


def one_page_pdf(line: str) -> bytes:
    """A real one-page PDF showing `line`, so the inline preview has something to render."""
    stream = f"BT /F1 24 Tf 72 720 Td ({line}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def expert_with_pdf(core, *, name: str, **answers) -> int:
    from core.services import FINISH_FILES
    from tests.support.factories import EXPERT, _person

    person = await _person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, "name": name, **answers})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files",
                                      content=one_page_pdf("Degree certificate"), filename="学位证书.pdf")
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def outbox_for(core, application_id: int) -> list[tuple[str, str]]:
    async with core.uow() as uow:
        person_id = (await uow.session.get(Application, application_id)).person_id
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.person_id == person_id))).all()
        return [(row.kind, row.channel) for row in rows]


async def state_of(core, application_id: int) -> tuple[str, str | None, str | None]:
    async with core.uow() as uow:
        app = await uow.session.get(Application, application_id)
        return app.status, app.staff_message, app.reviewed_by


def test_review_queue_detail_with_pdf_and_the_three_decisions(console_server, page, phone_page, staff_account, login,
                                                              screenshot):
    first = console_server.call(lambda core: expert_with_pdf(core, name="陈工程师", courses=["创新思维", "创新管理"],
                                                             priority_conditions=["major_invention_patent"],
                                                             priority_description="发明专利 ZL2019 1 0000000.0"))
    second = console_server.call(lambda core: submitted_expert(core, name="刘研究员"))
    third = console_server.call(lambda core: submitted_expert(core, name="周高工", province="广东"))
    reviewer = staff_account("reviewer")
    login(page, reviewer)

    page.goto(console_server.url("/applications?status=submitted"))
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("陈工程师")
    screenshot(page, "review_queue")

    # Filters narrow the queue; a value the page cannot read is named, not a crash.
    page.select_option("select[name=province]", "广东")
    page.click("form.filters button.primary")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("周高工")
    page.goto(console_server.url("/applications?status=submitted&from=2025-13-01"))
    expect(page.locator(".error")).to_contain_text("提交日期（起）")
    expect(rows).to_have_count(3)

    # The first application: answers, rule-by-rule verdict, priority, the PDF shown in the page.
    page.goto(console_server.url("/applications?status=submitted"))
    page.click(f"a[href^='/applications/{first}?']>> nth=0")
    expect(page.locator("h1")).to_contain_text("陈工程师")
    expect(page.locator("dl.answers")).to_contain_text("某某科技有限公司")
    expect(page.locator("ul.rules li")).not_to_have_count(0)
    expect(page.locator("section.card", has_text="资格初审")).to_contain_text("优先分：")
    preview = page.locator("iframe.document-preview")
    expect(preview).to_have_count(1)
    document_url = preview.get_attribute("src")
    response = page.request.get(console_server.url(document_url))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.body().startswith(b"%PDF")
    # Only signed-in staff get the file: anyone else is sent to the login page.
    stranger = page.context.browser.new_context()
    try:
        refused = stranger.request.get(console_server.url(document_url), max_redirects=0)
        assert refused.status == 303 and "/login" in refused.headers["location"]
    finally:
        stranger.close()
    expect(page.locator("a[rel=next]")).to_have_attribute("href", re.compile(rf"^/applications/{second}\?"))
    # The browser's PDF viewer draws the file inside the frame (a strict CSP on the file kept it blank before).
    expect(page.frame_locator("iframe.document-preview").locator("body")).to_be_attached()
    page.wait_for_timeout(2500)
    screenshot(page, "application_detail")

    # Approve: the expert's notification is queued in the same transaction.
    page.click("button:has-text('审核通过')")
    expect(page.locator(".flash")).to_contain_text("已审核通过")
    assert console_server.call(state_of(console_server.core, first))[0] == "approved"
    assert ("review_approved", "email") in console_server.call(outbox_for(console_server.core, first))

    # Reject another with a reason. A blank reason (past the browser's own check) is refused with the rule.
    page.goto(console_server.url(f"/applications/{second}"))
    token = page.locator("form[action$='/reject'] input[name=csrf_token]").input_value()
    blank = page.request.post(console_server.url(f"/applications/{second}/reject"),
                              form={"csrf_token": token, "message": "   "})
    assert blank.status == 400 and "请填写原因" in blank.text()
    assert console_server.call(state_of(console_server.core, second))[0] == "submitted"
    page.fill("form[action$='/reject'] textarea", "工作年限证明与单位类型不符")
    page.click("button:has-text('不通过')")
    expect(page.locator(".flash")).to_contain_text("不通过")
    assert console_server.call(state_of(console_server.core, second)) == ("rejected", "工作年限证明与单位类型不符", reviewer.actor)
    assert any(kind == "review_rejected" for kind, _ in console_server.call(outbox_for(console_server.core, second)))
    expect(page.locator("ol.history")).to_contain_text("工作年限证明与单位类型不符")

    # Ask the third for more information.
    page.goto(console_server.url(f"/applications/{third}"))
    page.fill("form[action$='/request-info'] textarea", "请补充高级职称证书扫描件")
    page.click("button:has-text('请申请人补充')")
    expect(page.locator(".flash")).to_contain_text("补充材料")
    assert console_server.call(state_of(console_server.core, third))[:2] == ("needs_info", "请补充高级职称证书扫描件")
    # Decided applications offer no decision buttons any more.
    expect(page.locator("form[action$='/approve']")).to_have_count(0)

    # Another object's id is the 404 page: an unknown application, or a file through the wrong application.
    page.goto(console_server.url("/applications/987654"))
    expect(page.locator("h1")).to_have_text("找不到页面")
    assert page.request.get(console_server.url(f"/applications/{second}" + document_url.split(str(first), 1)[1])).status == 404

    # A reviewer reviews; matching and publicity are for coordinators.
    page.goto(console_server.url("/matching"))
    expect(page.locator("h1")).to_have_text("没有权限")

    login(phone_page, reviewer)
    phone_page.goto(console_server.url("/applications"))
    expect(phone_page.locator(".notice")).to_contain_text("没有符合条件")  # the queue opens on what waits: nothing now
    phone_page.goto(console_server.url("/applications?status=all"))
    expect(phone_page.locator("table.queue tbody tr")).to_have_count(3)
    screenshot(phone_page, "review_queue_phone")
    phone_page.goto(console_server.url(f"/applications/{first}"))
    screenshot(phone_page, "application_detail_phone")
