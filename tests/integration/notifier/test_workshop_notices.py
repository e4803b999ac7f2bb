"""Workshops: invitation e-mails with an .ics (parsed back with icalendar), moves, cancellation,
reminders to those attending; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from core.domain import DomainError, NotFound
from notifier.mail import FakeMailer
from notifier.main import notification_service
from tests.support.factories import both_accept, confirmed_pairs
from tests.support.outbox import add_person, make_worker, outbox_rows

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 7, 10, 14, 0, tzinfo=BEIJING)


def calendar_of(message) -> icalendar.Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return icalendar.Calendar.from_ical(part.get_content())


def vevent(calendar: icalendar.Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


async def an_event(core, **overrides):
    values = dict(kind="岗前示范交流活动", title="创新思维示范课", starts_at=START, ends_at=START + timedelta(hours=2),
                  online_url="https://meeting.example.cn/123", description="示范课，请提前 10 分钟入会。", actor="staff:1")
    values.update(overrides)
    return await core.events.create(**values)


async def test_invitation_carries_an_ics_whose_uid_stays_and_sequence_grows_when_the_event_moves(core, clock):
    alice = await add_person(core, name="张三", email="zhang@example.cn")
    event = await an_event(core)
    result = await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[alice])
    assert (result.invited, result.already_invited) == (1, 0)
    again = await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[alice])
    assert (again.invited, again.already_invited) == (0, 1)
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()

    (invitation,) = mailer.messages()
    assert "邀请您参加岗前示范交流活动「创新思维示范课」" in invitation["Subject"]
    assert "2025年7月10日 14:00（北京时间）" in invitation.get_body(("plain",)).get_content()
    calendar = calendar_of(invitation)
    assert str(calendar["METHOD"]) == "REQUEST"
    first = vevent(calendar)
    assert str(first["UID"]) == f"innoeng-event-{event.id}@innoeng.test"
    assert int(first["SEQUENCE"]) == 0
    assert first.decoded("DTSTART") == START.astimezone(timezone.utc)
    assert first.decoded("DTEND") == START.astimezone(timezone.utc) + timedelta(hours=2)
    assert str(first["SUMMARY"]) == "岗前示范交流活动：创新思维示范课"
    assert "https://meeting.example.cn/123" in str(first["DESCRIPTION"])
    assert str(first["ATTENDEE"]) == "mailto:zhang@example.cn"

    moved = await core.events.update(event_id=event.id, actor="staff:1", starts_at=START + timedelta(days=1))
    assert moved.sequence == 1 and moved.ends_at == START + timedelta(days=1, hours=2)
    await worker.drain()

    update = mailer.messages()[-1]
    assert "活动信息更新" in update["Subject"]
    second = vevent(calendar_of(update))
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) == 1
    assert second.decoded("DTSTART") == (START + timedelta(days=1)).astimezone(timezone.utc)

    await core.events.cancel(event_id=event.id, actor="staff:1", reason="场地调整")
    await worker.drain()
    cancel = mailer.messages()[-1]
    calendar = calendar_of(cancel)
    assert str(calendar["METHOD"]) == "CANCEL"
    third = vevent(calendar)
    assert str(third["UID"]) == str(first["UID"]) and int(third["SEQUENCE"]) == 2
    assert str(third["STATUS"]) == "CANCELLED"
    assert "场地调整" in cancel.get_body(("plain",)).get_content()


async def test_an_invitation_not_yet_sent_when_the_event_moves_is_replaced_by_the_update(core):
    alice = await add_person(core)
    event = await an_event(core)
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[alice])
    await core.events.update(event_id=event.id, actor="staff:1", venue="北京市海淀区某会议中心")
    mailer = FakeMailer()

    await make_worker(core, mailers=[mailer]).drain()

    statuses = {r.kind: (r.status, r.last_error) for r in await outbox_rows(core)}
    assert statuses["workshop_invitation"][0] == "skipped" and "已更新" in statuses["workshop_invitation"][1]
    assert statuses["workshop_updated"] == ("sent", None)
    (only,) = mailer.messages()
    assert "北京市海淀区某会议中心" in only.get_body(("plain",)).get_content()


async def test_those_attending_are_reminded_a_day_and_an_hour_before_the_current_start(core, clock):
    yes = await add_person(core, name="参加者", email="yes@example.cn")
    no = await add_person(core, name="不参加者", email="no@example.cn")
    event = await an_event(core)
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[yes, no])
    invitations = {i.person_id: i for i in await core.events.invitations(staff="test", event_id=event.id)}
    await core.events.respond(invitation_id=invitations[yes].id, attending=True, person_id=yes)
    await core.events.respond(invitation_id=invitations[no].id, attending=False, person_id=no)
    tally = await core.events.tally(staff="test", event_id=event.id)
    assert (tally.invited, tally.attending, tally.declined, tally.pending) == (2, 1, 1, 0)
    with pytest.raises(NotFound):
        await core.events.respond(invitation_id=invitations[yes].id, attending=False, person_id=no)

    notifications = notification_service(core)
    mailer = FakeMailer()
    worker = make_worker(core, mailers=[mailer])
    await worker.drain()
    mailer.attempts.clear(), mailer.results.clear()

    clock.now = (START - timedelta(days=1, hours=2)).astimezone(timezone.utc)
    assert await notifications.schedule_event_reminders() == 1  # T-1d, queued ahead, only for "yes"
    # The event moves by a day: the queued reminder lapses, a new one follows the new time.
    await core.events.update(event_id=event.id, actor="staff:1", starts_at=START + timedelta(days=1))
    clock.now = (START - timedelta(days=1)).astimezone(timezone.utc)
    await notifications.schedule_event_reminders()
    await worker.drain()
    lapsed = [r for r in await outbox_rows(core, kind="workshop_reminder") if r.status == "skipped"]
    assert len(lapsed) == 1 and "时间已变更" in lapsed[0].last_error
    assert [m for m in mailer.messages() if "活动提醒" in m["Subject"]] == []

    sent = []
    for before in (timedelta(days=1), timedelta(hours=1)):
        clock.now = (START + timedelta(days=1) - before).astimezone(timezone.utc)
        await notifications.schedule_event_reminders()
        await worker.drain()
        sent = [m for m in mailer.messages() if "活动提醒" in m["Subject"]]
    assert [m["To"].addresses[0].addr_spec for m in sent] == ["yes@example.cn", "yes@example.cn"]
    assert "明天举行" in sent[0]["Subject"] and "1 小时后开始" in sent[1]["Subject"]


async def test_rsvp_to_a_cancelled_event_is_refused_with_a_message(core):
    alice = await add_person(core)
    event = await an_event(core)
    await core.events.invite(event_id=event.id, actor="staff:1", audience="people", person_ids=[alice])
    (invitation,) = await core.events.invitations(staff="test", event_id=event.id)
    await core.events.cancel(event_id=event.id, actor="staff:1")
    with pytest.raises(DomainError, match="已取消"):
        await core.events.respond(invitation_id=invitation.id, attending=True, person_id=alice)


async def test_pool_experts_are_invited_as_an_audience(core):
    from core.sample import populate

    result = await populate(people=core.people, intake=core.intake, experts=2, universities=1, seed=3)
    for application_id in result.experts:
        await core.review.approve(application_id=application_id, staff="staff:1")
    event = await an_event(core)

    invited = await core.events.invite(event_id=event.id, actor="staff:1", audience="experts")
    universities = await core.events.invite(event_id=event.id, actor="staff:1", audience="universities")

    assert invited.invited == 2 and universities.invited == 0
    assert len(await outbox_rows(core, kind="workshop_invitation")) == 2


async def test_a_pair_both_sides_accepted_is_matched_before_its_publicity_starts(core):
    # Both sides said yes: the pair waits for staff to start publicity (accepted), and it is matched all the
    # same, so a workshop for the matched pairs reaches both of them; the pair still unanswered does not.
    sides = await confirmed_pairs(core)
    _, expert, university = sides["创新思维"]
    view = await both_accept(core, sides["创新思维"])
    assert view.status == "accepted"
    event = await an_event(core)

    result = await core.events.invite(event_id=event.id, actor="staff:1", audience="matched")

    invited = {i.person_id for i in await core.events.invitations(staff="test", event_id=event.id)}
    assert invited == {expert, university} and result.invited == 2
    assert sides["创新管理"][1] not in invited  # offered, not answered: not matched yet
    assert {r.person_id for r in await outbox_rows(core, kind="workshop_invitation")} == {expert, university}
