"""The match-proposal e-mail's plain text: every detail on its own line, the answer request after them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from notifier.rendering import render_email


def proposal_context(side, **overrides):
    context = dict(
        side=side, name="王林海" if side == "university" else "张三",
        university="清华大学", province="北京", city="北京", course="创新思维", hours=32, mode_label="线上",
        planned_start="2026年春季学期", students=60, contact="王林海", department="工程训练中心",
        expert="张三", employer="某某集团", position="总工程师", title_label="正高级", years=12,
        expert_province="上海", priority=["重大发明专利"],
        answer_by=datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc),
    )
    context.update(overrides)
    return context


@pytest.mark.parametrize("department", ["工程训练中心", None])
def test_expert_text_puts_the_answer_request_on_a_line_after_the_contact(department):
    _, text, _ = render_email("match_proposal", proposal_context("expert", department=department))
    lines = text.splitlines()
    contact = next(line for line in lines if "学校联系人：" in line)
    assert contact.strip() == ("学校联系人：王林海（工程训练中心）" if department else "学校联系人：王林海")
    assert "请于" not in contact
    answer = next(line for line in lines if line.startswith("请于 "))
    assert answer.startswith("请于 2026年12月6日 18:00（北京时间） 前在 Telegram 机器人中接受或谢绝")


def test_university_text_puts_the_answer_request_on_its_own_line():
    _, text, _ = render_email("match_proposal", proposal_context("university"))
    lines = text.splitlines()
    expert = next(line for line in lines if "专家：" in line)
    assert expert.strip() == "专家：张三，某某集团总工程师"
    priority = next(line for line in lines if "优先条件：" in line)
    assert priority.strip() == "优先条件：重大发明专利"
    assert any(line.startswith("请于 2026年12月6日 18:00（北京时间） 前在 Telegram 机器人中确认或谢绝") for line in lines)
