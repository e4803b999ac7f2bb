"""Spreadsheets for staff: a matching run, the publicity list (公示名单), the filing list (备案表), and the
streamed one-sheet workbooks of the pool and the intents.

Written with XlsxWriter, row by row to a temporary file (constant memory): a national pool is tens of
thousands of rows, and openpyxl's serializer spent about 0.2 ms per cell on them (2.1 s for the 12,000-row
pool), XlsxWriter under a third of that. openpyxl stays for reading workbooks back (tests) and for
`text_cell` / `append_text_row` on an openpyxl sheet.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import xlsxwriter
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from core.services.appointments import AppointmentView
from core.services.matching import RunView

__all__ = [
    "run_workbook", "publicity_workbook", "publicity_text", "filing_workbook", "FILING_COLUMNS",
    "streamed_workbook", "append_text_row", "text_cell", "csv_safe_text", "FORMULA_TRIGGERS",
]

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


class _Book:
    """One workbook being written: its sheets, and the two formats every sheet uses."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, _BOOK_OPTIONS)
        self.bold = self.book.add_format({"bold": True})
        # Shown as typed and kept as text when the cell is edited in Excel (its "'" prefix).
        self.quoted = self.book.add_format({"quote_prefix": True})

    def sheet(self, title: str, header: Sequence[str], rows: Iterable[Sequence[object]], *, widths: bool) -> None:
        sheet = self.book.add_worksheet(title)
        longest = [len(name) for name in header]
        for column, name in enumerate(header):
            sheet.write_string(0, column, name, self.bold)
        write_string, write_number, quoted = sheet.write_string, sheet.write_number, self.quoted
        for number, row in enumerate(rows, start=1):
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
        for column, width in enumerate(longest):
            sheet.set_column(column, column, min(max(10, width * 2), 60))

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def _workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = _Book()
    book.sheet(title, header, rows, widths=True)
    return book.close()


def streamed_workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet of any length (the pool, the intents): written row by row in constant memory; columns as
    wide as their header (a width from every cell would cost a second look at each)."""
    book = _Book()
    book.sheet(title, header, rows, widths=False)
    return book.close()


def run_workbook(run: RunView, *, kept: Mapping[tuple[int, int, str], AppointmentView] | None = None) -> bytes:
    """Three sheets: the pairs, the unfilled slots with their reasons, and the run's parameters, bound and gap.

    A pair kept from an earlier run reads 此前已确认, as on the console's run page, with its appointment as it
    stands when `kept` (AppointmentService.kept_by) is given: it may still wait for both sides' answers."""
    kept = kept or {}

    def pairs():
        for p in run.proposals:
            earlier, appointment_id = "", p.appointment_id or ""
            if p.fixed:
                a = kept.get((p.expert_application_id, p.university_application_id, p.course))
                earlier, appointment_id = (f"是（聘任 {a.id}：{a.status_label}）", a.id) if a else ("是", appointment_id)
            yield (p.number, p.university_name, p.course, p.expert_name, p.employer, round(p.score, 4), earlier,
                   "是" if p.held else "", appointment_id, p.explanation)

    book = _Book()
    book.sheet(f"第{run.id}次匹配", (
        "序号", "高校", "课程", "专家", "工作单位", "匹配分", "此前已确认", "暂缓", "聘任编号", "评分说明"), pairs(),
        widths=True)
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
    return book.close()


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


def filing_workbook(appointments: Sequence[AppointmentView]) -> bytes:
    rows = []
    for n, a in enumerate(appointments, start=1):
        agreement = a.agreement or {}
        rows.append((
            n, a.university_name, a.university_province, a.expert_name, a.employer, a.employer_type, a.course,
            agreement.get("hours", a.hours), a.mode, agreement.get("content", ""), agreement.get("signed_on", ""),
            agreement.get("term_years", ""), agreement.get("ends_on", ""),
            f"{a.publicity_starts_on} 至 {a.publicity_ends_on}", a.filed_on.isoformat() if a.filed_on else "",
            a.filing_note or "",
        ))
    return _workbook("备案表", FILING_COLUMNS, rows)
