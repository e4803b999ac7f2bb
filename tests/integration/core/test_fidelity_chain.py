"""Rules of the notice kept along the whole chain: form answers → review → matching → notifications."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from core.db.models import OutboxMessage
from core.services import FINISH_FILES
from core.sample import SAMPLE_PDF
from tests.support.factories import EXPERT, approved_expert, submitted_university


@pytest.fixture
def settings_for(settings_for):
    def make(database_url, **overrides):
        return settings_for(database_url, **{"default_batch_deadline": "2025-09-30", **overrides})

    return make


async def answered_expert(core, answers: dict) -> int:
    """An expert who answers question by question, each through the form's own validation, then is approved."""
    person = await core.people.register_telegram_user(telegram_id=880001, display_name=None)
    await core.people.give_consent(person_id=person.id)
    await core.people.give_consent(person_id=person.id, sensitive=True)
    draft = await core.intake.start(person_id=person.id, form="expert")
    while draft.step is not None:
        key = draft.step.key
        if key == "proof_files":
            await core.intake.attach_document(application_id=draft.application_id, step_key=key, content=SAMPLE_PDF)
            draft = await core.intake.answer(application_id=draft.application_id, step_key=key, raw=FINISH_FILES)
        else:
            draft = await core.intake.answer(application_id=draft.application_id, step_key=key, raw=answers[key])
    await core.intake.submit(application_id=draft.application_id)
    await core.review.approve(application_id=draft.application_id, staff="staff:test")
    return draft.application_id


async def test_declared_priority_conditions_count_in_matching_and_its_explanation(core):
    # As typed in the chat: the choices by their numbers in the question.
    typed = {**EXPERT, "name": "王建国", "priority_conditions": "1、2", "priority_description": "发明专利 ZL2019 一项，掌握精密加工核心技术",
             "society_member": "否", "courses": "1", "duties": "1、3", "teaching_mode": "1", "available_times": "1",
             "max_universities": "2", "employer_consent": "是", "declaration": "是", "province": "北京",
             "employer_type": "3", "education": "2", "title": "2"}
    star = await answered_expert(core, typed)
    plain = await approved_expert(core, name="李平", courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 2, "online")}, university_name="第一大学")

    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    by_expert = {p.expert_application_id: p for p in run.proposals}
    assert set(by_expert) == {star, plain}
    assert "满足1/3项优先条件：拥有重大发明专利、掌握核心技术" in by_expert[star].explanation
    assert "满足0/3项优先条件" in by_expert[plain].explanation
    assert by_expert[star].score > by_expert[plain].score

    # The university's recommendation names what the expert declared too.
    async with core.uow() as uow:
        payloads = (await uow.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "recommendations"))).all()
    assert payloads and any("拥有重大发明专利" in str(p) for p in payloads)


async def offered_pair(core, clock, course: str = "创新思维") -> tuple[int, int, int]:
    """(appointment id, expert's person id, university contact's person id) of one confirmed proposal."""
    expert = await approved_expert(core, name="王建国", courses=[course])
    university = await submitted_university(core, {course: (32, 1, "online")}, university_name=f"{course}大学",
                                            planned_start="2032-09")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    confirmed = await core.matching.confirm(run_id=run.id, staff="staff:1")
    appointment_id = next(p.appointment_id for p in confirmed.proposals if p.expert_application_id == expert)
    expert_person = (await core.intake.get(application_id=expert)).person_id
    university_person = (await core.intake.get(application_id=university)).person_id
    return appointment_id, expert_person, university_person


