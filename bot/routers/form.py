"""The form runner: one generic handler set over the core's questionnaires (no per-question code).

Each answer goes through the core service and is committed before the bot replies.
"""
from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import REVIEW_TOKEN, FormAction, step_token
from bot.render import files_keyboard, question_keyboard, question_text, receipt_text
from bot.routers.conversation import MULTI_KEY, Paused, active_draft, pending_picks, show, status_text, wants_text
from core.bootstrap import Core
from core.domain import ApplicationStatus, DomainError
from core.domain.status import EDITABLE
from core.forms import AnswerError, Kind, display_value
from core.forms.normalize import quote
from core.services import FINISH_FILES, DraftView, PersonView
from core.texts import text

log = logging.getLogger(__name__)


async def _current(core: Core, person: PersonView, application_id: int) -> DraftView | None:
    try:
        draft = await core.intake.get(application_id=application_id)
    except DomainError:
        return None
    return draft if draft.person_id == person.id else None


def _fresh(draft: DraftView, token: str, action: str) -> bool:
    if ApplicationStatus(draft.status) not in EDITABLE:
        return False
    if action in ("e", "S"):
        return draft.step is None and token == REVIEW_TOKEN
    return draft.step is not None and step_token(draft.step.key) == token


async def _nothing_to_answer(message: Message, core: Core, person: PersonView) -> None:
    """A message when no question is open: where they stand, or how to begin."""
    await message.answer(await status_text(core, person) if person.consented else text("bot.no_application"))


async def _refuse(bot: Bot, chat_id: int, error: Exception) -> None:
    message = getattr(error, "message", None) or text("bot.error")
    await bot.send_message(chat_id, message)


async def _index_ok(core: Core, draft: DraftView, callback_data: FormAction) -> bool:
    """Callback data comes from the client: an index must name one of the buttons we showed."""
    index = callback_data.i
    if callback_data.action in ("c", "t"):
        question = draft.step.question
        if callback_data.action == "c" and question.kind is Kind.YES_NO:
            return index in (0, 1)
        return question.kind in (Kind.SINGLE, Kind.MULTI) and 0 <= index < len(question.choices)
    if callback_data.action == "e":
        return 0 <= index < len((await core.intake.summary(application_id=draft.application_id)).lines)
    return True


async def _mark_answered(callback: CallbackQuery, before: DraftView, after: DraftView, action: str) -> None:
    """The question a button answered shows the answer and loses its buttons, so the chat reads as a record."""
    step, question = before.step, before.step.question
    value = after.answers.get(step.key)
    if action == "s" or value is None:
        line = text("bot.answered_skipped")
    elif question.kind is Kind.FILE:
        line = text("bot.answered_files", count=len(value))
    else:
        line = text("bot.answered", value=quote(display_value(question, value)))
    try:
        await callback.message.edit_text(f"{callback.message.text or ''}\n\n{line}", reply_markup=None)
    except TelegramBadRequest as error:  # too old to edit, or deleted: the next question still follows
        log.info("could not mark question %s answered: %s", step.key, error)


async def on_button(callback: CallbackQuery, callback_data: FormAction, bot: Bot, core: Core, person: PersonView,
                    state: FSMContext) -> None:
    chat_id = callback.message.chat.id
    if await state.get_state() == Paused.on.state:  # a press on the open question is coming back
        await state.set_state(None)
    draft = await _current(core, person, callback_data.app)
    if draft is None or not _fresh(draft, callback_data.step, callback_data.action):
        await callback.answer(text("bot.expired"))
        current = draft or await active_draft(core, person)
        if current is not None and ApplicationStatus(current.status) in EDITABLE:
            await show(bot, chat_id, core, person, current, state)
        return
    action = callback_data.action
    if not await _index_ok(core, draft, callback_data):
        log.warning("callback %r names no button of step %s", callback.data, draft.step.key if draft.step else "review")
        await callback.answer(text("bot.invalid_button"))
        return
    if action == "t":
        await _toggle(callback, callback_data, draft, state, core)
        return
    await callback.answer()
    before = draft
    try:
        if action == "c":
            question = draft.step.question
            raw = bool(callback_data.i) if question.kind is Kind.YES_NO else question.choices[callback_data.i].value
            draft = await core.intake.answer(application_id=draft.application_id, step_key=draft.step.key, raw=raw)
        elif action == "k":
            current = draft.answers.get(draft.step.key)
            draft = await core.intake.answer(application_id=draft.application_id, step_key=draft.step.key, raw=current)
        elif action == "d":
            if draft.step.question.kind is Kind.MULTI:
                picked = await pending_picks(state, draft)
                draft = await core.intake.answer(application_id=draft.application_id, step_key=draft.step.key, raw=picked)
                await state.update_data({MULTI_KEY: None})
            else:
                draft = await core.intake.answer(application_id=draft.application_id, step_key=draft.step.key, raw=FINISH_FILES)
        elif action == "b":
            draft = await core.intake.back(application_id=draft.application_id)
        elif action == "s":
            draft = await core.intake.skip(application_id=draft.application_id, step_key=draft.step.key)
        elif action == "e":
            summary = await core.intake.summary(application_id=draft.application_id)
            draft = await core.intake.edit(application_id=draft.application_id, step_key=summary.lines[callback_data.i].step_key)
        elif action == "S":
            summary = await core.intake.submit(application_id=draft.application_id)
            await callback.message.edit_reply_markup(reply_markup=None)
            if await core.updates.receipt_given_in_chat(person_id=person.id, application_id=draft.application_id):
                await bot.send_message(chat_id, receipt_text(summary))
            return
    except (AnswerError, DomainError) as error:
        await _refuse(bot, chat_id, error)
    else:
        if action in ("c", "k", "d", "s"):
            await _mark_answered(callback, before, draft, action)
    await show(bot, chat_id, core, person, draft, state)


