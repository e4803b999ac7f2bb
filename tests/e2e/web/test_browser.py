"""A person on a phone inside WeChat's browser (390×844, WeChat's user agent), in Debian's Chromium:
a whole expert application from the landing page to the receipt, with a PDF, a refused answer, 上一步,
a change from the review, and resuming on a second phone after signing in again. Screenshots of every
page kind go to tests/e2e/web/screenshots/."""
from __future__ import annotations

import re

import pytest

from core.sample import SAMPLE_PDF
from tests.e2e.web.browsing import answer, page_kind, question
from tests.e2e.web.support import EXPERT

pytestmark = pytest.mark.browser

EMAIL = "zhangsan@example.com"


def _sign_in(page, server, shoot=None) -> None:
    """From the sign-in link: the notice, the address, the code read from the local mailbox page."""
    page.goto(server.url("/signin"))
    assert page.locator("h1").inner_text() == "个人信息处理告知"
    if shoot:
        shoot(page, "02-notice")
    page.get_by_role("button", name="同意并继续").click()
    address = page.get_by_label("电子邮箱或手机号")
    assert address.get_attribute("inputmode") == "email"
    if shoot:
        shoot(page, "03-signin")
    address.fill(EMAIL)
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url(re.compile(r"/signin/code$"))
    code_field = page.get_by_label("6 位验证码")
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    assert code_field.get_attribute("inputmode") == "numeric"
    if shoot:
        shoot(page, "04-code")
    mailbox = page.context.new_page()
    mailbox.goto(server.url("/_mailbox"))
    if shoot:
        shoot(mailbox, "05-mailbox")
    code = re.search(r"验证码：(\d{6})", mailbox.locator("article.mail").first.inner_text())[1]
    mailbox.close()
    code_field.fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/apply$"))


def test_a_whole_expert_application_on_a_phone_in_wechat(web_server, new_phone, shoot):
    page = new_phone()
    page.goto(web_server.url("/"))
    assert "正在报名" in page.locator("main").inner_text()
    shoot(page, "01-landing")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no horizontal scroll at 390 px"
    page.get_by_role("link", name="开始申请").click()
    page.wait_for_url(re.compile(r"/signin$"))
    _sign_in(page, web_server, shoot)

    assert page_kind(page) == "role"
    shoot(page, "06-role")
    page.get_by_label("我是企业专家（申请产业兼职教师）").check()
    page.get_by_role("button", name="继续", exact=True).click()

    # The first question refused: the error summary, the reason beside the field, the title prefixed.
    key, kind = question(page)
    assert key == "name" and "第 1/" in page.locator(".progress").inner_text()
    page.get_by_role("button", name="继续", exact=True).click()
    assert page.title().startswith("错误：")
    summary = page.get_by_role("alert")
    assert "必答" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#value-error").is_visible()
    shoot(page, "07-question-error")

    shot_kinds: set[str] = set()
    went_back = False
    resumed = False
    for _ in range(100):
        kind_of_page = page_kind(page)
        if kind_of_page == "review":
            break
        if kind_of_page == "consent-sensitive":
            shoot(page, "09-consent-sensitive")
            page.get_by_role("button", name="同意上传").click()
            continue
        key, kind = question(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, key
        if kind not in shot_kinds:
            shot_kinds.add(kind)
            shoot(page, f"08-question-{kind}")
        if key == "email" and not went_back:
            # 上一步: the previous question with its answer filled in; then on again.
            page.get_by_role("button", name="上一步").click()
            assert question(page)[0] == "mobile" and page.locator("#value").input_value() == EXPERT["mobile"]
            page.get_by_role("button", name="继续", exact=True).click()
            went_back = True
            continue
        if key == "employer" and not resumed:
            # A second phone: signing in again continues at the same question.
            other = new_phone()
            _sign_in(other, web_server)
            assert question(other)[0] == "employer"
            page = other
            resumed = True
        if kind == "file":
            assert "相册" in page.locator("#file-help").inner_text()
            page.set_input_files("#file", files=[{"name": "学位证书.pdf", "mimeType": "application/pdf",
                                                  "buffer": SAMPLE_PDF}])
            page.get_by_role("button", name="上传", exact=True).click()
            assert page.get_by_role("link", name="学位证书.pdf").is_visible()
            assert page.get_by_role("button", name="删除「学位证书.pdf」").is_visible()
            shoot(page, "10-upload-done")
            page.get_by_role("button", name="完成", exact=True).click()  # the word the question uses
            continue
        answer(page, key, kind, EXPERT)
    else:
        raise AssertionError("never reached the review")
    assert went_back and resumed

    assert "学位证书.pdf" in page.locator("main").inner_text()
    shoot(page, "11-review")
    page.get_by_role("button", name="修改「所在城市」").click()
    assert question(page)[0] == "city"
    page.fill("#value", "天津")
    page.get_by_role("button", name="继续", exact=True).click()
    assert page_kind(page) == "review"
    assert "天津" in page.locator("dl.summary").inner_text()
    assert "您目前满足第" in page.locator(".verdict").inner_text()

    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/receipt/\d+$"))
    reference = page.locator(".reference").inner_text()
    assert reference.startswith("E")
    shoot(page, "12-receipt")
    page.get_by_role("link", name="查看我的申请").click()
    assert reference in page.locator("main").inner_text()
    shoot(page, "13-status")

    page.get_by_role("link", name="撤回申请").click()
    shoot(page, "14-withdraw-confirm")
    page.get_by_role("link", name="返回，不撤回").click()
    page.get_by_role("link", name="我的账号", exact=True).click()
    shoot(page, "15-me")
    page.get_by_role("link", name="导出我的数据").click()
    assert "在浏览器打开" in page.locator("main").inner_text()
    shoot(page, "16-data")
    page.goto(web_server.url("/me/delete"))
    shoot(page, "17-delete-confirm")
    page.goto(web_server.url("/receipt/999999"))
    assert "页面不存在" in page.locator("main").inner_text()
    shoot(page, "18-not-found")
    page.goto(web_server.url("/me/delete"))
    page.get_by_role("button", name="确认删除我的数据").click()
    assert "已删除" in page.locator("main").inner_text()
    shoot(page, "19-deleted")


def test_the_landing_page_at_desktop_size(web_server, new_phone, shoot):
    from tests.e2e.web.conftest import DESKTOP

    page = new_phone(DESKTOP, user_agent=None)
    page.goto(web_server.url("/"))
    assert page.get_by_role("link", name="开始申请").is_visible()
    shoot(page, "20-landing-desktop")


def test_a_code_pasted_from_the_email_with_its_indent_and_spaces_signs_in(web_server, new_phone):
    """The e-mail sets the code on a line of its own, indented: a phone pastes the spaces with it. The field
    takes them (a 6-character cap would keep "    49") and the server reads the digits among them."""
    from tests.e2e.web.browsing import read_code

    page = new_phone()
    page.goto(web_server.url("/signin"))
    page.get_by_role("button", name="同意并继续").click()
    page.get_by_label("电子邮箱或手机号").fill("paste@example.com")
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url(re.compile(r"/signin/code$"))
    code = read_code(page, web_server, "paste@example.com")
    field = page.get_by_label("6 位验证码")
    field.fill(f"    {code[:3]} {code[3:]} ")
    assert field.input_value() == f"    {code[:3]} {code[3:]} "
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r"/apply$"))