async def test_publicity_starting_before_national_day_2026_counts_china_working_days(database_url, settings_for, clock):
    from core.bootstrap import bootstrap

    # Monday 2026-09-28, 10:00 Beijing time. 10-01..10-07 are off; Saturday 10-10 is a 调休 working day.
    clock.now = datetime(2026, 9, 28, 2, 0, tzinfo=timezone.utc)
    core = bootstrap(settings_for(database_url, default_batch_deadline="2026-10-31"), clock=clock)
    await core.prepare()
    try:
        appointment_id, expert_person, university_person = await offered_pair(core, clock)
        await core.appointments.respond(appointment_id=appointment_id, person_id=expert_person, accept=True)
        await core.appointments.respond(appointment_id=appointment_id, person_id=university_person, accept=True)
        # Staff start it on Monday 09-28, from the next working day.
        (view,) = await core.appointments.start_publicity(appointment_ids=[appointment_id], staff="staff:1")
        # 09-29, 09-30, 10-08, 10-09, 10-10 (Saturday, a make-up working day).
        assert (view.publicity_starts_on, view.publicity_ends_on) == (date(2026, 9, 29), date(2026, 10, 10))
        async with core.uow() as uow:
            ended = (await uow.session.scalars(select(OutboxMessage.due_at).where(OutboxMessage.kind == "publicity_ended"))).all()
            started = (await uow.session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "publicity_started"))).all()
        assert ended and all(d.replace(tzinfo=timezone.utc) == datetime(2026, 10, 11, 1, 0, tzinfo=timezone.utc) for d in ended)
        assert started and all("2026-10-10" in str(p) for p in started)
    finally:
        await core.close()


async def test_a_year_the_calendar_does_not_cover_falls_back_to_weekdays_and_holidays_and_warns_staff_once(
    database_url, settings_for, clock
):
    from core.bootstrap import bootstrap
    from core.db.models import AuditEntry

    # Wednesday 2031-12-31: the publicity runs into 2032, which no published arrangement covers yet.
    clock.now = datetime(2031, 12, 30, 2, 0, tzinfo=timezone.utc)
    core = bootstrap(settings_for(database_url, default_batch_deadline="2032-03-31",
                                  holidays="2032-01-01,2032-01-02"), clock=clock)
    await core.prepare()
    try:
        for course in ("创新思维", "创新管理"):
            appointment_id, expert_person, university_person = await offered_pair(core, clock, course)
            await core.appointments.respond(appointment_id=appointment_id, person_id=expert_person, accept=True)
            await core.appointments.respond(appointment_id=appointment_id, person_id=university_person, accept=True)
            (view,) = await core.appointments.start_publicity(appointment_ids=[appointment_id], staff="staff:1")
            # 12-31 (2031 is not covered either), then 2032: 01-01 and 01-02 listed in HOLIDAYS, 01-05..01-07.
            assert (view.publicity_starts_on, view.publicity_ends_on) == (date(2031, 12, 31), date(2032, 1, 8))
        async with core.uow() as uow:
            warnings = (await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "calendar.uncovered_year").order_by(AuditEntry.subject))).all()
            assert [w.subject for w in warnings] == ["calendar:2031", "calendar:2032"]
            message = warnings[1].detail["message"]
        assert "2032 年" in message
        assert core.appointments.calendar_warnings(years=[2026, 2032]) == [message]
    finally:
        await core.close()


async def university_draft(core):
    person = await core.people.register_telegram_user(telegram_id=880101, display_name=None)
    await core.people.give_consent(person_id=person.id)
    draft = await core.intake.start(person_id=person.id, form="university")
    return draft.application_id


async def test_a_planned_start_in_the_past_is_refused_with_the_reason(database_url, settings_for, clock):
    from core.bootstrap import bootstrap
    from core.forms import AnswerError

    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    core = bootstrap(settings_for(database_url, default_batch_deadline="2027-01-31"), clock=clock)
    await core.prepare()
    try:
        application_id = await university_draft(core)
        with pytest.raises(AnswerError) as refused:
            await core.intake.answer(application_id=application_id, step_key="planned_start", raw="2026年9月")
        assert "2026-09 已经过去" in refused.value.message and "2026-12-01" in refused.value.message
        draft = await core.intake.answer(application_id=application_id, step_key="planned_start", raw="2026年12月")
        assert draft.answers["planned_start"] == "2026-12"
    finally:
        await core.close()


async def test_36_hours_is_accepted_and_put_to_staff_as_needing_judgement_with_the_reason(core):
    university = await submitted_university(core, {"创新思维": (36, 1, "online")}, university_name="第一大学")
    summary = await core.intake.summary(application_id=university)
    assert summary.status == "submitted"
    hours = next(r for r in summary.eligibility.rules if r.rule == "hours")
    assert hours.outcome == "needs_judgement" and "36 学时" in hours.reason and "一般不超过 32 学时" in hours.reason
    assert summary.eligibility.outcome == "needs_judgement"
    # Staff's queue shows the verdict and its reason.
    pending = await core.review.pending(staff="test")
    assert any("一般不超过 32 学时" in str(item) for item in pending)


