"""Webhook mode with its secret token, and the Redis dialog storage when REDIS_URL is set."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import subprocess
import sys
import time
import uuid

import aiohttp
import pytest
from aiogram.fsm.storage.base import StorageKey
from pydantic import SecretStr
from sqlalchemy import delete, func, select

from bot.factory import create_bot
from bot.sandbox.client import SandboxError
from bot.main import WebhookConfigError, build_dispatcher, run_webhook
from bot.storage import SQLStorage
from core.bootstrap import bootstrap
from core.db.models import ChatState, Event, ProcessedUpdate
from tests.e2e.bot.bursts import BURST, misplaced, reach_first_question, send_burst, stored_answers, wait_for_question
from tests.e2e.bot.conftest import STAFF_ID, RunningBot
from tests.support.chat import ChatDriver
from tests.support.net import free_port


SECRET = "s3cret-token-for-tests_0123456789"
PHISHING = "https://phishing.example/steal"


def _update(update_id: int, user_id: int, message_id: int, typed: str) -> dict:
    """An update as Telegram posts it to the webhook."""
    person = {"id": user_id, "is_bot": False, "first_name": "测试"}
    return {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()), "text": typed,
        "chat": {"id": user_id, "type": "private", "first_name": "测试"}, "from": person}}


@contextlib.asynccontextmanager
async def _webhook_bot(settings, stand_in):
    port = free_port()
    settings = settings.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
        "webhook_secret": SecretStr(SECRET),
        "webhook_port": port,
    })
    core = bootstrap(settings)
    await core.prepare()
    bot = create_bot(stand_in.token, stand_in.base_url)
    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook(core, bot, stop))
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        for _ in range(100):  # setWebhook reached the stand-in
            if stand_in.sandbox.bots[stand_in.token].webhook:
                break
            await asyncio.sleep(0.05)
        yield settings, core
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await bot.session.close()
        await core.close()


async def test_webhook_mode_answers_telegram_and_refuses_a_wrong_or_missing_secret(bot_settings, stand_in, people,
                                                                                     caplog):
    async with _webhook_bot(bot_settings, stand_in) as (settings, core):
        driver = ChatDriver(people, 777)
        await people.send_text(777, "/start")
        welcome = await driver.next_message(timeout=15)
        assert "创新工程学分会" in welcome.text

        forged = _update(10**9, STAFF_ID, 10**9, f"/newevent 岗前示范交流活动 {PHISHING}")
        caplog.set_level(logging.INFO)
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                            {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1] + "é"}):
                async with http.post(settings.webhook_url, json=forged, headers=headers) as response:
                    assert response.status == 401, headers
        refusals = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
        assert len(refusals) == 3 and "no secret header" in refusals[0] and "wrong secret header" in refusals[1]
        assert PHISHING not in caplog.text  # the body is never logged (nor read)
        async with core.uow() as uow:
            assert (await uow.session.execute(select(func.count()).select_from(Event))).scalar_one() == 0
        with pytest.raises(SandboxError, match="has not written"):  # the bot never wrote to the forged sender
            await people.bot_messages(STAFF_ID)


@pytest.mark.parametrize("secret", [None, "", "short", "has spaces in it, not allowed"])
async def test_webhook_mode_refuses_to_start_without_a_usable_secret(bot_settings, stand_in, secret):
    port = free_port()
    settings = bot_settings.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram/webhook",
        "webhook_secret": SecretStr(secret) if secret is not None else None, "webhook_port": port,
    })
    core = bootstrap(settings)
    bot = create_bot(stand_in.token, stand_in.base_url)
    try:
        with pytest.raises(WebhookConfigError) as refused:
            await asyncio.wait_for(run_webhook(core, bot, asyncio.Event()), 10)
        assert "WEBHOOK_SECRET" in str(refused.value) and "secrets.token_urlsafe" in str(refused.value)
        with pytest.raises(OSError):  # nothing listens: no update was ever accepted
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        assert stand_in.sandbox.bots[stand_in.token].webhook is None
    finally:
        await bot.session.close()
        await core.close()


def test_innoeng_bot_refuses_webhook_mode_without_a_secret(tmp_path):
    env = {**os.environ, "BOT_TOKEN": "1000000001:x", "BOT_API_URL": "http://127.0.0.1:9",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
           "WEBHOOK_URL": "https://bot.example.org/telegram/webhook", "WEBHOOK_PORT": str(free_port())}
    env.pop("WEBHOOK_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "innoeng", "bot"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "WEBHOOK_SECRET" in done.stderr and "secrets.token_urlsafe" in done.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # refused before touching anything


async def _redis_url_or_skip() -> str:
    redis = pytest.importorskip("redis.asyncio")
    url = "redis://127.0.0.1:6379/15"
    try:
        client = redis.from_url(url)
        await client.ping()
        await client.aclose()
    except Exception as error:  # noqa: BLE001 - without a server there is nothing to prove
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis at {url} not reachable: {error!r}")
        pytest.skip(f"Redis at {url} not reachable: {error!r}")
    return url


async def test_ten_answers_sent_at_once_land_under_their_own_questions_with_redis(bot_settings, stand_in, people):
    """Issue 13: with REDIS_URL, a burst of ten typed answers was stored under the wrong questions."""
    url = await _redis_url_or_skip()
    core = bootstrap(bot_settings.model_copy(update={"redis_url": url}))
    await core.prepare()
    running = await RunningBot(core, stand_in).start()
    users = [random.randrange(10**8, 2 * 10**8) for _ in range(4)]
    try:
        await asyncio.gather(*(reach_first_question(people, user) for user in users))
        await asyncio.gather(*(send_burst(people, user) for user in users))
        with contextlib.suppress(TimeoutError):  # a misplaced answer may block the form: the check below says which
            await asyncio.gather(*(wait_for_question(people, user, len(BURST) + 1, 30) for user in users))
        stored = await stored_answers(bot_settings.database_url, users)
        assert {user: misplaced(stored[user]) for user in users} == {user: {} for user in users}
    finally:
        await running.close()
        await core.close()


async def test_a_message_arriving_after_a_later_one_is_not_stored_under_the_next_question(bot_settings, stand_in,
                                                                                         people):
    async with _webhook_bot(bot_settings, stand_in) as (settings, core):
        user = random.randrange(10**8, 2 * 10**8)
        await reach_first_question(people, user)
        for number, (_, typed, _) in enumerate(BURST[:5], start=2):  # up to the city question
            await people.send_text(user, typed)
            await wait_for_question(people, user, number, 15)
        # The person typed 上海 (city), then the employer; Telegram hands them over the wrong way round.
        city_message, employer_message = 10**7, 10**7 + 1
        async with aiohttp.ClientSession(headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as http:
            for update_id, message_id, typed in ((10**9 + 2, employer_message, "某某科技有限公司"),
                                                 (10**9 + 3, city_message, "上海")):
                async with http.post(settings.webhook_url, json=_update(update_id, user, message_id, typed)) as response:
                    assert response.status == 200
        told = await people.collect_messages(user, 2, timeout=10)
        assert any("未予保存" in m.text for m in told), [m.text for m in told]
        answers = (await stored_answers(settings.database_url, [user]))[user]
        assert answers.get("employer") is None  # never stored under a question it was not sent for
        assert answers["city"] == "某某科技有限公司"  # the one that came first answered the open question


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


async def test_sql_storage_writes_one_row_only_when_something_changed(live_core):
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    storage = SQLStorage(live_core.uow)

    async def row() -> tuple:
        async with live_core.uow() as uow:
            found = await uow.session.get(ChatState, "1:5:5:0:default")
            return (found.state, found.data, found.updated_at) if found else None

    await storage.set_data(key, {"multi": {"picked": ["a"]}})
    first = await row()
    assert first[:2] == (None, {"multi": {"picked": ["a"]}})
    await storage.set_data(key, {"multi": {"picked": ["a"]}})  # the same picks again: no write
    await storage.set_state(key, None)
    assert await row() == first
    await storage.set_data(key, {"multi": {"picked": ["a", "b"]}})
    assert (await row())[1] == {"multi": {"picked": ["a", "b"]}}
    assert await SQLStorage(live_core.uow).get_data(key) == {"multi": {"picked": ["a", "b"]}}
    async with live_core.uow() as uow:  # the owner erasure finds the row by, whatever the key's layout
        assert (await uow.session.get(ChatState, "1:5:5:0:default")).telegram_id == 5


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
async def test_an_answer_delivered_again_after_a_crash_does_not_answer_the_next_question(bot_settings, stand_in,
                                                                                         people):
    """A process that committed an answer and died before answering Telegram gets the update again."""
    async with _webhook_bot(bot_settings, stand_in) as (settings, core):
        user = random.randrange(10**8, 2 * 10**8)
        await reach_first_question(people, user)
        for number, (_, typed, _) in enumerate(BURST[:5], start=2):  # up to the city question
            await people.send_text(user, typed)
            await wait_for_question(people, user, number, 15)
        city = _update(10**9 + 5, user, 10**7, "上海")
        async with aiohttp.ClientSession(headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as http:
            async with http.post(settings.webhook_url, json=city) as response:
                assert response.status == 200
            await wait_for_question(people, user, 7, 10)
            async with core.uow() as uow:  # as if the process died after the commit, before recording the update
                await uow.session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == city["update_id"]))
                await uow.commit()
            async with http.post(settings.webhook_url, json=city) as response:
                assert response.status == 200
        shown = await people.next_message(user, timeout=10)
        assert shown.text.startswith("第 7/"), shown.text  # the question still open, shown again
        answers = (await stored_answers(settings.database_url, [user]))[user]
        assert answers["city"] == "上海" and answers.get("employer") is None
