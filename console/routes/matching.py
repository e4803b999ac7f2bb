"""Console pages: matching runs for a batch, their proposals and explanations, confirming, lifting the cap."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from console.auth import require
from console.keys import CORE, STAFF
from console.rendering import not_found, render
from console.routes.review import queue_service
from core.bootstrap import Core, bootstrap
from core.domain import DomainError, NotFound
from core.domain.appointments import DEFAULT_MAX_UNIVERSITIES
from core.domain.staff import Role
from core.exports import run_workbook
from core.services.profiles import parse_key
from core.services.queue import application_id_from_reference
from core.texts import text

routes = web.RouteTableDef()
log = logging.getLogger("innoeng.console")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_TIME_LIMIT_S = 10
MAX_TIME_LIMIT_S = 600


@dataclass
class MatchingJob:
    """A run being solved in the background; the page that started it polls it until it is done."""

    id: str
    batch_id: int
    staff: str
    started: float = field(default_factory=time.monotonic)
    run_id: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task | None = None

    @property
    def seconds(self) -> int:
        return int(time.monotonic() - self.started)


# Jobs of this process, by their random id. A restart forgets a job; the run it made (if any) is in the runs list.
_jobs: dict[str, MatchingJob] = {}


def _solve_on_own_loop(core: Core, job: MatchingJob, time_limit: float) -> None:
    """The solver is CPU-bound and synchronous: it runs in a worker thread with its own event loop and
    database engine (an engine belongs to one loop), so the console keeps answering while it solves."""

    async def solve() -> int:
        # The same composition root as every process, so the service is built exactly as the console's own.
        own = bootstrap(core.settings, clock=core.clock, documents=core.documents)
        try:
            run = await own.matching.run(batch_id=job.batch_id, staff=job.staff, time_limit=time_limit)
            return run.id
        finally:
            await own.close()

    try:
        job.run_id = asyncio.run(solve())
    except DomainError as refusal:
        job.error = refusal.message
    except Exception as error:  # shown to staff with a reference; the trace goes to the log
        ref = uuid.uuid4().hex[:8]
        log.exception("matching job %s failed (%s)", job.id, ref)
        job.error = text("console.server_error", ref=ref)
    finally:
        job.done.set()


def start_job(core: Core, *, batch_id: int, staff: str, time_limit: float) -> MatchingJob:
    job = MatchingJob(id=uuid.uuid4().hex, batch_id=batch_id, staff=staff)
    _jobs[job.id] = job
    job.task = asyncio.get_running_loop().create_task(asyncio.to_thread(_solve_on_own_loop, core, job, time_limit))
    return job


async def _overview(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                    status: int = 200) -> web.Response:
    core = request.app[CORE]
    batches = await core.batches.list()
    current = await core.batches.current()
    runs = await core.matching.list()
    running = [job for job in _jobs.values() if not job.done.is_set()]
    return render(request, "console/matching.html", status=status, batches=batches, current=current,
                  runs=list(reversed(runs)), running=running, error=error, entered=entered or {},
                  default_time_limit=DEFAULT_TIME_LIMIT_S, default_cap=DEFAULT_MAX_UNIVERSITIES)


@routes.get("/matching")
@require(Role.COORDINATOR)
async def overview(request: web.Request) -> web.Response:
    return await _overview(request)


def _integer(raw: object, field_name: str) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise DomainError(text("console.bad_number", field=field_name, value=raw)) from None


@routes.post("/matching/runs")
@require(Role.COORDINATOR)
async def start_run(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        batch_id = _integer(posted.get("batch_id", ""), "批次")
        time_limit = _integer(posted.get("time_limit", DEFAULT_TIME_LIMIT_S) or DEFAULT_TIME_LIMIT_S, "计算时限（秒）")
        if not 1 <= time_limit <= MAX_TIME_LIMIT_S:
            raise DomainError(text("console.bad_number", field=f"计算时限（1–{MAX_TIME_LIMIT_S} 秒）", value=time_limit))
    except DomainError as refusal:
        return await _overview(request, error=refusal.message, entered=dict(posted), status=400)
    job = start_job(request.app[CORE], batch_id=batch_id, staff=request[STAFF].actor, time_limit=time_limit)
    raise web.HTTPSeeOther(f"/matching/jobs/{job.id}")


@routes.get("/matching/jobs/{job_id:[0-9a-f]{32}}")
@require(Role.COORDINATOR)
async def job_progress(request: web.Request) -> web.StreamResponse:
    job = _jobs.get(request.match_info["job_id"])
    if job is None:
        not_found(request)
    if job.done.is_set() and job.run_id is not None:
        raise web.HTTPSeeOther(f"/matching/runs/{job.run_id}?ok=run_done")
    return render(request, "console/matching_job.html", job=job,
                  message=text("console.run_failed", reason=job.error) if job.done.is_set()
                  else text("console.run_running", seconds=job.seconds))


async def _run_page(request: web.Request, run_id: int, *, error: str | None = None, status: int = 200) -> web.Response:
    core = request.app[CORE]
    try:
        run = await core.matching.get(run_id=run_id)
    except NotFound:
        not_found(request)
    runs = await core.matching.list(batch_id=run.batch_id)
    latest = max(r.id for r in runs)
    open_ids = [p.id for p in run.proposals if not p.fixed and p.appointment_id is None]
    # The engine names demands by key ("d12"): staff read the university and the course instead.
    demand_ids = [parse_key(u["demand"]) for u in run.unfilled if str(u.get("demand", ""))[1:].isdigit()]
    demands = await queue_service(request).demand_labels(demand_ids=demand_ids)
    unfilled = []
    for slot in run.unfilled:
        key = str(slot.get("demand", ""))
        found = demands.get(parse_key(key)) if key[1:].isdigit() else None
        unfilled.append({**slot, "university_id": found[0] if found else None,
                         "university_name": found[1] if found else slot.get("university", ""),
                         "course": found[2] if found else key})
    return render(request, "console/run.html", status=status, run=run, latest=latest, open_ids=open_ids, error=error,
                  unfilled=unfilled)


@routes.get("/matching/runs/{run_id:\\d+}")
@require(Role.COORDINATOR)
async def run_detail(request: web.Request) -> web.Response:
    return await _run_page(request, int(request.match_info["run_id"]))


@routes.get("/matching/runs/{run_id:\\d+}.xlsx")
@require(Role.COORDINATOR)
async def run_export(request: web.Request) -> web.Response:
    try:
        run = await request.app[CORE].matching.get(run_id=int(request.match_info["run_id"]))
    except NotFound:
        not_found(request)
    response = web.Response(body=run_workbook(run), content_type=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="match-run-{run.id}.xlsx"'
    return response


@routes.post("/matching/runs/{run_id:\\d+}/confirm")
@require(Role.COORDINATOR)
async def confirm(request: web.Request) -> web.StreamResponse:
    run_id = int(request.match_info["run_id"])
    posted = await request.post()
    chosen = None
    try:
        if posted.get("scope") != "all":
            chosen = [_integer(value, "配对编号") for value in posted.getall("proposal", [])]
            if not chosen:
                raise DomainError(text("console.pick_pairs"))
        await request.app[CORE].matching.confirm(run_id=run_id, staff=request[STAFF].actor, proposal_ids=chosen)
    except NotFound:
        not_found(request)
    except DomainError as refusal:
        return await _run_page(request, run_id, error=refusal.message, status=400)
    raise web.HTTPSeeOther(f"/matching/runs/{run_id}?ok=confirmed")


@routes.post("/matching/cap")
@require(Role.COORDINATOR)
async def lift_cap(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        raw = str(posted.get("expert_application_id", ""))
        expert_id = application_id_from_reference(raw)
        if expert_id is None:
            raise DomainError(text("console.bad_number", field="专家编号", value=raw))
        maximum = _integer(posted.get("max_universities", ""), "最多受聘高校数")
        await request.app[CORE].matching.lift_cap(expert_application_id=expert_id, max_universities=maximum,
                                                  reason=str(posted.get("reason", "")), staff=request[STAFF].actor)
    except (DomainError, NotFound) as refusal:
        return await _overview(request, error=refusal.message, entered=dict(posted), status=400)
    raise web.HTTPSeeOther("/matching?ok=cap_lifted")
