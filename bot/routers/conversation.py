"""Showing where a person stands: the current question, the review summary, or a consent prompt.

Shared by the routers so that every path (start, answer, back, edit, restart) shows the same thing.
"""
from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove

from bot.callbacks import Consent
from bot.render import phone_keyboard, question_keyboard, question_text, review_keyboard, review_texts
from core.bootstrap import Core
from core.domain import ApplicationStatus
from core.domain.status import EDITABLE
from core.forms import Kind, get_form
from core.services import DraftView, PersonView
from core.texts import text

__all__ = ["show", "active_draft", "consent_keyboard", "pending_picks", "status_text", "wants_text", "Paused", "MULTI_KEY"]

MULTI_KEY = "multi"


class Paused(StatesGroup):
    """After /cancel: messages are not answers until the person comes back with /start, /edit or a button."""

    on = State()


def wants_text(draft: DraftView) -> str:
    """What the open question (or the review page) takes, for a message of the wrong kind."""
    if draft.step is None:
        return text("bot.wants.review")
    return text(f"bot.wants.{draft.step.question.kind.value}")


def consent_keyboard(kind: str) -> InlineKeyboardMarkup:
    yes, no = ("bot.consent_yes", "bot.consent_no") if kind == "general" else ("bot.sensitive_yes", "bot.sensitive_no")
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=text(yes), callback_data=Consent(kind=kind, agree=True).pack()),
        InlineKeyboardButton(text=text(no), callback_data=Consent(kind=kind, agree=False).pack()),
    ]])


async def active_draft(core: Core, person: PersonView) -> DraftView | None:
    """The application this person is filling in now: editable, of their role, most recent first."""
    drafts = [d for d in await core.intake.find_for_person(person_id=person.id)
              if ApplicationStatus(d.status) in EDITABLE and (person.role is None or d.form == person.role)]
    return drafts[-1] if drafts else None


async def pending_picks(state: FSMContext, draft: DraftView) -> list[str]:
    """Multi-choice picks not yet confirmed with 完成, kept in the FSM so they survive a restart."""
    data = await state.get_data()
    pending = data.get(MULTI_KEY) or {}
    if pending.get("app") == draft.application_id and pending.get("step") == draft.step.key:
        return list(pending.get("picked") or [])
    return list(draft.answers.get(draft.step.key) or [])


async def show(bot: Bot, chat_id: int, core: Core, person: PersonView, draft: DraftView, state: FSMContext,
               *, remove_reply_keyboard: bool = False) -> None:
    if remove_reply_keyboard:
        await bot.send_message(chat_id, text("bot.recorded"), reply_markup=ReplyKeyboardRemove())
    if draft.step is None:
        summary = await core.intake.summary(application_id=draft.application_id)
        *first, last = review_texts(summary)
        for part in first:
            await bot.send_message(chat_id, part)
        await bot.send_message(chat_id, last, reply_markup=review_keyboard(draft, summary))
        return
    question = draft.step.question
    if question.kind is Kind.FILE and question.sensitive and not person.sensitive_consented:
        await bot.send_message(chat_id, text("bot.sensitive_notice"), reply_markup=consent_keyboard("sensitive"))
        return
    picked = None
    if question.kind is Kind.MULTI:
        picked = await pending_picks(state, draft)
        await state.update_data({MULTI_KEY: {"app": draft.application_id, "step": draft.step.key, "picked": picked}})
    await bot.send_message(chat_id, question_text(draft, core.settings.zone, picked),
                           reply_markup=question_keyboard(draft, picked))
    if question.kind is Kind.PHONE:
        await bot.send_message(chat_id, text("bot.share_phone_hint"), reply_markup=phone_keyboard())


async def status_text(core: Core, person: PersonView) -> str:
    drafts = await core.intake.find_for_person(person_id=person.id)
    if not drafts:
        return text("bot.no_application")
    lines = []
    for draft in drafts:
        lines.append(text("bot.status_line", title=get_form(draft.form).title, batch=draft.batch_name, status=draft.status_label))
        if ApplicationStatus(draft.status) in EDITABLE:
            answered = sum(1 for value in draft.answers.values() if value is not None)
            lines.append(text("bot.status_progress", answered=min(answered, draft.total), total=draft.total))
        summary = await core.intake.summary(application_id=draft.application_id)
        if summary.staff_message:
            lines.append(text("bot.status_message", message=summary.staff_message))
    for side, appointment in await core.appointments.for_person(person_id=person.id):
        lines.append(text("match.status_line", university=appointment.university_name, course=appointment.course,
                          expert=appointment.expert_name, status=appointment.status_label))
        if appointment.status == "offered" and getattr(appointment, f"{side}_response") is None:
            deadline = appointment.answer_by.astimezone(core.settings.zone).strftime("%Y-%m-%d %H:%M")
            lines.append(text("match.status_answer", deadline=deadline))
        if appointment.publicity_starts_on:
            lines.append(text("match.status_publicity", start=appointment.publicity_starts_on, end=appointment.publicity_ends_on))
    return "\n".join(lines)
