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
    "pool_experts",
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


async def pool_experts(uow: UnitOfWork) -> list[Application]:
    return list(await uow.applications.list(form=FormKind.EXPERT, statuses=[ApplicationStatus.APPROVED]))


def cap_for(app: Application, exceptions: Mapping[int, int]) -> int:
    """The expert's own answer (1 or 2), unless staff recorded an exception for them."""
    if app.id in exceptions:
        return exceptions[app.id]
    try:
        return int(app.answers.get("max_universities") or 2)
    except ValueError:
        return 2


def expert_profile(app: Application, exceptions: Mapping[int, int]) -> ExpertProfile:
    answers = app.answers
    return ExpertProfile(
        id=expert_key(app.id),
        courses=tuple(answers.get("courses") or ()),
        modes=answers.get("teaching_mode") or "online",
        province=answers.get("province") or "",
        offline_provinces=frozenset(answers.get("offline_provinces") or ()),
        times=frozenset(answers.get("available_times") or ()),
        priority_conditions=frozenset(answers.get("priority_conditions") or ()),
        is_member=answers.get("society_member") is True,
        max_universities=cap_for(app, exceptions),
    )


async def cap_exceptions(uow: UnitOfWork) -> dict[int, int]:
    rows = (await uow.session.scalars(select(CapException))).all()
    return {row.expert_application_id: row.max_universities for row in rows}


async def demand_profiles(
    uow: UnitOfWork, universities: Sequence[Application]
) -> tuple[list[DemandProfile], dict[int, CourseDemand]]:
    """One profile per requested course, with the university's ranking of the experts it wants."""
    profiles, rows = [], {}
    for university in universities:
        for demand in await uow.applications.course_demands(university.id):
            wants = (
                await uow.session.scalars(
                    select(Recommendation)
                    .where(Recommendation.demand_id == demand.id, Recommendation.choice == "want")
                    .order_by(Recommendation.want_rank)
                )
            ).all()
            rows[demand.id] = demand
            profiles.append(DemandProfile(
                id=demand_key(demand.id),
                university_id=university_key(university.id),
                course=demand.course,
                need=demand.experts_needed,
                mode=demand.mode,
                province=university.answers.get("province") or "",
                times=frozenset(demand.schedule or ()),
                ranking=tuple(expert_key(w.expert_application_id) for w in wants),
            ))
    return profiles, rows


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
