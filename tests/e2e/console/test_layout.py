"""Layout at 1280 px seen in the newcomer walkthrough: the admin's menu on one line, short values (a reference,
a name, a province, a time, a staff member) never broken inside a table cell (邵敏, not 邵 / 敏)."""
from __future__ import annotations

from datetime import datetime

from tests.e2e.console.conftest import expect
from core.db.models import AuditEntry
from tests.support.factories import submitted_expert


def _lines(locator) -> int:
    """How many lines the text of the element's first child node takes (one per line box)."""
    return locator.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el); "
        "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }")


def test_the_admin_menu_fits_on_one_line_at_1280_px(console_server, page, staff_account, login):
    login(page, staff_account("admin"))
    page.goto(console_server.url("/staff"))
    links = page.locator(".nav a")
    expect(links.last).to_have_text("设置")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1, tops


async def _waiting_and_audited(core):
    first = await submitted_expert(core, name="欧阳明华", province="黑龙江", employer="某某新能源汽车装备集团有限公司研究院")
    await submitted_expert(core, name="邵敏", province="广东", courses=["创新思维", "产品创新方法", "技术创新方法", "创新管理"])
    async with core.uow() as uow:
        uow.session.add(AuditEntry(at=datetime.now().astimezone(), actor="staff:test", action="appointment.objection",
                                   subject="appointment:1", detail={"outcome": "pending", "note": "异" * 3000}))
        await uow.commit()
    return first


def test_short_values_stay_on_one_line_in_the_queue_the_dashboard_and_the_audit_log(console_server, page,
                                                                                    staff_account, login):
    console_server.call(_waiting_and_audited)
    login(page, staff_account("coordinator"))
    page.goto(console_server.url("/applications"))
    row = page.locator("table tbody tr", has_text="欧阳明华")
    for label in ("编号", "姓名", "省份", "提交时间", "状态"):
        assert _lines(row.locator(f'td[data-label="{label}"]')) == 1, label
    page.goto(console_server.url("/"))
    waiting = page.locator("table.compact", has_text="已等").locator("tbody tr").first
    for cell in range(3):
        assert _lines(waiting.locator("td").nth(cell)) == 1, cell
    page.goto(console_server.url("/audit"))
    entry = page.locator("table tbody tr", has_text="appointment:1")
    for label in ("时间", "操作人"):
        assert _lines(entry.locator(f'td[data-label="{label}"]')) == 1, label


def test_on_a_phone_short_values_may_wrap_beside_their_label(console_server, phone_page, staff_account, login):
    # A stacked row leaves a value the width beside its label: a long state (此前已确认 · 聘任 1：待双方确认 on the
    # run page) kept on one line ran out of the card there.
    console_server.call(_waiting_and_audited)
    login(phone_page, staff_account("coordinator"))
    phone_page.goto(console_server.url("/applications"))
    state = phone_page.locator("table tbody tr", has_text="欧阳明华").locator('td[data-label="状态"]')
    assert state.evaluate("el => getComputedStyle(el).whiteSpace") == "normal"
    assert phone_page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_queue_search_shows_its_whole_example(console_server, page, staff_account, login):
    # Seen in the walkthrough: the placeholder read "如 张三 或 E01-0000" (cut) in the 150 px search field.
    login(page, staff_account("reviewer"))
    page.goto(console_server.url("/applications"))
    fits = page.locator("input[name=q]").evaluate(
        "el => { const s = getComputedStyle(el), c = document.createElement('canvas').getContext('2d');"
        " c.font = s.font; const text = c.measureText(el.placeholder).width;"
        " return text + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) <= el.clientWidth; }")
    assert fits
