"""After the application, in Debian's Chromium at phone size inside WeChat (390×844, WeChat's user agent): a
university contact ranks the experts recommended to it (意向, 提前, 不考虑) and asks for more; experts mark the
universities they were recommended to; after a matching run and its confirmation (what staff do with
`innoeng match run` + `innoeng match confirm`), both sides find the proposal e-mail on the local mailbox page,
open its link in a fresh browser (nobody signed in) and accept; in the other pair the expert declines, first
without a reason (the page says why), then with one; the publicity starts and /status shows it; a workshop
invitation is answered from the link in its e-mail and changed later. Every outcome is read from the database.

The people here came to the web without Telegram: each signed in with an e-mail code and applied (the helpers
below do through core what the browser tests of the application pages do in the browser). Screenshots go to
tests/e2e/web/screenshots/ (git-ignored), named after-*.png."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import (
    Appointment,
    CourseDemand,
    EventInvitation,
    ExpertPreference,
    OutboxMessage,
    Recommendation,
)
from core.sample import SAMPLE_PDF
from core.services import FINISH_FILES
from core.texts import text
from tests.e2e.web.browsing import no_horizontal_scroll, page_kind, sign_in
from tests.support.factories import EXPERT, UNIVERSITY

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://[^\s<>\"）)]+/l/[0-9a-z._]+")

COURSE_A, COURSE_B = "创新思维", "创新管理"
CONTACT = "li.laoshi@example.edu.cn"
# Six experts for 创新思维 (a first round shows five: "more" brings the sixth), one for 创新管理.
EXPERTS = {
    "甲专家": ("jia@example.com", COURSE_A), "乙专家": ("yi@example.com", COURSE_A),
    "丙专家": ("bing@example.com", COURSE_A), "丁专家": ("ding@example.com", COURSE_A),
    "戊专家": ("wu@example.com", COURSE_A), "己专家": ("ji@example.com", COURSE_A),
    "杨专家": ("yang@example.com", COURSE_B),
}


# ---------------------------------------------------------------- people who came to the web (through core)

async def _code_sent_to(core, address: str) -> str:
    """The newest sign-in code queued to `address` (what the person reads in their mailbox)."""
    async with core.uow() as uow:
        payload = await uow.session.scalar(select(OutboxMessage.payload).where(
            OutboxMessage.kind == "signin_code", OutboxMessage.address == address).order_by(OutboxMessage.id.desc()))
    return payload["code"]


async def web_person(core, email: str) -> int:
    """Someone who signed in on the web with an e-mail code (no Telegram) and agreed to the notice."""
    await core.signin.request_code(channel="email", address=email, ip="")
    person = await core.signin.verify(channel="email", address=email, code=await _code_sent_to(core, email), ip="")
    await core.people.give_consent(person_id=person.id)
    await core.people.give_consent(person_id=person.id, sensitive=True)
    return person.id


async def web_expert(core, *, name: str, email: str, course: str) -> int:
    """An approved expert application of a web person; returns the application's id."""
    person = await web_person(core, email)
    draft = await core.intake.start(person_id=person, form="expert")
    await core.intake.fill(application_id=draft.application_id,
                           answers={**EXPERT, "name": name, "email": email, "courses": [course]})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    await core.review.approve(application_id=draft.application_id, staff="staff:test")
    return draft.application_id


async def web_university(core, *, email: str, courses: dict[str, int]) -> int:
    """A submitted university intent of a web person, one expert per course, online; the application's id."""
    person = await web_person(core, email)
    draft = await core.intake.start(person_id=person, form="university")
    answers: dict[str, Any] = {**UNIVERSITY, "university_name": "华北科技大学", "contact_name": "李明",
                               "contact_email": email, "courses": list(courses)}
    for course, hours in courses.items():
        answers[f"course_demand[{course}].hours"] = hours
        answers[f"course_demand[{course}].experts_needed"] = 1
        answers[f"course_demand[{course}].mode"] = "online"
    await core.intake.fill(application_id=draft.application_id, answers=answers)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def the_batch(core) -> dict[str, int]:
    """Seven approved experts and one university intent: {name or 'university': application id}."""
    ids = {name: await web_expert(core, name=name, email=email, course=course)
           for name, (email, course) in EXPERTS.items()}
    ids["university"] = await web_university(core, email=CONTACT, courses={COURSE_A: 32, COURSE_B: 16})
    return ids


