"""Candidates recommended to a university per course, and its choices among them (双向匹配, the university's side)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.db.models import Application, Appointment, CourseDemand, ExpertPreference, OutboxMessage, Recommendation
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import ApplicationStatus, DomainError, FormKind, NotFound
from core.domain.appointments import ACTIVE_APPOINTMENTS
from core.matching import CourseDemand as DemandProfile
from core.matching import pair_filter, recommend, score_pair
from core.services.common import Clock, audit, queue_notification, utc_now
from core.services.profiles import (
    anonymised_profile,
    cap_exceptions,
    demand_profiles,
    expert_profile,
    parse_key,
    pool_profiles,
)
from core.texts import text

__all__ = [
    "RecommendationService",
    "Candidate",
    "DemandCandidates",
    "UniversityOption",
    "recommend_in",
    "candidate_groups",
    "notify_recommendations",
    "offer_new_expert",
    "expert_rankings",
    "REFRESH_DELAY",
    "profile_line",
    "CHOICES",
]

CHOICES = {"want": "意向", "not_considering": "不考虑"}


# Experts approved within this long of each other reach a university as one message, not one each.
REFRESH_DELAY = timedelta(minutes=10)
# Intents whose universities hear about new experts: the same ones a matching run takes.
OPEN_INTENTS = (ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVED)


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


@dataclass(frozen=True)
class UniversityOption:
    """A university an expert was recommended to, as the expert sees it, and what they made of it."""

    university_application_id: int
    university: str
    province: str
    city: str
    planned_start: str
    students: int | None
    courses: tuple[str, ...]
    choice: str | None
    want_rank: int | None


async def recommend_in(uow: UnitOfWork, university: Application, *, now, k: int = 5, more: bool = False) -> int:
    """Adds up to k new candidates per course of this intent; returns how many were added."""
    await uow.flush()  # demands written earlier in this transaction must be visible to the queries below
    experts = await pool_profiles(uow, await cap_exceptions(uow))
    if not experts:
        return 0
    profiles, rows = await demand_profiles(uow, [university])
    shown: dict[int, set[int]] = {}
    for demand_id in rows:
        existing = (await uow.session.scalars(select(Recommendation).where(Recommendation.demand_id == demand_id))).all()
        shown[demand_id] = {r.expert_application_id for r in existing}
    forbidden = [(f"e{e}", f"d{d}") for d, experts_shown in shown.items() for e in experts_shown]
    per_demand = recommend(experts, profiles, k=k, forbidden=forbidden)
    added = 0
    recommended: set[int] = set()
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
            recommended.add(parse_key(item.pair.expert_id))
    await notify_experts_recommended(uow, recommended, now=now)
    return added


async def notify_experts_recommended(uow: UnitOfWork, expert_application_ids, *, now) -> None:
    """Tells each expert that they were recommended to (more) universities, pointing them to where they mark
    them (the bot's /universities, the web's /universities). One notice per REFRESH_DELAY: while one is
    still waiting to go out, later recommendations ride on it."""
    for expert_id in sorted(set(expert_application_ids)):
        expert = await uow.applications.get(expert_id)
        person = await uow.people.get(expert.person_id) if expert is not None else None
        if person is None or person.erased_at is not None:
            continue
        waiting = await uow.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.kind == "expert_recommendations", OutboxMessage.person_id == person.id,
            OutboxMessage.status == "queued", OutboxMessage.due_at > now).limit(1))
        if waiting is not None:
            continue
        await queue_notification(
            uow, kind="expert_recommendations", person=person, now=now, due_at=now + REFRESH_DELAY,
            occasion=f"expert-{expert_id}-recommended-{now.isoformat()}",
            payload={"application_id": expert_id, "name": expert.answers.get("name") or person.display_name or ""},
        )


async def offer_new_expert(uow: UnitOfWork, expert: Application, *, now, k: int = 5) -> int:
    """An expert just entered the pool: every open intent they fit, with slots still open and fewer than
    k candidates shown for that course, gets them as a candidate, and its contact hears once per
    REFRESH_DELAY however many experts are approved meanwhile. Returns how many universities gained one."""
    await uow.flush()
    profile = expert_profile(expert, await cap_exceptions(uow))
    # Only the columns the hard filters need, for the demands of the expert's courses: an approval must
    # stay cheap when 1,500 universities are waiting (no intent's answers are loaded here).
    open_demands = (await uow.session.execute(
        select(CourseDemand.id, CourseDemand.application_id, CourseDemand.course, CourseDemand.experts_needed,
               CourseDemand.mode, CourseDemand.schedule, Application.province)
        .join(Application, Application.id == CourseDemand.application_id)
        .where(Application.form == FormKind.UNIVERSITY, Application.status.in_(list(OPEN_INTENTS)),
               CourseDemand.course.in_(list(profile.courses)))
    )).all()
    fitting = []
    for row in open_demands:
        target = DemandProfile(
            id=f"d{row.id}", university_id=f"u{row.application_id}", course=row.course, need=row.experts_needed,
            mode=row.mode, province=row.province or "", times=frozenset(row.schedule or ()),
        )
        if pair_filter(profile, target) is None:
            fitting.append((row, target))
    if not fitting:
        return 0
    ids = [row.id for row, _ in fitting]
    # Grouped queries for all fitting demands, not three per demand.
    shown = dict((await uow.session.execute(select(Recommendation.demand_id, func.count()).where(
        Recommendation.demand_id.in_(ids), func.coalesce(Recommendation.choice, "") != "not_considering",
    ).group_by(Recommendation.demand_id))).all())
    already = {d for (d,) in (await uow.session.execute(select(Recommendation.demand_id).where(
        Recommendation.demand_id.in_(ids), Recommendation.expert_application_id == expert.id))).all()}
    held = dict((await uow.session.execute(select(Appointment.demand_id, func.count()).where(
        Appointment.demand_id.in_(ids), Appointment.status.in_(list(ACTIVE_APPOINTMENTS)),
    ).group_by(Appointment.demand_id))).all())
    top = {d: (rank, round_) for d, rank, round_ in (await uow.session.execute(select(
        Recommendation.demand_id, func.max(Recommendation.rank), func.max(Recommendation.round),
    ).where(Recommendation.demand_id.in_(ids)).group_by(Recommendation.demand_id))).all()}
    gained: set[int] = set()
    for row, target in fitting:
        if row.id in already or held.get(row.id, 0) >= row.experts_needed or shown.get(row.id, 0) >= k:
            continue
        pair = score_pair(profile, target)
        rank, round_ = top.get(row.id, (0, 1))
        uow.session.add(Recommendation(
            demand_id=row.id, expert_application_id=expert.id, rank=(rank or 0) + 1, round=round_ or 1,
            score=pair.score, created_at=now,
            terms=[{"label": t.label, "value": t.value, "weight": t.weight, "explanation": t.explanation} for t in pair.terms],
        ))
        gained.add(row.application_id)
    for university_id in sorted(gained):
        await notify_recommendations(uow, await uow.applications.get(university_id), now=now, coalesce=True)
    if gained:
        await notify_experts_recommended(uow, [expert.id], now=now)
    return len(gained)


class RecommendationService:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now, per_course: int = 5) -> None:
        self._uow = uow
        self._clock = clock
        self._k = per_course

    async def recommend(self, *, university_application_id: int, person_id: int, more: bool = False
                        ) -> list[DemandCandidates]:
        """The university contact asks for candidates (the next ones with `more`); they hear of them by notice too."""
        now = self._clock()
        async with self._uow() as uow:
            university = await _own_application(uow, university_application_id, form=FormKind.UNIVERSITY,
                                                person_id=person_id)
            added = await recommend_in(uow, university, now=now, k=self._k, more=more)
            if added:
                audit(uow, at=now, actor=f"person:{person_id}", action="recommendations.add",
                      subject=f"application:{university.id}", added=added)
                await notify_recommendations(uow, university, now=now)
            await uow.commit()
            return await candidate_groups(uow, university)

    async def candidates(self, *, university_application_id: int, person_id: int) -> list[DemandCandidates]:
        """The candidates recommended for the courses of this person's own intent."""
        async with self._uow() as uow:
            university = await _own_application(uow, university_application_id, form=FormKind.UNIVERSITY,
                                                person_id=person_id)
            return await candidate_groups(uow, university)

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

    # ------------------------------------------------------------ the expert's side

    async def universities_for_expert(self, *, expert_application_id: int, person_id: int) -> list[UniversityOption]:
        """The universities this person's own expert application was recommended to (and not turned down by),
        wanted ones first in order."""
        async with self._uow() as uow:
            await _own_application(uow, expert_application_id, form=FormKind.EXPERT, person_id=person_id)
            return await _university_options(uow, expert_application_id)

    async def expert_choose(
        self, *, expert_application_id: int, university_application_id: int, choice: str | None, person_id: int
    ) -> list[UniversityOption]:
        """The expert marks a proposed university 意向 (appended to their order) or 不考虑, or clears the mark."""
        if choice is not None and choice not in CHOICES:
            raise DomainError(f"未知选项：{choice}")
        now = self._clock()
        async with self._uow() as uow:
            await _own_application(uow, expert_application_id, form=FormKind.EXPERT, person_id=person_id)
            options = {o.university_application_id for o in await _university_options(uow, expert_application_id)}
            if university_application_id not in options:
                raise NotFound(text("university.not_found"))
            row = await uow.session.scalar(select(ExpertPreference).where(
                ExpertPreference.expert_application_id == expert_application_id,
                ExpertPreference.university_application_id == university_application_id))
            if choice is None:
                if row is not None:
                    await uow.session.delete(row)
            else:
                if row is None:
                    row = ExpertPreference(expert_application_id=expert_application_id,
                                           university_application_id=university_application_id, choice=choice, chosen_at=now)
                    uow.session.add(row)
                elif row.choice == choice:
                    return await _university_options(uow, expert_application_id)
                row.choice, row.chosen_at = choice, now
                if choice == "want":
                    top = await uow.session.scalar(select(func.max(ExpertPreference.want_rank)).where(
                        ExpertPreference.expert_application_id == expert_application_id, ExpertPreference.choice == "want"))
                    row.want_rank = (top or 0) + 1
                else:
                    row.want_rank = None
            await uow.flush()
            await self._renumber_expert(uow, expert_application_id)
            audit(uow, at=now, actor=f"person:{person_id}", action="preferences.choose",
                  subject=f"application:{expert_application_id}", university=university_application_id, choice=choice or "")
            await uow.commit()
            return await _university_options(uow, expert_application_id)

    async def expert_move_up(self, *, expert_application_id: int, university_application_id: int, person_id: int
                             ) -> list[UniversityOption]:
        async with self._uow() as uow:
            await _own_application(uow, expert_application_id, form=FormKind.EXPERT, person_id=person_id)
            row = await uow.session.scalar(select(ExpertPreference).where(
                ExpertPreference.expert_application_id == expert_application_id,
                ExpertPreference.university_application_id == university_application_id))
            if row is not None and row.choice == "want" and (row.want_rank or 0) > 1:
                above = await uow.session.scalar(select(ExpertPreference).where(
                    ExpertPreference.expert_application_id == expert_application_id,
                    ExpertPreference.want_rank == row.want_rank - 1))
                if above is not None:
                    above.want_rank, row.want_rank = row.want_rank, row.want_rank - 1
                await uow.commit()
            return await _university_options(uow, expert_application_id)

    async def _renumber_expert(self, uow: UnitOfWork, expert_application_id: int) -> None:
        wants = (await uow.session.scalars(select(ExpertPreference).where(
            ExpertPreference.expert_application_id == expert_application_id, ExpertPreference.choice == "want",
        ).order_by(ExpertPreference.want_rank))).all()
        for position, row in enumerate(wants, start=1):
            row.want_rank = position

    async def _renumber(self, uow: UnitOfWork, demand_id: int) -> None:
        wants = (await uow.session.scalars(select(Recommendation).where(
            Recommendation.demand_id == demand_id, Recommendation.choice == "want").order_by(Recommendation.want_rank))).all()
        for position, row in enumerate(wants, start=1):
            row.want_rank = position

    async def _owned(self, uow: UnitOfWork, row: Recommendation | None, person_id: int) -> Application:
        """The university intent a candidate was recommended to, if it is this person's; one message for a
        missing candidate and someone else's, so an id tells nothing about other universities."""
        if row is None:
            raise NotFound(text("recommendation.not_found"))
        demand = await uow.session.get(CourseDemand, row.demand_id)
        university = await uow.applications.get(demand.application_id) if demand is not None else None
        if university is None or university.person_id != person_id:
            raise NotFound(text("recommendation.not_found"))
        return university


