"""Webhook delivery: once setWebhook names a URL, pending updates are POSTed there one by one.

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


async def _deliver(bot: SandboxBot) -> None:
    from .botapi import call_method  # botapi imports this module lazily too

    async with aiohttp.ClientSession() as session:
        while bot.webhook:
            webhook = bot.webhook
            batch = bot.take_deliverable(1)
            if not batch:
                await bot.updates_arrived.wait(5)
                continue
            update = batch[0]
            headers = {}
            if webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
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
                if update not in bot.pending:  # a redelivered one: keep it for the next try
                    bot.redelivery.insert(0, update)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            bot.pending = [u for u in bot.pending if u["update_id"] != update["update_id"]]
            if isinstance(body, dict) and body.get("method"):
                try:
                    await call_method(bot, str(body["method"]), Params(body, {}))
                except ApiError as exc:
                    log.warning("webhook reply %s failed: %s", body["method"], exc.description)
