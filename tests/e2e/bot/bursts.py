"""People who type ten answers at once: the first ten questions of the expert form, as text, without waiting."""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.sandbox import SandboxClient
from core.db.models import Application, Person

ROLE_EXPERT = "我是企业专家（申请产业兼职教师）"

# (step key, what the person types, what must be stored under that key)
BURST: tuple[tuple[str, str, Any], ...] = (
    ("name", "张三", "张三"),
    ("birth_date", "1975-06-01", "1975-06-01"),
    ("mobile", "13812345678", "13812345678"),
    ("email", "zhangsan@example.com", "zhangsan@example.com"),
    ("province", "北京", "北京"),
    ("city", "上海", "上海"),
    ("employer", "某某科技有限公司", "某某科技有限公司"),
    ("employer_type", "高新技术企业", "high_tech"),
    ("years_at_employer", "10", 10),
    ("position", "总工程师", "总工程师"),
)


async def reach_first_question(people: SandboxClient, user_id: int, timeout: float = 30) -> None:
    """/start → consent → expert role; returns once the first question is shown."""
    await people.send_text(user_id, "/start")
    while True:
        message = await people.next_message(user_id, timeout=timeout)
        if "同意并继续" in message.buttons:
            break
    await people.press_button(user_id, message, "同意并继续")
    while True:
        message = await people.next_message(user_id, timeout=timeout)
        if ROLE_EXPERT in message.buttons:
            break
    await people.press_button(user_id, message, ROLE_EXPERT)
    while True:
        message = await people.next_message(user_id, timeout=timeout)
        if message.text.startswith("第 1/"):
            return


async def send_burst(people: SandboxClient, user_id: int) -> None:
    """All ten answers, one right after another, none waiting for the bot."""
    for _, typed, _ in BURST:
        await people.send_text(user_id, typed)


async def wait_for_question(people: SandboxClient, user_id: int, number: int, timeout: float) -> None:
    """Until the bot shows question `number` (第 N/ 题) in this chat."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"user {user_id} never saw question {number}")
        message = await people.next_message(user_id, timeout=remaining)
        if message.text.startswith(f"第 {number}/"):
            return


async def stored_answers(database_url: str, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the database holds, per Telegram user: the expert draft's answers."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Person.telegram_id, Application.answers)
                .join(Application, Application.person_id == Person.id)
                .where(Person.telegram_id.in_(user_ids), Application.form == "expert")
            )
            return {telegram_id: dict(answers) for telegram_id, answers in rows}
    finally:
        await engine.dispose()


def misplaced(answers: dict[str, Any]) -> dict[str, Any]:
    """Every burst answer not stored under its own question: {key: what is stored there instead}."""
    return {key: answers.get(key) for key, _, expected in BURST if answers.get(key) != expected}
