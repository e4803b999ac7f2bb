"""People in Debian's Chromium, at phone size inside WeChat (390×844, WeChat's user agent) unless said otherwise:
a whole university intent (and once at desktop size), a refused answer on every question kind, uploads (a PDF, a
photo, one removed, an .exe renamed .pdf refused), the two-tab conflict, and a Telegram applicant continuing on
the web. Screenshots go to tests/e2e/web/screenshots/ (git-ignored)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.db.models import Application, Document, PersonIdentity
from core.texts import text
from tests.e2e.web.browsing import (
    UNIVERSITY,
    axe_violations,
    no_horizontal_scroll,
    page_kind,
    photo_jpeg,
    question,
    sign_in,
    upload,
    walk_to_review,
)
from tests.e2e.web.support import EXPERT

pytestmark = pytest.mark.browser

DESKTOP_800 = {"width": 1280, "height": 800}


def plan_today() -> date:
    """Today where the plan runs (Asia/Shanghai): core's date rules count from it, not from this machine's UTC."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _next_year_march() -> tuple[str, str]:
    """planned_start as a person types it in Chinese, and as core stores it."""
    year = plan_today().year + 1
    return f"{year}年3月", f"{year}-03"


@dataclass(frozen=True)
class Stored:
    id: int
    form: str
    answers: dict


async def _applications_of(core, address: str) -> tuple[int, list[Stored]]:
    """Who signs in with `address`, and their applications as stored (read straight from the database)."""
    async with core.uow() as uow:
        person_id = await uow.session.scalar(select(PersonIdentity.person_id).where(
            PersonIdentity.channel == "email", PersonIdentity.identifier == address))
        rows = (await uow.session.execute(select(Application.id, Application.form, Application.answers).where(
            Application.person_id == person_id).order_by(Application.id))).all()
        return person_id, [Stored(id, form, dict(answers)) for id, form, answers in rows]


async def _documents_of(core, application_id: int) -> list[tuple[str | None, str]]:
    async with core.uow() as uow:
        return list((await uow.session.execute(select(Document.original_name, Document.mime).where(
            Document.application_id == application_id).order_by(Document.id))).all())


def _choose_role(page, role: str) -> None:
    label = text("role.expert") if role == "expert" else text("role.university")
    page.get_by_label(label).check()
    page.get_by_role("button", name="继续", exact=True).click()


def _answer_until(page, answers: dict, stop_key: str) -> None:
    """Walks on (answering from `answers`) until the question `stop_key` is shown."""
    def stop(page, key, kind):
        if key == stop_key:
            raise _Reached()
        return False

    try:
        walk_to_review(page, answers, on_page=stop)
    except _Reached:
        return
    raise AssertionError(f"never reached {stop_key}")


class _Reached(Exception):
    pass


# ---------------------------------------------------------------- a whole university intent

@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_whole_university_intent_from_the_landing_page_to_the_receipt(web_server, new_phone, shoot, size):
    page = new_phone() if size == "phone" else new_phone(DESKTOP_800, user_agent=None)
    typed_month, stored_month = _next_year_march()
    answers = dict(UNIVERSITY, planned_start=typed_month)  # typed in Chinese: core reads 2027年3月 too
    page.goto(web_server.url("/"))
    page.get_by_role("link", name="开始申请").click()
    page.wait_for_url(re.compile(r"/signin$"))
    sign_in(page, web_server, UNIVERSITY["contact_email"])
    assert page_kind(page) == "role"
    _choose_role(page, "university")

    follow_ups: list[tuple[str, str]] = []

    def on_question(page, key, kind):
        assert no_horizontal_scroll(page), key
        if "[" in key:
            follow_ups.append((key, page.locator("h1").inner_text()))
            if size == "phone" and len(follow_ups) == 1:
                shoot(page, "university-follow-up")
        if key == "planned_start":
            assert page.locator("#value").get_attribute("type") == "text"
            assert "2026年3月" in page.locator("#value-formats").inner_text()
            if size == "phone":
                shoot(page, "university-year_month")
        return False

    walk_to_review(page, answers, on_page=on_question)
    # Each picked course is asked its hours, experts and mode, under its own name.
    assert [key for key, _ in follow_ups] == [k for k in UNIVERSITY if "[" in k]
    assert all(heading.startswith("【创新思维】") for key, heading in follow_ups[:3])
    assert all(heading.startswith("【创新管理】") for key, heading in follow_ups[3:])
    summary = page.locator("dl.summary").inner_text()
    assert UNIVERSITY["university_name"] in summary and stored_month in summary
    shoot(page, f"university-review-{size}")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/receipt/\d+$"))
    assert "意向表已受理" in page.locator("main").inner_text()
    reference = page.locator(".reference").inner_text()
    shoot(page, f"university-receipt-{size}")

    _, applications = web_server.call(_applications_of(web_server.core, UNIVERSITY["contact_email"]))
    (application,) = applications
    assert application.form == "university" and application.answers["planned_start"] == stored_month
    assert application.answers["course_demand[创新管理].hours"] == 16
    page.get_by_role("link", name="查看我的申请").click()
    assert reference in page.locator("main").inner_text()


