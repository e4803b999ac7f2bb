"""Telegram Bot API object shapes (User, Chat, Message, Document, ...) as plain JSON dicts.

The stand-in answers with the same JSON Telegram would, so aiogram's own models
validate every reply; nothing here knows about HTTP.
"""
from __future__ import annotations

import secrets
import struct
import time
from typing import Any

__all__ = [
    "person",
    "bot_user",
    "private_chat",
    "new_file_ids",
    "image_size",
    "command_entities",
    "now",
]


def now() -> int:
    return int(time.time())


def person(
    user_id: int,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "zh-hans",
) -> dict[str, Any]:
    """A human Telegram User."""
    user: dict[str, Any] = {"id": int(user_id), "is_bot": False, "first_name": first_name or f"用户{user_id}"}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def bot_user(bot_id: int, username: str, first_name: str) -> dict[str, Any]:
    return {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    """A private chat has the id and names of the person in it."""
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def new_file_ids(kind: str) -> tuple[str, str]:
    """(file_id, file_unique_id) looking like Telegram's opaque ids; the prefix hints the kind."""
    prefix = {"document": "BQACAgUAAxkBAAI", "photo": "AgACAgUAAxkBAAI"}.get(kind, "CQACAgUAAxkBAAI")
    return prefix + secrets.token_urlsafe(24), "AgAD" + secrets.token_urlsafe(9)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG, (0, 0) when unknown: PhotoSize needs real-looking numbers."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                index += 1
                continue
            marker = data[index + 1]
            # SOF markers carry the frame size; C4/C8/CC are not frames.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return width, height
            (length,) = struct.unpack(">H", data[index + 2 : index + 4])
            index += 2 + length
    return 0, 0


def command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks a leading /command with a bot_command entity."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
