"""A matching run as the service does it, at national scale: the memory and time of the whole job, beside the engine's.

    .venv/bin/python benchmarks/matching_service.py --tier S|M|L|XL [--time-limit 10] [--seed 0] [--db-url URL]

`benchmarks/matching_scale.py` measures the engine's path alone (the generated profiles in memory,
`build_instance`, `solve`). The *service* must finish an XL run within 2 GB: load the pool and the intents from
PostgreSQL, build the profiles (`core.services.profiles`), solve, store the run and its proposals.
This does that, in one process:

1. The batch of `matching_scale.generate_batch(tier, seed)` (the same experts and demands).
2. The engine-only baseline, in a forked child (so the service's peak below stays clean): `build_instance` +
   `solve` over the generated profiles *as the service can hold them* (the expert form has no max_slots: every
   profile the service builds has the default; `--baseline-as generated` keeps the generated max_slots, as
   matching_scale does), the same time limit; its peak RSS (VmHWM, reset in the child), build and solve times.
3. A fresh PostgreSQL database `innoeng_bench_match_<pid>` on 127.0.0.1 (`BENCH_POSTGRES_DSN` to change the
   server; dropped at the end, also on failure), migrated and opened by `core.bootstrap` + `Core.prepare`
   (what every process does); or `--db-url` (an empty database you own: it is seeded and kept).
4. Seeding by bulk INSERTs (SQLAlchemy Core, as `console_pages.multiply`): one batch; per expert a person and an
   approved expert application whose answers give exactly the generated profile (courses, teaching_mode,
   province, offline_provinces, available_times, priority_conditions, society_member, max_universities) plus the
   ordinary answers of the form, and its expert_courses rows; per university a person, a university intent
   (submitted or approved: both are MATCHED_INTENTS) with its province, and its course_demands rows.
   With `--check` (always at tier S) the profiles the service builds from the rows
   (`pool_profiles`, `demand_profiles`) are compared with the generated ones, field by field.
5. The measured run: the generated batch is dropped, free heap handed back (`_release_free_memory`), the peak-RSS
   counter reset; then `MatchingService.request_run` (what the console, the bot and the CLI call) and a
   `MatchingWorker` in this process that claims and solves it (`run_once`: the same `jobs.claim` + `execute` the
   worker loop of `innoeng match worker` / the notifier runs). Stages are timed from the progress the solve
   reports ("loading", "solving", "storing"); a sampler thread keeps each stage's highest RSS; the SQL
   statements each stage issued are counted (engine events).

The last stdout line is one JSON object; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import fields, replace
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from core.bootstrap import bootstrap  # noqa: E402
from core.db.models import Application, Batch as BatchRow, CourseDemand, ExpertCourse, Person  # noqa: E402
from core.domain import ApplicationStatus, FormKind  # noqa: E402
from core.domain.courses import course_mask  # noqa: E402
from core.matching import ExpertProfile, build_instance, solve  # noqa: E402
from core.matching.candidates import candidate_count  # noqa: E402
from core.services import CONSENT_VERSION  # noqa: E402
import core.services.matching as service_module  # noqa: E402
from core.services.matching_worker import MatchingWorker  # noqa: E402
from core.services.profiles import cap_exceptions, demand_profiles, parse_key, pool_profiles  # noqa: E402
from core.settings import Settings  # noqa: E402

POSTGRES_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
CHUNK = 5000
STAFF = "bench:matching_service"
# What every profile the service builds has: the expert form does not ask for a number of courses.
SERVICE_MAX_SLOTS = {f.name: f for f in fields(ExpertProfile)}["max_slots"].default

# The ordinary answers of the forms (tests/support/factories.py), under the profile's own.
EXPERT_ANSWERS = {
    "birth_date": "1975-06-01", "mobile": "13812345678", "email": "expert@example.com", "city": "某市",
    "employer": "某某科技有限公司", "employer_type": "high_tech", "years_at_employer": 10, "position": "总工程师",
    "education": "master", "title": "senior_associate", "duties": ["teaching", "co_developing"],
    "employer_consent": True, "profile": "二十年产品研发经验，长期运用 TRIZ 解决工程难题，带领团队完成多项技术攻关。",
    "declaration": True,
}
UNIVERSITY_ANSWERS = {
    "level": "undergraduate", "city": "某市", "contact_name": "李老师", "contact_department": "教务处",
    "contact_position": "副处长", "contact_mobile": "13900001111", "contact_email": "contact@example.edu.cn",
    "planned_start": "2027-09", "expected_students": 80, "schedule_preference": ["weekend_intensive"],
    "society_member_unit": False,
}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_scale() -> ModuleType:
    """benchmarks/matching_scale.py as a module (as tests/unit/matching/matching_instances.load_benchmark)."""
    path = ROOT / "benchmarks" / "matching_scale.py"
    spec = importlib.util.spec_from_file_location("matching_scale", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


scale = load_scale()


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------------------------- engine baseline
def _as_service_sees(experts: list[ExpertProfile]) -> list[ExpertProfile]:
    return [replace(e, max_slots=SERVICE_MAX_SLOTS) for e in experts]


def _engine_child(job, results) -> None:
    batch, time_limit, as_generated = job
    try:
        experts = batch.experts if as_generated else _as_service_sees(batch.experts)
        scale._release_free_memory()
        rss_before = scale._rss_mb("VmRSS")
        reset = scale._reset_peak_rss()
        load_before = loadavg()
        started = time.perf_counter()
        instance = build_instance(experts, batch.demands)
        build_s = time.perf_counter() - started
        solution = solve(instance, time_limit=time_limit)
        total_s = time.perf_counter() - started
        peak = scale._rss_mb("VmHWM") if reset else None
        # Counted after the peak was read: the count is not part of the engine's path.
        pairs = candidate_count(experts, batch.demands) if instance.dropped_below else len(instance.edges)
        results.put({
            "engine_rss_before_mb": rss_before, "engine_peak_rss_mb": peak,
            "engine_peak_over_before_mb": round(peak - rss_before, 1) if peak and rss_before else None,
            "engine_build_s": round(build_s, 3), "engine_solve_s": round(solution.time_s, 3),
            "engine_total_s": round(total_s, 3), "engine_filled": solution.filled,
            "engine_total_need": solution.total_need, "engine_score": round(solution.score, 6),
            "engine_gap": round(solution.gap, 8), "engine_status": solution.status,
            "engine_candidate_pairs": int(pairs), "engine_edges": len(instance.edges),
            "engine_stats": solution.stats, "engine_load_average": load_before, "engine_load_average_after": loadavg(),
        })
    except BaseException as exc:  # out of memory and the like: the finding
        results.put({"engine_filled": None, "engine_status": f"failed: {type(exc).__name__}: {exc}"[:200]})


def engine_baseline(batch, time_limit: float, as_generated: bool, timeout: float) -> dict:
    outcome = scale._in_child(_engine_child, (batch, time_limit, as_generated), timeout, "engine")
    outcome["engine_profiles"] = "generated" if as_generated else f"as the service builds them (max_slots={SERVICE_MAX_SLOTS})"
    return outcome


# ---------------------------------------------------------------------------------------------- database
def _url(database: str) -> str:
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def create_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def seed(core, batch, *, seed_value: int) -> dict:
    """The generated batch as rows: returns the batch id and the application ids, in the generated order."""
    now = core.clock()
    start = now - timedelta(days=30)
    async with core.uow() as uow:
        session = uow.session
        batch_id = await session.scalar(select(BatchRow.id).order_by(BatchRow.id).limit(1))

        async def people(count: int, role: str, offset: int) -> list[int]:
            rows = [dict(display_name=f"bench-{role}-{offset + n}", email=None, mobile=None, preferred_channel="both",
                         locale="zh-CN", role=role, consent_version=CONSENT_VERSION, consented_at=start,
                         sensitive_consented_at=start, created_at=start) for n in range(count)]
            return list((await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True), rows)).all())

        async def applications(rows: list[dict]) -> list[int]:
            return list((await session.scalars(
                insert(Application).returning(Application.id, sort_by_parameter_order=True), rows)).all())

        def application(form: str, status: str, person_id: int, answers: dict, n: int, province: str,
                        mask: int = 0) -> dict:
            # Submitted in the generated order (a second apart): the service lists them in it.
            submitted = start + timedelta(seconds=n)
            return dict(batch_id=batch_id, person_id=person_id, form=form, status=status, answers=answers,
                        cursor=None, eligibility=None, eligibility_outcome=None, priority_score=0,
                        courses_mask=mask, province=province, submitted_at=submitted,
                        reviewed_at=now if status == ApplicationStatus.APPROVED else None,
                        reviewed_by=STAFF if status == ApplicationStatus.APPROVED else None,
                        created_at=submitted - timedelta(hours=1), updated_at=submitted, version=1, turn=0)

        expert_ids: list[int] = []
        for offset in range(0, len(batch.experts), CHUNK):
            chunk = batch.experts[offset:offset + CHUNK]
            person_ids = await people(len(chunk), "expert", offset)
            rows = []
            for n, (e, person_id) in enumerate(zip(chunk, person_ids)):
                answers = {
                    **EXPERT_ANSWERS, "name": f"专家{offset + n:05d}",
                    "province": e.province, "courses": list(e.courses), "teaching_mode": e.modes,
                    "offline_provinces": sorted(e.offline_provinces), "available_times": sorted(e.times),
                    "priority_conditions": sorted(e.priority_conditions), "society_member": e.is_member,
                    "max_universities": str(e.max_universities),
                }
                rows.append(application(FormKind.EXPERT, ApplicationStatus.APPROVED, person_id, answers, offset + n,
                                        e.province, course_mask(e.courses)))
            ids = await applications(rows)
            await session.execute(insert(ExpertCourse), [dict(application_id=app_id, course=c)
                                                          for e, app_id in zip(chunk, ids) for c in e.courses])
            expert_ids += ids
            say(f"seeded {len(expert_ids)}/{len(batch.experts)} experts")

        by_university: dict[str, list] = {}
        for d in batch.demands:
            by_university.setdefault(d.university_id, []).append(d)
        universities = list(by_university)
        university_ids: list[int] = []
        for offset in range(0, len(universities), CHUNK):
            chunk = universities[offset:offset + CHUNK]
            person_ids = await people(len(chunk), "university", offset)
            rows = []
            for n, (u, person_id) in enumerate(zip(chunk, person_ids)):
                demands = by_university[u]
                province = demands[0].province
                answers = {**UNIVERSITY_ANSWERS, "university_name": f"高校{offset + n:05d}", "province": province,
                           "courses": [d.course for d in demands]}
                # Both kinds of intent take part in a run: submitted (unreviewed) and approved; one in four approved.
                status = ApplicationStatus.APPROVED if (offset + n + seed_value) % 4 == 0 else ApplicationStatus.SUBMITTED
                rows.append(application(FormKind.UNIVERSITY, status, person_id, answers,
                                        len(batch.experts) + offset + n, province))
            ids = await applications(rows)
            await session.execute(insert(CourseDemand), [
                dict(application_id=app_id, course=d.course, hours=32, experts_needed=d.need, mode=d.mode,
                     schedule=sorted(d.times))
                for u, app_id in zip(chunk, ids) for d in by_university[u]])
            university_ids += ids
        await uow.commit()
    say(f"seeded {len(university_ids)} universities, {len(batch.demands)} course demands")
    async with core.engine.connect() as connection:  # the planner's statistics, as autovacuum would have them
        await connection.execute(text("ANALYZE"))
        await connection.commit()
    return {"batch_id": batch_id, "experts": expert_ids, "universities": dict(zip(universities, university_ids))}


async def check_profiles(core, batch, seeded: dict) -> dict:
    """The profiles the service builds from the rows against the generated ones (ids aside)."""
    async with core.uow() as uow:
        built = {parse_key(p.id): p for p in await pool_profiles(uow, await cap_exceptions(uow))}
        universities = list(await uow.applications.list(
            form=FormKind.UNIVERSITY, statuses=list(service_module.MATCHED_INTENTS), batch_id=seeded["batch_id"]))
        demands, _rows = await demand_profiles(uow, universities)
    expert_fields = [f.name for f in fields(ExpertProfile) if f.name != "id"]
    differs: dict[str, int] = {}
    for generated, app_id in zip(batch.experts, seeded["experts"]):
        ours = built.get(app_id)
        if ours is None:
            differs["missing"] = differs.get("missing", 0) + 1
            continue
        for name in expert_fields:
            if getattr(ours, name) != getattr(generated, name):
                differs[name] = differs.get(name, 0) + 1
    same_order = [p.id for p in built.values()] == [f"e{i}" for i in seeded["experts"]]
    university_of = {f"u{app_id}": u for u, app_id in seeded["universities"].items()}
    generated_by_key = {(d.university_id, d.course): d for d in batch.demands}
    demand_differs: dict[str, int] = {}
    for d in demands:
        g = generated_by_key.get((university_of.get(d.university_id), d.course))
        if g is None:
            demand_differs["missing"] = demand_differs.get("missing", 0) + 1
            continue
        for name in ("need", "mode", "province", "times", "ranking"):
            if getattr(d, name) != getattr(g, name):
                demand_differs[name] = demand_differs.get(name, 0) + 1
    demand_order = [(university_of.get(d.university_id), d.course) for d in demands] == \
        [(g.university_id, g.course) for g in batch.demands]
    result = {
        "experts_built": len(built), "experts_generated": len(batch.experts), "expert_fields_differing": differs,
        "experts_in_generated_order": same_order,
        "demands_built": len(demands), "demands_generated": len(batch.demands), "demand_fields_differing": demand_differs,
        "demands_in_generated_order": demand_order,
        "max_slots_generated_not_default": sum(e.max_slots != SERVICE_MAX_SLOTS for e in batch.experts),
    }
    only_slots = set(differs) <= {"max_slots"} and not demand_differs and len(built) == len(batch.experts) \
        and len(demands) == len(batch.demands)
    result["equal_except_ids_and_max_slots"] = only_slots
    result["equal_except_ids"] = only_slots and not differs
    return result


# ---------------------------------------------------------------------------------------------- the measured run
class Sampler(threading.Thread):
    """Highest VmRSS seen per stage (every `every` s), beside the kernel's VmHWM."""

    def __init__(self, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.stage = "request"
        self.peaks: dict[str, float] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss = scale._rss_mb("VmRSS") or 0.0
            if rss > self.peaks.get(self.stage, 0.0):
                self.peaks[self.stage] = rss
            self.halt.wait(self.every)


async def measured_run(core, batch_id: int, time_limit: float) -> dict:
    statements = {"n": 0}
    stage_marks: list[tuple[str, float, int, float | None]] = []  # stage, at, statements so far, VmHWM then
    sampler = Sampler()

    def counted(*_args) -> None:
        statements["n"] += 1

    def mark(stage: str) -> None:
        sampler.stage = stage
        stage_marks.append((stage, time.perf_counter(), statements["n"], scale._rss_mb("VmHWM")))
        say(f"stage {stage} (RSS {scale._rss_mb('VmRSS')} MB, peak so far {scale._rss_mb('VmHWM')} MB)")

    # Observed, not changed: the stages the solve reports, and the instance's figures the run does not keep.
    solve_job = core.matching.solve_job

    async def observed_solve_job(job, *, report):
        def observed_report(stage: str, **details) -> None:
            mark(stage)
            report(stage, **details)

        try:
            return await solve_job(job, report=observed_report)
        finally:
            mark("returned")

    core.matching.solve_job = observed_solve_job
    engine_figures: dict = {}
    build_and_solve = service_module._build_and_solve

    def observed_build_and_solve(*args):
        started = time.perf_counter()
        instance, solution = build_and_solve(*args)
        engine_figures.update(build_and_solve_s=round(time.perf_counter() - started, 3), solver_time_s=solution.time_s,
                              edges=len(instance.edges), pruned_demands=len(instance.dropped_below),
                              stats=solution.stats)
        return instance, solution

    service_module._build_and_solve = observed_build_and_solve
    event.listen(core.engine.sync_engine, "before_cursor_execute", counted)

    scale._release_free_memory()
    rss_before = scale._rss_mb("VmRSS")
    reset = scale._reset_peak_rss()
    load_before = loadavg()
    sampler.start()
    started = time.perf_counter()
    try:
        mark("request")
        job = await core.matching.request_run(batch_id=batch_id, staff=STAFF, time_limit=time_limit)
        worker = MatchingWorker(core.matching)
        mark("claim")
        ran = await worker.run_once()  # jobs.claim + execute, as the worker loop does
        finished = time.perf_counter()
        mark("end")
    finally:
        sampler.halt.set()
        sampler.join()
        event.remove(core.engine.sync_engine, "before_cursor_execute", counted)
        service_module._build_and_solve = build_and_solve
        core.matching.solve_job = solve_job
    peak = scale._rss_mb("VmHWM") if reset else None
    load_after = loadavg()
    done = await core.matching.jobs.get(job_id=job.id)
    out = {
        "claimed": ran, "job_state": str(done.state), "job_error": done.error,
        "rss_before_mb": rss_before, "peak_rss_mb": peak,
        "peak_over_before_mb": round(peak - rss_before, 1) if peak and rss_before else None,
        "total_s": round(finished - started, 3),
        "load_average": load_before, "load_average_after": load_after,
    }
    stages: dict[str, float] = {}
    queries: dict[str, int] = {}
    hwm_at_end: dict[str, float | None] = {}
    for (stage, at, count, _hwm), (_next, next_at, next_count, next_hwm) in zip(stage_marks, stage_marks[1:]):
        stages[f"{stage}_s"] = round(next_at - at, 3)
        queries[stage] = next_count - count
        hwm_at_end[stage] = next_hwm
    out.update(stages=stages, sql_statements=queries, sql_statements_total=statements["n"],
               peak_rss_by_end_of_stage_mb=hwm_at_end, sampled_rss_peak_by_stage_mb=sampler.peaks)
    if done.run_id is not None:
        run = await core.matching.get(run_id=done.run_id, staff=STAFF, pairs=False)
        out.update(run_id=run.id, status=run.solver_status, filled=run.filled, total_need=run.total_need,
                   score=round(run.score, 6), bound=round(run.bound, 6), gap=round(run.gap, 8),
                   solver_time_s=round(run.time_s, 3), params={k: v for k, v in run.params.items() if k != "cap_exceptions"},
                   unfilled_demands=len(run.unfilled))
        async with core.uow() as uow:
            out["proposals_stored"] = await uow.session.scalar(text(
                "SELECT count(*) FROM match_proposals WHERE run_id = :r"), {"r": run.id})
    out["edges"] = engine_figures.get("edges")
    out["pruned_demands"] = engine_figures.get("pruned_demands")
    out["build_and_solve_s"] = engine_figures.get("build_and_solve_s")
    out["solver_stats"] = engine_figures.get("stats")
    return out


async def service_bench(args, holder: dict) -> dict:
    batch = holder["batch"]
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="innoeng-bench-match-") as tmp:
        settings = Settings(_env_file=None, database_url=args.db_url, data_dir=Path(tmp) / "data",
                            documents_dir=Path(tmp) / "documents",
                            default_batch_deadline=(date.today() + timedelta(days=60)).isoformat())
        core = bootstrap(settings)
        try:
            await core.prepare()  # migrations (core.db.migrate.upgrade) and the first batch
            say("database migrated; seeding")
            load = loadavg()
            started = time.perf_counter()
            seeded = await seed(core, batch, seed_value=args.seed)
            result["seed_s"] = round(time.perf_counter() - started, 3)
            result["seed_load_average"] = [load, loadavg()]
            say(f"seeded in {result['seed_s']} s")
            if args.check or args.tier == "S":
                result["check"] = await check_profiles(core, batch, seeded)
                say(f"check: {result['check']}")
            # The generated batch is not the service's: gone before the run, as in a worker process.
            batch = None
            holder.clear()
            seeded.pop("experts")
            seeded.pop("universities")
            await core.engine.dispose()  # the seeding's connections: the worker opens its own
            say("measured run: request, claim, solve")
            result["service"] = await measured_run(core, seeded["batch_id"], args.time_limit)
        finally:
            await core.close()
    return result