async def _own_application(uow: UnitOfWork, application_id: int, *, form: str, person_id: int) -> Application:
    """This person's own application of this form. A missing id, another form and someone else's application
    raise the same NotFound: a foreign id looks exactly like a missing one."""
    app = await uow.applications.get(application_id)
    if app is None or app.form != form or app.person_id != person_id:
        raise NotFound(text("application.not_found"))
    return app


async def _university_options(uow: UnitOfWork, expert_application_id: int) -> list[UniversityOption]:
    rows = (await uow.session.execute(select(CourseDemand).join(
        Recommendation, Recommendation.demand_id == CourseDemand.id).where(
        Recommendation.expert_application_id == expert_application_id,
        func.coalesce(Recommendation.choice, "") != "not_considering",
    ).order_by(CourseDemand.id))).scalars().all()
    courses: dict[int, list[str]] = {}
    for demand in rows:
        courses.setdefault(demand.application_id, []).append(demand.course)
    if not courses:
        return []
    universities = {a.id: a for a in (await uow.session.scalars(select(Application).where(
        Application.id.in_(list(courses)), Application.status.in_(list(OPEN_INTENTS))))).all()}
    marks = {p.university_application_id: p for p in (await uow.session.scalars(select(ExpertPreference).where(
        ExpertPreference.expert_application_id == expert_application_id))).all()}
    options = []
    for university_id, names in courses.items():
        app = universities.get(university_id)
        if app is None:
            continue
        mark = marks.get(university_id)
        options.append(UniversityOption(
            university_application_id=university_id, university=app.answers.get("university_name", ""),
            province=app.answers.get("province", ""), city=app.answers.get("city", ""),
            planned_start=app.answers.get("planned_start", ""), students=app.answers.get("expected_students"),
            courses=tuple(dict.fromkeys(names)), choice=mark.choice if mark else None,
            want_rank=mark.want_rank if mark else None,
        ))
    options.sort(key=lambda o: (o.choice != "want", o.want_rank or 0, o.university_application_id))
    return options


