"""The Bot API methods an aiogram 3 bot uses, at `POST {base}/bot{token}/{method}` and `/file/bot{token}/{path}`."""
from __future__ import annotations

import asyncio
import json
import re
from functools import partial
from typing import Any, Awaitable, Callable

from aiohttp import web

from .errors import ApiError, bad_request, error_body
from .formatting import apply_parse_mode
from .keyboards import check_reply_markup
from .params import Params, UploadedFile, read_params
from .shapes import now
from .world import Chat, Sandbox, SandboxBot, StoredFile

__all__ = ["add_bot_api_routes", "call_method", "SANDBOX_KEY"]

SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)

Handler = Callable[[SandboxBot, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}

MAX_TEXT = 4096
MAX_CAPTION = 1024
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may upload
LONG_POLL_CAP = 50  # seconds; Telegram caps the timeout too

dumps = partial(json.dumps, ensure_ascii=False)


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler
    return register


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


async def call_method(bot: SandboxBot, name: str, params: Params) -> Any:
    """Run one method for a bot, faults included; raises ApiError like Telegram would answer."""
    handler = METHODS.get(name.lower())
    if handler is None:
        raise ApiError(404, "Not Found: method not found")
    fault = bot.faults.take(name.lower(), params.raw("chat_id"))
    if fault is not None:
        if fault.delay_seconds:
            await asyncio.sleep(fault.delay_seconds)
        if fault.error_code is not None:
            raise ApiError(fault.error_code, fault.description, fault.retry_after)
    return await handler(bot, params)


async def _handle_method(request: web.Request) -> web.Response:
    bot = request.app[SANDBOX_KEY].bots.get(request.match_info["token"])
    if bot is None:
        return _json(error_body(401, "Unauthorized"), 401)
    try:
        params = await read_params(request)
        result = await call_method(bot, request.match_info["method"], params)
    except ApiError as error:
        return _json(error.body(), error.error_code)
    return _json({"ok": True, "result": result})


async def _handle_file(request: web.Request) -> web.StreamResponse:
    bot = request.app[SANDBOX_KEY].bots.get(request.match_info["token"])
    stored = bot.files_by_path.get(request.match_info["path"]) if bot else None
    if stored is None:
        return _json(error_body(404, "Not Found"), 404)
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


def add_bot_api_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", _handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", _handle_file)


# helpers


def _text_with_entities(params: Params, field: str, entities_field: str, limit: int,
                        required: bool) -> dict[str, Any]:
    source = params.str(field)
    if not source:
        if required:
            raise bad_request("message text is empty")
        return {}
    text, entities = apply_parse_mode(source, params.str("parse_mode"))
    if not entities and entities_field in params:
        entities = params.json(entities_field) or []
    if required and not text.strip():
        raise bad_request("message text is empty")
    if len(text.encode("utf-16-le")) // 2 > limit:
        raise bad_request("message is too long" if field == "text" else "message caption is too long")
    content: dict[str, Any] = {field: text}
    if entities:
        content[entities_field] = entities
    return content


def _reply_to(chat: Chat, params: Params) -> dict[str, Any]:
    reply = params.json("reply_parameters") or {}
    message_id = reply.get("message_id") or params.int("reply_to_message_id")
    if not message_id:
        return {}
    entry = chat.messages.get(int(message_id))
    if entry is None or entry.deleted:
        if reply.get("allow_sending_without_reply") or params.bool("allow_sending_without_reply"):
            return {}
        raise bad_request("message to be replied not found")
    return {"reply_to_message": entry.message}


def _send(bot: SandboxBot, params: Params, content: dict[str, Any]) -> dict[str, Any]:
    chat = bot.chat(params.raw("chat_id"))
    markup = check_reply_markup(params.json("reply_markup"))
    content = {**_reply_to(chat, params), **content}
    return chat.add_message("bot", content, sender=bot.user, reply_markup=markup)


def _input_file(bot: SandboxBot, params: Params, field: str, kind: str) -> StoredFile:
    given = params.file(field)
    if given is None:
        raise bad_request(f"there is no {field} in the request")
    if isinstance(given, UploadedFile):
        if len(given.data) > UPLOAD_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        if not given.data:
            raise bad_request("file must be non-empty")
        return bot.store_file(kind, given.data, given.filename, given.content_type)
    if re.match(r"https?://", given):
        raise bad_request("failed to get HTTP URL content")  # the stand-in does not fetch URLs
    stored = bot.files.get(given)
    if stored is None or stored.kind != kind:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


