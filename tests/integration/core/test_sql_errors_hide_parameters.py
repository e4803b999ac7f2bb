"""A failed statement's error names the statement, never the answers it was binding (hide_parameters)."""
from __future__ import annotations

import pytest
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from core.db.engine import is_sqlite
from tests.support.factories import EXPERT

TRIGGERS = {
    "sqlite": ("CREATE TRIGGER forced_failure BEFORE UPDATE ON applications WHEN NEW.answers LIKE '%13812345678%' "
               "BEGIN SELECT RAISE(ABORT, 'forced failure'); END",),
    "postgresql": (
        "CREATE FUNCTION forced_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER forced_failure BEFORE UPDATE ON applications FOR EACH ROW "
        "WHEN (NEW.answers::text LIKE '%13812345678%') EXECUTE FUNCTION forced_failure()",
    ),
}


async def test_database_error_carries_no_personal_data(core):
    person = await core.people.register_telegram_user(telegram_id=3131, display_name=None)
    await core.people.give_consent(person_id=person.id)
    draft = await core.intake.start(person_id=person.id, form="expert")
    async with core.engine.begin() as connection:
        for statement in TRIGGERS["sqlite" if is_sqlite(core.settings.database_url) else "postgresql"]:
            await connection.execute(sql(statement))
    with pytest.raises(DBAPIError) as error:
        await core.intake.fill(application_id=draft.application_id,
                               answers={"name": EXPERT["name"], "birth_date": EXPERT["birth_date"], "mobile": EXPERT["mobile"]})
    described = str(error.value)
    assert "forced failure" in described and "UPDATE applications" in described
    assert "13812345678" not in described and "hide_parameters" in described
