"""Withdrawing on the web, as a newcomer does it: a draft withdrawn before it was ever submitted has no receipt
(nor a reference number to quote), and the same withdrawal confirmed again from a second tab says it is done
instead of a page that is not there. Both databases."""
from __future__ import annotations

import re

from tests.e2e.web.support import act, get, page_kind, post, question_of, sign_in


async def _draft(client) -> int:
    """A signed-in expert with a draft just started (the role chosen, nothing submitted)."""
    await sign_in(client, "draft@example.com")
    page = (await get(client, "/apply"))[1]
    for _ in range(3):
        kind = page_kind(page)
        if kind == "role":
            await act(client, page, "role", "expert")
        elif kind.startswith("consent"):
            await act(client, page, "agree")
        else:
            break
        page = (await get(client, "/apply"))[1]
    status_page = (await get(client, "/status"))[1]
    return int(re.search(r"/status/(\d+)/withdraw", status_page)[1])


async def test_a_draft_never_submitted_has_no_receipt_before_or_after_it_is_withdrawn(client):
    application_id = await _draft(client)
    status, status_page = await get(client, "/status")
    assert "查看回执" not in status_page
    assert "受理编号" not in status_page
    assert (await get(client, f"/receipt/{application_id}"))[0] == 404  # not a server error
    confirm = (await get(client, f"/status/{application_id}/withdraw"))[1]
    # It says what will happen: one application of a form per batch (no promise of applying again).
    assert "本批次内不能再提交同一张表" in confirm and "再次申请" not in confirm
    done = await post(client, f"/status/{application_id}/withdraw", {}, page=confirm)
    assert done.status == 303
    status, status_page = await get(client, "/status")
    assert status == 200 and "已撤回" in status_page
    assert "查看回执" not in status_page and f"/receipt/{application_id}" not in status_page
    status, page = await get(client, f"/receipt/{application_id}")
    assert status == 404 and "服务器" not in page


async def test_a_withdrawal_confirmed_again_from_another_tab_says_it_is_already_withdrawn(client):
    application_id = await _draft(client)
    first_tab = (await get(client, f"/status/{application_id}/withdraw"))[1]
    second_tab = (await get(client, f"/status/{application_id}/withdraw"))[1]
    assert (await post(client, f"/status/{application_id}/withdraw", {}, page=first_tab)).status == 303
    again = await post(client, f"/status/{application_id}/withdraw", {}, page=second_tab)
    assert again.status == 303 and again.headers["Location"] == "/status?withdrawn=1"
    status, page = await get(client, again.headers["Location"])
    assert status == 200 and "申请已撤回" in page
    # The confirmation page opened after the fact leads to the same place, and changes nothing on its own.
    late = await client.get(f"/status/{application_id}/withdraw", allow_redirects=False)
    assert late.status == 303 and late.headers["Location"] == "/status?withdrawn=1"


async def test_a_wrong_role_is_undone_with_the_first_questions_back_button(client):
    await sign_in(client, "role@example.com")
    page = (await get(client, "/apply"))[1]
    while page_kind(page) != "question":
        await act(client, page, "role", "expert") if page_kind(page) == "role" else await act(client, page, "agree")
        page = (await get(client, "/apply"))[1]
    assert 'value="back"' in page  # 上一步 on the first question
    assert (await act(client, page, "back")).status == 303
    role_page = (await get(client, "/apply"))[1]
    assert page_kind(role_page) == "role"
    assert (await act(client, role_page, "role", "university")).status == 303
    university = (await get(client, "/apply"))[1]
    assert page_kind(university) == "question" and question_of(university)[0] != question_of(page)[0]
    status_page = (await get(client, "/status"))[1]
    assert status_page.count('<section class="card') == 1  # the untouched expert draft went with the change