# ---------------------------------------------------------------- refused answers

class Refusals:
    """Checks a refused answer as a person meets it, and runs axe on the page in that state."""

    def __init__(self, shoot) -> None:
        self.shoot = shoot
        self.kinds: list[str] = []

    def __call__(self, page, name: str, message: str, *, field: str = "value", kept=None) -> None:
        assert page.title().startswith(text("web.error_prefix")), name
        summary = page.get_by_role("alert")
        assert summary.inner_text().strip().endswith(message), (name, summary.inner_text())
        assert page.evaluate("document.activeElement.id") == "error-summary", name
        target = summary.locator("a").get_attribute("href")
        assert page.locator(target).count() == 1, f"{name}: the summary's link {target} leads nowhere"
        beside = page.locator(f"#{field}-error")
        assert beside.is_visible() and beside.inner_text().strip().endswith(message), name
        if kept is not None:
            kept(page)
        assert no_horizontal_scroll(page), name
        self.shoot(page, f"refused-{name}")
        assert axe_violations(page) == [], name
        self.kinds.append(name)


def test_a_refused_answer_on_every_question_kind(web_server, new_phone, shoot):
    refused = Refusals(shoot)
    page = new_phone()
    sign_in(page, web_server, EXPERT["email"])
    page.get_by_role("button", name="继续", exact=True).click()
    refused(page, "role", text("dialog.role_required"))
    _choose_role(page, "expert")
    go_on = lambda p: p.get_by_role("button", name="继续", exact=True).click()  # noqa: E731

    def typed(value):
        return lambda p: (p.locator("#value").input_value() == value) or pytest.fail(f"lost {value!r}")

    def on_question(page, key, kind):
        if key == "name":  # text
            page.fill("#value", "张")
            go_on(page)
            refused(page, "text", text("text.too_short", min=2, got=1), kept=typed("张"))
        elif key == "birth_date":  # date: the picker (filled as Chromium's picker fills it), then typed by hand
            date_input = page.locator("#value")
            assert date_input.get_attribute("type") == "date"
            assert "2025年8月15日" in page.locator("#value-formats").inner_text()
            assert "value-formats" in date_input.get_attribute("aria-describedby")
            date_input.fill("2099-01-01")
            go_on(page)
            refused(page, "date", text("date.too_late", max=plan_today().isoformat()), kept=typed("2099-01-01"))
            # A browser without a date picker shows a plain box: what is typed there in Chinese is read by core,
            # and what core refuses comes back in a plain box with the typed text kept.
            page.evaluate("document.getElementById('value').type = 'text'")
            page.fill("#value", "1975年13月1日")
            go_on(page)
            assert page.locator("#value").get_attribute("type") == "text"
            refused(page, "date-typed", text("date.invalid", raw="1975年13月1日"), kept=typed("1975年13月1日"))
            page.fill("#value", "1975年6月1日")
            go_on(page)
            return True
        elif key == "mobile":
            page.fill("#value", "12345")
            go_on(page)
            refused(page, "phone", text("phone.invalid", raw="12345"), kept=typed("12345"))
        elif key == "email":
            page.fill("#value", "zhangsan@")
            go_on(page)
            refused(page, "email", text("email.invalid", raw="zhangsan@"), kept=typed("zhangsan@"))
        elif key == "province":  # single, more than eight choices: a select
            assert page.locator("select#value-0").count() == 1
            go_on(page)
            refused(page, "single-select", text("required"))
        elif key == "employer_type":  # single: radios
            go_on(page)
            refused(page, "single-radios", text("required"))
        elif key == "years_at_employer":  # integer
            page.fill("#value", "很多年")
            go_on(page)
            refused(page, "integer", text("integer.invalid", raw="很多年"), kept=typed("很多年"))
        elif key == "duties":  # multi: one ticked of the two it needs, still ticked after
            page.check('input[name=value][value="teaching"]')
            go_on(page)
            refused(page, "multi", text("multi.too_few", min=2, got=1),
                    kept=lambda p: p.is_checked('input[name=value][value="teaching"]') or pytest.fail("unticked"))
        elif key == "proof_files":  # file: 完成 with nothing uploaded
            page.get_by_role("button", name="完成", exact=True).click()
            refused(page, "file", text("file.too_few", min=1, got=0), field="file")
        elif key == "declaration":  # yes_no that must be yes: 否 stays picked
            page.check('input[name=value][value="no"]')
            go_on(page)
            refused(page, "yes_no", text("yes_no.must_be_yes", label="品德声明"),
                    kept=lambda p: p.is_checked('input[name=value][value="no"]') or pytest.fail("unpicked"))
        return False

    walk_to_review(page, EXPERT, on_page=on_question)
    assert "1975-06-01" in page.locator("dl.summary").inner_text()  # typed 1975年6月1日 in a plain box

    # year_month is asked of universities: a past month refused, then a month typed in Chinese.
    page = new_phone()
    sign_in(page, web_server, "contact@example.edu.cn")
    _choose_role(page, "university")
    _answer_until(page, UNIVERSITY, "planned_start")
    today = plan_today()
    last_year, last_month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    page.fill("#value", f"{last_year}年{last_month}月")
    go_on(page)
    refused(page, "year_month", text("year_month.past", label="计划开课时间", got=f"{last_year}-{last_month:02d}",
                                     today=today.isoformat()), kept=typed(f"{last_year}年{last_month}月"))
    typed_month, _ = _next_year_march()
    page.fill("#value", typed_month)
    go_on(page)
    assert question(page)[0] == "expected_students"
    assert sorted(refused.kinds) == sorted(["role", "text", "date", "date-typed", "phone", "email", "single-select",
                                            "single-radios", "integer", "multi", "file", "yes_no", "year_month"])


