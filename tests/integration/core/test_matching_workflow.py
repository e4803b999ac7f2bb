"""Two-way matching as the branch runs it: recommendations, choices, runs, answers, publicity staff start,
agreement, filing."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import openpyxl
import pytest
from sqlalchemy import select

from core.db.models import OutboxMessage
from core.domain import DomainError, TransitionError
from core.exports import FILING_COLUMNS, filing_workbook, publicity_text, publicity_workbook
from core.services.notifications import NotificationService
from tests.support.factories import approved_expert, submitted_university
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
from tests.support.outbox import outbox_rows


async def outbox_kinds(core) -> list[str]:
    async with core.uow() as uow:
        return [m.kind for m in (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()]


async def test_batch_from_recommendations_to_filing(core, clock):
    a = await approved_expert(core, name="甲专家", courses=["创新思维", "技术创新方法"], society_member=True, max_universities="1")
    b = await approved_expert(core, name="乙专家", courses=["创新思维"], max_universities="1")
    await approved_expert(core, name="丙专家", courses=["创新管理"])
    u1 = await submitted_university(core, {"创新思维": (32, 1, "online"), "技术创新方法": (16, 1, "online")}, university_name="第一大学")
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")}, university_name="第二大学")

    # Submitted intents got candidates right away, anonymised.
    person_u1 = (await core.intake.get(application_id=u1)).person_id
    groups = await core.recommendations.candidates(university_application_id=u1, person_id=person_u1)
    thinking = next(g for g in groups if g.course == "创新思维")
    assert {c_.expert_application_id for c_ in thinking.candidates} == {a, b}
    assert all("name" not in c_.profile and "甲专家" not in str(c_.profile) for c_ in thinking.candidates)
    assert "recommendations" in await outbox_kinds(core)

    # 第一大学 wants 甲 for 创新思维 and does not consider 乙.
    want_a = next(c_ for c_ in thinking.candidates if c_.expert_application_id == a)
    not_b = next(c_ for c_ in thinking.candidates if c_.expert_application_id == b)
    await core.recommendations.choose(recommendation_id=want_a.recommendation_id, choice="want", person_id=person_u1)
    groups = await core.recommendations.choose(recommendation_id=not_b.recommendation_id, choice="not_considering", person_id=person_u1)
    assert next(g for g in groups if g.course == "创新思维").candidates[0].want_rank in (1, None)
    with pytest.raises(DomainError):
        await core.recommendations.choose(recommendation_id=want_a.recommendation_id, choice="want", person_id=999999)

    batch = (await core.batches.list())[0]
    run1 = await core.matching.run(batch_id=batch.id, staff="staff:1")
    pairs = {(p.expert_name, p.university_name, p.course) for p in run1.proposals}
    assert ("乙专家", "第一大学", "创新思维") not in pairs  # not considered by the university
    assert run1.filled == run1.total_need == 4 and run1.solver_status == "optimal"
    # 甲 teaches two courses at 第一大学: one university, not two.
    assert ("甲专家", "第一大学", "创新思维") in pairs and ("甲专家", "第一大学", "技术创新方法") in pairs

    confirmed = await core.matching.confirm(run_id=run1.id, staff="staff:1")
    appointments = {(p.expert_name, p.university_name, p.course): p.appointment_id for p in confirmed.proposals}
    assert all(appointments.values())
    assert (await outbox_kinds(core)).count("match_proposal") >= 8

    people = {}
    for (expert, university, course), appointment_id in appointments.items():
        view = await core.appointments.get(staff="test", appointment_id=appointment_id)
        expert_person = (await core.intake.get(application_id=view.expert_application_id)).person_id
        university_person = (await core.intake.get(application_id=view.university_application_id)).person_id
        people[appointment_id] = (expert_person, university_person)

    declined_id = appointments[("乙专家", "第二大学", "创新思维")]
    with pytest.raises(DomainError):
        await core.appointments.respond(appointment_id=declined_id, person_id=people[declined_id][0], accept=False)
    declined = await core.appointments.respond(
        appointment_id=declined_id, person_id=people[declined_id][0], accept=False, reason="时间冲突")
    assert declined.status == "declined"

    for key, appointment_id in appointments.items():
        if appointment_id == declined_id:
            continue
        expert_person, university_person = people[appointment_id]
        await core.appointments.respond(appointment_id=appointment_id, person_id=expert_person, accept=True)
        view = await core.appointments.respond(appointment_id=appointment_id, person_id=university_person, accept=True)
        assert view.status == "accepted" and view.publicity_starts_on is None
    # Staff start the publicity on Thursday 08-21: from Friday 08-22 for 5 working days, the weekend skipped.
    accepted = [v for k, v in appointments.items() if v != declined_id]
    for view in await core.appointments.start_publicity(appointment_ids=accepted, staff="staff:1"):
        assert view.status == "publicity"
        assert (view.publicity_starts_on, view.publicity_ends_on) == (date(2025, 8, 22), date(2025, 8, 28))

    # The second run keeps accepted pairs and never proposes 乙 to 第二大学 again.
    run2 = await core.matching.run(batch_id=batch.id, staff="staff:1")
    fixed = {(p.expert_name, p.university_name, p.course) for p in run2.proposals if p.fixed}
    assert fixed == {k for k, v in appointments.items() if v != declined_id}
    assert ("乙专家", "第二大学", "创新思维") not in {(p.expert_name, p.university_name, p.course) for p in run2.proposals}
    first_run = await core.matching.get(staff="test", run_id=run1.id)
    assert len(first_run.proposals) == len(run1.proposals)  # runs are kept as they were
    with pytest.raises(DomainError):
        await core.matching.confirm(run_id=run1.id, staff="staff:1")  # superseded by run 2

    in_publicity = await core.appointments.list(staff="test", statuses=["publicity"])

    # A pre-service workshop for the matched pairs reaches both sides of each, and nobody else.
    event = await core.events.create(kind="demo_workshop", title="岗前示范交流活动", actor="staff:1",
                                     starts_at=clock.now + timedelta(days=3), ends_at=clock.now + timedelta(days=3, hours=2),
                                     online_url="https://meeting.example.org/x")
    await core.events.invite(event_id=event.id, actor="staff:1", audience="matched")
    invited = {i.person_id for i in await core.events.invitations(staff="test", event_id=event.id)}
    assert invited == {person for a in in_publicity for person in people[a.id]}
    book = openpyxl.load_workbook(io.BytesIO(publicity_workbook(in_publicity)))
    assert book.active.max_row == 1 + len(in_publicity)
    assert "公示期 2025-08-22 至 2025-08-28" in publicity_text(in_publicity)

    target = appointments[("甲专家", "第一大学", "创新思维")]
    await core.appointments.record_objection(appointment_id=target, staff="staff:1", note="有人反映兼职时间不足", upheld=None)
    clock.now = datetime(2025, 8, 29, 2, 0, tzinfo=timezone.utc)
    with pytest.raises(DomainError) as error:
        await core.appointments.record_agreement(appointment_id=target, staff="staff:1", signed_on=date(2025, 8, 29),
                                                 term_years=3, hours=32, content="创新思维课程讲授", employer_consent=True)
    assert "未处理的公示异议" in error.value.message
    await core.appointments.record_objection(appointment_id=target, staff="staff:1", note="核实后不成立", upheld=False)

    with pytest.raises(DomainError) as error:
        await core.appointments.record_agreement(appointment_id=target, staff="staff:1", signed_on=date(2025, 8, 29),
                                                 term_years=6, hours=32, content="创新思维课程讲授", employer_consent=False)
    assert "不超过 5 年" in error.value.message and "单位同意" in error.value.message

    agreed = await core.appointments.record_agreement(appointment_id=target, staff="staff:1", signed_on=date(2025, 8, 29),
                                                      term_years=3, hours=32, content="创新思维课程讲授", employer_consent=True)
    assert agreed.status == "agreed" and agreed.agreement["ends_on"] == "2028-08-28"
    with pytest.raises(TransitionError):
        await core.appointments.record_agreement(appointment_id=target, staff="staff:1", signed_on=date(2025, 8, 29),
                                                 term_years=3, hours=32, content="x", employer_consent=True)
    filed = await core.appointments.record_filing(appointment_id=target, staff="staff:1", filed_on=date(2025, 9, 5), note="江苏省教育厅")
    assert filed.status == "filed"

    sheet = openpyxl.load_workbook(io.BytesIO(filing_workbook(await core.appointments.list(staff="test", statuses=["filed"])))).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]]))
    assert tuple(header) == FILING_COLUMNS
    assert row["高校"] == "第一大学" and row["专家姓名"] == "甲专家" and row["聘任课程"] == "创新思维"
    assert row["聘期（年）"] == 3 and row["备案日期"] == "2025-09-05"

    kinds = set(await outbox_kinds(core))
    assert {"match_declined", "match_accepted", "publicity_started", "publicity_ended", "agreement_recorded",
            "filing_recorded"} <= kinds

    # Status is visible to both sides.
    expert_person, university_person = people[target]
    mine = await core.appointments.for_person(person_id=university_person)
    assert ("university", "已备案") in {(side, view.status_label) for side, view in mine}


async def test_cap_of_two_universities_holds_across_runs_unless_lifted(core):
    expert = await approved_expert(core, name="丁专家", courses=["创新思维"], max_universities="2")
    universities = [
        await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name=f"第{n}号大学") for n in range(3)
    ]
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    assert run.filled == 2 and len({p.university_application_id for p in run.proposals}) == 2
    assert [slot["reason"] for slot in run.unfilled] == ["candidates_at_university_cap"]
    await core.matching.confirm(run_id=run.id, staff="staff:1")

    with pytest.raises(DomainError):
        await core.matching.lift_cap(expert_application_id=expert, max_universities=3, reason=" ", staff="staff:1")
    run2 = await core.matching.run(batch_id=batch.id, staff="staff:1")
    assert {p.university_application_id for p in run2.proposals if not p.fixed} == set()

    await core.matching.lift_cap(expert_application_id=expert, max_universities=3, reason="急需领域，本人同意", staff="staff:1")
    run3 = await core.matching.run(batch_id=batch.id, staff="staff:1")
    new = [p for p in run3.proposals if not p.fixed]
    assert len(new) == 1 and new[0].university_application_id in universities
    confirmed = await core.matching.confirm(run_id=run3.id, staff="staff:1")
    assert all(p.appointment_id for p in confirmed.proposals)


async def test_answer_reminders_lapse_once_answered_and_silence_reaches_the_digest(core, clock):
    await approved_expert(core, name="戊专家", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="第五大学")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    (proposal,) = (await core.matching.confirm(run_id=run.id, staff="staff:1")).proposals
    view = await core.appointments.get(staff="test", appointment_id=proposal.appointment_id)

    reminders = await outbox_rows(core, kind="match_answer_reminder")
    assert {r.payload["side"] for r in reminders} == {"expert", "university"}
    assert {r.due_at for r in reminders} == {view.answer_by - timedelta(days=1)}

    notifications = NotificationService.from_settings(core.settings, uow=core.uow, clock=clock)
    expert_reminder = next(r for r in reminders if r.payload["side"] == "expert")
    assert await notifications.lapsed_reason(kind="match_answer_reminder", payload=expert_reminder.payload) is None
    expert_person = (await core.intake.get(application_id=view.expert_application_id)).person_id
    await core.appointments.respond(appointment_id=view.id, person_id=expert_person, accept=True)
    assert "已答复" in await notifications.lapsed_reason(kind="match_answer_reminder", payload=expert_reminder.payload)

    # The university stays silent past the deadline: staff read it in the next morning's digest.
    clock.now = view.answer_by + timedelta(days=1)
    clock.now = clock.now.replace(hour=2, minute=0)  # 10:00 Beijing time, after the 09:00 digest hour
    assert await notifications.schedule_staff_digest() >= 1
    (digest, *_) = await outbox_rows(core, kind="staff_digest")
    (late,) = digest.payload["unanswered_proposals"]
    assert late["appointment_id"] == view.id and late["silent"] == "高校" and late["university"] == "第五大学"


async def test_pairs_awaiting_publicity_reach_the_digest_with_the_oldest_waiting_days(core, clock):
    # Publicity is started by staff: the morning digest reminds them of the pairs both sides accepted.
    from notifier.composing import Composer, OutboxItem

    await approved_expert(core, name="韩专家", courses=["创新思维"])
    await approved_expert(core, name="杨专家", courses=["创新管理"])
    await approved_expert(core, name="周专家", courses=["技术创新方法"])
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online"),
                                      "技术创新方法": (16, 1, "online")}, university_name="华北科技大学")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    pairs = {}
    for p in (await core.matching.confirm(run_id=run.id, staff="staff:1")).proposals:
        pairs[p.course] = (p.appointment_id, (await core.intake.get(application_id=p.expert_application_id)).person_id,
                           (await core.intake.get(application_id=p.university_application_id)).person_id)

    async def both_yes(course):
        appointment_id, expert, university = pairs[course]
        await core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True)
        await core.appointments.respond(appointment_id=appointment_id, person_id=university, accept=True)

    await both_yes("创新思维")                      # Thursday 08-21 10:00: waits from now
    clock.now += timedelta(days=2)
    await both_yes("创新管理")                      # Saturday 08-23
    await both_yes("技术创新方法")
    await core.appointments.start_publicity(appointment_ids=[pairs["技术创新方法"][0]], staff="staff:1")
    clock.now = datetime(2025, 8, 26, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00: five days after the first yes
    notifications = NotificationService.from_settings(core.settings, uow=core.uow, clock=clock)
    assert await notifications.schedule_staff_digest() == 1

    (digest,) = await outbox_rows(core, kind="staff_digest")
    assert digest.payload["awaiting_publicity"]["count"] == 2  # the publicised pair no longer waits
    assert digest.payload["awaiting_publicity"]["oldest_days"] == 5
    item = OutboxItem(id=digest.id, kind=digest.kind, channel=digest.channel, address=digest.address,
                      idempotency_key=digest.idempotency_key, payload=digest.payload)
    email = Composer(mail_from="noreply@innoeng.test").email(item)
    assert "待公示 2" in email.subject, email.subject
    for said in (email.text, re.sub(r"<[^>]+>", "", email.html)):
        assert "双方已确认、待公示的聘任（2 对）" in said and "最早的一对已等待 5 天" in said, said
        assert "/publicity" in said and "待公示" in said
