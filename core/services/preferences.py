"""Which notices a person may turn off, and turning them off.

Reminders and workshop invitations can be unsubscribed, one kind at a time (List-Unsubscribe in their
e-mails leads here); decisions (review results, proposals and what follows from them) cannot: the person
must learn of them, and their e-mails say so. An SMS reminder follows its e-mail kind: who turned off
match answer reminders gets no "deadline tomorrow" SMS either.

Unsubscribed kinds are honoured when a notice is queued (the row is written as skipped, with the reason,
so that staff see why nobody was told and queueing again adds nothing) and, for rows queued before the
person unsubscribed, when they are sent (core.services.notifications.lapsed_reason).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from core.db.models import NotificationOptOut, OutboxMessage
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.domain import DomainError
from core.services.common import Clock, audit, utc_now

__all__ = [
    "DECISION_KINDS",
    "UNSUBSCRIBABLE_KINDS",
    "UNSUBSCRIBED_REASON",
    "NotificationPreferences",
    "opted_out",
    "opted_out_people",
    "preference_kind",
]

# kind -> what the person is told they are unsubscribing from.
UNSUBSCRIBABLE_KINDS: dict[str, str] = {
    "deadline_reminder": "报名截止提醒",
    "match_answer_reminder": "匹配答复截止提醒",
    "workshop_reminder": "活动开始前提醒",
    "workshop_invitation": "活动邀请",
}
# SMS kinds that are reminders of an unsubscribable e-mail kind.
_SMS_COUNTERPART = {"match_deadline_tomorrow": "match_answer_reminder", "workshop_tomorrow": "workshop_reminder"}
# Decisions about a person's application or match: always sent; their e-mails say why they cannot be stopped.
DECISION_KINDS = frozenset({
    "review_approved", "review_rejected", "review_needs_info",
    "match_proposal", "match_accepted", "match_declined",
    "publicity_started", "publicity_ended", "publicity_cancelled", "agreement_recorded", "filing_recorded",
})
UNSUBSCRIBED_REASON = "对方已退订此类通知"


def preference_kind(kind: str) -> str | None:
    """The unsubscribable kind that governs `kind` (itself, or the e-mail kind of an SMS reminder), or None."""
    kind = _SMS_COUNTERPART.get(kind, kind)
    return kind if kind in UNSUBSCRIBABLE_KINDS else None


async def opted_out(uow: UnitOfWork, person_id: int | None, kind: str) -> bool:
    governing = preference_kind(kind)
    if governing is None or person_id is None:
        return False
    return await uow.session.get(NotificationOptOut, (person_id, governing)) is not None


async def opted_out_people(uow: UnitOfWork, kind: str, person_ids: Iterable[int]) -> set[int]:
    """Of `person_ids`, those who unsubscribed from `kind` (one query per 500)."""
    governing = preference_kind(kind)
    ids = sorted(set(person_ids))
    if governing is None or not ids:
        return set()
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update((await uow.session.scalars(select(NotificationOptOut.person_id).where(
            NotificationOptOut.kind == governing, NotificationOptOut.person_id.in_(ids[start:start + 500])))).all())
    return found


class NotificationPreferences:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def unsubscribe(self, person_id: int, kind: str, *, via: str = "link") -> bool:
        """Stops notices of `kind` to the person, from now on and those already queued. Returns False when
        they had already unsubscribed (the same link posted twice is no error). Raises DomainError for a
        kind that cannot be unsubscribed (decisions)."""
        if kind not in UNSUBSCRIBABLE_KINDS:
            raise DomainError("这类通知是关于您的申请或匹配的决定，必须告知您，不能退订。", code="not_unsubscribable")
        now = self._clock()
        async with self._uow() as uow:
            if await uow.session.get(NotificationOptOut, (person_id, kind)) is not None:
                return False
            uow.session.add(NotificationOptOut(person_id=person_id, kind=kind, created_at=now, via=via[:16]))
            kinds = [kind, *(sms for sms, governing in _SMS_COUNTERPART.items() if governing == kind)]
            await uow.session.execute(
                update(OutboxMessage).where(
                    OutboxMessage.person_id == person_id, OutboxMessage.kind.in_(kinds),
                    OutboxMessage.status == "queued",
                ).values(status="skipped", last_error=UNSUBSCRIBED_REASON).execution_options(synchronize_session=False)
            )
            audit(uow, at=now, actor=f"person:{person_id}", action="notifications.unsubscribe",
                  subject=f"person:{person_id}", kind=kind, via=via)
            await uow.commit()
            return True

    async def resubscribe(self, person_id: int, kind: str) -> bool:
        """Notices of `kind` reach the person again (from the next one queued). False if they were not off."""
        now = self._clock()
        async with self._uow() as uow:
            result = await uow.session.execute(delete(NotificationOptOut).where(
                NotificationOptOut.person_id == person_id, NotificationOptOut.kind == kind))
            if not result.rowcount:
                return False
            audit(uow, at=now, actor=f"person:{person_id}", action="notifications.resubscribe",
                  subject=f"person:{person_id}", kind=kind)
            await uow.commit()
            return True

    async def unsubscribed(self, person_id: int) -> dict[str, datetime]:
        """The kinds the person turned off, and when."""
        async with self._uow() as uow:
            rows = (await uow.session.scalars(select(NotificationOptOut).where(
                NotificationOptOut.person_id == person_id).order_by(NotificationOptOut.kind))).all()
            return {row.kind: row.created_at for row in rows}

    @staticmethod
    def label(kind: str) -> str | None:
        """What the person is told they unsubscribe from (None: cannot be unsubscribed)."""
        return UNSUBSCRIBABLE_KINDS.get(kind)


def skipped(row: dict[str, Any]) -> dict[str, Any]:
    """An outbox row (as a dict for bulk insertion) written as skipped because the person unsubscribed."""
    return {**row, "status": "skipped", "last_error": UNSUBSCRIBED_REASON}
