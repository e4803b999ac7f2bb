"""The outbox as a work queue: claim due rows under a lease, renew it, record outcomes.

Claiming is one UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING: on PostgreSQL the inner
SELECT takes FOR UPDATE SKIP LOCKED, so concurrent workers pick disjoint rows without waiting
on each other; on SQLite the single writer makes the statement atomic by itself. A row whose
lease has run out (its worker died) is due again. Every write after the claim is conditioned
on the claim token, so a worker that lost its lease cannot overwrite the new holder's record.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update

from core.db.models import OutboxMessage
from core.db.uow import UnitOfWorkFactory
from core.services.notifications import QUEUED, SENDING

__all__ = ["ClaimedRow", "OutboxQueue", "RowUpdate", "new_claim_token"]

_T = OutboxMessage.__table__


def new_claim_token() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    kind: str
    channel: str
    person_id: int | None
    address: str | None
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    due_at: datetime
    give_up_at: datetime | None
    claim_token: str


@dataclass(frozen=True)
class RowUpdate:
    """The whole state a row is left in after one pass (columns not listed here are untouched)."""

    id: int
    claim_token: str
    status: str
    attempts: int
    due_at: datetime
    last_error: str | None
    provider_reply: str | None
    sent_at: datetime | None
    last_attempt_at: datetime | None
    give_up_at: datetime | None


class OutboxQueue:
    def __init__(self, uow: UnitOfWorkFactory, *, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._clock = clock

    async def claim(self, *, limit: int, lease_s: float, token: str, channels: Sequence[str]) -> list[ClaimedRow]:
        now = self._clock()
        async with self._uow() as uow:
            postgres = uow.session.bind.dialect.name == "postgresql"
            due = or_(
                and_(_T.c.status == QUEUED, _T.c.due_at <= now),
                and_(_T.c.status == SENDING, _T.c.locked_until < now),
            )
            pick = select(_T.c.id).where(due, _T.c.channel.in_(list(channels))).order_by(_T.c.due_at, _T.c.id).limit(limit)
            if postgres:
                pick = pick.with_for_update(skip_locked=True)
            stmt = (
                update(_T).where(_T.c.id.in_(pick.scalar_subquery()))
                .values(status=SENDING, locked_until=now + timedelta(seconds=lease_s), claim_token=token)
                .returning(_T.c.id, _T.c.kind, _T.c.channel, _T.c.person_id, _T.c.address, _T.c.idempotency_key,
                           _T.c.payload, _T.c.attempts, _T.c.due_at, _T.c.give_up_at)
            )
            rows = (await uow.session.execute(stmt)).all()
            await uow.commit()
        claimed = [
            ClaimedRow(r.id, r.kind, r.channel, r.person_id, r.address, r.idempotency_key, r.payload or {},
                       r.attempts, r.due_at, r.give_up_at, token)
            for r in rows
        ]
        claimed.sort(key=lambda r: r.id)
        return claimed

    async def renew(self, *, token: str, ids: Iterable[int], lease_s: float) -> None:
        await self._update_claimed(token, ids, locked_until=self._clock() + timedelta(seconds=lease_s))

    async def release(self, *, token: str, ids: Iterable[int]) -> None:
        """Hands claimed but untouched rows back (shutdown): due again at once, no attempt counted."""
        await self._update_claimed(token, ids, status=QUEUED, locked_until=None, claim_token=None)

    async def _update_claimed(self, token: str, ids: Iterable[int], **values) -> None:
        """Changes only rows this worker still holds: a row whose lease another worker took is left alone."""
        ids = list(ids)
        if not ids:
            return
        async with self._uow() as uow:
            await uow.session.execute(
                update(_T).where(_T.c.id.in_(ids), _T.c.claim_token == token, _T.c.status == SENDING).values(**values)
            )
            await uow.commit()

    async def record(self, updates: Sequence[RowUpdate]) -> None:
        if not updates:
            return
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("b_id"), _T.c.claim_token == bindparam("b_token"), _T.c.status == SENDING)
            .values(
                status=bindparam("b_status"), attempts=bindparam("b_attempts"), due_at=bindparam("b_due_at"),
                last_error=bindparam("b_last_error"), provider_reply=bindparam("b_provider_reply"),
                sent_at=bindparam("b_sent_at"), last_attempt_at=bindparam("b_last_attempt_at"),
                give_up_at=bindparam("b_give_up_at"), locked_until=None, claim_token=None,
            )
        )
        params = [
            {
                "b_id": u.id, "b_token": u.claim_token, "b_status": u.status, "b_attempts": u.attempts,
                "b_due_at": u.due_at, "b_last_error": u.last_error, "b_provider_reply": u.provider_reply,
                "b_sent_at": u.sent_at, "b_last_attempt_at": u.last_attempt_at, "b_give_up_at": u.give_up_at,
            }
            for u in updates
        ]
        async with self._uow() as uow:
            await uow.session.execute(stmt, params)
            await uow.commit()
