"""/start: welcome, privacy notice and consent, role, then straight to the current question."""
from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import Consent, Role
from bot.routers.conversation import Paused, active_draft, consent_keyboard, show, status_text
from core.bootstrap import Core
from core.domain import ApplicationStatus, DomainError
from core.domain.status import EDITABLE
from core.services import PersonView
from core.services.retention import RetentionPeriods
from core.texts import text



def privacy_notice(core: Core) -> str:
    """The notice with the retention periods in force (settings), not a copy that could drift from them."""
    return text("bot.privacy_notice", retention=RetentionPeriods.from_settings(core.settings).notice_line())


def role_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text("bot.role_expert"), callback_data=Role(role="expert").pack())],
        [InlineKeyboardButton(text=text("bot.role_university"), callback_data=Role(role="university").pack())],
    ])


async def begin(bot: Bot, chat_id: int, core: Core, person: PersonView, state: FSMContext, *, returning: bool) -> None:
    """Takes a consenting person with a role to where they stand."""
    try:
        draft = await active_draft(core, person) or await core.intake.start(person_id=person.id, form=person.role)
    except DomainError as error:
        await bot.send_message(chat_id, error.message)
        return
    if ApplicationStatus(draft.status) not in EDITABLE:
        await bot.send_message(chat_id, await status_text(core, person))
        return
    if returning:
        await bot.send_message(chat_id, text("bot.welcome_back"))
    await show(bot, chat_id, core, person, draft, state)


async def start(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    if await state.get_state() == Paused.on.state:
        await state.set_state(None)
    if not person.consented:
        await message.answer(text("bot.welcome"))
        await message.answer(privacy_notice(core), reply_markup=consent_keyboard("general"))
        return
    if person.role is None:
        await message.answer(text("bot.choose_role"), reply_markup=role_keyboard())
        return
    await begin(bot, message.chat.id, core, person, state, returning=True)


async def general_consent(callback: CallbackQuery, callback_data: Consent, core: Core, person: PersonView) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    if not callback_data.agree:
        await callback.message.answer(text("bot.consent_declined"))
        return
    await core.people.give_consent(person_id=person.id)
    await callback.message.answer(text("bot.choose_role"), reply_markup=role_keyboard())


async def sensitive_consent(callback: CallbackQuery, callback_data: Consent, bot: Bot, core: Core, person: PersonView,
                            state: FSMContext) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    if not callback_data.agree:
        await callback.message.answer(text("bot.sensitive_declined"))
        return
    person = await core.people.give_consent(person_id=person.id, sensitive=True)
    await begin(bot, callback.message.chat.id, core, person, state, returning=False)


async def choose_role(callback: CallbackQuery, callback_data: Role, bot: Bot, core: Core, person: PersonView,
                      state: FSMContext) -> None:
    await callback.answer()
    if not person.consented:
        await callback.message.answer(privacy_notice(core), reply_markup=consent_keyboard("general"))
        return
    await callback.message.edit_reply_markup(reply_markup=None)
    person = await core.people.set_role(person_id=person.id, role=callback_data.role)
    await begin(bot, callback.message.chat.id, core, person, state, returning=False)


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.callback_query.register(general_consent, Consent.filter(F.kind == "general"))
    router.callback_query.register(sensitive_consent, Consent.filter(F.kind == "sensitive"))
    router.callback_query.register(choose_role, Role.filter())
    return router
