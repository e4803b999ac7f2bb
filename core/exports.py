"""Spreadsheets for staff: a matching run, the publicity list (公示名单), the filing list (备案表), and the
streamed one-sheet workbooks of the pool and the intents.

Written as SpreadsheetML of our own (`WorkbookWriter`), row by row to a temporary file (constant memory): a
national pool is tens of thousands of rows, and a general writer's per-cell calls were most of an export's
time (openpyxl about 0.2 ms a cell, XlsxWriter about 4 µs: 100 ms of a 1,200-row filtered pool export).
The tests read every workbook back with openpyxl, as a spreadsheet program would.

Every workbook can be written to a file (`WorkbookWriter`, `write_*`): the console streams the file to the
browser, and the rows come in chunks from a server-side cursor, so no export holds all its rows at once (at
100,000 experts the whole pool is 60,000 rows). The `*_workbook` functions returning bytes are the same
writers on a BytesIO, for the bot and the command line.
"""
from __future__ import annotations

import asyncio
import functools
import io
import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import BinaryIO

from core.services.appointments import AppointmentView
from core.services.matching import ProposalView, RunView

__all__ = [
    "run_workbook", "publicity_workbook", "publicity_text", "filing_workbook", "FILING_COLUMNS",
    "streamed_workbook", "csv_safe_text", "FORMULA_TRIGGERS",
    "WorkbookWriter", "SheetWriter", "write_run_workbook", "write_run_workbook_streamed", "write_filing_workbook", "filing_rows", "FILING_TITLE", "XLSX",
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet program takes as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_text(value: str) -> str:
    """For CSV or any plain-text table opened by a spreadsheet: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value

FILING_COLUMNS = (
    "序号", "高校", "高校所在省份", "专家姓名", "专家工作单位", "单位类型", "聘任课程", "授课学时", "授课方式",
    "授课内容", "协议签订日期", "聘期（年）", "聘期截止", "公示期", "备案日期", "备注",
)


# The parts of a package besides its sheets (ECMA-376 SpreadsheetML, the parts the standard requires of a
# workbook): a default font, the two fills every workbook carries, no borders, and three cell formats: 0 plain,
# 1 bold (headers), 2 quote-prefixed (text that could start a formula stays text when edited in Excel).
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
)
_BOLD, _QUOTED = ' s="1"', ' s="2"'
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

# The most characters a cell holds in Excel (XlsxWriter cut longer text to it too).
CELL_TEXT_LIMIT = 32_767
# What XML 1.0 cannot carry (control characters, U+FFFE/FFFF, halves of surrogate pairs) and text that already
# reads like Excel's escape for them (_xHHHH_): both are written as _xHHHH_, which Excel reads back as typed.
_UNSAFE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def _escaped_char(match: re.Match) -> str:
    found = match.group()
    if found in _ESCAPES:
        return _ESCAPES[found]
    return "_x005F" + found if len(found) > 1 else f"_x{ord(found):04X}_"


def _xml_text(value: str) -> str:
    return value if _UNSAFE.search(value) is None else _UNSAFE.sub(_escaped_char, value)


def _attribute(value: str) -> str:
    return _xml_text(value).replace('"', "&quot;")


@functools.lru_cache(maxsize=None)
def _column(index: int) -> str:
    """A, B, … Z, AA, AB, …: the letters of the column numbered from 0."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _string_cell(reference: str, value: str, style: str) -> str:
    if len(value) > CELL_TEXT_LIMIT:
        value = value[:CELL_TEXT_LIMIT]
    space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
    return f'<c r="{reference}"{style} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>'


def _cell(reference: str, value: object) -> str:
    """One cell's XML: a string as the characters typed, quote-prefixed when it could start a formula; a
    number as a number; a date or anything else as the text it reads as. (Nothing becomes a formula or a link.)"""
    if isinstance(value, bool):
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{reference}"><v>{value!r}</v></c>'
    if not isinstance(value, str):
        value = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    if not value:
        return ""
    return _string_cell(reference, value, _QUOTED if value.startswith(FORMULA_TRIGGERS) else "")


class SheetWriter:
    """One sheet being written, row by row: each row's XML goes to a temporary file as it comes, so a sheet of
    any length holds no rows in memory; the workbook's `close` puts the file into the package."""

    def __init__(self, title: str, header: Sequence[str], *, widths: bool) -> None:
        if not title or len(title) > 31 or _BAD_TITLE.search(title) or title.startswith("'") or title.endswith("'"):
            raise ValueError(f"not a sheet name Excel accepts: {title!r}")
        self.title = title
        self._widths = widths
        self._longest = [len(name) for name in header]
        self._columns = len(header)
        self._rows_file: BinaryIO = tempfile.TemporaryFile(prefix="innoeng-sheet-")
        self.rows = 0
        cells = "".join(_string_cell(f"{_column(c)}1", name, _BOLD) for c, name in enumerate(header) if name)
        self._rows_file.write(f'<row r="1">{cells}</row>'.encode())

    def extend(self, rows: Iterable[Sequence[object]]) -> None:
        widths, longest, column = self._widths, self._longest, _column
        number = self.rows
        parts: list[str] = []
        for row in rows:
            number += 1
            line = str(number + 1)  # the header is row 1
            cells = []
            for index, value in enumerate(row):
                if value is None or value == "":
                    continue
                if value.__class__ is str:  # the common case first, as plainly as it can be written
                    if len(value) <= CELL_TEXT_LIMIT and not value.startswith(FORMULA_TRIGGERS) \
                            and not value[0].isspace() and not value[-1].isspace():
                        cells.append(f'<c r="{column(index)}{line}" t="inlineStr"><is><t>{_xml_text(value)}</t></is></c>')
                    else:
                        cells.append(_cell(column(index) + line, value))
                else:
                    cells.append(_cell(column(index) + line, value))
                if widths and index < len(longest):
                    longest[index] = max(longest[index], len(str(value)))
            if cells:
                self._columns = max(self._columns, len(row))
                parts.append(f'<row r="{line}">{"".join(cells)}</row>')
        self.rows = number
        if parts:
            self._rows_file.write("".join(parts).encode())

    def _write(self, zipped: zipfile.ZipFile, path: str, *, selected: bool) -> None:
        last = f"{_column(max(self._columns, 1) - 1)}{self.rows + 1}"
        # The width Excel stores for a width of n characters of its default font (7 pixels a digit, 5 of padding).
        columns = "".join(
            f'<col min="{c + 1}" max="{c + 1}" width="{int((min(max(10, n * 2), 60) * 7 + 5) / 7 * 256) / 256}" '
            'customWidth="1"/>' for c, n in enumerate(self._longest))
        shown = ' tabSelected="1"' if selected else ""
        head = (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><dimension ref="A1:{last}"/>'
                f'<sheetViews><sheetView{shown} workbookViewId="0"/>'
                f'</sheetViews><sheetFormatPr defaultRowHeight="15"/>{f"<cols>{columns}</cols>" if columns else ""}'
                '<sheetData>')
        with zipped.open(path, "w") as part:  # a plain zip, as XlsxWriter wrote by default (no zip64 records)
            part.write(head.encode())
            self._rows_file.seek(0)
            shutil.copyfileobj(self._rows_file, part, 1 << 20)
            part.write(b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                       b'footer="0.3"/></worksheet>')

    def discard(self) -> None:
        self._rows_file.close()


class WorkbookWriter:
    """A workbook written to `target` (a file opened for binary writing, or a path): sheets are added one after
    the other, each filled by `SheetWriter.extend` as its rows come; `close` writes the package (zip) to `target`.
    Without a target it is written to memory and `close` returns the bytes.

    Our own SpreadsheetML rather than a library's: these workbooks are plain tables of text and numbers, and a
    general writer's per-cell calls were most of the time of an export (XlsxWriter: about 100 ms of a filtered
    pool export of 1,200 rows, against a 200 ms target for the page)."""

    def __init__(self, target: BinaryIO | str | None = None) -> None:
        self.buffer = io.BytesIO() if target is None else None
        self._target = self.buffer if target is None else target
        self._sheets: list[SheetWriter] = []

    def sheet(self, title: str, header: Sequence[str], rows: Iterable[Sequence[object]] = (), *,
              widths: bool = True) -> SheetWriter:
        """Starts the next sheet, with these rows if given (more may follow through its `extend`)."""
        if any(s.title.lower() == title.lower() for s in self._sheets):
            raise ValueError(f"two sheets named {title!r}")
        sheet = SheetWriter(title, header, widths=widths)
        self._sheets.append(sheet)
        sheet.extend(rows)
        return sheet

    def close(self) -> bytes | None:
        try:
            if not self._sheets:
                self.sheet("Sheet1", ())
            with zipfile.ZipFile(self._target, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
                self._write_package(zipped)
        finally:
            for sheet in self._sheets:
                sheet.discard()
        return self.buffer.getvalue() if self.buffer is not None else None

    def _write_package(self, zipped: zipfile.ZipFile) -> None:
        count = len(self._sheets)
        zipped.writestr("[Content_Types].xml", (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_SHEET_TYPE}"/>'
                      for n in range(1, count + 1))
            + '</Types>'))
        zipped.writestr("_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        zipped.writestr("xl/workbook.xml", (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><bookViews><workbookView activeTab="0"/>'
            '</bookViews><sheets>'
            + "".join(f'<sheet name="{_attribute(s.title)}" sheetId="{n}" r:id="rId{n}"/>'
                      for n, s in enumerate(self._sheets, start=1))
            + '</sheets></workbook>'))
        zipped.writestr("xl/_rels/workbook.xml.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELATIONSHIPS}">'
            + "".join(f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                      for n in range(1, count + 1))
            + f'<Relationship Id="rId{count + 1}" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
            '</Relationships>'))
        zipped.writestr("xl/styles.xml", _STYLES)
        for n, sheet in enumerate(self._sheets, start=1):
            sheet._write(zipped, f"xl/worksheets/sheet{n}.xml", selected=n == 1)


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
