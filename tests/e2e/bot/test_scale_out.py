"""`innoeng bot --workers 2`: two processes on one webhook port, PostgreSQL and Redis, as production runs them.

People type ten answers at once, many people interleaved; every answer must land under its own question,
also when one process is killed in the middle of the bursts (the other keeps serving, the supervisor starts a
new one, and Telegram's redelivery of the updates the dead one never answered loses nothing)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import SandboxClient, SandboxServer
from tests.e2e.bot.bursts import BURST, misplaced, reach_first_question, send_burst, stored_answers, wait_for_question
from tests.e2e.bot.conftest import DEADLINE
from tests.support.databases import throwaway_database
from tests.support.net import free_port

REDIS_URL = "redis://127.0.0.1:6379/14"
SECRET = "scale-out-test-secret_0123456789"


async def _redis_or_skip() -> None:
    redis = pytest.importorskip("redis.asyncio")
    try:
        client = redis.from_url(REDIS_URL)
        await client.ping()
        await client.aclose()
    except Exception as error:  # noqa: BLE001
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Redis at {REDIS_URL} not reachable: {error!r}")
        pytest.skip(f"Redis at {REDIS_URL} not reachable: {error!r}")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port

    def pids(self) -> list[int]:
        return _children(self.process.pid)

    async def ready(self, stand_in: SandboxServer, count: int, timeout: float = 150) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"innoeng bot --workers exited: {self.output()}")
            pids = self.pids()
            webhook = stand_in.sandbox.bots[stand_in.token].webhook
            if len(pids) == count and webhook and self._listening():
                await asyncio.sleep(1.0)  # every worker finished its setWebhook
                return pids
            await asyncio.sleep(0.2)
        raise AssertionError(f"{count} workers not ready: {self.output()}")

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def output(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers too: they hold the output pipe
            out, _ = self.process.communicate()
        return (out or b"").decode("utf-8", "replace")[-4000:]


@pytest.fixture
async def two_workers(tmp_path) -> AsyncIterator[tuple[Workers, SandboxServer, SandboxClient, str]]:
    await _redis_or_skip()
    async with throwaway_database("postgresql", tmp_path) as database_url:
        stand_in = await SandboxServer("127.0.0.1", 0).start()
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "BOT_"))},
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
            "BOT_TOKEN": stand_in.token, "BOT_API_URL": stand_in.base_url,
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook", "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
            "DOCUMENTS_DIR": str(tmp_path / "documents"), "DATA_DIR": str(tmp_path),
            "DEFAULT_BATCH_DEADLINE": DEADLINE, "STAFF_TELEGRAM_IDS": "",
        }
        process = subprocess.Popen([sys.executable, "-m", "innoeng", "bot", "--workers", "2"], cwd=tmp_path,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        workers = Workers(process, port)
        try:
            async with SandboxClient(stand_in.base_url) as people:
                yield workers, stand_in, people, database_url
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.communicate(timeout=40)
                except subprocess.TimeoutExpired:
                    pass
            # the supervisor and its workers, whatever state they are in (the group holds only them)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ValueError):  # output() may have read it already
                process.communicate()
            # bounded: a delivery still open towards a dead worker must not hold the test
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stand_in.stop(), 15)


async def test_two_processes_put_every_answer_of_interleaved_bursts_under_its_own_question(two_workers):
    workers, stand_in, people, database_url = two_workers
    pids = await workers.ready(stand_in, 2)
    users = random.sample(range(3 * 10**8, 4 * 10**8), 12)
    await asyncio.gather(*(reach_first_question(people, user) for user in users))
    cpu_before = {pid: _cpu_s(pid) for pid in pids}
    await asyncio.gather(*(send_burst(people, user) for user in users))
    await asyncio.gather(*(wait_for_question(people, user, len(BURST) + 1, 45) for user in users))
    stored = await stored_answers(database_url, users)
    assert {user: misplaced(stored[user]) for user in users} == {user: {} for user in users}
    # Both processes served: the bursts were spread over the two (kernel's SO_REUSEPORT choice per connection).
    used = {pid: _cpu_s(pid) - cpu_before[pid] for pid in pids}
    assert all(seconds >= 0.1 for seconds in used.values()), used


async def test_a_process_killed_mid_burst_loses_no_answer_and_the_other_keeps_serving(two_workers):
    workers, stand_in, people, database_url = two_workers
    pids = await workers.ready(stand_in, 2)
    users = random.sample(range(4 * 10**8, 5 * 10**8), 12)
    await asyncio.gather(*(reach_first_question(people, user) for user in users))
    bursts = asyncio.gather(*(send_burst(people, user) for user in users))
    await wait_for_question(people, users[0], 3, 20)  # the bursts are being answered
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    await bursts
    # The survivor (and the supervisor's replacement) answer the rest, including what the victim never answered.
    try:
        await asyncio.gather(*(wait_for_question(people, user, len(BURST) + 1, 50) for user in users))
    except TimeoutError as error:
        stored = await stored_answers(database_url, users)
        pending = await people.pending_updates()
        raise AssertionError(f"{error}; misplaced: {({u: misplaced(stored.get(u, {})) for u in users})}; "
                             f"pending: {[(u['update_id'], u.get('message', {}).get('chat', {}).get('id')) for u in pending]}; "
                             f"log: {workers.output()}") from error
    stored = await stored_answers(database_url, users)
    assert {user: misplaced(stored[user]) for user in users} == {user: {} for user in users}
    survivors = [pid for pid in workers.pids() if pid != victim]
    assert pids[1] in survivors and len(survivors) == 2, (pids, survivors)  # the dead one replaced
    # Still serving after the kill: a newcomer is answered.
    newcomer = random.randrange(5 * 10**8, 6 * 10**8)
    await reach_first_question(people, newcomer, timeout=20)
