"""Spreadsheets for staff: a matching run, the publicity list (公示名单), the filing list (备案表), and the
streamed one-sheet workbooks of the pool and the intents.

Written with XlsxWriter, row by row to a temporary file (constant memory): a national pool is tens of
thousands of rows, and openpyxl's serializer spent about 0.2 ms per cell on them (2.1 s for the 12,000-row
pool), XlsxWriter under a third of that. openpyxl stays for reading workbooks back (tests) and for
`text_cell` / `append_text_row` on an openpyxl sheet.

Every workbook can be written to a file (`WorkbookWriter`, `write_*`): the console streams the file to the
browser, and the rows come in chunks from a server-side cursor, so no export holds all its rows at once (at
100,000 experts the whole pool is 60,000 rows). The `*_workbook` functions returning bytes are the same
writers on a BytesIO, for the bot and the command line.
"""
from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import BinaryIO

import xlsxwriter
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from core.services.appointments import AppointmentView
from core.services.matching import ProposalView, RunView

__all__ = [
    "run_workbook", "publicity_workbook", "publicity_text", "filing_workbook", "FILING_COLUMNS",
    "streamed_workbook", "append_text_row", "text_cell", "csv_safe_text", "FORMULA_TRIGGERS",
    "WorkbookWriter", "SheetWriter", "write_run_workbook", "write_run_workbook_streamed", "write_filing_workbook", "filing_rows", "FILING_TITLE", "XLSX",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet program takes as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Nothing typed becomes a formula, a link or a number: every string is written as the characters typed.
_BOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                 "strings_to_numbers": False}


def text_cell(sheet: Worksheet | WriteOnlyWorksheet, value: object) -> object:
    """For an openpyxl sheet: a cell for `sheet.append` in which a string is text, never a formula.

    openpyxl turns any string starting with "=" into a live formula; a name or an agreement typed by a
    person (`=HYPERLINK(...)`) must reach staff's Excel as the characters they typed. The cell's type is
    forced to string and, when it could start a formula, marked quote-prefixed so that editing the cell in
    Excel does not revive it either. Works for normal and streamed (write-only) sheets. (The workbooks
    below are written with XlsxWriter, which does the same in `_write_row`.)
    """
    if not isinstance(value, str):
        return value
    cell = (WriteOnlyCell if isinstance(sheet, WriteOnlyWorksheet) else Cell)(sheet, value=value)
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
    return cell


def append_text_row(sheet: Worksheet | WriteOnlyWorksheet, values: Sequence[object]) -> None:
    """Appends a row to an openpyxl sheet through `text_cell`."""
    sheet.append([text_cell(sheet, value) for value in values])


