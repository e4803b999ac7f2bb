"""The workbook writer (XlsxWriter), read back with openpyxl as staff's spreadsheet program would."""
from __future__ import annotations

import io
from datetime import date

import openpyxl

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
