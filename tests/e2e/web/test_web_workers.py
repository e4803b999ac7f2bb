"""`innoeng web --workers 2`: two processes on one port share nothing but the database.

A person signs in through whichever process the kernel hands the connection to; every later request, on a new
connection each time, reaches either process and sees the same session. A worker killed with SIGKILL is started
again by the supervisor while the other keeps answering."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.web.support import csrf_of, heading_of, page_kind, sign_in, token_of
from tests.support.net import free_port


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Supervisor:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace")[-4000:] if self.log.exists() else ""

    async def wait_for(self, count: int, *, without: int | None = None, timeout: float = 20) -> list[int]:
        """The workers' pids once `count` of them run (none of them `without`) and the port answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the supervisor exited: {self.output()}"
            pids = self.workers()
            if len(pids) == count and without not in pids and self._accepting():
                return pids
            await asyncio.sleep(0.1)
        raise AssertionError(f"{count} workers not running: {self.output()}")

    def _accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[Supervisor]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "SMTP_", "REDIS_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'web.sqlite3'}",
        "DATA_DIR": str(tmp_path / "data"), "DOCUMENTS_DIR": str(tmp_path / "documents"),
        "DEFAULT_BATCH_DEADLINE": (date.today() + timedelta(days=60)).isoformat(),
    }
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "innoeng", "web", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield Supervisor(process, port, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):  # the supervisor and its workers (the group holds only them)
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _client(port: int) -> aiohttp.ClientSession:
    # A new connection per request: the kernel picks the worker per connection (SO_REUSEPORT).
    return aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}", cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(force_close=True),
                                 timeout=aiohttp.ClientTimeout(total=10))


async def _apply_page(client: aiohttp.ClientSession) -> tuple[int, str]:
    """/apply as the signed-in person sees it: the status and what identifies the page of this session (its
    kind, its heading, the CSRF token derived from the session id, the screen token of the application's state).

    Not the whole HTML: a worker started later renders the templates as they are on disk then."""
    # A connection the kernel had queued on a worker when it was killed is reset (or, racing with the kernel
    # taking its socket out of the port's group, refused): a browser or the reverse proxy tries again.
    for attempt in range(20):
        try:
            async with client.get("/apply", allow_redirects=False) as response:
                body = await response.text()
                if response.status != 200:
                    return response.status, body[:300]
                return 200, f"{page_kind(body)}|{heading_of(body)}|{csrf_of(body)}|{token_of(body)}"
        except aiohttp.ClientConnectionError:
            if attempt == 19:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def test_either_process_serves_the_same_session_and_a_killed_worker_is_started_again(two_workers):
    supervisor = two_workers
    first, second = await supervisor.wait_for(2)
    async with _client(supervisor.port) as client:
        await sign_in(client, "workers@example.com")  # its requests land on either process too
        status, page = await _apply_page(client)
        assert status == 200 and page.startswith("role|"), page

        # Many requests, each on its own connection, spread over both processes: the same page every time.
        cpu = {pid: _cpu_s(pid) for pid in (first, second)}
        pages = await asyncio.gather(*(_apply_page(client) for _ in range(40)))
        assert {status for status, _ in pages} == {200}
        assert {body for _, body in pages} == {page}, "a process saw another session (or none)"
        used = {pid: _cpu_s(pid) - cpu[pid] for pid in (first, second)}
        assert all(seconds > 0 for seconds in used.values()), f"one process served nothing: {used}"

        # One worker killed: the other keeps answering at once, and the supervisor starts a new one.
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while first in supervisor.workers() and time.monotonic() < deadline:
            pages = await asyncio.gather(*(_apply_page(client) for _ in range(5)))
            assert {(status, body) for status, body in pages} == {(200, page)}
        pages = await asyncio.gather(*(_apply_page(client) for _ in range(10)))
        assert {(status, body) for status, body in pages} == {(200, page)}

        workers = await supervisor.wait_for(2, without=first)
        assert second in workers, "the worker that was not killed kept running"
        (restarted,) = set(workers) - {second}
        deadline = time.monotonic() + 15
        while f"(pid {restarted}) listening" not in supervisor.output():
            assert time.monotonic() < deadline, f"the restarted worker never listened: {supervisor.output()}"
            pages = await asyncio.gather(*(_apply_page(client) for _ in range(5)))  # served meanwhile
            assert {(status, body) for status, body in pages} == {(200, page)}
            await asyncio.sleep(0.1)
        # The new worker takes its share of the connections and sees the same session.
        before = _cpu_s(restarted)
        pages = await asyncio.gather(*(_apply_page(client) for _ in range(40)))
        assert {(status, body) for status, body in pages} == {(200, page)}
        assert _cpu_s(restarted) - before > 0, f"the restarted worker served nothing: {supervisor.output()}"
    assert "web worker 1" in supervisor.output() and "starting it again" in supervisor.output()
