"""The issue's newcomer journey over HTTP: apply on the web with a PDF, the staff console shows the application
(its channel, the applicant's own words escaped), staff approve it, and the applicant's /status says so."""
from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient, TestServer

from console.app import create_app as create_console
from tests.e2e.web.support import EXPERT, act, answer_until_review, get, sign_in

PASSWORD = "a-long-enough-passphrase"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def test_a_web_application_reaches_the_console_and_its_review_reaches_status(core, client, clock):
    await sign_in(client, "web-expert@example.com", clock=clock)
    review = await answer_until_review(client, {**EXPERT, "name": "<script>alert(1)</script>王"})
    submitted = await act(client, review, "submit")
    assert submitted.status == 303 and submitted.headers["Location"].startswith("/receipt/")
    application_id = int(submitted.headers["Location"].rsplit("/", 1)[1])

    link = await core.staff.add(email="reviewer@example.org", name="王审核", role="reviewer", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    console = TestClient(TestServer(create_console(core)))
    await console.start_server()
    try:
        token = _csrf(await (await console.get("/login")).text())
        await console.post("/login", data={"csrf_token": token, "email": "reviewer@example.org", "password": PASSWORD})
        detail = await (await console.get(f"/applications/{application_id}")).text()
        assert "填写渠道：网页（邮箱登录）" in detail
        assert "<script>alert(1)</script>" not in detail and "&lt;script&gt;alert(1)&lt;/script&gt;王" in detail
        approved = await console.post(f"/applications/{application_id}/approve",
                                      data={"csrf_token": _csrf(detail), "message": ""}, allow_redirects=False)
        assert approved.status == 303
    finally:
        await console.close()

    status, page = await get(client, "/status")
    assert status == 200 and "审核通过" in html.unescape(page)
