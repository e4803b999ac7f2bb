"""The resource pool and the university intents in the console: filters and the xlsx downloads."""
from __future__ import annotations

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from core.services.queue import POOL_COLUMNS
from tests.support.factories import approved_expert, submitted_expert, submitted_university


@pytest.fixture(params=["postgresql", "sqlite"])
def console_backend(request) -> str:
    """The pool's JSON filters are written per database: both are run through the page."""
    return request.param


def test_filter_the_pool_and_download_the_xlsx(console_server, page, phone_page, staff_account, login, screenshot):
    async def populate(core):
        await approved_expert(core, name="吴教授级高工", courses=["技术创新方法"], teaching_mode="both",
                              offline_provinces=["浙江", "上海"], society_member=True,
                              priority_conditions=["core_technology"], priority_description="掌握精密减速器核心技术")
        await approved_expert(core, name="郑总监", courses=["创新思维"], province="四川")
        await approved_expert(core, name="冯经理", courses=["技术创新方法"], province="湖北")
        await submitted_expert(core, name="尚未审核", courses=["技术创新方法"])
        await submitted_university(core, {"技术创新方法": (24, 2, "offline"), "创新管理": (16, 1, "online")},
                                   university_name="浙东工业大学", province="浙江")

    console_server.call(populate)
    login(page, staff_account("reviewer"))

    page.goto(console_server.url("/pool"))
    rows = page.locator("table.pool tbody tr")
    expect(rows).to_have_count(3)  # approved experts only
    expect(rows.first).to_contain_text("吴教授级高工")  # highest priority score first
    screenshot(page, "pool")

    page.select_option("select[name=course]", "技术创新方法")
    page.select_option("select[name=province]", "浙江")  # finds who would teach there offline
    page.click("form.filters button.primary")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("吴教授级高工")

    with page.expect_download() as download:
        page.click("a:has-text('导出 Excel')")
    book = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    table = list(book.active.iter_rows(values_only=True))
    assert table[0] == POOL_COLUMNS
    assert [row[1] for row in table[1:]] == ["吴教授级高工"]  # the export carries the page's filters
    assert table[1][POOL_COLUMNS.index("线下授课省份")] == "上海、浙江"  # in the form's order of provinces

    page.goto(console_server.url("/intents"))
    intents = page.locator("table.intents tbody tr")
    expect(intents).to_have_count(1)
    expect(intents.first).to_contain_text("技术创新方法（24 学时，2 人，线下）")
    screenshot(page, "intents")
    with page.expect_download() as download:
        page.click("a:has-text('导出 Excel')")
    intent_rows = list(openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert [(r[1], r[10]) for r in intent_rows[1:]] == [("浙东工业大学", "技术创新方法"), ("浙东工业大学", "创新管理")]

    login(phone_page, staff_account("reviewer"))
    phone_page.goto(console_server.url("/pool"))
    expect(phone_page.locator("table.pool tbody tr")).to_have_count(3)
    screenshot(phone_page, "pool_phone")
