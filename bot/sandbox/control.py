"""The control API (JSON over HTTP under /control): act as people, read what the bot sent, inject faults.

Every call takes an optional `token` (body or query) naming the bot; without it the
first configured bot is used. User actions answer with the Update they produced
and `seq`, the chat's event number at that moment, so a test can wait for what
the bot does after it.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
from functools import partial
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.web_request import FileField

from . import people
from .botapi import SANDBOX_KEY
from .errors import ApiError, error_body
from .faults import Fault
from .shapes import person
from .world import SandboxBot

__all__ = ["add_control_routes"]

MAX_WAIT = 120.0
_dumps = partial(json.dumps, ensure_ascii=False)


def _ok(payload: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"ok": True, **(payload or {})}, dumps=_dumps)


def _fail(status: int, description: str) -> web.Response:
    return web.json_response(error_body(status, description), status=status, dumps=_dumps)


async def _read(request: web.Request) -> tuple[dict[str, Any], dict[str, FileField]]:
    body: dict[str, Any] = dict(request.query)
    files: dict[str, FileField] = {}
    if request.method in ("POST", "PUT") and request.can_read_body:
        if request.content_type == "application/json":
            data = await request.json()
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: JSON object expected")
            body.update(data)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, FileField):
                    files[key] = value
                else:
                    body[key] = value
    return body, files


def _bot(request: web.Request, body: dict[str, Any]) -> SandboxBot:
    try:
        return request.app[SANDBOX_KEY].bot(body.get("token"))
    except KeyError:
        raise ApiError(404, "Not Found: no such bot token in the sandbox") from None


def _user(bot: SandboxBot, body: dict[str, Any]) -> dict[str, Any]:
    try:
        user_id = int(body["user_id"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "Bad Request: user_id (a positive integer) is required") from None
    if user_id <= 0:
        raise ApiError(400, "Bad Request: user_id must be positive")
    existing = bot.chats.get(user_id)
    base = existing.user if existing else person(user_id)
    overrides = {k: body[k] for k in ("first_name", "last_name", "username", "language_code") if body.get(k)}
    return {**base, **overrides}


def _action_result(update: dict[str, Any], chat: Any) -> dict[str, Any]:
    result = {"update": update, "update_id": update["update_id"], "chat_id": chat.id, "seq": chat.seq}
    if "message" in update:
        result["message"] = update["message"]
    if "callback_query" in update:
        result["callback_query_id"] = update["callback_query"]["id"]
    return result


def _guarded(handler):  # type: ignore[no-untyped-def]
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as error:
            return web.json_response(error.body(), status=error.error_code, dumps=_dumps)
        except ValueError as error:
            return _fail(400, f"Bad Request: {error}")
    return wrapped


# people


async def send_text(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    bot = _bot(request, body)
    reply_to = body.get("reply_to_message_id")
    update, chat = people.send_text(bot, _user(bot, body), str(body.get("text") or ""),
                                    int(reply_to) if reply_to else None)
    return _ok(_action_result(update, chat))


async def press_button(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    bot = _bot(request, body)
    if not body.get("message_id"):
        raise ApiError(400, "Bad Request: message_id is required")
    update, chat = people.press_button(bot, _user(bot, body), int(body["message_id"]), body.get("data"),
                                       body.get("button_text"))
    return _ok(_action_result(update, chat))


def _upload(body: dict[str, Any], files: dict[str, FileField]) -> tuple[bytes, str | None, str | None]:
    if "file" in files:
        part = files["file"]
        data = part.file.read()
        mime = body.get("mime_type") or part.content_type
        return data, body.get("filename") or part.filename, mime
    try:
        data = base64.b64decode(body.get("data_base64") or "", validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "Bad Request: data_base64 is not base64") from None
    return data, body.get("filename"), body.get("mime_type")


async def _send_file(request: web.Request, kind: str) -> web.Response:
    body, files = await _read(request)
    bot = _bot(request, body)
    data, filename, mime = _upload(body, files)
    if not data:
        raise ApiError(400, "Bad Request: the file is empty")
    update, chat = people.send_file(bot, _user(bot, body), kind, data, filename, mime, body.get("caption"))
    return _ok(_action_result(update, chat))


async def send_document(request: web.Request) -> web.Response:
    return await _send_file(request, "document")


async def send_photo(request: web.Request) -> web.Response:
    return await _send_file(request, "photo")


async def share_contact(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    bot = _bot(request, body)
    own = body.get("own", True)
    own = own if isinstance(own, bool) else str(own).lower() not in ("false", "0")
    update, chat = people.share_contact(bot, _user(bot, body), str(body.get("phone_number") or ""),
                                        body.get("contact_first_name"), body.get("contact_last_name"), own)
    return _ok(_action_result(update, chat))


async def redeliver(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    bot = _bot(request, body)
    try:
        update = bot.redeliver(int(body["update_id"]))
    except (KeyError, TypeError, ValueError):
        raise ApiError(404, "Not Found: no update with this update_id was ever enqueued") from None
    return _ok({"update": update})


# reading


async def list_chats(request: web.Request) -> web.Response:
    bot = _bot(request, dict(request.query))
    chats = [{"id": c.id, "user": c.user, "seq": c.seq, "message_count": len(c.messages)}
             for c in bot.chats.values()]
    return _ok({"chats": chats})


def _chat(request: web.Request, bot: SandboxBot) -> Any:
    chat = bot.chats.get(int(request.match_info["chat_id"]))
    if chat is None:
        raise ApiError(404, "Not Found: this user has not written to the bot yet")
    return chat


async def show_chat(request: web.Request) -> web.Response:
    bot = _bot(request, dict(request.query))
    return _ok(_chat(request, bot).snapshot())


async def chat_events(request: web.Request) -> web.Response:
    """Events after `after`, waiting up to `timeout` seconds for at least one that matches."""
    query = dict(request.query)
    bot = _bot(request, query)
    chat_id = int(request.match_info["chat_id"])
    after = int(query.get("after") or 0)
    kinds = set(filter(None, (query.get("kinds") or "").split(","))) or None
    direction = query.get("direction") or None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(float(query.get("timeout") or 0), MAX_WAIT)
    while True:
        chat = bot.chats.get(chat_id)
        events = chat.events_after(after, kinds, direction) if chat else []
        remaining = deadline - loop.time()
        if events or remaining <= 0:
            return _ok({"events": events, "seq": chat.seq if chat else 0})
        if chat is None:
            await asyncio.sleep(min(0.05, remaining))
        else:
            await chat.changed.wait(remaining)


async def download_file(request: web.Request) -> web.Response:
    bot = _bot(request, dict(request.query))
    stored = bot.files.get(request.match_info["file_id"])
    if stored is None:
        raise ApiError(404, "Not Found: no such file_id")
    response = web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
    if stored.file_name:
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(stored.file_name, safe='')}"
    return response


async def show_updates(request: web.Request) -> web.Response:
    bot = _bot(request, dict(request.query))
    return _ok({"pending": bot.pending, "redelivery": bot.redelivery, "last_update_id": bot.last_update_id})


async def show_commands(request: web.Request) -> web.Response:
    bot = _bot(request, dict(request.query))
    scoped = []
    for key, commands in bot.commands.items():
        scope, _, language = key.rpartition("|")
        scoped.append({"scope": json.loads(scope), "language_code": language, "commands": commands})
    return _ok({"commands": scoped})


# setup


async def add_fault(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    fault = _bot(request, body).faults.add(Fault.from_request(body))
    return _ok({"fault": fault.as_json()})


async def list_faults(request: web.Request) -> web.Response:
    return _ok({"faults": _bot(request, dict(request.query)).faults.as_json()})


async def clear_faults(request: web.Request) -> web.Response:
    _bot(request, dict(request.query)).faults.clear()
    return _ok()


async def add_bot(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    bot = request.app[SANDBOX_KEY].add_bot(str(body.get("token") or ""), body.get("username"),
                                           body.get("first_name"))
    return _ok({"bot": bot.user})


async def list_bots(request: web.Request) -> web.Response:
    return _ok({"bots": [b.user for b in request.app[SANDBOX_KEY].bots.values()]})


async def reset(request: web.Request) -> web.Response:
    body, _ = await _read(request)
    sandbox = request.app[SANDBOX_KEY]
    if body.get("token"):
        _bot(request, body).reset()
    else:
        sandbox.reset()
    return _ok()


def add_control_routes(app: web.Application) -> None:
    routes = [
        ("POST", "/control/messages", send_text),
        ("POST", "/control/callbacks", press_button),
        ("POST", "/control/documents", send_document),
        ("POST", "/control/photos", send_photo),
        ("POST", "/control/contacts", share_contact),
        ("POST", "/control/redeliver", redeliver),
        ("GET", "/control/chats", list_chats),
        ("GET", "/control/chats/{chat_id:-?\\d+}", show_chat),
        ("GET", "/control/chats/{chat_id:-?\\d+}/events", chat_events),
        ("GET", "/control/files/{file_id}", download_file),
        ("GET", "/control/updates", show_updates),
        ("GET", "/control/commands", show_commands),
        ("POST", "/control/faults", add_fault),
        ("GET", "/control/faults", list_faults),
        ("DELETE", "/control/faults", clear_faults),
        ("POST", "/control/bots", add_bot),
        ("GET", "/control/bots", list_bots),
        ("POST", "/control/reset", reset),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, _guarded(handler))
