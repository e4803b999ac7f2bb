"""The form runner: one generic handler set over core's dialog (no per-question code, no rule of the form).

A button carries the token of the screen it was drawn on; core takes the act only while that screen is
current, and every answer is committed before the bot replies.
"""
from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import FormAction
from bot.render import files_keyboard, question_keyboard, question_text
from bot.routers.conversation import MULTI_KEY, Paused, is_open, pending_picks, show, status_text, wants_text
from core.bootstrap import Core
from core.dialog import Action, Outcome, OutcomeKind, QuestionScreen, ReviewScreen, RoleScreen, Screen, StatusScreen
from core.domain import DomainError
from core.forms import AnswerError, Kind
from core.forms.normalize import quote
from core.services import PersonView
from core.texts import text

log = logging.getLogger(__name__)

# The buttons' short codes and the dialog's acts they stand for.
_ACTS = {"k": Action.KEEP, "b": Action.BACK, "s": Action.SKIP, "S": Action.SUBMIT}


async def _nothing_to_answer(message: Message, core: Core, person: PersonView, screen: Screen | None = None) -> None:
    """A message when no question is open: where they stand, or how to begin."""
    if not person.consented:
        await message.answer(text("bot.no_application"))
        return
    status = screen if isinstance(screen, StatusScreen) else await core.dialog.status(person)
    await message.answer(status_text(status))


def _chosen(screen: Screen, callback_data: FormAction) -> tuple[Action, object] | None:
    """The act a button stands for on this screen; None when it names no button we drew (forged data)."""
    action, index = callback_data.action, callback_data.i
    if isinstance(screen, ReviewScreen):
        if action == "e" and 0 <= index < len(screen.lines):
            return Action.EDIT, screen.lines[index].step_key
        return (Action.SUBMIT, None) if action == "S" else None
    if not isinstance(screen, QuestionScreen):
        return None
    if action == "c" and screen.kind in (Kind.SINGLE, Kind.YES_NO) and 0 <= index < len(screen.choices):
        return Action.ANSWER, screen.choices[index].value
    if action == "t" and screen.kind == Kind.MULTI and 0 <= index < len(screen.choices):
        return Action.ANSWER, screen.choices[index].value
    if action == "d":
        return (Action.ANSWER, None) if screen.kind == Kind.MULTI else (Action.FINISH, None)
    if action in _ACTS and _ACTS[action] in screen.actions:
        return _ACTS[action], None
    return None


async def _mark_answered(callback: CallbackQuery, outcome: Outcome) -> None:
    """The question a button answered shows the answer and loses its buttons, so the chat reads as a record."""
    recorded = outcome.recorded
    if recorded.skipped:
        line = text("bot.answered_skipped")
    elif recorded.files is not None:
        line = text("bot.answered_files", count=recorded.files)
    else:
        line = text("bot.answered", value=quote(recorded.display))
    try:
        await callback.message.edit_text(f"{callback.message.text or ''}\n\n{line}", reply_markup=None)
    except TelegramBadRequest as error:  # too old to edit, or deleted: the next question still follows
        log.info("could not mark question %s answered: %s", recorded.step_key, error)


async def on_button(callback: CallbackQuery, callback_data: FormAction, bot: Bot, core: Core, person: PersonView,
                    state: FSMContext) -> None:
    chat_id = callback.message.chat.id
    if await state.get_state() == Paused.on.state:  # a press on the open question is coming back
        await state.set_state(None)
    screen = await core.dialog.screen(person)
    if getattr(screen, "token", None) != callback_data.tok or not is_open(screen):
        await callback.answer(text("bot.expired"))
        if is_open(screen):
            await show(bot, chat_id, core, person, screen, state)
        return
    chosen = _chosen(screen, callback_data)
    if chosen is None:
        log.warning("callback %r names no button of screen %s", callback.data, getattr(screen, "key", "review"))
        await callback.answer(text("bot.invalid_button"))
        return
    action, value = chosen
    if callback_data.action == "t":
        await _toggle(callback, screen, value, state)
        return
    await callback.answer()
    if callback_data.action == "d" and screen.kind == Kind.MULTI:
        value = await pending_picks(state, screen)
    outcome = await core.dialog.act(person, action, screen.token, value)
    if callback_data.action == "d" and screen.kind == Kind.MULTI and outcome.ok:
        await state.update_data({MULTI_KEY: None})
    if outcome.kind is OutcomeKind.SUBMITTED:
        await callback.message.edit_reply_markup(reply_markup=None)
        if await core.updates.receipt_given_in_chat(person_id=person.id, application_id=screen.application_id):
            await bot.send_message(chat_id, outcome.receipt.text())
        return
    if outcome.kind is OutcomeKind.STALE:
        await callback.answer(text("bot.expired"))
    elif outcome.kind is OutcomeKind.REFUSED:
        await bot.send_message(chat_id, outcome.message)
    elif outcome.recorded is not None:
        await _mark_answered(callback, outcome)
    if is_open(outcome.screen) or isinstance(outcome.screen, RoleScreen):  # 上一步 on the first question: the role
        await show(bot, chat_id, core, person, outcome.screen, state)


