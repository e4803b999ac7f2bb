"""A run loads the pool and the intents in a number of statements that does not grow with them, and sees the
same profiles as before: the pool read as rows, each demand with the experts its university wants, in order."""
from __future__ import annotations

from sqlalchemy import select, update

from core.db.models import Application, CourseDemand, Recommendation
from core.domain import FormKind
from core.services.matching import MATCHED_INTENTS
from core.services.profiles import cap_exceptions, demand_profiles, expert_key, expert_profile, pool_profiles
from tests.support.factories import approved_expert, submitted_expert, submitted_university
from tests.support.statements import statements


async def intents_of(uow, batch_id: int) -> list[Application]:
    return list(await uow.applications.list(form=FormKind.UNIVERSITY, statuses=list(MATCHED_INTENTS), batch_id=batch_id))


async def test_the_intents_load_in_the_same_statements_for_two_universities_or_six(core):
    experts = [await approved_expert(core, name=f"专家{n}", courses=["创新思维", "创新管理"], email=f"e{n}@example.com")
               for n in range(3)]
    await submitted_expert(core, name="待审专家")  # not in the pool
    universities = [await submitted_university(core, {"创新思维": (32, 1, "online"), "创新管理": (16, 2, "online")},
                                               university_name=f"第{n}大学", contact_email=f"u{n}@example.edu.cn")
                    for n in range(6)]
    batch = (await core.batches.list())[0]
    # The second university wants experts 2, then 0 for its first course (as it would rank them on its page).
    async with core.uow() as uow:
        demand = (await uow.session.scalars(select(CourseDemand).where(
            CourseDemand.application_id == universities[1]).order_by(CourseDemand.id))).first()
        for rank, expert in ((1, experts[2]), (2, experts[0])):
            await uow.session.execute(update(Recommendation).where(
                Recommendation.demand_id == demand.id, Recommendation.expert_application_id == expert,
            ).values(choice="want", want_rank=rank))
        await uow.commit()

    costs = {}
    for some in (2, 6):
        async with core.uow() as uow:
            chosen = [u for u in await intents_of(uow, batch.id) if u.id in universities[:some]]
            with statements(core) as seen:
                profiles, rows = await demand_profiles(uow, chosen)
            costs[some] = len(seen)
            assert len(profiles) == len(rows) == 2 * some
    assert costs[2] == costs[6] == 2, costs  # the demands, then the wants
    by_id = {p.id: p for p in profiles}
    assert by_id[f"d{demand.id}"].ranking == (expert_key(experts[2]), expert_key(experts[0]))
    assert [p.university_id for p in profiles] == [f"u{u}" for u in universities for _ in range(2)]
    assert {p.need for p in profiles} == {1, 2}

    async with core.uow() as uow:
        exceptions = await cap_exceptions(uow)
        with statements(core) as seen:
            pool = await pool_profiles(uow, exceptions)
        pool_rows = list(await uow.applications.list(form=FormKind.EXPERT, statuses=["approved"]))
        as_objects = [expert_profile(app, exceptions) for app in pool_rows]
    assert len(seen) <= 2  # one read (PostgreSQL may fetch in pages through its cursor)
    assert pool == as_objects  # the same profiles, in the queue's order
    assert [p.id for p in pool] == [expert_key(e) for e in experts]

    preview = await core.matching.preview(batch_id=batch.id, staff="test")
    assert (preview.experts, preview.universities, preview.demands, preview.slots) == (3, 6, 12, 18)