async def person_of(core, application_id: int) -> int:
    return (await core.intake.get(application_id=application_id)).person_id


async def recommendations(core, university: int) -> dict[int, tuple[int, str | None, int | None]]:
    """{recommendation id: (expert application id, choice, want rank)} for this university's intent."""
    async with core.uow() as uow:
        rows = (await uow.session.execute(
            select(Recommendation.id, Recommendation.expert_application_id, Recommendation.choice,
                   Recommendation.want_rank).join(CourseDemand, CourseDemand.id == Recommendation.demand_id)
            .where(CourseDemand.application_id == university))).all()
    return {r.id: (r.expert_application_id, r.choice, r.want_rank) for r in rows}


async def expert_marks(core, expert: int) -> dict[int, str]:
    async with core.uow() as uow:
        rows = (await uow.session.execute(select(ExpertPreference.university_application_id, ExpertPreference.choice)
                                          .where(ExpertPreference.expert_application_id == expert))).all()
    return dict(rows)


async def run_and_confirm(core) -> dict[str, tuple[int, int]]:
    """Staff's `innoeng match run` then `innoeng match confirm`: {course: (appointment id, expert application)}."""
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:1")
    return {p.course: (p.appointment_id, p.expert_application_id) for p in run.proposals}


async def appointment(core, appointment_id: int) -> Appointment:
    async with core.uow() as uow:
        row = await uow.session.get(Appointment, appointment_id)
        uow.session.expunge(row)
        return row


async def rsvp(core, event_id: int, person_id: int) -> str | None:
    async with core.uow() as uow:
        return await uow.session.scalar(select(EventInvitation.rsvp).where(
            EventInvitation.event_id == event_id, EventInvitation.person_id == person_id))


# ---------------------------------------------------------------- what a person does in the browser

def link_in_mail(page, server, *, to: str, subject: str) -> str:
    """Opens the local mailbox page, finds the newest e-mail to `to` whose subject contains `subject`, and
    returns the first signed /l/ link in it, on this test's server (the mailbox shows WEB_BASE_URL's host)."""
    page.goto(server.url("/_mailbox"))
    for article in page.locator("article.mail").all():
        title = article.locator("h2").inner_text()
        body = article.inner_text()
        if f"收件人：{to}" in body and subject in title and "[" not in title[:1]:
            found = LINK.search(body)
            assert found, f"no link in the e-mail {title!r} to {to}"
            return server.url("/" + found[0].split("/", 3)[3])
    raise AssertionError(f"no e-mail to {to} about {subject!r} on the mailbox page")


def card(page, prefix: str, object_id: int):
    return page.locator(f"#{prefix}-{object_id}")


def press(page, scope, label: str) -> None:
    """Presses the button `label` (its accessible name starts with it) in `scope`, and waits for the page after."""
    with page.expect_navigation():
        scope.get_by_role("button", name=re.compile(f"^{re.escape(label)}")).click()


def mark_text(page, prefix: str, object_id: int) -> str:
    return card(page, prefix, object_id).locator("p.mark").inner_text()


# ---------------------------------------------------------------- the journey

