"""The console over plain HTTP on both databases: redirects, CSRF and Origin, headers, cookies, error pages."""
from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from console.app import create_app

PASSWORD = "a-long-enough-passphrase"


async def _client(core, *, secure_cookies=False, extra_routes=()) -> TestClient:
    app = create_app(core, secure_cookies=secure_cookies)
    for path, handler in extra_routes:
        app.router.add_get(path, handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(core) -> AsyncIterator[TestClient]:
    client = await _client(core)
    try:
        yield client
    finally:
        await client.close()


async def _account(core, email="wang@example.org"):
    link = await core.staff.add(email=email, name="王审核", role="reviewer", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


async def _log_in(client, email="wang@example.org", next_path=""):
    token = _csrf(await (await client.get("/login")).text())
    return await client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD,
                                             "next": next_path}, allow_redirects=False)


async def test_login_goes_back_to_the_page_asked_for_but_never_off_site(core, client):
    await _account(core)
    response = await _log_in(client, next_path="/audit?actor=x")
    assert response.status == 303 and response.headers["Location"] == "/audit?actor=x"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        client.session.cookie_jar.clear()
        response = await _log_in(client, next_path=hostile)
        assert response.status == 303 and response.headers["Location"] == "/", hostile


async def test_a_login_post_without_its_token_or_from_another_site_is_refused(core, client):
    await _account(core)
    response = await client.post("/login", data={"email": "wang@example.org", "password": PASSWORD}, allow_redirects=False)
    assert response.status == 403 and "安全校验未通过" in await response.text()
    token = _csrf(await (await client.get("/login")).text())
    response = await client.post("/login", data={"csrf_token": token, "email": "wang@example.org", "password": PASSWORD},
                                 headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert response.status == 403
    response = await client.post("/login", data={"csrf_token": token, "email": "wang@example.org", "password": PASSWORD},
                                 headers={"Origin": f"http://{client.host}:{client.port}"}, allow_redirects=False)
    assert response.status == 303


async def test_the_session_cookie_is_httponly_lax_and_a_fresh_token_each_login(core, client):
    await _account(core)
    first = (await _log_in(client)).cookies["innoeng_session"]
    assert first["httponly"] and first["samesite"] == "Lax" and not first["secure"]
    client.session.cookie_jar.clear()
    second = (await _log_in(client)).cookies["innoeng_session"]
    assert second.value != first.value


async def test_behind_https_the_cookie_is_secure_and_host_only(core):
    await _account(core)
    client = await _client(core, secure_cookies=True)
    try:
        # The test talks plain HTTP, so the client keeps Secure cookies to itself: hand the form's one back.
        form_page = await client.get("/login")
        anonymous = form_page.cookies["innoeng_csrf"]
        assert anonymous["secure"]
        response = await client.post("/login", data={"csrf_token": _csrf(await form_page.text()), "email": "wang@example.org",
                                                     "password": PASSWORD}, headers={"Cookie": f"innoeng_csrf={anonymous.value}"},
                                     allow_redirects=False)
        cookie = response.cookies["__Host-innoeng_session"]
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
        assert "max-age" in (await client.get("/login")).headers["Strict-Transport-Security"]
    finally:
        await client.close()


async def test_error_pages_carry_the_headers_and_never_a_trace(core):
    async def broken(request):
        raise RuntimeError("secret internals")

    client = await _client(core, extra_routes=[("/login/broken", broken)])
    try:
        response = await client.get("/login/broken")
        body = await response.text()
        assert response.status == 500
        assert "服务器内部错误" in body and "secret internals" not in body and "Traceback" not in body
        assert re.search(r"错误编号 [0-9a-f]{8}", body)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        await _account(core)
        await _log_in(client)
        missing = await client.get("/batches/1")  # a reviewer asking for an admin page
        assert missing.status == 403 and missing.headers["X-Frame-Options"] == "DENY"
    finally:
        await client.close()


async def test_static_files_are_served_with_their_type_and_no_sniffing(client):
    response = await client.get("/static/console.css")
    assert response.status == 200 and response.content_type == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/static/%2e%2e/%2e%2e/core/settings.py", "/static/..%2f..%2fcore%2fsettings.py"):
        escaped = await client.get(URL(path, encoded=True), allow_redirects=False)
        assert escaped.status in (403, 404) and "console_port" not in await escaped.text(), path


async def test_an_ended_session_sends_to_login_saying_so(core, client):
    await _account(core)
    await _log_in(client)
    assert (await client.get("/", allow_redirects=False)).status == 200
    page = await (await client.get("/")).text()
    await client.post("/logout", data={"csrf_token": _csrf(page)}, allow_redirects=False)
    # A copy of the old cookie (e.g. stolen) does not come back to life.
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")


async def test_refusals_from_aiohttp_itself_are_pages_in_chinese(core, client):
    await _account(core)
    await _log_in(client)
    page = await (await client.get("/")).text()
    too_large = await client.post("/notifications/retry", data={"csrf_token": _csrf(page), "note": "x" * (3 * 1024 * 1024)})
    assert too_large.status == 413 and "提交的内容太大" in await too_large.text()
    wrong_method = await client.put("/login", data={"csrf_token": _csrf(page)})
    assert wrong_method.status == 405 and "不支持以这种方式" in await wrong_method.text()
