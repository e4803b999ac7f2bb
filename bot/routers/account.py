"""A person's own commands: status, edit, withdraw, export and delete their data, help, pause."""
from __future__ import annotations

import json
import logging

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import Confirm
from bot.commands import STAFF_COMMAND_ACTIONS, STAFF_COMMANDS
from bot.routers.conversation import Paused, is_open, show, status_text
from core.bootstrap import Core
from core.dialog import erasure_message
from core.documents import ACCEPTED_TYPES
from core.domain import DomainError
from core.domain.permissions import allowed
from core.services import PersonView
from core.texts import text

log = logging.getLogger(__name__)


def confirm_keyboard(what: str, yes_label: str, app: int = 0) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=yes_label, callback_data=Confirm(what=what, app=app, yes=True).pack()),
        InlineKeyboardButton(text=text("bot.cancel_button"), callback_data=Confirm(what=what, app=app, yes=False).pack()),
    ]])


async def help_(message: Message, core: Core, staff_ids: frozenset[int]) -> None:
    reply = text("bot.help")
    if message.from_user is not None and message.from_user.id in staff_ids:
        # The staff commands this id's role may use (core's table); the others, and how to get them.
        actor = await core.permissions.chat_staff(telegram_id=message.from_user.id)
        usable = {c for c, _ in STAFF_COMMANDS if allowed(actor, STAFF_COMMAND_ACTIONS[c])}
        reply += "\n\n" + text("bot.help_staff") + "\n" + "\n".join(
            f"/{c} {d}" for c, d in STAFF_COMMANDS if c in usable)
        if beyond := [f"/{c}" for c, _ in STAFF_COMMANDS if c not in usable]:
            key = "bot.help_staff_role" if actor.linked else "bot.help_staff_link"
            reply += "\n\n" + text(key, commands=" ".join(beyond), role=text(f"role.{actor.role.value}"),
                                     telegram_id=message.from_user.id)
    await message.answer(reply)


async def status(message: Message, core: Core, person: PersonView) -> None:
    await message.answer(status_text(await core.dialog.status(person)))


async def cancel(message: Message, state: FSMContext) -> None:
    await state.set_state(Paused.on)
    await message.answer(text("bot.paused"))


async def edit(message: Message, bot: Bot, core: Core, person: PersonView, state: FSMContext) -> None:
    await state.set_state(None)
    screen = await core.dialog.screen(person)
    if not is_open(screen):
        applications = [i for i in (await core.dialog.status(person)).items if i.kind == "application"]
        reply = text("bot.not_editable", status=applications[-1].status_label) if applications else text("bot.no_application")
        await message.answer(reply)
        return
    await show(bot, message.chat.id, core, person, screen, state)


async def withdraw(message: Message, core: Core, person: PersonView) -> None:
    application = await core.dialog.withdrawable(person)
    if application is None:
        await message.answer(text("bot.no_application"))
        return
    await message.answer(
        text("bot.withdraw_confirm", title=application.name),
        reply_markup=confirm_keyboard("withdraw", text("bot.withdraw_yes"), application.id),
    )


async def my_data(message: Message, core: Core, person: PersonView) -> None:
    exported = await core.privacy.export(person_id=person.id)
    payload = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await message.answer_document(BufferedInputFile(payload, filename="my-data.json"), caption=text("bot.mydata_caption"))
    if exported["files"]:
        await message.answer(
            text("bot.mydata_files_offer", count=len(exported["files"])),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
                text=text("bot.mydata_files_button"), callback_data=Confirm(what="myfiles", app=0, yes=True).pack())]]),
        )


async def send_my_files(message: Message, core: Core, person: PersonView) -> None:
    document_ids = await core.privacy.document_ids(person_id=person.id)
    if not document_ids:
        await message.answer(text("bot.mydata_no_files"))
        return
    for document_id in document_ids:
        try:
            view, content = await core.dialog.document(person, document_id)
        except (OSError, DomainError):
            log.warning("document %s of person %s is listed but cannot be read", document_id, person.id)
            await message.answer(text("bot.mydata_file_missing", name=str(document_id)))
            continue
        name = view.original_name or f"{document_id}{ACCEPTED_TYPES.get(view.mime, '')}"
        await message.answer_document(BufferedInputFile(content, filename=name), caption=f"SHA-256 {view.sha256}")


async def delete(message: Message) -> None:
    await message.answer(text("bot.delete_confirm"), reply_markup=confirm_keyboard("delete", text("bot.delete_yes")))


async def confirmed(callback: CallbackQuery, callback_data: Confirm, core: Core, person: PersonView, state: FSMContext) -> None:
    await callback.answer()
    await callback.message.edit_reply_markup(reply_markup=None)
    if not callback_data.yes:
        await callback.message.answer(text("bot.cancelled"))
        return
    if callback_data.what == "withdraw":
        try:
            await core.dialog.withdraw(person, callback_data.app)
        except DomainError as error:
            await callback.message.answer(error.message)
            return
        await callback.message.answer(text("bot.withdrawn"))
    elif callback_data.what == "delete":
        # Cleared first: the erasure then removes the (empty) dialog row too, instead of it being rewritten after.
        await state.clear()
        report = await core.privacy.erase(person_id=person.id)
        if report.files_pending:
            log.warning("erasure of person %s: %s file(s) not removed yet, queued for retry", person.id, report.files_pending)
        await callback.message.answer(erasure_message(report))
    elif callback_data.what == "myfiles":
        await send_my_files(callback.message, core, person)


def create_router() -> Router:
    """A fresh router each call: a dispatcher per process (or per test) owns its own."""
    router = Router(name="account")
    router.message.register(help_, Command("help"))
    router.message.register(status, Command("status"))
    router.message.register(cancel, Command("cancel"))
    router.message.register(edit, Command("edit"))
    router.message.register(withdraw, Command("withdraw"))
    router.message.register(my_data, Command("mydata"))
    router.message.register(delete, Command("delete"))
    router.callback_query.register(confirmed, Confirm.filter())
    return router
