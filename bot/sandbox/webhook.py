"""Webhook delivery: once setWebhook names a URL, pending updates are POSTed there, one chat at a time.

Like Telegram: the secret token goes in X-Telegram-Bot-Api-Secret-Token, a non-2xx
answer leaves the update pending (retried), and a JSON answer carrying a "method"
is executed as a Bot API call (aiogram's reply-in-webhook).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from .errors import ApiError
from .params import Params
from .shapes import now
from .world import Sandbox, SandboxBot

__all__ = ["start_webhook", "stop_webhooks"]

log = logging.getLogger(__name__)
# One delivery task per bot object; several stand-ins may run in one process (tests).
_tasks: dict[int, asyncio.Task[None]] = {}

RETRY_SECONDS = 1.0


def start_webhook(bot: SandboxBot) -> None:
    task = _tasks.get(id(bot))
    if task is None or task.done():
        _tasks[id(bot)] = asyncio.get_running_loop().create_task(_deliver(bot))


async def stop_webhooks(sandbox: Sandbox) -> None:
    tasks = [task for bot in sandbox.bots.values() if (task := _tasks.pop(id(bot), None))]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# Telegram's default for setWebhook's max_connections.
MAX_CONNECTIONS = 40


def _chat_of(update: dict[str, Any]) -> Any:
    """The chat an update belongs to: Telegram sends one chat's updates one at a time."""
    body = next((value for key, value in update.items() if key != "update_id"), None)
    if isinstance(body, dict):
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if chat:
            return chat.get("id")
        sender = body.get("from")
        if sender:
            return sender.get("id")
    return ("update", update["update_id"])


async def _deliver(bot: SandboxBot) -> None:
    """Like Telegram: different chats at once (up to max_connections), one chat's updates one at a time,
    each after the previous one was answered 2xx; a failed one blocks its chat until it succeeds."""
    busy: set[Any] = set()
    deliveries: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        try:
            while bot.webhook:
                webhook = bot.webhook
                limit = int(webhook.get("max_connections") or MAX_CONNECTIONS)

                def send(update: dict[str, Any], chat: Any, redelivered: bool) -> None:
                    busy.add(chat)  # freed by _post before it wakes this loop
                    task = asyncio.create_task(_post(bot, session, webhook, update, redelivered, chat, busy))
                    deliveries.add(task)
                    task.add_done_callback(deliveries.discard)

                bot.take_deliverable(0)  # drops pending updates of kinds the bot did not ask for
                again, bot.redelivery = bot.redelivery, []
                for update in again:
                    chat = _chat_of(update)
                    if len(busy) >= limit or chat in busy:
                        bot.redelivery.append(update)
                    else:
                        send(update, chat, True)
                for update in bot.pending:  # ascending update_id: a chat's earliest first
                    if len(busy) >= limit:
                        break
                    chat = _chat_of(update)
                    if chat not in busy:
                        send(update, chat, False)
                await bot.updates_arrived.wait(5)
        finally:
            for task in deliveries:
                task.cancel()
            await asyncio.gather(*deliveries, return_exceptions=True)


async def _post(bot: SandboxBot, session: aiohttp.ClientSession, webhook: dict[str, Any], update: dict[str, Any],
                redelivered: bool, chat: Any, busy: set[Any]) -> None:
    from .botapi import call_method  # botapi imports this module lazily too

    headers = {}
    if webhook.get("secret_token"):
        headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
    try:
        try:
            async with session.post(webhook["url"], json=update, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=60)) as response:
                body: Any = None
                if response.content_type == "application/json":
                    body = await response.json()
                ok = 200 <= response.status < 300
                error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            ok, body, error = False, None, f"Connection failed: {type(exc).__name__}"
        if not ok:
            webhook.update(last_error_date=now(), last_error_message=error)
            if redelivered:  # a redelivered one: keep it for the next try
                bot.redelivery.insert(0, update)
            await asyncio.sleep(RETRY_SECONDS)  # the chat stays blocked meanwhile, as on Telegram
            return
        bot.pending = [u for u in bot.pending if u["update_id"] != update["update_id"]]
        if isinstance(body, dict) and body.get("method"):
            try:
                await call_method(bot, str(body["method"]), Params(body, {}))
            except ApiError as exc:
                log.warning("webhook reply %s failed: %s", body["method"], exc.description)
    finally:
        busy.discard(chat)
        bot.updates_arrived.notify()
