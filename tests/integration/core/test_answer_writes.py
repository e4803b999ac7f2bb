"""An answer is one row written: one read and one versioned UPDATE, committed as it runs; answers racing on
one draft are each applied, none lost and none failing."""
from __future__ import annotations

import asyncio

from sqlalchemy import event

from tests.integration.core.test_intake_flow import EXPERT, consenting_person


async def test_answers_racing_on_one_draft_are_all_kept(core):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    keys = ["name", "birth_date", "mobile", "email", "province"]
    assert draft.step.key == "name"
    # Five answers to five questions at once (as two devices, or a retry racing the original, might send):
    # every one of them reads version 1 and all but one find the row changed when they write.
    await asyncio.gather(*(core.intake.answer(application_id=draft.application_id, step_key=key, raw=EXPERT[key])
                           for key in keys))
    stored = await core.intake.get(application_id=draft.application_id)
    assert {key: stored.answers.get(key) for key in keys} == {
        "name": "张三", "birth_date": "1970-01-02", "mobile": "13812345678", "email": "ZS@example.com", "province": "北京",
    }


async def test_an_answer_is_one_read_and_one_write_outside_a_transaction(core):
    person = await consenting_person(core)
    draft = await core.intake.start(person_id=person.id, form="expert")
    statements: list[tuple[str, str | None]] = []

    def listener(connection, _cursor, statement, *_args) -> None:
        statements.append((statement.split()[0].upper(), connection.get_execution_options().get("isolation_level")))

    event.listen(core.engine.sync_engine, "before_cursor_execute", listener)
    try:
        draft = await core.intake.answer(application_id=draft.application_id, step_key="name", raw="张三")
    finally:
        event.remove(core.engine.sync_engine, "before_cursor_execute", listener)
    assert draft.answers["name"] == "张三" and draft.step.key == "birth_date"
    # No BEGIN and COMMIT round trips around them: each statement commits as it runs.
    assert statements == [("SELECT", "AUTOCOMMIT"), ("UPDATE", "AUTOCOMMIT")]
    assert (await core.intake.get(application_id=draft.application_id)).answers["name"] == "张三"
