"""E-mail throughput through the outbox, beside a raw aiosmtplib loop, against one local aiosmtpd.

    python benchmarks/notifier_throughput.py [--db sqlite|postgresql] [--count 5000] [--workers 4]

Outbox: `count` submission receipts are written to the outbox, then `workers` notifier processes
(as production runs them), each with `lanes` SMTP connections, claim, render (jinja2, HTML + text),
send and record them until all are sent; the clock starts once every process is ready. Raw: the same number of messages with the same rendered content, built
with the stdlib and sent one after another on one aiosmtplib connection, with no database.
PostgreSQL: a throwaway database on TEST_POSTGRES_DSN (default postgres@127.0.0.1:5432).
The last stdout line is JSON: {"db", "workers", "outbox_per_s", "raw_per_s", "ratio", ...}.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib  # noqa: E402
import asyncpg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.bootstrap import bootstrap  # noqa: E402
from core.db.models import OutboxMessage  # noqa: E402
from core.settings import Settings  # noqa: E402
from notifier.mail import SmtpMailer, SmtpSettings, make_message_id  # noqa: E402
from notifier.main import build_worker  # noqa: E402
from notifier.rendering import render_email  # noqa: E402

POSTGRES_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SENDER = "noreply@innoeng.test"


class CountingHandler:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def payload(n: int, now: datetime) -> dict:
    return {
        "application_id": n, "form": "expert", "form_title": "产业兼职教师申请意向表", "name": f"专家{n}",
        "batch": "第一批", "submitted_at": now.isoformat(), "reference": f"E01-{n:06d}", "eligibility_outcome": "pass",
        "eligibility_lines": ["在重点企业工作满 3 年：符合", "学历或职称：符合", "年龄：符合"],
    }


async def fill_outbox(core, count: int) -> None:
    now = datetime.now(timezone.utc)
    rows = [
        dict(kind="submission_receipt", channel="email", person_id=None, address=f"expert{n}@example.cn",
             idempotency_key=f"bench:{n}", payload=payload(n, now), status="queued", due_at=now, attempts=0,
             created_at=now)
        for n in range(count)
    ]
    async with core.uow() as uow:
        for start in range(0, count, 1000):
            await uow.session.execute(OutboxMessage.__table__.insert(), rows[start:start + 1000])
        await uow.commit()


def _worker_process(url: str, workdir: str, port: int, lanes: int, batch: int, ready, go, stop) -> None:
    """One notifier process: its own event loop, engine and SMTP connections, as in production."""

    async def serve() -> None:
        settings = _settings(url, Path(workdir), lanes, batch)
        core = bootstrap(settings)
        mailers = [
            SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, from_address=SENDER, start_tls=False, timeout=30))
            for _ in range(lanes)
        ]
        worker = build_worker(core, bot=None, mailers=mailers)
        stopping = asyncio.Event()
        ready.set()
        while not go.is_set():
            await asyncio.sleep(0.01)
        task = asyncio.create_task(worker.run(stopping))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        stopping.set()
        await task
        for mailer in mailers:
            await mailer.aclose()
        await core.close()

    asyncio.run(serve())


def _settings(url: str, workdir: Path, lanes: int, batch: int) -> Settings:
    return Settings(_env_file=None, database_url=url, data_dir=workdir, documents_dir=workdir / "documents",
                    mail_from=SENDER, notifier_email_connections=lanes, notifier_batch_size=batch,
                    notifier_poll_interval_s=0.05)


async def run_outbox(url: str, workdir: Path, handler: "CountingHandler", port: int, args) -> float:
    context = multiprocessing.get_context("spawn")
    go, stop = context.Event(), context.Event()
    readies = [context.Event() for _ in range(args.workers)]
    processes = [
        context.Process(target=_worker_process, args=(url, str(workdir), port, args.lanes, args.batch, ready, go, stop))
        for ready in readies
    ]
    for process in processes:
        process.start()
    while not all(ready.is_set() for ready in readies):
        await asyncio.sleep(0.05)
    before = handler.count
    started = time.perf_counter()
    go.set()
    while handler.count - before < args.count:
        await asyncio.sleep(0.01)
        if not any(process.is_alive() for process in processes):
            raise RuntimeError("every worker process exited early")
    elapsed = time.perf_counter() - started
    stop.set()
    for process in processes:
        await asyncio.to_thread(process.join, 30)
    return elapsed


async def run_raw(port: int, count: int) -> float:
    now = datetime.now(timezone.utc)
    subject, text, html = render_email("submission_receipt", payload(0, now) | {"submitted_at": now})
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=30)
    await client.connect()
    started = time.perf_counter()
    for n in range(count):
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = f"expert{n}@example.cn"
        message["Subject"] = subject
        message["Message-ID"] = make_message_id(f"raw:{n}", "innoeng.test")
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        await client.send_message(message)
    elapsed = time.perf_counter() - started
    await client.quit()
    return elapsed


async def main(args: argparse.Namespace) -> dict:
    handler = CountingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    workdir = Path(tempfile.mkdtemp(prefix="innoeng-bench-"))
    pg_name = None
    if args.db == "postgresql":
        pg_name = f"innoeng_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(POSTGRES_DSN)
        await admin.execute(f'CREATE DATABASE "{pg_name}"')
        await admin.close()
        url = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{pg_name}"
    else:
        url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    core = bootstrap(_settings(url, workdir, args.lanes, args.batch))
    try:
        await core.prepare()
        await fill_outbox(core, args.count)
        raw_s = await run_raw(port, args.count)
        outbox_s = await run_outbox(url, workdir, handler, port, args)
        async with core.uow() as uow:
            sent = await uow.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
            )
    finally:
        await core.close()
        controller.stop()
        if pg_name:
            admin = await asyncpg.connect(POSTGRES_DSN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()
    outbox_rate = args.count / outbox_s
    raw_rate = args.count / raw_s
    return {
        "db": args.db, "workers": args.workers, "lanes": args.lanes, "count": args.count, "rows_sent": sent,
        "smtp_received": handler.count,
        "outbox_per_s": round(outbox_rate, 1), "raw_per_s": round(raw_rate, 1), "ratio": round(outbox_rate / raw_rate, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4, help="notifier worker processes")
    parser.add_argument("--lanes", type=int, default=2, help="lanes (SMTP connections) per worker process")
    parser.add_argument("--batch", type=int, default=50, help="rows claimed per lane at a time")
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, ensure_ascii=False))
