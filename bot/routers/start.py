"""/start: welcome, privacy notice and consent, role, then straight to the current question."""
from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Consent, Role
from bot.routers.conversation import Paused, is_open, show
from core.bootstrap import Core
from core.dialog import Action, ConsentScreen, OutcomeKind, RoleScreen
from core.services import PersonView
from core.texts import text


async def start(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    if await state.get_state() == Paused.on.state:
        await state.set_state(None)
    screen = await core.dialog.screen(person)
    if isinstance(screen, ConsentScreen) and screen.kind == "general":
        await message.answer(text("bot.welcome"))
        await show(bot, message.chat.id, core, person, screen, state)
        return
    if isinstance(screen, RoleScreen) and person.role is None:
        await show(bot, message.chat.id, core, person, screen, state)
        return
    outcome = await core.dialog.act(person, Action.START)
    if outcome.message:
        await message.answer(outcome.message)
        return
    if is_open(outcome.screen):
        await message.answer(text("bot.welcome_back"))
    await show(bot, message.chat.id, core, person, outcome.screen, state)


async def general_consent(callback: CallbackQuery, callback_data: Consent, bot: Bot, core: Core, person: PersonView,
                          state: FSMContext) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    outcome = await core.dialog.act(person, Action.AGREE if callback_data.agree else Action.DECLINE, "consent")
    if outcome.kind is OutcomeKind.DECLINED:
        await callback.message.answer(text("bot.consent_declined"))
        return
    await show(bot, callback.message.chat.id, core, person, outcome.screen, state)


async def sensitive_consent(callback: CallbackQuery, callback_data: Consent, bot: Bot, core: Core, person: PersonView,
                            state: FSMContext) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    outcome = await core.dialog.act(person, Action.AGREE if callback_data.agree else Action.DECLINE, callback_data.tok)
    if outcome.kind is OutcomeKind.DECLINED:
        await callback.message.answer(text("bot.sensitive_declined"))
        return
    if outcome.kind is OutcomeKind.STALE:
        await callback.message.answer(text("bot.expired"))
    await show(bot, callback.message.chat.id, core, person, outcome.screen, state)


async def choose_role(callback: CallbackQuery, callback_data: Role, bot: Bot, core: Core, person: PersonView,
                      state: FSMContext) -> None:
    await callback.answer()
    outcome = await core.dialog.act(person, Action.ROLE, "role", callback_data.role)
    if not isinstance(outcome.screen, ConsentScreen) or outcome.screen.kind != "general":
        await callback.message.edit_reply_markup(reply_markup=None)
    if outcome.message:
        await callback.message.answer(outcome.message)
        return
    await show(bot, callback.message.chat.id, core, person, outcome.screen, state)


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.callback_query.register(general_consent, Consent.filter(F.kind == "general"))
    router.callback_query.register(sensitive_consent, Consent.filter(F.kind == "sensitive"))
    router.callback_query.register(choose_role, Role.filter())
    return router
