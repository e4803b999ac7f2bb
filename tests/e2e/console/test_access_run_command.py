"""`innoeng run` (the README's first command) starts the console too and prints where to open it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta

from tests.support.net import free_port


def _wait_listening(port: int, process: subprocess.Popen, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0].decode("utf-8", "replace")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the console did not listen on {port}")


def test_innoeng_run_serves_the_console_login_page_and_prints_its_address(tmp_path):
    console_port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "BOT_", "SMTP_", "REDIS_URL", "DATA_DIR", "DOCUMENTS_DIR", "CONSOLE_"))}
    env.update({"SANDBOX_PORT": str(sandbox_port), "CONSOLE_PORT": str(console_port),
                "DEFAULT_BATCH_DEADLINE": (date.today() + timedelta(days=60)).isoformat()})
    process = subprocess.Popen([sys.executable, "-m", "innoeng", "run"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(console_port, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{console_port}/login", timeout=10) as response:
            assert response.status == 200
            assert "工作人员登录" in response.read().decode("utf-8")
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{console_port}/" in output


def test_innoeng_console_alone_listens_on_the_port_it_is_given(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "DATA_DIR", "DOCUMENTS_DIR", "CONSOLE_"))}
    process = subprocess.Popen([sys.executable, "-m", "innoeng", "console", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:  # follows to /login
            assert response.status == 200 and response.url.endswith("/login")
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode("utf-8", "replace")
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
