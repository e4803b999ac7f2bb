"""Server time of the console's working pages at national scale, beside the same queries run bare.

    .venv/bin/python benchmarks/console_pages.py                       # 20,000 experts, 1,500 intents, PostgreSQL
    .venv/bin/python benchmarks/console_pages.py --experts 2000 --universities 150 --db sqlite

Data: `core.sample.populate` makes a seed of applications through the real services (consent, answers,
a proof file, submit); the seed is then copied row for row (people, applications, their course index,
proof-file rows, course demands) with distinct names and submission times spread over 30 days, until
there are --experts expert applications and --universities intents. Copying keeps the set-up to seconds:
going through the services 21,500 times would take most of an hour on this machine, and the pages only read.
60 % of the experts are then approved (the pool), 35 % wait for review, 5 % were asked for more.

Measured through the running console over loopback HTTP, signed in as a reviewer (one request at a time):
- queue: /applications filtered (status=submitted + a course), then five keyset pages deep;
- detail: /applications/{id} of random experts (answers, verdict, files, history, neighbours in the queue);
- pool_export: /pool.xlsx filtered by course and province (what staff download); the full pool's export
  is timed as `pool_export_all` (one spreadsheet of every approved expert: information only), five times
  with the current builder (XlsxWriter) alternating with the openpyxl write-only builder it replaced, plus
  both builders alone on the same rows (`build_only_ms`): before and after from the same run;
- dashboard: / (engineer F1's page).
Baseline beside each, in the same run: the page's main query run bare through SQLAlchemy (no rendering,
no HTTP). `queries` counts the SQL statements per page (engine events); `queries_by_page_size` shows the
queue's count at 10, 50 and 200 rows.

The last stdout line is the JSON result.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from sqlalchemy import event, func, insert, select, update  # noqa: E402

from console.app import start_console  # noqa: E402
from core.bootstrap import bootstrap  # noqa: E402
from core.db.models import Application, AuditEntry, CourseDemand, Document, ExpertCourse, Person  # noqa: E402
from core.sample import populate  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.support.databases import throwaway_database  # noqa: E402

PASSWORD = "长城-Benchmark-2025"
CHUNK = 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def figures(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "p95_ms": round(percentile(samples, 0.95) * 1000, 1),
            "n": len(samples)}


async def multiply(core, *, experts: int, universities: int, seed: int) -> None:
    """Copies the service-made seed rows until the wanted counts are reached."""
    rng = random.Random(seed)
    now = core.clock()
    async with core.uow() as uow:
        session = uow.session
        seeds = (await session.scalars(select(Application).where(Application.submitted_at.is_not(None)))).all()
        people = {p.id: p for p in (await session.scalars(select(Person))).all()}
        documents = {d.application_id: d for d in (await session.scalars(select(Document))).all()}
        demands: dict[int, list[CourseDemand]] = {}
        for d in (await session.scalars(select(CourseDemand))).all():
            demands.setdefault(d.application_id, []).append(d)
        by_form = {"expert": [a for a in seeds if a.form == "expert"], "university": [a for a in seeds if a.form == "university"]}
        for form, wanted in (("expert", experts), ("university", universities)):
            sources = by_form[form]
            missing = wanted - len(sources)
            for start in range(0, max(0, missing), CHUNK):
                count = min(CHUNK, missing - start)
                picks = [sources[(start + i) % len(sources)] for i in range(count)]
                person_rows = []
                for n, src in enumerate(picks):
                    p = people[src.person_id]
                    person_rows.append(dict(
                        display_name=(p.display_name or "") + str(start + n), email=p.email, mobile=p.mobile,
                        preferred_channel=p.preferred_channel, locale=p.locale, role=p.role, consent_version=p.consent_version,
                        consented_at=p.consented_at, sensitive_consented_at=p.sensitive_consented_at, created_at=p.created_at,
                    ))
                person_ids = (await session.scalars(insert(Person).returning(Person.id), person_rows)).all()
                app_rows = []
                for n, (src, person_id) in enumerate(zip(picks, person_ids)):
                    answers = dict(src.answers)
                    key = "name" if form == "expert" else "university_name"
                    answers[key] = f"{answers.get(key, '')}{start + n:05d}"
                    submitted = now - timedelta(days=30) + timedelta(seconds=rng.randrange(30 * 86400))
                    app_rows.append(dict(
                        batch_id=src.batch_id, person_id=person_id, form=form, status=src.status, answers=answers,
                        cursor=src.cursor, eligibility=src.eligibility, eligibility_outcome=src.eligibility_outcome,
                        priority_score=src.priority_score, province=src.province, submitted_at=submitted,
                        created_at=submitted - timedelta(hours=1), updated_at=submitted, version=1,
                    ))
                app_ids = (await session.scalars(insert(Application).returning(Application.id), app_rows)).all()
                courses, files, needs = [], [], []
                for src, app_id in zip(picks, app_ids):
                    if form == "expert":
                        courses += [dict(application_id=app_id, course=c) for c in src.answers.get("courses") or []]
                        doc = documents.get(src.id)
                        if doc is not None:
                            files.append(dict(application_id=app_id, question_key=doc.question_key, sha256=doc.sha256,
                                              size=doc.size, mime=doc.mime, stored_name=f"copy-{app_id}-{doc.stored_name}"[:100],
                                              original_name=doc.original_name, created_at=doc.created_at))
                    else:
                        needs += [dict(application_id=app_id, course=d.course, hours=d.hours, experts_needed=d.experts_needed,
                                       mode=d.mode, schedule=d.schedule) for d in demands.get(src.id, [])]
                for model, rows in ((ExpertCourse, courses), (Document, files), (CourseDemand, needs)):
                    if rows:
                        await session.execute(insert(model), rows)
        await uow.commit()
    # Review states: most of the pool approved, a third waiting, a few asked for more.
    async with core.uow() as uow:
        ids = list((await uow.session.scalars(
            select(Application.id).where(Application.form == "expert").order_by(Application.id))).all())
        rng.shuffle(ids)
        approved, asked = ids[: int(len(ids) * 0.6)], ids[int(len(ids) * 0.6): int(len(ids) * 0.65)]
        for group, status in ((approved, "approved"), (asked, "needs_info")):
            for start in range(0, len(group), CHUNK):
                await uow.session.execute(update(Application).where(Application.id.in_(group[start:start + CHUNK]))
                                          .values(status=status, reviewed_at=now, reviewed_by="staff:bench"))
        await uow.commit()


async def sign_in(client: aiohttp.ClientSession, base: str, email: str) -> None:
    page = await (await client.get(f"{base}/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    async with client.post(f"{base}/login", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": ""},
                           allow_redirects=False) as response:
        assert response.status in (302, 303), f"login failed: {response.status}"


class StatementCounter:
    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


async def timed_get(client, url: str, counter: StatementCounter) -> tuple[float, int, bytes]:
    before = counter.count
    started = time.perf_counter()
    async with client.get(url) as response:
        body = await response.read()
        assert response.status == 200, f"{url}: {response.status}"
    return time.perf_counter() - started, counter.count - before, body


async def bare(core, work) -> float:
    started = time.perf_counter()
    async with core.uow() as uow:
        await work(uow.session)
    return time.perf_counter() - started


def openpyxl_write_only(title: str, header, rows) -> bytes:
    """The pool's workbook as it was built before XlsxWriter (openpyxl write-only, a text cell per string)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from core.exports import append_text_row

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    heading = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        heading.append(cell)
    sheet.append(heading)
    for row in rows:
        append_text_row(sheet, row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def whole_pool_export(client, base: str, counter, *, rows: int, repeat: int = 5) -> dict:
    """/pool.xlsx unfiltered (every approved expert), through HTTP with the current builder and with the
    openpyxl one it replaced, and the two builders alone on the same rows: before and after in one run."""
    from core.exports import streamed_workbook
    from core.services import queue as queue_module

    current = queue_module._workbook
    captured: dict = {}

    def capturing(title, header, built_rows):
        captured.update(title=title, header=header, rows=list(built_rows))
        return current(title, header, captured["rows"])

    builders = {"xlsxwriter": capturing, "openpyxl_write_only": openpyxl_write_only}
    samples: dict[str, list[float]] = {name: [] for name in builders}
    queries = 0
    for _ in range(repeat):  # alternated, so that a busy moment of the machine weighs on both alike
        for name, builder in builders.items():
            queue_module._workbook = builder
            try:
                elapsed, queries, _body = await timed_get(client, f"{base}/pool.xlsx", counter)
            finally:
                queue_module._workbook = current
            samples[name].append(elapsed)
    figures_by_builder = {name: {"p50_ms": round(statistics.median(values) * 1000, 1),
                                 "min_ms": round(min(values) * 1000, 1)} for name, values in samples.items()}
    build: dict[str, list[float]] = {"xlsxwriter": [], "openpyxl_write_only": []}
    for _ in range(repeat):
        for name, builder in (("xlsxwriter", streamed_workbook), ("openpyxl_write_only", openpyxl_write_only)):
            started = time.perf_counter()
            builder(captured["title"], captured["header"], captured["rows"])
            build[name].append(time.perf_counter() - started)
    build = {name: {"p50_ms": round(statistics.median(values) * 1000, 1), "min_ms": round(min(values) * 1000, 1)}
             for name, values in build.items()}
    return {"ms": figures_by_builder["xlsxwriter"]["p50_ms"], "queries": queries, "rows": len(captured["rows"]),
            "expected_rows": rows, "http_by_builder": figures_by_builder, "build_only_ms": build}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=20_000)
    parser.add_argument("--universities", type=int, default=1_500)
    parser.add_argument("--seed-experts", type=int, default=200)
    parser.add_argument("--seed-universities", type=int, default=40)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()

    async with AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="console-bench-")))
        url = await stack.enter_async_context(throwaway_database(args.db, tmp))
        settings = Settings(_env_file=None, database_url=url, data_dir=tmp / "data", documents_dir=tmp / "documents",
                            default_batch_deadline=(date.today() + timedelta(days=60)).isoformat())
        core = bootstrap(settings)
        stack.push_async_callback(core.close)
        await core.prepare()
        setup_started = time.perf_counter()
        await populate(people=core.people, intake=core.intake, experts=args.seed_experts, universities=args.seed_universities)
        await multiply(core, experts=args.experts, universities=args.universities, seed=7)
        setup_s = time.perf_counter() - setup_started
        link = await core.staff.add(email="console-perf@example.org", name="基准测试", role="reviewer", actor="bench")
        await core.staff.complete_setup(token=link.token, password=PASSWORD, confirm=PASSWORD)
        runner, base = await start_console(core, host="127.0.0.1", port=0, secure_cookies=False)
        stack.push_async_callback(runner.cleanup)
        client = await stack.enter_async_context(aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))
        await sign_in(client, base, "console-perf@example.org")
        counter = StatementCounter(core.engine)
        rng = random.Random(11)

        async with core.uow() as uow:
            counts = dict((await uow.session.execute(
                select(Application.form, func.count()).group_by(Application.form))).all())
            expert_ids = (await uow.session.scalars(select(Application.id).where(Application.form == "expert"))).all()
        course, province = "创新思维", "广东"

        results: dict[str, dict] = {}
        # --- the queue, filtered and paged
        times, queries, base_times = [], [], []
        for _ in range(max(1, args.repeat // 6)):
            link_url = f"{base}/applications?status=submitted&course={course}"
            for _depth in range(6):
                elapsed, n, body = await timed_get(client, link_url, counter)
                times.append(elapsed)
                queries.append(n)
                after = re.search(rb'href="(/applications\?[^"]*after=[^"]+)"', body)
                if after is None:
                    break
                link_url = base + after.group(1).decode().replace("&amp;", "&")

        async def queue_query(session):
            inside = select(ExpertCourse.application_id).where(ExpertCourse.course == course)
            await session.scalars(select(Application).where(
                Application.submitted_at.is_not(None), Application.form == "expert", Application.status == "submitted",
                Application.id.in_(inside)).order_by(Application.submitted_at, Application.id).limit(51))

        for _ in range(len(times)):
            base_times.append(await bare(core, queue_query))
        by_size = {}
        for size in (10, 50, 200):
            _, n, _ = await timed_get(client, f"{base}/applications?status=submitted&size={size}", counter)
            by_size[str(size)] = n
        results["queue"] = {**figures(times), "queries": max(queries), "baseline": figures(base_times),
                            "queries_by_page_size": by_size}

        # --- an application's detail
        times, queries, base_times = [], [], []
        picks = [rng.choice(expert_ids) for _ in range(args.repeat)]
        for app_id in picks:
            elapsed, n, _ = await timed_get(client, f"{base}/applications/{app_id}", counter)
            times.append(elapsed)
            queries.append(n)
        for app_id in picks:
            async def detail_query(session, app_id=app_id):
                await session.get(Application, app_id)
                await session.scalars(select(Document).where(Document.application_id == app_id))
                await session.scalars(select(AuditEntry).where(AuditEntry.subject == f"application:{app_id}"))
            base_times.append(await bare(core, detail_query))
        results["detail"] = {**figures(times), "queries": max(queries), "baseline": figures(base_times)}

        # --- the pool export (filtered as staff download it), and the whole pool once
        times, queries, base_times, rows = [], [], [], 0
        for _ in range(max(3, args.repeat // 4)):
            elapsed, n, body = await timed_get(client, f"{base}/pool.xlsx?course={course}&province={province}", counter)
            times.append(elapsed)
            queries.append(n)

        async def pool_query(session):
            inside = select(ExpertCourse.application_id).where(ExpertCourse.course == course)
            found = (await session.scalars(select(Application).where(
                Application.form == "expert", Application.status == "approved", Application.id.in_(inside),
                Application.province == province).order_by(Application.priority_score.desc(), Application.submitted_at,
                                                           Application.id))).all()
            return len(found)

        for _ in range(len(times)):
            base_times.append(await bare(core, pool_query))
        async with core.uow() as uow:
            rows = await pool_query(uow.session)
        results["pool_export"] = {**figures(times), "queries": max(queries), "rows": rows, "baseline": figures(base_times)}
        results["pool_export_all"] = await whole_pool_export(client, base, counter, rows=int(len(expert_ids) * 0.6))

        # --- the dashboard (F1's page)
        times, queries, base_times = [], [], []
        for _ in range(args.repeat):
            elapsed, n, _ = await timed_get(client, f"{base}/", counter)
            times.append(elapsed)
            queries.append(n)

        async def dashboard_query(session):
            await session.execute(select(Application.form, Application.status, func.count()).group_by(
                Application.form, Application.status))

        for _ in range(len(times)):
            base_times.append(await bare(core, dashboard_query))
        results["dashboard"] = {**figures(times), "queries": max(queries), "baseline": figures(base_times)}

        target = all(results[k]["p95_ms"] < 200 for k in ("queue", "detail", "pool_export", "dashboard"))
        summary = {
            "benchmark": "console_pages", "db": args.db, "experts": counts.get("expert", 0),
            "universities": counts.get("university", 0), "setup_s": round(setup_s, 1), "pages": results,
            "target_p95_ms": 200, "target_met": target,
        }
        print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
