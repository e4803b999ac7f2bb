"""Every notice that asks a person to act carries a signed link to the page where they act, opening for that
person and that object only; its wording follows the person's channels; what cannot wait also goes by SMS, to
a verified mobile only, exactly once. One batch from application to workshop, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from core.db.models import PersonIdentity
from core.links import LinkInvalid
from core.sample import SAMPLE_PDF
from core.services import FINISH_FILES
from notifier.mail import FakeMailer
from notifier.mail.message import make_message_id
from notifier.main import build_worker, notification_service
from notifier.sms import FakeSmsSender
from tests.support.factories import EXPERT, UNIVERSITY
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
from tests.support.outbox import add_person, outbox_rows

WEB = "http://127.0.0.1:8000"
LINK = re.compile(re.escape(WEB) + r"/l/([a-z0-9.]+)")
BOT_WORDS = ("Telegram", "机器人", "/start", "/edit", "/status", "/candidates", "/universities", "/delete")

# kind -> (purpose, the payload field naming the object the link must open)
EXPECTED = {
    "submission_receipt": ("status", "application_id"),
    "review_needs_info": ("needs_info", "application_id"),
    "recommendations": ("candidates", "application_id"),
    "expert_recommendations": ("universities", "application_id"),
    "match_proposal": ("proposal", "appointment_id"),
    "match_answer_reminder": ("proposal", "appointment_id"),
    "publicity_started": ("status", "appointment_id"),
    "publicity_ended": ("status", "appointment_id"),
    "workshop_invitation": ("event", "event_id"),
    "workshop_reminder": ("event", "event_id"),
}


async def participant(core, *, name: str, email: str, telegram_id: int | None = None,
                      mobile: str | None = None, verified: bool = True) -> int:
    """A person of the web channel (no Telegram), or of both when given a Telegram id; maybe with a mobile."""
    person_id = await add_person(core, name=name, email=email, telegram_id=telegram_id,
                                 channel="both" if telegram_id else "email")
    await core.people.give_consent(person_id=person_id)
    await core.people.give_consent(person_id=person_id, sensitive=True)
    if mobile:
        async with core.uow() as uow:
            uow.session.add(PersonIdentity(person_id=person_id, channel="mobile", identifier=mobile,
                                           verified_at=core.clock() if verified else None, created_at=core.clock()))
            await uow.commit()
    return person_id


async def expert_application(core, person_id: int, **answers: Any) -> int:
    draft = await core.intake.start(person_id=person_id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, **answers})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def university_application(core, person_id: int, courses: dict[str, tuple[int, int, str]], **answers) -> int:
    draft = await core.intake.start(person_id=person_id, form="university")
    given = {**UNIVERSITY, **answers, "courses": list(courses)}
    for course, (hours, need, mode) in courses.items():
        given[f"course_demand[{course}].hours"] = hours
        given[f"course_demand[{course}].experts_needed"] = need
        given[f"course_demand[{course}].mode"] = mode
    await core.intake.fill(application_id=draft.application_id, answers=given)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def a_whole_batch(core, clock):
    """Two experts and a university through review, matching, publicity and a workshop, the worker draining
    at each step; returns (people, mailer, sms sender)."""
    han = await participant(core, name="韩专家", email="han@example.com", mobile="13811110001")
    yang = await participant(core, name="杨专家", email="yang@example.com", telegram_id=810001)
    li = await participant(core, name="李老师", email="contact@example.edu.cn", mobile="13922220002", verified=False)
    mailer, sms = FakeMailer(), FakeSmsSender()
    worker = build_worker(core, bot=None, mailers=[mailer], sms_sender=sms)
    notifications = notification_service(core)
    start = clock.now

    han_app = await expert_application(core, han, name="韩专家", courses=["创新思维"], email="han@example.com")
    await core.review.request_info(application_id=han_app, staff="staff:1", message="请补充学历证书。")
    await core.intake.submit(application_id=han_app)
    await core.review.approve(application_id=han_app, staff="staff:1")
    yang_app = await expert_application(core, yang, name="杨专家", courses=["创新管理"], email="yang@example.com")
    await core.review.approve(application_id=yang_app, staff="staff:1")
    await university_application(core, li, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")},
                                 university_name="华北科技大学", contact_email="contact@example.edu.cn")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:1")
    pairs = {p.course: p.appointment_id for p in run.proposals}
    assert set(pairs) == {"创新思维", "创新管理"}
    # 杨专家 and the university say yes to 创新管理 (publicity follows); 韩专家's pair stays unanswered.
    await core.appointments.respond(appointment_id=pairs["创新管理"], person_id=yang, accept=True)
    await core.appointments.respond(appointment_id=pairs["创新管理"], person_id=li, accept=True)
    await core.appointments.start_publicity(appointment_ids=[pairs["创新管理"]], staff="staff:1")
    event = await core.events.create(kind="岗前示范交流活动", title="创新思维示范课", starts_at=start + timedelta(days=2),
                                     ends_at=start + timedelta(days=2, hours=2), online_url="https://meeting.example.cn/1",
                                     actor="staff:1")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[han, yang, li])
    invitation = next(i for i in await core.events.invitations(staff="test", event_id=event.id) if i.person_id == han)
    await core.events.respond(invitation_id=invitation.id, attending=True, person_id=han)
    await worker.drain()

    clock.now = start + timedelta(minutes=11)  # experts hear of their recommendations once, a little later
    await worker.drain()
    clock.now = start + timedelta(days=1, minutes=1)  # the day before the workshop
    assert await notifications.schedule_event_reminders() > 0
    await notifications.schedule_event_reminders()
    await worker.drain()
    clock.now = start + timedelta(days=4, minutes=1)  # the day before the answer deadline
    await worker.drain()
    clock.now = start + timedelta(days=12)  # publicity over
    await worker.drain()
    return {"han": han, "yang": yang, "li": li, "pairs": pairs, "event": event.id}, mailer, sms


def _mails(core, mailer: FakeMailer) -> dict[str, Any]:
    domain = core.settings.mail_from.rsplit("@", 1)[1]
    return {spec.message_id: spec for spec in mailer.delivered}, domain


async def test_every_notice_that_asks_to_act_links_to_its_page_for_its_person_in_words_for_their_channels(
        core, clock):
    people, mailer, sms = await a_whole_batch(core, clock)
    specs, domain = _mails(core, mailer)
    sent = [r for r in await outbox_rows(core) if r.channel == "email" and r.status == "sent"]
    seen: set[str] = set()
    for row in sent:
        spec = specs[make_message_id(row.idempotency_key, domain)]
        tokens = LINK.findall(spec.text)
        if row.kind not in EXPECTED:
            assert tokens == [], f"{row.kind} asks nothing: no signed link"
            continue
        purpose, field = EXPECTED[row.kind]
        assert tokens, f"{row.kind} to person {row.person_id} carries no link"
        assert {f'href="{WEB}/l/{t}"' for t in tokens} <= {m for m in re.findall(r'href="[^"]+"', spec.html)}
        clock.now = row.last_attempt_at  # opened as it arrives (a proposal's link is gone after its deadline)
        for token in tokens:
            grant = core.links.open(token)
            assert (grant.person_id, grant.purpose, grant.object_id) == (row.person_id, purpose,
                                                                           row.payload[field]), row.kind
            if purpose == "proposal":  # a proposal's link lasts until its answer deadline
                assert grant.expires_at.isoformat() == row.payload["answer_by"]
                assert grant.path == f"/proposals/{row.payload['appointment_id']}"
            else:  # others: 30 days from when the notice went out
                assert grant.expires_at == row.last_attempt_at + timedelta(days=30)
        seen.add(row.kind)
    assert seen == set(EXPECTED), f"kinds never sent: {set(EXPECTED) - seen}"

    # A link is for its person and page only: altered, it opens nothing; after its deadline, neither.
    proposal = next(r for r in sent if r.kind == "match_proposal" and r.person_id == people["han"])
    token = LINK.findall(specs[make_message_id(proposal.idempotency_key, domain)].text)[0]
    clock.now = proposal.last_attempt_at
    assert core.links.open(token).person_id == people["han"]
    for forged in (token[:-2] + "aa", token.replace(".p.", ".e.")):
        try:
            core.links.open(forged)
        except LinkInvalid as refused:
            assert refused.reason == "altered"
        else:
            raise AssertionError("an altered link opened")
    clock.now = proposal.last_attempt_at + timedelta(days=5)
    try:
        core.links.open(token)
    except LinkInvalid as refused:
        assert refused.reason == "expired"
    else:
        raise AssertionError("a proposal's link opened after its answer deadline")

    # The wording follows the channels.
    for row in sent:
        spec = specs[make_message_id(row.idempotency_key, domain)]
        for body in (spec.text, spec.html):
            if row.person_id in (people["han"], people["li"]):
                # Never used Telegram: never told to.
                assert not [w for w in BOT_WORDS if w in body], (row.kind, [w for w in BOT_WORDS if w in body])
                assert "网页版" in body
            elif row.kind in EXPECTED:
                # Uses both: told both, the bot and the web page.
                assert "Telegram 机器人" in body and "网页版（" in body and f"{WEB}/l/" in body, row.kind


async def test_what_cannot_wait_goes_by_sms_to_a_verified_mobile_only_exactly_once(core, clock):
    people, _, sms = await a_whole_batch(core, clock)
    rows = [r for r in await outbox_rows(core) if r.channel == "sms"]
    # 李老师's mobile was never verified, 杨专家 has none: only 韩专家 hears by SMS.
    assert {r.person_id for r in rows} == {people["han"]}
    assert sorted(r.kind for r in rows) == ["match_deadline_tomorrow", "match_proposal_waiting", "workshop_tomorrow"]
    assert {r.status for r in rows} == {"sent"} and {r.address for r in rows} == {"13811110001"}
    assert sorted(s.template_code for s in sms.sent) == sorted(r.kind for r in rows), "each exactly once"
    for row, message in zip(sorted(rows, key=lambda r: r.last_attempt_at), sms.sent):
        assert (message.phone, message.template_code) == ("13811110001", row.kind)
        (token,) = LINK.findall(message.params["link"])
        assert message.params["link"] == f"{WEB}/l/{token}"
        clock.now = row.last_attempt_at  # opened as it arrives
        grant = core.links.open(token)
        assert grant.person_id == people["han"]
        if message.template_code == "workshop_tomorrow":
            assert (grant.purpose, grant.object_id) == ("event", people["event"])
            assert message.params["title"] == "创新思维示范课"
        else:
            assert (grant.purpose, grant.object_id) == ("proposal", people["pairs"]["创新思维"])
        # The token is made when the SMS goes: the outbox never holds it.
        assert not any(token in str(r.payload) for r in rows)


async def test_an_sms_about_a_proposal_already_answered_is_not_sent(core, clock):
    han = await participant(core, name="韩专家", email="han@example.com", mobile="13811110001")
    li = await participant(core, name="李老师", email="contact@example.edu.cn", mobile="13922220002")
    sms = FakeSmsSender()
    worker = build_worker(core, bot=None, mailers=[FakeMailer()], sms_sender=sms)
    han_app = await expert_application(core, han, name="韩专家", courses=["创新思维"], email="han@example.com")
    await core.review.approve(application_id=han_app, staff="staff:1")
    await university_application(core, li, {"创新思维": (32, 1, "online")}, contact_email="contact@example.edu.cn")
    batch = (await core.batches.list())[0]
    run = await core.matching.confirm(run_id=(await core.matching.run(batch_id=batch.id, staff="staff:1",
                                                                        time_limit=3)).id, staff="staff:1")
    (proposal,) = run.proposals
    await worker.drain()
    assert sorted((s.phone, s.template_code) for s in sms.sent) == [
        ("13811110001", "match_proposal_waiting"), ("13922220002", "match_proposal_waiting")]
    await core.appointments.respond(appointment_id=proposal.appointment_id, person_id=han, accept=True)
    clock.advance(days=4, minutes=1)
    await worker.drain()
    reminders = [r for r in await outbox_rows(core, kind="match_deadline_tomorrow")]
    assert {(r.person_id, r.status) for r in reminders} == {(han, "skipped"), (li, "sent")}
    assert [s.phone for s in sms.sent if s.template_code == "match_deadline_tomorrow"] == ["13922220002"]
