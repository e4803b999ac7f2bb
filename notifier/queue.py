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

Rows are claimed most urgent first (outbox.priority, by kind: core.domain.outbox), then oldest due;
the index ix_outbox_claim (status, priority DESC, due_at, id) hands them over in that order, so a
sign-in code queued behind thousands of bulk notices is the first row of the next claim. A row
whose lease ran out before any attempt went on record is put back to queued first, so the claim
itself reads one status in index order.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, func, literal_column, or_, select, update

from core.db.models import ChannelPause, OutboxMessage
from core.db.uow import UnitOfWorkFactory
from core.services.notifications import QUEUED, SENDING, UNKNOWN
from core.texts import text

__all__ = ["ClaimedRow", "Claim", "OutboxQueue", "RowUpdate", "claim_pick", "new_claim_token"]

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
    priority: int = 0


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
                    probe_interval_s: float = 300.0, min_priority: int | None = None) -> "Claim":
        """Due rows of the channels that are not paused, most urgent first. A paused channel whose
        probe time has come is included for one worker (the one that moves its probe time on): that
        worker's next send on it tells whether the channel works again. `min_priority`: only rows
        at least that urgent (the priority lane)."""
        now = self._clock()
        async with self._uow() as uow:
            postgres = uow.session.bind.dialect.name == "postgresql"
            await self._mark_interrupted_attempts(uow, now=now, postgres=postgres)
            await self._requeue_lapsed_leases(uow, now=now, postgres=postgres)
            # A priority lane leaves probing to the others: it might win the probe and have no row to try.
            channels, probing = await self._open_channels(uow, channels, now=now, probe_interval_s=probe_interval_s,
                                                          may_probe=min_priority is None)
            if not channels:
                await uow.commit()
                return Claim([], probing=())
            pick = claim_pick(channels=channels, now=now, limit=limit, min_priority=min_priority, postgres=postgres)
            stmt = (
                update(_T).where(_T.c.id.in_(pick.scalar_subquery()))
                .values(status=SENDING, locked_until=now + timedelta(seconds=lease_s), claim_token=token)
                .returning(_T.c.id, _T.c.kind, _T.c.channel, _T.c.person_id, _T.c.address, _T.c.idempotency_key,
                           _T.c.payload, _T.c.attempts, _T.c.due_at, _T.c.give_up_at, _T.c.priority)
            )
            rows = (await uow.session.execute(stmt)).all()
            await uow.commit()
        claimed = [
            ClaimedRow(r.id, r.kind, r.channel, r.person_id, r.address, r.idempotency_key, r.payload or {},
                       r.attempts, r.due_at, r.give_up_at, token, r.priority or 0)
            for r in rows
        ]
        # Sent in the claim's order: the urgent row of a batch goes first.
        claimed.sort(key=lambda r: (-r.priority, r.due_at, r.id))
        return Claim(claimed, probing=tuple(probing))

    async def _requeue_lapsed_leases(self, uow, *, now: datetime, postgres: bool) -> None:
        """Rows whose worker vanished before putting any attempt on record: nothing was sent, so
        they are simply queued again (due at once, as they were)."""
        pick = select(_T.c.id).where(
            _T.c.status == SENDING, _T.c.locked_until < now, _T.c.attempt_started_at.is_(None)
        )
        if postgres:
            pick = pick.with_for_update(skip_locked=True)
        await uow.session.execute(
            update(_T).where(_T.c.id.in_(pick.scalar_subquery()))
            .values(status=QUEUED, locked_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )

    async def recent_sms_sends(self, *, address: str, since: datetime, exclude_id: int) -> dict[int, datetime]:
        """Rows to this mobile attempted since `since` (per-number limits, across worker processes):
        row id -> when its latest attempt started."""
        attempted_at = func.coalesce(_T.c.attempt_started_at, _T.c.last_attempt_at)
        async with self._uow() as uow:
            rows = (await uow.session.execute(
                select(_T.c.id, attempted_at).where(
                    _T.c.channel == "sms", _T.c.address == address, attempted_at >= since, _T.c.id != exclude_id,
                )
            )).all()
        return {row_id: at for row_id, at in rows}

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
                             probe_interval_s: float, may_probe: bool = True) -> tuple[list[str], list[str]]:
        paused = dict((await uow.session.execute(select(_P.c.channel, _P.c.probe_at))).all())
        open_channels, probing = [], []
        for channel in channels:
            if channel not in paused:
                open_channels.append(channel)
                continue
            if paused[channel] > now or not may_probe:
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


def claim_pick(*, channels: Sequence[str], now: datetime, limit: int, min_priority: int | None,
               postgres: bool):
    """The ids a claim takes, in the order of ix_outbox_claim. SQLite's planner, without statistics,
    would rather range-scan ix_outbox_status_due_at and sort every due row; a unary + on due_at (a
    no-op on the value) keeps that index out of its choice, and it reads ix_outbox_claim in order."""
    due_at = _T.c.due_at if postgres else literal_column("+outbox.due_at", type_=_T.c.due_at.type)
    conditions = [_T.c.status == QUEUED, due_at <= now, _T.c.channel.in_(list(channels))]
    if min_priority is not None:
        conditions.append(_T.c.priority >= min_priority)
    pick = select(_T.c.id).where(*conditions).order_by(_T.c.priority.desc(), _T.c.due_at, _T.c.id).limit(limit)
    if postgres:
        return pick.with_for_update(skip_locked=True)
    return pick


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
