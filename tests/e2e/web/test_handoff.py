"""The page an answer's POST drew is what the GET its redirect leads to shows, without reading again
(web.handoff); a reload, another process or a signed-out session reads as before. SQLite and PostgreSQL."""
from __future__ import annotations

from tests.e2e.web.support import act, get, post, question_of, sign_in, token_of
from tests.support.statements import statements


async def test_the_page_after_an_answer_is_the_one_core_drew_and_a_reload_reads_it_again(client, core):
    await sign_in(client, "handoff@example.com")
    role = (await get(client, "/apply"))[1]
    await act(client, role, "role", "expert")
    first = (await get(client, "/apply"))[1]
    assert question_of(first)[0] == "name"
    response = await act(client, first, "answer", "张三")
    assert response.status == 303 and response.headers["Location"] == "/apply"
    with statements(core) as seen:
        status, handed = await get(client, "/apply")
    assert status == 200 and seen == []  # neither the session nor the draft read again
    assert question_of(handed)[0] != "name"
    with statements(core) as seen:
        status, reloaded = await get(client, "/apply")
    assert status == 200 and seen  # a reload reads the database
    assert token_of(reloaded) == token_of(handed) and question_of(reloaded) == question_of(handed)
    # The page handed on is a real page: its token acts.
    assert (await act(client, handed, "back")).status == 303
    assert question_of((await get(client, "/apply"))[1])[0] == "name"


async def test_a_session_signed_out_after_the_answer_gets_no_page_handed_on(client):
    await sign_in(client, "handoff2@example.com")
    role = (await get(client, "/apply"))[1]
    await act(client, role, "role", "expert")
    first = (await get(client, "/apply"))[1]
    cookies = {cookie.key: cookie.value for cookie in client.session.cookie_jar}
    assert (await act(client, first, "answer", "李四")).status == 303  # its redirect not followed yet
    # Signed out straight away (the question page's form token serves: it is the session's).
    assert (await post(client, "/signout", {"scope": "here"}, page=first)).status == 303
    # The old cookie, replayed: the session is gone, and so is the page the answer drew.
    client.session.cookie_jar.update_cookies(cookies)
    response = await client.get("/apply", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/signin"
