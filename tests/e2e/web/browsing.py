"""What a person does in the browser, shared by the browser tests (Playwright's sync API): sign in with the code
from the local mailbox page, answer a question page by its kind, walk to the review, and check a page with axe-core."""
from __future__ import annotations

import base64
import re
from collections.abc import Callable

from core.forms.model import follow_up_step_key
from core.forms.university import COURSE_DEMANDS

# The answers of a university contact, by step key (the per-course follow-ups included).
UNIVERSITY = {
    "university_name": "北京创新工程大学", "level": "undergraduate", "province": "北京", "city": "北京",
    "contact_name": "李老师", "contact_department": "教务处", "contact_position": "副处长",
    "contact_mobile": "13912345678", "contact_email": "contact@example.edu.cn",
    "planned_start": None,  # filled in by the test: a month after this one
    "expected_students": "60", "courses": ["创新思维", "创新管理"],
    follow_up_step_key(COURSE_DEMANDS, "创新思维", "hours"): "32",
    follow_up_step_key(COURSE_DEMANDS, "创新思维", "experts_needed"): "1",
    follow_up_step_key(COURSE_DEMANDS, "创新思维", "mode"): "both",
    follow_up_step_key(COURSE_DEMANDS, "创新管理", "hours"): "16",
    follow_up_step_key(COURSE_DEMANDS, "创新管理", "experts_needed"): "2",
    follow_up_step_key(COURSE_DEMANDS, "创新管理", "mode"): "online",
    "schedule_preference": ["weekend_intensive", "vacation_intensive"],
    "society_member_unit": "no",
}


def question(page) -> tuple[str, str] | None:
    marker = page.locator("[data-question]")
    if marker.count() == 0:
        return None
    return marker.get_attribute("data-question"), marker.get_attribute("data-kind")


def page_kind(page) -> str:
    return page.locator("main").get_attribute("data-page") or ""


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def read_code(page, server, address: str) -> str:
    mailbox = page.context.new_page()
    try:
        mailbox.goto(server.url("/_mailbox"))
        for article in mailbox.locator("article.mail").all():
            body = article.inner_text()
            if f"收件人：{address}" in body:
                return re.search(r"验证码：(\d{6})", body)[1]
    finally:
        mailbox.close()
    raise AssertionError(f"no code for {address} in the local mailbox")


def sign_in(page, server, address: str, *, on_page: Callable[[object, str], None] | None = None,
            expect: str = r"/apply$") -> None:
    """From /signin: the notice, the address, the code from the mailbox page. `on_page(page, name)` is called on
    each page on the way (to check or photograph it)."""
    seen = on_page or (lambda page, name: None)
    page.goto(server.url("/signin"))
    seen(page, "notice")
    page.get_by_role("button", name="同意并继续").click()
    page.get_by_label("电子邮箱或手机号").fill(address)
    seen(page, "signin")
    page.get_by_role("button", name="发送验证码").click()
    page.wait_for_url(re.compile(r"/signin/code$"))
    seen(page, "code")
    page.get_by_label("6 位验证码").fill(read_code(page, server, address))
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(expect))


def answer(page, key: str, kind: str, answers: dict) -> None:
    """Answers the question on `page` from `answers` (skips it when there is no answer) and presses 继续."""
    value = answers.get(key)
    if value is None:
        page.get_by_role("button", name="跳过此题").click()
        return
    if kind in ("single", "yes_no") and page.locator("select#value-0").count():
        page.select_option("select#value-0", value)
    elif kind in ("single", "yes_no"):
        page.check(f'input[name=value][value="{value}"]')
    elif kind == "multi":
        for item in value:
            page.check(f'input[name=value][value="{item}"]')
    else:
        page.fill("#value", value)
    page.get_by_role("button", name="继续", exact=True).click()


def upload(page, name: str, content: bytes, mime: str) -> None:
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": content}])
    page.get_by_role("button", name="上传", exact=True).click()


def photo_jpeg(page) -> bytes:
    """A real JPEG, as a phone's camera would give one: drawn on a canvas by the browser itself."""
    data_url = page.evaluate("""() => {
        const canvas = document.createElement('canvas'); canvas.width = 640; canvas.height = 480;
        const g = canvas.getContext('2d'); g.fillStyle = '#f4efe2'; g.fillRect(0, 0, 640, 480);
        g.fillStyle = '#9f1d22'; g.font = '48px sans-serif'; g.fillText('职称证书', 200, 240);
        return canvas.toDataURL('image/jpeg', 0.8);
    }""")
    return base64.b64decode(data_url.split(",", 1)[1])


def walk_to_review(page, answers: dict, *, file: tuple[str, bytes, str] | None = None,
                   on_page: Callable[[object, str, str], None] | None = None) -> None:
    """Answers every page /apply shows until the review; `on_page(page, key, kind)` sees each question page first
    (it may act on it: then it returns True and the walk looks at the page again)."""
    for _ in range(120):
        kind_of_page = page_kind(page)
        if kind_of_page == "review":
            return
        if kind_of_page == "consent-sensitive":
            if on_page:
                on_page(page, "consent-sensitive", "consent")
            page.get_by_role("button", name="同意上传").click()
            continue
        key, kind = question(page)
        if on_page and on_page(page, key, kind):
            continue
        if kind == "file":
            if page.locator("ul.files a").count() == 0:
                upload(page, *(file or ("学位证书.pdf", _sample_pdf(), "application/pdf")))
            page.get_by_role("button", name="完成", exact=True).click()
            continue
        answer(page, key, kind, answers)
    raise AssertionError("never reached the review")


def _sample_pdf() -> bytes:
    from core.sample import SAMPLE_PDF

    return SAMPLE_PDF


# ---------------------------------------------------------------- axe-core

# WCAG 2.2 A and AA (target-size among them) and Deque's best practices (landmarks, one h1, headings in order).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core (bundled by axe-playwright-python: nothing fetched at run time) on the page as it is now;
    returns its violations of these impacts as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in impacts:
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return lines


def small_tap_targets(page, minimum: int = 44) -> list[str]:
    """Buttons, fields, the header's links, menu links and choice rows smaller than `minimum` CSS px either way
    (links inside a sentence are exempt, as WCAG's target-size exempts them)."""
    return page.evaluate("""(minimum) => {
        const selector = 'button, .button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select,'
            + ' textarea, .site-header a, ul.menu a, .choice, ul.files a, .error-summary a, main > p > a:only-child';
        const small = [];
        for (const element of document.querySelectorAll(selector)) {
            const box = element.getBoundingClientRect();
            if (box.width === 0 && box.height === 0) continue;  // not shown
            if (box.height < minimum || box.width < minimum) {
                small.push(`${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}`
                    + ` "${(element.innerText || element.value || '').trim().slice(0, 20)}" ${Math.round(box.width)}×${Math.round(box.height)}`);
            }
        }
        return small;
    }""", minimum)
