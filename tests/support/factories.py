"""Applications created through the real services, for tests that need a pool and intents."""
from __future__ import annotations

import itertools
from typing import Any

from core.bootstrap import Core
from core.sample import SAMPLE_PDF
from core.services import FINISH_FILES
from core.services.appointments import AppointmentView

__all__ = ["EXPERT", "UNIVERSITY", "approved_expert", "both_accept", "confirmed_pairs", "submitted_expert",
           "submitted_university"]

EXPERT: dict[str, Any] = {
    "name": "张三", "birth_date": "1975-06-01", "mobile": "13812345678", "email": "expert@example.com",
    "province": "北京", "city": "北京", "employer": "某某科技有限公司", "employer_type": "high_tech",
    "years_at_employer": 10, "position": "总工程师", "education": "master", "title": "senior_associate",
    "priority_conditions": [], "society_member": False, "courses": ["创新思维"], "duties": ["teaching", "co_developing"],
    "teaching_mode": "online", "available_times": ["weekend_intensive"], "max_universities": "2",
    "employer_consent": True, "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。",
    "declaration": True,
}

UNIVERSITY: dict[str, Any] = {
    "university_name": "某某理工大学", "level": "undergraduate", "province": "江苏", "city": "南京",
    "contact_name": "李老师", "contact_department": "教务处", "contact_position": "副处长",
    "contact_mobile": "13900001111", "contact_email": "contact@example.edu.cn", "planned_start": "2027-09",
    "expected_students": 80, "schedule_preference": ["weekend_intensive"], "society_member_unit": False,
}

_telegram_ids = itertools.count(700000)


async def _person(core: Core):
    person = await core.people.register_telegram_user(telegram_id=next(_telegram_ids), display_name=None)
    await core.people.give_consent(person_id=person.id)
    await core.people.give_consent(person_id=person.id, sensitive=True)
    return person


async def approved_expert(core: Core, **answers: Any) -> int:
    person = await _person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, **answers})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF)
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    await core.review.approve(application_id=draft.application_id, staff="staff:test")
    return draft.application_id


async def submitted_expert(core: Core, *, filename: str = "学历证书.pdf", **answers: Any) -> int:
    """An expert application waiting for review, with one PDF proof file."""
    person = await _person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    await core.intake.fill(application_id=draft.application_id, answers={**EXPERT, **answers})
    await core.intake.attach_document(application_id=draft.application_id, step_key="proof_files", content=SAMPLE_PDF,
                                      filename=filename)
    await core.intake.answer(application_id=draft.application_id, step_key="proof_files", raw=FINISH_FILES)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def submitted_university(core: Core, courses: dict[str, tuple[int, int, str]], **answers: Any) -> int:
    """courses: {course: (hours, experts_needed, mode)}."""
    person = await _person(core)
    draft = await core.intake.start(person_id=person.id, form="university")
    given = {**UNIVERSITY, **answers, "courses": list(courses)}
    for course, (hours, need, mode) in courses.items():
        given[f"course_demand[{course}].hours"] = hours
        given[f"course_demand[{course}].experts_needed"] = need
        given[f"course_demand[{course}].mode"] = mode
    await core.intake.fill(application_id=draft.application_id, answers=given)
    await core.intake.submit(application_id=draft.application_id)
    return draft.application_id


async def confirmed_pairs(core: Core) -> dict[str, tuple[int, int, int]]:
    """Two pairs from a confirmed matching run of the first batch, both offered and unanswered:
    韩专家 for 创新思维 and 杨专家 for 创新管理, both at 华北科技大学.

    {course: (appointment id, expert's person id, university contact's person id)}."""
    await approved_expert(core, name="韩专家", courses=["创新思维"], email="han@example.com")
    await approved_expert(core, name="杨专家", courses=["创新管理"], email="yang@example.com")
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 1, "online")},
                               university_name="华北科技大学")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    run = await core.matching.confirm(run_id=run.id, staff="staff:1")
    pairs = {}
    for proposal in run.proposals:
        expert = (await core.intake.get(application_id=proposal.expert_application_id)).person_id
        university = (await core.intake.get(application_id=proposal.university_application_id)).person_id
        pairs[proposal.course] = (proposal.appointment_id, expert, university)
    return pairs


async def both_accept(core: Core, pair: tuple[int, int, int]) -> AppointmentView:
    """The expert, then the university contact, say yes to a pair from confirmed_pairs; the view after the second."""
    appointment_id, expert, university = pair
    await core.appointments.respond(appointment_id=appointment_id, person_id=expert, accept=True)
    return await core.appointments.respond(appointment_id=appointment_id, person_id=university, accept=True)
