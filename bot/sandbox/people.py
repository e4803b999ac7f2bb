"""What a person can do in a private chat with the bot; each action becomes a Telegram Update."""
from __future__ import annotations

import secrets
from typing import Any

from .errors import bad_request
from .keyboards import callback_data_of
from .shapes import command_entities
from .world import CallbackRecord, Chat, SandboxBot

__all__ = ["send_text", "press_button", "send_file", "share_contact"]


def _user_message(bot: SandboxBot, user: dict[str, Any], content: dict[str, Any],
                  reply_to_message_id: int | None = None) -> tuple[dict[str, Any], Chat]:
    chat = bot.chat_with(user)
    if reply_to_message_id is not None:
        content = {**content, "reply_to_message": chat.find(reply_to_message_id, "message to be replied not found").message}
    message = chat.add_message("user", content, sender=chat.user)
    return bot.enqueue("message", message), chat


def send_text(bot: SandboxBot, user: dict[str, Any], text: str,
              reply_to_message_id: int | None = None) -> tuple[dict[str, Any], Chat]:
    if not text:
        raise bad_request("message text is empty")
    content: dict[str, Any] = {"text": text}
    if entities := command_entities(text):
        content["entities"] = entities
    return _user_message(bot, user, content, reply_to_message_id)


def press_button(bot: SandboxBot, user: dict[str, Any], message_id: int, data: str | None = None,
                 button_text: str | None = None) -> tuple[dict[str, Any], Chat]:
    """A tap on an inline button of a bot message; the message is sent as it is now (after edits)."""
    chat = bot.chat_with(user)
    entry = chat.find(message_id, "message not found")
    if entry.direction != "bot":
        raise bad_request("only bot messages have inline buttons")
    markup = entry.message.get("reply_markup")
    if data is None:
        if button_text is None:
            raise bad_request("give data or button_text")
        data = callback_data_of(markup, button_text)
        if data is None:
            raise bad_request(f"no inline button {button_text!r} on message {message_id}")
    query_id = str(secrets.randbits(63))
    bot.callbacks[query_id] = CallbackRecord(chat.id)
    callback_query = {
        "id": query_id,
        "from": chat.user,
        "message": entry.message,
        "chat_instance": str(bot.id * 1_000_003 + chat.id),
        "data": data,
    }
    chat.record("callback_query", direction="user", callback_query=callback_query)
    return bot.enqueue("callback_query", callback_query), chat


def send_file(bot: SandboxBot, user: dict[str, Any], kind: str, data: bytes, file_name: str | None,
              mime_type: str | None, caption: str | None = None) -> tuple[dict[str, Any], Chat]:
    if kind not in ("document", "photo"):
        raise bad_request("kind must be document or photo")
    stored = bot.store_file(kind, data, file_name, mime_type)
    content: dict[str, Any] = {kind: stored.as_document() if kind == "document" else stored.as_photo()}
    if caption:
        content["caption"] = caption
    return _user_message(bot, user, content)


def share_contact(bot: SandboxBot, user: dict[str, Any], phone_number: str, first_name: str | None = None,
                  last_name: str | None = None, own: bool = True) -> tuple[dict[str, Any], Chat]:
    """own=True is what a request_contact button sends: the contact carries the sender's user_id."""
    if not phone_number:
        raise bad_request("phone_number is empty")
    contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or user["first_name"]}
    last = last_name if last_name is not None else user.get("last_name")
    if last:
        contact["last_name"] = last
    if own:
        contact["user_id"] = user["id"]
    return _user_message(bot, user, {"contact": contact})
