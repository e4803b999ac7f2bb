"""Whatever the entry point (console, bot command, CLI), an id no row can have is "not found" and a text beyond
its limit is refused by the core services, on SQLite and PostgreSQL alike (issue 23, part 1)."""
from __future__ import annotations

from datetime import date

import pytest

from core.domain import DomainError, NotFound
from core.domain.limits import BATCH_NAME, CAP_REASON, STAFF_NAME
from tests.support.factories import submitted_expert

HUGE = (2**31, 2**63, 10**20)


@pytest.mark.parametrize("huge", HUGE)
async def test_an_id_beyond_the_columns_range_is_not_found_in_every_service(core, huge):
    for call in (
        lambda: core.review.approve(application_id=huge, staff="staff:1"),
        lambda: core.review.reject(application_id=huge, staff="staff:1", reason="材料不全"),
        lambda: core.appointments.get(staff="test", appointment_id=huge),
        lambda: core.appointments.record_filing(appointment_id=huge, staff="staff:1", filed_on=date(2025, 9, 1)),
        lambda: core.events.get(staff="test", event_id=huge),
        lambda: core.events.cancel(event_id=huge, actor="staff:1"),
        lambda: core.matching.get(staff="test", run_id=huge),
        lambda: core.matching.lift_cap(expert_application_id=huge, max_universities=3, reason="急需", staff="staff:1"),
        lambda: core.batches.get(ref=str(huge)),
        lambda: core.staff.get(staff="test", account_id=huge),
    ):
        with pytest.raises(NotFound):
            await call()


async def test_texts_beyond_their_limit_are_refused_by_the_services(core):
    application_id = await submitted_expert(core)
    with pytest.raises(DomainError, match="最多 500 个字，您输入了 100000 个字"):
        await core.review.reject(application_id=application_id, staff="staff:1", reason="不" * 100_000)
    with pytest.raises(DomainError, match="最多 500 个字"):
        await core.review.approve(application_id=application_id, staff="staff:1", note="好" * 501)
    with pytest.raises(DomainError, match=f"最多 {CAP_REASON.max} 个字"):
        await core.matching.lift_cap(expert_application_id=application_id, max_universities=3,
                                     reason="理" * (CAP_REASON.max + 1), staff="staff:1")
    with pytest.raises(DomainError, match="放宽后的上限应为 3–10 所"):
        await core.matching.lift_cap(expert_application_id=application_id, max_universities=10**20, reason="急需",
                                     staff="staff:1")
    with pytest.raises(DomainError, match=f"最多 {BATCH_NAME.max} 个字"):
        await core.batches.create(name="批" * (BATCH_NAME.max + 1), registration_opens=date(2025, 7, 1),
                                  registration_closes=date(2025, 9, 30), actor="test")
    with pytest.raises(DomainError, match=f"最多 {STAFF_NAME.max} 个字"):
        await core.staff.add(email="zhao@example.org", name="赵" * (STAFF_NAME.max + 1), role="reviewer", actor="test")
    with pytest.raises(DomainError, match="最多 254 个字"):
        await core.staff.add(email="a" * 300 + "@example.org", name="赵", role="reviewer", actor="test")
    link = await core.staff.add(email="zhao@example.org", name="赵" * STAFF_NAME.max, role="reviewer", actor="test")
    with pytest.raises(DomainError, match="超出范围"):
        await core.staff.link_telegram(ref=str(link.account.id), telegram_id=2**63, actor="test")
