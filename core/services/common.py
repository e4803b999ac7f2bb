"""Pieces every use case shares: the clock, the audit log, the outbox."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from core.db.models import AuditEntry, Batch, OutboxMessage, Person
from core.db.uow import UnitOfWork
from core.services.views import BatchView, PersonView

__all__ = ["Clock", "utc_now", "audit", "queue_notification", "channels_for", "person_view", "batch_view", "CHANNELS"]

Clock = Callable[[], datetime]

CHANNELS = ("email", "telegram")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def audit(uow: UnitOfWork, *, at: datetime, actor: str, action: str, subject: str, **detail: Any) -> None:
    uow.audit.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail))


def channels_for(person: Person) -> list[tuple[str, str | None]]:
    wanted = CHANNELS if person.preferred_channel == "both" else (person.preferred_channel,)
    routes = []
    for channel in wanted:
        address = person.email if channel == "email" else (str(person.telegram_id) if person.telegram_id else None)
        routes.append((channel, address))
    # Someone who chose one channel we cannot reach still hears from us on the other.
    if all(address is None for _, address in routes):
        fallback = [(c, a) for c, a in ((("email", person.email), ("telegram", str(person.telegram_id) if person.telegram_id else None))) if a]
        routes = fallback or routes
    return routes


async def queue_notification(
    uow: UnitOfWork,
    *,
    kind: str,
    person: Person,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    due_at: datetime | None = None,
) -> list[OutboxMessage]:
    """Writes one outbox row per channel the person wants, in the caller's transaction.

    The idempotency key (kind, occasion, person, channel) makes queueing the same notice twice a no-op.
    A route with no address is still written: the notifier marks it failed for staff to see.
    """
    rows = []
    for channel, address in channels_for(person):
        key = f"{kind}:{occasion}:person-{person.id}:{channel}"
        if await uow.outbox.get_by_key(key) is not None:
            continue
        row = OutboxMessage(
            kind=kind,
            channel=channel,
            person_id=person.id,
            address=address,
            idempotency_key=key,
            payload=payload,
            status="queued",
            due_at=due_at or now,
            attempts=0,
            created_at=now,
        )
        uow.outbox.add(row)
        rows.append(row)
    return rows


def person_view(person: Person) -> PersonView:
    return PersonView(
        id=person.id,
        telegram_id=person.telegram_id,
        display_name=person.display_name,
        email=person.email,
        mobile=person.mobile,
        preferred_channel=person.preferred_channel,
        role=person.role,
        consented=person.consented_at is not None,
        sensitive_consented=person.sensitive_consented_at is not None,
    )


def batch_view(batch: Batch) -> BatchView:
    return BatchView(
        id=batch.id,
        name=batch.name,
        registration_opens_at=batch.registration_opens_at,
        registration_closes_at=batch.registration_closes_at,
        matching_starts_at=batch.matching_starts_at,
        publicity_starts_at=batch.publicity_starts_at,
    )
