"""Showing the screen core's dialog gives: a question, the review, a consent, the role choice, the status.

Shared by the routers so that every path (start, answer, back, edit, restart) shows the same thing."""
from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import ReplyKeyboardRemove

from bot.render import (
    consent_keyboard,
    consent_text,
    phone_keyboard,
    question_keyboard,
    question_text,
    review_keyboard,
    review_texts,
    role_keyboard,
)
from core.bootstrap import Core
from core.dialog import ConsentScreen, QuestionScreen, ReviewScreen, RoleScreen, Screen, StatusScreen
from core.forms import Kind
from core.services import PersonView
from core.texts import text

__all__ = ["show", "pending_picks", "status_text", "wants_text", "is_open", "Paused", "MULTI_KEY"]

MULTI_KEY = "multi"


class Paused(StatesGroup):
    """After /cancel: messages are not answers until the person comes back with /start, /edit or a button."""

    on = State()


def is_open(screen: Screen) -> bool:
    """A draft is being filled in: a question, its certificate consent, or the review."""
    return isinstance(screen, (QuestionScreen, ReviewScreen)) or (
        isinstance(screen, ConsentScreen) and screen.kind == "sensitive")


def wants_text(screen: Screen) -> str:
    """What the open question (or the review page) takes, for a message of the wrong kind."""
    if isinstance(screen, QuestionScreen):
        return text(f"bot.wants.{screen.kind}")
    return text("bot.wants.review")


def status_text(screen: StatusScreen) -> str:
    return text("bot.no_application") if screen.empty else screen.text()


async def pending_picks(state: FSMContext, screen: QuestionScreen) -> list[str]:
    """Multi-choice picks not yet confirmed with 完成, kept in the FSM so they survive a restart."""
    data = await state.get_data()
    pending = data.get(MULTI_KEY) or {}
    if pending.get("tok") == screen.token and pending.get("step") == screen.key:
        return list(pending.get("picked") or [])
    return [c.value for c in screen.choices if c.picked]


async def show(bot: Bot, chat_id: int, core: Core, person: PersonView, screen: Screen, state: FSMContext,
               *, remove_reply_keyboard: bool = False) -> None:
    if remove_reply_keyboard:
        await bot.send_message(chat_id, text("bot.recorded"), reply_markup=ReplyKeyboardRemove())
    if isinstance(screen, ReviewScreen):
        *first, last = review_texts(screen)
        for part in first:
            await bot.send_message(chat_id, part)
        await bot.send_message(chat_id, last, reply_markup=review_keyboard(screen))
    elif isinstance(screen, ConsentScreen):
        await bot.send_message(chat_id, consent_text(screen), reply_markup=consent_keyboard(screen))
    elif isinstance(screen, RoleScreen):
        await bot.send_message(chat_id, screen.prompt, reply_markup=role_keyboard(screen))
    elif isinstance(screen, StatusScreen):
        await bot.send_message(chat_id, status_text(screen))
    else:
        picked = None
        if screen.kind == Kind.MULTI:
            picked = await pending_picks(state, screen)
            await state.update_data({MULTI_KEY: {"tok": screen.token, "step": screen.key, "picked": picked}})
        await bot.send_message(chat_id, question_text(screen, picked), reply_markup=question_keyboard(screen, picked))
        if screen.kind == Kind.PHONE:
            await bot.send_message(chat_id, text("bot.share_phone_hint"), reply_markup=phone_keyboard())
