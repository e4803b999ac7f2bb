"""A person filling in a questionnaire through the stand-in, knowing nothing but what the bot shows."""
from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.sandbox import BotMessage, SandboxClient
from core.forms import FORMS, Form, Kind, Question
from core.forms.model import FollowUp

__all__ = ["ChatDriver", "PROGRESS"]

PROGRESS = re.compile(r"^第 (\d+)/(\d+) 题")


def _questions(form: Form) -> list[tuple[str | None, Question]]:
    found: list[tuple[str | None, Question]] = []
    for entry in form.entries:
        if isinstance(entry, FollowUp):
            found.extend((entry.key, q) for q in entry.questions)
        else:
            found.append((None, entry))
    return found


class ChatDriver:
    def __init__(self, people: SandboxClient, user_id: int, form: str = "expert") -> None:
        self.people = people
        self.user_id = user_id
        self.form = FORMS[form]
        self.last: BotMessage | None = None

    async def say(self, text: str) -> BotMessage:
        await self.people.send_text(self.user_id, text)
        return await self.next_prompt()

    async def press(self, message: BotMessage, label: str) -> BotMessage:
        await self.people.press_button(self.user_id, message, label)
        return await self.next_prompt()

    async def next_message(self, timeout: float = 10) -> BotMessage:
        return await self.people.next_message(self.user_id, timeout=timeout)

    async def wait_for(self, predicate, timeout: float = 20) -> BotMessage:
        """The next message in this chat that satisfies `predicate`, skipping others (e.g. notifier messages
        that may arrive in between when the notifier runs beside the bot)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching message for {self.user_id}")
            message = await self.people.next_message(self.user_id, timeout=remaining)
            if predicate(message):
                return message

    async def next_prompt(self, timeout: float = 10) -> BotMessage:
        """Skips notes (recorded, hints) until a question, the review page or a final word arrives."""
        while True:
            message = await self.people.next_message(self.user_id, timeout=timeout)
            if message.text.startswith(("✓ 已记录", "也可以点击下方按钮")):
                continue
            self.last = message
            return message

    def step_of(self, message: BotMessage) -> tuple[str, Question]:
        """Which step a question message shows, by its prompt text."""
        lines = message.text.split("\n")
        prompt = lines[2] if len(lines) > 2 else ""
        item_match = re.match(r"^【(.+?)】(.*)$", prompt)
        for group, question in _questions(self.form):
            if item_match and group and question.prompt == item_match[2]:
                return f"{group}[{item_match[1]}].{question.key}", question
            if not item_match and group is None and question.prompt == prompt:
                return question.key, question
        raise LookupError(f"not a question of {self.form.kind}: {message.text!r}")

    async def answer(self, message: BotMessage, value: Any) -> BotMessage:
        """Answers the question `message` shows the way a person would: buttons for choices, text otherwise."""
        key, question = self.step_of(message)
        if question.kind is Kind.SINGLE:
            label = question.choice_label(value)
            return await self.press(message, label)
        if question.kind is Kind.YES_NO:
            return await self.press(message, "是" if value else "否")
        if question.kind is Kind.MULTI:
            current = message
            for item in value:
                await self.people.press_button(self.user_id, current, question.choice_label(item))
                current = await self.people.next_edit(self.user_id)
            return await self.press(current, "完成")
        if question.kind is Kind.FILE:
            receipt = message
            for name, content in value:
                await self.people.send_document(self.user_id, content, name, "application/pdf")
                receipt = await self.next_message()
                assert "已收到" in receipt.text, receipt.text
            return await self.press(receipt, "完成")
        if value is None:
            return await self.press(message, "跳过")
        return await self.say(str(value))

    async def fill(self, first: BotMessage, answers: dict[str, Any], *, until: str | None = None) -> BotMessage:
        """Answers question after question (agreeing to the upload consent) until the review page or `until`."""
        message = first
        while True:
            if "敏感个人信息" in message.text:
                message = await self.press(message, "同意上传")
                continue
            if not PROGRESS.match(message.text):
                return message
            key, _ = self.step_of(message)
            if key == until:
                return message
            message = await self.answer(message, answers.get(key))
