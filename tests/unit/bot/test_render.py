"""Long replies split into messages within Telegram's limit, nothing dropped."""
from __future__ import annotations

from bot.render import MESSAGE_LIMIT, split_message


def test_lines_are_packed_into_messages_within_the_limit_and_nothing_is_lost():
    lines = [f"{n}. " + "字" * 900 for n in range(12)]
    messages = split_message(lines)
    assert len(messages) > 1 and all(len(m) <= MESSAGE_LIMIT for m in messages)
    assert "\n".join(messages) == "\n".join(lines)


def test_a_line_longer_than_a_message_is_cut_across_messages():
    messages = split_message(["a", "b" * 9000, "c"], limit=4096)
    assert all(len(m) <= 4096 for m in messages)
    assert "".join(messages).replace("\n", "") == "a" + "b" * 9000 + "c"


def test_short_text_stays_one_message():
    assert split_message(["一", "二"]) == ["一\n二"]
