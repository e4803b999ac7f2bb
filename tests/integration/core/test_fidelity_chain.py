"""Rules of the notice kept along the whole chain: form answers → review → matching → notifications."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from core.db.models import OutboxMessage
from core.services import FINISH_FILES
from core.sample import SAMPLE_PDF
from tests.support.factories import EXPERT, approved_expert, submitted_university


@pytest.fixture
def settings_for(settings_for):
    def make(database_url, **overrides):
        return settings_for(database_url, default_batch_deadline="2025-09-30", **overrides)

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
