"""The README's run command on embedded defaults: stand-in, bot and notifier in one process."""
from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
from email import policy
from pathlib import Path

from bot.sandbox import SandboxClient
from tests.e2e.bot.conftest import DEADLINE, EXPERT_ANSWERS
from tests.e2e.bot.test_intake_chat import begin
from tests.support.chat import ChatDriver
from tests.support.net import free_port


def _run_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "BOT_", "SMTP_", "REDIS_URL", "DATA_DIR", "DOCUMENTS_DIR"))}
    env.update({"SANDBOX_PORT": str(port), "DEFAULT_BATCH_DEADLINE": DEADLINE})
    return env


async def _wait_listening(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        assert process.poll() is None, process.communicate()[0].decode("utf-8", "replace")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"innoeng run did not listen on {port}")


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    log = output.decode("utf-8", "replace")
    assert process.returncode == 0, log
    return log


async def test_innoeng_run_restarted_twice_on_the_same_data_answers_the_first_message_each_time(tmp_path: Path):
    port = free_port()
    for run in range(3):
        process = subprocess.Popen([sys.executable, "-m", "innoeng", "run"], cwd=tmp_path, env=_run_env(port),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            await _wait_listening(port, process)
            async with SandboxClient(f"http://127.0.0.1:{port}") as people:
                await people.send_text(5555, "/start")
                first = await people.next_message(5555, timeout=30)
                assert first.text, f"run {run}: no answer"
                if run == 0:
                    notice = await people.next_message(5555, timeout=10)
                    await people.press_button(5555, notice, "同意并继续")
                    roles = await people.next_message(5555, timeout=10)
                    await people.press_button(5555, roles, "我是企业专家（申请产业兼职教师）")
                    assert "姓名" in (await people.next_message(5555, timeout=10)).text
                    continue
                assert "欢迎回来" in first.text, first.text
                await people.next_message(5555, timeout=10)
                # a typed answer after the restart is taken, not mistaken for an old message
                await people.send_text(5555, ("张三", "1975-06-01")[run - 1])
                following = await people.next_message(5555, timeout=15)
                assert ("出生日期", "手机号")[run - 1] in following.text, following.text
        finally:
            log = _stop(process)
        assert "already handled" not in log, log


async def test_innoeng_run_serves_a_person_and_leaves_the_receipt_as_an_eml_file(tmp_path: Path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "innoeng", "run"], cwd=tmp_path, env=_run_env(port),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        await _wait_listening(port, process)
        async with SandboxClient(f"http://127.0.0.1:{port}") as people:
            driver = ChatDriver(people, 5555)
            first = await begin(driver, "我是企业专家（申请产业兼职教师）", first_reply_timeout=30)
            review = await driver.fill(first, EXPERT_ANSWERS)
            await people.press_button(5555, review, "✅ 提交")
            # The notifier's Telegram receipt may arrive before the bot's own reply.
            receipt = await driver.wait_for(lambda m: "已提交！" in m.text)
            assert "受理编号：E01-" in receipt.text and "（北京时间）" in receipt.text
            # one receipt in the chat: the notifier does not send a second one by Telegram
            await asyncio.sleep(4)
            receipts = [m for m in await people.bot_messages(5555) if "E01-" in m.text]
            assert len(receipts) == 1, [m.text for m in receipts]
        outbox = tmp_path / "data" / "outbox"
        for _ in range(100):
            files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
            if files:
                break
            await asyncio.sleep(0.2)
        assert len(files) == 1
        message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert message["To"].addresses[0].addr_spec == EXPERT_ANSWERS["email"]
        body = message.get_body(("plain",)).get_content()
        assert "收到您提交的《产业兼职教师申请意向表》，编号 E01-" in body and "初步核对结果" in body
        assert (tmp_path / "data" / "innoeng.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    log = output.decode("utf-8", "replace")
    assert process.returncode == 0, log
    assert "Traceback" not in log and f"http://127.0.0.1:{port}/" in log


def test_innoeng_run_on_a_taken_port_says_so_in_one_line_and_how_to_choose_another(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "innoeng", "run"], cwd=tmp_path, env=_run_env(port),
                                capture_output=True, timeout=120)
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 2, output
    assert "Traceback" not in output and "OSError" not in output, output
    line = next(line for line in output.splitlines() if str(port) in line and "SANDBOX_PORT" in line)
    assert "占用" in line, line


def test_innoeng_bot_on_a_taken_webhook_port_says_so_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**_run_env(free_port()), "BOT_TOKEN": "1000000001:innoeng-sandbox-token",
               "BOT_API_URL": f"http://127.0.0.1:{free_port()}", "WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
               "WEBHOOK_SECRET": "s" * 32, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port)}
        result = subprocess.run([sys.executable, "-m", "innoeng", "bot"], cwd=tmp_path, env=env,
                                capture_output=True, timeout=120)
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    line = next(line for line in output.splitlines() if str(port) in line and "WEBHOOK_PORT" in line)
    assert "占用" in line, line
