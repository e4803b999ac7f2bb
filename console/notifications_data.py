"""The outbox as staff read it: filtered, newest first, paged by id (keyset), addresses masked."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.db.models import OutboxMessage, Person
from core.db.uow import UnitOfWorkFactory
from core.services.common import CHANNELS
from core.services.notifications import FAILED, QUEUED, SENDING, SENT, SKIPPED, UNKNOWN
from core.services.privacy import mask_email

__all__ = ["OUTBOX_STATES", "RETRYABLE", "OutboxRow", "OutboxPage", "load_outbox"]

OUTBOX_STATES = (FAILED, UNKNOWN, QUEUED, SENDING, SENT, SKIPPED)
RETRYABLE = frozenset({FAILED, UNKNOWN, SKIPPED})
PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    channel: str
    status: str
    recipient: str
    address: str
    attempts: int
    due_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    reason: str | None
    provider_reply: str | None

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    counts: dict[tuple[str, str], int]  # (status, channel) → rows
    kinds: list[str]
    next_before: int | None


def _mask(channel: str, address: str | None) -> str:
    if not address:
        return "（无地址）"
    # The page names the channel beside the address ("Telegram …7001"), so the address does not repeat it.
    return mask_email(address) if channel == "email" else f"…{address[-4:]}"


async def load_outbox(uow_factory: UnitOfWorkFactory, *, status: str | None = None, channel: str | None = None,
                      kind: str | None = None, before: int | None = None, page_size: int = PAGE_SIZE) -> OutboxPage:
    async with uow_factory() as uow:
        session = uow.session
        counts = {(s, c): n for s, c, n in (await session.execute(
            select(OutboxMessage.status, OutboxMessage.channel, func.count())
            .group_by(OutboxMessage.status, OutboxMessage.channel))).all()}
        kinds = list((await session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind))).all())
        query = (select(OutboxMessage, Person.display_name).outerjoin(Person, Person.id == OutboxMessage.person_id)
                 .order_by(OutboxMessage.id.desc()).limit(page_size + 1))
        if status in OUTBOX_STATES:
            query = query.where(OutboxMessage.status == status)
        if channel in CHANNELS:
            query = query.where(OutboxMessage.channel == channel)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        if before is not None:
            query = query.where(OutboxMessage.id < before)
        found = (await session.execute(query)).all()
        rows = [OutboxRow(
            id=m.id, kind=m.kind, channel=m.channel, status=m.status, recipient=name or ("分会工作人员" if m.person_id is None else f"#{m.person_id}"),
            address=_mask(m.channel, m.address), attempts=m.attempts, due_at=m.due_at, last_attempt_at=m.last_attempt_at,
            sent_at=m.sent_at, reason=m.last_error, provider_reply=m.provider_reply,
        ) for m, name in found[:page_size]]
        next_before = rows[-1].id if len(found) > page_size else None
        return OutboxPage(rows=rows, counts=counts, kinds=kinds, next_before=next_before)
