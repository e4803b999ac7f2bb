"""Matching runs: build the instance from the pool and the intents, solve, keep the run, confirm it."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from core.db.models import Application, Appointment, CapException, CourseDemand, MatchProposal, MatchRun, Recommendation
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import ApplicationStatus, DomainError, FormKind, NotFound
from core.domain.appointments import (
    ACTIVE_APPOINTMENTS,
    DEFAULT_MAX_UNIVERSITIES,
    AppointmentStatus,
)
from core.domain.limits import CAP_REASON, MAX_LIFTED_UNIVERSITIES
from core.domain.permissions import Action, AnyActor
from core.domain.vocabulary import PRIORITY_CONDITIONS, TEACHING_MODES, TITLES
import core.matching as matching
from core.matching import build_instance, score_pair
from core.services.common import Clock, audit, queue_notification, queue_sms, utc_now
from core.services.permissions import authorize
from core.services.matching_jobs import ClaimedJob, JobState, MatchingJobService, MatchingJobView, new_worker_id
from core.services.profiles import (
    active_universities,
    cap_exceptions,
    demand_profiles,
    demand_key,
    expert_key,
    pairs_with_status,
    parse_key,
    pool_profiles,
    university_key,
)
from core.services.recommendations import expert_rankings
from core.texts import text

__all__ = ["MatchingService", "RunView", "ProposalView", "RunPreview", "RunPairs", "PAIR_STATES", "PAIRS_PER_PAGE"]

# The run page shows its pairs a page at a time: a national run has thousands.
PAIRS_PER_PAGE = 100
# What the run page filters its pairs by: waiting to be confirmed (held or not), on hold, confirmed (now or earlier).
PAIR_STATES = ("open", "held", "confirmed")

# A solve tells where it stands: report("solving", experts=..., ...); the worker writes it on the job.
Progress = Callable[..., None]

# University intents that take part in a run: submitted ones and those staff accepted.
MATCHED_INTENTS = (ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED)


@dataclass(frozen=True)
class ProposalView:
    id: int
    number: int  # 1, 2, ... within its run: what staff read and type
    expert_application_id: int
    expert_name: str
    employer: str
    university_application_id: int
    university_name: str
    course: str
    score: float
    explanation: str
    fixed: bool
    appointment_id: int | None
    held: bool = False


@dataclass(frozen=True)
class RunPreview:
    """What a run of a batch would work on, for staff to confirm before starting it."""

    batch_id: int
    batch_name: str
    experts: int
    universities: int
    demands: int
    slots: int


@dataclass(frozen=True)
class RunView:
    id: int
    batch_id: int
    created_at: Any
    created_by: str
    confirmed: bool
    solver_status: str
    filled: int
    total_need: int
    score: float
    bound: float
    gap: float
    time_s: float
    params: dict[str, Any]
    unfilled: list[dict[str, Any]]
    stability: dict[str, Any] | None
    proposals: tuple[ProposalView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RunPairs:
    """One page of a run's pairs (`MatchingService.pairs`), with the counts the run page shows, all from SQL."""

    run: RunView  # without its proposals (those of the page are `rows`); its unfilled slots as the engine keyed them
    latest: int  # the newest run of the batch: only that one can be confirmed
    rows: tuple[ProposalView, ...]
    page: int
    pages: int
    size: int
    matching: int  # pairs under the filters
    total: int  # pairs of the run
    open: int  # pairs of the run still to confirm (held ones included)
    held: int  # of those, on hold
    unreviewed: frozenset[int]  # the run's universities whose intent is still submitted (unreviewed)


