"""Driving the web pages over HTTP as a browser would: forms with their CSRF token, codes from the local mailbox."""
from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]*)"')


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "no CSRF token on the page"
    return html.unescape(match[1])


def token_of(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "no screen token on the page"
    return html.unescape(match[1])


def heading_of(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match, "no heading"
    return html.unescape(re.sub(r"<[^>]+>", "", match[1])).strip()


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S)[1]).strip()


async def get(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path, allow_redirects=True)
    page = await response.text()
    assert 'name="csrf_token" value=""' not in page, "a form without its CSRF token"
    return response.status, page


async def post(client: TestClient, path: str, data: dict | list, *, page: str | None = None,
               follow: bool = False, headers: dict | None = None):
    """Posts a form with the CSRF token of `page` (or of a fresh GET of `path`)."""
    if page is None:
        page = (await get(client, path))[1]
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    fields.append(("csrf_token", csrf_of(page)))
    return await client.post(path, data=fields, allow_redirects=follow, headers=headers or {})


async def latest_code(client: TestClient, address: str) -> str:
    status, page = await get(client, "/_mailbox")
    assert status == 200
    for article in re.findall(r"<article.*?</article>", page, re.S):
        if f"收件人：{address}" in html.unescape(article):
            return re.search(r"验证码：(\d{6})", html.unescape(article))[1]
    raise AssertionError(f"no code for {address} in the mailbox")


async def sign_in(client: TestClient, address: str, *, clock=None) -> str:
    """Notice → agree → address → code from the mailbox → signed in; returns the first page after it.

    With `clock` (a FrozenClock), time moves on two minutes first: one code a minute per address."""
    if clock is not None:
        clock.advance(minutes=2)
    status, notice = await get(client, "/signin")
    assert status == 200 and "个人信息处理告知" in notice
    response = await post(client, "/signin/notice", {"action": "agree"}, page=notice)
    assert response.status == 303
    status, form = await get(client, "/signin")
    assert 'name="address"' in form
    response = await post(client, "/signin", {"address": address}, page=form)
    assert response.status == 303 and response.headers["Location"] == "/signin/code"
    code = await latest_code(client, address.lower())
    status, code_page = await get(client, "/signin/code")
    response = await post(client, "/signin/code", {"code": code, "action": "verify"}, page=code_page)
    assert response.status == 303 and response.headers["Location"] == "/apply", await response.text()
    return (await get(client, "/apply"))[1]


# What a person types or picks, by question key (the same answers as tests/integration/core/test_dialog.py).
EXPERT = {
    "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "zhangsan@example.com",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": "10", "position": "总工程师", "education": "master", "title": "senior_associate",
    "priority_conditions": ["major_invention_patent"], "priority_description": "发明专利 ZL2019 一项",
    "society_member": "yes", "courses": ["创新思维", "技术创新方法"], "duties": ["teaching", "co_developing"],
    "teaching_mode": "both", "available_times": ["weekend_intensive"], "offline_provinces": ["北京", "天津"],
    "max_universities": "2", "employer_consent": "yes",
    "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。", "declaration": "yes",
}


def page_kind(page: str) -> str:
    return re.search(r'data-page="([^"]*)"', page)[1]


def question_of(page: str) -> tuple[str, str]:
    match = re.search(r'data-question="([^"]*)" data-kind="([^"]*)"', page)
    assert match, "not a question page"
    return html.unescape(match[1]), match[2]


async def act(client: TestClient, page: str, action: str, value=None, *, token: str | None = None):
    """Posts one act from `page` (its CSRF token and screen token) and returns the response (not followed)."""
    fields = [("action", action), ("token", token if token is not None else token_of(page))]
    if isinstance(value, list):
        fields.append(("multi", "1"))
        fields.extend(("value", v) for v in value)
    elif value is not None:
        fields.append(("value", value))
    return await post(client, "/apply", fields, page=page)


async def upload(client: TestClient, page: str, content: bytes, filename: str, content_type: str = "application/pdf"):
    from aiohttp import FormData

    form = FormData(quote_fields=False)  # as browsers send it: the UTF-8 name as is
    form.add_field("csrf_token", csrf_of(page))
    form.add_field("action", "upload")
    form.add_field("token", token_of(page))
    form.add_field("file", content, filename=filename, content_type=content_type)
    return await client.post("/apply", data=form, allow_redirects=False)


async def answer_until_review(client: TestClient, answers: dict = EXPERT, *, role: str = "expert",
                              file=None) -> str:
    """Answers every page /apply shows, by its kind, until the review; returns the review page."""
    from core.sample import SAMPLE_PDF

    file = file or (SAMPLE_PDF, "学位证书.pdf")
    page = (await get(client, "/apply"))[1]
    for _ in range(100):
        kind = page_kind(page)
        if kind == "review":
            return page
        if kind == "role":
            response = await act(client, page, "role", role)
        elif kind.startswith("consent"):
            response = await act(client, page, "agree")
        else:
            key, question_kind = question_of(page)
            if question_kind == "file":
                if "/files/" not in page:
                    response = await upload(client, page, *file)
                    assert response.status == 303, await response.text()
                    page = (await get(client, "/apply"))[1]
                response = await act(client, page, "finish")
            elif key in answers:
                response = await act(client, page, "answer", answers[key])
            else:
                response = await act(client, page, "skip")
        assert response.status == 303 and response.headers["Location"] == "/apply", (page_kind(page), await response.text())
        page = (await get(client, "/apply"))[1]
    raise AssertionError("never reached the review")
