"""Bad input from staff gets a clear answer, never a 500 (issue 23, part 1), on SQLite and PostgreSQL:

- an id in a path beyond what the database holds is the 404 page (one check for every route);
- a number in a form beyond its range is the form again (400) with the message beside the field and what was typed;
- every free text has one limit (core.domain.limits), enforced by the core services and shown beside the field;
- a workshop's link is an http(s) address; a reason that reaches an applicant reads as one message.
"""
from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from console.app import create_app
from core.domain import DomainError
from core.domain.limits import REVIEW_REASON, WORKSHOP_LINK, WORKSHOP_TITLE, WORKSHOP_VENUE
from core.domain.status import ApplicationStatus
from tests.support.factories import submitted_expert

PASSWORD = "a-long-enough-passphrase"
HUGE_64 = "9223372036854775808"   # 2**63: beyond SQLite's INTEGER (OverflowError before the fix)
HUGE_32 = "2147483648"            # 2**31: beyond PostgreSQL's INTEGER
HUGE = "100000000000000000000"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _field_error(page: str, key: str) -> str:
    """The message shown beside the field `key` (its note's error), unescaped."""
    found = re.search(rf'<span class="field-note" id="note-{re.escape(key)}">.*?<span class="field-error">(.*?)</span>',
                      page, re.S)
    assert found, f"no message beside {key}"
    return html.unescape(found.group(1))


@pytest.fixture
async def client(core) -> AsyncIterator[TestClient]:
    link = await core.staff.add(email="li@example.org", name="李协调", role="coordinator", actor="test")
    await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
    client = TestClient(TestServer(create_app(core)))
    await client.start_server()
    token = _csrf(await (await client.get("/login")).text())
    signed_in = await client.post("/login", data={"csrf_token": token, "email": "li@example.org", "password": PASSWORD},
                                  allow_redirects=False)
    assert signed_in.status == 303
    try:
        yield client
    finally:
        await client.close()


async def _token(client, path: str) -> str:
    return _csrf(await (await client.get(path)).text())


async def test_an_id_no_row_can_have_is_not_found_on_every_route(core, client):
    application_id = await submitted_expert(core)
    for path in (f"/applications/{HUGE_64}", f"/applications/{HUGE_32}", f"/applications/{HUGE}",
                 f"/applications/{application_id}/documents/{HUGE_64}", f"/applications/{HUGE_32}/documents/1",
                 f"/matching/runs/{HUGE_64}", f"/matching/runs/{HUGE_32}", f"/matching/runs/{HUGE_32}.xlsx",
                 f"/appointments/{HUGE_64}", f"/appointments/{HUGE_32}", f"/workshops/{HUGE_32}",
                 f"/workshops/{HUGE_64}", f"/staff/{HUGE_64}", f"/batches/{HUGE_64}", "/applications/" + "9" * 5000):
        response = await client.get(path)
        assert response.status == 404, path
        assert "找不到该页面或对象" in await response.text(), path
    # A POST to an object that cannot exist: 404 too, nothing changed.
    token = await _token(client, "/workshops")
    for path in (f"/workshops/{HUGE_32}/cancel", f"/appointments/{HUGE_64}/filing", f"/matching/runs/{HUGE_32}/confirm",
                 f"/applications/{HUGE_64}/reject"):
        response = await client.post(path, data={"csrf_token": token, "reason": "x", "message": "x"},
                                     allow_redirects=False)
        assert response.status == 404, path


async def test_a_number_beyond_range_in_a_query_string_reads_as_absent(core, client):
    for path in (f"/audit?before={HUGE_64}", f"/audit?before={HUGE_32}", f"/notifications?before={HUGE_64}",
                 f"/?batch={HUGE_64}", "/applications?size=" + "9" * 5000, f"/applications?ok=retried&count={'9' * 5000}"):
        response = await client.get(path)
        assert response.status == 200, path


async def test_a_number_beyond_range_in_a_form_is_a_field_error_with_the_form_again(core, client):
    token = await _token(client, "/matching")
    response = await client.post("/matching/runs", data={"csrf_token": token, "batch_id": HUGE_64, "time_limit": "7"})
    page = await response.text()
    assert response.status == 400 and str(response.url).endswith("/matching/runs")
    assert _field_error(page, "batch_id") == f"没有编号为「{HUGE_64}」的批次。"
    assert 'name="time_limit"' in page and 'value="7"' in page  # the form again, with what was typed

    response = await client.post("/matching/cap", data={"csrf_token": token, "expert_application_id": "E01-000001",
                                                        "max_universities": HUGE, "reason": "急需领域的唯一人选"})
    page = await response.text()
    assert response.status == 400
    assert _field_error(page, "max_universities") == f"「最多受聘高校数」应为 3–10 之间的整数，您输入的是「{HUGE}」。"
    assert "急需领域的唯一人选" in html.unescape(page)

    response = await client.post("/matching/runs", data={"csrf_token": token, "batch_id": "1", "time_limit": HUGE})
    assert response.status == 400
    assert "「计算时限（秒）」应为 1–600 之间的整数" in _field_error(await response.text(), "time_limit")

    response = await client.post("/appointments/publicity", data={"csrf_token": token, "appointment": HUGE_64,
                                                                  "starts_on": "2025-09-01"})
    page = html.unescape(await response.text())
    assert response.status == 400 and f"没有编号为「{HUGE_64}」的聘任。" in page and "公示、协议与备案" in page

    response = await client.post("/notifications/retry", data={"csrf_token": token, "id": HUGE_64})
    page = html.unescape(await response.text())
    assert response.status == 400 and f"没有编号为「{HUGE_64}」的通知。" in page


