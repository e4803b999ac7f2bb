"""Input as Chinese users type it: full-width characters, many date styles, phone prefixes."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.forms.normalize import (
    clean_text,
    normalize_text,
    quote,
    parse_cn_mobile,
    parse_date,
    parse_email,
    parse_integer,
    parse_year_month,
    parse_yes_no,
)

FULL_WIDTH = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")


@pytest.mark.parametrize(
    "raw",
    ["2025-08-15", "2025/8/15", "2025.8.15", "2025年8月15日", "20250815", " 2025-08-15 ", "２０２５－０８－１５", "2025 年 8 月 15 日"],
)
def test_every_accepted_date_style(raw):
    assert parse_date(raw) == date(2025, 8, 15)


@pytest.mark.parametrize("raw", ["2025-02-30", "15/08/2025", "2025-13-01", "明天", "", "2025815"])
def test_impossible_or_ambiguous_dates_are_refused(raw):
    assert parse_date(raw) is None


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]))
def test_any_date_in_any_style_round_trips(day, style):
    assert parse_date(day.strftime(style)) == day
    assert parse_date(day.strftime(style).translate(FULL_WIDTH)) == day


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_dates_without_leading_zeros(day):
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day


@pytest.mark.parametrize("raw", ["2026-03", "2026/3", "2026年3月", "202603", "２０２６－０３"])
def test_year_month(raw):
    assert parse_year_month(raw) == "2026-03"


@pytest.mark.parametrize("raw", ["2026-13", "2026", "三月"])
def test_bad_year_month(raw):
    assert parse_year_month(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138 1234 5678", "+86-138-1234-5678", "0086 13812345678", "8613812345678", "138-1234-5678",
     "１３８１２３４５６７８", " 13812345678 ", "(+86)13812345678"],
)
def test_mobile_numbers_as_people_write_them(raw):
    assert parse_cn_mobile(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["1381234567", "23812345678", "12812345678", "010-12345678", "+1 415 555 0100", "abc"])
def test_not_a_mainland_mobile(raw):
    assert parse_cn_mobile(raw) is None


@given(st.integers(min_value=3, max_value=9), st.integers(min_value=0, max_value=999_999_999))
def test_every_valid_mobile_survives_prefixes_and_separators(second, rest):
    number = f"1{second}{rest:09d}"
    assert parse_cn_mobile(number) == number
    assert parse_cn_mobile(f"+86 {number[:3]} {number[3:7]} {number[7:]}") == number
    assert parse_cn_mobile(f"{number[:3]}-{number[3:7]}-{number[7:]}".translate(FULL_WIDTH)) == number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Zhang.San@Example.COM", "Zhang.San@example.com"), ("ｚｓ＠ｅｘａｍｐｌｅ．ｃｎ", "zs@example.cn"), (" a+b@c.org.cn ", "a+b@c.org.cn")],
)
def test_email(raw, expected):
    assert parse_email(raw) == expected


@pytest.mark.parametrize("raw", ["zs@", "@x.cn", "zs@localhost", "z s@x.cn", "zs@x..cn", "zs@@x.cn"])
def test_bad_email(raw):
    assert parse_email(raw) is None


@pytest.mark.parametrize(("raw", "expected"), [("１２", 12), ("32学时", 32), ("40 人", 40), ("1,200", 1200), ("-3", -3), ("十", None), ("3.5", None)])
def test_integer(raw, expected):
    assert parse_integer(raw) == expected


@given(st.integers(min_value=-10**6, max_value=10**6))
def test_integers_round_trip_full_width(number):
    assert parse_integer(str(number).translate(FULL_WIDTH)) == number


@pytest.mark.parametrize(("raw", "expected"), [("是", True), ("同意", True), ("Yes", True), ("否", False), ("不同意", False), ("也许", None)])
def test_yes_no(raw, expected):
    assert parse_yes_no(raw) is expected


@given(st.text())
def test_normalisation_is_idempotent_and_trims(raw):
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert once == once.strip()


@pytest.mark.parametrize("raw", ["\u200b\u200b", "\u2060\u200d\u200c", "\u202e\u202d", " \ufeff "])
def test_invisible_and_bidi_control_characters_are_removed(raw):
    assert clean_text(raw) == "" and normalize_text(raw) == ""


def test_bidi_override_inside_text_is_removed_and_the_rest_kept():
    assert clean_text("张\u202e三\u200b") == "张三"


def test_free_text_keeps_chinese_punctuation_as_typed_while_parsing_still_folds_full_width():
    assert clean_text(" 二十年，主持（ＴＲＩＺ）项目。 ") == "二十年，主持（ＴＲＩＺ）项目。"
    assert parse_date("２０２５－０８－１５") == date(2025, 8, 15)


def test_a_quoted_answer_is_a_short_prefix():
    assert quote("短") == "短"
    long = quote("日" * 5000)
    assert len(long) <= 41 and long.endswith("…")
    assert len(quote("😀" * 2100)) <= 41