def _editable(bot: SandboxBot, params: Params) -> tuple[Chat, Any]:
    if "inline_message_id" in params:
        raise bad_request("the stand-in has no inline messages")
    chat = bot.chat(params.raw("chat_id"))
    entry = chat.find(params.int("message_id", required=True), "message to edit not found")
    if entry.direction != "bot":
        raise bad_request("message can't be edited")
    return chat, entry


def _apply_edit(chat: Chat, entry: Any, changes: dict[str, Any], drop: tuple[str, ...],
                markup: dict[str, Any] | None) -> dict[str, Any]:
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    edited = {k: v for k, v in entry.message.items() if k not in drop and k not in ("reply_markup", "edit_date")}
    edited.update(changes)
    if markup and markup.get("inline_keyboard"):
        edited["reply_markup"] = markup
    before = {k: v for k, v in entry.message.items() if k != "edit_date"}
    if before == {k: v for k, v in edited.items() if k != "edit_date"}:
        raise bad_request("message is not modified: specified new message content and reply markup are exactly "
                          "the same as a current content and reply markup of the message")
    edited["edit_date"] = now()
    entry.message = edited
    entry.reply_markup = markup
    chat.record("edit", direction="bot", message=edited, reply_markup=markup)
    return edited


# methods


@method("getMe")
async def get_me(bot: SandboxBot, params: Params) -> dict[str, Any]:
    return {**bot.user, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}


@method("getUpdates")
async def get_updates(bot: SandboxBot, params: Params) -> list[dict[str, Any]]:
    if bot.webhook:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
    limit = min(max(params.int("limit", default=100) or 100, 1), 100)
    timeout = min(max(params.int("timeout", default=0) or 0, 0), LONG_POLL_CAP)
    allowed = params.json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = list(allowed) or None
    bot.confirm(params.int("offset"))
    bot.poll_ticket += 1
    ticket = bot.poll_ticket
    bot.updates_arrived.notify()  # an older long poll still waiting is now terminated
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if ticket != bot.poll_ticket:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                "make sure that only one bot instance is running")
        batch = bot.take_deliverable(limit)
        remaining = deadline - loop.time()
        if batch or remaining <= 0:
            return batch
        await bot.updates_arrived.wait(remaining)


@method("sendMessage")
async def send_message(bot: SandboxBot, params: Params) -> dict[str, Any]:
    bot.chat(params.raw("chat_id"))  # "chat not found" before "text is empty", as Telegram orders them
    return _send(bot, params, _text_with_entities(params, "text", "entities", MAX_TEXT, required=True))


@method("sendDocument")
async def send_document(bot: SandboxBot, params: Params) -> dict[str, Any]:
    bot.chat(params.raw("chat_id"))
    stored = _input_file(bot, params, "document", "document")
    caption = _text_with_entities(params, "caption", "caption_entities", MAX_CAPTION, required=False)
    return _send(bot, params, {"document": stored.as_document(), **caption})


@method("sendPhoto")
async def send_photo(bot: SandboxBot, params: Params) -> dict[str, Any]:
    bot.chat(params.raw("chat_id"))
    stored = _input_file(bot, params, "photo", "photo")
    caption = _text_with_entities(params, "caption", "caption_entities", MAX_CAPTION, required=False)
    return _send(bot, params, {"photo": stored.as_photo(), **caption})


@method("editMessageText")
async def edit_message_text(bot: SandboxBot, params: Params) -> dict[str, Any]:
    chat, entry = _editable(bot, params)
    if "text" not in entry.message:
        raise bad_request("there is no text in the message to edit")
    content = _text_with_entities(params, "text", "entities", MAX_TEXT, required=True)
    return _apply_edit(chat, entry, content, ("text", "entities"), check_reply_markup(params.json("reply_markup")))


