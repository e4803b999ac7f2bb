"""Candidates recommended to a university per course, and its choices among them (双向匹配, the university's side)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from core.db.models import Application, CourseDemand, Recommendation
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError, FormKind, NotFound
from core.matching import recommend
from core.services.common import Clock, audit, queue_notification, utc_now
from core.services.profiles import (
    anonymised_profile,
    cap_exceptions,
    demand_profiles,
    expert_profile,
    parse_key,
    pool_experts,
)

__all__ = [
    "RecommendationService",
    "Candidate",
    "DemandCandidates",
    "recommend_in",
    "candidate_groups",
    "notify_recommendations",
    "profile_line",
    "CHOICES",
]

CHOICES = {"want": "意向", "not_considering": "不考虑"}


@dataclass(frozen=True)
class Candidate:
    recommendation_id: int
    expert_application_id: int
    rank: int
    score: float
    reasons: tuple[str, ...]
    profile: dict[str, Any]
    choice: str | None
    want_rank: int | None


@dataclass(frozen=True)
class DemandCandidates:
    demand_id: int
    course: str
    need: int
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)


async def recommend_in(uow: UnitOfWork, university: Application, *, now, k: int = 5, more: bool = False) -> int:
    """Adds up to k new candidates per course of this intent; returns how many were added."""
    await uow.flush()  # demands written earlier in this transaction must be visible to the queries below
    experts = await pool_experts(uow)
    if not experts:
        return 0
    exceptions = await cap_exceptions(uow)
    profiles, rows = await demand_profiles(uow, [university])
    shown: dict[int, set[int]] = {}
    for demand_id in rows:
        existing = (await uow.session.scalars(select(Recommendation).where(Recommendation.demand_id == demand_id))).all()
        shown[demand_id] = {r.expert_application_id for r in existing}
    forbidden = [(f"e{e}", f"d{d}") for d, experts_shown in shown.items() for e in experts_shown]
    per_demand = recommend([expert_profile(e, exceptions) for e in experts], profiles, k=k, forbidden=forbidden)
    added = 0
    for demand_key_, recommendations in per_demand.items():
        demand_id = parse_key(demand_key_)
        round_ = 1 + (await uow.session.scalar(
            select(func.coalesce(func.max(Recommendation.round), 0)).where(Recommendation.demand_id == demand_id)
        ) or 0)
        if not more and round_ > 1:
            continue
        start = len(shown[demand_id])
        for offset, item in enumerate(recommendations, start=1):
            uow.session.add(Recommendation(
                demand_id=demand_id, expert_application_id=parse_key(item.pair.expert_id), rank=start + offset,
                round=round_, score=item.pair.score,
                terms=[{"label": t.label, "value": t.value, "weight": t.weight, "explanation": t.explanation}
                       for t in item.pair.terms],
                created_at=now,
            ))
            added += 1
    return added


class RecommendationService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now, per_course: int = 5) -> None:
        self._uow = uow
        self._clock = clock
        self._k = per_course

    async def recommend(self, *, university_application_id: int, more: bool = False, actor: str = "system") -> list[DemandCandidates]:
        """Recommends candidates (the next ones with `more`) and tells the university contact."""
        now = self._clock()
        async with self._uow() as uow:
            university = await self._university(uow, university_application_id)
            added = await recommend_in(uow, university, now=now, k=self._k, more=more)
            if added:
                audit(uow, at=now, actor=actor, action="recommendations.add", subject=f"application:{university.id}", added=added)
                await notify_recommendations(uow, university, now=now)
            await uow.commit()
            return await candidate_groups(uow, university)

    async def candidates(self, *, university_application_id: int) -> list[DemandCandidates]:
        async with self._uow() as uow:
            return await candidate_groups(uow, await self._university(uow, university_application_id))

    async def choose(self, *, recommendation_id: int, choice: str | None, person_id: int) -> list[DemandCandidates]:
        """Marks a candidate 意向 (appended to the wanted list) or 不考虑, or clears the mark."""
        if choice is not None and choice not in CHOICES:
            raise DomainError(f"未知选项：{choice}")
        now = self._clock()
        async with self._uow() as uow:
            row = await uow.session.get(Recommendation, recommendation_id)
            university = await self._owned(uow, row, person_id)
            previous = row.choice
            row.choice, row.chosen_at = choice, now
            if choice == "want" and previous != "want":
                top = await uow.session.scalar(select(func.max(Recommendation.want_rank)).where(
                    Recommendation.demand_id == row.demand_id, Recommendation.choice == "want"))
                row.want_rank = (top or 0) + 1
            elif choice != "want":
                row.want_rank = None
            await uow.flush()
            await self._renumber(uow, row.demand_id)
            audit(uow, at=now, actor=f"person:{person_id}", action="recommendations.choose",
                  subject=f"application:{university.id}", recommendation=row.id, choice=choice or "")
            await uow.commit()
            return await candidate_groups(uow, university)

    async def move_up(self, *, recommendation_id: int, person_id: int) -> list[DemandCandidates]:
        async with self._uow() as uow:
            row = await uow.session.get(Recommendation, recommendation_id)
            university = await self._owned(uow, row, person_id)
            if row.choice != "want" or not row.want_rank or row.want_rank == 1:
                return await candidate_groups(uow, university)
            above = await uow.session.scalar(select(Recommendation).where(
                Recommendation.demand_id == row.demand_id, Recommendation.want_rank == row.want_rank - 1))
            if above is not None:
                above.want_rank, row.want_rank = row.want_rank, row.want_rank - 1
            await uow.commit()
            return await candidate_groups(uow, university)

    async def _renumber(self, uow: UnitOfWork, demand_id: int) -> None:
        wants = (await uow.session.scalars(select(Recommendation).where(
            Recommendation.demand_id == demand_id, Recommendation.choice == "want").order_by(Recommendation.want_rank))).all()
        for position, row in enumerate(wants, start=1):
            row.want_rank = position

    async def _owned(self, uow: UnitOfWork, row: Recommendation | None, person_id: int) -> Application:
        if row is None:
            raise NotFound("没有找到该推荐人选。")
        demand = await uow.session.get(CourseDemand, row.demand_id)
        university = await uow.applications.get(demand.application_id)
        if university is None or university.person_id != person_id:
            raise NotFound("没有找到该推荐人选。")
        return university

    async def _university(self, uow: UnitOfWork, application_id: int) -> Application:
        app = await uow.applications.get(application_id)
        if app is None or app.form != FormKind.UNIVERSITY:
            raise NotFound("没有找到该高校意向表。")
        return app


def profile_line(profile: dict[str, Any]) -> str:
    parts = [profile["employer_type"], profile["title"], f"{profile['years']}年", profile["mode"], profile["province"]]
    if profile["priority"]:
        parts.append("、".join(profile["priority"]))
    return "，".join(str(p) for p in parts if p)


async def candidate_groups(uow: UnitOfWork, university: Application) -> list[DemandCandidates]:
    groups = []
    for demand in await uow.applications.course_demands(university.id):
        rows = (await uow.session.scalars(
            select(Recommendation).where(Recommendation.demand_id == demand.id).order_by(Recommendation.rank))).all()
        candidates = []
        for row in rows:
            expert = await uow.applications.get(row.expert_application_id)
            if expert is None:
                continue
            candidates.append(Candidate(
                recommendation_id=row.id, expert_application_id=expert.id, rank=row.rank, score=row.score,
                reasons=tuple(f"{t['label']}：{t['explanation']}" for t in row.terms if t["value"] > 0),
                profile=anonymised_profile(expert), choice=row.choice, want_rank=row.want_rank,
            ))
        groups.append(DemandCandidates(demand.id, demand.course, demand.experts_needed, tuple(candidates)))
    return groups


async def notify_recommendations(uow: UnitOfWork, university: Application, *, now) -> None:
    """Tells the university contact (e-mail and/or Telegram) who is recommended for each course."""
    await uow.flush()
    groups = await candidate_groups(uow, university)
    person = await uow.people.get(university.person_id)
    if person is None:
        return
    await queue_notification(
        uow, kind="recommendations", person=person, now=now,
        occasion=f"university-{university.id}-recommendations-{now.isoformat()}",
        payload={
            "application_id": university.id,
            "university": university.answers.get("university_name") or "",
            "name": university.answers.get("contact_name") or "",
            "courses": [
                {"course": g.course, "candidates": [
                    {"code": c.profile["code"], "summary": profile_line(c.profile), "reasons": list(c.reasons[:3])}
                    for c in g.candidates]}
                for g in groups
            ],
        },
    )