# ---------------------------------------------------------------- uploads

def test_uploads_a_pdf_and_a_photo_remove_one_and_an_exe_renamed_pdf_is_refused(web_server, new_phone, shoot):
    from core.sample import SAMPLE_PDF

    page = new_phone()
    sign_in(page, web_server, EXPERT["email"])
    _choose_role(page, "expert")
    _answer_until(page, EXPERT, "proof_files")
    # The separate consent for certificates came first.
    assert "相册" in page.locator("#file-help").inner_text() and "保存到手机" in page.locator("#file-help").inner_text()
    assert page.locator("#file").get_attribute("accept").startswith(".pdf,.jpg")

    upload(page, "学位证书.pdf", SAMPLE_PDF, "application/pdf")
    assert page.get_by_role("link", name="学位证书.pdf").is_visible()
    upload(page, "IMG_20250601_093012.jpg", photo_jpeg(page), "image/jpeg")
    assert page.get_by_role("link", name="IMG_20250601_093012.jpg").is_visible()
    shoot(page, "upload-two-files")

    page.get_by_role("button", name="删除「学位证书.pdf」").click()
    assert page.get_by_role("link", name="学位证书.pdf").count() == 0
    assert page.get_by_role("link", name="IMG_20250601_093012.jpg").is_visible()

    upload(page, "职称证书.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 4000, "application/pdf")
    assert page.title().startswith(text("web.error_prefix"))
    assert page.get_by_role("alert").inner_text().strip().endswith(text("file.bad_type"))
    assert page.locator("#file-error").inner_text().strip().endswith(text("file.bad_type"))
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("ul.files a").all_inner_texts() == ["IMG_20250601_093012.jpg"]
    shoot(page, "upload-refused-exe")
    assert axe_violations(page) == []

    # The photo is served back as the JPEG it is.
    response = page.request.get(web_server.url(page.locator("ul.files a").get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"

    _, (application,) = web_server.call(_applications_of(web_server.core, EXPERT["email"]))
    documents = web_server.call(_documents_of(web_server.core, application.id))
    assert [tuple(d) for d in documents] == [("IMG_20250601_093012.jpg", "image/jpeg")]
    page.get_by_role("button", name="完成", exact=True).click()
    assert question(page)[0] == "profile"


# ---------------------------------------------------------------- two tabs

def test_the_older_of_two_tabs_is_refused_as_stale_and_changes_nothing(web_server, new_phone, shoot):
    tab_a = new_phone()
    sign_in(tab_a, web_server, EXPERT["email"])
    _choose_role(tab_a, "expert")
    _answer_until(tab_a, EXPERT, "city")
    tab_b = tab_a.context.new_page()  # the same person, the same page, in a second tab
    tab_b.goto(web_server.url("/apply"))
    assert question(tab_b)[0] == "city"

    tab_a.fill("#value", "天津")
    tab_a.get_by_role("button", name="继续", exact=True).click()
    assert question(tab_a)[0] == "employer"

    tab_b.fill("#value", "上海")  # the old page, answered later
    tab_b.get_by_role("button", name="继续", exact=True).click()
    assert question(tab_b)[0] == "employer", "the current page, not the old one"
    assert text("dialog.stale") in tab_b.locator(".notice").inner_text()
    assert not tab_b.title().startswith(text("web.error_prefix"))
    shoot(tab_b, "stale-notice")
    assert axe_violations(tab_b) == []
    _, (application,) = web_server.call(_applications_of(web_server.core, EXPERT["email"]))
    assert application.answers["city"] == "天津", "nothing overwritten"

    # 上一步 from the old tab is stale too: it does not move tab A's place.
    tab_c = tab_a.context.new_page()
    tab_c.goto(web_server.url("/apply"))
    tab_a.fill("#value", EXPERT["employer"])
    tab_a.get_by_role("button", name="继续", exact=True).click()
    tab_c.get_by_role("button", name="上一步").click()
    assert text("dialog.stale") in tab_c.locator(".notice").inner_text()
    assert question(tab_c)[0] == question(tab_a)[0] == "employer_type"


# ---------------------------------------------------------------- Telegram → web

async def _telegram_applicant_until(core, stop_key: str) -> tuple[int, int]:
    """A person who began in the bot: consent, role, answers up to `stop_key` (the e-mail among them)."""
    from core.dialog import Action

    person = await core.people.register_telegram_user(telegram_id=555001, display_name="张三")
    screen = (await core.dialog.act(person.id, Action.AGREE, "consent")).screen
    screen = (await core.dialog.act(person.id, Action.ROLE, screen.token, "expert")).screen
    while screen.key != stop_key:
        screen = (await core.dialog.act(person.id, Action.ANSWER, screen.token, EXPERT[screen.key])).screen
    return person.id, screen.application_id


def test_a_telegram_applicant_continues_on_the_web_after_confirming(web_server, new_phone, shoot):
    person_id, application_id = web_server.call(_telegram_applicant_until(web_server.core, "employer"))
    page = new_phone()
    sign_in(page, web_server, EXPERT["email"], expect=r"/link$")
    assert re.search(r"E\d+-", page.locator(".lead").inner_text()), "the application's reference is named"
    assert page.get_by_role("button", name=text("web.link.confirm")).is_visible()
    shoot(page, "link-telegram")
    assert axe_violations(page) == []
    page.get_by_role("button", name=text("web.link.confirm")).click()
    page.wait_for_url(re.compile(r"/apply$"))
    assert question(page)[0] == "employer", "the question the bot was asking"
    page.fill("#value", EXPERT["employer"])
    page.get_by_role("button", name="继续", exact=True).click()
    assert question(page)[0] == "employer_type"

    linked_person, applications = web_server.call(_applications_of(web_server.core, EXPERT["email"]))
    assert linked_person == person_id, "the web address now belongs to the Telegram applicant"
    assert [a.id for a in applications] == [application_id]
    assert applications[0].answers["employer"] == EXPERT["employer"]
    assert applications[0].answers["name"] == EXPERT["name"], "what was answered in the bot is kept"
