"""The dashboard's oldest waiting reviews are read per form along the queue's index and merged: still the
oldest of both forms together, oldest first, at most the limit, of the batch only."""
from __future__ import annotations

from core.services.figures import oldest_waiting
from tests.support.factories import approved_expert, submitted_expert, submitted_university


async def test_the_oldest_submissions_of_both_forms_merged_oldest_first(core, clock):
    made = []
    for n, kind in enumerate(["expert", "university", "university", "expert", "university"]):
        clock.advance(hours=1)
        if kind == "expert":
            made.append((await submitted_expert(core, email=f"e{n}@example.com"), kind))
        else:
            made.append((await submitted_university(core, {"创新思维": (32, 1, "online")}, contact_email=f"u{n}@example.edu.cn"),
                         kind))
    await approved_expert(core, email="approved@example.com")  # reviewed: not waiting
    batch = (await core.batches.list())[0]
    async with core.uow() as uow:
        three = await oldest_waiting(uow, batch.id, now=clock(), limit=3)
        every = await oldest_waiting(uow, batch.id, now=clock())
        other = await oldest_waiting(uow, batch.id + 1, now=clock())
    assert [(w.application_id, w.form) for w in three] == made[:3]
    assert [(w.application_id, w.form) for w in every] == made and other == ()
    assert [w.age_days for w in every] == [0] * 5