def test_ranking_matching_answering_publicity_and_a_workshop_from_the_links(web_server, new_phone, shoot):
    server = web_server
    ids = server.call(the_batch(server.core))
    university = ids["university"]
    contact = server.call(person_of(server.core, university))

    # ---- the university contact signs in with a code and ranks the experts recommended to it
    phone = new_phone()
    sign_in(phone, server, CONTACT, expect=r"/(status|apply)$")
    phone.goto(server.url("/status"))
    phone.get_by_role("link", name=text("web.status.page.candidates")).first.click()
    phone.wait_for_url(re.compile(r"/candidates$"))
    assert page_kind(phone) == "candidates" and no_horizontal_scroll(phone)
    assert f"《{COURSE_A}》：需要 1 位专家" in phone.locator("main").inner_text()
    shown = [int(i) for i in phone.locator("article[id^=candidate-]").evaluate_all(
        "cards => cards.map(c => c.id.split('-')[1])")]
    recommended = server.call(recommendations(server.core, university))
    in_course_a = [r for r in shown if recommended[r][0] != ids["杨专家"]]
    assert len(in_course_a) == 5  # the first round: five of the six
    body = phone.locator("main").inner_text()
    assert not any(name in body for name in EXPERTS)  # anonymised until a match is confirmed
    first, second, third = in_course_a[:3]
    press(phone, card(phone, "candidate", first), text("web.matching.want"))
    press(phone, card(phone, "candidate", second), text("web.matching.want"))
    assert mark_text(phone, "candidate", second).endswith("意向（第 2 位）")
    press(phone, card(phone, "candidate", second), text("web.matching.up"))  # 提前: the second becomes the first
    assert mark_text(phone, "candidate", second).endswith("意向（第 1 位）")
    assert mark_text(phone, "candidate", first).endswith("意向（第 2 位）")
    press(phone, card(phone, "candidate", third), text("web.matching.not"))
    assert mark_text(phone, "candidate", third).endswith("不考虑")
    shoot(phone, "after-candidates-ranked")
    press(phone, phone.locator("main"), text("web.candidates.more"))
    assert text("web.candidates.more_added", count=1) in phone.locator("main").inner_text()
    assert phone.locator("article[id^=candidate-]").count() == len(shown) + 1
    press(phone, phone.locator("main"), text("web.candidates.more"))
    assert text("match.more_none") in phone.locator("main").inner_text()

    recommended = server.call(recommendations(server.core, university))
    assert recommended[second][1:] == ("want", 1) and recommended[first][1:] == ("want", 2)
    assert recommended[third][1:] == ("not_considering", None)
    assert len([r for r in recommended.values() if r[0] != ids["杨专家"]]) == 6
    wanted = recommended[second][0]  # the expert application the university wants first
    wanted_name = next(name for name, app in ids.items() if app == wanted)
    refused_name = next(name for name, app in ids.items() if app == recommended[third][0])
    unmarked_name = next(name for name, app in ids.items() if app == recommended[in_course_a[3]][0])

    # ---- experts sign in and mark the university: the wanted one 意向, an unmarked one 不考虑, 杨 意向;
    # the one the university turned down no longer sees it
    for name, choice in ((wanted_name, "want"), (unmarked_name, "not"), ("杨专家", "want"), (refused_name, None)):
        expert_phone = new_phone()
        sign_in(expert_phone, server, EXPERTS[name][0], expect=r"/(status|apply)$")
        expert_phone.goto(server.url("/universities"))
        if choice is None:
            assert expert_phone.locator("article[id^=university-]").count() == 0
            assert text("match.expert.none") in expert_phone.locator("main").inner_text()
            expert_phone.context.close()
            continue
        expert_phone.goto(server.url("/status"))
        expert_phone.get_by_role("link", name=text("web.status.page.universities")).first.click()
        expert_phone.wait_for_url(re.compile(r"/universities$"))
        assert "华北科技大学" in expert_phone.locator("main").inner_text()
        press(expert_phone, card(expert_phone, "university", university), text(f"web.matching.{choice}"))
        expected = "意向（第 1 位）" if choice == "want" else "不考虑"
        assert mark_text(expert_phone, "university", university).endswith(expected)
        if name == wanted_name:
            assert no_horizontal_scroll(expert_phone)
            shoot(expert_phone, "after-universities-marked")
        expert_phone.context.close()
        assert server.call(expert_marks(server.core, ids[name])) == {
            university: "want" if choice == "want" else "not_considering"}

    # ---- staff run the matching and confirm it: both sides of both pairs hear by e-mail
    proposals = server.call(run_and_confirm(server.core))
    assert set(proposals) == {COURSE_A, COURSE_B}
    accepted, accepted_expert = proposals[COURSE_A]
    assert accepted_expert == wanted  # both sides' 意向 first: the pair the matching proposes
    declined, declined_expert = proposals[COURSE_B]
    assert declined_expert == ids["杨专家"]
    expert_person = server.call(person_of(server.core, wanted))

    # ---- 创新思维: each side opens the proposal e-mail's link in a fresh browser and accepts
    mailbox = new_phone()
    for side, address in (("expert", EXPERTS[wanted_name][0]), ("university", CONTACT)):
        url = link_in_mail(mailbox, server, to=address, subject=f"《{COURSE_A}》")
        fresh = new_phone()  # nobody signed in: the link signs its person in for this page only
        fresh.goto(url)
        fresh.wait_for_url(re.compile(rf"/proposals/{accepted}$"))
        main = fresh.locator("main").inner_text()
        assert text("web.proposal.answer_by") in main and wanted_name in main and "华北科技大学" in main
        assert no_horizontal_scroll(fresh)
        shoot(fresh, f"after-proposal-{side}")
        press(fresh, fresh.locator("main"), text(f"web.proposal.accept.{side}"))
        assert text("web.proposals.answered") in fresh.locator("main").inner_text()
        assert text("web.proposal.yours", answer=text("web.proposal.answer.accepted")) in fresh.locator("main").inner_text()
        fresh.goto(server.url("/status"))  # any other page asks for a code
        assert fresh.url.endswith("/signin")
        fresh.context.close()
    row = server.call(appointment(server.core, accepted))
    assert (row.expert_response, row.university_response, row.status) == ("accepted", "accepted", "accepted")

    # ---- 创新管理: 杨专家 declines from the link, first without a reason
    url = link_in_mail(mailbox, server, to=EXPERTS["杨专家"][0], subject=f"《{COURSE_B}》")
    fresh = new_phone()
    fresh.goto(url)
    fresh.wait_for_url(re.compile(rf"/proposals/{declined}$"))
    press(fresh, fresh.locator("form.decline-form"), text("web.proposal.decline"))
    assert fresh.title().startswith("错误：")
    summary = fresh.get_by_role("alert")
    assert text("appointment.reason_required") in summary.inner_text()
    assert text("appointment.reason_required") in fresh.locator("#reason-error").inner_text()
    shoot(fresh, "after-proposal-decline-without-reason")
    assert server.call(appointment(server.core, declined)).expert_response is None  # nothing recorded
    fresh.get_by_label(text("web.proposal.reason_label")).fill("下学期已有教学任务，时间冲突")
    press(fresh, fresh.locator("form.decline-form"), text("web.proposal.decline"))
    assert text("web.proposal.yours", answer=text("web.proposal.answer.declined")) in fresh.locator("main").inner_text()
    fresh.context.close()
    row = server.call(appointment(server.core, declined))
    assert (row.expert_response, row.expert_reason) == ("declined", "下学期已有教学任务，时间冲突")
    assert row.university_response is None and row.status != "accepted"

    # ---- staff start the publicity of the accepted pair: the contact's /status shows its dates
    server.call(server.core.appointments.start_publicity(appointment_ids=[accepted], staff="staff:1"))
    row = server.call(appointment(server.core, accepted))
    assert row.status == "publicity" and row.publicity_starts_on and row.publicity_ends_on
    phone.goto(server.url("/status"))
    period = text("match.status_publicity", start=row.publicity_starts_on.isoformat(),
                  end=row.publicity_ends_on.isoformat())
    status_text = phone.locator("main").inner_text()
    assert period in status_text or (row.publicity_starts_on.isoformat() in status_text
                                     and row.publicity_ends_on.isoformat() in status_text), status_text
    shoot(phone, "after-status-publicity")
    phone.goto(server.url(f"/proposals/{accepted}"))
    assert f"{row.publicity_starts_on} 至 {row.publicity_ends_on}" in phone.locator("main").inner_text()
    link_in_mail(mailbox, server, to=CONTACT, subject="公示")  # the publicity e-mail carries its link too

    # ---- a workshop: the expert answers 参加 from the invitation's link, and later changes to 不参加
    now = server.core.clock()
    event = server.call(server.core.events.create(
        kind="demo_workshop", title="岗前示范交流活动", starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2), venue="北京市海淀区学院路 1 号", actor="staff:1"))
    server.call(server.core.events.invite(event_id=event.id, actor="staff:1", audience="people",
                                          person_ids=[expert_person, contact]))
    url = link_in_mail(mailbox, server, to=EXPERTS[wanted_name][0], subject="岗前示范交流活动")
    fresh = new_phone()
    fresh.goto(url)
    fresh.wait_for_url(re.compile(rf"/events/{event.id}$"))
    assert "北京市海淀区学院路 1 号" in fresh.locator("main").inner_text()
    assert fresh.get_by_role("link", name=text("web.events.ics")).count() == 1
    press(fresh, fresh.locator("main form"), text("web.events.yes"))
    assert text("web.events.answered", answer="参加") in fresh.locator("main").inner_text()
    assert fresh.get_by_role("button", name=text("web.events.yes"), exact=True).get_attribute("aria-pressed") == "true"
    shoot(fresh, "after-event-answered")
    fresh.context.close()
    assert server.call(rsvp(server.core, event.id, expert_person)) == "yes"

    later = new_phone()  # a day later, from the same e-mail, on a browser that forgot everything
    later.goto(url)
    later.wait_for_url(re.compile(rf"/events/{event.id}$"))
    assert later.get_by_role("button", name=text("web.events.yes"), exact=True).get_attribute("aria-pressed") == "true"
    press(later, later.locator("main form"), text("web.events.no"))
    assert text("web.events.answered", answer="不参加") in later.locator("main").inner_text()
    shoot(later, "after-event-changed")
    assert server.call(rsvp(server.core, event.id, expert_person)) == "no"
    assert server.call(rsvp(server.core, event.id, contact)) == "pending"  # the other invitee is left as they were


