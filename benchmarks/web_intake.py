"""Web intake under load: people answering through HTTP, beside a bare aiohttp + jinja2 page of the same size.

    .venv/bin/python benchmarks/web_intake.py                                    # 100 answers/s offered, PostgreSQL
    .venv/bin/python benchmarks/web_intake.py --rate 30 --think-s 0.5 --duration-s 10 --closed-s 5   # a quick check
    .venv/bin/python benchmarks/web_intake.py --db sqlite

One run, two server processes started by the harness, each in its own process:

- the service: `python -m innoeng web` (DATABASE_URL a throwaway PostgreSQL database, dropped afterwards, or a
  throwaway SQLite file; no SMTP_HOST, so the sign-in codes stay in the outbox table, where the people read
  them);
- the baseline: `python benchmarks/web_intake.py --serve-bare` — a bare aiohttp app with one jinja2 template
  (autoescaped) rendered to the byte size of the service's median question page, measured on a warm-up person;
  POST /answer reads the form and answers 303 See Other to GET /page, as the service's POST /apply → 303 → GET
  /apply does. No database, no session, no rule: what aiohttp + jinja2 alone cost for one such cycle.

A person (a plain aiohttp client with its own cookie jar and its own loopback source address 127.x.y.z, so the
per-IP sign-in limits see different people) signs in (notice → address → the code read from the outbox table →
/apply), then answers the expert questionnaire page by page as a browser would (role, consents, text answers,
single and multi choices, skips of the optional questions not answered, the PDF upload once, 完成, submit),
pausing an exponential think time (mean --think-s) before each answer. An *answer* is one such POST and its
latency the time from sending it to having read the page its 303 leads to (the redirect followed).

Phases (each against one process):
1. open loop, the service: people arrive at random (Poisson, rate/answers-per-person a second) so that --rate
   answers/s are offered whatever the server does; the first answers-per-person × think-s seconds (the ramp,
   until arrivals and departures balance) are not measured, then answers sent in the next --duration-s seconds
   are; a person still waiting --grace-s after the end counts as a failure;
2. open loop, the baseline: the same arrivals and think times, each person replaying the same sequence of
   cycles (the upload's cycle posts the same file);
3. closed loop, the service: --closed-people people, each answering as soon as the previous page arrived
   (signed in beforehand, not timed), for --closed-s seconds: answers/s of one process;
4. closed loop, the baseline: cycles/s with as many clients; ratio = 3 / 4.
5. closed loop, the floors: the baseline app whose POST /answer also runs the three statements an answer needs
   at the least (the session with its person, the draft, a versioned UPDATE of it) on the same database, with
   no ORM, no rule and no middleware: once through SQLAlchemy Core, once through asyncpg alone (PostgreSQL).
   Their ratio to the baseline is what no answer that reads and writes the database can exceed in this stack:
   the bound the service's own ratio is read against.

With --existing-experts N the tables first hold a national batch (N expert applications, N/20 intents, as
benchmarks/console_pages.py makes them) and the people of the run sign in and answer beside it.

Printed too: the service's peak RSS (VmHWM) and CPU ms per answer from /proc, the harness's own CPU (the
harness shares the machine's cores with the server: when it nears one core, the harness limits the rate).
Targets: p95 < 100 ms at 100 answers/s offered; closed-loop ratio ≥ 0.3.

The last stdout line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

P95_TARGET_MS = 100.0
RATIO_TARGET = 0.3


# --------------------------------------------------------------------------------------------------
# the baseline server (runs as `python benchmarks/web_intake.py --serve-bare --port P --size BYTES`)

BARE_TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="stylesheet" href="/static/web.css"></head>
<body><main class="container">
<h1>{{ title }}</h1>
<form method="post" action="/answer"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<input type="hidden" name="token" value="{{ token }}">
{% for line in lines %}<p class="help">{{ line }}</p>
{% endfor %}<button type="submit" name="action" value="answer">下一步</button></form>
</main></body></html>
"""


FLOOR_ROWS = 1000