async def _toggle(callback: CallbackQuery, callback_data: FormAction, draft: DraftView, state: FSMContext,
                  core: Core) -> None:
    question = draft.step.question
    picked = await pending_picks(state, draft)
    value = question.choices[callback_data.i].value
    picked = [v for v in picked if v != value] if value in picked else picked + [value]
    await state.update_data({MULTI_KEY: {"app": draft.application_id, "step": draft.step.key, "picked": picked}})
    await callback.answer()
    await callback.message.edit_text(question_text(draft, core.settings.zone, picked),
                                     reply_markup=question_keyboard(draft, picked))


async def on_text(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    draft = await active_draft(core, person) if person.consented else None
    if draft is None:
        await _nothing_to_answer(message, core, person)
        return
    if draft.step is None or draft.step.question.kind is Kind.FILE:
        await message.answer(wants_text(draft))
        await show(bot, message.chat.id, core, person, draft, state)
        return
    question = draft.step.question
    try:
        draft = await core.intake.answer(application_id=draft.application_id, step_key=draft.step.key, raw=message.text,
                                         message_id=message.message_id)
    except (AnswerError, DomainError) as error:
        hint = "\n" + text("bot.use_buttons") if question.kind in (Kind.SINGLE, Kind.MULTI, Kind.YES_NO) else ""
        await message.answer(getattr(error, "message", text("bot.error")) + hint)
        await show(bot, message.chat.id, core, person, draft, state)
        return
    await show(bot, message.chat.id, core, person, draft, state, remove_reply_keyboard=question.kind is Kind.PHONE)


async def _draft_asking_for(kind: Kind, message: Message, bot: Bot, core: Core, person: PersonView,
                             state: FSMContext) -> DraftView | None:
    """The open draft when its current question takes this kind of message; otherwise says why not."""
    draft = await active_draft(core, person) if person.consented else None
    if draft is None:
        await _nothing_to_answer(message, core, person)
        return None
    if draft.step is None or draft.step.question.kind is not kind:
        await message.answer(wants_text(draft))
        await show(bot, message.chat.id, core, person, draft, state)
        return None
    return draft


async def on_contact(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    draft = await _draft_asking_for(Kind.PHONE, message, bot, core, person, state)
    if draft is None:
        return
    if message.contact.user_id != message.from_user.id:  # a card forwarded or picked from the address book
        await message.answer(text("bot.contact_not_own"))
        await show(bot, message.chat.id, core, person, draft, state)
        return
    try:
        draft = await core.intake.answer(
            application_id=draft.application_id, step_key=draft.step.key, raw=message.contact.phone_number,
            message_id=message.message_id,
        )
    except (AnswerError, DomainError) as error:
        await _refuse(bot, message.chat.id, error)
    await show(bot, message.chat.id, core, person, draft, state, remove_reply_keyboard=True)


async def on_file(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    draft = await _draft_asking_for(Kind.FILE, message, bot, core, person, state)
    if draft is None:
        return
    if not person.sensitive_consented and draft.step.question.sensitive:
        await show(bot, message.chat.id, core, person, draft, state)
        return
    if message.document is not None:
        file, filename = message.document, message.document.file_name
    else:
        file, filename = message.photo[-1], None
    try:
        core.intake.check_upload_size(file.file_size or 0)
        buffer = io.BytesIO()
        await bot.download(file, destination=buffer)
        await core.intake.attach_document(
            application_id=draft.application_id, step_key=draft.step.key, content=buffer.getvalue(), filename=filename
        )
    except (AnswerError, DomainError) as error:
        await _refuse(bot, message.chat.id, error)
        await show(bot, message.chat.id, core, person, draft, state)
        return
    draft = await core.intake.get(application_id=draft.application_id)
    count = len(draft.answers.get(draft.step.key) or [])
    name = f"（{filename}）" if filename else ""
    await message.answer(text("bot.file_received", count=count, name=name), reply_markup=files_keyboard(draft))


async def on_paused(message: Message) -> None:
    await message.answer(text("bot.paused_hint"))


async def on_other(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    """Anything no handler took (a sticker, a voice note, an unknown command): say what would be taken."""
    if message.text and message.text.startswith("/"):
        await message.answer(text("bot.unknown_command", command=quote(message.text.split()[0])))
        return
    draft = await active_draft(core, person) if person.consented else None
    if draft is None:
        await _nothing_to_answer(message, core, person)
        return
    await message.answer(wants_text(draft))
    await show(bot, message.chat.id, core, person, draft, state)


def create_paused_router() -> Router:
    """Before the command routers' catch-alls: a paused person's messages are not answers."""
    router = Router(name="paused")
    router.message.register(on_paused, StateFilter(Paused.on), ~(F.text.startswith("/")))
    return router


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="form")
    # Messages are only taken as answers when no other dialog (staff reasons, confirmations) is waiting.
    router.message.filter(StateFilter(None))
    router.callback_query.register(on_button, FormAction.filter())
    router.message.register(on_text, F.text & ~F.text.startswith("/"))
    router.message.register(on_contact, F.contact)
    router.message.register(on_file, F.document | F.photo)
    router.message.register(on_other)
    return router
