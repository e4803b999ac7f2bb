"""Draft → submit → review, as the services do it, on SQLite and on PostgreSQL."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from core.bootstrap import bootstrap
from core.db.models import AuditEntry, CourseDemand, OutboxMessage, Person
from core.domain import DomainError, TransitionError
from core.forms import AnswerError
from core.sample import SAMPLE_PDF, populate, university_answers
from core.services import FINISH_FILES, FormErrors

EXPERT = {
    "name": "张三", "birth_date": "1970年1月2日", "mobile": "+86 138-1234-5678", "email": "ZS@Example.COM",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": "５", "position": "总工程师", "education": "bachelor", "title": "senior_full",
    "priority_conditions": ["major_invention_patent"], "priority_description": "ZL2020 发明专利一项",
    "society_member": "是", "courses": "创新思维、技术创新方法", "duties": ["teaching", "co_developing"],
    "teaching_mode": "both", "available_times": ["weekend_intensive"], "offline_provinces": ["北京", "河北"],
    "max_universities": "2", "employer_consent": "是",
    "profile": "从事产品研发二十年，长期应用TRIZ方法解决工程问题。", "declaration": "是",
}


async def consenting_person(core, telegram_id=1001, sensitive=True):
    person = await core.people.register_telegram_user(telegram_id=telegram_id, display_name="张三")
    await core.people.give_consent(person_id=person.id)
    if sensitive:
        await core.people.give_consent(person_id=person.id, sensitive=True)
    return person


async def answer_all(core, draft, answers, files=1):
    while draft.step is not None:
        key = draft.step.key
        if key == "proof_files":
            for _ in range(files):
                await core.intake.attach_document(application_id=draft.application_id, step_key=key, content=SAMPLE_PDF, filename="证书.pdf")
            draft = await core.intake.answer(application_id=draft.application_id, step_key=key, raw=FINISH_FILES)
        else:
            draft = await core.intake.answer(application_id=draft.application_id, step_key=key, raw=answers.get(key))
    return draft


async def test_expert_from_first_answer_to_the_pool(core):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    assert (draft.step.key, draft.position) == ("name", 1)
    draft = await answer_all(core, draft, EXPERT)
    assert draft.at_review
    assert draft.answers["mobile"] == "13812345678" and draft.answers["years_at_employer"] == 5

    submitted = await core.intake.submit(application_id=draft.application_id)
    assert submitted.status == "submitted"
    assert submitted.eligibility.outcome == "pass" and submitted.eligibility.priority_score == 30
    assert [d.mime for d in submitted.documents] == ["application/pdf"]

    pending = await core.review.pending(staff="test", form="expert")
    assert [p.id for p in pending] == [draft.application_id]
    approved = await core.review.approve(application_id=draft.application_id, staff="staff:900001")
    assert approved.status == "approved"
    pool = await core.review.pool(staff="test", course="技术创新方法", province="河北")
    assert [p.id for p in pool] == [draft.application_id]
    assert await core.review.pool(staff="test", course="创新管理") == []

    async with core.uow() as uow:
        kinds = [m.kind for m in (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()]
        actions = [a.action for a in (await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()]
    # Preferred channel "both": every notice goes by e-mail and by Telegram.
    assert kinds == ["submission_receipt", "submission_receipt", "review_approved", "review_approved"]
    assert {"application.start", "document.upload", "application.submit", "review.approved"} <= set(actions)


async def test_every_answer_is_committed_and_a_new_process_resumes_at_the_same_question(core, database_url, settings_for, clock):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    for key in ("name", "birth_date", "mobile"):
        draft = await core.intake.answer(application_id=draft.application_id, step_key=key, raw=EXPERT[key])
    draft = await core.intake.back(application_id=draft.application_id)
    assert draft.step.key == "mobile"

    restarted = bootstrap(settings_for(database_url), clock=clock)
    try:
        resumed = await restarted.intake.start(person_id=person.id, form="expert")
        assert resumed.application_id == draft.application_id
        assert resumed.step.key == "mobile" and resumed.answers["name"] == "张三"
        assert resumed.position == 3
    finally:
        await restarted.close()


async def test_bad_answer_is_refused_with_the_rule_and_nothing_is_lost(core):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    draft = await core.intake.answer(application_id=draft.application_id, step_key="name", raw="张三")
    with pytest.raises(AnswerError) as error:
        await core.intake.answer(application_id=draft.application_id, step_key="birth_date", raw="去年")
    assert "无法识别的日期" in error.value.message
    again = await core.intake.get(application_id=draft.application_id)
    assert again.step.key == "birth_date" and again.answers == {"name": "张三"}


async def test_edit_from_the_review_returns_to_the_review_and_asks_new_follow_ups(core):
    person = await consenting_person(core, sensitive=False)
    draft = await core.intake.start(person_id=person.id, form="university")
    answers = university_answers(random.Random(1), today=core.clock().date(), index=1)
    answers["courses"] = ["创新思维"]
    draft = await answer_all(core, draft, answers | {
        "course_demand[创新思维].hours": 32, "course_demand[创新思维].experts_needed": 1, "course_demand[创新思维].mode": "online"})
    assert draft.at_review

    draft = await core.intake.edit(application_id=draft.application_id, step_key="courses")
    assert draft.step.key == "courses" and draft.editing
    draft = await core.intake.answer(application_id=draft.application_id, step_key="courses", raw=["创新思维", "创新管理"])
    # The new course brings its own questions before the summary.
    assert draft.step.key == "course_demand[创新管理].hours" and draft.editing
    for key, value in (("hours", "16"), ("experts_needed", "2"), ("mode", "offline")):
        draft = await core.intake.answer(application_id=draft.application_id, step_key=f"course_demand[创新管理].{key}", raw=value)
    assert draft.at_review

    summary = await core.intake.submit(application_id=draft.application_id)
    assert summary.eligibility.outcome == "pass"
    async with core.uow() as uow:
        demands = [(d.course, d.hours, d.experts_needed, d.mode)
                   for d in (await uow.session.scalars(select(CourseDemand).order_by(CourseDemand.id))).all()]
    assert demands == [
        ("创新思维", 32, 1, "online"), ("创新管理", 16, 2, "offline")]


async def test_submit_refuses_incomplete_and_after_the_deadline(core, clock):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    with pytest.raises(DomainError) as error:
        await core.intake.submit(application_id=draft.application_id)
    assert error.value.code == "incomplete" and "姓名" in error.value.message

    draft = await answer_all(core, draft, EXPERT)
    clock.advance(days=60)  # past 2025-08-15 23:59:59 Beijing time
    with pytest.raises(DomainError) as error:
        await core.intake.submit(application_id=draft.application_id)
    assert error.value.code == "closed" and "2025-08-15 23:59" in error.value.message


async def test_no_question_before_consent_and_no_certificate_before_sensitive_consent(core):
    person = await core.people.register_telegram_user(telegram_id=5, display_name=None)
    with pytest.raises(DomainError) as error:
        await core.intake.start(person_id=person.id, form="expert")
    assert error.value.code == "no_consent"
    await core.people.give_consent(person_id=person.id)
    draft = await core.intake.fill(
        application_id=(await core.intake.start(person_id=person.id, form="expert")).application_id, answers=EXPERT)
    assert draft.step.key == "proof_files"
    with pytest.raises(DomainError) as error:
        await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    assert error.value.code == "no_sensitive_consent"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"MZ\x90\x00 renamed executable", "不支持的文件类型"), (b"", "文件是空的"), (b"%PDF-" + b"0" * (21 * 1024 * 1024), "文件过大")],
)
async def test_uploads_checked_by_content_and_size(core, content, fragment):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    draft = await core.intake.fill(application_id=draft.application_id, answers=EXPERT)
    with pytest.raises(AnswerError) as error:
        await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=content, filename="证书.pdf")
    assert fragment in error.value.message
    assert (await core.intake.get(application_id=draft.application_id)).answers.get("proof_files") is None


async def test_needs_info_round_trip_and_withdraw(core):
    person = await consenting_person(core)
    draft = await answer_all(core, await core.intake.start(person_id=person.id, form="expert"), EXPERT)
    await core.intake.submit(application_id=draft.application_id)
    sent_back = await core.review.request_info(application_id=draft.application_id, staff="staff:1", message="请补充职称证书")
    assert sent_back.status == "needs_info" and sent_back.staff_message == "请补充职称证书"

    edited = await core.intake.edit(application_id=draft.application_id, step_key="position")
    await core.intake.answer(application_id=edited.application_id, step_key="position", raw="首席专家")
    resubmitted = await core.intake.submit(application_id=draft.application_id)
    assert resubmitted.status == "submitted"
    assert dict((line.label, line.value) for line in resubmitted.lines)["职务/岗位"] == "首席专家"

    withdrawn = await core.intake.withdraw(application_id=draft.application_id, reason="时间冲突")
    assert withdrawn.status == "withdrawn"
    with pytest.raises(TransitionError):
        await core.review.approve(application_id=draft.application_id, staff="staff:1")
    assert (await core.intake.summary(application_id=draft.application_id)).status == "withdrawn"


async def test_reject_needs_a_reason_and_is_final(core):
    person = await consenting_person(core)
    draft = await answer_all(core, await core.intake.start(person_id=person.id, form="expert"), EXPERT)
    await core.intake.submit(application_id=draft.application_id)
    with pytest.raises(DomainError) as error:
        await core.review.reject(application_id=draft.application_id, staff="staff:1", reason="  ")
    assert error.value.code == "reason_required"
    rejected = await core.review.reject(application_id=draft.application_id, staff="staff:1", reason="工作年限不足")
    assert rejected.status == "rejected"
    with pytest.raises(TransitionError):
        await core.intake.withdraw(application_id=draft.application_id)


async def test_fill_reports_every_bad_answer(core):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    with pytest.raises(FormErrors) as error:
        await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, "mobile": "123", "email": "x@"})
    assert set(error.value.problems) == {"mobile", "email"}


async def test_export_and_erase_a_persons_data(core):
    person = await consenting_person(core)
    draft = await answer_all(core, await core.intake.start(person_id=person.id, form="expert"), EXPERT, files=2)
    await core.intake.submit(application_id=draft.application_id)
    exported = await core.privacy.export(person_id=person.id)
    assert exported["person"]["mobile"] == "13812345678"
    assert exported["applications"][0]["answers"]["姓名"] == "张三"
    assert len(exported["applications"][0]["documents"]) == 2
    stored = list(core.settings.documents_dir.iterdir())
    assert len(stored) == 2

    assert (await core.privacy.erase(person_id=person.id)).files == 2
    assert list(core.settings.documents_dir.iterdir()) == []
    assert await core.people.get_by_telegram_id(telegram_id=1001) is None
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(OutboxMessage))).all() == []
        erasure = (await uow.audit.list_for(f"person:{person.id}"))[-1]
        assert erasure.action == "person.erase" and "13812345678" not in str(erasure.detail)


async def test_sample_applications_go_through_the_same_services(core):
    result = await populate(people=core.people, intake=core.intake, experts=12, universities=4, seed=7)
    figures = await core.figures.batch(staff="test")
    assert {status: n for status, n in figures.by_status["expert"].items() if n} == {"submitted": 12}
    assert {status: n for status, n in figures.by_status["university"].items() if n} == {"submitted": 4}
    # Demand counts the intents staff accepted (as the console's dashboard does): accept the sample's four.
    for university in result.universities:
        await core.review.approve(application_id=university, staff="staff:test")
    assert sum((await core.figures.batch(staff="test")).demand_by_course.values()) >= 4
    assert len(result.experts) == 12


async def test_unit_of_work_rolls_back_unless_committed(core):
    async with core.uow() as uow:
        uow.people.add(Person(display_name="临时", preferred_channel="email", locale="zh-CN", created_at=core.clock()))
        await uow.flush()
    async with core.uow() as uow:
        assert (await uow.session.scalars(select(Person).where(Person.display_name == "临时"))).all() == []
