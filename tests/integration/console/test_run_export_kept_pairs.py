"""The run workbook names a pair kept from an earlier run as the run page does: 此前已确认, with its appointment as it stands."""
from __future__ import annotations

import io

import openpyxl

from core.exports import run_workbook
from tests.support.factories import both_accept, confirmed_pairs
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)
from tests.support.staff import signed_in_console


def _rows(workbook: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return [dict(zip(header, row)) for row in rows]


async def _download(core, run_id: int) -> bytes:
    async with signed_in_console(core) as client:
        response = await client.get(f"/matching/runs/{run_id}.xlsx")
        assert response.status == 200
        return await response.read()


async def test_kept_pairs_read_as_confirmed_earlier_with_the_appointment_state(core):
    pairs = await confirmed_pairs(core)
    await both_accept(core, pairs["创新管理"])  # one pair answered by both sides, the other by neither
    batch = (await core.batches.list())[0]
    second = await core.matching.run(batch_id=batch.id, staff="staff:1", time_limit=3)
    assert all(p.fixed for p in second.proposals) and len(second.proposals) == 2

    rows = _rows(await _download(core, second.id))
    assert "已接受（固定）" not in rows[0] and "此前已确认" in rows[0]
    by_course = {row["课程"]: row for row in rows}
    unanswered, accepted = pairs["创新思维"][0], pairs["创新管理"][0]
    assert by_course["创新思维"]["此前已确认"] == f"是（聘任 {unanswered}：待双方确认）"
    assert by_course["创新思维"]["聘任编号"] == unanswered
    assert by_course["创新管理"]["此前已确认"].startswith(f"是（聘任 {accepted}：双方已确认")
    params = dict((row[0].value, row[1].value) for row in
                  openpyxl.load_workbook(io.BytesIO(run_workbook(second))).worksheets[2].iter_rows())
    assert "固定配对数（已接受）" not in params and params["此前已确认的配对数"] == 2