def serve_bare(port: int, size: int, storage_url: str | None = None, floor: str = "core") -> int:
    """The baseline; with `storage_url` a floor: the same, plus what any answer of the service must do at the
    least (no ORM, no rule, no middleware): read a session with its person, read a draft, write it back with a
    version check — through SQLAlchemy Core (`floor="core"`), or through asyncpg alone (`floor="driver"`)."""
    import jinja2
    from aiohttp import web

    environment = jinja2.Environment(loader=jinja2.DictLoader({"page.html": BARE_TEMPLATE}), autoescape=True)
    template = environment.get_template("page.html")
    line = "请填写您在现单位的工作年限（整年），用于核对“在国家或省级重点企事业单位、高新技术企业工作3年以上”的条件。"

    def context(count: int) -> dict:
        return {"title": "第 7 题，共 28 题：现单位工作年限", "csrf": "c" * 64, "token": "t" * 32,
                "lines": [f"{n}. {line}" for n in range(count)]}

    count = 0
    while len(template.render(**context(count + 1)).encode()) <= size:
        count += 1
    lines = context(count)["lines"]
    pad = size - len(template.render(**context(count)).encode())
    if pad > 0:
        lines = lines + ["x" * pad]  # the last bytes: the rendered page is `size` bytes (± a byte of line end)

    async def page(request: web.Request) -> web.Response:
        body = template.render(title="第 7 题，共 28 题：现单位工作年限", csrf="c" * 64, token="t" * 32, lines=lines)
        return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def answer(request: web.Request) -> web.Response:
        await request.post()  # the whole form read, as the service reads it (the upload included)
        return web.Response(status=303, headers={"Location": "/page"})

    app = web.Application(client_max_size=30 * 1024 * 1024)
    app.router.add_get("/page", page)
    if storage_url is None:
        app.router.add_post("/answer", answer)
    else:
        store = (_DriverFloorStore if floor == "driver" else _CoreFloorStore)(storage_url)
        app.router.add_post("/answer", _floor_answer(app, store))
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
    return 0


def _floor_tables():
    from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

    metadata = MetaData()
    people = Table("floor_people", metadata, Column("id", Integer, primary_key=True), Column("name", String(100)))
    sessions = Table("floor_sessions", metadata, Column("id", String(64), primary_key=True),
                     Column("person_id", Integer, nullable=False), Column("last_seen_at", DateTime(timezone=True)))
    drafts = Table("floor_drafts", metadata, Column("id", Integer, primary_key=True),
                   Column("person_id", Integer, nullable=False), Column("answers", JSON, nullable=False),
                   Column("version", Integer, nullable=False))
    return metadata, people, sessions, drafts


class _CoreFloorStore:
    """The floor's three statements through SQLAlchemy Core, each committed as it runs (as the service's answer)."""

    def __init__(self, storage_url: str) -> None:
        from sqlalchemy import bindparam, select
        from sqlalchemy.ext.asyncio import create_async_engine

        _, people, sessions, self._drafts = _floor_tables()
        self._session_with_person = (select(sessions.c.person_id, people.c.name)
                                     .join(people, people.c.id == sessions.c.person_id)
                                     .where(sessions.c.id == bindparam("sid")))
        self._draft_of = (select(self._drafts.c.id, self._drafts.c.answers, self._drafts.c.version)
                          .where(self._drafts.c.person_id == bindparam("pid")))
        self._engine = create_async_engine(storage_url, pool_size=5, isolation_level="AUTOCOMMIT")

    async def close(self) -> None:
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def connection(self):
        async with self._engine.connect() as connection:
            yield connection

    async def person_of(self, connection, session_id: str) -> int | None:
        row = (await connection.execute(self._session_with_person, {"sid": session_id})).first()
        return None if row is None else row.person_id

    async def draft_of(self, connection, person_id: int) -> tuple[int, dict, int]:
        row = (await connection.execute(self._draft_of, {"pid": person_id})).first()
        return row.id, dict(row.answers), row.version

    async def save(self, connection, draft_id: int, answers: dict, version: int) -> bool:
        from sqlalchemy import update

        drafts = self._drafts
        result = await connection.execute(update(drafts).where(drafts.c.id == draft_id, drafts.c.version == version)
                                          .values(answers=answers, version=version + 1))
        return result.rowcount == 1


class _DriverFloorStore:
    """The same three statements through asyncpg's pool alone (PostgreSQL)."""

    def __init__(self, storage_url: str) -> None:
        self._dsn = storage_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._pool = None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @contextlib.asynccontextmanager
    async def connection(self):
        import asyncpg

        if self._pool is None:
            self._pool = await asyncpg.create_pool(self._dsn, min_size=5, max_size=5)
        async with self._pool.acquire() as connection:
            yield connection

    async def person_of(self, connection, session_id: str) -> int | None:
        return await connection.fetchval("SELECT s.person_id FROM floor_sessions s JOIN floor_people p"
                                         " ON p.id = s.person_id WHERE s.id = $1", session_id)

    async def draft_of(self, connection, person_id: int) -> tuple[int, dict, int]:
        row = await connection.fetchrow("SELECT id, answers, version FROM floor_drafts WHERE person_id = $1", person_id)
        return row["id"], json.loads(row["answers"]), row["version"]

    async def save(self, connection, draft_id: int, answers: dict, version: int) -> bool:
        status = await connection.execute(
            "UPDATE floor_drafts SET answers = $1, version = $2 WHERE id = $3 AND version = $4",
            json.dumps(answers, ensure_ascii=False), version + 1, draft_id, version)
        return status == "UPDATE 1"


