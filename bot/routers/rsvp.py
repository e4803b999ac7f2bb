"""Workshop RSVP: the 参加 / 不参加 buttons under invitations the notifier sends.

Callback data is "rsvp:<invitation id>:y|n" (core.replies.rsvp_callback_data). The answer is the
person's (`person`, given by bot.middlewares.UpdateContext): core checks the invitation is theirs. A button
that no longer applies (unknown invitation, someone else's, cancelled or past event) gets a
short answer, never an exception.
"""
from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery

from core.bootstrap import Core
from core.domain import DomainError
from core.replies import parse_rsvp_callback_data
from core.services import PersonView
from core.texts import text

__all__ = ["create_router", "CALLBACK_PREFIX"]

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "rsvp:"
_CHOICE_MARK = "\n\n" + text("events.rsvp_choice_line", answer="")


async def answer_rsvp(callback: CallbackQuery, core: Core, person: PersonView) -> None:
    parsed = parse_rsvp_callback_data(callback.data)
    if parsed is None:
        await callback.answer(text("events.rsvp_stale"))
        return
    invitation_id, attending = parsed
    try:
        invitation = await core.events.respond(invitation_id=invitation_id, attending=attending, person_id=person.id)
    except DomainError as error:
        await callback.answer(error.message, show_alert=True)
        return
    await callback.answer(text("events.rsvp_recorded", answer=invitation.rsvp_label))
    message = callback.message
    if message is None or not getattr(message, "text", None):
        return
    # Keep the invitation as it was, with the answer under it; the buttons stay so a change of
    # mind is one tap away.
    original = message.text.split(_CHOICE_MARK, 1)[0]
    updated = original + _CHOICE_MARK + invitation.rsvp_label
    if updated == message.text:
        return
    try:
        await message.edit_text(updated, reply_markup=message.reply_markup)
    except TelegramBadRequest as error:  # e.g. the message is too old to edit: the answer is recorded anyway
        log.info("could not edit RSVP message %s: %s", message.message_id, error.message)


def create_router() -> Router:
    router = Router(name="rsvp")
    router.callback_query.register(answer_rsvp, F.data.startswith(CALLBACK_PREFIX))
    return router

