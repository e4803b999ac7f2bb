"""What keeps the console's pages and exports fast at national scale still gives the same answers.

Exports of national size are written chunk by chunk: the rows come from the database a chunk at a time and the
workbook goes to a file (small chunks here, so that every boundary is crossed); the dashboard's days are counted
with a fixed offset on PostgreSQL."""
from __future__ import annotations

import io

import openpyxl

from core.exports import FILING_COLUMNS, filing_workbook, write_filing_workbook
from core.services import queue as queue_module
from core.services.queue import INTENT_COLUMNS, POOL_COLUMNS, QueueFilters, QueueService
from tests.support.factories import approved_expert, submitted_university


def queue_of(core) -> QueueService:
    return QueueService(uow=core.uow, intake=core.intake, documents=core.documents, zone=core.settings.zone)


def rows_of(content: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


async def test_pool_and_intents_exports_cross_chunks_in_order_into_a_file(core, tmp_path, monkeypatch):
    names = [f"专家{n}" for n in range(5)]
    for name in names:
        await approved_expert(core, name=name, courses=["创新思维"])
    await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 2, "offline")}, university_name="甲理工大学")
    await submitted_university(core, {"创新思维": (16, 1, "online")}, university_name="乙理工大学")
    await submitted_university(core, {"技术创新方法": (8, 1, "online")}, university_name="丙理工大学")
    queue = queue_of(core)
    whole = rows_of(await queue.pool_workbook(staff="test", filters=QueueFilters()))
    intents_whole = rows_of(await queue.intents_workbook(staff="test", filters=QueueFilters()))

    monkeypatch.setattr(queue_module, "EXPORT_CHUNK", 2)
    path = tmp_path / "pool.xlsx"
    with path.open("wb") as target:
        written = await queue.write_pool_workbook(staff="test", filters=QueueFilters(), target=target)
    chunked = rows_of(path.read_bytes())
    assert written == 5 and chunked == whole
    assert chunked[0] == POOL_COLUMNS and sorted(r[1] for r in chunked[1:]) == sorted(names)

    path = tmp_path / "intents.xlsx"
    with path.open("wb") as target:
        written = await queue.write_intents_workbook(staff="test", filters=QueueFilters(), target=target)
    chunked = rows_of(path.read_bytes())
    assert written == 4 and chunked == intents_whole and chunked[0] == INTENT_COLUMNS  # one line per course asked for
    assert [r[1] for r in chunked[1:]].count("甲理工大学") == 2


async def test_filing_list_in_chunks_is_the_list_numbered_through(core, tmp_path):
    for name in ("甲专家", "乙专家", "丙专家"):
        await approved_expert(core, name=name, courses=["创新思维"], max_universities="1")
    for university in ("第一大学", "第二大学", "第三大学"):
        await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name=university)
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    await core.matching.confirm(run_id=run.id, staff="staff:1")
    listed = await core.appointments.list(staff="test", statuses=["offered"])
    assert len(listed) == 3

    chunks = [chunk async for chunk in core.appointments.chunks(staff="test", statuses=["offered"], size=2)]
    assert [len(c) for c in chunks] == [2, 1] and [a for c in chunks for a in c] == listed
    assert [c async for c in core.appointments.chunks(staff="test", statuses=["filed"], size=2)] == []

    path = tmp_path / "filing.xlsx"
    with path.open("wb") as target:
        assert await write_filing_workbook(target, core.appointments.chunks(staff="test", statuses=["offered"], size=2)) == 3
    rows = rows_of(path.read_bytes())
    assert rows[0] == FILING_COLUMNS and [r[0] for r in rows[1:]] == [1, 2, 3]
    assert rows == rows_of(filing_workbook(listed))


async def test_the_day_of_a_submission_is_the_beijing_day_on_either_side_of_midnight(core):
    """The dashboard's per-day counts: PostgreSQL shifts by the fixed offset of Asia/Shanghai (no summer time)
    instead of looking the zone up per row; the days must be those the zone gives."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from sqlalchemy import DateTime, literal, select

    from core.services.figures import _local_day

    zone = ZoneInfo("Asia/Shanghai")
    moments = [datetime(2025, 8, 14, 15, 59, tzinfo=timezone.utc), datetime(2025, 8, 14, 16, 0, tzinfo=timezone.utc),
               datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc), datetime(2025, 6, 30, 2, 0, tzinfo=timezone.utc)]
    async with core.uow() as uow:
        dialect = uow.session.get_bind().dialect.name
        for moment in moments:
            day = await uow.session.scalar(select(_local_day(dialect, literal(moment, DateTime(timezone=True)), zone,
                                                             datetime(2025, 8, 10, 1, 30, tzinfo=timezone.utc))))
            day = day if not isinstance(day, str) else datetime.fromisoformat(day).date()
            assert day == moment.astimezone(zone).date(), moment
