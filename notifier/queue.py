"""The outbox as a work queue: claim due rows under a lease, renew it, record outcomes.

Claiming is one UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING: on PostgreSQL the inner
SELECT takes FOR UPDATE SKIP LOCKED, so concurrent workers pick disjoint rows without waiting
on each other; on SQLite the single writer makes the statement atomic by itself. A row whose
lease has run out (its worker died) is due again, unless an attempt was on record: then it may
have been delivered, and it becomes `unknown` (staff decide; `innoeng notify retry`). Every write
after the claim is conditioned on the claim token, so a worker that lost its lease cannot
overwrite the new holder's record.

A worker puts the attempt on record (`begin_attempts`) before it calls the transport, in the
same transaction that records the outcomes of the rows before: one round trip per chunk.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, or_, select, update

from core.db.models import ChannelPause, OutboxMessage
from core.db.uow import UnitOfWorkFactory
from core.services.notifications import QUEUED, SENDING, UNKNOWN
from core.texts import text

__all__ = ["ClaimedRow", "Claim", "OutboxQueue", "RowUpdate", "new_claim_token"]

_T = OutboxMessage.__table__
_P = ChannelPause.__table__


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

    async def claim(self, *, limit: int, lease_s: float, token: str, channels: Sequence[str],
                    probe_interval_s: float = 300.0) -> "Claim":
        """Due rows of the channels that are not paused. A paused channel whose probe time has come
        is included for one worker (the one that moves its probe time on): that worker's next
        send on it tells whether the channel works again."""
        now = self._clock()
        async with self._uow() as uow:
            postgres = uow.session.bind.dialect.name == "postgresql"
            await self._mark_interrupted_attempts(uow, now=now, postgres=postgres)
            channels, probing = await self._open_channels(uow, channels, now=now, probe_interval_s=probe_interval_s)
            if not channels:
                await uow.commit()
                return Claim([], probing=())
            due = or_(
                and_(_T.c.status == QUEUED, _T.c.due_at <= now),
                and_(_T.c.status == SENDING, _T.c.locked_until < now, _T.c.attempt_started_at.is_(None)),
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
        return Claim(claimed, probing=tuple(probing))

    async def _mark_interrupted_attempts(self, uow, *, now: datetime, postgres: bool) -> None:
        """Rows whose worker vanished with an attempt on record: the message may have arrived.
        The claim token stays, so the worker (if it was only slow) can still write what happened."""
        pick = select(_T.c.id).where(
            _T.c.status == SENDING, _T.c.locked_until < now, _T.c.attempt_started_at.is_not(None)
        )
        if postgres:
            pick = pick.with_for_update(skip_locked=True)
        await uow.session.execute(
            update(_T).where(_T.c.id.in_(pick.scalar_subquery()))
            .values(status=UNKNOWN, locked_until=None, last_error=text("notifier.interrupted_attempt"),
                    last_attempt_at=_T.c.attempt_started_at)
            .execution_options(synchronize_session=False)
        )

    async def _open_channels(self, uow, channels: Sequence[str], *, now: datetime,
                             probe_interval_s: float) -> tuple[list[str], list[str]]:
        paused = dict((await uow.session.execute(select(_P.c.channel, _P.c.probe_at))).all())
        open_channels, probing = [], []
        for channel in channels:
            if channel not in paused:
                open_channels.append(channel)
                continue
            if paused[channel] > now:
                continue
            won = await uow.session.execute(
                update(_P).where(_P.c.channel == channel, _P.c.probe_at <= now)
                .values(probe_at=now + timedelta(seconds=probe_interval_s), probes=_P.c.probes + 1)
            )
            if won.rowcount:
                open_channels.append(channel)
                probing.append(channel)
        return open_channels, probing

    async def begin_attempts(self, *, token: str, ids: Sequence[int], outcomes: Sequence["RowUpdate"] = ()) -> set[int]:
        """Records `outcomes` and puts an attempt on record for `ids`, in one transaction, before
        anything is sent. Returns the ids this worker still holds: only those may be sent."""
        now = self._clock()
        async with self._uow() as uow:
            if outcomes:
                await uow.session.execute(_RECORD, _record_params(outcomes))
            held: set[int] = set()
            if ids:
                result = await uow.session.execute(
                    update(_T).where(_T.c.id.in_(list(ids)), _T.c.claim_token == token, _T.c.status == SENDING,
                                     _T.c.locked_until > now)
                    .values(attempt_started_at=now, attempts=_T.c.attempts + 1)
                    .returning(_T.c.id)
                )
                held = set(result.scalars().all())
            await uow.commit()
        return held

    async def renew(self, *, token: str, ids: Iterable[int], lease_s: float) -> None:
        await self._update_claimed(token, ids, locked_until=self._clock() + timedelta(seconds=lease_s))

    async def release(self, *, token: str, ids: Iterable[int]) -> None:
        """Hands claimed but untouched rows back (shutdown): due again at once, no attempt counted."""
        # A row whose attempt was put on record but never started was not sent: no attempt counted.
        await self._update_claimed(
            token, ids, status=QUEUED, locked_until=None, claim_token=None, attempt_started_at=None,
            attempts=_T.c.attempts - case((_T.c.attempt_started_at.is_not(None), 1), else_=0),
        )

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
        async with self._uow() as uow:
            await uow.session.execute(_RECORD, _record_params(updates))
            await uow.commit()


@dataclass(frozen=True)
class Claim:
    rows: list[ClaimedRow]
    # Paused channels this claim may try again (one send tells whether they work).
    probing: tuple[str, ...]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


# The worker's outcome, whether its row is still "sending" or was meanwhile declared unknown by
# another worker's claim (the late truth replaces the guess; a staff retry clears the token).
_RECORD = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.claim_token == bindparam("b_token"), or_(_T.c.status == SENDING, _T.c.status == UNKNOWN))
    .values(
        status=bindparam("b_status"), attempts=bindparam("b_attempts"), due_at=bindparam("b_due_at"),
        last_error=bindparam("b_last_error"), provider_reply=bindparam("b_provider_reply"),
        sent_at=bindparam("b_sent_at"), last_attempt_at=bindparam("b_last_attempt_at"),
        give_up_at=bindparam("b_give_up_at"), locked_until=None, claim_token=None, attempt_started_at=None,
    )
)


def _record_params(updates: Sequence[RowUpdate]) -> list[dict[str, Any]]:
    return [
        {
            "b_id": u.id, "b_token": u.claim_token, "b_status": u.status, "b_attempts": u.attempts,
            "b_due_at": u.due_at, "b_last_error": u.last_error, "b_provider_reply": u.provider_reply,
            "b_sent_at": u.sent_at, "b_last_attempt_at": u.last_attempt_at, "b_give_up_at": u.give_up_at,
        }
        for u in updates
    ]
