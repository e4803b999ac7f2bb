"""A person who has never used Telegram is never told to use it: every mention of the bot in a participant's
e-mail sits in the branch of a test on payload["channels"], and the other branch points to the web."""
from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import nodes

from notifier.composing import Composer, OutboxItem
from notifier.rendering import DEFAULT_TEMPLATES_DIR, build_environment

# Mails to staff: they use the bot and the console by their work.
STAFF_KINDS = ("staff_digest", "channel_paused")
PARTICIPANT_TEMPLATES = sorted(
    str(p.relative_to(DEFAULT_TEMPLATES_DIR)) for p in (Path(DEFAULT_TEMPLATES_DIR) / "email").iterdir()
    if p.is_file() and not p.name.startswith(STAFF_KINDS)
)
MENTIONS_BOT = ("Telegram", "机器人", "/start", "/edit", "/status", "/delete", "/candidates")


def _tests_channels(test: nodes.Node) -> bool:
    return any(name.name == "channels" for name in test.find_all(nodes.Name))


def _unguarded_mentions(node: nodes.Node, guarded: bool = False) -> list[str]:
    found = []
    if isinstance(node, nodes.TemplateData) and not guarded and any(m in node.data for m in MENTIONS_BOT):
        found.append(node.data.strip())
    if isinstance(node, nodes.If):
        on_channels = _tests_channels(node.test)
        for child in node.body:
            found += _unguarded_mentions(child, guarded or on_channels)
        for child in [*node.elif_, *node.else_]:
            found += _unguarded_mentions(child, guarded)
        return found
    for child in node.iter_child_nodes():
        found += _unguarded_mentions(child, guarded)
    return found


@pytest.mark.parametrize("template", PARTICIPANT_TEMPLATES)
def test_the_bot_is_named_only_to_people_who_have_telegram(template):
    environment = build_environment()
    source = environment.loader.get_source(environment, template)[0]
    assert _unguarded_mentions(environment.parse(source)) == []


def test_the_check_catches_an_unguarded_mention():
    environment = build_environment()
    assert _unguarded_mentions(environment.parse("请在 Telegram 机器人中发送 /start。"))
    assert not _unguarded_mentions(environment.parse(
        '{% if "telegram" in channels %}请在 Telegram 机器人中发送 /start{% else %}请登录网页版{% endif %}'))


REVIEW = {"application_id": 42, "form": "expert", "name": "张三", "reference": "E01-000042", "batch": "第一批",
          "message": "请补充学历证书。"}


def _bodies(payload: dict, kind: str = "review_needs_info") -> tuple[str, str]:
    spec = Composer(mail_from="noreply@innoeng.test").email(
        OutboxItem(1, kind, "email", "zhang@example.cn", f"{kind}:t", payload))
    return spec.text, spec.html


def test_without_telegram_the_mail_points_to_the_web():
    for body in _bodies({**REVIEW, "channels": ["email"]}):
        assert "Telegram" not in body and "机器人" not in body and "/edit" not in body
        assert "登录网页版" in body


def test_with_telegram_and_in_rows_queued_before_channels_existed_the_bot_is_named():
    for payload in ({**REVIEW, "channels": ["email", "telegram"]}, REVIEW):
        for body in _bodies(payload):
            assert "Telegram 机器人" in body and "/edit" in body


def test_a_web_address_in_the_context_is_shown():
    text, html = _bodies({**REVIEW, "channels": ["email"], "web_url": "https://web.example.org/"})
    assert "登录网页版（https://web.example.org/）" in text
    assert 'href="https://web.example.org/"' in html


def test_the_signin_code_mail():
    spec = Composer(mail_from="noreply@innoeng.test").email(
        OutboxItem(1, "signin_code", "email", "li@example.cn", "signin_code:code-1:email",
                   {"code": "042917", "minutes": 10, "expires_at": "2025-07-01T02:10:00+00:00", "channels": []}))
    assert spec.subject == "【创新工程微专业】您的登录验证码：042917"
    for body in (spec.text, spec.html):
        assert "042917" in body and "10 分钟" in body and "如果不是您本人操作，请忽略" in body
        assert "Telegram" not in body and "，您好" not in body.replace("您好：", "")
    assert spec.text.startswith("您好：")