def _terminated(*_args) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=sorted(scale.TIERS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=10.0, help="solver time limit, seconds")
    parser.add_argument("--db-url", help="an empty database to use (kept); default: a fresh PostgreSQL database, dropped")
    parser.add_argument("--check", action="store_true", help="compare the built profiles with the generated (always at S)")
    parser.add_argument("--baseline-as", choices=("service", "generated"), default="service",
                        help="engine baseline over the profiles as the service holds them (default) or as generated")
    parser.add_argument("--no-baseline", action="store_true", help="skip the engine-only baseline")
    parser.add_argument("--baseline-timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    # SIGTERM ends like Ctrl+C: the finally below drops the database.
    signal.signal(signal.SIGTERM, _terminated)

    started = time.perf_counter()
    batch = scale.generate_batch(args.tier, args.seed)
    scale._release_free_memory()
    n_universities = len({d.university_id for d in batch.demands})
    summary = {"tier": args.tier, "seed": args.seed, "time_limit": args.time_limit, "experts": len(batch.experts),
               "universities": n_universities, "demands": len(batch.demands),
               "slots": sum(d.need for d in batch.demands), "pid": os.getpid(), "cpus": os.cpu_count()}
    say(f"tier {args.tier}: {summary['experts']} experts, {n_universities} universities, {summary['demands']} demands,"
        f" {summary['slots']} slots (generated in {time.perf_counter() - started:.1f}s)")

    if args.no_baseline:
        baseline = {"engine_status": "skipped"}
    else:
        say("engine-only baseline (forked child)")
        baseline = engine_baseline(batch, args.time_limit, args.baseline_as == "generated", args.baseline_timeout)
        say(f"engine baseline: peak {baseline.get('engine_peak_rss_mb')} MB, {baseline.get('engine_total_s')} s,"
            f" filled {baseline.get('engine_filled')}")

    database = None
    if not args.db_url:
        database = f"innoeng_bench_match_{os.getpid()}"
        asyncio.run(create_database(database))
        args.db_url = _url(database)
    summary["database"] = database or "given"
    holder = {"batch": batch}
    del batch
    try:
        outcome = asyncio.run(service_bench(args, holder))
    finally:
        if database is not None:
            asyncio.run(drop_database(database))
            say(f"dropped database {database}")
    print(json.dumps({**summary, **outcome, "engine_baseline": baseline}, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