def csv_safe_text(value: str) -> str:
    """For CSV or any plain-text table opened by a spreadsheet: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value

FILING_COLUMNS = (
    "序号", "高校", "高校所在省份", "专家姓名", "专家工作单位", "单位类型", "聘任课程", "授课学时", "授课方式",
    "授课内容", "协议签订日期", "聘期（年）", "聘期截止", "公示期", "备案日期", "备注",
)


class SheetWriter:
    """One sheet being written, row by row (XlsxWriter's constant memory: a row is on disk once the next starts)."""

    def __init__(self, book: "WorkbookWriter", title: str, header: Sequence[str], *, widths: bool) -> None:
        self._sheet = book.book.add_worksheet(title)
        self._quoted = book.quoted
        self._widths = widths
        self._longest = [len(name) for name in header]
        self.rows = 0
        for column, name in enumerate(header):
            self._sheet.write_string(0, column, name, book.bold)

    def extend(self, rows: Iterable[Sequence[object]]) -> None:
        sheet, quoted, widths, longest = self._sheet, self._quoted, self._widths, self._longest
        write_string, write_number = sheet.write_string, sheet.write_number
        number = self.rows
        for row in rows:
            number += 1
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    if value.startswith(FORMULA_TRIGGERS):
                        write_string(number, column, value, quoted)
                    else:
                        write_string(number, column, value)
                elif isinstance(value, bool):
                    sheet.write_boolean(number, column, value)
                elif isinstance(value, (int, float)):
                    write_number(number, column, value)
                else:  # dates and anything else: as they read, as text
                    value = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
                    write_string(number, column, value, quoted if value.startswith(FORMULA_TRIGGERS) else None)
                if widths and column < len(longest):
                    longest[column] = max(longest[column], len(str(value)))
        self.rows = number

    def finish(self) -> None:
        # Column widths are written with the sheet on close; XlsxWriter allows them after the rows.
        for column, width in enumerate(self._longest):
            self._sheet.set_column(column, column, min(max(10, width * 2), 60))


class WorkbookWriter:
    """A workbook written to `target` (a file opened for binary writing, or a path): sheets are added one after
    the other, each filled by `SheetWriter.extend` as its rows come; `close` writes the package (zip) to `target`.
    Without a target it is written to memory and `close` returns the bytes."""

    def __init__(self, target: BinaryIO | str | None = None) -> None:
        self.buffer = io.BytesIO() if target is None else None
        self.book = xlsxwriter.Workbook(self.buffer if target is None else target, _BOOK_OPTIONS)
        self.bold = self.book.add_format({"bold": True})
        # Shown as typed and kept as text when the cell is edited in Excel (its "'" prefix).
        self.quoted = self.book.add_format({"quote_prefix": True})
        self._open: SheetWriter | None = None

    def sheet(self, title: str, header: Sequence[str], rows: Iterable[Sequence[object]] = (), *,
              widths: bool = True) -> SheetWriter:
        """Starts the next sheet (constant memory: the one before it is done), with these rows if given."""
        if self._open is not None:
            self._open.finish()
        self._open = SheetWriter(self, title, header, widths=widths)
        self._open.extend(rows)
        return self._open

    def close(self) -> bytes | None:
        if self._open is not None:
            self._open.finish()
            self._open = None
        self.book.close()
        return self.buffer.getvalue() if self.buffer is not None else None


def _workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = WorkbookWriter()
    book.sheet(title, header, rows, widths=True)
    return book.close()


def streamed_workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet of any length (the pool, the intents): written row by row in constant memory; columns as
    wide as their header (a width from every cell would cost a second look at each)."""
    book = WorkbookWriter()
    book.sheet(title, header, rows, widths=False)
    return book.close()


def run_workbook(run: RunView, *, kept: Mapping[tuple[int, int, str], AppointmentView] | None = None) -> bytes:
    """Three sheets: the pairs, the unfilled slots with their reasons, and the run's parameters, bound and gap.

    A pair kept from an earlier run reads 此前已确认, as on the console's run page, with its appointment as it
    stands when `kept` (AppointmentService.kept_by) is given: it may still wait for both sides' answers."""
    return write_run_workbook(None, run, kept=kept)


def write_run_workbook(target: BinaryIO | str | None, run: RunView, *,
                       kept: Mapping[tuple[int, int, str], AppointmentView] | None = None) -> bytes | None:
    """`run_workbook` written to `target` (None: to memory, the bytes returned)."""
    book = WorkbookWriter(target)
    sheet = _run_pairs_sheet(book, run)
    sheet.extend(_run_pair_rows(run.proposals, kept or {}))
    _run_other_sheets(book, run)
    return book.close()


async def write_run_workbook_streamed(target: BinaryIO | str, run: RunView,
                                      chunks: AsyncIterable[Sequence[ProposalView]], *,
                                      kept: Mapping[tuple[int, int, str], AppointmentView] | None = None) -> int:
    """The run's workbook written to `target` as its pairs come, chunk by chunk (MatchingService.pair_chunks):
    one chunk in memory at a time (a national run has thousands of pairs). `kept` is looked up as each chunk is
    written, so it may hold only the current chunk's kept pairs (refilled before each chunk is yielded).
    Returns the pairs written."""
    book = WorkbookWriter(target)
    sheet = _run_pairs_sheet(book, run)
    kept = {} if kept is None else kept  # read as each chunk is written: its caller may fill it chunk by chunk
    async for chunk in chunks:
        sheet.extend(_run_pair_rows(chunk, kept))
    _run_other_sheets(book, run)
    await asyncio.to_thread(book.close)  # the zip of the package: CPU, off the event loop
    return sheet.rows


def _run_pairs_sheet(book: WorkbookWriter, run: RunView) -> SheetWriter:
    return book.sheet(f"第{run.id}次匹配", (
        "序号", "高校", "课程", "专家", "工作单位", "匹配分", "此前已确认", "暂缓", "聘任编号", "评分说明"), widths=True)


def _run_pair_rows(pairs: Iterable[ProposalView],
                   kept: Mapping[tuple[int, int, str], AppointmentView]) -> Iterable[tuple[object, ...]]:
    for p in pairs:
        earlier, appointment_id = "", p.appointment_id or ""
        if p.fixed:
            a = kept.get((p.expert_application_id, p.university_application_id, p.course))
            earlier, appointment_id = (f"是（聘任 {a.id}：{a.status_label}）", a.id) if a else ("是", appointment_id)
        yield (p.number, p.university_name, p.course, p.expert_name, p.employer, round(p.score, 4), earlier,
               "是" if p.held else "", appointment_id, p.explanation)


def _run_other_sheets(book: WorkbookWriter, run: RunView) -> None:
    book.sheet("未填补名额", ("高校", "课程", "缺额（人）", "原因"), [
        (slot.get("university_name") or slot.get("university"), slot.get("course") or slot.get("demand"),
         slot.get("missing"), slot.get("explanation"))
        for slot in run.unfilled
    ], widths=True)
    params = run.params or {}
    book.sheet("运行参数", ("项目", "数值"), [
        ("匹配编号", run.id), ("批次编号", run.batch_id), ("运行时间", str(run.created_at)), ("运行人", run.created_by),
        ("求解状态", run.solver_status), ("填补名额", f"{run.filled}/{run.total_need}"),
        ("总分", round(run.score, 6)), ("上界（已证明）", round(run.bound, 6)), ("最优性差距", f"{run.gap:.4%}"),
        ("用时（秒）", round(run.time_s, 2)), ("时间上限（秒）", params.get("time_limit", "")),
        ("资源库专家数", params.get("experts", "")), ("课程需求数", params.get("demands", "")),
        ("候选配对数", params.get("edges", "")), ("此前已确认的配对数", params.get("fixed", "")),
        ("排除配对数（谢绝/不考虑）", params.get("forbidden", "")),
        ("放宽上限的专家", "、".join(f"申请 {k}：{v} 所" for k, v in (params.get("cap_exceptions") or {}).items()) or "无"),
        ("已确认", "是" if run.confirmed else "否"),
    ], widths=True)


def publicity_workbook(appointments: Sequence[AppointmentView]) -> bytes:
    rows = [
        (n, a.university_name, a.expert_name, a.employer, a.course, a.hours, a.mode,
         f"{a.publicity_starts_on} 至 {a.publicity_ends_on}")
        for n, a in enumerate(appointments, start=1)
    ]
    return _workbook("公示名单", ("序号", "高校", "专家姓名", "工作单位", "聘任课程", "学时", "授课方式", "公示期"), rows)


def publicity_text(appointments: Sequence[AppointmentView]) -> str:
    lines = ["全国创新工程微专业建设校企合作计划 产业兼职教师拟聘名单公示", ""]
    for n, a in enumerate(appointments, start=1):
        lines.append(f"{n}.［聘任编号 {a.id}］{a.university_name} 拟聘 {a.expert_name}（{a.employer}）讲授《{a.course}》{a.hours} 学时，"
                     f"公示期 {a.publicity_starts_on} 至 {a.publicity_ends_on}")
    lines += ["", "如有异议，请在公示期内向中国创造学会创新工程学分会反映。"]
    return "\n".join(lines)


def filing_rows(appointments: Iterable[AppointmentView], *, start: int = 1) -> Iterable[tuple[object, ...]]:
    """The filing list's rows (FILING_COLUMNS), numbered from `start`: a long list is written chunk by chunk."""
    for n, a in enumerate(appointments, start=start):
        agreement = a.agreement or {}
        yield (
            n, a.university_name, a.university_province, a.expert_name, a.employer, a.employer_type, a.course,
            agreement.get("hours", a.hours), a.mode, agreement.get("content", ""), agreement.get("signed_on", ""),
            agreement.get("term_years", ""), agreement.get("ends_on", ""),
            f"{a.publicity_starts_on} 至 {a.publicity_ends_on}", a.filed_on.isoformat() if a.filed_on else "",
            a.filing_note or "",
        )


FILING_TITLE = "备案表"


def filing_workbook(appointments: Sequence[AppointmentView]) -> bytes:
    return _workbook(FILING_TITLE, FILING_COLUMNS, list(filing_rows(appointments)))


async def write_filing_workbook(target: BinaryIO | str, chunks: AsyncIterable[Sequence[AppointmentView]]) -> int:
    """The filing list written to `target` as its appointments come, chunk by chunk
    (AppointmentService.chunks): one chunk in memory at a time. Returns the rows written."""
    book = WorkbookWriter(target)
    sheet = book.sheet(FILING_TITLE, FILING_COLUMNS)
    async for appointments in chunks:
        sheet.extend(filing_rows(appointments, start=sheet.rows + 1))
    await asyncio.to_thread(book.close)  # the zip of the package: CPU, off the event loop
    return sheet.rows