async def test_workshop_texts_have_one_limit_shown_beside_the_field_and_enforced_on_both_databases(core, client):
    page = await (await client.get("/workshops")).text()
    for limit in (WORKSHOP_TITLE, WORKSHOP_VENUE, WORKSHOP_LINK):
        assert f'maxlength="{limit.max}" aria-describedby="note-{limit.key}"' in page
        assert f'id="note-{limit.key}"><span class="hint">最多 {limit.max} 个字</span>' in page
    token = _csrf(page)
    good = {"csrf_token": token, "kind": "demo_workshop", "title": "创新思维示范课", "starts_at": "2025-09-01T14:00",
            "ends_at": "2025-09-01T16:00", "venue": "北京", "online_url": "https://meeting.example.cn/1",
            "description": ""}
    for field, key, value, message in (
        ("title", "workshop.title", "题" * 300, "「活动名称」最多 100 个字，您输入了 300 个字。"),
        ("venue", "workshop.venue", "地" * 1000, "「地点」最多 200 个字，您输入了 1000 个字。"),
        ("online_url", "workshop.online_url", "https://meeting.example.cn/" + "a" * 600,
         "「线上会议链接」最多 500 个字，您输入了 627 个字。"),
        ("online_url", "workshop.online_url", "javascript:alert(1)",
         "「线上会议链接」须是以 http:// 或 https:// 开头的网址"),
    ):
        response = await client.post("/workshops", data={**good, field: value}, allow_redirects=False)
        page = await response.text()
        assert response.status == 400, field
        assert str(response.url).endswith("/workshops")
        assert message in _field_error(page, key)
        assert html.escape(value) in page  # what was typed is kept
    assert await core.events.list(staff="test", include_past=True, include_cancelled=True) == []

    created = await client.post("/workshops", data=good, allow_redirects=False)
    assert created.status == 303
    event_id = int(created.headers["Location"].split("/")[2].split("?")[0])
    response = await client.post(f"/workshops/{event_id}/update", data={**good, "online_url": "javascript:alert(1)"})
    page = await response.text()
    assert response.status == 400 and "须是以 http:// 或 https:// 开头的网址" in _field_error(page, "workshop.online_url")
    assert "javascript:alert(1)" in page  # the address typed stays in the box to be corrected
    assert (await core.events.get(staff="test", event_id=event_id)).online_url == "https://meeting.example.cn/1"

    # The core refuses the same, whatever the entry point (the bot, the CLI).
    from datetime import datetime, timedelta, timezone
    start = datetime(2025, 9, 2, 6, tzinfo=timezone.utc)
    for values in ({"title": "题" * 101}, {"venue": "地" * 201}, {"online_url": "javascript:alert(1)"},
                   {"online_url": "ftp://files.example.cn/x"}, {"online_url": "https://"},
                   {"description": "说" * 2001}):
        with pytest.raises(DomainError) as refusal:
            await core.events.create(**{"kind": "seminar", "title": "研讨会", "starts_at": start,
                                        "ends_at": start + timedelta(hours=1), "actor": "test", **values})
        assert refusal.value.field is not None
    # At the limit: stored whole, on PostgreSQL as on SQLite.
    at_limit = await core.events.create(kind="seminar", title="题" * WORKSHOP_TITLE.max, starts_at=start,
                                        ends_at=start + timedelta(hours=1), venue="地" * WORKSHOP_VENUE.max,
                                        online_url="https://e.cn/" + "a" * (WORKSHOP_LINK.max - 13), actor="test")
    stored = await core.events.get(staff="test", event_id=at_limit.id)
    assert len(stored.title) == 100 and len(stored.venue) == 200 and len(stored.online_url) == 500


async def test_a_reason_for_the_applicant_reads_as_one_message(core, client):
    application_id = await submitted_expert(core)
    page = await (await client.get(f"/applications/{application_id}")).text()
    assert f'maxlength="{REVIEW_REASON.max}" aria-describedby="note-review.reason"' in page
    token = _csrf(page)
    response = await client.post(f"/applications/{application_id}/reject",
                                 data={"csrf_token": token, "message": "不" * 100_000})
    page = await response.text()
    assert response.status == 400
    assert _field_error(page, "review.reason") == "「原因」最多 500 个字，您输入了 100000 个字。请精简后重新提交。"
    assert "不" * 100_000 in page  # kept, to be shortened
    assert (await core.review.statuses(staff="test", application_ids=[application_id]))[application_id] is ApplicationStatus.SUBMITTED

    with pytest.raises(DomainError) as refusal:
        await core.review.request_info(application_id=application_id, staff="staff:1", message="补" * 501)
    assert refusal.value.code == "too_long"
    done = await core.review.reject(application_id=application_id, staff="staff:1", reason="因" * 500)
    assert done.status is ApplicationStatus.REJECTED
