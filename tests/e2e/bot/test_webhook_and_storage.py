"""Webhook mode with its secret token, and the Redis dialog storage when REDIS_URL is set."""
from __future__ import annotations

import asyncio
import socket
import uuid

import aiohttp
import pytest
from aiogram.fsm.storage.base import StorageKey
from pydantic import SecretStr

from bot.factory import create_bot
from bot.main import build_dispatcher, run_webhook
from bot.storage import SQLStorage
from core.bootstrap import bootstrap
from tests.support.chat import ChatDriver
from tests.support.net import free_port


async def test_webhook_mode_answers_telegram_and_refuses_a_wrong_secret(bot_settings, stand_in, people):
    port = free_port()
    settings = bot_settings.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
        "webhook_secret": SecretStr("s3cret-token"),
        "webhook_port": port,
    })
    core = bootstrap(settings)
    await core.prepare()
    bot = create_bot(stand_in.token, stand_in.base_url)
    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook(core, bot, stop))
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # setWebhook
        driver = ChatDriver(people, 777)
        await people.send_text(777, "/start")
        welcome = await driver.next_message(timeout=15)
        assert "创新工程学分会" in welcome.text

        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                              "from": {"id": 1, "is_bot": False, "first_name": "x"}, "text": "/start"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(settings.webhook_url, json=update, headers=headers) as response:
                    assert response.status == 401
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await bot.session.close()
        await core.close()


async def test_sql_storage_keeps_state_and_data_across_instances(live_core):
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    first = SQLStorage(live_core.uow)
    await first.set_state(key, "ReviewReason:waiting")
    await first.set_data(key, {"review": {"app": 7, "action": "reject"}})
    second = SQLStorage(live_core.uow)
    assert await second.get_state(key) == "ReviewReason:waiting"
    assert await second.get_data(key) == {"review": {"app": 7, "action": "reject"}}
    await second.set_state(key, None)
    assert await second.get_state(key) is None
    # A restarted process reads what was committed, not what it once had in memory.
    assert await SQLStorage(live_core.uow).get_state(key) is None


async def test_redis_storage_is_used_when_redis_url_is_set(bot_settings):
    redis = pytest.importorskip("redis.asyncio")
    url = "redis://127.0.0.1:6379/15"
    try:
        client = redis.from_url(url)
        await client.ping()
        await client.aclose()
    except Exception as error:  # the storage is optional; without a server there is nothing to prove
        pytest.skip(f"Redis at {url} not reachable: {error!r}")
    core = bootstrap(bot_settings.model_copy(update={"redis_url": url}))
    try:
        dispatcher = build_dispatcher(core)
        from aiogram.fsm.storage.redis import RedisStorage

        assert isinstance(dispatcher.storage, RedisStorage)
        key = StorageKey(bot_id=1, chat_id=uuid.uuid4().int % 10**9, user_id=3)
        await dispatcher.storage.set_state(key, "ReviewReason:waiting")
        again = RedisStorage.from_url(url)
        assert await again.get_state(key) == "ReviewReason:waiting"
        await again.close()
        await dispatcher.storage.close()
    finally:
        await core.close()