def _floor_answer(app, store):
    """POST /answer of a floor: a session joined to its person, the person's draft, a versioned UPDATE; a client's
    loopback address picks its rows."""
    from aiohttp import web

    async def stop(app) -> None:
        await store.close()

    app.on_cleanup.append(stop)

    async def answer(request: web.Request) -> web.Response:
        form = await request.post()
        async with store.connection() as connection:
            person_id = await store.person_of(connection, f"s{_floor_row(request.remote)}")
            if person_id is None:
                raise web.HTTPForbidden()
            for _ in range(3):  # a concurrent writer of the row: read it again and retry, as the service does
                draft_id, answers, version = await store.draft_of(connection, person_id)
                answers["k"] = str(form.get("value", ""))[:200]
                if await store.save(connection, draft_id, answers, version):
                    return web.Response(status=303, headers={"Location": "/page"})
        raise web.HTTPConflict()

    return answer


def _floor_row(remote: str | None) -> int:
    """A client's rows: each person of the harness has its own loopback address (see `_client`)."""
    _, b, c, d = (int(part) for part in (remote or "127.0.0.1").split("."))
    return 1 + (b * 65536 + c * 256 + d) % FLOOR_ROWS


async def _create_floor_tables(url: str) -> None:
    from datetime import datetime, timezone

    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import create_async_engine

    metadata, people, sessions, drafts = _floor_tables()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            rows = range(1, FLOOR_ROWS + 1)
            await connection.execute(insert(people), [{"id": n, "name": f"张{n}"} for n in rows])
            await connection.execute(insert(sessions), [{"id": f"s{n}", "person_id": n,
                                                         "last_seen_at": datetime(2020, 1, 1, tzinfo=timezone.utc)}
                                                        for n in rows])
            await connection.execute(insert(drafts), [{"id": n, "person_id": n, "answers": {"name": "张三"},
                                                       "version": 1} for n in rows])
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------------------------------
# /proc


