"""After the application, on the web: a university ranks its candidates, an expert marks universities, both
sides answer a proposal from the link in its e-mail, an invitee answers a workshop from its link, a reminder is
unsubscribed in one click; a scanner fetching every link of every e-mail changes nothing. Both databases."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.db.models import Appointment, EventInvitation, NotificationOptOut, Recommendation
from tests.e2e.web.support import get, post
from tests.support.factories import approved_expert, confirmed_pairs, submitted_university
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
from web.app import create_app

LINK = re.compile(r"https?://[^\s<>\"）)]+/(?:l|unsubscribe)/[0-9a-z._]+")


async def browser(core) -> TestClient:
    client = TestClient(TestServer(create_app(core)))
    await client.start_server()
    return client


async def signed_in_as(core, person_id: int) -> TestClient:
    """A browser where this person signed in with a code (the session as sign-in opens it)."""
    client = await browser(core)
    session_id = await core.signin.open_session(person_id=person_id, user_agent="test", ip="127.0.0.1")
    client.session.cookie_jar.update_cookies({"innoeng_web": session_id})
    return client


async def links_in_mailbox(core) -> list[str]:
    """Every link in every e-mail the local mailbox page shows, as a person reading them would follow."""
    client = await browser(core)
    try:
        status, page = await get(client, "/_mailbox")
    finally:
        await client.close()
    assert status == 200
    return sorted(set(LINK.findall(html.unescape(page))))


def local(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def state(core) -> tuple:
    async with core.uow() as uow:
        appointments = (await uow.session.execute(select(
            Appointment.id, Appointment.expert_response, Appointment.university_response, Appointment.status))).all()
        marks = (await uow.session.execute(select(Recommendation.id, Recommendation.choice))).all()
        rsvps = (await uow.session.execute(select(EventInvitation.id, EventInvitation.rsvp))).all()
        opt_outs = (await uow.session.execute(select(NotificationOptOut.person_id, NotificationOptOut.kind))).all()
    return sorted(appointments), sorted(marks), sorted(rsvps), sorted(opt_outs)


async def test_a_university_ranks_its_candidates_and_asks_for_more(core):
    for name in ("甲专家", "乙专家", "丙专家", "丁专家", "戊专家", "己专家"):  # one more than a first round shows
        await approved_expert(core, name=name, courses=["创新思维"])
    intent = await submitted_university(core, {"创新思维": (32, 1, "online")})
    contact = (await core.intake.get(application_id=intent)).person_id
    client = await signed_in_as(core, contact)
    try:
        status, page = await get(client, "/candidates")
        assert status == 200 and "《创新思维》：需要 1 位专家" in html.unescape(page)
        assert "甲专家" not in page and "乙专家" not in page  # anonymised until a match is confirmed
        ids = [int(i) for i in re.findall(r'id="candidate-(\d+)"', page)]
        assert len(ids) == core.settings.recommendations_per_course == 5
        ids = ids[:2]
        for recommendation in ids:
            response = await post(client, f"/candidates/{recommendation}", {"action": "want"}, page=page)
            assert response.status == 303
            page = (await get(client, "/candidates"))[1]
        assert "意向（第 2 位）" in html.unescape(page)
        await post(client, f"/candidates/{ids[1]}", {"action": "up"}, page=page)
        page = (await get(client, "/candidates"))[1]
        first = html.unescape(page).split(f'id="candidate-{ids[1]}"')[1].split("</article>")[0]
        assert "意向（第 1 位）" in first
        # Someone else's candidate reads as missing, and is left as it was.
        other = await approved_expert(core, name="庚专家", courses=["创新管理"])
        other_intent = await submitted_university(core, {"创新管理": (16, 1, "online")}, university_name="另一大学")
        async with core.uow() as uow:
            foreign = (await uow.session.scalars(select(Recommendation.id).where(
                Recommendation.expert_application_id == other))).first()
        refused = await post(client, f"/candidates/{foreign}", {"action": "not"}, page=page)
        assert refused.status == 404 and other_intent
        more = await post(client, "/candidates/more", {}, page=page, follow=True)
        page = html.unescape(await more.text())
        assert "新增了 1 位人选" in page and len(re.findall(r'id="candidate-(\d+)"', page)) == 6
        again = await post(client, "/candidates/more", {}, page=page, follow=True)
        assert "暂时没有更多符合条件的人选" in html.unescape(await again.text())
    finally:
        await client.close()


async def test_an_expert_marks_the_universities_they_were_recommended_to(core):
    expert = await approved_expert(core, courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="华北科技大学")
    person = (await core.intake.get(application_id=expert)).person_id
    client = await signed_in_as(core, person)
    try:
        status, page = await get(client, "/universities")
        assert status == 200 and "华北科技大学" in page
        university = int(re.search(r'id="university-(\d+)"', page)[1])
        response = await post(client, f"/universities/{university}", {"action": "not"}, page=page)
        assert response.status == 303
        page = (await get(client, "/universities"))[1]
        assert "当前标记：</strong>\n不考虑" in page or "不考虑" in html.unescape(page).split("当前标记：")[1][:40]
        status, page = await get(client, "/status")
        assert "/universities" in page
    finally:
        await client.close()


async def test_both_sides_answer_a_proposal_from_the_links_in_their_emails(core, clock):
    pairs = await confirmed_pairs(core)
    appointment, expert, university = pairs["创新思维"]
    links = await links_in_mailbox(core)
    proposal_links = []
    for url in links:
        grant = core.links.open(url.rsplit("/", 1)[1]) if "/l/" in url else None
        if grant and grant.purpose == "proposal" and grant.object_id == appointment:
            proposal_links.append((grant.person_id, url))
    assert {person for person, _ in proposal_links} == {expert, university}

    for person, url in proposal_links:
        client = await browser(core)  # a fresh browser: nobody signed in
        try:
            opened = await client.get(local(url), allow_redirects=True)
            page = await opened.text()
            assert opened.status == 200 and str(opened.url.path) == f"/proposals/{appointment}"
            assert "请在此之前答复" in page
            # The link opens this page only: any other asks for a code.
            assert str((await client.get("/status")).url.path) == "/signin"
            if person == expert:
                refused = await post(client, f"/proposals/{appointment}", {"answer": "decline", "reason": ""}, page=page)
                assert refused.status == 422 and "谢绝时请简要说明原因" in html.unescape(await refused.text())
            answered = await post(client, f"/proposals/{appointment}", {"answer": "accept"}, page=page, follow=True)
            assert "已记录您的答复" in await answered.text()
        finally:
            await client.close()
    async with core.uow() as uow:
        row = await uow.session.get(Appointment, appointment)
        assert (row.expert_response, row.university_response) == ("accepted", "accepted")

    # The other pair: the expert declines, with a reason.
    other, other_expert, _ = pairs["创新管理"]
    client = await signed_in_as(core, other_expert)
    try:
        page = (await get(client, f"/proposals/{other}"))[1]
        done = await post(client, f"/proposals/{other}", {"answer": "decline", "reason": "时间冲突"}, page=page)
        assert done.status == 303
        # A proposal of someone else reads exactly as a missing one.
        foreign = await client.get(f"/proposals/{appointment}")
        missing = await client.get("/proposals/999999")
        assert foreign.status == missing.status == 404 and await foreign.text() == await missing.text()
    finally:
        await client.close()
    async with core.uow() as uow:
        row = await uow.session.get(Appointment, other)
        assert row.expert_response == "declined" and row.expert_reason == "时间冲突"


async def test_a_scanner_fetching_every_link_of_every_email_changes_nothing(core, clock):
    pairs = await confirmed_pairs(core)
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", starts_at=clock() + timedelta(days=3),
                                     ends_at=clock() + timedelta(days=3, hours=2), venue="北京", actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people",
                             person_ids=[person for _, person, _ in pairs.values()])
    links = await links_in_mailbox(core)
    assert any("/unsubscribe/" in url for url in links) and any("/l/" in url for url in links)
    before = await state(core)
    scanner = await browser(core)
    try:
        for url in links:
            response = await scanner.get(local(url), allow_redirects=True)
            assert response.status in (200, 404), (url, response.status)
            await scanner.head(local(url))
    finally:
        await scanner.close()
    assert await state(core) == before
    assert pairs


async def test_a_workshop_invitation_is_answered_from_its_link_and_changed_later(core, clock):
    pairs = await confirmed_pairs(core)
    _, expert, _ = pairs["创新思维"]
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", starts_at=clock() + timedelta(days=3),
                                     ends_at=clock() + timedelta(days=3, hours=2), venue="北京市海淀区", actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people",
                             person_ids=[person for _, person, _ in pairs.values()])
    url = next(u for u in await links_in_mailbox(core) if "/l/" in u
               and (g := core.links.open(u.rsplit("/", 1)[1])).purpose == "event" and g.person_id == expert)
    client = await browser(core)
    try:
        opened = await client.get(local(url), allow_redirects=True)
        page = await opened.text()
        assert str(opened.url.path) == f"/events/{event.id}" and "北京市海淀区" in page
        await post(client, f"/events/{event.id}", {"answer": "yes"}, page=page)
        page = (await get(client, f"/events/{event.id}"))[1]
        assert "您的回复" in page and 'aria-pressed="true">参加' in page
        await post(client, f"/events/{event.id}", {"answer": "no"}, page=page)
    finally:
        await client.close()
    invitation = await core.events.invitation_for(person_id=expert, event_id=event.id)
    assert invitation.rsvp == "no"
    signed = await signed_in_as(core, expert)
    try:
        response = await signed.get(f"/events/{event.id}.ics")
        assert response.status == 200 and "BEGIN:VCALENDAR" in await response.text()
    finally:
        await signed.close()


async def test_expired_altered_and_foreign_links_open_nothing(core, clock):
    pairs = await confirmed_pairs(core)
    appointment, expert, university = pairs["创新思维"]
    url = next(u for u in await links_in_mailbox(core) if "/l/" in u
               and core.links.open(u.rsplit("/", 1)[1]).person_id == expert)
    token = url.rsplit("/", 1)[1]
    client = await browser(core)
    try:
        altered = token[:-1] + ("a" if token[-1] != "a" else "b")
        response = await client.get(f"/l/{altered}")
        assert response.status == 404 and "链接无效" in await response.text()
        # Signed in as the other side: the expert's link is not theirs.
        other = await signed_in_as(core, university)
        try:
            response = await other.get(f"/l/{token}", allow_redirects=False)
            assert response.status == 403 and "属于另一位用户" in await response.text()
        finally:
            await other.close()
        clock.advance(days=40)
        response = await client.get(f"/l/{token}")
        assert response.status == 410 and "已过期" in await response.text()
    finally:
        await client.close()
    async with core.uow() as uow:
        row = await uow.session.get(Appointment, appointment)
        assert row.expert_response is None


async def test_a_reminder_is_unsubscribed_in_one_click_and_decisions_are_not(core, clock):
    pairs = await confirmed_pairs(core)
    _, expert, _ = pairs["创新思维"]
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", starts_at=clock() + timedelta(days=3),
                                     ends_at=clock() + timedelta(days=3, hours=2), venue="北京", actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people",
                             person_ids=[person for _, person, _ in pairs.values()])
    url = next(u for u in await links_in_mailbox(core) if "/unsubscribe/" in u
               and core.links.open(u.rsplit("/", 1)[1]).person_id == expert)
    provider = await browser(core)  # a mail provider: no cookie, no CSRF token
    try:
        page = await (await provider.get(local(url))).text()
        assert "确定退订" in page
        response = await provider.post(local(url), data={"List-Unsubscribe": "One-Click"})
        assert response.status == 200
    finally:
        await provider.close()
    kind = str(core.links.open(url.rsplit("/", 1)[1]).object_id)
    assert kind in await core.preferences.unsubscribed(expert)