async def test_a_university_that_submitted_before_the_pool_existed_gets_candidates_once_experts_are_approved(core, clock):
    early = await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")},
                                       university_name="早报大学")
    contact = (await core.intake.get(application_id=early)).person_id
    assert not any(g.candidates for g in await core.recommendations.candidates(university_application_id=early,
                                                                               person_id=contact))
    async with core.uow() as uow:
        assert not (await uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "recommendations"))).all()

    # Staff approve three experts one after another; two fit 创新思维, one teaches only 技术创新方法.
    first = await approved_expert(core, name="甲专家", courses=["创新思维"])
    clock.advance(minutes=1)
    second = await approved_expert(core, name="乙专家", courses=["创新思维", "创新管理"])
    clock.advance(minutes=1)
    await approved_expert(core, name="丙专家", courses=["技术创新方法"])

    groups = {g.course: g for g in await core.recommendations.candidates(university_application_id=early,
                                                                         person_id=contact)}
    assert {c.expert_application_id for c in groups["创新思维"].candidates} == {first, second}
    assert {c.expert_application_id for c in groups["创新管理"].candidates} == {second}
    # One message per channel for the whole burst of approvals, listing everyone, sent after the burst.
    async with core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "recommendations"))).all()
        notices = [(r.channel, r.due_at, r.payload) for r in rows]
    assert len(notices) == len({channel for channel, _, _ in notices}) >= 1
    for _, due_at, payload in notices:
        courses = {c["course"]: c["candidates"] for c in payload["courses"]}
        assert len(courses["创新思维"]) == 2 and len(courses["创新管理"]) == 1
        assert due_at.replace(tzinfo=timezone.utc) > clock.now.replace(tzinfo=timezone.utc)

    # A later approval, after that notice went out, is a new meaningful change: one more message.
    async with core.uow() as uow:
        for row in (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "recommendations"))).all():
            row.status = "sent"
        await uow.commit()
    clock.advance(minutes=30)
    await approved_expert(core, name="丁专家", courses=["创新管理"])
    async with core.uow() as uow:
        queued = (await uow.session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.kind == "recommendations", OutboxMessage.status == "queued"))).all()
    assert queued and all(len({c["course"]: c for c in p["courses"]}["创新管理"]["candidates"]) == 2 for p in queued)


async def test_an_expert_ranks_or_declines_the_universities_proposed_to_them_and_matching_follows(core):
    expert = await approved_expert(core, name="王建国", courses=["创新思维"], max_universities="1")
    first = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="甲理工大学")
    second = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="乙理工大学")
    person = (await core.intake.get(application_id=expert)).person_id

    options = await core.recommendations.universities_for_expert(expert_application_id=expert, person_id=person)
    assert {o.university for o in options} == {"甲理工大学", "乙理工大学"}
    assert all(o.courses == ("创新思维",) and o.planned_start for o in options)
    with pytest.raises(Exception):
        await core.recommendations.expert_choose(expert_application_id=expert, university_application_id=second,
                                                 choice="want", person_id=person + 999)

    await core.recommendations.expert_choose(expert_application_id=expert, university_application_id=second,
                                             choice="want", person_id=person)
    options = await core.recommendations.expert_choose(expert_application_id=expert, university_application_id=first,
                                                       choice="want", person_id=person)
    assert [(o.university, o.want_rank) for o in options] == [("乙理工大学", 1), ("甲理工大学", 2)]

    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    assert [(p.university_name, p.expert_name) for p in run.proposals] == [("乙理工大学", "王建国")]
    assert "专家意向排序：专家将该校排在第1位" in run.proposals[0].explanation
    assert run.params["expert_rankings"] == 1

    # Declining 乙理工大学: it is never proposed to them again.
    await core.recommendations.expert_choose(expert_application_id=expert, university_application_id=second,
                                             choice="not_considering", person_id=person)
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    assert [(p.university_name, p.expert_name) for p in run.proposals] == [("甲理工大学", "王建国")]
    assert "专家将该校排在第1位" in run.proposals[0].explanation
    slot = next(s for s in run.unfilled if s["university_name"] == "乙理工大学")
    assert slot["course"] == "创新思维"
