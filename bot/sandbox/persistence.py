"""What a resumable stand-in keeps across its restarts: each bot's private chats (the person, the messages,
the event log the chat page replays, the reply keyboard shown), in one JSON file in the data folder.

`innoeng run` restarts the stand-in with the bot's database intact: without this a restarted stand-in
forgot every chat, so a notification failed "chat not found" until the person wrote again. Files (their
bytes), pending updates and open callback queries are not kept: the bot fetches a person's file when it
arrives, and a restart ends the polls and callbacks in flight on Telegram too.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .world import Chat, ChatMessage, Sandbox, SandboxBot

__all__ = ["default_state_file", "load", "save", "Keeper"]

log = logging.getLogger("innoeng.sandbox")

VERSION = 1
# How often a change is written: a stand-in killed outright loses at most this much.
SAVE_EVERY_S = 1.0


def default_state_file(data_dir: Path, port: int) -> Path:
    """In the service's data folder (DATA_DIR, default ./data), one file per stand-in port."""
    return Path(data_dir) / f"sandbox-chats-{port}.json"


def _chat_state(chat: Chat) -> dict[str, Any]:
    return {
        "user": chat.user,
        "next_message_id": chat.next_message_id,
        "reply_keyboard": chat.reply_keyboard,
        "messages": [m.as_json() for m in chat.messages.values()],
        "events": chat.events,
    }


def _restore_chat(state: dict[str, Any]) -> Chat:
    chat = Chat(state["user"], int(state["next_message_id"]))
    chat.reply_keyboard = state.get("reply_keyboard")
    for item in state.get("messages", []):
        message = item["message"]
        chat.messages[int(message["message_id"])] = ChatMessage(
            item["direction"], message, item.get("reply_markup"), bool(item.get("deleted")))
    chat.events = list(state.get("events", []))
    return chat


def snapshot(sandbox: Sandbox) -> dict[str, Any]:
    return {"version": VERSION,
            "bots": {token: {"chats": [_chat_state(c) for c in bot.chats.values()]}
                     for token, bot in sandbox.bots.items()}}


def save(sandbox: Sandbox, path: Path) -> None:
    """Written whole to a temporary file, then renamed over the old one: a crash leaves one or the other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(snapshot(sandbox), ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(temporary, path)


def load(sandbox: Sandbox, path: Path) -> int:
    """Restores the chats of the bots this stand-in serves; returns how many. A missing file is a first start;
    an unreadable one is set aside (…json.broken) and the stand-in starts empty rather than not at all."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        restored = 0
        for token, kept in state.get("bots", {}).items():
            bot = sandbox.bots.get(token)
            if bot is None:
                continue
            for chat_state in kept.get("chats", []):
                chat = _restore_chat(chat_state)
                bot.chats[chat.id] = chat
                restored += 1
        return restored
    except FileNotFoundError:
        return 0
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("stand-in chats in %s unreadable (%r): starting without them", path, error)
        for bot in sandbox.bots.values():
            bot.chats.clear()
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".broken"))
        return 0


def _version(bot: SandboxBot) -> tuple[int, int]:
    # Every change to a chat is an event (a message, an edit, a deletion, a callback), so this moves with them.
    return len(bot.chats), sum(chat.seq for chat in bot.chats.values())


class Keeper:
    """Writes the sandbox's chats when they have changed, at most every SAVE_EVERY_S, and once more at stop."""

    def __init__(self, sandbox: Sandbox, path: Path) -> None:
        self.sandbox = sandbox
        self.path = path
        self._saved = self._versions()
        self._task: asyncio.Task | None = None

    def _versions(self) -> dict[str, tuple[int, int]]:
        return {token: _version(bot) for token, bot in self.sandbox.bots.items()}

    def save_if_changed(self) -> None:
        versions = self._versions()
        if versions != self._saved:
            save(self.sandbox, self.path)
            self._saved = versions

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            try:
                self.save_if_changed()
            except OSError as error:  # a full disk must not stop the stand-in; the next change tries again
                log.warning("stand-in chats not saved to %s: %r", self.path, error)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandbox-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            self.save_if_changed()
        except OSError as error:
            log.warning("stand-in chats not saved to %s: %r", self.path, error)
