"""SandboxClient: the control API for tests, as a person using the bot would see it.

    async with SandboxClient(base_url) as people:
        await people.send_text(42, "/start")
        welcome = await people.next_message(42)
        await people.press_button(42, welcome, "同意")

Waiting is by cursor: every action moves the chat's cursor to "now", and
next_message() returns the first bot message after it (then moves past it).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Iterable

import aiohttp

__all__ = ["SandboxClient", "BotMessage", "SandboxError"]


class SandboxError(RuntimeError):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


@dataclass
class BotMessage:
    """A message in a chat as the person sees it now (or at the event that produced it)."""

    chat_id: int
    message_id: int
    raw: dict[str, Any]
    reply_markup: dict[str, Any] | None = None  # as sent, reply keyboards included
    event: str = "message"  # "message" or "edit"
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.raw.get("text") or self.raw.get("caption") or ""

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard") or []

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        return [button["text"] for row in self.inline_keyboard for button in row]

    @property
    def reply_buttons(self) -> list[dict[str, Any]]:
        return [button for row in (self.reply_markup or {}).get("keyboard") or [] for button in row]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    def callback_data(self, button_text: str) -> str:
        """callback_data of the button whose text equals, or else contains, button_text."""
        buttons = [b for row in self.inline_keyboard for b in row if "callback_data" in b]
        for match in (lambda b: b["text"] == button_text, lambda b: button_text in b["text"]):
            for button in buttons:
                if match(button):
                    return button["callback_data"]
        raise LookupError(f"no inline button {button_text!r}; buttons: {self.buttons}")

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text


def _as_message(chat_id: int, event: dict[str, Any]) -> BotMessage:
    message = event["message"]
    return BotMessage(chat_id, message["message_id"], message, event.get("reply_markup"), event["kind"],
                      event.get("seq", 0))


class SandboxClient:
    def __init__(self, base_url: str, token: str | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token  # which bot; None: the stand-in's first bot
        self._session = session
        self._own_session = session is None
        self._cursor: dict[int, int] = {}

    async def __aenter__(self) -> "SandboxClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def _with_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.token and "token" not in payload:
            payload = {**payload, "token": self.token}
        return {k: v for k, v in payload.items() if v is not None}

    async def _call(self, verb: str, path: str, *, json: dict[str, Any] | None = None,
                    params: dict[str, Any] | None = None, data: Any = None,
                    timeout: float = 30) -> dict[str, Any]:
        query = self._with_token({k: str(v) for k, v in (params or {}).items() if v is not None})
        async with self._http().request(verb, self.base_url + path, json=json, params=query, data=data,
                                        timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await response.json()
        if not body.get("ok"):
            raise SandboxError(body.get("error_code", response.status), body.get("description", ""))
        return body

    def _moved(self, result: dict[str, Any]) -> dict[str, Any]:
        chat_id = result["chat_id"]
        self._cursor[chat_id] = max(self._cursor.get(chat_id, 0), result["seq"])
        return result

    # acting as a person

    async def send_text(self, user_id: int, text: str, *, reply_to_message_id: int | None = None,
                        **user: Any) -> dict[str, Any]:
        """Returns {"update", "update_id", "message", "chat_id", "seq"}; user: first_name, username, ..."""
        payload = {"user_id": user_id, "text": text, "reply_to_message_id": reply_to_message_id, **user}
        return self._moved(await self._call("POST", "/control/messages", json=self._with_token(payload)))

    async def press_button(self, user_id: int, message: BotMessage | int, button_text: str | None = None,
                           *, data: str | None = None) -> str:
        """Taps an inline button (by its text, or raw callback data); returns the callback_query id."""
        message_id = message.message_id if isinstance(message, BotMessage) else message
        payload = {"user_id": user_id, "message_id": message_id, "button_text": button_text, "data": data}
        result = self._moved(await self._call("POST", "/control/callbacks", json=self._with_token(payload)))
        return result["callback_query_id"]

    async def send_document(self, user_id: int, data: bytes, filename: str,
                            mime_type: str | None = None, caption: str | None = None) -> dict[str, Any]:
        return await self._send_file("/control/documents", user_id, data, filename, mime_type, caption)

    async def send_photo(self, user_id: int, data: bytes, filename: str = "photo.jpg",
                         caption: str | None = None) -> dict[str, Any]:
        return await self._send_file("/control/photos", user_id, data, filename, "image/jpeg", caption)

    async def _send_file(self, path: str, user_id: int, data: bytes, filename: str, mime_type: str | None,
                         caption: str | None) -> dict[str, Any]:
        form = aiohttp.FormData(quote_fields=False)  # keep non-ASCII file names as they are
        for key, value in self._with_token({"user_id": str(user_id), "caption": caption}).items():
            form.add_field(key, value)
        form.add_field("file", data, filename=filename, content_type=mime_type or "application/octet-stream")
        return self._moved(await self._call("POST", path, data=form, timeout=120))

    async def share_contact(self, user_id: int, phone_number: str, *, own: bool = True,
                            first_name: str | None = None, last_name: str | None = None) -> dict[str, Any]:
        """own=True is a request_contact button press: the contact is the sender's own."""
        payload = {"user_id": user_id, "phone_number": phone_number, "own": own,
                   "contact_first_name": first_name, "contact_last_name": last_name}
        return self._moved(await self._call("POST", "/control/contacts", json=self._with_token(payload)))

    async def press_reply_button(self, user_id: int, button_text: str, *,
                                 phone_number: str | None = None) -> dict[str, Any]:
        """Taps a button of the reply keyboard the person sees now (a request_contact one shares the phone)."""
        chat = await self.chat(user_id)
        keyboard = chat.get("reply_keyboard") or {}
        for button in (b for row in keyboard.get("keyboard") or [] for b in row):
            if button["text"] == button_text:
                if button.get("request_contact"):
                    if not phone_number:
                        raise ValueError("a request_contact button needs phone_number")
                    return await self.share_contact(user_id, phone_number)
                return await self.send_text(user_id, button_text)
        raise LookupError(f"no reply button {button_text!r} shown to user {user_id}")

    async def redeliver(self, update_id: int) -> dict[str, Any]:
        """Hands an already delivered update (same update_id) to the bot once more."""
        return (await self._call("POST", "/control/redeliver", json=self._with_token({"update_id": update_id})))["update"]

    # reading what the bot did

    async def chat(self, chat_id: int) -> dict[str, Any]:
        """{"chat", "user", "seq", "reply_keyboard", "messages": [{"direction", "message", "reply_markup", "deleted"}]}"""
        return await self._call("GET", f"/control/chats/{chat_id}")

    async def bot_messages(self, chat_id: int) -> list[BotMessage]:
        """Every message the bot has in the chat now (edits applied, deleted ones left out)."""
        snapshot = await self.chat(chat_id)
        return [BotMessage(chat_id, m["message"]["message_id"], m["message"], m["reply_markup"])
                for m in snapshot["messages"] if m["direction"] == "bot" and not m["deleted"]]

    async def events(self, chat_id: int, *, after: int = 0, timeout: float = 0,
                     kinds: Iterable[str] | None = None, direction: str | None = None) -> list[dict[str, Any]]:
        """Raw chat events (message, edit, delete, callback_query, callback_answer, chat_action) after seq."""
        params = {"after": after, "timeout": timeout, "kinds": ",".join(kinds) if kinds else None,
                  "direction": direction}
        return (await self._call("GET", f"/control/chats/{chat_id}/events", params=params,
                                 timeout=timeout + 30))["events"]

    async def next_event(self, chat_id: int, kinds: Iterable[str], *, timeout: float = 5.0,
                         after: int | None = None) -> dict[str, Any]:
        start = self._cursor.get(chat_id, 0) if after is None else after
        events = await self.events(chat_id, after=start, timeout=timeout, kinds=kinds, direction="bot")
        if not events:
            raise TimeoutError(f"the bot did nothing of {sorted(kinds)} in chat {chat_id} within {timeout}s")
        self._cursor[chat_id] = max(self._cursor.get(chat_id, 0), events[0]["seq"])
        return events[0]

    async def next_message(self, chat_id: int, *, timeout: float = 5.0, include_edits: bool = False,
                           after: int | None = None) -> BotMessage:
        """The first bot message after the cursor (or `after`), waiting up to timeout; TimeoutError if none."""
        kinds = ("message", "edit") if include_edits else ("message",)
        return _as_message(chat_id, await self.next_event(chat_id, kinds, timeout=timeout, after=after))

    async def next_edit(self, chat_id: int, *, timeout: float = 5.0) -> BotMessage:
        return _as_message(chat_id, await self.next_event(chat_id, ("edit",), timeout=timeout))

    async def collect_messages(self, chat_id: int, count: int, *, after: int | None = None,
                               timeout: float = 5.0) -> list[BotMessage]:
        """`count` bot messages after `after` (default: the cursor), waiting for all of them."""
        messages = []
        for _ in range(count):
            message = await self.next_message(chat_id, timeout=timeout, after=after)
            messages.append(message)
            after = message.seq
        return messages

    async def callback_answer(self, chat_id: int, callback_query_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for this query: {"text", "show_alert", "url", ...}."""
        start = 0
        loop_timeout = timeout
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            events = await self.events(chat_id, after=start, timeout=loop_timeout, kinds=("callback_answer",))
            for event in events:
                if event["callback_query_id"] == callback_query_id:
                    return event
            if events:
                start = events[-1]["seq"]
            loop_timeout = deadline - asyncio.get_running_loop().time()
            if loop_timeout <= 0:
                raise TimeoutError(f"callback query {callback_query_id} was not answered within {timeout}s")

    async def download(self, file_id: str) -> bytes:
        """Bytes of any file in the stand-in (documents the bot sent, files people uploaded)."""
        query = self._with_token({})
        async with self._http().get(f"{self.base_url}/control/files/{file_id}", params=query) as response:
            if response.status != 200:
                body = await response.json()
                raise SandboxError(response.status, body.get("description", ""))
            return await response.read()

    async def pending_updates(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/control/updates"))["pending"]

    async def commands(self) -> list[dict[str, Any]]:
        """[{"scope", "language_code", "commands": [{"command", "description"}]}] as set by setMyCommands."""
        return (await self._call("GET", "/control/commands"))["commands"]

    # setting up

    async def inject_fault(self, method: str = "*", *, chat_id: int | None = None, kind: str | None = None,
                           error_code: int | None = None, description: str | None = None,
                           retry_after: int | None = None, delay_seconds: float | None = None,
                           times: int | None = 1) -> dict[str, Any]:
        """Make `method` fail for a chat: kind is flood (429), blocked (403), deactivated (403),
        chat_not_found (400), server_error (500), bad_gateway (502), or give error_code/description.
        times=None: until clear_faults()."""
        payload = {"method": method, "chat_id": chat_id, "kind": kind, "error_code": error_code,
                   "description": description, "retry_after": retry_after, "delay_seconds": delay_seconds,
                   "times": times if times is not None else 0}
        return (await self._call("POST", "/control/faults", json=self._with_token(payload)))["fault"]

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/control/faults")

    async def add_bot(self, token: str, username: str | None = None, first_name: str | None = None) -> dict[str, Any]:
        payload = {"token": token, "username": username, "first_name": first_name}
        return (await self._call("POST", "/control/bots", json={k: v for k, v in payload.items() if v}))["bot"]

    async def reset(self) -> None:
        """Forget chats, updates, files, commands and faults (bots stay)."""
        await self._call("POST", "/control/reset", json={})
        self._cursor.clear()
