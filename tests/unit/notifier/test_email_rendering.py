"""E-mail templates: the shared layout, one real kind, escaping and strictness."""
from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default as default_policy

import jinja2
import pytest

from notifier.mail import EmailMessageSpec, build_email_message, make_message_id, message_bytes
from notifier.rendering import EmailRenderer, RenderedEmail, render_email


def receipt_context(**overrides):
    context = dict(
        name="张三",
        form="expert",
        form_title="产业兼职教师申请意向表",
        submitted_at=datetime(2025, 8, 10, 6, 30, tzinfo=timezone.utc),
        reference="E-2025-000042",
        eligibility_lines=[
            "在重点企业工作满 3 年：符合",
            "学历或职称：需工作人员判断（能工巧匠可放宽）",
        ],
    )
    context.update(overrides)
    return context


def test_submission_receipt_renders_subject_text_and_html():
    subject, text, html = render_email("submission_receipt", receipt_context())

    assert subject == "【创新工程微专业】已收到您的产业兼职教师申请意向表（编号 E-2025-000042）"
    assert text.startswith("张三，您好：")
    # Times are shown in the plan's time zone, whatever zone they were stored in.
    assert "2025年8月10日 14:30（北京时间）" in text
    assert "E-2025-000042" in text and "E-2025-000042" in html
    assert "· 在重点企业工作满 3 年：符合" in text
    assert "<li>学历或职称：需工作人员判断（能工巧匠可放宽）</li>" in html
    assert '<html lang="zh-CN">' in html


def test_the_base_layout_names_the_sender_and_explains_how_to_stop():
    _, text, html = render_email("submission_receipt", receipt_context())
    for body in (text, html):
        assert "中国创造学会创新工程学分会" in body
        assert "您收到这封邮件，是因为您通过 Telegram 机器人提交了《产业兼职教师申请意向表》" in body
        assert "/delete" in body
        # No reply address configured: the footer must not ask anyone to reply to the sender.
        assert "回复本邮件" not in body and "请勿直接回复" in body
    _, text, html = render_email("submission_receipt", receipt_context(reply_to="contact@branch.example.org"))
    for body in (text, html):
        assert "回复本邮件" in body and "contact@branch.example.org" in body and "/delete" in body


def test_html_is_escaped_but_text_and_subject_are_not():
    subject, text, html = render_email(
        "submission_receipt", receipt_context(name="<b>张三</b>", reference="A&B")
    )
    assert "&lt;b&gt;张三&lt;/b&gt;" in html and "<b>张三</b>" not in html
    assert "A&amp;B" in html
    assert text.startswith("<b>张三</b>，您好：")
    assert "A&B" in subject


def test_missing_variable_raises_instead_of_rendering_blank():
    context = receipt_context()
    del context["reference"]
    with pytest.raises(jinja2.UndefinedError):
        render_email("submission_receipt", context)


def test_unknown_kind_raises():
    with pytest.raises(jinja2.TemplateNotFound):
        render_email("no_such_kind", receipt_context())


def test_subject_is_always_one_line(tmp_path):
    (tmp_path / "email").mkdir()
    for name in ("base.txt", "base.html"):
        (tmp_path / "email" / name).write_text("{% block body %}{% endblock %}", "utf-8")
    (tmp_path / "email" / "multi.subject.txt").write_text("第一行\n{{ extra }}\n", "utf-8")
    (tmp_path / "email" / "multi.txt").write_text('{% extends "email/base.txt" %}{% block body %}正文{% endblock %}', "utf-8")
    (tmp_path / "email" / "multi.html").write_text('{% extends "email/base.html" %}{% block body %}<p>正文</p>{% endblock %}', "utf-8")

    rendered = EmailRenderer(tmp_path).render("multi", {"extra": "Bcc: attacker@example.com"})

    assert isinstance(rendered, RenderedEmail)
    assert "\n" not in rendered.subject
    assert rendered.subject == "第一行 Bcc: attacker@example.com"


def test_without_eligibility_lines_the_section_is_left_out():
    _, text, html = render_email("submission_receipt", receipt_context(eligibility_lines=[]))
    assert "初步核对结果" not in text and "<ul" not in html


def test_rendered_email_goes_through_the_builder_intact():
    subject, text, html = render_email("submission_receipt", receipt_context())
    spec = EmailMessageSpec(
        to=("张三 <zhang@example.cn>",), subject=subject, text=text, html=html,
        message_id=make_message_id("submission_receipt:42"),
    )
    parsed = message_from_bytes(
        message_bytes(build_email_message(spec, sender="noreply@innoeng.test")), policy=default_policy
    )
    assert parsed["Subject"] == subject
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html