class MatchingService:
    def __init__(self, *, uow: UnitOfWorkFactory, zone: ZoneInfo, clock: Clock = utc_now, answer_days: int = 5,
                 jobs: MatchingJobService | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._answer_days = answer_days
        # Every run is a job on record: one unfinished run per batch, whether the console, the bot or the CLI starts it.
        self.jobs = jobs or MatchingJobService(uow=uow, zone=zone, clock=clock)

    async def preview(self, *, batch_id: int, staff: AnyActor) -> RunPreview:
        """The pool and the intents a run of this batch would take, without running it."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW, subject=f"batch:{batch_id}")
        async with self._uow() as uow:
            batch = await uow.batches.get(batch_id)
            if batch is None:
                raise NotFound(f"没有找到批次 {batch_id}。")
            # Counted by the database: a national batch is 50,000 experts and 3,000 intents.
            experts = await uow.session.scalar(select(func.count()).select_from(Application).where(
                Application.form == FormKind.EXPERT, Application.status == ApplicationStatus.APPROVED))
            intents = (Application.form == FormKind.UNIVERSITY, Application.status.in_(list(MATCHED_INTENTS)),
                       Application.batch_id == batch_id)
            universities = await uow.session.scalar(select(func.count()).select_from(Application).where(*intents))
            demands, slots = (await uow.session.execute(
                select(func.count(CourseDemand.id), func.coalesce(func.sum(CourseDemand.experts_needed), 0))
                .join(Application, Application.id == CourseDemand.application_id).where(*intents))).one()
            return RunPreview(batch_id=batch.id, batch_name=batch.name, experts=experts or 0,
                              universities=universities or 0, demands=demands or 0, slots=int(slots or 0))

    async def job(self, *, job_id: str, staff: AnyActor) -> MatchingJobView:
        """A matching job as staff follow it (queued, solving, done, failed or interrupted)."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW, subject=f"match_job:{job_id}")
        return await self.jobs.get(job_id=job_id)

    async def current_jobs(self, *, staff: AnyActor) -> list[MatchingJobView]:
        """The jobs queued or solving now, and each batch's last job if it was interrupted."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW)
        return await self.jobs.current()

    async def request_run(self, *, batch_id: int, staff: AnyActor, time_limit: float = 10.0,
                          reply_chat: int | None = None) -> MatchingJobView:
        """Asks for a run of the batch as it stands: a queued job that a worker (the notifier process,
        `innoeng run` or `innoeng match worker`) claims and solves. What the console, the bot's /match and
        `innoeng match run` call; they follow the job (`jobs.get`, `jobs.wait`), not the solve.

        One run per batch at a time, whoever asks: refused with JobAlreadyRunning (the same Chinese reason
        for the console, the bot and the CLI) while another job of the batch is unfinished."""
        staff = (await authorize(self._uow, self._clock, staff, Action.MATCHING_RUN, subject=f"batch:{batch_id}")).actor
        return await self.jobs.request(batch_id=batch_id, staff=staff, time_limit=time_limit, reply_chat=reply_chat)

    async def run(self, *, batch_id: int, staff: AnyActor, time_limit: float = 10.0) -> RunView:
        """Asks for a run and solves it in this process, as a worker would (the same claim, heartbeat and
        recording), or waits for the worker that claimed it first: for tests and scripts that want the run
        itself. A refusal or failure raises DomainError with the job's reason."""
        from core.services.matching_worker import MatchingWorker

        job = await self.request_run(batch_id=batch_id, staff=staff, time_limit=time_limit)
        worker = MatchingWorker(self, worker_id=new_worker_id("inline"))
        claimed = await self.jobs.claim(worker=worker.id, job_id=job.id)
        if claimed is not None:
            await worker.execute(claimed)
        done = await self.jobs.wait(job_id=job.id, poll_s=0.1)
        if done.state is JobState.DONE:
            return await self.get(run_id=done.run_id, staff=staff)
        raise DomainError(done.error or text("console.run_interrupted_reason"))

    async def solve_job(self, job: ClaimedJob, *, report: Progress = lambda stage, **details: None) -> RunView:
        """A worker's solve of the job it claimed: the run is stored only while the worker still holds the job,
        in the transaction that finishes the job (JobLost otherwise)."""
        return await self._solve(batch_id=job.batch_id, staff=job.staff, time_limit=job.time_limit, job=job,
                                 report=report)

    async def _solve(self, *, batch_id: int, staff: str, time_limit: float, job: ClaimedJob | None = None,
                     report: Progress = lambda stage, **details: None) -> RunView:
        now = self._clock()
        report("loading")
        async with self._uow() as uow:
            if await uow.batches.get(batch_id) is None:
                raise NotFound(f"没有找到批次 {batch_id}。")
            exceptions = await cap_exceptions(uow)
            pool = await pool_profiles(uow, exceptions)
            universities = list(await uow.applications.list(form=FormKind.UNIVERSITY, statuses=list(MATCHED_INTENTS), batch_id=batch_id))
            demands, demand_rows = await demand_profiles(uow, universities)
            if not demands:
                raise DomainError("本批次还没有可匹配的高校课程需求。")
            held = await pairs_with_status(uow, ACTIVE_APPOINTMENTS)
            # A pair whose expert has left the pool (withdrawn, or erased with a signed or filed appointment the
            # branch keeps) still fills its slot: the demand needs one fewer, and the pair is not re-solved.
            in_pool = {parse_key(p.id) for p in pool}
            filled_outside: dict[str, int] = {}
            for a in held:
                if a.demand_id in demand_rows and a.expert_application_id not in in_pool:
                    filled_outside[demand_key(a.demand_id)] = filled_outside.get(demand_key(a.demand_id), 0) + 1
            if filled_outside:
                demands = [replace(d, need=d.need - filled_outside.get(d.id, 0)) for d in demands]
                demands = [d for d in demands if d.need > 0]
            fixed = [(expert_key(a.expert_application_id), demand_key(a.demand_id)) for a in held
                     if a.demand_id in demand_rows and a.expert_application_id in in_pool]
            declined = await pairs_with_status(uow, [AppointmentStatus.DECLINED, AppointmentStatus.CANCELLED])
            forbidden = {(expert_key(a.expert_application_id), demand_key(a.demand_id)) for a in declined}
            forbidden |= await _not_considered(uow, demand_rows)
            # The expert's side: universities they want, in order, and those they declined.
            wanted, declined_by_expert = await expert_rankings(uow)
            declined_at: dict[int, list[int]] = {}
            for e, u in declined_by_expert:
                declined_at.setdefault(u, []).append(e)
            forbidden |= {(expert_key(e), demand_key(d.id)) for d in demand_rows.values()
                          for e in declined_at.get(d.application_id, ())}
            profiles = [replace(profile, ranking=tuple(university_key(u) for u in wanted.get(parse_key(profile.id), ())))
                        for profile in pool]
            del pool
            # Universities an expert already serves outside this batch use up part of their cap.
            profiles = _with_outside_load(profiles, held, demand_rows)
            report("solving", experts=len(profiles), demands=len(demands), slots=sum(d.need for d in demands),
                   time_limit=time_limit)
            # CPU-bound and synchronous: in a worker thread, so the process keeps answering (and renewing the
            # job's heartbeat) while it solves. The solver loads on first use.
            instance, solution = await asyncio.to_thread(
                _build_and_solve, profiles, demands, fixed, sorted(forbidden), time_limit)
            report("storing")
            result = solution.to_dict()
            run = MatchRun(
                batch_id=batch_id, created_by=staff, created_at=now,
                params={"time_limit": time_limit, "experts": len(profiles), "demands": len(demands),
                        "edges": len(instance.edges), "fixed": len(fixed), "forbidden": len(forbidden),
                        "expert_rankings": len(wanted), "expert_declines": len(declined_by_expert),
                        "cap_exceptions": {str(k): v for k, v in exceptions.items()}},
                solver_status=solution.status, filled=solution.filled, total_need=solution.total_need,
                score=solution.score, bound=solution.bound, gap=solution.gap, time_s=solution.time_s,
                unfilled=result["unfilled"], stability=result["stability"],
            )
            uow.session.add(run)
            await uow.flush()
            by_key = {p.id: p for p in profiles}
            demand_by_key = {d.id: d for d in demands}
            appointment_of = {(expert_key(a.expert_application_id), demand_key(a.demand_id)): a.id for a in held}
            for expert_id, demand_id in solution.assignments:
                # The same scoring built the instance's edges, so this is the edge's score, with its terms.
                pair = score_pair(by_key[expert_id], demand_by_key[demand_id])
                demand = demand_rows[parse_key(demand_id)]
                uow.session.add(MatchProposal(
                    run_id=run.id, demand_id=demand.id, expert_application_id=parse_key(expert_id),
                    university_application_id=demand.application_id, score=pair.score,
                    terms=[{"label": t.label, "value": t.value, "weight": t.weight, "explanation": t.explanation} for t in pair.terms],
                    fixed=(expert_id, demand_id) in appointment_of,
                    appointment_id=appointment_of.get((expert_id, demand_id)),
                ))
            audit(uow, at=now, actor=staff, action="match.run", subject=f"match_run:{run.id}",
                  filled=solution.filled, total_need=solution.total_need, gap=solution.gap)
            if job is not None:
                # The run and the end of its job commit together: a worker that lost the job stores nothing.
                await self.jobs.record_run(uow, job=job, run_id=run.id)
            await uow.commit()
            # Its figures only: whoever follows the job reads the pairs a page at a time (9,000 at national scale).
            return await self._view(uow, run, pairs=False)

    async def get(self, *, run_id: int, staff: AnyActor, pairs: bool = True) -> RunView:
        """The run with all its pairs; with pairs=False its figures only (`pairs`, `pair_chunks` for the pairs)."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW, subject=f"match_run:{run_id}")
        async with self._uow() as uow:
            run = await uow.session.get(MatchRun, run_id)
            if run is None:
                raise NotFound(f"没有找到第 {run_id} 次匹配。")
            return await self._view(uow, run, pairs=pairs)

    async def list(self, *, staff: AnyActor, batch_id: int | None = None) -> list[RunView]:
        """Every run (of the batch), oldest first, without their pairs (`get` or `pairs` for those): a national
        run has thousands, and the list shows each run's figures only."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW)
        async with self._uow() as uow:
            stmt = select(MatchRun).order_by(MatchRun.id)
            if batch_id is not None:
                stmt = stmt.where(MatchRun.batch_id == batch_id)
            return [await self._view(uow, run, pairs=False) for run in (await uow.session.scalars(stmt)).all()]

    async def pairs(self, *, run_id: int, staff: AnyActor, page: int = 1, size: int = PAIRS_PER_PAGE,
                    course: str | None = None, state: str | None = None) -> RunPairs:
        """The run's figures and one page of its pairs, in the order of the run (numbered through the run),
        under the filters (`course`, `state` in PAIR_STATES); the counts are counted by the database. A page
        beyond the last shows the last."""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW, subject=f"match_run:{run_id}")
        size = max(1, min(size, 500))
        async with self._uow() as uow:
            run = await uow.session.get(MatchRun, run_id)
            if run is None:
                raise NotFound(f"没有找到第 {run_id} 次匹配。")
            session = uow.session
            # The newest run of the batch: the only one staff may confirm.
            latest = await session.scalar(select(func.max(MatchRun.id)).where(MatchRun.batch_id == run.batch_id))
            in_run = MatchProposal.run_id == run.id
            unconfirmed = (MatchProposal.fixed.is_(False)) & MatchProposal.appointment_id.is_(None)
            on_hold = unconfirmed & MatchProposal.held_at.is_not(None)
            total, open_count, held = (await session.execute(select(
                func.count(), func.count().filter(unconfirmed), func.count().filter(on_hold),
            ).where(in_run))).one()
            numbered = (select(MatchProposal.id.label("id"), func.row_number().over(order_by=MatchProposal.id).label("number"))
                        .where(in_run).subquery())
            conditions = []
            if course:
                conditions.append(MatchProposal.demand_id.in_(select(CourseDemand.id).where(CourseDemand.course == course)))
            if state == "open":
                conditions.append(unconfirmed)
            elif state == "held":
                conditions.append(on_hold)
            elif state == "confirmed":
                conditions.append(or_(MatchProposal.fixed.is_(True), MatchProposal.appointment_id.is_not(None)))
            matching_count = total if not conditions else await session.scalar(
                select(func.count()).select_from(MatchProposal).where(in_run, *conditions))
            pages = max(1, -(-matching_count // size))
            page = max(1, min(page, pages))
            found = (await session.execute(
                select(MatchProposal, numbered.c.number).join(numbered, numbered.c.id == MatchProposal.id)
                .where(*conditions).order_by(MatchProposal.id).offset((page - 1) * size).limit(size))).all()
            rows = await self._proposal_views(uow, [(p, number) for p, number in found])
            unreviewed = frozenset((await session.scalars(
                select(MatchProposal.university_application_id).distinct()
                .join(Application, Application.id == MatchProposal.university_application_id)
                .where(in_run, Application.status == ApplicationStatus.SUBMITTED.value))).all())
            view = await self._view(uow, run, pairs=False, named=False)
        return RunPairs(run=view, latest=latest, rows=tuple(rows), page=page, pages=pages, size=size,
                        matching=matching_count, total=total, open=open_count, held=held, unreviewed=unreviewed)

    async def pair_chunks(self, *, run_id: int, staff: AnyActor, size: int = 500) -> AsyncIterator[list[ProposalView]]:
        """Every pair of the run in order, `size` at a time, as one read: a single statement (the pairs with
        both sides and the course) through a server-side cursor on PostgreSQL, so a pair is neither missed nor
        repeated whatever changes meanwhile, and an export holds one chunk at a time. (The check runs at the
        first step of the iteration, before any row is read.)"""
        await authorize(self._uow, self._clock, staff, Action.MATCHING_VIEW, subject=f"match_run:{run_id}")
        expert, university = aliased(Application), aliased(Application)
        stmt = (select(MatchProposal, expert, university, CourseDemand)
                .join(expert, expert.id == MatchProposal.expert_application_id)
                .join(university, university.id == MatchProposal.university_application_id)
                .join(CourseDemand, CourseDemand.id == MatchProposal.demand_id)
                .where(MatchProposal.run_id == run_id).order_by(MatchProposal.id)
                .execution_options(yield_per=size))
        async with self._uow() as uow:
            number = 0
            result = await uow.session.stream(stmt)
            async for chunk in result.partitions():
                views = []
                for p, e, u, d in chunk:
                    number += 1
                    views.append(_proposal_view(p, number, e, u, d))
                yield views

    async def confirm(self, *, run_id: int, staff: AnyActor, proposal_ids: list[int] | None = None) -> RunView:
        """Sends the confirmed proposals to both sides; the cap of universities is checked once more here."""
        staff = (await authorize(self._uow, self._clock, staff, Action.MATCHING_CONFIRM, subject=f"match_run:{run_id}")).actor
        now = self._clock()
        async with self._uow() as uow:
            run = await uow.session.get(MatchRun, run_id)
            if run is None:
                raise NotFound(f"没有找到第 {run_id} 次匹配。")
            latest = await uow.session.scalar(select(MatchRun.id).where(MatchRun.batch_id == run.batch_id).order_by(MatchRun.id.desc()).limit(1))
            if latest != run.id:
                raise DomainError(f"第 {run.id} 次匹配之后已有第 {latest} 次匹配，请确认最新的结果。")
            proposals = (await uow.session.scalars(select(MatchProposal).where(MatchProposal.run_id == run.id).order_by(MatchProposal.id))).all()
            # "Confirm all" leaves out the pairs staff put on hold; naming a held pair confirms it.
            chosen = [p for p in proposals if not p.fixed and p.appointment_id is None
                      and (p.id in proposal_ids if proposal_ids is not None else p.held_at is None)]
            if proposal_ids is not None and len(chosen) != len(set(proposal_ids)):
                raise DomainError("所选的匹配结果中有不属于本次匹配、已确认或已固定的配对。")
            exceptions = await cap_exceptions(uow)
            answer_by = now + timedelta(days=self._answer_days)
            for proposal in chosen:
                await self._check_cap(uow, proposal, exceptions)
                appointment = Appointment(
                    run_id=run.id, demand_id=proposal.demand_id, expert_application_id=proposal.expert_application_id,
                    university_application_id=proposal.university_application_id, status=AppointmentStatus.OFFERED,
                    score=proposal.score, offered_at=now, answer_by=answer_by, objections=[], created_at=now, updated_at=now,
                )
                uow.session.add(appointment)
                await uow.flush()
                proposal.appointment_id = appointment.id
                await _notify_offer(uow, appointment, now)
            run.confirmed_at, run.confirmed_by = now, staff
            audit(uow, at=now, actor=staff, action="match.confirm", subject=f"match_run:{run.id}",
                  appointments=[p.appointment_id for p in chosen])
            await uow.commit()
            return await self._view(uow, run)

    async def hold(self, *, run_id: int, proposal_ids: list[int], staff: AnyActor, release: bool = False) -> RunView:
        """Puts pairs of a run on hold (or releases them): they stay proposed but "confirm all" skips them."""
        staff = (await authorize(self._uow, self._clock, staff, Action.MATCHING_CONFIRM, subject=f"match_run:{run_id}")).actor
        now = self._clock()
        async with self._uow() as uow:
            run = await uow.session.get(MatchRun, run_id)
            if run is None:
                raise NotFound(f"没有找到第 {run_id} 次匹配。")
            proposals = (await uow.session.scalars(select(MatchProposal).where(
                MatchProposal.run_id == run.id, MatchProposal.id.in_(list(proposal_ids))))).all()
            if len(proposals) != len(set(proposal_ids)) or any(p.fixed or p.appointment_id for p in proposals):
                raise DomainError("所选的配对中有不属于本次匹配、已确认或已固定的配对。")
            for proposal in proposals:
                proposal.held_at, proposal.held_by = (None, None) if release else (now, staff)
            audit(uow, at=now, actor=staff, action="match.release" if release else "match.hold",
                  subject=f"match_run:{run.id}", proposals=sorted(proposal_ids))
            await uow.commit()
            return await self._view(uow, run)

    async def lift_cap(self, *, expert_application_id: int, max_universities: int, reason: str, staff: AnyActor) -> None:
        staff = (await authorize(self._uow, self._clock, staff, Action.MATCHING_CAP_LIFT, subject=f"application:{expert_application_id}")).actor
        if max_universities <= DEFAULT_MAX_UNIVERSITIES:
            raise DomainError(f"上限本就是 {DEFAULT_MAX_UNIVERSITIES} 所；放宽时请填写大于 {DEFAULT_MAX_UNIVERSITIES} 的数。",
                              field="max_universities")
        if max_universities > MAX_LIFTED_UNIVERSITIES:
            raise DomainError(text("limits.max_universities", min=DEFAULT_MAX_UNIVERSITIES + 1, max=MAX_LIFTED_UNIVERSITIES,
                                   value=max_universities), field="max_universities")
        reason = CAP_REASON.check(reason)
        now = self._clock()
        async with self._uow() as uow:
            expert = await uow.applications.get(expert_application_id)
            if expert is None or expert.form != FormKind.EXPERT:
                raise NotFound("没有找到该专家申请。")
            row = await uow.session.scalar(select(CapException).where(CapException.expert_application_id == expert.id))
            if row is None:
                row = CapException(expert_application_id=expert.id, max_universities=max_universities, reason=reason.strip(),
                                   granted_by=staff, granted_at=now)
                uow.session.add(row)
            else:
                row.max_universities, row.reason, row.granted_by, row.granted_at = max_universities, reason.strip(), staff, now
            audit(uow, at=now, actor=staff, action="match.lift_cap", subject=f"application:{expert.id}",
                  max_universities=max_universities, reason=reason.strip())
            await uow.commit()

    async def _check_cap(self, uow: UnitOfWork, proposal: MatchProposal, exceptions: dict[int, int]) -> None:
        expert = await uow.applications.get(proposal.expert_application_id)
        cap = exceptions.get(expert.id, min(int(expert.answers.get("max_universities") or 2), DEFAULT_MAX_UNIVERSITIES))
        serving = await active_universities(uow, expert.id)
        if proposal.university_application_id not in serving and len(serving) + 1 > cap:
            raise DomainError(
                f"专家 {expert.answers.get('name', expert.id)} 已受聘或待确认 {len(serving)} 所高校，"
                f"上限为 {cap} 所；如确需放宽，请先记录理由。"
            )

    async def _view(self, uow: UnitOfWork, run: MatchRun, *, pairs: bool = True, named: bool = True) -> RunView:
        """The run, with its pairs unless pairs=False; its unfilled slots named (university, course) unless
        named=False (the engine's keys, for a caller that names them itself: the run page)."""
        views: list[ProposalView] = []
        if pairs:
            proposals = (await uow.session.scalars(select(MatchProposal).where(MatchProposal.run_id == run.id).order_by(MatchProposal.id))).all()
            views = await self._proposal_views(uow, list(zip(proposals, range(1, len(proposals) + 1))))
        unfilled = await _named_slots(uow, run.unfilled) if named else [dict(slot) for slot in run.unfilled]
        return RunView(
            id=run.id, batch_id=run.batch_id, created_at=run.created_at, created_by=run.created_by,
            confirmed=run.confirmed_at is not None, solver_status=run.solver_status, filled=run.filled,
            total_need=run.total_need, score=run.score, bound=run.bound, gap=run.gap, time_s=run.time_s,
            params=run.params, unfilled=unfilled, stability=run.stability, proposals=tuple(views),
        )

    @staticmethod
    async def _proposal_views(uow: UnitOfWork, numbered: list[tuple[MatchProposal, int]]) -> list[ProposalView]:
        """Two queries for any number of pairs, not three per pair: a national run has thousands."""
        proposals = [p for p, _ in numbered]
        application_ids = {p.expert_application_id for p in proposals} | {p.university_application_id for p in proposals}
        applications = {a.id: a for a in (await uow.session.scalars(
            select(Application).where(Application.id.in_(application_ids)))).all()} if proposals else {}
        demands = {d.id: d for d in (await uow.session.scalars(
            select(CourseDemand).where(CourseDemand.id.in_({p.demand_id for p in proposals})))).all()} if proposals else {}
        return [_proposal_view(p, number, applications[p.expert_application_id], applications[p.university_application_id],
                               demands[p.demand_id]) for p, number in numbered]


def _proposal_view(p: MatchProposal, number: int, expert: Application, university: Application,
                   demand: CourseDemand) -> ProposalView:
    return ProposalView(
        id=p.id, number=number, expert_application_id=expert.id, expert_name=expert.answers.get("name", ""),
        employer=expert.answers.get("employer", ""), university_application_id=university.id,
        university_name=university.answers.get("university_name", ""), course=demand.course, score=p.score,
        explanation="；".join(f"{t['label']}：{t['explanation']}" for t in p.terms), fixed=p.fixed,
        appointment_id=p.appointment_id, held=p.held_at is not None,
    )


def _build_and_solve(profiles, demands, fixed, forbidden, time_limit: float):
    instance = build_instance(profiles, demands, fixed=fixed, forbidden=forbidden)
    return instance, matching.solve(instance, time_limit=time_limit)


async def _named_slots(uow: UnitOfWork, slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unfilled slots with the university's name and the course, not the engine's keys (u2, d1)."""
    demand_ids = {parse_key(s["demand"]) for s in slots if str(s.get("demand", ""))[1:].isdigit()}
    if not demand_ids:
        return [dict(s) for s in slots]
    demands = {d.id: d for d in (await uow.session.scalars(select(CourseDemand).where(CourseDemand.id.in_(demand_ids)))).all()}
    universities = {a.id: a for a in (await uow.session.scalars(select(Application).where(
        Application.id.in_({d.application_id for d in demands.values()})))).all()}
    named = []
    for slot in slots:
        demand = demands.get(parse_key(slot["demand"])) if str(slot.get("demand", ""))[1:].isdigit() else None
        university = universities.get(demand.application_id) if demand else None
        named.append({
            **slot,
            "university_name": university.answers.get("university_name", "") if university else "",
            "university_application_id": university.id if university else None,
            "course": demand.course if demand else "",
        })
    return named


async def _not_considered(uow: UnitOfWork, demand_rows) -> set[tuple[str, str]]:
    rows = (await uow.session.scalars(select(Recommendation).where(
        Recommendation.demand_id.in_(list(demand_rows)), Recommendation.choice == "not_considering"))).all()
    return {(expert_key(r.expert_application_id), demand_key(r.demand_id)) for r in rows}


def _with_outside_load(profiles, held: list[Appointment], demand_rows) -> list:
    """Universities served through appointments outside this run's demands reduce the cap left."""
    inside: dict[int, set[int]] = {}
    outside: dict[int, set[int]] = {}
    for a in held:
        side = inside if a.demand_id in demand_rows else outside
        side.setdefault(a.expert_application_id, set()).add(a.university_application_id)
    adjusted = []
    for profile in profiles:
        expert = parse_key(profile.id)
        extra = outside.get(expert, set()) - inside.get(expert, set())
        adjusted.append(replace(profile, max_universities=max(profile.max_universities - len(extra), 0)) if extra else profile)
    return adjusted


def _year_month_cn(value: str | None) -> str:
    if not value or "-" not in value:
        return value or ""
    year, month = value.split("-", 1)
    return f"{year}年{int(month)}月"


async def _notify_offer(uow: UnitOfWork, appointment: Appointment, now) -> None:
    expert = await uow.applications.get(appointment.expert_application_id)
    university = await uow.applications.get(appointment.university_application_id)
    demand = next(d for d in await uow.applications.course_demands(university.id) if d.id == appointment.demand_id)
    u, e = university.answers, expert.answers
    common = {
        "appointment_id": appointment.id, "course": demand.course, "hours": demand.hours, "mode": demand.mode,
        "university": u.get("university_name", ""), "province": u.get("province", ""),
        "expert": e.get("name", ""), "employer": e.get("employer", ""),
        "answer_by": appointment.answer_by.isoformat(),
        # What each side needs to decide: the expert hears where, how, when and for whom;
        # the university hears who the expert is.
        "mode_label": TEACHING_MODES.get(demand.mode, demand.mode), "city": u.get("city", ""),
        "planned_start": _year_month_cn(u.get("planned_start")), "students": u.get("expected_students"),
        "contact": u.get("contact_name", ""), "department": u.get("contact_department", ""),
        "position": e.get("position", ""), "title_label": TITLES.get(e.get("title"), ""),
        "years": e.get("years_at_employer"), "expert_province": e.get("province", ""),
        "priority": [PRIORITY_CONDITIONS[c] for c in e.get("priority_conditions") or [] if c in PRIORITY_CONDITIONS],
    }
    for side, app in (("expert", expert), ("university", university)):
        person = await uow.people.get(app.person_id)
        name = app.answers.get("name") if side == "expert" else app.answers.get("contact_name")
        await queue_notification(
            uow, kind="match_proposal", person=person, now=now, occasion=f"appointment-{appointment.id}-offer-{side}",
            payload={**common, "side": side, "name": name or ""},
        )
        # What cannot wait also goes by SMS, to a verified mobile only (the notifier adds the signed link).
        sms = {"appointment_id": appointment.id, "answer_by": common["answer_by"], "side": side}
        await queue_sms(uow, kind="match_proposal_waiting", person=person, now=now,
                        occasion=f"appointment-{appointment.id}-offer-{side}", payload=sms)
        reminder_at = appointment.answer_by - timedelta(days=1)
        if reminder_at > now:
            await queue_notification(
                uow, kind="match_answer_reminder", person=person, now=now, due_at=reminder_at,
                occasion=f"appointment-{appointment.id}-remind-{side}",
                payload={**common, "side": side, "name": name or ""},
            )
            await queue_sms(uow, kind="match_deadline_tomorrow", person=person, now=now, due_at=reminder_at,
                            occasion=f"appointment-{appointment.id}-remind-{side}", payload=sms)
