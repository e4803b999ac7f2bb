"""Formula injection: text typed by a person or by staff reaches every workbook as text, never a formula."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import openpyxl

from core.exports import filing_workbook, publicity_workbook, run_workbook
from tests.support.factories import approved_expert, submitted_university
from tests.support.matching_day import matching_day_clock, matching_day_settings  # noqa: F401 (fixtures)

HOSTILE_NAME = '=HYPERLINK("http://e.vil","x")'


def formulas(workbook: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    return [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def cell_values(workbook: bytes) -> set[object]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    return {cell.value for row in sheet.iter_rows() for cell in row}


async def test_hostile_names_and_agreement_content_stay_text_in_every_workbook(core, clock):
    assert len(HOSTILE_NAME) == 30
    expert = await approved_expert(core, name=HOSTILE_NAME, employer="+SUM(1,2)某某公司", courses=["创新思维"])
    university = await submitted_university(core, {"创新思维": (32, 1, "online")}, university_name="@某某大学")
    batch = (await core.batches.list())[0]
    run = await core.matching.run(batch_id=batch.id, staff="staff:1")
    run = await core.matching.confirm(run_id=run.id, staff="staff:1")
    [proposal] = run.proposals
    run_book = run_workbook(await core.matching.get(staff="test", run_id=run.id))
    assert formulas(run_book) == []
    assert {HOSTILE_NAME, "+SUM(1,2)某某公司", "@某某大学"} <= cell_values(run_book)

    appointment_id = proposal.appointment_id
    view = await core.appointments.get(staff="test", appointment_id=appointment_id)
    for application_id in (expert, university):
        person_id = (await core.intake.get(application_id=application_id)).person_id
        view = await core.appointments.respond(appointment_id=appointment_id, person_id=person_id, accept=True)
    assert view.status == "accepted"
    (view,) = await core.appointments.start_publicity(appointment_ids=[appointment_id], staff="staff:1")
    assert view.status == "publicity"
    publicity_book = publicity_workbook(await core.appointments.list(staff="test", statuses=["publicity"]))
    assert formulas(publicity_book) == []
    assert HOSTILE_NAME in cell_values(publicity_book)

    clock.now = datetime(2025, 8, 29, 2, 0, tzinfo=timezone.utc)
    await core.appointments.record_agreement(appointment_id=appointment_id, staff="staff:1", signed_on=date(2025, 8, 29),
                                             term_years=3, hours=32, content="=1+1", employer_consent=True)
    await core.appointments.record_filing(appointment_id=appointment_id, staff="staff:1", filed_on=date(2025, 9, 5),
                                          note="-2+3")
    filing_book = filing_workbook(await core.appointments.list(staff="test", statuses=["filed"]))
    assert formulas(filing_book) == []
    assert {HOSTILE_NAME, "=1+1", "-2+3"} <= cell_values(filing_book)
