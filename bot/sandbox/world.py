"""What the stand-in remembers: bots, their update queues, private chats, files, commands.

One event loop owns all of it, so there are no locks; waiters park on a Signal.
"""
from __future__ import annotations

import asyncio
import copy
import mimetypes
import time
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .faults import FaultPlan
from .shapes import bot_user, image_size, new_file_ids, now, person, private_chat

__all__ = ["Sandbox", "SandboxBot", "Chat", "StoredFile", "Signal", "DEFAULT_TOKEN", "SAMPLE_USER_IDS"]

# Used when no token is configured: `innoeng run` without BOT_TOKEN talks to this.
DEFAULT_TOKEN = "1000000001:innoeng-sandbox-token"

# The Telegram ids `innoeng sample` gives its people (core.sample.SAMPLE_TELEGRAM_IDS, the same range).
# A resumable stand-in (`innoeng run`, `innoeng sandbox`) treats them as people who have started the bot:
# their notifications arrive before anyone opens the chat page as them.
SAMPLE_USER_IDS = range(7_100_001, 7_200_000)

# Bot API download limit for getFile; the bot must reject bigger files by size.
DOWNLOAD_LIMIT = 20 * 1024 * 1024


class Signal:
    """Wakes every current waiter; later waiters wait for the next notify."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "document" | "photo"
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def as_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                                    "file_size": self.size}
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def as_photo(self) -> list[dict[str, Any]]:
        width, height = image_size(self.data)
        return [{"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                 "file_size": self.size, "width": width, "height": height}]

    def as_file(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": self.size, "file_path": self.file_path}


@dataclass
class ChatMessage:
    direction: str  # "bot" | "user"
    message: dict[str, Any]
    reply_markup: dict[str, Any] | None = None  # as sent, including reply keyboards Telegram omits
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "message": self.message,
                "reply_markup": self.reply_markup, "deleted": self.deleted}


def clock_message_id() -> int:
    """Where a chat's message ids start in a stand-in that a bot with lasting data talks to across restarts:
    Telegram never reuses a message id in a chat and the bot relies on them growing, but a restarted
    stand-in has forgotten its chats, so it counts on from the clock (quarter seconds since late 2023,
    within 32 bits for years) instead of from 1."""
    return int((time.time() - 1_700_000_000) * 4)


class Chat:
    """A private chat between one person and the bot: one message_id sequence, one event log."""

    def __init__(self, user: dict[str, Any], first_message_id: int = 1) -> None:
        self.id: int = user["id"]
        self.user = user
        self.next_message_id = first_message_id
        self.messages: dict[int, ChatMessage] = {}
        self.events: list[dict[str, Any]] = []
        self.reply_keyboard: dict[str, Any] | None = None  # what the person's client shows now
        self.changed = Signal()

    @property
    def info(self) -> dict[str, Any]:
        return private_chat(self.user)

    @property
    def seq(self) -> int:
        return len(self.events)

    def add_message(self, direction: str, content: dict[str, Any], sender: dict[str, Any],
                    reply_markup: dict[str, Any] | None = None) -> dict[str, Any]:
        message_id = self.next_message_id
        self.next_message_id += 1
        message = {"message_id": message_id, "from": sender, "chat": self.info, "date": now(), **content}
        if reply_markup and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup  # only inline keyboards belong to a Message
        self.messages[message_id] = ChatMessage(direction, message, reply_markup)
        if direction == "bot" and reply_markup:
            if "keyboard" in reply_markup:
                self.reply_keyboard = reply_markup
            elif reply_markup.get("remove_keyboard"):
                self.reply_keyboard = None
        elif direction == "user" and self.reply_keyboard and self.reply_keyboard.get("one_time_keyboard"):
            self.reply_keyboard = None
        self.record("message", direction=direction, message=message, reply_markup=reply_markup)
        return message

    def find(self, message_id: int | None, missing: str) -> ChatMessage:
        entry = self.messages.get(message_id) if message_id is not None else None
        if entry is None or entry.deleted:
            raise bad_request(missing)
        return entry

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"seq": self.seq + 1, "kind": kind, "at": time.time(), **fields}
        self.events.append(event)
        self.changed.notify()
        return event

    def events_after(self, after: int, kinds: set[str] | None, direction: str | None) -> list[dict[str, Any]]:
        return [e for e in self.events[max(after, 0):]
                if (not kinds or e["kind"] in kinds) and (not direction or e.get("direction") == direction)]

    def snapshot(self) -> dict[str, Any]:
        return {"chat": self.info, "user": self.user, "seq": self.seq, "reply_keyboard": self.reply_keyboard,
                "messages": [m.as_json() for m in self.messages.values()]}


@dataclass
class CallbackRecord:
    chat_id: int
    answered: bool = False


class SandboxBot:
    def __init__(self, token: str, username: str | None = None, first_name: str | None = None,
                 *, resumable: bool = False) -> None:
        self.token = token
        self.resumable = resumable
        self.id = int(token.split(":", 1)[0])
        self.user = bot_user(self.id, username or "innoeng_sandbox_bot", first_name or "创新工程微专业(沙盒)")
        self.faults = FaultPlan()
        self.reset()

    def reset(self) -> None:
        self.chats: dict[int, Chat] = {}
        self.pending: list[dict[str, Any]] = []  # unconfirmed, ascending update_id
        self.redelivery: list[dict[str, Any]] = []  # already seen updates to hand out once more
        self.history: dict[int, dict[str, Any]] = {}
        # Counting on from the clock: a restarted stand-in never hands out an id it used before.
        self.last_update_id = time.time_ns() // 1_000_000
        self.updates_arrived = Signal()
        self.poll_ticket = 0  # a newer getUpdates terminates an older one, as on Telegram
        self.allowed_updates: list[str] | None = None
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.webhook: dict[str, Any] | None = None
        self.faults.clear()

    # chats

    def chat_with(self, user: dict[str, Any]) -> Chat:
        chat = self.chats.get(user["id"])
        if chat is None:
            chat = self.chats[user["id"]] = Chat(user, clock_message_id() if self.resumable else 1)
        else:
            chat.user = {**chat.user, **user}
        return chat

    def chat(self, chat_id: Any) -> Chat:
        try:
            chat = self.chats.get(int(chat_id))
        except (TypeError, ValueError):
            chat = None
        if chat is None and self.resumable and isinstance(chat_id, (int, str)) and str(chat_id).isdigit() \
                and int(chat_id) in SAMPLE_USER_IDS:
            chat = self.chat_with(person(int(chat_id)))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    # updates

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.last_update_id += 1
        update = {"update_id": self.last_update_id, kind: payload}
        self.history[update["update_id"]] = update
        self.pending.append(update)
        self.updates_arrived.notify()
        return update

    def redeliver(self, update_id: int) -> dict[str, Any]:
        update = self.history.get(update_id)
        if update is None:
            raise KeyError(update_id)
        # Handed out regardless of the bot's offset: this is what a crash before confirming looks like.
        self.redelivery.append(copy.deepcopy(update))
        self.updates_arrived.notify()
        return update

    def confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        else:
            self.pending = self.pending[offset:]

    def take_deliverable(self, limit: int) -> list[dict[str, Any]]:
        if self.allowed_updates:
            allowed = set(self.allowed_updates)
            self.pending = [u for u in self.pending if _update_kind(u) in allowed]
        again, self.redelivery = self.redelivery[:limit], self.redelivery[limit:]
        return again + self.pending[: limit - len(again)]

    # files

    def store_file(self, kind: str, data: bytes, file_name: str | None, mime_type: str | None) -> StoredFile:
        file_id, unique_id = new_file_ids(kind)
        number = len(self.files) + 1
        if kind == "photo":
            path = f"photos/file_{number}.jpg"
        else:
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1][:10]
            path = f"documents/file_{number}{suffix}"
        if kind == "document" and (not mime_type or mime_type == "application/octet-stream"):
            mime_type = mimetypes.guess_type(file_name or "")[0] or mime_type
        stored = StoredFile(file_id, unique_id, kind, data, path, file_name, mime_type)
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def file(self, file_id: str | None) -> StoredFile:
        stored = self.files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return stored

    def file_for_download(self, file_id: str) -> StoredFile:
        stored = self.file(file_id)
        if stored.size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored

    def callback(self, callback_query_id: str | None) -> CallbackRecord:
        record = self.callbacks.get(callback_query_id or "")
        if record is None or record.answered:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        return record


def _update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class Sandbox:
    """All bots the stand-in serves, by token."""

    def __init__(self, tokens: tuple[str, ...] | list[str] = (DEFAULT_TOKEN,), *, resumable: bool = False) -> None:
        self.resumable = resumable
        self.bots: dict[str, SandboxBot] = {}
        for token in tokens:
            self.add_bot(token)

    def add_bot(self, token: str, username: str | None = None, first_name: str | None = None) -> SandboxBot:
        left, sep, right = token.partition(":")
        if not (left.isdigit() and sep and right) or any(c.isspace() for c in token):
            raise ValueError("a bot token looks like 123456:secret")
        bot = self.bots.get(token)
        if bot is None:
            bot = self.bots[token] = SandboxBot(token, username, first_name, resumable=self.resumable)
        return bot

    def bot(self, token: str | None) -> SandboxBot:
        """The bot for a token, or the first one when none is named (the common one-bot case)."""
        if token:
            if token not in self.bots:
                raise KeyError(token)
            return self.bots[token]
        if not self.bots:
            raise KeyError("no bot registered")
        return next(iter(self.bots.values()))

    def reset(self) -> None:
        for bot in self.bots.values():
            bot.reset()