def _proc_status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _runqueue_wait_s(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a core (/proc/PID/task/*/schedstat): large
    when other work on the machine, not the process itself, holds it back."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu_s() -> float:
    """CPU seconds so far of every PostgreSQL process on the machine (the server and its backends)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if raw[raw.index("(") + 1: raw.rindex(")")].startswith("postgres"):
            fields = raw.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """A server process of the run: started, waited for, measured, stopped."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name, self.argv, self.env, self.port, self.log_path = name, argv, env, port, log_path
        self.process: subprocess.Popen | None = None

    async def start(self, timeout: float = 120) -> "Server":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.argv, cwd=self.env.get("BENCH_CWD", ROOT), env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} did not listen on {self.port}:\n{self.tail()}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        assert self.process is not None
        return _proc_cpu_s(self.process.pid)

    def runqueue_wait_s(self) -> float:
        assert self.process is not None
        return _runqueue_wait_s(self.process.pid)

    def peak_rss_mb(self) -> float | None:
        assert self.process is not None
        kb = _proc_status_kb(self.process.pid, "VmHWM")
        return round(kb / 1024, 1) if kb is not None else None

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        return ""

    def tracebacks(self) -> int:
        with contextlib.suppress(OSError):
            return self.log_path.read_text("utf-8", "replace").count("Traceback (most recent call last)")
        return 0

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(200):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.process.kill()
                self.process.wait()
        self._log.close()


# --------------------------------------------------------------------------------------------------
# people


class Stopped(Exception):
    """The run ended while the person was thinking."""


@dataclass
class Step:
    """One answer as a person sends it: what kind, and the form fields (the upload: a file too)."""
    kind: str
    fields: list[tuple[str, str]]
    upload: tuple[bytes, str] | None = None


@dataclass
class Sample:
    started: float  # perf_counter at the POST
    seconds: float
    kind: str


@dataclass
class Record:
    answers: list[Sample] = field(default_factory=list)
    signins: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    people: int = 0
    finished: int = 0


_next_address = iter(range(1, 10**7))


def _client(*, limit: int = 4):
    """One person's browser: its cookies, a few keep-alive connections, its own loopback source address."""
    import aiohttp

    n = next(_next_address)
    local = f"127.{1 + (n // 65536) % 250}.{(n // 256) % 256}.{n % 256 or 1}"
    connector = aiohttp.TCPConnector(limit=limit, local_addr=(local, 0))
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=60))


async def _text(client, method: str, url: str, **kwargs) -> tuple[int, dict, str]:
    async with client.request(method, url, allow_redirects=False, **kwargs) as response:
        return response.status, dict(response.headers), await response.text()


async def _post_and_follow(client, base: str, path: str, step: Step, *, what: str) -> str:
    """One answer as a browser sends it: the form (multipart with the file when it uploads), then the GET its
    303 leads to; returns that page."""
    import aiohttp

    if step.upload is not None:
        data = aiohttp.FormData(quote_fields=False)
        for name, value in step.fields:
            data.add_field(name, value)
        data.add_field("file", step.upload[0], filename=step.upload[1], content_type="application/pdf")
    else:
        data = step.fields
    status, headers, body = await _text(client, "POST", base + path, data=data)
    if status != 303:
        raise AssertionError(f"{what}: {status} {body[:300]}")
    status, _, page = await _text(client, "GET", base + headers["Location"])
    if status != 200:
        raise AssertionError(f"{what} → {headers['Location']}: {status}")
    return page


class Service:
    """The service's pages as a person meets them (the same parsing as tests/e2e/web/support.py)."""

    def __init__(self, base: str, engine) -> None:
        self.base = base
        self.engine = engine

    async def read_code(self, address: str, timeout: float = 10) -> str:
        from sqlalchemy import select

        from core.db.models import OutboxMessage

        deadline = time.monotonic() + timeout
        while True:
            async with self.engine.connect() as connection:
                payload = (await connection.execute(
                    select(OutboxMessage.payload).where(OutboxMessage.kind == "signin_code",
                                                        OutboxMessage.address == address)
                    .order_by(OutboxMessage.id.desc()).limit(1))).scalar()
            if payload:
                payload = json.loads(payload) if isinstance(payload, str) else payload
                return str(payload["code"])
            if time.monotonic() > deadline:
                raise AssertionError(f"no sign-in code for {address} in the outbox")
            await asyncio.sleep(0.05)

    async def sign_in(self, client, address: str) -> str:
        """Notice → agree → address → code from the outbox → /apply; returns the /apply page."""
        from tests.e2e.web.support import csrf_of

        base = self.base
        status, _, notice = await _text(client, "GET", f"{base}/signin")
        assert status == 200, status
        status, _, _ = await _text(client, "POST", f"{base}/signin/notice",
                                   data={"action": "agree", "csrf_token": csrf_of(notice)})
        assert status == 303, f"notice: {status}"
        _, _, form = await _text(client, "GET", f"{base}/signin")
        status, headers, body = await _text(client, "POST", f"{base}/signin",
                                            data={"address": address, "csrf_token": csrf_of(form)})
        assert status == 303 and headers.get("Location") == "/signin/code", f"address: {status} {body[:300]}"
        code = await self.read_code(address)
        _, _, code_page = await _text(client, "GET", f"{base}/signin/code")
        status, headers, body = await _text(client, "POST", f"{base}/signin/code",
                                            data={"code": code, "action": "verify", "csrf_token": csrf_of(code_page)})
        assert status == 303 and headers.get("Location") == "/apply", f"code: {status} {body[:300]}"
        status, _, page = await _text(client, "GET", f"{base}/apply")
        assert status == 200, status
        return page

    @staticmethod
    def next_step(page: str) -> Step | None:
        """What a person answers on this page (None: past the review, the receipt: the end)."""
        from core.sample import SAMPLE_PDF
        from tests.e2e.web.support import EXPERT, csrf_of, page_kind, question_of, token_of

        kind = page_kind(page)
        if kind not in ("role", "question", "review") and not kind.startswith("consent"):
            return None  # the receipt after 提交
        common = [("csrf_token", csrf_of(page))]
        token = [("token", token_of(page))]
        if kind == "review":
            return Step("submit", common + token + [("action", "submit")])
        if kind == "role":
            return Step("role", common + token + [("action", "role"), ("value", "expert")])
        if kind.startswith("consent"):
            return Step("consent", common + token + [("action", "agree")])
        key, question_kind = question_of(page)
        if question_kind == "file":
            if "/files/" not in page:
                return Step("upload", common + token + [("action", "upload")], upload=(SAMPLE_PDF, "学位证书.pdf"))
            return Step("file_done", common + token + [("action", "finish")])
        if key not in EXPERT:
            return Step("skip", common + token + [("action", "skip")])
        value = EXPERT[key]
        if isinstance(value, list):
            return Step("multi_choice", common + token + [("action", "answer"), ("multi", "1")]
                        + [("value", v) for v in value])
        return Step(question_kind, common + token + [("action", "answer"), ("value", value)])

    async def send(self, client, step: Step) -> str:
        """POST the answer, follow its 303: the next page."""
        return await _post_and_follow(client, self.base, "/apply", step, what=step.kind)


class Bare:
    """The baseline's one cycle, with the same form fields (and the same upload) as the service's answer."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def send(self, client, step: Step) -> str:
        return await _post_and_follow(client, self.base, "/answer", step, what=f"bare {step.kind}")


async def think(rng: random.Random, mean_s: float, stop_at: float) -> None:
    pause = rng.expovariate(1 / mean_s) if mean_s > 0 else 0.0
    if time.perf_counter() + pause >= stop_at:
        raise Stopped
    await asyncio.sleep(pause)


async def real_person(service: Service, record: Record, rng: random.Random, think_s: float, stop_at: float,
                      address: str, signed_in: tuple | None = None) -> None:
    """Signs in (unless given a signed-in client and its page) and answers until the receipt."""
    if signed_in is None:
        client = _client()
        started = time.perf_counter()
        try:
            page = await service.sign_in(client, address)
        except BaseException:
            await client.close()
            raise
        record.signins.append(Sample(started, time.perf_counter() - started, "signin"))
    else:
        client, page = signed_in
    try:
        while (step := service.next_step(page)) is not None:
            await think(rng, think_s, stop_at)
            started = time.perf_counter()
            page = await service.send(client, step)
            record.answers.append(Sample(started, time.perf_counter() - started, step.kind))
        record.finished += 1
    finally:
        await client.close()


async def bare_person(bare: Bare, record: Record, rng: random.Random, think_s: float, stop_at: float,
                      steps: list[Step]) -> None:
    client = _client()
    try:
        for step in steps:
            await think(rng, think_s, stop_at)
            started = time.perf_counter()
            await bare.send(client, step)
            record.answers.append(Sample(started, time.perf_counter() - started, step.kind))
        record.finished += 1
    finally:
        await client.close()


# --------------------------------------------------------------------------------------------------
# loops


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _figures(samples: list[Sample]) -> dict:
    if not samples:
        return {"n": 0}
    values = [s.seconds * 1000 for s in samples]
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(_percentile(values, 0.95), 1), "p99_ms": round(_percentile(values, 0.99), 1),
            "max_ms": round(max(values), 1)}


async def open_loop(person, *, rate: float, answers_per_person: int, think_s: float, ramp_s: float,
                    duration_s: float, grace_s: float, seed: int, server: Server) -> dict:
    """People arrive at random (Poisson) so that `rate` answers/s are offered once arrivals and departures
    balance (after `ramp_s`); answers sent during the next `duration_s` are measured."""
    rng = random.Random(seed)
    record = Record()
    began = time.perf_counter()
    window = (began + ramp_s, began + ramp_s + duration_s)
    stop_at = window[1]
    arrivals_per_s = rate / answers_per_person
    tasks: list[asyncio.Task] = []

    async def one(n: int) -> None:
        record.people += 1
        try:
            await person(record, random.Random(seed * 7919 + n), stop_at, n)
        except Stopped:
            return
        except asyncio.CancelledError:
            record.failures.append("unanswered at the end of the run")
        except Exception as error:  # noqa: BLE001 - a person failing is a result, not a crash
            record.failures.append(f"{type(error).__name__}: {error}"[:300])

    n = 0
    cpu_at_window: float | None = None
    harness_at_window = waited_at_window = 0.0
    while True:
        now = time.perf_counter()
        if cpu_at_window is None and now >= window[0]:
            cpu_at_window, harness_at_window = server.cpu_s(), _self_cpu_s()
            waited_at_window = server.runqueue_wait_s()
        if now >= stop_at:
            break
        tasks.append(asyncio.create_task(one(n)))
        n += 1
        await asyncio.sleep(min(rng.expovariate(arrivals_per_s), max(0.0, stop_at - now)))
    if cpu_at_window is None:
        cpu_at_window, harness_at_window = server.cpu_s(), _self_cpu_s()
        waited_at_window = server.runqueue_wait_s()
    window_end = time.perf_counter()
    cpu_window_s = server.cpu_s() - cpu_at_window
    waited_window_s = server.runqueue_wait_s() - waited_at_window
    harness_window_s = _self_cpu_s() - harness_at_window
    done, waiting = await asyncio.wait(tasks, timeout=grace_s)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    server.check_alive()
    measured = [s for s in record.answers if window[0] <= s.started < window[1]]
    by_kind: dict[str, list[Sample]] = {}
    for sample in measured:
        by_kind.setdefault(sample.kind, []).append(sample)
    result = {
        "offered_per_s": rate, "measured_s": duration_s, "ramp_s": round(ramp_s, 1),
        "answers_per_s": round(len(measured) / duration_s, 1), **_figures(measured),
        "by_kind": {kind: _figures(samples) for kind, samples in sorted(by_kind.items())},
        "people": record.people, "finished": record.finished,
        "failures": len(record.failures), "failure_examples": sorted(set(record.failures))[:5],
        # over the measured window (% of one core); the server's CPU includes the sign-ins of that time
        "server_cpu_ms_per_answer": round(cpu_window_s * 1000 / max(1, len(measured)), 2),
        "server_cpu_pct": round(cpu_window_s * 100 / max(1e-9, window_end - window[0]), 1),
        "server_runqueue_wait_pct": round(waited_window_s * 100 / max(1e-9, window_end - window[0]), 1),
        "harness_cpu_pct": round(harness_window_s * 100 / max(1e-9, window_end - window[0]), 1),
    }
    if record.signins:
        result["signin"] = _figures([s for s in record.signins if window[0] <= s.started < window[1]])
    return result


async def closed_loop(make_person, *, people: int, duration_s: float, server: Server) -> dict:
    """`people` clients, each sending its next answer as soon as its page arrived, for `duration_s`."""
    record = Record()
    stop_at = time.perf_counter() + duration_s

    async def seat(slot: int) -> None:
        while time.perf_counter() < stop_at:
            try:
                await make_person(record, stop_at, slot)
            except Stopped:
                return
            except Exception as error:  # noqa: BLE001
                record.failures.append(f"{type(error).__name__}: {error}"[:300])
                return

    cpu, harness, postgres, waited = server.cpu_s(), _self_cpu_s(), _postgres_cpu_s(), server.runqueue_wait_s()
    began = time.perf_counter()
    await asyncio.gather(*(seat(slot) for slot in range(people)))
    wall = time.perf_counter() - began
    server.check_alive()
    answers = [s for s in record.answers if s.started < stop_at]
    return {"clients": people, "wall_s": round(wall, 1), "per_s": round(len(answers) / wall, 1),
            **_figures(answers), "failures": len(record.failures),
            "failure_examples": sorted(set(record.failures))[:5],
            "server_cpu_pct": round((server.cpu_s() - cpu) * 100 / wall, 1),
            "harness_cpu_pct": round((_self_cpu_s() - harness) * 100 / wall, 1),
            "postgres_cpu_pct": round((_postgres_cpu_s() - postgres) * 100 / wall, 1),
            "server_runqueue_wait_pct": round((server.runqueue_wait_s() - waited) * 100 / wall, 1),
            "server_cpu_ms_per_answer": round((server.cpu_s() - cpu) * 1000 / max(1, len(answers)), 2)}


# --------------------------------------------------------------------------------------------------
# the run


async def _seed_existing(url: str, tmp: Path, experts: int) -> None:
    """A national batch already in the tables (submitted, most approved), as benchmarks/console_pages.py makes
    it: the people of this run sign in and answer beside it (a sign-in looks for a Telegram applicant's
    applications; every page reads the person's own)."""
    from sqlalchemy import text as sql

    from benchmarks.console_pages import multiply
    from core.bootstrap import bootstrap
    from core.sample import populate
    from core.settings import Settings

    began = time.perf_counter()
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp / "seed-data", documents_dir=tmp / "seed-docs",
                        default_batch_deadline=(date.today() + timedelta(days=60)).isoformat())
    core = bootstrap(settings)
    try:
        await populate(people=core.people, intake=core.intake, experts=20, universities=5, seed=3)
        await multiply(core, experts=experts, universities=max(5, experts // 20), seed=3)
        async with core.engine.begin() as connection:
            if core.engine.dialect.name == "postgresql":
                await connection.execute(sql("ANALYZE"))
    finally:
        await core.close()
    print(f"seeded {experts} expert applications and {max(5, experts // 20)} intents in "
          f"{time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict:
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.support.databases import throwaway_database

    _raise_fd_limit()
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="web-intake-bench-")))
        url = await stack.enter_async_context(throwaway_database(args.db, tmp))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WEB_", "SMTP_", "REDIS_", "SMS_", "ALIYUN_"))}
        env.update({"DATABASE_URL": url, "DATA_DIR": str(tmp / "data"), "DOCUMENTS_DIR": str(tmp / "documents"),
                    "DEFAULT_BATCH_DEADLINE": (date.today() + timedelta(days=60)).isoformat(), "BENCH_CWD": str(tmp)})
        web_port, bare_port = _free_port(), _free_port()
        service_process = Server("innoeng web", [sys.executable, "-m", "innoeng", "web", "--host", "127.0.0.1",
                                                 "--port", str(web_port)], env, web_port, tmp / "web.log")
        stack.push_async_callback(service_process.stop)
        await service_process.start()
        engine = create_async_engine(url, pool_size=5)
        stack.push_async_callback(engine.dispose)
        service = Service(service_process.base, engine)
        if args.existing_experts:
            await _seed_existing(url, tmp, args.existing_experts)

        # A warm-up person (not measured): the sequence of answers, and the size of the question pages.
        client = _client()
        page = await service.sign_in(client, "warmup@example.com")
        steps: list[Step] = []
        question_bytes: list[int] = []
        async with client:
            while (step := service.next_step(page)) is not None:
                steps.append(step)
                page = await service.send(client, step)
                if 'data-question="' in page:
                    question_bytes.append(len(page.encode()))
        size = int(statistics.median(question_bytes))

        bare_process = Server("bare aiohttp + jinja2", [sys.executable, str(Path(__file__).resolve()), "--serve-bare",
                                                        "--port", str(bare_port), "--size", str(size)],
                              env, bare_port, tmp / "bare.log")
        stack.push_async_callback(bare_process.stop)
        await bare_process.start()
        bare = Bare(bare_process.base)
        # The floors: the bare app plus an answer's three statements (Core; the driver alone on PostgreSQL).
        await _create_floor_tables(url)
        floors: dict[str, tuple[Server, Bare]] = {}
        for kind in ("core", "driver") if args.db == "postgresql" else ("core",):
            port = _free_port()
            process = Server(f"floor ({kind})", [
                sys.executable, str(Path(__file__).resolve()), "--serve-bare", "--port", str(port), "--size",
                str(size), "--storage-url", url, "--floor", kind], env, port, tmp / f"floor-{kind}.log")
            stack.push_async_callback(process.stop)
            await process.start()
            floors[kind] = (process, Bare(process.base))
        async with _client() as probe:
            bare_bytes = len((await (await probe.get(f"{bare.base}/page")).read()))
        # The bare replay: the same kinds and fields (the same upload) as the warm-up person's answers.
        replay = steps

        ramp_s = args.ramp_s if args.ramp_s is not None else len(steps) * args.think_s
        common = dict(rate=args.rate, answers_per_person=len(steps), think_s=args.think_s, ramp_s=ramp_s,
                      duration_s=args.duration_s, grace_s=args.grace_s, seed=args.seed)

        async def real(record, rng, stop_at, n):
            await real_person(service, record, rng, args.think_s, stop_at, f"person{n}@example.com")

        async def bare_one(record, rng, stop_at, n):
            await bare_person(bare, record, rng, args.think_s, stop_at, replay)

        print(f"open loop: {args.rate} answers/s offered, {len(steps)} answers a person, think {args.think_s} s, "
              f"ramp {ramp_s:.0f} s + {args.duration_s} s measured", file=sys.stderr, flush=True)
        open_real = await open_loop(real, server=service_process, **common)
        print(f"  service: {json.dumps({k: v for k, v in open_real.items() if k != 'by_kind'}, ensure_ascii=False)}",
              file=sys.stderr, flush=True)
        open_bare = await open_loop(bare_one, server=bare_process, **common)
        print(f"  bare:    {json.dumps({k: v for k, v in open_bare.items() if k != 'by_kind'}, ensure_ascii=False)}",
              file=sys.stderr, flush=True)

        # Closed loop: people signed in beforehand (sign-in is not an answer), more than the run will need.
        signed_in: list[tuple] = []
        needed = args.closed_people * max(2, args.closed_people_each)
        for n in range(needed):
            client = _client()
            signed_in.append((client, await service.sign_in(client, f"closed{n}@example.com")))
        pool = iter(signed_in)
        extra = iter(range(10**6))

        async def real_closed(record, stop_at, slot):
            ready = next(pool, None)
            if ready is None:  # the pool ran out: a sign-in inside the timed run (reported)
                record.failures.append("closed loop: pool of signed-in people ran out (raise --closed-people-each)")
                client = _client()
                ready = (client, await service.sign_in(client, f"closed-extra{next(extra)}@example.com"))
            await real_person(service, record, random.Random(slot), 0.0, stop_at, "", signed_in=ready)

        async def bare_closed(record, stop_at, slot):
            await bare_person(bare, record, random.Random(slot), 0.0, stop_at, replay)

        closed_real = await closed_loop(real_closed, people=args.closed_people, duration_s=args.closed_s,
                                        server=service_process)
        for client, _ in pool:
            await client.close()
        print(f"closed loop, service: {json.dumps(closed_real, ensure_ascii=False)}", file=sys.stderr, flush=True)
        closed_bare = await closed_loop(bare_closed, people=args.closed_people, duration_s=args.closed_s,
                                        server=bare_process)
        print(f"closed loop, bare:    {json.dumps(closed_bare, ensure_ascii=False)}", file=sys.stderr, flush=True)

        closed_floors: dict[str, dict] = {}
        for kind, (process, floor) in floors.items():
            async def floor_closed(record, stop_at, slot, floor=floor):
                await bare_person(floor, record, random.Random(slot), 0.0, stop_at, replay)

            closed_floors[kind] = await closed_loop(floor_closed, people=args.closed_people,
                                                    duration_s=args.closed_s, server=process)
            print(f"closed loop, floor ({kind}): {json.dumps(closed_floors[kind], ensure_ascii=False)}",
                  file=sys.stderr, flush=True)

        def versus_bare(figures: dict) -> float | None:
            return round(figures["per_s"] / closed_bare["per_s"], 3) if closed_bare["per_s"] else None

        ratio = versus_bare(closed_real)
        p95 = open_real.get("p95_ms")
        result = {
            "benchmark": "web_intake", "db": args.db,
            "baseline": (f"bare aiohttp + jinja2 app in its own process (python benchmarks/web_intake.py --serve-bare): "
                         f"one autoescaped template rendered to {bare_bytes} bytes (the service's median question page: "
                         f"{size} bytes), POST /answer → 303 → GET /page with the same form fields and upload; "
                         f"same arrivals, think times and clients, same run"),
            "existing_expert_applications": args.existing_experts,
            "answers_per_person": len(steps), "answer_kinds": sorted({s.kind for s in steps}),
            "question_page_bytes": size, "bare_page_bytes": bare_bytes,
            "open_loop": {"think_s": args.think_s, "service": open_real, "bare": open_bare},
            "closed_loop": {"service_answers_per_s": closed_real["per_s"], "bare_cycles_per_s": closed_bare["per_s"],
                            "ratio": ratio, "service": closed_real, "bare": closed_bare,
                            "floors": {kind: {"cycles_per_s": figures["per_s"], "ratio": versus_bare(figures),
                                              **figures} for kind, figures in closed_floors.items()}},
            "rss_mb": {"service_peak": service_process.peak_rss_mb(), "bare_peak": bare_process.peak_rss_mb()},
            "service_tracebacks_in_log": service_process.tracebacks(),
            "targets": {"p95_ms_below": P95_TARGET_MS, "at_answers_per_s": 100, "ratio_at_least": RATIO_TARGET,
                        "p95_met": (p95 is not None and p95 < P95_TARGET_MS and args.rate >= 100
                                    and open_real["failures"] == 0),
                        "ratio_met": ratio is not None and ratio >= RATIO_TARGET},
        }
        if args.rate < 100:
            result["targets"]["note"] = f"offered {args.rate} answers/s, not 100: p95_met is false by definition"
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--rate", type=float, default=100.0, help="answers/s offered in the open loop")
    parser.add_argument("--think-s", type=float, default=1.0, help="mean think time before an answer (exponential)")
    parser.add_argument("--ramp-s", type=float, default=None,
                        help="unmeasured start of the open loop (default: answers a person × think-s)")
    parser.add_argument("--duration-s", type=float, default=30.0, help="measured part of the open loop")
    parser.add_argument("--grace-s", type=float, default=10.0)
    parser.add_argument("--closed-people", type=int, default=8, help="concurrent clients in the closed loop")
    parser.add_argument("--closed-people-each", type=int, default=12,
                        help="people signed in beforehand per closed-loop client")
    parser.add_argument("--closed-s", type=float, default=15.0)
    parser.add_argument("--existing-experts", type=int, default=0,
                        help="expert applications already in the tables before the run (e.g. 100000: a national batch)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage-url", help=argparse.SUPPRESS)
    parser.add_argument("--floor", choices=("core", "driver"), default="core", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        return serve_bare(args.port, args.size, args.storage_url, args.floor)
    result = asyncio.run(run(args))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
