"""Console pages: matching runs for a batch, their proposals and explanations, confirming, lifting the cap."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from aiohttp import web

from console.auth import require
from core.domain.permissions import Action, AnyActor
from console.keys import CORE, STAFF
from console.rendering import form_id, form_integer, not_found, path_id, refused, render
from console.routes.review import queue_service
from console.spreadsheets import send_xlsx
from core.bootstrap import Core
from core.domain import CORE_COURSES, ApplicationStatus, DomainError, NotFound
from core.domain.appointments import DEFAULT_MAX_UNIVERSITIES
from core.domain.limits import MAX_LIFTED_UNIVERSITIES, parse_int, shown
from core.exports import write_run_workbook_streamed
from core.services.matching_jobs import (
    JobAlreadyRunning, JobState, MatchingJobService, MatchingJobView,
)
from core.services.matching import PAIR_STATES, PAIRS_PER_PAGE
from core.services.profiles import parse_key
from core.services.queue import application_id_from_reference
from core.texts import text

routes = web.RouteTableDef()
log = logging.getLogger("innoeng.console")

DEFAULT_TIME_LIMIT_S = 10
MAX_TIME_LIMIT_S = 600


def job_service(request_or_core: web.Request | Core) -> MatchingJobService:
    core = request_or_core if isinstance(request_or_core, Core) else request_or_core.app[CORE]
    return core.matching.jobs


async def start_job(core: Core, *, batch_id: int, staff: AnyActor, time_limit: float) -> MatchingJobView:
    """Asks for a run (a queued job, refused while the batch has one unfinished); a worker solves it."""
    return await core.matching.request_run(batch_id=batch_id, staff=staff, time_limit=time_limit)


async def _overview(request: web.Request, *, error: str | None = None, entered: dict | None = None,
                    status: int = 200, running_job: str | None = None) -> web.Response:
    core = request.app[CORE]
    batches = await core.batches.list()
    current = await core.batches.current()
    runs = await core.matching.list(staff=request[STAFF])
    jobs = job_service(request)
    # Queued or solving now, and each batch's last job if it was interrupted (until that batch is started again).
    current_jobs = await core.matching.current_jobs(staff=request[STAFF])
    running = [job for job in current_jobs if job.state in (JobState.QUEUED, JobState.RUNNING)]
    interrupted = [(job, text("console.run_interrupted_notice", batch=job.batch_name, started=jobs.local_time(job.started_at)))
                   for job in current_jobs if job.state is JobState.INTERRUPTED]
    return render(request, "console/matching.html", status=status, batches=batches, current=current,
                  runs=list(reversed(runs)), running=running, error=error, entered=entered or {},
                  interrupted=interrupted,
                  default_time_limit=DEFAULT_TIME_LIMIT_S, default_cap=DEFAULT_MAX_UNIVERSITIES,
                  max_cap=MAX_LIFTED_UNIVERSITIES,
                  running_job=running_job)


@routes.get("/matching")
@require(Action.MATCHING_VIEW)
async def overview(request: web.Request) -> web.Response:
    return await _overview(request)


@routes.post("/matching/runs")
@require(Action.MATCHING_RUN)
async def start_run(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        batch_id = form_id(posted.get("batch_id", ""), "批次", key="batch_id")
        time_limit = form_integer(posted.get("time_limit", DEFAULT_TIME_LIMIT_S) or DEFAULT_TIME_LIMIT_S, "计算时限（秒）",
                                  key="time_limit", minimum=1, maximum=MAX_TIME_LIMIT_S)
        job = await start_job(request.app[CORE], batch_id=batch_id, staff=request[STAFF], time_limit=time_limit)
    except JobAlreadyRunning as refusal:
        return await _overview(request, error=refusal.message, entered=dict(posted), status=409,
                               running_job=refusal.job_id)
    except DomainError as refusal:
        return await _overview(request, error=refused(request, refusal), entered=dict(posted), status=400)
    raise web.HTTPSeeOther(f"/matching/jobs/{job.id}")


@routes.get("/matching/jobs/{job_id:[0-9a-f]{32}}")
@require(Action.MATCHING_VIEW)
async def job_progress(request: web.Request) -> web.StreamResponse:
    jobs = job_service(request)
    try:
        job = await request.app[CORE].matching.job(job_id=request.match_info["job_id"], staff=request[STAFF])
    except NotFound:
        not_found(request)
    if job.state is JobState.DONE:
        raise web.HTTPSeeOther(f"/matching/runs/{job.run_id}?ok=run_done")
    if job.state in (JobState.QUEUED, JobState.RUNNING):
        message = text("console.run_running", seconds=job.seconds)
    elif job.state is JobState.INTERRUPTED:
        message = text("console.run_interrupted", batch=job.batch_name, reason=job.error,
                       started=jobs.local_time(job.started_at), heartbeat=jobs.local_time(job.heartbeat_at))
    else:
        message = text("console.run_failed", reason=job.error)
    return render(request, "console/matching_job.html", job=job, message=message,
                  following=not job.state.finished, default_time_limit=DEFAULT_TIME_LIMIT_S)


def _pair_filters(request: web.Request) -> dict[str, str]:
    """The run page's filters as given (course, state), only values it knows: kept by every page link."""
    filters = {}
    course = request.query.get("course", "")
    if course in {c.value for c in CORE_COURSES}:
        filters["course"] = course
    state = request.query.get("state", "")
    if state in PAIR_STATES:
        filters["state"] = state
    return filters


def _page_number(request: web.Request) -> int:
    value = parse_int(request.query.get("page", ""))
    return value if value is not None and 1 <= value <= 1_000_000 else 1


