"""The run's and the filing list's exports are one read each: every row exactly once, in order across chunk
boundaries, as the data stood when the export began, whatever changes while it is written."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import update

from core.db.models import Appointment
from core.exports import filing_workbook, run_workbook, write_filing_workbook, write_run_workbook_streamed
from tests.support.factories import approved_expert, submitted_university


def sheets_of(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


async def three_pairs(core) -> int:
    for n in range(3):
        await approved_expert(core, name=f"专家{n}", courses=["创新思维"], max_universities="1", email=f"e{n}@example.com")
        await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name=f"第{n}大学",
                                   contact_email=f"u{n}@example.edu.cn")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    assert len(run.proposals) == 3
    return run.id


async def test_the_run_export_streams_every_pair_once_in_order(core, tmp_path):
    run_id = await three_pairs(core)
    run = await core.matching.get(staff="test", run_id=run_id)
    chunks = [chunk async for chunk in core.matching.pair_chunks(staff="test", run_id=run_id, size=2)]
    assert [len(c) for c in chunks] == [2, 1] and tuple(p for c in chunks for p in c) == run.proposals

    path = tmp_path / "run.xlsx"
    summary = await core.matching.get(staff="test", run_id=run_id, pairs=False)
    assert summary.proposals == () and summary.unfilled == run.unfilled
    with path.open("wb") as target:
        written = await write_run_workbook_streamed(target, summary, core.matching.pair_chunks(staff="test", run_id=run_id, size=2),
                                                    kept=await core.appointments.kept_by(staff="test", run=run))
    assert written == 3
    streamed, whole = sheets_of(path.read_bytes()), sheets_of(run_workbook(run, kept=await core.appointments.kept_by(staff="test", run=run)))
    assert streamed == whole
    pairs = streamed[f"第{run_id}次匹配"][1:]
    assert [r[0] for r in pairs] == [1, 2, 3] and sorted(r[1] for r in pairs) == ["第0大学", "第1大学", "第2大学"]


async def test_the_filing_list_is_the_list_as_it_stood_when_the_export_began(core, tmp_path):
    run_id = await three_pairs(core)
    await core.matching.confirm(run_id=run_id, staff="staff:1")
    listed = await core.appointments.list(staff="test", statuses=["offered"])
    assert len(listed) == 3

    # The last appointment leaves the list while the export is between its chunks: the export still has it,
    # once (a read per chunk, each in its own transaction, lost it).
    seen = []
    async for chunk in core.appointments.chunks(staff="test", statuses=["offered"], size=2):
        if not seen:
            async with core.uow() as uow:
                await uow.session.execute(update(Appointment).where(Appointment.id == listed[-1].id)
                                          .values(status="cancelled"))
                await uow.commit()
        seen += chunk
    assert seen == listed
    assert [a.id for a in await core.appointments.list(staff="test", statuses=["offered"])] == [a.id for a in listed[:2]]

    path = tmp_path / "filing.xlsx"
    with path.open("wb") as target:
        assert await write_filing_workbook(target, core.appointments.chunks(staff="test", statuses=["offered"], size=1)) == 2
    assert sheets_of(path.read_bytes()) == sheets_of(filing_workbook(listed[:2]))
