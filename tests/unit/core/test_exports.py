"""The workbook writer (our SpreadsheetML), read back with openpyxl as staff's spreadsheet program would."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from core.exports import FORMULA_TRIGGERS, streamed_workbook


def test_typed_text_stays_text_numbers_stay_numbers_and_the_header_is_bold():
    hostile = ['=HYPERLINK("http://e.vil","x")', "+SUM(1,2)", "-2+3", "@某某大学", "\t=1+1", "http://e.vil", "0012"]
    rows = [(n, value, 3.5, None, True, date(2025, 8, 15)) for n, value in enumerate(hostile, start=1)]
    book = openpyxl.load_workbook(io.BytesIO(streamed_workbook("资源库", ("序号", "内容", "分", "空", "是否", "日期"), rows)))
    sheet = book["资源库"]
    assert [c.value for c in sheet[1]] == ["序号", "内容", "分", "空", "是否", "日期"]
    assert all(c.font.b for c in sheet[1])
    for number, value in enumerate(hostile, start=2):
        serial, text, score, empty, flag, day = sheet[number]
        assert (serial.value, serial.data_type) == (number - 1, "n")
        # As typed, a string (never a formula, a link or a number); quote-prefixed when it could start a formula,
        # so that editing the cell in Excel does not turn it into one either.
        assert (text.value, text.data_type) == (value, "s")
        assert text.quotePrefix is value.startswith(FORMULA_TRIGGERS)
        assert text.hyperlink is None
        assert (score.value, empty.value, flag.value, day.value) == (3.5, None, True, "2025-08-15")
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_a_long_sheet_streams_every_row():
    rows = [(f"E01-{n:06d}", f"专家{n}", n) for n in range(5000)]
    sheet = openpyxl.load_workbook(io.BytesIO(streamed_workbook("资源库", ("编号", "姓名", "序"), rows))).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 5001 and values[1] == ("E01-000000", "专家0", 0) and values[-1] == ("E01-004999", "专家4999", 4999)


def _read(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def test_text_xml_cannot_carry_reads_back_as_typed():
    typed = ["A&B <b>粗体</b>", "  两头有空格  ", "第一行\n第二行", "引号\"和'撇号", "🎓 表情"]
    sheet = _read(streamed_workbook("资源库", ("内容",), [(value,) for value in typed])).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == typed


def test_characters_xml_cannot_hold_are_written_as_excels_escapes():
    """Control characters (and U+FFFE) cannot be in XML at all: Excel's own _xHHHH_ carries them, and text that
    already reads like such an escape gets its underscore escaped, so Excel shows it as typed. (openpyxl, which
    reads the package here, does not decode these escapes; Excel and LibreOffice do.)"""
    typed = ["控制\x01字符\x1f", "字面的 _x0041_ 不被解开", "\ufffe"]
    sheet = _read(streamed_workbook("资源库", ("内容",), [(value,) for value in typed])).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "控制_x0001_字符_x001F_", "字面的 _x005F_x0041_ 不被解开", "_xFFFE_"]


def test_text_longer_than_a_cell_holds_is_cut_to_excels_limit_not_refused():
    from core.exports import CELL_TEXT_LIMIT
    sheet = _read(streamed_workbook("资源库", ("内容",), [("长" * (CELL_TEXT_LIMIT + 10),)])).active
    assert sheet["A2"].value == "长" * CELL_TEXT_LIMIT


def test_numbers_that_are_not_numbers_are_written_as_text():
    sheet = _read(streamed_workbook("资源库", ("值",), [(float("nan"),), (float("inf"),), (10 ** 20,), (0.1,)])).active
    assert [c.value for (c,) in sheet.iter_rows(min_row=2)] == ["nan", "inf", 10 ** 20, 0.1]


def test_several_sheets_keep_their_order_names_widths_and_the_first_is_the_one_shown():
    from core.exports import WorkbookWriter
    book = WorkbookWriter()
    book.sheet("第12次匹配", ("序号", "高校"), [(1, "某某大学" * 8)])
    book.sheet("未填补名额", ("高校",), [])
    book.sheet("运行参数", ("项目", "数值"), [("匹配编号", 12)])
    workbook = _read(book.close())
    assert workbook.sheetnames == ["第12次匹配", "未填补名额", "运行参数"]
    first = workbook["第12次匹配"]
    assert first.sheet_view.tabSelected and not workbook["运行参数"].sheet_view.tabSelected
    assert first.column_dimensions["A"].width < first.column_dimensions["B"].width <= 61  # as wide as the text, capped
    assert list(workbook["未填补名额"].iter_rows(values_only=True)) == [("高校",)]
    assert list(workbook["运行参数"].iter_rows(values_only=True)) == [("项目", "数值"), ("匹配编号", 12)]


@pytest.mark.parametrize("title", ["", "x" * 32, "a/b", "问[题]", "a:b", "'引号'", "星*号"])
def test_a_sheet_name_excel_would_refuse_is_refused_when_the_sheet_is_made(title):
    from core.exports import WorkbookWriter
    with pytest.raises(ValueError):
        WorkbookWriter().sheet(title, ("列",))


def test_every_part_of_the_package_is_well_formed_and_declared():
    import zipfile
    from xml.etree import ElementTree

    from core.exports import WorkbookWriter
    book = WorkbookWriter()
    book.sheet("一", ("a",), [("x",)])
    book.sheet("二", ("b",), [(1,)])
    with zipfile.ZipFile(io.BytesIO(book.close())) as package:
        names = set(package.namelist())
        for name in names:
            ElementTree.fromstring(package.read(name))  # raises on anything not well-formed
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
        declared = {e.get("PartName").lstrip("/") for e in types if e.get("PartName")}
        assert declared == {n for n in names if not n.endswith(".rels") and n != "[Content_Types].xml"}
        assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml"} <= declared
