"""A review decision taken twice (another tab, another staff member) says it was already done, by whom and when."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db.models import AuditEntry, OutboxMessage
from core.domain import TransitionError
from core.domain.staff import console_actor
from tests.support.factories import submitted_expert


async def _decide(core, action, application_id, staff):
    if action == "approve":
        return await core.review.approve(application_id=application_id, staff=staff)
    if action == "reject":
        return await core.review.reject(application_id=application_id, staff=staff, reason="工作年限不足")
    return await core.review.request_info(application_id=application_id, staff=staff, message="请补充职称证书")


@pytest.mark.parametrize("action, done", [
    ("approve", "审核通过"), ("reject", "审核不通过"), ("request_info", "要求补充材料"),
])
async def test_the_same_decision_twice_names_who_took_it_and_when(core, clock, action, done):
    link = await core.staff.add(email="wang@example.org", name="王审核", role="reviewer", actor="test")
    application_id = await submitted_expert(core)
    clock.advance(minutes=5)
    await _decide(core, action, application_id, console_actor(link.account.id))
    async with core.uow() as uow:
        before = len((await uow.session.scalars(select(AuditEntry))).all())
        outbox = len((await uow.session.scalars(select(OutboxMessage))).all())

    with pytest.raises(TransitionError) as refusal:
        await _decide(core, action, application_id, "staff:424242")
    message = refusal.value.message
    # Beijing time, as the console shows times (the clock stands at 02:05 UTC).
    assert message == f"该申请已于 2025-07-01 10:05 由 王审核 {done}，无需再次操作。", message
    assert "不能从" not in message
    assert refusal.value.code == "already_decided"
    async with core.uow() as uow:
        # Nothing was written a second time: no audit entry, no second notice to the applicant.
        assert len((await uow.session.scalars(select(AuditEntry))).all()) == before
        assert len((await uow.session.scalars(select(OutboxMessage))).all()) == outbox


async def test_a_chat_decision_by_someone_without_an_account_shows_the_actor(core, clock):
    application_id = await submitted_expert(core)
    await core.review.approve(application_id=application_id, staff="staff:900001")
    with pytest.raises(TransitionError) as refusal:
        await core.review.approve(application_id=application_id, staff="staff:900002")
    assert refusal.value.message == (
        "该申请已于 2025-07-01 10:00 由 工作人员（Telegram 900001） 审核通过，无需再次操作。")


async def test_a_different_decision_after_approval_still_lists_what_is_possible(core):
    application_id = await submitted_expert(core)
    await core.review.approve(application_id=application_id, staff="staff:900001")
    with pytest.raises(TransitionError) as refusal:
        await core.review.reject(application_id=application_id, staff="staff:900001", reason="重复")
    assert "当前状态只能变为：已撤回" in refusal.value.message