async def _toggle(callback: CallbackQuery, screen: QuestionScreen, value: str, state: FSMContext) -> None:
    picked = await pending_picks(state, screen)
    picked = [v for v in picked if v != value] if value in picked else picked + [value]
    await state.update_data({MULTI_KEY: {"tok": screen.token, "step": screen.key, "picked": picked}})
    await callback.answer()
    await callback.message.edit_text(question_text(screen, picked), reply_markup=question_keyboard(screen, picked))


async def on_text(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    screen = await core.dialog.screen(person) if person.consented else None
    if screen is None or not is_open(screen):
        await _nothing_to_answer(message, core, person, screen)
        return
    if not isinstance(screen, QuestionScreen) or screen.kind == Kind.FILE:
        await message.answer(wants_text(screen))
        await show(bot, message.chat.id, core, person, screen, state)
        return
    outcome = await core.dialog.act(person, Action.ANSWER, screen.token, message.text, message_id=message.message_id)
    if outcome.kind is OutcomeKind.REFUSED:
        hint = "\n" + text("bot.use_buttons") if screen.kind in (Kind.SINGLE, Kind.MULTI, Kind.YES_NO) else ""
        await message.answer(outcome.message + hint)
    await show(bot, message.chat.id, core, person, outcome.screen, state,
               remove_reply_keyboard=outcome.ok and screen.kind == Kind.PHONE)


async def _screen_asking_for(kind: Kind, message: Message, bot: Bot, core: Core, person: PersonView,
                             state: FSMContext) -> Screen | None:
    """The open screen when it takes this kind of message; otherwise says why not and returns None."""
    screen = await core.dialog.screen(person) if person.consented else None
    if screen is None or not is_open(screen):
        await _nothing_to_answer(message, core, person, screen)
        return None
    if isinstance(screen, QuestionScreen) and screen.kind == kind:
        return screen
    if isinstance(screen, (QuestionScreen, ReviewScreen)):  # a certificate consent waiting is simply shown again
        await message.answer(wants_text(screen))
    await show(bot, message.chat.id, core, person, screen, state)
    return None


async def on_contact(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    screen = await _screen_asking_for(Kind.PHONE, message, bot, core, person, state)
    if screen is None:
        return
    if message.contact.user_id != message.from_user.id:  # a card forwarded or picked from the address book
        await message.answer(text("bot.contact_not_own"))
        await show(bot, message.chat.id, core, person, screen, state)
        return
    outcome = await core.dialog.act(person, Action.ANSWER, screen.token, message.contact.phone_number,
                                    message_id=message.message_id)
    if outcome.kind is OutcomeKind.REFUSED:
        await message.answer(outcome.message)
    await show(bot, message.chat.id, core, person, outcome.screen, state, remove_reply_keyboard=True)


async def on_file(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    screen = await _screen_asking_for(Kind.FILE, message, bot, core, person, state)
    if screen is None:
        return
    if message.document is not None:
        file, filename = message.document, message.document.file_name
    else:
        file, filename = message.photo[-1], None
    try:
        core.intake.check_upload_size(file.file_size or 0)
    except (AnswerError, DomainError) as error:
        await message.answer(error.message)
        await show(bot, message.chat.id, core, person, screen, state)
        return
    buffer = io.BytesIO()
    await bot.download(file, destination=buffer)
    outcome = await core.dialog.act(person, Action.UPLOAD, screen.token, (buffer.getvalue(), filename))
    if not outcome.ok or not isinstance(outcome.screen, QuestionScreen):
        if outcome.message:
            await message.answer(outcome.message)
        await show(bot, message.chat.id, core, person, outcome.screen, state)
        return
    name = f"（{filename}）" if filename else ""
    await message.answer(text("bot.file_received", count=len(outcome.screen.files), name=name),
                         reply_markup=files_keyboard(outcome.screen))


async def on_paused(message: Message) -> None:
    await message.answer(text("bot.paused_hint"))


async def on_other(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    """Anything no handler took (a sticker, a voice note, an unknown command): say what would be taken."""
    if message.text and message.text.startswith("/"):
        await message.answer(text("bot.unknown_command", command=quote(message.text.split()[0])))
        return
    screen = await core.dialog.screen(person) if person.consented else None
    if screen is None or not is_open(screen):
        await _nothing_to_answer(message, core, person, screen)
        return
    await message.answer(wants_text(screen))
    await show(bot, message.chat.id, core, person, screen, state)


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