async def expert_rankings(uow: UnitOfWork) -> tuple[dict[int, list[int]], set[tuple[int, int]]]:
    """Every expert's wanted universities in order, and the (expert, university) pairs they declined."""
    rows = (await uow.session.scalars(select(ExpertPreference).order_by(
        ExpertPreference.expert_application_id, ExpertPreference.want_rank))).all()
    wanted: dict[int, list[int]] = {}
    declined: set[tuple[int, int]] = set()
    for row in rows:
        if row.choice == "want":
            wanted.setdefault(row.expert_application_id, []).append(row.university_application_id)
        else:
            declined.add((row.expert_application_id, row.university_application_id))
    return wanted, declined


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


async def notify_recommendations(uow: UnitOfWork, university: Application, *, now, coalesce: bool = False) -> None:
    """Tells the university contact (e-mail and/or Telegram) who is recommended for each course.

    With `coalesce`, a notice still waiting to go out is brought up to date instead of queueing
    another, and a new one waits REFRESH_DELAY for more experts to arrive.
    """
    await uow.flush()
    groups = await candidate_groups(uow, university)
    person = await uow.people.get(university.person_id)
    if person is None:
        return
    payload = {
        "application_id": university.id,
        "university": university.answers.get("university_name") or "",
        "name": university.answers.get("contact_name") or "",
        "courses": [
            {"course": g.course, "candidates": [
                {"code": c.profile["code"], "summary": profile_line(c.profile), "reasons": list(c.reasons[:3])}
                for c in g.candidates]}
            for g in groups
        ],
    }
    if coalesce:
        waiting = (await uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "recommendations", OutboxMessage.person_id == person.id,
            OutboxMessage.status == "queued", OutboxMessage.due_at > now))).all()
        if waiting:
            for row in waiting:
                row.payload = payload
            return
    await queue_notification(
        uow, kind="recommendations", person=person, now=now,
        occasion=f"university-{university.id}-recommendations-{now.isoformat()}",
        due_at=now + REFRESH_DELAY if coalesce else None,
        payload=payload,
    )
