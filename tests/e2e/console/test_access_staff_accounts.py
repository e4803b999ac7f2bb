"""Staff accounts through the browser: an admin adds one, the newcomer sets a password through the link and
logs in; disabling ends that person's session at once."""
from __future__ import annotations

import re

import pyotp
from tests.e2e.console.conftest import expect

from tests.e2e.console.conftest import PASSWORD, StaffLogin
from core.domain.staff import Role


def test_an_admin_adds_an_account_whose_link_sets_it_up_then_disables_it(console_server, browser, page, phone_page,
                                                                         staff_account, login, screenshot):
    admin = staff_account("admin")
    login(page, admin)
    page.goto(console_server.url("/staff"))
    expect(page.locator("#unlinked")).to_contain_text("900001")
    page.fill("#new-account input[name=email]", "newcomer@example.org")
    page.fill("#new-account input[name=name]", "孙新人")
    page.select_option("#new-account select[name=role]", "reviewer")
    page.click("#new-account button[type=submit]")
    link = page.locator("#setup-link .secret").inner_text().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:8090/setup/[\w-]{40,}", link), link
    screenshot(page, "staff")
    # The link shows once: reloading the list does not show it again.
    page.goto(console_server.url("/staff"))
    expect(page.locator("#setup-link")).to_have_count(0)
    expect(page.locator('#accounts tr[data-email="newcomer@example.org"]')).to_contain_text("待设置密码")

    # The newcomer opens the link in their own browser (the configured base URL points elsewhere in tests).
    newcomer_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    newcomer = newcomer_context.new_page()
    try:
        newcomer.goto(console_server.url(link.split("8090", 1)[1]))
        expect(newcomer.locator("h1")).to_have_text("设置工作人员账号")
        newcomer.fill("input[name=password]", "short")
        newcomer.fill("input[name=confirm]", "short")
        # The browser's own minlength check would stop the form; the server's refusal is what is tested.
        newcomer.evaluate("document.querySelectorAll('input[minlength]').forEach(i => i.removeAttribute('minlength'))")
        newcomer.click("button[type=submit].primary")
        expect(newcomer.locator(".error")).to_contain_text("密码太短")
        secret = newcomer.locator("#totp-secret").inner_text().replace(" ", "").strip()
        screenshot(newcomer, "setup")
        newcomer.fill("input[name=password]", PASSWORD)
        newcomer.fill("input[name=confirm]", PASSWORD)
        newcomer.check("input[name=enable_totp]")
        newcomer.fill("input[name=totp]", pyotp.TOTP(secret).now())
        newcomer.click("button[type=submit].primary")
        expect(newcomer.locator(".flash")).to_have_text("账号设置完成，请用新密码登录。")
        account_id = int(page.locator('#accounts tr[data-email="newcomer@example.org"]').get_attribute("id").split("-")[1])
        person = StaffLogin(id=account_id, email="newcomer@example.org", name="孙新人", role=Role.REVIEWER,
                            password=PASSWORD, totp_secret=secret)
        login(newcomer, person)
        expect(newcomer.locator(".who")).to_contain_text("孙新人（审核员）")

        # The admin disables the account: the newcomer's next page is the login page.
        page.goto(console_server.url("/staff"))
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator('#accounts tr[data-email="newcomer@example.org"] button[value=disable]').click()
        expect(page.locator('#accounts tr[data-email="newcomer@example.org"]')).to_contain_text("已停用")
        newcomer.goto(console_server.url("/"))
        expect(newcomer).to_have_url(re.compile(r"/login\?ended=1"))
        expect(newcomer.locator(".notice")).to_have_text("登录已过期或已退出，请重新登录。")
    finally:
        newcomer_context.close()

    login(phone_page, admin)
    phone_page.goto(console_server.url("/staff"))
    screenshot(phone_page, "staff-phone")


def test_an_admin_cannot_disable_their_own_account(console_server, page, staff_account, login):
    admin = staff_account("admin")
    login(page, admin)
    page.goto(console_server.url("/staff"))
    expect(page.locator(f'#account-{admin.id} button[value=disable]')).to_have_count(0)
    # Even a hand-made request is refused with the reason.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(console_server.url(f"/staff/{admin.id}"), form={"csrf_token": token, "action": "disable"})
    assert response.status == 400 and "不能停用您自己" in response.text()


def test_an_admin_reads_the_settings_without_any_secret(console_server, page, staff_account, login, screenshot):
    login(page, staff_account("admin"))
    page.click('nav a[href="/staff/settings"]')
    expect(page.locator('nav a.active')).to_have_text("设置")
    row = page.locator("#settings tr", has_text="CONSOLE_PORT")
    expect(row).to_contain_text("8090")
    database = page.locator("#settings tr", has=page.locator('code:text-is("DATABASE_URL")'))
    expect(database).to_contain_text("postgresql+asyncpg://postgres@")
    expect(page.locator("#settings tr", has=page.locator('code:text-is("BOT_TOKEN")'))).to_contain_text("未设置")
    screenshot(page, "settings")