async def _run_page(request: web.Request, run_id: int, *, error: str | None = None, status: int = 200) -> web.Response:
    core = request.app[CORE]
    staff = request[STAFF]
    filters = _pair_filters(request)
    try:
        # One page of the pairs (a national run has thousands), its counts from the database.
        paged = await core.matching.pairs(run_id=run_id, staff=staff, page=_page_number(request), size=PAIRS_PER_PAGE,
                                          **filters)
    except NotFound:
        not_found(request)
    run = paged.run
    open_ids = [p.id for p in paged.rows if not p.fixed and p.appointment_id is None]
    # A pair kept from an earlier run is shown with its appointment as it stands: it may still wait for answers.
    held = await core.appointments.kept_for(pairs=paged.rows, staff=staff)
    # The engine names demands by key ("d12"): staff read the university and the course instead.
    demand_ids = [parse_key(u["demand"]) for u in run.unfilled if str(u.get("demand", ""))[1:].isdigit()]
    demands = await queue_service(request).demand_labels(demand_ids=demand_ids, staff=staff)
    unfilled = []
    for slot in run.unfilled:
        key = str(slot.get("demand", ""))
        found = demands.get(parse_key(key)) if key[1:].isdigit() else None
        unfilled.append({**slot, "university_id": found[0] if found else None,
                         "university_name": found[1] if found else slot.get("university", ""),
                         "course": found[2] if found else key})
    # Intents still 已提交，待审核 take part in matching (MATCHED_INTENTS); staff see which ones before confirming.
    intent_status = await core.review.statuses(
        application_ids=[u["university_id"] for u in unfilled if u["university_id"]], staff=staff)
    unreviewed = set(paged.unreviewed) | {i for i, s in intent_status.items() if s is ApplicationStatus.SUBMITTED}

    def page_url(number: int) -> str:
        query = {**filters, **({"page": str(number)} if number > 1 else {})}
        return f"/matching/runs/{run.id}" + (f"?{urlencode(query)}" if query else "")

    return render(request, "console/run.html", status=status, run=run, pairs=paged, latest=paged.latest,
                  open_ids=open_ids, error=error, unfilled=unfilled, held=held, unreviewed=unreviewed,
                  filters=filters, courses=[c.value for c in CORE_COURSES], page_url=page_url,
                  previous_url=page_url(paged.page - 1) if paged.page > 1 else None,
                  next_url=page_url(paged.page + 1) if paged.page < paged.pages else None)


@routes.get("/matching/runs/{run_id:\\d+}")
@require(Action.MATCHING_VIEW)
async def run_detail(request: web.Request) -> web.Response:
    return await _run_page(request, path_id(request, "run_id"))


@routes.get("/matching/runs/{run_id:\\d+}.xlsx")
@require(Action.MATCHING_VIEW)
async def run_export(request: web.Request) -> web.StreamResponse:
    core = request.app[CORE]
    staff = request[STAFF]
    run_id = path_id(request, "run_id")
    try:
        run = await core.matching.get(run_id=run_id, staff=staff, pairs=False)  # the figures: the pairs are streamed below
    except NotFound:
        not_found(request)
    kept: dict = {}

    async def chunks():
        # The pairs come from one read, a chunk at a time, into a file (a national run has thousands), then sent
        # from it; the appointments behind a chunk's kept pairs are looked up with it, so neither is held whole.
        async for chunk in core.matching.pair_chunks(run_id=run.id, staff=staff):
            kept.clear()
            kept.update(await core.appointments.kept_for(pairs=chunk, staff=staff))
            yield chunk

    return await send_xlsx(request, lambda target: write_run_workbook_streamed(target, run, chunks(), kept=kept),
                           f"match-run-{run.id}.xlsx")


@routes.post("/matching/runs/{run_id:\\d+}/confirm")
@require(Action.MATCHING_CONFIRM)
async def confirm(request: web.Request) -> web.StreamResponse:
    run_id = path_id(request, "run_id")
    posted = await request.post()
    chosen = None
    try:
        if posted.get("scope") != "all":
            chosen = [form_id(value, "配对", key="proposal") for value in posted.getall("proposal", [])]
            if not chosen:
                raise DomainError(text("console.pick_pairs"))
        await request.app[CORE].matching.confirm(run_id=run_id, staff=request[STAFF], proposal_ids=chosen)
    except NotFound:
        not_found(request)
    except DomainError as refusal:
        return await _run_page(request, run_id, error=refused(request, refusal), status=400)
    raise web.HTTPSeeOther(f"/matching/runs/{run_id}?ok=confirmed")


@routes.post("/matching/cap")
@require(Action.MATCHING_CAP_LIFT)
async def lift_cap(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    try:
        raw = str(posted.get("expert_application_id", ""))
        expert_id = application_id_from_reference(raw)
        if expert_id is None:
            raise DomainError(text("console.bad_number", field="专家编号", value=shown(raw)), field="expert_application_id")
        maximum = form_integer(posted.get("max_universities", ""), "最多受聘高校数", key="max_universities",
                               minimum=DEFAULT_MAX_UNIVERSITIES + 1, maximum=MAX_LIFTED_UNIVERSITIES)
        await request.app[CORE].matching.lift_cap(expert_application_id=expert_id, max_universities=maximum,
                                                  reason=str(posted.get("reason", "")), staff=request[STAFF])
    except NotFound as refusal:  # the expert named does not exist: said beside the field
        return await _overview(request, error=refused(request, DomainError(refusal.message, field="expert_application_id")),
                               entered=dict(posted), status=400)
    except DomainError as refusal:
        return await _overview(request, error=refused(request, refusal), entered=dict(posted), status=400)
    raise web.HTTPSeeOther("/matching?ok=cap_lifted")
