"""List-Unsubscribe on reminders and workshop invitations only, honoured per kind; decisions cannot be
unsubscribed and say why. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.domain import DomainError
from core.links import UNSUBSCRIBE_PREFIX
from notifier.mail import FakeMailer
from notifier.mail.message import make_message_id
from notifier.main import build_worker, notification_service
from tests.support.outbox import REVIEW_PAYLOAD, add_person, outbox_rows, queue

BEIJING = ZoneInfo("Asia/Shanghai")
WEB = "http://127.0.0.1:8000"


def at(clock, text: str) -> None:
    clock.now = datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(timezone.utc)


async def a_draft(core, person_id: int) -> int:
    await core.people.give_consent(person_id=person_id)
    return (await core.intake.start(person_id=person_id, form="expert")).application_id


async def an_event(core, title: str = "创新思维示范课"):
    start = core.clock() + timedelta(days=3)
    return await core.events.create(kind="岗前示范交流活动", title=title, starts_at=start,
                                    ends_at=start + timedelta(hours=2), online_url="https://meeting.example.cn/1",
                                    actor="staff:1")


async def test_reminders_and_invitations_carry_one_click_unsubscribe_decisions_say_why_not(core, clock):
    person = await add_person(core, name="王五", email="wang@example.cn")
    await a_draft(core, person)
    mailer = FakeMailer()
    worker = build_worker(core, bot=None, mailers=[mailer])
    await queue(core, person, kind="review_approved", payload=dict(REVIEW_PAYLOAD))  # a decision
    event = await an_event(core)
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[person])
    await worker.drain()
    at(clock, "2025-08-08 10:00")  # a deadline reminder (T-7 before 2025-08-15)
    await notification_service(core).schedule_deadline_reminders()
    await worker.drain()

    messages = {m["Message-ID"]: m for m in mailer.messages()}
    kinds = {r.kind: r for r in await outbox_rows(core) if r.status == "sent"}
    assert set(kinds) == {"review_approved", "workshop_invitation", "deadline_reminder"}
    for kind, row in kinds.items():
        message = messages[make_message_id(row.idempotency_key, core.settings.mail_from.rsplit("@", 1)[1])]
        body = message.get_body(("plain",)).get_content()
        if kind == "review_approved":
            assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
            assert "不能退订" in body and message.get_body(("html",)).get_content().count("不能退订") == 1
            continue
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        (url,) = re.fullmatch(r"<([^>]+)>", message["List-Unsubscribe"]).groups()
        assert url.startswith(WEB + UNSUBSCRIBE_PREFIX)
        assert url in body and "不能退订" not in body
        grant = core.links.open(url.rsplit("/", 1)[1], purpose="unsubscribe")
        assert (grant.person_id, grant.object_id) == (person, kind)


async def test_after_unsubscribing_that_kind_is_not_queued_and_decisions_still_are(core, clock):
    person = await add_person(core, name="王五", email="wang@example.cn")
    other = await add_person(core, name="赵六", email="zhao@example.cn")
    await a_draft(core, person)
    await a_draft(core, other)
    first = await an_event(core)
    await core.events.invite(event_id=first.id, actor="staff:1", audience="people", person_ids=[person])

    # What the web's one-click POST /unsubscribe/<token> does with the grant of its token:
    grant = core.links.open(core.links.make(person, "unsubscribe", "workshop_invitation"), purpose="unsubscribe")
    assert await core.preferences.unsubscribe(grant.person_id, grant.object_id, via="one_click") is True
    assert await core.preferences.unsubscribe(person, "workshop_invitation") is False, "twice is no error"
    assert set(await core.preferences.unsubscribed(person)) == {"workshop_invitation"}
    await core.preferences.unsubscribe(person, "deadline_reminder")
    for decision in ("review_approved", "review_rejected", "match_proposal"):
        with pytest.raises(DomainError):
            await core.preferences.unsubscribe(person, decision)

    # The invitation queued before, not yet sent, will not go either.
    (earlier,) = await outbox_rows(core, kind="workshop_invitation")
    assert (earlier.status, earlier.last_error) == ("skipped", "对方已退订此类通知")

    at(clock, "2025-08-08 10:00")
    second = await an_event(core, title="产品创新方法研讨会")
    await core.events.invite(event_id=second.id, actor="staff:1", audience="people", person_ids=[person, other])
    await notification_service(core).schedule_deadline_reminders()
    await queue(core, person, kind="review_approved", payload=dict(REVIEW_PAYLOAD))

    mailer = FakeMailer()
    await build_worker(core, bot=None, mailers=[mailer]).drain()
    rows = await outbox_rows(core)
    mine = {(r.kind, r.status) for r in rows if r.person_id == person}
    assert mine == {("workshop_invitation", "skipped"), ("deadline_reminder", "skipped"), ("review_approved", "sent")}
    assert {r.last_error for r in rows if r.person_id == person and r.status == "skipped"} == {"对方已退订此类通知"}
    theirs = {(r.kind, r.status) for r in rows if r.person_id == other}
    assert theirs == {("workshop_invitation", "sent"), ("deadline_reminder", "sent")}, "only that person, per kind"
    assert sorted(m["To"].split("<")[-1].rstrip(">") for m in mailer.messages()) == [
        "wang@example.cn", "zhao@example.cn", "zhao@example.cn"]

    # Scheduling again adds nothing: the skipped rows hold their keys.
    assert await notification_service(core).schedule_deadline_reminders() == 0

    # Resubscribing brings the kind back from the next notice on.
    assert await core.preferences.resubscribe(person, "workshop_invitation") is True
    third = await an_event(core, title="技术创新方法工作坊")
    await core.events.invite(event_id=third.id, actor="staff:1", audience="people", person_ids=[person])
    assert [r.status for r in await outbox_rows(core, kind="workshop_invitation") if r.person_id == person
            and r.payload["event_id"] == third.id] == ["queued"]


async def test_a_reminder_queued_before_unsubscribing_lapses_when_its_time_comes(core, clock):
    person = await add_person(core, name="王五", email="wang@example.cn")
    await a_draft(core, person)
    at(clock, "2025-08-07 10:05")  # written a day ahead, due 2025-08-08 10:00
    assert await notification_service(core).schedule_deadline_reminders() == 1
    (row,) = await outbox_rows(core, kind="deadline_reminder")
    assert row.status == "queued"
    # Unsubscribed by some other path that left the row queued (say, a second process queued it meanwhile):
    from core.db.models import NotificationOptOut
    async with core.uow() as uow:
        uow.session.add(NotificationOptOut(person_id=person, kind="deadline_reminder", created_at=clock.now, via="web"))
        await uow.commit()
    at(clock, "2025-08-08 10:00")
    mailer = FakeMailer()
    await build_worker(core, bot=None, mailers=[mailer]).drain()
    (row,) = await outbox_rows(core, kind="deadline_reminder")
    assert (row.status, row.last_error) == ("skipped", "对方已退订此类通知") and mailer.attempts == []
