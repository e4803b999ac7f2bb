"""core.domain.limits: one limit per free text, links that are web addresses, numbers read one way."""
from __future__ import annotations

import pytest

from core.domain import DomainError
from core.domain.limits import LIMITS, MAX_ID, REVIEW_REASON, WORKSHOP_LINK, check_link, id_in_range, parse_int


def test_a_text_is_stripped_and_refused_beyond_its_limit_with_the_count():
    assert REVIEW_REASON.check("  材料不全  ") == "材料不全"
    assert REVIEW_REASON.check("因" * 500) == "因" * 500
    with pytest.raises(DomainError) as refusal:
        REVIEW_REASON.check("因" * 501)
    assert refusal.value.message == "「原因」最多 500 个字，您输入了 501 个字。请精简后重新提交。"
    assert refusal.value.field == "review.reason" and refusal.value.code == "too_long"
    with pytest.raises(DomainError) as refusal:
        REVIEW_REASON.check("   ")
    assert refusal.value.code == "reason_required"


def test_every_limit_has_a_unique_key_and_a_positive_maximum():
    assert all(key == limit.key and limit.max > 0 for key, limit in LIMITS.items())


@pytest.mark.parametrize("link", ["https://meeting.tencent.com/dm/abc", "http://example.cn:8080/x?y=1#z",
                                  "HTTPS://Example.CN/"])
def test_a_web_address_is_a_link(link):
    assert check_link(link) == link


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                  "data:text/html,<script>", "file:///etc/passwd", "ftp://x.cn/", "https://",
                                  "meeting.tencent.com/dm/abc", "https://exa mple.cn/", "https://x.cn/\nSet-Cookie:",
                                  "//evil.example/", "https://[::1"])
def test_anything_else_is_refused_with_the_reason(link):
    with pytest.raises(DomainError) as refusal:
        check_link(link)
    assert refusal.value.field == WORKSHOP_LINK.key
    assert "须是以 http:// 或 https:// 开头的网址" in refusal.value.message


def test_blank_link_is_none_and_too_long_is_refused_first():
    assert check_link("  ") is None
    with pytest.raises(DomainError, match="最多 500 个字"):
        check_link("https://x.cn/" + "a" * 600)


def test_numbers_are_read_one_way():
    assert parse_int(" 42 ") == 42 and parse_int("-3") == -3 and parse_int("+7") == 7
    for raw in ("", "4_2", "1e9", "٤٢", "²", "4.0", "-", None, "9" * 41):
        assert parse_int(raw) is None, raw
    assert id_in_range(MAX_ID) and not id_in_range(MAX_ID + 1) and not id_in_range(0)
