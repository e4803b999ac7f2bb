"""The pool's province filter (where experts are, or where they would teach offline) reads indexes on
PostgreSQL (ix_applications_pool_province, ix_applications_offline_provinces: migration 0019) and finds the
same experts on both databases."""
from __future__ import annotations

from sqlalchemy import select, text

from core.db.models import Application
from core.services.queue import QueueFilters, QueueService, _json_list_has
from tests.support.factories import approved_expert


async def test_the_province_filter_finds_offline_teachers_and_uses_the_indexes(core):
    here = await approved_expert(core, name="粤专家", province="广东", city="广州", email="a@example.com")
    travels = await approved_expert(core, name="京专家", teaching_mode="both", offline_provinces=["广东", "广西"],
                                    email="b@example.com")
    await approved_expert(core, name="沪专家", province="上海", city="上海", teaching_mode="both",
                          offline_provinces=["浙江"], email="c@example.com")
    queue = QueueService(uow=core.uow, intake=core.intake, documents=core.documents, zone=core.settings.zone)
    filters = QueueFilters(form="expert", statuses=("approved",), province="广东")
    page = await queue.page(staff="test", filters=filters)
    assert {row.id for row in page.rows} == {here, travels}

    async with core.uow() as uow:
        dialect = uow.session.get_bind().dialect
        if dialect.name != "postgresql":
            return
        await uow.session.execute(text("SET LOCAL enable_seqscan = off"))  # three rows: make the planner show its reach

        async def plan(condition) -> str:
            stmt = select(Application.id).where(condition)
            sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            return "\n".join((await uow.session.execute(text("EXPLAIN " + sql))).scalars().all())

        # Each side of the filter's OR, as the queue writes it, is an index's condition.
        offline = await plan(_json_list_has("postgresql", "offline_provinces", "广东"))
        assert "ix_applications_offline_provinces" in offline, offline
        local = await plan((Application.form == "expert") & (Application.status == "approved")
                           & (Application.province == "广东"))
        assert "ix_applications_pool_province" in local, local