@method("editMessageCaption")
async def edit_message_caption(bot: SandboxBot, params: Params) -> dict[str, Any]:
    chat, entry = _editable(bot, params)
    if "text" in entry.message:
        raise bad_request("there is no caption in the message to edit")
    content = _text_with_entities(params, "caption", "caption_entities", MAX_CAPTION, required=False)
    return _apply_edit(chat, entry, content, ("caption", "caption_entities"),
                       check_reply_markup(params.json("reply_markup")))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(bot: SandboxBot, params: Params) -> dict[str, Any]:
    chat, entry = _editable(bot, params)
    return _apply_edit(chat, entry, {}, (), check_reply_markup(params.json("reply_markup")))


@method("deleteMessage")
async def delete_message(bot: SandboxBot, params: Params) -> bool:
    chat = bot.chat(params.raw("chat_id"))
    entry = chat.find(params.int("message_id", required=True), "message to delete not found")
    entry.deleted = True
    chat.record("delete", direction="bot", message_id=entry.message["message_id"])
    return True


@method("answerCallbackQuery")
async def answer_callback_query(bot: SandboxBot, params: Params) -> bool:
    query_id = params.str("callback_query_id", required=True)
    record = bot.callback(query_id)
    text = params.str("text")
    if text and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    bot.chats[record.chat_id].record("callback_answer", direction="bot", callback_query_id=query_id, text=text,
                                     show_alert=params.bool("show_alert"), url=params.str("url"))
    return True


@method("getFile")
async def get_file(bot: SandboxBot, params: Params) -> dict[str, Any]:
    return bot.file_for_download(params.str("file_id", required=True)).as_file()


@method("sendChatAction")
async def send_chat_action(bot: SandboxBot, params: Params) -> bool:
    chat = bot.chat(params.raw("chat_id"))
    chat.record("chat_action", direction="bot", action=params.str("action", required=True))
    return True


_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def _commands_key(params: Params) -> str:
    scope = params.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + (params.str("language_code") or "")


@method("setMyCommands")
async def set_my_commands(bot: SandboxBot, params: Params) -> bool:
    commands = params.json("commands")
    if not isinstance(commands, list):
        raise bad_request("commands is empty")
    for command in commands:
        if not _COMMAND.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    bot.commands[_commands_key(params)] = [{"command": c["command"], "description": c["description"]}
                                           for c in commands]
    return True


@method("getMyCommands")
async def get_my_commands(bot: SandboxBot, params: Params) -> list[dict[str, Any]]:
    return bot.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(bot: SandboxBot, params: Params) -> bool:
    bot.commands.pop(_commands_key(params), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(bot: SandboxBot, params: Params) -> bool:
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(bot: SandboxBot, params: Params) -> dict[str, Any]:
    return {"type": "commands"}


@method("setWebhook")
async def set_webhook(bot: SandboxBot, params: Params) -> bool:
    from .webhook import start_webhook  # webhook delivery is optional machinery

    url = params.str("url") or ""
    if url and not re.match(r"https?://", url):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if params.bool("drop_pending_updates"):
        bot.pending.clear()
    allowed = params.json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = list(allowed) or None
    if not url:
        bot.webhook = None
    else:
        bot.webhook = {"url": url, "secret_token": params.str("secret_token"),
                       "max_connections": params.int("max_connections")}
        start_webhook(bot)
    bot.updates_arrived.notify()
    return True


@method("deleteWebhook")
async def delete_webhook(bot: SandboxBot, params: Params) -> bool:
    if params.bool("drop_pending_updates"):
        bot.pending.clear()
    bot.webhook = None
    bot.updates_arrived.notify()
    return True


@method("getWebhookInfo")
async def get_webhook_info(bot: SandboxBot, params: Params) -> dict[str, Any]:
    info: dict[str, Any] = {"url": (bot.webhook or {}).get("url", ""), "has_custom_certificate": False,
                            "pending_update_count": len(bot.pending)}
    if bot.webhook and bot.webhook.get("last_error_message"):
        info["last_error_date"] = bot.webhook["last_error_date"]
        info["last_error_message"] = bot.webhook["last_error_message"]
    return info


@method("logOut")
async def log_out(bot: SandboxBot, params: Params) -> bool:
    return True


@method("close")
async def close(bot: SandboxBot, params: Params) -> bool:
    return True
