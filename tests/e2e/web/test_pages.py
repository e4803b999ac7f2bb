"""The web channel over HTTP, as a browser (or an attacker) posts it: every rule of issue 20 that a test
client can check, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import re

from core.sample import SAMPLE_PDF
from tests.e2e.web.support import (
    EXPERT,
    act,
    answer_until_review,
    csrf_of,
    get,
    heading_of,
    latest_code,
    page_kind,
    post,
    question_of,
    sign_in,
    title_of,
    token_of,
    upload,
)

CSP = "default-src 'self'; frame-ancestors 'none'"


def assert_secure_headers(response) -> None:
    assert response.headers["Content-Security-Policy"].startswith(CSP)
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------- landing, headers, errors

async def test_the_landing_page_says_the_plan_the_roles_and_the_deadline_with_safe_headers(client):
    response = await client.get("/")
    page = await response.text()
    assert response.status == 200
    assert_secure_headers(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert '<html lang="zh-CN">' in page
    assert "企业专家" in page and "高校联系人" in page
    assert "正在报名" in page and "2025年8月15日" in page
    # No inline script or style anywhere: the CSP would block it.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page and "<style" not in page
    css = await client.get(re.search(r'href="(/static/web\.css[^"]*)"', page)[1])
    assert css.status == 200 and "PingFang SC" in await css.text()


async def test_a_closed_batch_says_so(client, clock):
    clock.advance(days=60)
    status, page = await get(client, "/")
    assert status == 200 and "目前没有正在报名的批次" in page and "开始申请" not in page


async def test_errors_are_pages_in_chinese_and_a_foreign_id_reads_like_a_missing_one(client, other_client, core):
    await sign_in(other_client, "owner@example.com")
    review = await answer_until_review(other_client)
    submitted = await act(other_client, review, "submit")
    receipt_path = submitted.headers["Location"]
    application_id = int(receipt_path.rsplit("/", 1)[1])
    assert (await other_client.get(receipt_path)).status == 200
    owner = next(c for c in other_client.session.cookie_jar if c.key == "innoeng_web").value
    owner_id = (await core.signin.session(session_id=owner)).person_id
    document_id = (await core.privacy.document_ids(person_id=owner_id))[0]
    assert (await other_client.get(f"/files/{document_id}")).status == 200

    await sign_in(client, "intruder@example.com")
    pages = {}
    for path in (receipt_path, f"/receipt/{application_id + 1000}", f"/status/{application_id}/withdraw",
                 f"/status/{application_id + 1000}/withdraw", f"/files/{document_id}", f"/files/{document_id + 1000}",
                 "/no/such/page"):
        response = await client.get(path)
        assert response.status == 404, path
        assert_secure_headers(response)
        pages[path] = await response.text()
    assert len(set(pages.values())) == 1, "a foreign id, a missing id and a missing page look the same"
    assert "页面不存在" in pages["/no/such/page"] and "Traceback" not in pages["/no/such/page"]
    # Someone else's withdraw posted with a good token: the same 404, and nothing happens.
    me = (await get(client, "/me"))[1]
    response = await post(client, f"/status/{application_id}/withdraw", {}, page=me)
    assert response.status == 404
    assert "撤回申请" in (await get(other_client, "/status"))[1]


# ---------------------------------------------------------------- CSRF

async def test_a_post_without_the_token_or_from_another_site_is_refused(client):
    status, notice = await get(client, "/signin")
    token = csrf_of(notice)
    missing = await client.post("/signin/notice", data={"action": "agree"}, allow_redirects=False)
    assert missing.status == 403 and "页面已过期" in await missing.text()
    assert_secure_headers(missing)
    wrong = await client.post("/signin/notice", data={"action": "agree", "csrf_token": "x" * 43}, allow_redirects=False)
    assert wrong.status == 403
    foreign = await client.post("/signin/notice", data={"action": "agree", "csrf_token": token},
                                headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert foreign.status == 403
    cross = await client.post("/signin/notice", data={"action": "agree", "csrf_token": token},
                              headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False)
    assert cross.status == 403
    ok = await client.post("/signin/notice", data={"action": "agree", "csrf_token": token},
                           headers={"Origin": str(client.make_url("")).rstrip("/")}, allow_redirects=False)
    assert ok.status == 303


async def test_signed_in_posts_need_the_sessions_token(client):
    page = await sign_in(client, "zhang@example.com")
    response = await client.post("/apply", data={"action": "role", "token": "role", "value": "expert",
                                                 "csrf_token": "a" * 40}, allow_redirects=False)
    assert response.status == 403
    assert page_kind((await get(client, "/apply"))[1]) == "role"


# ---------------------------------------------------------------- notice, sign-in, sessions

async def test_the_notice_comes_before_any_address_is_asked(client):
    status, page = await get(client, "/signin")
    assert status == 200 and "个人信息处理告知" in page and 'name="address"' not in page
    assert "同意并继续" in page and "不同意" in page
    # An address posted without the notice agreed to is not used: back to the notice.
    response = await post(client, "/signin", {"address": "zhang@example.com"}, page=page)
    assert response.status == 303 and response.headers["Location"] == "/signin"
    mailbox = (await get(client, "/_mailbox"))[1]
    assert "zhang@example.com" not in mailbox
    declined = await post(client, "/signin/notice", {"action": "decline"}, page=page)
    assert declined.status == 303
    status, landing = await get(client, declined.headers["Location"])
    assert "不会收集" in landing


async def test_sign_in_with_the_code_from_the_local_mailbox_and_the_session_cookie(client, core, clock):
    first = await sign_in(client, "Zhang@Example.com")
    assert page_kind(first) == "role"  # the notice agreed to before the address is recorded on the person
    cookie = next(c for c in client.session.cookie_jar if c.key == "innoeng_web")
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == str(30 * 24 * 3600)
    assert not cookie["secure"]
    person = await core.people.get(person_id=(await core.signin.session(session_id=cookie.value)).person_id)
    assert person.consented and person.email == "zhang@example.com"
    # Pages of a person carry no-store; every visit renews the cookie.
    response = await client.get("/status")
    assert response.headers["Cache-Control"] == "no-store" and "innoeng_web" in response.cookies
    # Signing in again on the same browser: a new session id, the old one ends.
    old = cookie.value
    await post(client, "/signout", {"scope": "here"}, page=(await get(client, "/me"))[1])
    clock.advance(minutes=2)  # a new code for the same address at most once a minute
    await sign_in(client, "zhang@example.com")
    new = next(c for c in client.session.cookie_jar if c.key == "innoeng_web").value
    assert new != old and await core.signin.session(session_id=old) is None


async def test_wrong_and_reused_codes_are_refused_in_chinese(client):
    status, notice = await get(client, "/signin")
    await post(client, "/signin/notice", {"action": "agree"}, page=notice)
    form = (await get(client, "/signin"))[1]
    bad = await post(client, "/signin", {"address": "not-an-address"}, page=form)
    bad_page = await bad.text()
    assert bad.status == 422 and title_of(bad_page).startswith("错误：") and 'role="alert"' in bad_page
    assert 'value="not-an-address"' in bad_page and 'href="#address"' in bad_page
    await post(client, "/signin", {"address": "li@example.com"}, page=form)
    code_page = (await get(client, "/signin/code"))[1]
    assert 'inputmode="numeric"' in code_page and 'autocomplete="one-time-code"' in code_page
    assert "l*@example.com" in code_page or "li@example.com" not in code_page  # the address masked
    wrong = await post(client, "/signin/code", {"code": "000000"}, page=code_page)
    text = await wrong.text()
    assert wrong.status == 422 and ("验证码不正确" in text or "失效" in text) and title_of(text).startswith("错误：")
    again = await post(client, "/signin/code", {"action": "resend"}, page=code_page)
    assert again.status == 422 and "秒后再获取验证码" in await again.text()


async def test_sign_out_here_and_everywhere(client, other_client, clock):
    await sign_in(client, "wang@example.com")
    await sign_in(other_client, "wang@example.com", clock=clock)
    me = (await get(client, "/me"))[1]
    response = await post(client, "/signout", {"scope": "everywhere"}, page=me)
    assert response.status == 303 and response.headers["Location"] == "/?signed_out=everywhere"
    for browser in (client, other_client):
        redirected = await browser.get("/apply", allow_redirects=False)
        assert redirected.status == 303 and redirected.headers["Location"] == "/signin"


async def test_the_mailbox_is_only_for_this_machine_without_smtp(client, core):
    response = await client.get("/_mailbox", headers={"X-Forwarded-For": "203.0.113.9"})
    missing = await client.get("/no-such-page")
    assert response.status == 404 and await response.text() == await missing.text()
    core.settings.smtp_host = "smtp.example.org"
    try:
        assert (await client.get("/_mailbox")).status == 404
    finally:
        core.settings.smtp_host = None
    assert (await client.get("/_mailbox")).status == 200


# ---------------------------------------------------------------- the application

async def test_a_whole_expert_application_over_http_to_the_receipt_and_status(client, core):
    await sign_in(client, "zhangsan@example.com")
    review = await answer_until_review(client)
    assert heading_of(review).startswith("请核对")
    assert "学位证书.pdf" in review and "资格初审" in review and "您目前满足第" in review
    assert 'aria-label="修改「姓名」"' in review
    response = await act(client, review, "submit")
    assert response.status == 303 and response.headers["Location"].startswith("/receipt/")
    status, receipt = await get(client, response.headers["Location"])
    assert status == 200 and "申请已提交" in receipt and re.search(r"<strong>E[\w-]+</strong>", receipt)
    assert 'href="/status"' in receipt
    # The same submit posted again (a double tap): the current page with the notice, nothing new.
    again = await act(client, review, "submit")
    assert again.status == 303 and again.headers["Location"] == "/apply?stale=1"
    status, page = await get(client, "/apply?stale=1")
    assert status == 200 and "我的申请" in page
    status, status_page = await get(client, "/status")
    assert "受理编号" in status_page and "撤回申请" in status_page
    application_id = re.search(r"/status/(\d+)/withdraw", status_page)[1]
    status, confirm = await get(client, f"/status/{application_id}/withdraw")
    assert status == 200 and "确认撤回" in confirm
    done = await post(client, f"/status/{application_id}/withdraw", {}, page=confirm)
    assert done.status == 303
    assert "已撤回" in (await get(client, done.headers["Location"]))[1]


async def test_a_refused_answer_shows_the_reason_keeps_the_typed_value_and_changes_nothing(client):
    await sign_in(client, "zhao@example.com")
    role = (await get(client, "/apply"))[1]
    await act(client, role, "role", "expert")
    first = (await get(client, "/apply"))[1]
    assert question_of(first)[0] == "name" and "第 1/" in first
    refused = await act(client, first, "answer", "")
    text = await refused.text()
    assert refused.status == 422 and title_of(text).startswith("错误：")
    assert 'role="alert"' in text and 'href="#value"' in text and "必答" in text
    assert text.count("必答") >= 2  # in the summary and beside the field
    long = await act(client, first, "answer", "字" * 100_000)
    long_text = await long.text()
    assert long.status == 422 and "太长" in long_text
    # Escaped everywhere it is shown.
    ok = await act(client, first, "answer", "<script>alert(1)</script>")
    assert ok.status == 303
    page = (await get(client, "/apply"))[1]
    key, _ = question_of(page)
    back = await act(client, page, "back")
    assert back.status == 303
    again = (await get(client, "/apply"))[1]
    assert question_of(again)[0] == "name"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in again and "<script>alert" not in again


async def test_an_old_page_posted_later_shows_the_current_page_with_a_notice(client, other_client, clock):
    await sign_in(client, "tab@example.com")
    await sign_in(other_client, "tab@example.com", clock=clock)
    await act(client, (await get(client, "/apply"))[1], "role", "expert")
    first = (await get(client, "/apply"))[1]
    other_first = (await get(other_client, "/apply"))[1]
    assert token_of(first) == token_of(other_first)
    assert (await act(client, first, "answer", "张三")).status == 303
    stale = await act(other_client, other_first, "answer", "李四")
    assert stale.status == 303 and stale.headers["Location"] == "/apply?stale=1"
    status, page = await get(other_client, stale.headers["Location"])
    assert status == 200 and "该页面已不是最新的" in page and question_of(page)[0] != "name"
    back = await act(other_client, page, "back")
    assert back.status == 303
    assert 'value="张三"' in (await get(other_client, "/apply"))[1]


async def _to_the_first_file_question(client) -> str:
    answers = dict(EXPERT)
    page = (await get(client, "/apply"))[1]
    for _ in range(80):
        kind = page_kind(page)
        if kind == "role":
            await act(client, page, "role", "expert")
        elif kind == "consent-sensitive":
            assert "单独同意" in page
            await act(client, page, "agree")
        elif kind != "question":
            raise AssertionError(f"unexpected page {kind}: {page[page.index('<main'):][:1500]}")
        elif question_of(page)[1] == "file":
            return page
        else:
            key = question_of(page)[0]
            await act(client, page, "answer" if key in answers else "skip", answers.get(key))
        page = (await get(client, "/apply"))[1]
    raise AssertionError("no file question")


async def test_uploads_are_checked_by_content_size_and_emptiness(client):
    await sign_in(client, "files@example.com")
    page = await _to_the_first_file_question(client)
    assert 'enctype="multipart/form-data"' in page and "相册" in page and "保存到手机" in page
    exe = await upload(client, page, b"MZ\x90\x00" + b"\x00" * 64, "证书.pdf")
    assert exe.status == 422 and "PDF、JPG、PNG" in await exe.text()
    empty = await upload(client, page, b"", "空.pdf")
    assert empty.status == 422 and "文件是空的" in await empty.text()
    # 上传 pressed before a file was chosen: the browser sends the field with no name and no bytes.
    none_chosen = await upload(client, page, b"", "", content_type="application/octet-stream")
    assert none_chosen.status == 422 and "请先选择" in await none_chosen.text() and "文件是空的" not in await none_chosen.text()
    big = await upload(client, page, b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024), "大.pdf")
    assert big.status == 303 and big.headers["Location"] == "/apply?too_large=1"
    status, refused = await get(client, big.headers["Location"])
    assert status == 422 and "20 MB" in refused and title_of(refused).startswith("错误：")
    ok = await upload(client, page, SAMPLE_PDF, "../../etc/pass%01wd.pdf")
    assert ok.status == 303
    page = (await get(client, "/apply"))[1]
    assert "passwd.pdf" in page and "../" not in page
    file_id = re.search(r'/files/(\d+)', page)[1]
    shown = await client.get(f"/files/{file_id}")
    assert shown.status == 200 and shown.headers["Content-Type"] == "application/pdf"
    # Saved under its own name, not as the id in the address.
    assert shown.headers["Content-Disposition"] == f"inline; filename=\"file-{file_id}.pdf\"; filename*=UTF-8''passwd.pdf"
    removed = await act(client, page, "remove_file", file_id)
    assert removed.status == 303
    assert "passwd.pdf" not in (await get(client, "/apply"))[1]


async def test_change_from_the_review_returns_to_the_review(client):
    await sign_in(client, "edit@example.com")
    review = await answer_until_review(client)
    edit = await act(client, review, "edit", "city")
    assert edit.status == 303
    page = (await get(client, "/apply"))[1]
    assert question_of(page)[0] == "city" and 'value="北京"' in page
    await act(client, page, "answer", "天津")
    back = (await get(client, "/apply"))[1]
    assert page_kind(back) == "review" and "天津" in back


# ---------------------------------------------------------------- own data

async def test_export_and_erase_own_data(client, core):
    await sign_in(client, "erase@example.com")
    role = (await get(client, "/apply"))[1]
    await act(client, role, "role", "expert")
    await act(client, (await get(client, "/apply"))[1], "answer", "钱七")
    status, data_page = await get(client, "/me/data")
    assert status == 200 and "在浏览器打开" in data_page
    download = await client.get("/me/data.json")
    assert download.status == 200 and "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    exported = json.loads(await download.text())
    assert "钱七" in json.dumps(exported, ensure_ascii=False)
    status, confirm = await get(client, "/me/delete")
    assert status == 200 and "不能恢复" in confirm
    response = await post(client, "/me/delete", {}, page=confirm)
    assert response.status == 303 and response.headers["Location"].startswith("/me/deleted")
    status, done = await get(client, response.headers["Location"])
    assert status == 200 and "已删除" in done
    gone = await client.get("/apply", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/signin"


# ---------------------------------------------------------------- any device, any channel

async def test_a_telegram_applicant_continues_on_the_web_after_confirming(client, core):
    from core.dialog import Action

    person = await core.people.register_telegram_user(telegram_id=555001, display_name="张三")
    screen = (await core.dialog.act(person.id, Action.AGREE, "consent")).screen
    screen = (await core.dialog.act(person.id, Action.ROLE, screen.token, "expert")).screen
    while screen.key != "employer":
        screen = (await core.dialog.act(person.id, Action.ANSWER, screen.token, EXPERT[screen.key])).screen
    notice = (await get(client, "/signin"))[1]
    await post(client, "/signin/notice", {"action": "agree"}, page=notice)
    form = (await get(client, "/signin"))[1]
    await post(client, "/signin", {"address": EXPERT["email"]}, page=form)
    code = await latest_code(client, EXPERT["email"])
    response = await post(client, "/signin/code", {"code": code}, page=(await get(client, "/signin/code"))[1])
    assert response.status == 303 and response.headers["Location"] == "/link"
    status, offer = await get(client, "/link")
    assert status == 200 and "E01-" in offer and "是我本人的" in offer
    linked = await post(client, "/link", {"action": "link", "person": str(person.id)}, page=offer)
    assert linked.status == 303 and linked.headers["Location"] == "/apply"
    page = (await get(client, "/apply"))[1]
    assert question_of(page)[0] == "employer"  # the same question the bot was asking


async def test_behind_https_the_session_cookie_is_secure(core):
    from aiohttp.test_utils import TestClient, TestServer

    from web.app import create_app

    core.settings.web_base_url = "https://apply.example.org"
    try:
        async with TestClient(TestServer(create_app(core))) as https_client:
            response = await https_client.get("/signin")
            cookie = response.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        core.settings.web_base_url = None


async def test_a_whole_university_intent_over_http_to_the_receipt(client, clock):
    import random

    from core.sample import university_answers

    raw = university_answers(random.Random(7), today=clock().date(), index=1)
    answers = {key: ("yes" if value is True else "no" if value is False else
                     value if isinstance(value, list) else str(value)) for key, value in raw.items()}
    await sign_in(client, "contact@example.edu.cn")
    review = await answer_until_review(client, answers, role="university")
    assert raw["university_name"] in review
    response = await act(client, review, "submit")
    assert response.status == 303 and response.headers["Location"].startswith("/receipt/")
    status, receipt = await get(client, response.headers["Location"])
    assert status == 200 and "意向表已受理" in receipt


async def test_asked_for_more_the_person_sees_the_message_answers_and_resubmits(client, core):
    await sign_in(client, "more@example.com")
    review = await answer_until_review(client)
    submitted = await act(client, review, "submit")
    application_id = int(submitted.headers["Location"].rsplit("/", 1)[1])
    await core.review.request_info(application_id=application_id, staff="staff:1", message="请补充职称证书<b>扫描件</b>")
    status, page = await get(client, "/status")
    assert "请补充职称证书&lt;b&gt;扫描件&lt;/b&gt;" in page and 'href="/apply"' in page
    status, again = await get(client, "/apply")
    assert page_kind(again) == "review"
    edit = await act(client, again, "edit", "profile")
    assert edit.status == 303
    question = (await get(client, "/apply"))[1]
    await act(client, question, "answer", EXPERT["profile"] + "已补充职称证书。")
    back = (await get(client, "/apply"))[1]
    assert page_kind(back) == "review"
    resubmitted = await act(client, back, "submit")
    assert resubmitted.status == 303 and resubmitted.headers["Location"].startswith("/receipt/")
    status, page = await get(client, "/status")
    assert "撤回申请" in page


async def test_the_code_page_speaks_of_the_channel_the_code_went_by(client, other_client):
    for browser, address, said, not_said in ((client, "13912345678", "短信", "邮件"),
                                             (other_client, "mail@example.com", "垃圾邮件", "短信")):
        status, notice = await get(browser, "/signin")
        await post(browser, "/signin/notice", {"action": "agree"}, page=notice)
        form = (await get(browser, "/signin"))[1]
        assert (await post(browser, "/signin", {"address": address}, page=form)).status == 303
        status, code_page = await get(browser, "/signin/code")
        help_line = re.search(r'<p class="help" id="code-help">([^<]*)</p>', code_page)[1]
        assert said in help_line and not_said not in help_line, help_line


async def test_an_sms_in_the_local_mailbox_reads_as_an_sms_not_as_the_email(client):
    status, notice = await get(client, "/signin")
    await post(client, "/signin/notice", {"action": "agree"}, page=notice)
    form = (await get(client, "/signin"))[1]
    assert (await post(client, "/signin", {"address": "13912345678"}, page=form)).status == 303
    code = await latest_code(client, "13912345678")  # the subject line still carries it
    page = (await get(client, "/_mailbox"))[1]
    (article,) = [a for a in re.findall(r"<article.*?</article>", page, re.S) if "13912345678" in a]
    assert "[短信]" in article and f"code：{code}" in article
    assert "邮件" not in article.split("</h2>", 1)[1]  # nothing of "this e-mail" below the subject


async def test_an_answer_posted_after_signing_out_in_another_tab_says_so(client):
    page = await sign_in(client, "tabs@example.com")  # one tab on a question
    me = (await get(client, "/me"))[1]  # another tab: signs out
    assert (await post(client, "/signout", {"scope": "here"}, page=me)).status == 303
    response = await act(client, page, "agree" if page_kind(page).startswith("consent") else "role", "expert")
    body = await response.text()
    assert response.status == 403 and "已退出登录" in body and "/signin" in body  # not "the page expired"
