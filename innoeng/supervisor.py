"""N worker processes of one command on one port (SO_REUSEPORT): `innoeng bot --workers N`, `innoeng web
--workers N`. A worker that dies is started again, the others keep serving.

A worker that dies sooner than FAILING_START_S after its start died "at start". Our own refusals (webhook
secret missing, port taken) exit with REFUSED at start: a restart cannot help. Any other death at start (a
crash, a kill by the OOM killer or an operator) is restarted, unless one slot dies at start CRASH_LOOP times
in a row: then it fails on something a restart won't fix."""
from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable, Sequence

__all__ = ["FAILING_START_S", "REFUSED", "CRASH_LOOP", "RESTART_DELAY_S", "after_exit", "supervise"]

log = logging.getLogger("innoeng.supervisor")

FAILING_START_S = 5.0
REFUSED = 2
CRASH_LOOP = 3
RESTART_DELAY_S = 1.0


def after_exit(returncode: int, lived_s: float, deaths_at_start: int) -> bool:
    """True: start the worker again; False: stop them all. `deaths_at_start`: this slot's earlier ones in a row."""
    if lived_s >= FAILING_START_S:
        return True
    if returncode == REFUSED:
        return False
    return deaths_at_start + 1 < CRASH_LOOP


def supervise(name: str, argv: Sequence[str], workers: int, *, tick: Callable[[], None] | None = None) -> int:
    """Runs `workers` copies of `argv` until SIGTERM / SIGINT; returns the exit code (non-zero when a worker
    could not start). `tick` runs every 0.2 s (the web announces its address once the port answers)."""
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    running: dict[int, tuple[subprocess.Popen, float]] = {}
    deaths_at_start: dict[int, int] = {}

    def start(slot: int) -> None:
        process = subprocess.Popen(list(argv))
        running[slot] = (process, time.monotonic())
        log.info("%s worker %s started (pid %s)", name, slot + 1, process.pid)

    for slot in range(workers):
        start(slot)
    code = 0
    try:
        while not stopping:
            time.sleep(0.2)
            if tick is not None:
                tick()
            for slot, (process, started) in list(running.items()):
                returncode = process.poll()
                if returncode is None or stopping:
                    continue
                lived = time.monotonic() - started
                if not after_exit(returncode, lived, deaths_at_start.get(slot, 0)):
                    log.error("%s worker %s exited with %s right after its start; stopping", name, slot + 1, returncode)
                    stopping, code = True, returncode or 1
                    break
                deaths_at_start[slot] = deaths_at_start.get(slot, 0) + 1 if lived < FAILING_START_S else 0
                log.error("%s worker %s (pid %s) exited with %s after %.1f s; starting it again",
                          name, slot + 1, process.pid, returncode, lived)
                time.sleep(RESTART_DELAY_S)
                start(slot)
    finally:
        for process, _ in running.values():
            if process.poll() is None:
                process.terminate()
        for process, _ in running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return code
