"""Spreadsheets for staff: a matching run, the publicity list (公示名单), the filing list (备案表)."""
from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from core.services.appointments import AppointmentView
from core.services.matching import RunView

__all__ = [
    "run_workbook", "publicity_workbook", "publicity_text", "filing_workbook", "FILING_COLUMNS",
    "append_text_row", "text_cell", "csv_safe_text", "FORMULA_TRIGGERS",
]

# What a spreadsheet program takes as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(sheet: Worksheet | WriteOnlyWorksheet, value: object) -> object:
    """A cell for `sheet.append` in which a string is text, never a formula (other values pass through).

    openpyxl turns any string starting with "=" into a live formula; a name or an agreement typed by a
    person (`=HYPERLINK(...)`) must reach staff's Excel as the characters they typed. The cell's type is
    forced to string and, when it could start a formula, marked quote-prefixed so that editing the cell in
    Excel does not revive it either. Works for normal and streamed (write-only) sheets.
    """
    if not isinstance(value, str):
        return value
    cell = (WriteOnlyCell if isinstance(sheet, WriteOnlyWorksheet) else Cell)(sheet, value=value)
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
    return cell


def append_text_row(sheet: Worksheet | WriteOnlyWorksheet, values: Sequence[object]) -> None:
    """Appends a row through `text_cell`: every workbook built from a person's or staff's text does this."""
    sheet.append([text_cell(sheet, value) for value in values])


def csv_safe_text(value: str) -> str:
    """For CSV or any plain-text table opened by a spreadsheet: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value

FILING_COLUMNS = (
    "序号", "高校", "高校所在省份", "专家姓名", "专家工作单位", "单位类型", "聘任课程", "授课学时", "授课方式",
    "授课内容", "协议签订日期", "聘期（年）", "聘期截止", "公示期", "备案日期", "备注",
)


def _workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    _add_sheet(book, title, header, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _add_sheet(book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    sheet = book.create_sheet(title)
    append_text_row(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_text_row(sheet, row)
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width * 2), 60)


def run_workbook(run: RunView) -> bytes:
    """Three sheets: the pairs, the unfilled slots with their reasons, and the run's parameters, bound and gap."""
    book = Workbook()
    book.remove(book.active)
    _add_sheet(book, f"第{run.id}次匹配", (
        "序号", "高校", "课程", "专家", "工作单位", "匹配分", "已接受（固定）", "暂缓", "聘任编号", "评分说明"), [
        (p.number, p.university_name, p.course, p.expert_name, p.employer, round(p.score, 4), "是" if p.fixed else "",
         "是" if p.held else "", p.appointment_id or "", p.explanation)
        for p in run.proposals
    ])
    _add_sheet(book, "未填补名额", ("高校", "课程", "缺额（人）", "原因"), [
        (slot.get("university_name") or slot.get("university"), slot.get("course") or slot.get("demand"),
         slot.get("missing"), slot.get("explanation"))
        for slot in run.unfilled
    ])
    params = run.params or {}
    _add_sheet(book, "运行参数", ("项目", "数值"), [
        ("匹配编号", run.id), ("批次编号", run.batch_id), ("运行时间", str(run.created_at)), ("运行人", run.created_by),
        ("求解状态", run.solver_status), ("填补名额", f"{run.filled}/{run.total_need}"),
        ("总分", round(run.score, 6)), ("上界（已证明）", round(run.bound, 6)), ("最优性差距", f"{run.gap:.4%}"),
        ("用时（秒）", round(run.time_s, 2)), ("时间上限（秒）", params.get("time_limit", "")),
        ("资源库专家数", params.get("experts", "")), ("课程需求数", params.get("demands", "")),
        ("候选配对数", params.get("edges", "")), ("固定配对数（已接受）", params.get("fixed", "")),
        ("排除配对数（谢绝/不考虑）", params.get("forbidden", "")),
        ("放宽上限的专家", "、".join(f"申请 {k}：{v} 所" for k, v in (params.get("cap_exceptions") or {}).items()) or "无"),
        ("已确认", "是" if run.confirmed else "否"),
    ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


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
