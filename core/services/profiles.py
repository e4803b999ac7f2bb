"""The pool and the intents as the matching engine sees them, and as a university may see an expert."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from core.db.models import Application, Appointment, CapException, CourseDemand, Recommendation
from core.db.uow import UnitOfWork
from core.domain import ApplicationStatus, FormKind
from core.domain.appointments import ACTIVE_APPOINTMENTS, AppointmentStatus
from core.domain.vocabulary import EMPLOYER_TYPES, PRIORITY_CONDITIONS, TEACHING_MODES, TITLES
from core.matching import CourseDemand as DemandProfile
from core.matching import ExpertProfile

__all__ = [
    "expert_key",
    "demand_key",
    "university_key",
    "parse_key",
    "pool_profiles",
    "expert_profile",
    "demand_profiles",
    "anonymised_profile",
    "cap_for",
]


def expert_key(application_id: int) -> str:
    return f"e{application_id}"


def demand_key(demand_id: int) -> str:
    return f"d{demand_id}"


def university_key(application_id: int) -> str:
    return f"u{application_id}"


def parse_key(key: str) -> int:
    return int(key[1:])


async def pool_profiles(uow: UnitOfWork, exceptions: Mapping[int, int]) -> list[ExpertProfile]:
    """The pool as the engine sees it, read as (id, answers) rows in pages: a national pool is 50,000
    applications, and holding each as an ORM object with its whole answers until the solve ends cost
    ~0.35 GB at XL."""
    result = await uow.session.stream(
        select(Application.id, Application.answers)
        .where(Application.form == FormKind.EXPERT, Application.status == ApplicationStatus.APPROVED)
        .order_by(Application.submitted_at, Application.id)  # the queue's order: runs solve the same problem
        .execution_options(yield_per=2000))
    return [_profile(application_id, answers or {}, exceptions) async for application_id, answers in result]


def cap_for(app: Application, exceptions: Mapping[int, int]) -> int:
    """The expert's own answer (1 or 2), unless staff recorded an exception for them."""
    return _cap(app.id, app.answers, exceptions)


def _cap(application_id: int, answers: Mapping[str, Any], exceptions: Mapping[int, int]) -> int:
    if application_id in exceptions:
        return exceptions[application_id]
    try:
        return int(answers.get("max_universities") or 2)
    except ValueError:
        return 2


def expert_profile(app: Application, exceptions: Mapping[int, int]) -> ExpertProfile:
    return _profile(app.id, app.answers, exceptions)


def _profile(application_id: int, answers: Mapping[str, Any], exceptions: Mapping[int, int]) -> ExpertProfile:
    return ExpertProfile(
        id=expert_key(application_id),
        courses=tuple(answers.get("courses") or ()),
        modes=answers.get("teaching_mode") or "online",
        province=answers.get("province") or "",
        offline_provinces=frozenset(answers.get("offline_provinces") or ()),
        times=frozenset(answers.get("available_times") or ()),
        priority_conditions=frozenset(answers.get("priority_conditions") or ()),
        is_member=answers.get("society_member") is True,
        max_universities=_cap(application_id, answers, exceptions),
    )


async def cap_exceptions(uow: UnitOfWork) -> dict[int, int]:
    rows = (await uow.session.scalars(select(CapException))).all()
    return {row.expert_application_id: row.max_universities for row in rows}


# Ids per IN list: well under SQLite's limit on bound parameters, few round trips at national scale.
IDS_PER_QUERY = 500


async def demand_profiles(
    uow: UnitOfWork, universities: Sequence[Application]
) -> tuple[list[DemandProfile], dict[int, CourseDemand]]:
    """One profile per requested course, with the university's ranking of the experts it wants.

    Two queries per IDS_PER_QUERY universities, not two per university and demand (a national batch
    has 3,000 intents and 7,000 demands: 10,000 round trips, seconds of loading)."""
    profiles, rows = [], {}
    for start in range(0, len(universities), IDS_PER_QUERY):
        chunk = universities[start:start + IDS_PER_QUERY]
        demands = (await uow.session.scalars(
            select(CourseDemand).where(CourseDemand.application_id.in_([u.id for u in chunk]))
            .order_by(CourseDemand.application_id, CourseDemand.id))).all()
        wanted: dict[int, list[int]] = {}
        for demand_ids in _chunks([d.id for d in demands]):
            for demand_id, expert_id in (await uow.session.execute(
                select(Recommendation.demand_id, Recommendation.expert_application_id)
                .where(Recommendation.demand_id.in_(demand_ids), Recommendation.choice == "want")
                .order_by(Recommendation.demand_id, Recommendation.want_rank, Recommendation.id))).all():
                wanted.setdefault(demand_id, []).append(expert_id)
        by_university: dict[int, list[CourseDemand]] = {}
        for demand in demands:
            by_university.setdefault(demand.application_id, []).append(demand)
        for university in chunk:
            for demand in by_university.get(university.id, ()):
                rows[demand.id] = demand
                profiles.append(DemandProfile(
                    id=demand_key(demand.id),
                    university_id=university_key(university.id),
                    course=demand.course,
                    need=demand.experts_needed,
                    mode=demand.mode,
                    province=university.answers.get("province") or "",
                    times=frozenset(demand.schedule or ()),
                    ranking=tuple(expert_key(e) for e in wanted.get(demand.id, ())),
                ))
    return profiles, rows


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start:start + IDS_PER_QUERY]


async def pairs_with_status(uow: UnitOfWork, statuses: Iterable[AppointmentStatus]) -> list[Appointment]:
    return list((await uow.session.scalars(select(Appointment).where(Appointment.status.in_(list(statuses))))).all())


async def active_universities(uow: UnitOfWork, expert_application_id: int) -> set[int]:
    rows = (await uow.session.scalars(select(Appointment).where(
        Appointment.expert_application_id == expert_application_id,
        Appointment.status.in_(list(ACTIVE_APPOINTMENTS)),
    ))).all()
    return {row.university_application_id for row in rows}


def anonymised_profile(app: Application) -> dict[str, Any]:
    """What a university sees before a match is confirmed: no name, phone, e-mail or employer name."""
    answers = app.answers
    return {
        "code": f"专家 {expert_key(app.id).upper()}",
        "employer_type": EMPLOYER_TYPES.get(answers.get("employer_type"), ""),
        "title": TITLES.get(answers.get("title"), ""),
        "years": answers.get("years_at_employer"),
        "courses": list(answers.get("courses") or []),
        "mode": TEACHING_MODES.get(answers.get("teaching_mode"), ""),
        "province": answers.get("province") or "",
        "priority": [PRIORITY_CONDITIONS[c] for c in answers.get("priority_conditions") or [] if c in PRIORITY_CONDITIONS],
        "member": answers.get("society_member") is True,
    }
