"""Two ways people really open the pages that the other browser tests do not cover: with JavaScript off (some
in-app browsers, some company phones) and at 200 % zoom (large text on a phone). Each goes the whole way from the
landing page to the receipt, a refused answer included, in Debian's Chromium."""
from __future__ import annotations

import re

import pytest

from tests.e2e.web.browsing import no_horizontal_scroll, page_kind, question, sign_in, walk_to_review
from tests.e2e.web.conftest import WECHAT_UA
from tests.e2e.web.support import EXPERT

pytestmark = pytest.mark.browser


def _context(browser, *, viewport: dict[str, int], scale: float, javascript: bool = True):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", user_agent=WECHAT_UA,
                                  is_mobile=True, has_touch=True, device_scale_factor=scale,
                                  java_script_enabled=javascript)
    context.set_default_timeout(15_000)
    return context


def test_a_whole_application_with_javascript_off(web_server, browser, shoot):
    context = _context(browser, viewport={"width": 390, "height": 844}, scale=2, javascript=False)
    try:
        page = context.new_page()
        page.goto(web_server.url("/"))
        page.get_by_role("link", name="开始申请").click()
        sign_in(page, web_server, "noscript@example.com")
        assert page_kind(page) == "role"
        page.get_by_label("我是企业专家（申请产业兼职教师）").check()
        page.get_by_role("button", name="继续", exact=True).click()
        # A refused answer: the summary and the reason are there without script (focus is script's extra).
        assert question(page)[0] == "name"
        page.get_by_role("button", name="继续", exact=True).click()
        assert page.title().startswith("错误：") and "必答" in page.get_by_role("alert").inner_text()
        assert page.locator("#value-error").is_visible()
        # The page's own script did not run (with it, focus moves to the summary).
        assert page.evaluate("document.activeElement.id") != "error-summary"
        shoot(page, "nojs-question-error")
        walk_to_review(page, EXPERT)
        shoot(page, "nojs-review")
        page.get_by_role("button", name="提交申请").click()
        page.wait_for_url(re.compile(r"/receipt/\d+$"))
        assert page.locator(".reference").inner_text().startswith("E")
        page.get_by_role("link", name="查看我的申请").click()
        assert "撤回申请" in page.locator("main").inner_text()
    finally:
        context.close()


def test_every_page_on_the_way_at_200_percent_zoom_fits_the_width(web_server, browser, shoot):
    # 200 % zoom on a 390-px-wide phone: the page lays out in 195 CSS pixels.
    context = _context(browser, viewport={"width": 195, "height": 422}, scale=4)
    narrow: list[str] = []

    def check(page, name: str) -> None:
        if not no_horizontal_scroll(page):
            narrow.append(name)
        # The page's main button is reachable without scrolling sideways.
        buttons = page.locator("main button[type=submit]:visible, main .button:visible")
        for box in (buttons.nth(i).bounding_box() for i in range(min(buttons.count(), 6))):
            if box is not None and box["x"] + box["width"] > 195 + 1:
                narrow.append(f"{name}: a button reaches {box['x'] + box['width']:.0f} px")

    try:
        page = context.new_page()
        page.goto(web_server.url("/"))
        check(page, "landing")
        shoot(page, "zoom200-landing")
        sign_in(page, web_server, "zoom@example.com", on_page=check)
        check(page, "role")
        page.get_by_label("我是企业专家（申请产业兼职教师）").check()
        page.get_by_role("button", name="继续", exact=True).click()
        page.get_by_role("button", name="继续", exact=True).click()  # refused: the error summary at 200 %
        check(page, "question-error")
        shoot(page, "zoom200-question-error")
        kinds: set[str] = set()

        def each_question(page, key: str, kind: str) -> bool:
            if kind not in kinds:
                kinds.add(kind)
                check(page, f"question-{kind}")
            return False

        walk_to_review(page, EXPERT, on_page=each_question)
        check(page, "review")
        shoot(page, "zoom200-review")
        page.get_by_role("button", name="提交申请").click()
        page.wait_for_url(re.compile(r"/receipt/\d+$"))
        check(page, "receipt")
        page.get_by_role("link", name="查看我的申请").click()
        check(page, "status")
        assert {"text", "single", "multi", "file"} <= kinds, kinds
        assert narrow == [], narrow
    finally:
        context.close()


def test_back_to_a_refused_answer_loads_the_question_instead_of_asking_to_resend(web_server, new_phone):
    page = new_phone()
    sign_in(page, web_server, "back@example.com")
    page.get_by_label("我是企业专家（申请产业兼职教师）").check()
    page.get_by_role("button", name="继续", exact=True).click()
    assert question(page)[0] == "name"
    page.get_by_role("button", name="继续", exact=True).click()  # refused: the page is the POST's reply
    assert page.title().startswith("错误：")
    assert page.url.endswith("/apply")
    page.fill("#value", "张三")
    page.get_by_role("button", name="继续", exact=True).click()
    second = question(page)[0]
    assert second != "name"
    # The browser's back button: the question page again (loaded afresh), not "confirm form resubmission".
    response = page.go_back()
    assert response is not None and response.request.method == "GET" and response.status == 200
    assert page_kind(page) == "question" and not page.title().startswith("错误：")
    # Where the person now stands is what counts: the next question, the name kept.
    assert question(page)[0] == second
