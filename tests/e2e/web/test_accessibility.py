"""axe-core on every page kind a participant meets, at phone size inside WeChat: no serious or critical violation.

One walk through an expert application (every question kind but year_month, the sensitive-data consent, a file
uploaded, the review, the receipt, the status, withdraw, the account pages, 404) and one through a university
intent (year_month, the per-course follow-ups). Refused answers of every kind are checked in
test_browser_journeys.py. Each page is also photographed into tests/e2e/web/screenshots/ (git-ignored) and its
axe findings, all impacts, written to screenshots/axe-report.txt."""
from __future__ import annotations

import re
from datetime import date

import pytest

from tests.e2e.web.browsing import (
    UNIVERSITY,
    axe_violations,
    no_horizontal_scroll,
    page_kind,
    question,
    sign_in,
    small_tap_targets,
    walk_to_review,
)
from tests.e2e.web.conftest import SCREENSHOTS
from tests.e2e.web.support import EXPERT

pytestmark = pytest.mark.browser


class Audit:
    """Runs axe on a page, photographs it, and keeps what axe said per page kind."""

    def __init__(self, shoot) -> None:
        self.shoot = shoot
        self.serious: dict[str, list[str]] = {}
        self.small: dict[str, list[str]] = {}
        self.report: list[str] = []

    def __call__(self, page, name: str) -> None:
        assert no_horizontal_scroll(page), f"{name}: horizontal scroll at {page.viewport_size['width']} px"
        self.shoot(page, f"a11y-{name}")
        found = axe_violations(page)
        self.serious[name] = found
        every = axe_violations(page, impacts=("minor", "moderate", "serious", "critical"))
        small = small_tap_targets(page)
        if small:
            self.small[name] = small
            every = every + [f"tap targets under 44 px: {', '.join(small)}"]
        self.report.append(f"{name}: " + ("no violation" if not every else "\n  " + "\n  ".join(every)))

    def check(self, report_name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        (SCREENSHOTS / report_name).write_text("\n".join(self.report) + "\n", encoding="utf-8")
        failing = {name: lines for name, lines in self.serious.items() if lines}
        failing.update({f"{name} (tap targets under 44 px)": lines for name, lines in self.small.items()})
        assert not failing, "serious or critical axe violations:\n" + "\n".join(
            f"{name}:\n  " + "\n  ".join(lines) for name, lines in failing.items())


def test_every_page_kind_of_an_expert_application_passes_axe(web_server, new_phone, shoot):
    audit = Audit(shoot)
    page = new_phone()
    page.goto(web_server.url("/"))
    audit(page, "landing")
    page.goto(web_server.url("/nothing-here"))
    audit(page, "not-found")

    def on_signin_page(page, name):
        audit(page, name)
        if name == "signin":  # the address refused (empty), then typed again
            typed = page.get_by_label("电子邮箱或手机号").input_value()
            page.get_by_label("电子邮箱或手机号").fill("")
            page.get_by_role("button", name="发送验证码").click()
            assert page.title().startswith("错误：")
            audit(page, "signin-error")
            page.get_by_label("电子邮箱或手机号").fill(typed)
        if name == "code":
            page.get_by_label("6 位验证码").fill("000000")
            page.get_by_role("button", name="登录", exact=True).click()
            assert page.title().startswith("错误：")
            audit(page, "code-error")

    sign_in(page, web_server, EXPERT["email"], on_page=on_signin_page)
    assert page_kind(page) == "role"
    audit(page, "role")
    page.get_by_role("button", name="继续", exact=True).click()
    audit(page, "role-error")
    page.get_by_label("我是企业专家（申请产业兼职教师）").check()
    page.get_by_role("button", name="继续", exact=True).click()

    seen: set[str] = set()

    def on_question(page, key, kind):
        name = key if kind == "consent" else kind
        if kind == "single":
            name = "single-select" if page.locator("select#value-0").count() else "single-radios"
        if kind == "file" and page.locator("ul.files a").count():
            name = "file-uploaded"
        if name not in seen:
            seen.add(name)
            audit(page, key if kind == "consent" else f"question-{name}")
        if key == "email" and "stale" not in seen:  # a stale post: the current page with the notice
            seen.add("stale")
            page.goto(web_server.url("/apply?stale=1"))
            audit(page, "question-stale-notice")
        if kind == "file" and name == "file":  # upload, then look at the page with the file listed
            from tests.e2e.web.browsing import _sample_pdf, upload

            upload(page, "学位证书.pdf", _sample_pdf(), "application/pdf")
            return True
        return False

    walk_to_review(page, EXPERT, on_page=on_question)
    assert {"question-text", "question-date", "question-phone", "question-email", "question-single-select",
            "question-single-radios", "question-integer", "question-multi", "question-yes_no", "consent-sensitive",
            "question-file", "question-file-uploaded"} <= set(audit.serious)
    audit(page, "review")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/receipt/\d+$"))
    audit(page, "receipt")
    page.goto(web_server.url("/"))
    audit(page, "landing-signed-in")
    page.goto(web_server.url("/status"))
    audit(page, "status")
    page.get_by_role("link", name="撤回申请").click()
    audit(page, "withdraw-confirm")
    page.goto(web_server.url("/me"))
    audit(page, "me")
    page.goto(web_server.url("/me/data"))
    audit(page, "me-data")
    page.goto(web_server.url("/me/delete"))
    audit(page, "me-delete")
    page.goto(web_server.url("/receipt/999999"))
    audit(page, "not-found-signed-in")
    page.goto(web_server.url("/_mailbox"))
    audit(page, "mailbox")
    page.goto(web_server.url("/me/delete"))
    page.get_by_role("button", name="确认删除我的数据").click()
    audit(page, "me-deleted")
    audit.check("axe-report-expert.txt")


def test_the_university_pages_pass_axe(web_server, new_phone, shoot):
    audit = Audit(shoot)
    page = new_phone()
    sign_in(page, web_server, "contact@example.edu.cn")
    page.get_by_label("我是高校联系人（申报微专业建设意向）").check()
    page.get_by_role("button", name="继续", exact=True).click()
    today = date.today()
    answers = dict(UNIVERSITY, planned_start=f"{today.year + 1}-03")
    seen: set[str] = set()

    def on_question(page, key, kind):
        name = "follow-up" if "[" in key and "follow-up" not in seen else kind
        if name not in seen and name in ("year_month", "follow-up"):
            seen.add(name)
            audit(page, f"university-{name}")
        return False

    walk_to_review(page, answers, on_page=on_question)
    assert question(page) is None and {"university-year_month", "university-follow-up"} <= set(audit.serious)
    audit(page, "university-review")
    audit.check("axe-report-university.txt")