# ---------------------------------------------------------------- the recommendation e-mails' links

def test_the_recommendation_emails_links_let_people_mark_without_a_code(web_server, new_phone, shoot):
    server = web_server
    ids = server.call(the_batch(server.core))
    university = ids["university"]
    mailbox = new_phone()
    for address, subject, page, prefix, object_of in (
        (CONTACT, "推荐的产业兼职教师人选", "candidates", "candidate", None),
        (EXPERTS["杨专家"][0], "请表达意向", "universities", "university", university),
    ):
        url = link_in_mail(mailbox, server, to=address, subject=subject)
        fresh = new_phone()  # the e-mail opened in WeChat: nobody signed in
        fresh.goto(url)
        fresh.wait_for_url(re.compile(rf"/{page}$"))
        target = object_of or int(fresh.locator("article[id^=candidate-]").first.get_attribute("id").split("-")[1])
        press(fresh, card(fresh, prefix, target), text("web.matching.want"))
        shoot(fresh, f"after-{prefix}-marked-from-link")
        assert fresh.locator(f"#{prefix}-{target}").count() == 1, fresh.locator("main").inner_text()
        assert mark_text(fresh, prefix, target).endswith("意向（第 1 位）")
        fresh.context.close()
    recommended = server.call(recommendations(server.core, university))
    assert [r[1] for r in recommended.values()].count("want") == 1
    assert server.call(expert_marks(server.core, ids["杨专家"])) == {university: "want"}
