"""The channel-neutral helpers every channel shares: answer tokens on buttons, and how times are written."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from core.formatting import format_datetime_cn
from core.replies import (
    answer_callback_data, parse_answer_callback_data, parse_rsvp_callback_data, rsvp_callback_data,
)


@pytest.mark.parametrize("flag", [True, False])
def test_tokens_read_back_as_written_and_fit_a_telegram_button(flag):
    big = 2**53
    assert parse_rsvp_callback_data(rsvp_callback_data(big, flag)) == (big, flag)
    assert parse_answer_callback_data(answer_callback_data(big, flag)) == (big, flag)
    assert len(rsvp_callback_data(big, flag).encode()) <= 64 and len(answer_callback_data(big, flag).encode()) <= 64


@pytest.mark.parametrize("data", [None, "", "rsvp:1", "rsvp:x:y", "rsvp:1:maybe", "rsvp:-1:y", "rsvp:²:y",
                                  "rsvp:1:y:extra", "ap:1:y"])
def test_anything_else_is_not_an_rsvp(data):
    assert parse_rsvp_callback_data(data) is None


def test_one_kind_of_token_is_never_read_as_the_other():
    assert parse_answer_callback_data(rsvp_callback_data(3, True)) is None
    assert parse_rsvp_callback_data(answer_callback_data(3, True)) is None


def test_times_are_written_in_beijing_time():
    assert format_datetime_cn(datetime(2025, 8, 15, 10, 0, tzinfo=timezone.utc)) == "2025年8月15日 18:00（北京时间）"
    assert format_datetime_cn(datetime(2025, 8, 15, 18, 0)) == "2025年8月15日 18:00（北京时间）"
    assert format_datetime_cn(date(2025, 8, 15)) == "2025年8月15日"
    assert format_datetime_cn("2025-08-15T10:00:00+00:00") == "2025年8月15日 18:00（北京时间）"
    assert format_datetime_cn("2025-08-15") == "2025年8月15日"
    assert format_datetime_cn("not a date") == "not a date"
