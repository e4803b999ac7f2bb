"""Chaos: two `innoeng notifier` processes on one PostgreSQL, one of them killed with SIGKILL five
times at chosen points of a send and restarted; every message the SMTP server accepted is counted.

Kill points: during DATA (after 354, before the content is in), right after the server said 250
(before the worker can write the outcome), and at a random moment between rows. A row must be
delivered exactly once, or be `unknown` and delivered at most once; none may be lost or failed.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as AiosmtpdSMTP
from sqlalchemy import func, select

from core.bootstrap import bootstrap
from core.db.models import OutboxMessage
from notifier.mail import make_message_id
from tests.support.databases import throwaway_database
from tests.support.net import free_port

ROWS = 500
KILLS = ("during_data", "after_250", "between_rows", "during_data", "after_250")
MAIL_FROM = "noreply@innoeng.test"
REPO = Path(__file__).resolve().parents[3]


def _socket_ports(pid: int) -> set[int]:
    """Local TCP ports of a process's sockets (from /proc: no extra dependency)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except FileNotFoundError:
        return set()
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class Fleet:
    """The worker processes, and the one the SMTP server may kill."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self._env = env
        self._workdir = workdir
        self.processes: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.kills: list[tuple[str, int]] = []  # (point, messages accepted so far)
        self.epoch = time.monotonic()
        self.timeline: list[tuple[float, str]] = []

    def start(self, slot: int | None = None) -> None:
        log = open(self._workdir / f"worker-{len(self.kills)}-{time.monotonic_ns()}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "innoeng", "notifier"], cwd=self._workdir, env=self._env,
            stdout=log, stderr=subprocess.STDOUT,
        )
        with self.lock:
            if slot is None:
                self.processes.append(process)
            else:
                self.processes[slot] = process
            self.timeline.append((round(time.monotonic() - self.epoch, 1), f"start slot {slot}"))

    def owner_of(self, port: int) -> int | None:
        with self.lock:
            for slot, process in enumerate(self.processes):
                if process.poll() is None and port in _socket_ports(process.pid):
                    return slot
        return None

    def kill(self, slot: int, point: str, accepted: int) -> None:
        with self.lock:
            process = self.processes[slot]
            os.kill(process.pid, signal.SIGKILL)
            self.kills.append((point, accepted))
            self.timeline.append((round(time.monotonic() - self.epoch, 1), f"kill slot {slot} {point}"))

    def stop_all(self) -> None:
        with self.lock:
            for process in self.processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in self.processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


class Recorder:
    """Accepts every message and remembers it; at planned counts, kills the sending worker."""

    def __init__(self, fleet: Fleet, rng: random.Random) -> None:
        self.fleet = fleet
        self.rng = rng
        self.accepted: list[bytes] = []
        self.lock = threading.Lock()
        self.plan = list(KILLS)
        self.next_at = 60

    def take_kill(self, point_kinds: tuple[str, ...], peer_port: int) -> tuple[str, int] | None:
        """The next planned kill, if it is of one of these kinds and due; the worker that owns the
        connection is the one to kill. Taken once: concurrent sessions cannot both act on it."""
        with self.lock:
            if not (self.plan and self.plan[0] in point_kinds and len(self.accepted) >= self.next_at):
                return None
            slot = self.fleet.owner_of(peer_port)
            if slot is None:
                return None
            self.next_at = len(self.accepted) + self.rng.randint(50, 80)
            return self.plan.pop(0), slot

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.accepted.append(envelope.original_content)
            count = len(self.accepted)
        taken = self.take_kill(("after_250", "between_rows"), session.peer[1])
        if taken is not None:
            point, slot = taken
            # after_250: the 250 is on its way and the worker dies before it can write the outcome;
            # between_rows: a little later, wherever the worker happens to be.
            delay = 0.002 if point == "after_250" else self.rng.uniform(0.005, 0.05)
            threading.Timer(delay, self.fleet.kill, (slot, point, count)).start()
        return "250 OK"


class KillingSMTP(AiosmtpdSMTP):
    async def smtp_DATA(self, arg):
        recorder: Recorder = self.event_handler
        taken = recorder.take_kill(("during_data",), self.session.peer[1])
        if taken is not None:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()
            recorder.fleet.kill(taken[1], "during_data", len(recorder.accepted))
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class KillingController(Controller):
    def factory(self):
        return KillingSMTP(self.handler, **self.SMTP_kwargs)


async def _count_by_status(core) -> dict[str, int]:
    async with core.uow() as uow:
        return dict((await uow.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())


async def test_kill_nine_five_times_never_sends_a_row_twice_unless_it_is_unknown(tmp_path, settings_for):
    started = time.monotonic()
    rng = random.Random(20261201)
    async with throwaway_database("postgresql", tmp_path) as url:
        core = bootstrap(settings_for(url))
        await core.prepare()
        now = datetime.now(timezone.utc)
        async with core.uow() as uow:
            await uow.session.execute(OutboxMessage.__table__.insert(), [
                dict(kind="review_approved", channel="email", address=f"person{n}@example.cn",
                     idempotency_key=f"chaos:{n}", status="queued", due_at=now, attempts=0, created_at=now,
                     payload={"application_id": n, "form": "expert", "name": f"专家{n}",
                              "reference": f"E01-{n:06d}", "batch": "第一批", "message": ""})
                for n in range(ROWS)
            ])
            await uow.commit()

        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "BOT_", "NOTIFIER_", "MAIL_"))},
            "DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port), "SMTP_START_TLS": "false", "SMTP_TIMEOUT_S": "5", "MAIL_FROM": MAIL_FROM,
            "NOTIFIER_LEASE_S": "3", "NOTIFIER_POLL_INTERVAL_S": "0.2", "NOTIFIER_EMAIL_CONNECTIONS": "2",
            "NOTIFIER_BATCH_SIZE": "20", "NOTIFIER_SCHEDULE_INTERVAL_S": "3600", "STAFF_EMAILS": "",
            # INNOENG_CHAOS_WORKER_SRC runs the workers from another checkout (e.g. an older
            # commit), to watch this test catch what that version does.
            "PYTHONPATH": os.environ.get("INNOENG_CHAOS_WORKER_SRC", str(REPO)),
        }
        fleet = Fleet(env, tmp_path)
        recorder = Recorder(fleet, rng)
        controller = KillingController(recorder, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            fleet.start()
            fleet.start()
            restarted = 0
            # Another checkout's workers may start slower (an older one imported aiogram at start).
            deadline = time.monotonic() + (240 if "INNOENG_CHAOS_WORKER_SRC" in os.environ else 90)
            while time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                # Restart every killed worker, as a supervisor would.
                with fleet.lock:
                    dead = [slot for slot, p in enumerate(fleet.processes) if p.poll() is not None]
                for slot in dead:
                    fleet.start(slot)
                    restarted += 1
                counts = await _count_by_status(core)
                if not recorder.plan and counts.get("queued", 0) + counts.get("sending", 0) == 0:
                    break
            else:
                pytest.fail(f"did not drain in time: {await _count_by_status(core)}, kills {fleet.kills}")
        finally:
            fleet.stop_all()
            controller.stop()

        counts = await _count_by_status(core)
        async with core.uow() as uow:
            rows = {r.idempotency_key: r for r in (await uow.session.scalars(select(OutboxMessage))).all()}
            uow.session.expunge_all()
        await core.close()

    delivered = Counter(
        message_from_bytes(raw, policy=default_policy)["Message-ID"] for raw in recorder.accepted
    )
    by_message_id = {make_message_id(key, "innoeng.test"): row for key, row in rows.items()}
    assert set(delivered) <= set(by_message_id), "the server got a message no row accounts for"
    assert [point for point, _ in fleet.kills] == list(KILLS), fleet.kills
    assert restarted >= len(KILLS)
    unknown = [row for row in rows.values() if row.status == "unknown"]
    for message_id, row in by_message_id.items():
        times = delivered.get(message_id, 0)
        if row.status == "sent":
            assert times == 1, (row.idempotency_key, times)
        else:
            assert row.status == "unknown" and times <= 1, (row.idempotency_key, row.status, times)
    assert counts.get("sent", 0) + len(unknown) == ROWS, counts
    assert all(row.attempts >= 1 and row.last_error for row in unknown)
    print(f"\nchaos: {ROWS} rows, kills {fleet.kills}, {sum(delivered.values())} deliveries, "
          f"{len(delivered)} distinct, {len(unknown)} unknown "
          f"({sum(1 for r in unknown if by_message_id and delivered.get(make_message_id(r.idempotency_key, 'innoeng.test')))} "
          f"of them delivered), {time.monotonic() - started:.1f} s; timeline {fleet.timeline}")
